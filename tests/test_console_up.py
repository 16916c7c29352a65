"""`up --runtime local --profile ui`: the console as an extra managed process of the local
runtime. The profile's spec and the port's holder without a broker; then the real thing with
its own state folder and ports: started and waited for by `up`, a `status` row, `logs ui`,
the page answering, stopped by `down`, and a port already taken naming who holds it (exit 4).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dreamscape_infra.runtime.extras import extra_profiles
from dreamscape_infra.runtime.process import port_holder
from dreamscape_infra.runtime.ui import UI_PROFILE, describe, launch
from tests.kafka_support import free_ports, require_local_kafka

ROOT = Path(__file__).resolve().parent.parent


def test_the_ui_profile_runs_serve_for_its_own_state_folder(tmp_path: Path) -> None:
    assert extra_profiles()["ui"] is UI_PROFILE
    assert UI_PROFILE.port({}) == 8080
    assert UI_PROFILE.port({"DREAMSCAPE_UI_PORT": "18080"}) == 18080
    process = describe(tmp_path, 18080)
    assert (process.name, process.folder, process.ready_url) == (
        "ui",
        tmp_path / "ui",
        "http://127.0.0.1:18080/metrics",
    )
    assert process.urls == (("Console", "http://127.0.0.1:18080/"),)
    topics = tmp_path / "mine.yaml"
    started = launch(process, {"DREAMSCAPE_TOPICS_FILE": str(topics)}, lambda s, m: None)
    argv = started.argv
    assert argv[:3] == (sys.executable, "-m", "dreamscape_infra")
    assert argv[3:5] == ("-f", str(topics))
    assert argv[5:] == (
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "18080",
        f"--local-state={tmp_path}",
    )
    assert started.env == {"DREAMSCAPE_STATE_DIR": str(tmp_path)}
    # the pid file is trusted only for a command line holding every identity string
    assert all(any(part in arg for arg in argv) for part in process.identity)
    other = describe(tmp_path / "other", 18080)
    assert not all(any(part in arg for arg in argv) for part in other.identity)


def test_port_holder_names_the_listening_process() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        holder = port_holder(port)
    assert holder is not None
    assert holder.startswith(f"pid {os.getpid()} (")
    assert "python" in holder


def test_serve_local_state_without_a_stack_is_exit_4(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = _cli(env, "serve", f"--local-state={tmp_path}", timeout=60)
    assert done.returncode == 4
    assert f"no local stack was started in {tmp_path}" in done.stderr
    assert "Traceback" not in done.stderr


def _cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "dreamscape_infra", *args]
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.kafka
def test_up_profile_ui_starts_the_console_status_logs_and_down_stop_it(tmp_path: Path) -> None:
    require_local_kafka(kraft=False)
    zk, kafka, controller, ui = free_ports(4)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DREAMSCAPE_STATE_DIR": str(tmp_path / "state"),
        "DREAMSCAPE_ZK_PORT": str(zk),
        "DREAMSCAPE_KAFKA_PORT": str(kafka),
        "DREAMSCAPE_CONTROLLER_PORT": str(controller),
        "DREAMSCAPE_KAFKA_HEAP": "384m",
        "DREAMSCAPE_UI_PORT": str(ui),
        "KAFKA_BROKERS": f"127.0.0.1:{kafka}",
    }
    topics_file = tmp_path / "topics.yaml"
    topics_file.write_bytes((ROOT / "topics.yaml").read_bytes())
    try:
        up = _cli(env, "-f", str(topics_file), "up", "--runtime", "local", "--profile", "ui")
        assert up.returncode == 0, up.stderr
        assert f"Console: http://127.0.0.1:{ui}/" in up.stdout
        status = _cli(env, "status", "--runtime", "local", "-o", "json")
        assert status.returncode == 0, status.stderr
        rows = {s["name"]: s for s in json.loads(status.stdout)["services"]}
        assert rows["ui"]["state"] == "running"
        # the read `up` waited on may predate the topics' sync: the next interval (5 s) has them
        deadline = time.monotonic() + 30
        while True:
            code, body = _get(f"http://127.0.0.1:{ui}/api/overview")
            assert code == 200
            overview = json.loads(body)
            if overview["counts"]["topics"] == 32 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert overview["counts"]["topics"] == overview["counts"]["declared_topics"] == 32
        assert overview["counts"]["declared_groups"] == 5
        assert _get(f"http://127.0.0.1:{ui}/topics")[0] == 200
        logs = _cli(env, "logs", "ui", "--runtime", "local", "--tail", "20")
        assert logs.returncode == 0, logs.stderr
        assert f"serving the console at http://127.0.0.1:{ui}/" in logs.stdout
        # a second stack wanting the same console port: who holds it, exit 4, nothing started
        zk2, kafka2, controller2 = free_ports(3)
        other = {
            **env,
            "DREAMSCAPE_STATE_DIR": str(tmp_path / "other"),
            "DREAMSCAPE_ZK_PORT": str(zk2),
            "DREAMSCAPE_KAFKA_PORT": str(kafka2),
            "DREAMSCAPE_CONTROLLER_PORT": str(controller2),
        }
        taken = _cli(other, "up", "--runtime", "local", "--profile", "ui")
        assert taken.returncode == 4, taken.stderr
        assert f"port {ui} on 127.0.0.1 is already in use by pid " in taken.stderr
        assert "dreamscape_infra" in taken.stderr
        assert not (tmp_path / "other" / "ui").exists()
    finally:
        down = _cli(env, "down", "--runtime", "local")
    assert down.returncode == 0, down.stderr
    assert "ui" in down.stderr
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        _get(f"http://127.0.0.1:{ui}/metrics")
