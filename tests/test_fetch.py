"""runtime.fetch: the cache's lock, marker and leftovers, offline and KAFKA_HOME, missing tools;
and `runtime fetch` / `up` over it. Maven is a fake behind the `Maven` Protocol here; the
real one runs in tests/test_fetch_processes.py and tests/test_wheel.py."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import EnvironmentFailure, ExitCode
from dreamscape_infra.runtime import dist
from dreamscape_infra.runtime.fetch import (
    POMS,
    MavenCli,
    cache_lock,
    default_maven,
    ensure_kafka,
    fetch_kafka,
    is_complete,
    pom_for,
    select_poms,
    version_folder,
)
from tests.fetch_support import FakeMaven
from tests.kafka_support import skip_or_fail

runner = CliRunner()
ZK = pom_for("zookeeper")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DREAMSCAPE_CACHE": str(tmp_path / "cache"), "PATH": os.environ["PATH"], **extra}


def _no_maven(env: object) -> FakeMaven:
    raise AssertionError("Maven must not be called")


def test_select_poms() -> None:
    assert [p.version for p in select_poms("all")] == [dist.ZOOKEEPER_VERSION, dist.KRAFT_VERSION]
    assert select_poms("3.9") == select_poms("3") == select_poms(dist.ZOOKEEPER_VERSION)
    assert [p.line for p in select_poms("4.x")] == ["kraft"]
    assert select_poms("4.1") == select_poms("4.x")
    with pytest.raises(ValueError, match=r"unknown Kafka line '5' \(expected 3.9, 4.x, all\)"):
        select_poms("5")


def test_poms_are_package_data_with_the_pinned_versions() -> None:
    for pom in POMS:
        assert f"<kafka.version>{pom.version}</kafka.version>".encode() in pom.text()
        assert len(pom.sha256()) == 64


def test_fetch_fills_the_cache_once(tmp_path: Path) -> None:
    env = _env(tmp_path)
    maven = FakeMaven()
    steps: list[str] = []
    details: list[str] = []
    result = fetch_kafka(
        ZK,
        env,
        progress=lambda s, m: steps.append(f"{s}: {m}"),
        detail=lambda s, m: details.append(m),
        maven_factory=maven.factory(),
    )
    folder = version_folder(ZK, env)
    assert result.fetched
    assert result.libs == folder / "libs"
    assert result.jars == 3
    assert is_complete(folder, ZK)
    assert (folder / ".complete").read_text().strip() == ZK.sha256()
    assert not list(folder.glob(".fetch-*")), "the work folder is gone"
    assert "BUILD SUCCESS" in (folder / "mvn.log").read_text()
    assert steps[0].startswith(f"kafka {ZK.version}: resolving the jars with Maven")
    assert steps[-1] == f"kafka {ZK.version}: 3 jars in {folder / 'libs'}"
    assert details[-1] == "resolving with Maven: 2 files downloaded"
    found = dist.find_kafka("zookeeper", env)
    assert (found.version, found.libs) == (ZK.version, folder / "libs")

    again = fetch_kafka(ZK, env, maven_factory=_no_maven)
    assert (again.fetched, again.jars) == (False, 3)
    assert len(maven.calls) == 1


def test_maven_failure_leaves_nothing_that_looks_complete(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with pytest.raises(EnvironmentFailure) as caught:
        fetch_kafka(ZK, env, maven_factory=FakeMaven(exit_code=1).factory())
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert caught.value.message == f"Maven could not resolve the Kafka {ZK.version} jars (exit 1)"
    assert caught.value.details == ["[ERROR] Failed to execute goal: could not resolve kafka_2.13"]
    folder = version_folder(ZK, env)
    assert f"full log: {folder / 'mvn.log'}" in (caught.value.hint or "")
    assert not is_complete(folder, ZK)
    assert not (folder / "libs").exists()
    assert not list(folder.glob(".fetch-*"))
    with pytest.raises(EnvironmentFailure, match="jars are missing"):
        dist.find_kafka("zookeeper", env)


def test_maven_without_the_kafka_jar_is_a_failure(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with pytest.raises(EnvironmentFailure, match=r"no kafka_2\.13-3\.9\.1\.jar was copied"):
        fetch_kafka(ZK, env, maven_factory=FakeMaven(no_kafka_jar=True).factory())
    assert not is_complete(version_folder(ZK, env), ZK)


def test_interrupted_fetch_is_redone(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        fetch_kafka(ZK, env, maven_factory=FakeMaven(interrupt=True).factory())
    folder = version_folder(ZK, env)
    assert not (folder / ".complete").exists()
    result = fetch_kafka(ZK, env, maven_factory=FakeMaven().factory())
    assert result.fetched
    assert is_complete(folder, ZK)


def test_killed_fetch_leftovers_and_half_libs_are_replaced(tmp_path: Path) -> None:
    """What SIGKILL leaves: a work folder, and a libs/ from an older run without its marker."""
    env = _env(tmp_path)
    folder = version_folder(ZK, env)
    (folder / ".fetch-dead" / "libs").mkdir(parents=True)
    (folder / ".fetch-dead" / "libs" / "half.jar").write_bytes(b"")
    (folder / "libs").mkdir()
    (folder / "libs" / f"kafka_2.13-{ZK.version}.jar").write_bytes(b"")
    assert not is_complete(folder, ZK)
    with pytest.raises(EnvironmentFailure, match="jars are missing"):
        dist.find_kafka("zookeeper", env)  # no marker: libs/ alone never counts
    result = fetch_kafka(ZK, env, maven_factory=FakeMaven().factory())
    assert result.fetched
    assert not (folder / ".fetch-dead").exists()
    assert sorted(p.name for p in (folder / "libs").iterdir()) == [
        f"kafka_2.13-{ZK.version}.jar",
        "slf4j-api-1.7.36.jar",
        "zookeeper-3.8.4.jar",
    ]


def test_a_changed_pom_is_fetched_again(tmp_path: Path) -> None:
    env = _env(tmp_path)
    fetch_kafka(ZK, env, maven_factory=FakeMaven().factory())
    folder = version_folder(ZK, env)
    (folder / ".complete").write_text("0" * 64 + "\n")  # fetched from an older POM
    assert not is_complete(folder, ZK)
    maven = FakeMaven()
    assert fetch_kafka(ZK, env, maven_factory=maven.factory()).fetched
    assert len(maven.calls) == 1


def test_concurrent_fetches_run_maven_once(tmp_path: Path) -> None:
    env = _env(tmp_path)
    maven = FakeMaven(delay_s=0.5)
    results = []
    waits: list[str] = []

    def fetch() -> None:
        results.append(
            fetch_kafka(
                ZK, env, progress=lambda s, m: waits.append(m), maven_factory=maven.factory()
            )
        )

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 3
    assert len(maven.calls) == 1
    assert sorted(r.fetched for r in results) == [False, False, True]
    assert any(m.startswith("waiting for another process fetching into") for m in waits)
    assert is_complete(version_folder(ZK, env), ZK)


def test_lock_held_too_long_is_an_environment_failure(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    waited: list[int] = []
    with cache_lock(lock, lambda: None), pytest.raises(EnvironmentFailure, match="has held"):  # noqa: SIM117
        with cache_lock(lock, lambda: waited.append(1), timeout_s=0.3):
            pass
    assert waited == [1]
    with cache_lock(lock, lambda: waited.append(2)) as seconds:  # released: free again
        assert seconds < 5
    assert waited == [1]


# ---- offline, KAFKA_HOME, missing tools --------------------------------------------------------


def test_offline_never_fetches_and_says_what_to_do(tmp_path: Path) -> None:
    env = _env(tmp_path, DREAMSCAPE_OFFLINE="1")
    with pytest.raises(EnvironmentFailure) as caught:
        ensure_kafka("zookeeper", env, maven_factory=_no_maven)
    assert caught.value.hint is None
    assert not caught.value.details
    assert "DREAMSCAPE_OFFLINE=1 forbids fetching them" in caught.value.message
    assert "`dreamscape-infra runtime fetch --kafka 3.9`" in caught.value.message
    fetch_kafka(ZK, _env(tmp_path), maven_factory=FakeMaven().factory())
    assert ensure_kafka("zookeeper", env, maven_factory=_no_maven).version == ZK.version


def test_kafka_home_is_used_as_it_is(tmp_path: Path) -> None:
    home = tmp_path / "kafka"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / "kafka_2.13-3.8.0.jar").write_bytes(b"")
    env = _env(tmp_path, KAFKA_HOME=str(home))
    found = ensure_kafka("zookeeper", env, maven_factory=_no_maven)
    assert (found.version, found.source) == ("3.8.0", "KAFKA_HOME")
    assert not (tmp_path / "cache").exists()


def test_ensure_fetches_when_missing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    found = ensure_kafka("kraft", env, maven_factory=FakeMaven().factory())
    assert (found.version, found.source) == (dist.KRAFT_VERSION, "cache")


def _bin(tmp_path: Path, *tools: str) -> str:
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for tool in tools:
        (folder / tool).write_text("#!/bin/sh\nexit 0\n")
        (folder / tool).chmod(0o755)
    return str(folder)


@pytest.mark.parametrize(
    ("tools", "expected"),
    [
        ((), "Java and Maven were not found"),
        (("java",), "Maven was not found (no mvn on PATH): install Maven 3.6+"),
        (("mvn",), "Java was not found (no JAVA_HOME/bin/java, no java on PATH): install Java"),
    ],
)
def test_missing_java_or_maven_is_one_line(
    tmp_path: Path, tools: tuple[str, ...], expected: str
) -> None:
    env = {"PATH": _bin(tmp_path, *tools), "DREAMSCAPE_CACHE": str(tmp_path / "c")}
    with pytest.raises(EnvironmentFailure) as caught:
        default_maven(env)
    assert caught.value.message.startswith(expected)
    assert caught.value.hint is None
    assert not caught.value.details
    assert caught.value.exit_code == ExitCode.ENVIRONMENT


def test_mvn_env_names_the_executable(tmp_path: Path) -> None:
    env = {"PATH": _bin(tmp_path, "java"), "MVN": str(tmp_path / "nope")}
    with pytest.raises(EnvironmentFailure, match=r"Maven was not found \(MVN=.*nope is not an"):
        default_maven(env)
    env["MVN"] = str(Path(_bin(tmp_path, "mvn")) / "mvn")
    maven = default_maven(env)
    assert isinstance(maven, MavenCli)
    argv = maven.argv(Path("/w/pom.xml"), Path("/w/libs"))
    assert argv[1:] == (
        "-B",
        "-Dstyle.color=never",
        "-f",
        "/w/pom.xml",
        "dependency:copy-dependencies",
        "-DoutputDirectory=/w/libs",
        "-DincludeScope=runtime",
    )


def test_a_complete_cache_needs_no_maven(tmp_path: Path) -> None:
    env = _env(tmp_path)
    fetch_kafka(ZK, env, maven_factory=FakeMaven().factory())
    assert not fetch_kafka(ZK, {**env, "PATH": str(tmp_path / "empty")}).fetched


# ---- the CLI -----------------------------------------------------------------------------------


def _cli(state: AppState, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), obj=state)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_cli_runtime_fetch_json(tmp_path: Path) -> None:
    maven = FakeMaven()
    state = AppState(environ=_env(tmp_path), maven_factory=maven.factory())
    code, out, err = _cli(state, "runtime", "fetch", "--kafka", "all", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "runtime-fetch"
    assert doc["version"] == 1
    assert doc["source"] == "cache"
    assert doc["cache"] == str(tmp_path / "cache" / "kafka")
    assert [(k["version"], k["fetched"], k["jars"]) for k in doc["kafka"]] == [
        (dist.ZOOKEEPER_VERSION, True, 3),
        (dist.KRAFT_VERSION, True, 3),
    ]
    # not a terminal: one line per step on stderr, no download counts
    assert f"kafka {dist.ZOOKEEPER_VERSION}: resolving the jars with Maven" in err
    assert "files downloaded" not in err
    code, out, _ = _cli(state, "runtime", "fetch", "--kafka", "3.9")
    assert code == 0
    assert out.strip().endswith("(already there)")
    assert len(maven.calls) == 2


def test_cli_runtime_fetch_offline_and_missing_tools(tmp_path: Path) -> None:
    state = AppState(environ=_env(tmp_path, DREAMSCAPE_OFFLINE="1"), maven_factory=_no_maven)
    code, out, err = _cli(state, "runtime", "fetch", "--kafka", "4.x")
    assert code == ExitCode.ENVIRONMENT
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: the Kafka 4.1.1 jars are not in")

    state = AppState(environ={"PATH": _bin(tmp_path), "DREAMSCAPE_CACHE": str(tmp_path / "x")})
    code, _, err = _cli(state, "runtime", "fetch")
    assert code == ExitCode.ENVIRONMENT
    assert err.startswith("error: Java and Maven were not found")
    assert err.count("\n") == 1  # one line, before any step is printed


def test_cli_runtime_fetch_with_kafka_home(tmp_path: Path) -> None:
    (tmp_path / "k" / "libs").mkdir(parents=True)
    (tmp_path / "k" / "libs" / "kafka_2.13-3.9.0.jar").write_bytes(b"")
    state = AppState(
        environ=_env(tmp_path, KAFKA_HOME=str(tmp_path / "k")), maven_factory=_no_maven
    )
    code, out, _ = _cli(state, "runtime", "fetch", "--kafka", "3.9")
    assert code == 0
    assert "KAFKA_HOME is set: the local runtime uses Kafka 3.9.0" in out
    assert "nothing fetched" in out


def test_cli_up_local_offline_with_a_cold_cache_is_one_line(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        DREAMSCAPE_OFFLINE="1",
        DREAMSCAPE_STATE_DIR=str(tmp_path / "state"),
        HOME=str(tmp_path),
    )
    if not dist.java_available(env):
        skip_or_fail("needs java on PATH to get past the Java check")
    code, _out, err = _cli(AppState(environ=env, interactive=False), "up", "--runtime", "local")
    assert code == ExitCode.ENVIRONMENT
    lines = err.strip().splitlines()
    assert lines[0] == "runtime: local (requested by --runtime)"
    assert lines[1].startswith("error: the Kafka 3.9.1 jars are not in")
    assert "forbids fetching them: run `dreamscape-infra runtime fetch --kafka 3.9`" in lines[1]
    assert len(lines) == 2
    assert not (tmp_path / "state").exists()
