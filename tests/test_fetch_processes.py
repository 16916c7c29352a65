"""`runtime fetch` as real processes sharing one cache: started together, or killed midway.

Maven is a small script ($MVN) here, so the timing is ours to control; the real Maven runs the
same race in tests/test_wheel.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dreamscape_infra.runtime.fetch import POMS, is_complete, version_folder
from tests.fetch_support import write_fake_mvn

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120


def _env(tmp_path: Path, sleep_s: float) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KAFKA_HOME", "DREAMSCAPE_OFFLINE")
    }
    env.update(
        DREAMSCAPE_CACHE=str(tmp_path / "cache"),
        MVN=str(write_fake_mvn(tmp_path / "bin")),
        FAKE_MVN_CALLS=str(tmp_path / "calls"),
        FAKE_MVN_SLEEP=str(sleep_s),
        PYTHONPATH=str(ROOT),
    )
    return env


def _fetch(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dreamscape_infra", "runtime", "fetch", "--kafka", "all"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )


def _complete(env: dict[str, str]) -> bool:
    return all(is_complete(version_folder(pom, env), pom) for pom in POMS)


def test_two_fetches_started_together_both_succeed(tmp_path: Path) -> None:
    env = _env(tmp_path, sleep_s=1.0)
    first, second = _fetch(env), _fetch(env)
    outputs = [p.communicate(timeout=TIMEOUT_S) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), outputs
    assert _complete(env)
    calls = (tmp_path / "calls").read_text().split("\n")
    versions = sorted(line.split()[1] for line in calls if line)
    assert versions == sorted(p.version for p in POMS), "Maven ran once per version"
    stderr = outputs[0][1] + outputs[1][1]
    assert "waiting for another process fetching into" in stderr


def _wait_for(path: Path, timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_a_fetch_killed_midway_is_redone(tmp_path: Path) -> None:
    env = _env(tmp_path, sleep_s=30)
    victim = _fetch(env)
    _wait_for(tmp_path / "calls.started")  # Maven is running, the jars are half copied
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=TIMEOUT_S)
    assert not _complete(env)
    first = version_folder(POMS[0], env)
    assert not (first / ".complete").exists()
    assert list(first.glob(".fetch-*")), "the killed run's work folder is still there"
    if sys.platform.startswith("linux"):  # Maven dies with us (PR_SET_PDEATHSIG)
        mvn_pid = int((tmp_path / "calls").read_text().split()[0])
        deadline = time.monotonic() + 10
        while _alive(mvn_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(mvn_pid), "Maven outlived the fetch that started it"

    env["FAKE_MVN_SLEEP"] = "0"
    rerun = _fetch(env)
    out, err = rerun.communicate(timeout=TIMEOUT_S)
    assert rerun.returncode == 0, err
    assert _complete(env)
    assert not list(first.glob(".fetch-*")), "the leftover was removed"
    assert f"kafka {POMS[0].version}: 2 jars in" in out
