"""scripts/docker-engine.sh without a real engine: it leaves a daemon that answers alone, and
`stop` never signals a process it did not start. (The real start/stop: .ci/run, docs/ci.md.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "docker-engine.sh"

# a docker client whose daemon always answers `docker version`
ANSWERING_DOCKER = """#!/bin/sh
[ "$1" = version ] && { echo 20.10.24; exit 0; }
exit 1
"""


def _run(tmp_path: Path, *args: str, docker: str | None = None) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if docker is not None:
        (bin_dir / "docker").write_text(docker)
        (bin_dir / "docker").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "DREAMSCAPE_DOCKER_RUN": str(tmp_path / "run"),
        "DREAMSCAPE_DOCKER_DATA": str(tmp_path / "data"),
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_start_uses_a_daemon_that_answers(tmp_path: Path) -> None:
    done = _run(tmp_path, "start", docker=ANSWERING_DOCKER)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # no DOCKER_HOST to export: the shell's own daemon stays
    assert "already answers" in done.stderr
    assert not (tmp_path / "run").exists()


def test_stop_without_an_engine_of_ours_does_nothing(tmp_path: Path) -> None:
    done = _run(tmp_path, "stop")
    assert done.returncode == 0, done.stderr
    assert "nothing to stop" in done.stderr


@pytest.mark.timeout(60)
def test_stop_never_signals_a_pid_that_is_not_its_dockerd(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / "dockerd.pid").write_text(f"{other.pid}\n")
        done = _run(tmp_path, "stop")
        assert done.returncode == 0, done.stderr
        assert other.poll() is None, "stop signalled a process it did not start"
        assert not (run / "dockerd.pid").exists()  # the stale record is gone
    finally:
        other.kill()
        other.wait()


def test_usage(tmp_path: Path) -> None:
    done = _run(tmp_path, "restart")
    assert done.returncode == 2
    assert "usage:" in done.stderr
