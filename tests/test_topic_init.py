"""topic-init: the image (docker/Dockerfile, .dockerignore) and the command compose gives it.

No Docker engine is needed: the Dockerfile is read, the build context .dockerignore admits is
rebuilt and `pip install`ed into a wheel exactly as the image does, and topic-init's command is
checked to be this project's own `topics sync` on the mounted topics.yaml.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_FILE = REPO / "docker" / "docker-compose.kafka.yml"
TOPIC_INIT_ARGV = ["dreamscape-infra", "--topics-file", "/config/topics.yaml", "topics", "sync"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def topic_init() -> dict[str, Any]:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    service: dict[str, Any] = compose["services"]["topic-init"]
    return service


# -- the Dockerfile ------------------------------------------------------------------------


def test_dockerfile_installs_this_repo_and_runs_the_cli() -> None:
    instructions = dockerfile_instructions()
    # the base is a build argument (CI builds a stand-in, scripts/docker-images.sh), by default
    # the official Python 3.11 image
    assert instructions[:2] == [
        ("ARG", "PYTHON_IMAGE=python:3.11-slim"),
        ("FROM", "${PYTHON_IMAGE}"),
    ]
    assert ("COPY", ". /src") in instructions
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(re.search(r"\bpip install /src\b", run) for run in runs)
    entrypoints = [json.loads(args) for keyword, args in instructions if keyword == "ENTRYPOINT"]
    assert entrypoints == [
        ["dreamscape-infra"]
    ]  # exec form: the sync's exit code is the container's
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users
    assert users[-1] not in ("root", "0")


# -- the build context -----------------------------------------------------------------------


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def dockerignore_admits(path: str, patterns: list[str]) -> bool:
    """Docker's rule for the patterns we use: the last matching pattern wins, a pattern matching
    a directory matches everything below it, and `!` re-includes."""
    parts = path.split("/")
    included = True
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _glob_regex(pattern.lstrip("!").strip("/"))
        if any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            included = negate
    return included


def build_context() -> list[str]:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    files = []
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            rel = Path(root, name).relative_to(REPO).as_posix()
            if dockerignore_admits(rel, patterns):
                files.append(rel)
    assert not dockerignore_admits(".git/HEAD", patterns)
    return sorted(files)


def test_build_context_holds_only_the_package_sources() -> None:
    context = build_context()
    assert "pyproject.toml" in context
    package_sources = sorted(
        p.relative_to(REPO).as_posix()
        for p in (REPO / "dreamscape_infra").rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert set(package_sources) <= set(context)
    strays = [
        f
        for f in context
        if f not in ("pyproject.toml", "README.md", "LICENSE")
        and not f.startswith("dreamscape_infra/")
    ]
    assert strays == []
    assert not [f for f in context if "__pycache__" in f or f.endswith(".pyc")]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_image_install_step_yields_the_cli(tmp_path: Path) -> None:
    """`pip install /src` on exactly the files .dockerignore admits gives `dreamscape-infra`."""
    context = tmp_path / "src"
    for rel in build_context():
        target = context / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path / "out"),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (wheel,) = (tmp_path / "out").glob("dreamscape_infra-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    assert "dreamscape-infra = dreamscape_infra.cli:main" in scripts
    assert "dreamscape_infra/cli/topics.py" in names
    assert "dreamscape_infra/runtime/docker.py" in names


# -- the command compose runs ----------------------------------------------------------------


def test_topic_init_command_is_our_own_sync_on_the_mounted_file() -> None:
    service = topic_init()
    entrypoint = [
        json.loads(args) for keyword, args in dockerfile_instructions() if keyword == "ENTRYPOINT"
    ][-1]
    assert "entrypoint" not in service
    assert [*entrypoint, *service["command"]] == TOPIC_INIT_ARGV
    assert service["environment"] == {"KAFKA_BROKERS": "kafka:29092"}
    assert service["volumes"] == [
        {
            "type": "bind",
            "source": "../topics.yaml",
            "target": "/config/topics.yaml",
            "read_only": True,
        }
    ]
    assert (COMPOSE_FILE.parent / service["volumes"][0]["source"]).resolve() == REPO / "topics.yaml"
    assert service["build"] == {
        "context": "..",
        "dockerfile": "docker/Dockerfile",
        "args": {"PYTHON_IMAGE": "${DREAMSCAPE_PYTHON_IMAGE:-python:3.11-slim}"},
    }
    assert service["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert service["restart"] == "no"


def test_topic_init_arguments_reach_the_sync_command() -> None:
    """Our CLI parses topic-init's argv down to `topics sync`, reading the mounted file."""
    from typer.testing import CliRunner

    from dreamscape_infra.cli import AppState, app

    state = AppState(environ={"KAFKA_BROKERS": "kafka:29092"}, interactive=False)
    result = CliRunner().invoke(app, [*TOPIC_INIT_ARGV[1:], "--help"], obj=state)
    assert result.exit_code == 0, result.output
    assert "Usage: dreamscape-infra topics sync" in result.output
    assert state.topics_file == "/config/topics.yaml"
    assert state.settings().bootstrap_servers == "kafka:29092"
