"""`up --print-env` / `--env-file`: the lines a CI env file takes; and the docker stack without
topic-init (the packaged compose file), whose topics `up` syncs from the host."""

from __future__ import annotations

import json
from pathlib import Path

from dreamscape_infra.errors import ExitCode
from dreamscape_infra.runtime.base import RuntimeName
from tests.fake_cluster import FakeCluster
from tests.fake_runtime import FakeRuntime, Harness


def _harness() -> Harness:
    return Harness(FakeRuntime(), FakeCluster())


def test_print_env_prints_only_env_lines_on_stdout() -> None:
    harness = _harness()
    code, out, err = harness.invoke("up", "--runtime", "local", "--print-env")
    assert code == 0, err
    assert out.splitlines() == ["KAFKA_BROKERS=127.0.0.1:9092", "DREAMSCAPE_RUNTIME=local"]
    assert "runtime: local" in err  # diagnostics stay on stderr
    assert harness.admin.topics, "topics were still synced"


def test_print_env_with_a_state_dir_names_it(tmp_path: Path) -> None:
    harness = _harness()
    code, out, _ = harness.invoke(
        "up", "-r", "local", "--no-sync", "--print-env", "--state-dir", str(tmp_path)
    )
    assert code == 0
    assert out.splitlines()[-1] == f"DREAMSCAPE_STATE_DIR={tmp_path}"


def test_env_file_appends_and_keeps_the_normal_output(tmp_path: Path) -> None:
    env_file = tmp_path / "github_env"
    env_file.write_text("EXISTING=1\n")
    harness = _harness()
    code, out, _ = harness.invoke("up", "-r", "local", "--no-sync", "--env-file", str(env_file))
    assert code == 0
    assert "Kafka is ready at 127.0.0.1:9092" in out
    assert env_file.read_text().splitlines() == [
        "EXISTING=1",
        "KAFKA_BROKERS=127.0.0.1:9092",
        "DREAMSCAPE_RUNTIME=local",
    ]
    code, out, _ = harness.invoke(
        "up", "-r", "local", "--no-sync", "-o", "json", "--env-file", str(env_file)
    )
    assert code == 0
    assert json.loads(out)["runtime"] == "local"
    assert len(env_file.read_text().splitlines()) == 5


def test_env_file_that_cannot_be_written_is_exit_4(tmp_path: Path) -> None:
    code, _, err = _harness().invoke(
        "up", "-r", "local", "--no-sync", "--env-file", str(tmp_path / "no" / "such" / "file")
    )
    assert code == ExitCode.ENVIRONMENT
    assert "error: --env-file " in err
    assert "cannot append" in err


def test_print_env_and_json_is_a_usage_error() -> None:
    code, _, err = _harness().invoke("up", "-r", "local", "--print-env", "-o", "json")
    assert code == ExitCode.USAGE
    assert "--print-env" in err


def test_docker_without_topic_init_syncs_from_the_host() -> None:
    # the packaged compose file has no topic-init: `up` syncs from the host
    harness = Harness(FakeRuntime(sync_from_host=True), FakeCluster())
    code, out, _ = harness.invoke("up", "--runtime", "docker", "--print-env")
    assert code == 0
    assert out.splitlines() == ["KAFKA_BROKERS=127.0.0.1:9092", "DREAMSCAPE_RUNTIME=docker"]
    assert harness.admin.topics, "the host created the topics"


def test_print_env_names_the_schema_registry_of_either_runtime() -> None:
    from dataclasses import replace

    from tests.fake_runtime import running_stack

    cases: list[tuple[RuntimeName, str]] = [
        ("local", "http://127.0.0.1:8081/apis/ccompat/v7"),
        ("docker", "http://localhost:8081"),
    ]
    for runtime, url in cases:
        stack = replace(
            running_stack(runtime), urls=(("Kafka UI", "http://x"), ("Schema Registry", url))
        )
        harness = Harness(FakeRuntime(name=runtime, current=stack), FakeCluster())
        code, out, err = harness.invoke("up", "-r", runtime, "--no-sync", "--print-env")
        assert code == 0, err
        assert f"SCHEMA_REGISTRY_URL={url}" in out.splitlines()
        assert "http://x" not in out
