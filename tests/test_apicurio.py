"""The Schema Registry of the local runtime's `schema` profile (runtime.apicurio): its pinned
version, its fetch into the cache (with a fake Maven), and the command it runs."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.runtime import apicurio
from dreamscape_infra.runtime.base import no_progress
from dreamscape_infra.runtime.fetch import ArtifactMaven

ROOT = Path(__file__).resolve().parent.parent
RUNNER = f"apicurio-registry-app-{apicurio.APICURIO_VERSION}-runner.jar"


def test_pinned_version_matches_the_pom() -> None:
    text = (ROOT / "dreamscape_infra" / "data" / "kafka-dist" / "pom-apicurio.xml").read_text()
    match = re.search(r"<apicurio.version>([^<]+)</apicurio.version>", text)
    assert match
    assert match.group(1) == apicurio.APICURIO_VERSION
    assert "<classifier>all</classifier>" in text
    assert "<type>zip</type>" in text


@dataclass
class FakeArtifactMaven:
    """Writes the zip `dependency:copy` would copy (or fails like Maven offline)."""

    exit_code: int = 0
    runner: bool = True
    calls: list[Path] = field(default_factory=list)

    def factory(self) -> Callable[[Mapping[str, str]], ArtifactMaven]:
        return lambda env: self

    def copy_artifacts(
        self, pom: Path, output_dir: Path, log_file: Path, on_line: Callable[[str], None]
    ) -> int:
        self.calls.append(pom)
        if self.exit_code:
            log_file.write_text(
                "[ERROR] Failed to execute goal ...: Could not transfer artifact "
                "io.apicurio:apicurio-registry-app:zip:all:3.0.9: repo.maven.apache.org: "
                "Temporary failure in name resolution\n"
            )
            return self.exit_code
        output_dir.mkdir(parents=True)
        zip_path = output_dir / f"apicurio-registry-app-{apicurio.APICURIO_VERSION}-all.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            archive.writestr("lib/some.jar", b"")
            if self.runner:
                archive.writestr(RUNNER, b"jar")
        return 0


def test_fetch_unpacks_once_then_finds_it_complete(tmp_path: Path) -> None:
    env = {"DREAMSCAPE_CACHE": str(tmp_path)}
    maven = FakeArtifactMaven()
    first = apicurio.fetch_apicurio(env, maven_factory=maven.factory())
    assert first.fetched
    assert (first.app / RUNNER).read_bytes() == b"jar"
    assert (first.app / "lib" / "some.jar").exists()
    assert first.app == tmp_path / "apicurio" / apicurio.APICURIO_VERSION / "app"
    again = apicurio.fetch_apicurio(env, maven_factory=maven.factory())
    assert not again.fetched
    assert len(maven.calls) == 1
    assert not list(first.app.parent.glob(".fetch-*")), "no work folder left"


def test_maven_failing_offline_is_one_line_with_its_error(tmp_path: Path) -> None:
    env = {"DREAMSCAPE_CACHE": str(tmp_path)}
    with pytest.raises(EnvironmentFailure) as caught:
        apicurio.fetch_apicurio(env, maven_factory=FakeArtifactMaven(exit_code=1).factory())
    failure = caught.value
    assert failure.message == "Maven could not fetch Apicurio Registry 3.0.9 (exit 1)"
    assert any("Temporary failure in name resolution" in d for d in failure.details)
    assert "check the network" in (failure.hint or "")
    assert not apicurio.is_complete(tmp_path / "apicurio" / apicurio.APICURIO_VERSION)


def test_a_zip_without_the_runner_jar_is_not_complete(tmp_path: Path) -> None:
    env = {"DREAMSCAPE_CACHE": str(tmp_path)}
    with pytest.raises(EnvironmentFailure, match=r"holds no apicurio-registry-app-3\.0\.9-runner"):
        apicurio.fetch_apicurio(env, maven_factory=FakeArtifactMaven(runner=False).factory())
    assert not apicurio.is_complete(tmp_path / "apicurio" / apicurio.APICURIO_VERSION)


def test_offline_never_calls_maven_and_says_what_to_run(tmp_path: Path) -> None:
    env = {"DREAMSCAPE_CACHE": str(tmp_path), "DREAMSCAPE_OFFLINE": "1"}
    maven = FakeArtifactMaven()
    with pytest.raises(EnvironmentFailure) as caught:
        apicurio.fetch_apicurio(env, maven_factory=maven.factory())
    assert maven.calls == []
    assert "`dreamscape-infra runtime fetch --schema-registry`" in caught.value.message


def test_the_registry_runs_on_loopback_with_its_database_in_the_state_folder(
    tmp_path: Path,
) -> None:
    env = {"DREAMSCAPE_CACHE": str(tmp_path / "cache")}
    apicurio.fetch_apicurio(env, maven_factory=FakeArtifactMaven().factory())
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    env = {**env, "JAVA_HOME": str(tmp_path / "jdk"), "DREAMSCAPE_OFFLINE": "1"}
    process = apicurio.SCHEMA_PROFILE.describe(tmp_path / "state", 18081)
    assert process.name == "schema-registry"
    assert process.ready_url == "http://127.0.0.1:18081/health/ready"
    assert process.urls == (("Schema Registry", "http://127.0.0.1:18081/apis/ccompat/v7"),)
    argv = apicurio.SCHEMA_PROFILE.launch(process, env, no_progress).argv
    assert argv[0] == str(java)
    assert "-Dquarkus.http.host=127.0.0.1" in argv
    assert "-Dquarkus.http.port=18081" in argv
    database = tmp_path / "state" / "schema-registry" / "data" / "registry"
    assert f"-Dapicurio.datasource.url=jdbc:h2:file:{database};WRITE_DELAY=0" in argv
    assert set(process.identity) <= set(argv), "the pid check finds it"
    assert argv[-2:] == ("-jar", str(apicurio.version_folder(env) / "app" / RUNNER))


def test_port_variable() -> None:
    assert apicurio.SCHEMA_PROFILE.port({}) == 8081
    assert apicurio.SCHEMA_PROFILE.port({"DREAMSCAPE_SCHEMA_REGISTRY_PORT": "18081"}) == 18081
