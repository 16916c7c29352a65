"""The installed package stands on its own (issue 13): a wheel in a fresh virtualenv outside the
repository, with an empty HOME and an empty jar cache, runs the docs/ci.md recipe literally.

Slow (a virtualenv, a cold Maven fetch of Kafka 3.9, a broker), so marked `wheel` and `kafka`:
`make test-unit` leaves it out, `make test` and CI run it. Maven uses the real ~/.m2 repository
(`-Dmaven.repo.local`) so CI stays fast: the *dreamscape* cache is what must be cold.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from dreamscape_infra.runtime.dist import ZOOKEEPER_VERSION
from tests.kafka_support import free_ports, skip_or_fail

# applied to the tests that use the virtualenv; the docs check above them needs none of it
WHEEL_MARKS = (pytest.mark.wheel, pytest.mark.kafka, pytest.mark.timeout(1500))


def wheel_test(fn: Callable[..., None]) -> Callable[..., None]:
    for mark in WHEEL_MARKS:
        fn = mark(fn)
    return fn


ROOT = Path(__file__).resolve().parent.parent
CI_DOC = ROOT / "docs" / "ci.md"
_IGNORED = shutil.ignore_patterns(
    ".git", ".state", ".tools", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".venv"
)
# what the developer's shell may hold that a pipeline would not
_DROPPED_ENV = ("PYTHONPATH", "VIRTUAL_ENV", "KAFKA_HOME", "DREAMSCAPE_", "KAFKA_", "MAVEN_OPTS")


def _block(name: str) -> str:
    text = CI_DOC.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- {name}:begin -->\s*```yaml\n(.*?)```\s*<!-- {name}:end -->", text, re.S
    )
    assert match, f"docs/ci.md has no {name} block"
    return match.group(1)


def github_steps() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The job's env and its (name, run) steps that call dreamscape-infra (not the install)."""
    job = yaml.safe_load(_block("github-actions"))["jobs"]["test"]
    steps = [
        (step["name"], step["run"])
        for step in job["steps"]
        if "dreamscape-infra" in step.get("run", "") and "pip install" not in step["run"]
    ]
    return dict(job["env"]), steps


def _commands(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.strip().startswith("dreamscape-")]


def test_the_gitlab_job_runs_the_same_commands() -> None:
    job = yaml.safe_load(_block("gitlab-ci"))["test"]
    gitlab = [c for line in (*job["script"], *job["after_script"]) for c in _commands(line)]
    _, steps = github_steps()
    github = [c for _, run in steps for c in _commands(run)]
    strip = re.compile(r" --print-env >> \"\$GITHUB_ENV\"| --env-file kafka\.env")
    assert [strip.sub("", c) for c in gitlab] == [strip.sub("", c) for c in github]
    assert github[0] == 'dreamscape-infra up --runtime local --print-env >> "$GITHUB_ENV"'
    assert github[-1] == "dreamscape-infra down -v --yes"


