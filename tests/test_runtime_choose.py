"""`--runtime docker|local|auto` resolution, without a Docker daemon or Java being needed."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from dreamscape_infra.errors import ConfigError, EnvironmentFailure
from dreamscape_infra.runtime import choose
from dreamscape_infra.runtime.choose import choose_runtime, make_runtime, requested_runtime
from dreamscape_infra.runtime.local import LocalRuntime


def yes() -> bool:
    return True


def no() -> bool:
    return False


def java(env: Mapping[str, str]) -> bool:
    return True


def no_java(env: Mapping[str, str]) -> bool:
    return False


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        (None, {}, "auto"),
        ("local", {}, "local"),
        ("DOCKER", {}, "docker"),
        (None, {"DREAMSCAPE_RUNTIME": "local"}, "local"),
        ("docker", {"DREAMSCAPE_RUNTIME": "local"}, "docker"),  # the option wins
        (None, {"DREAMSCAPE_RUNTIME": ""}, "auto"),
    ],
)
def test_requested_runtime(option: str | None, env: dict[str, str], expected: str) -> None:
    assert requested_runtime(option, env) == expected


def test_unknown_runtime_names_its_source() -> None:
    with pytest.raises(ConfigError, match=r"--runtime: unknown runtime 'k8s'"):
        requested_runtime("k8s", {})
    with pytest.raises(ConfigError, match=r"DREAMSCAPE_RUNTIME: unknown runtime 'k8s'"):
        requested_runtime(None, {"DREAMSCAPE_RUNTIME": "k8s"})


def test_explicit_choice_is_not_probed() -> None:
    def boom() -> bool:
        raise AssertionError("explicit choices must not probe docker")

    choice = choose_runtime("local", {}, docker_probe=boom, java_probe=no_java)
    assert (choice.name, choice.reason) == ("local", "requested by --runtime")
    choice = choose_runtime(None, {"DREAMSCAPE_RUNTIME": "docker"}, docker_probe=boom)
    assert (choice.name, choice.reason) == ("docker", "requested by DREAMSCAPE_RUNTIME")


def test_auto_prefers_a_docker_daemon() -> None:
    choice = choose_runtime("auto", {}, docker_probe=yes, java_probe=java)
    assert choice.name == "docker"
    assert "Docker daemon answers" in choice.reason


def test_auto_falls_back_to_local_with_java() -> None:
    choice = choose_runtime(None, {}, docker_probe=no, java_probe=java)
    assert choice.name == "local"
    assert "no Docker daemon" in choice.reason


def test_auto_without_docker_or_java_fails_clearly() -> None:
    with pytest.raises(EnvironmentFailure, match="no Docker daemon answered and Java"):
        choose_runtime(None, {}, docker_probe=no, java_probe=no_java)


def test_docker_probe_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from dreamscape_infra.runtime import docker  # python-on-whales is a dependency: no skip

    def broken(timeout_s: float = 3.0) -> bool:
        raise RuntimeError("probe exploded")

    monkeypatch.setattr(docker, "docker_daemon_available", broken)
    assert choose.docker_answers() is False


def test_docker_probe_without_the_docker_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dreamscape_infra.runtime.docker", None)
    assert choose.docker_answers() is False


def test_java_probe_uses_the_given_path(tmp_path: Path) -> None:
    assert choose.java_present({"PATH": str(tmp_path)}) is False
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert choose.java_present({"PATH": str(fake.parent)}) is True
    assert choose.java_present({"PATH": "", "JAVA_HOME": str(tmp_path)}) is True


def test_make_local_runtime_reads_state_dir_and_ports(tmp_path: Path) -> None:
    env = {"DREAMSCAPE_KAFKA_PORT": "19092", "DREAMSCAPE_STATE_DIR": str(tmp_path / "env")}
    runtime = make_runtime("local", env)
    assert isinstance(runtime, LocalRuntime)
    assert runtime.config.kafka_port == 19092
    assert runtime.state_dir == tmp_path / "env"
    override = make_runtime("local", env, state_dir=tmp_path / "opt")
    assert isinstance(override, LocalRuntime)
    assert override.state_dir == tmp_path / "opt"


def test_make_docker_runtime() -> None:
    assert make_runtime("docker", dict(os.environ)).name == "docker"


def test_auto_prefers_a_running_local_stack_over_docker() -> None:
    choice = choose_runtime(None, {}, docker_probe=yes, java_probe=java, local_probe=yes)
    assert (choice.name, choice.reason) == ("local", "auto: the local stack is running")
    choice = choose_runtime(None, {}, docker_probe=yes, java_probe=java, local_probe=no)
    assert choice.name == "docker"


def test_local_probe_is_false_for_an_empty_state_folder(tmp_path: Path) -> None:
    assert choose.local_stack_running({}, tmp_path / "nothing-here") is False