@dataclass(frozen=True)
class Venv:
    folder: Path
    bin: Path
    env: dict[str, str]  # a pipeline's environment: empty HOME, cold cache, free ports

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, cwd: Path, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            env=dict(env if env is not None else self.env),
            cwd=str(cwd),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _pipeline_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_ENV)}
    home = tmp / "home"
    home.mkdir()
    real_repo = Path.home() / ".m2" / "repository"
    zk, kafka, controller = free_ports(3)
    env.update(
        HOME=str(home),
        # pip may reuse downloads; Maven the real local repository: only our cache is cold
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip"),
        MAVEN_OPTS=f"-Dmaven.repo.local={real_repo}",
        DREAMSCAPE_ZK_PORT=str(zk),
        DREAMSCAPE_KAFKA_PORT=str(kafka),
        DREAMSCAPE_CONTROLLER_PORT=str(controller),
        DREAMSCAPE_KAFKA_HEAP="384m",
    )
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            skip_or_fail(f"the wheel test needs {tool} on PATH")
    tmp = tmp_path_factory.mktemp("wheel")
    assert not tmp.resolve().is_relative_to(ROOT), "must run outside the repository"
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_IGNORED)  # a clean tree: no stale build/ leftovers
    env = _pipeline_env(tmp)
    wheels = tmp / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("dreamscape_infra-*.whl")
    folder = tmp / "v"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    installed = subprocess.run(
        [str(folder / "bin" / "pip"), "install", "-q", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    env["PATH"] = f"{folder / 'bin'}{os.pathsep}{env['PATH']}"
    return Venv(folder, folder / "bin", env)


@wheel_test
def test_installed_package_runs_the_ci_recipe_from_a_cold_cache(venv: Venv) -> None:
    work = venv.folder.parent / "service"
    work.mkdir()
    # the "a copy of topics.yaml": nothing below depends on what it declares
    shutil.copy(ROOT / "topics.yaml", work / "topics.yaml")
    job_env, steps = github_steps()
    env = {**venv.env, **job_env}
    github_env = work.parent / "github_env"
    github_env.write_text("")
    env["GITHUB_ENV"] = str(github_env)
    cache = Path(env["HOME"]) / ".cache" / "dreamscape-infra" / "kafka" / ZOOKEEPER_VERSION
    assert not cache.exists(), "the jar cache starts cold"

    ran: list[str] = []
    try:
        for name, script in steps:
            if "npm test" in script:  # the service's own tests: here, the broker answers
                status = venv.run("dreamscape-infra", "status", "-o", "json", env=env, cwd=work)
                assert status.returncode == 0, status.stderr
                assert json.loads(status.stdout)["broker"]["reachable"] is True
                continue
            started = time.monotonic()
            done = venv.run("bash", "-e", "-c", script, env=env, cwd=work, timeout=900)
            ran.append(f"{name}: exit {done.returncode} in {time.monotonic() - started:.0f}s")
            assert done.returncode == 0, f"step {name!r} failed:\n{done.stdout}\n{done.stderr}"
            for line in github_env.read_text().splitlines():  # what GitHub does between steps
                key, _, value = line.partition("=")
                env[key] = value
            if name == "Start Kafka":
                assert f"kafka {ZOOKEEPER_VERSION}: resolving the jars with Maven" in done.stderr
                assert (cache / ".complete").is_file()
                port = env["DREAMSCAPE_KAFKA_PORT"]
                assert github_env.read_text().splitlines() == [
                    f"KAFKA_BROKERS=127.0.0.1:{port}",
                    "DREAMSCAPE_RUNTIME=local",
                ]
    finally:
        venv.run("dreamscape-infra", "down", "-v", "--yes", env=env, cwd=work)
    assert len(ran) == 3, ran
    assert not (work / ".state" / "local").exists(), "down -v removed the stack"

    # warm: the second `up` fetches nothing
    warm = venv.run("dreamscape-infra", "up", "--runtime", "local", "--no-sync", env=env, cwd=work)
    try:
        assert warm.returncode == 0, warm.stderr
        assert "resolving the jars" not in warm.stderr
    finally:
        venv.run("dreamscape-infra", "down", "-v", "--yes", env=env, cwd=work)


@wheel_test
def test_two_installed_fetches_into_one_empty_cache(venv: Venv) -> None:
    cache = venv.folder.parent / "shared-cache"
    env = {**venv.env, "DREAMSCAPE_CACHE": str(cache)}
    argv = ["dreamscape-infra", "runtime", "fetch", "--kafka", "3.9", "-o", "json"]
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    docs = [json.loads(out)["kafka"][0] for out, _ in outputs]
    assert sorted(d["fetched"] for d in docs) == [False, True], "Maven ran once"
    assert (cache / "kafka" / ZOOKEEPER_VERSION / ".complete").is_file()


@wheel_test
def test_installed_package_reads_its_own_data(venv: Venv, tmp_path: Path) -> None:
    schema = venv.run("dreamscape-infra", "topics", "schema", cwd=tmp_path)
    assert schema.returncode == 0, schema.stderr
    assert "topics" in json.loads(schema.stdout)["properties"]
    where = venv.run(
        str(venv.bin / "python"),
        "-c",
        "from dreamscape_infra.runtime.docker import find_compose_file as f; print(f({}))",
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    compose_file = Path(where.stdout.strip())
    assert compose_file.is_relative_to(venv.folder), "the compose file shipped in the package"
    compose = shutil.which("docker-compose") or str(ROOT / ".tools" / "bin" / "docker-compose")
    if Path(compose).is_file():
        checked = venv.run(compose, "-f", str(compose_file), "config", "--services", cwd=tmp_path)
        assert checked.returncode == 0, checked.stderr
        assert "topic-init" not in checked.stdout.split()
        assert {"zookeeper", "kafka"} <= set(checked.stdout.split())
