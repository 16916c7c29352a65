"""One StackRuntime fake for the CLI tests of `up`, `down`, `status` and `logs`: starts nothing,
records every call and reports whatever stack the test gives it. `Harness` runs the CLI with
it and a FakeCluster."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.runtime.base import (
    DownResult,
    ProgressCallback,
    RuntimeName,
    ServiceStatus,
    StackStatus,
    UpOptions,
    UpResult,
)
from dreamscape_infra.settings import ConnectionSettings
from tests.fake_cluster import FakeCluster

TOPICS = str(Path(__file__).resolve().parent / "fixtures" / "topics-small.yaml")


def running_stack(runtime: RuntimeName = "local", environment: str | None = None) -> StackStatus:
    """ZooKeeper and one broker, both running and healthy, at 127.0.0.1:9092.

    Only ever handed to a fake admin: no test connects to this address.
    """
    return StackStatus(
        runtime=runtime,
        services=(
            ServiceStatus(
                "zookeeper", "running", "healthy", ("127.0.0.1:2181",), 11, role="coordinator"
            ),
            ServiceStatus("kafka", "running", "healthy", ("127.0.0.1:9092",), 12, role="broker"),
        ),
        bootstrap_servers="127.0.0.1:9092",
        environment=environment,
    )


@dataclass
class FakeRuntime:
    """A StackRuntime whose `status` (and `up`'s result) is `current`, by default
    `running_stack()` under this runtime's name; `fail_up` makes `up` raise it."""

    name: RuntimeName = "local"
    current: StackStatus | None = None
    already_running: bool = False
    sync_from_host: bool = False  # the packaged compose file: no topic-init of its own
    fail_up: EnvironmentFailure | None = None
    log_lines: tuple[str, ...] = ("line 1", "line 2")
    environment: str | None = None  # what the stack records (the local runtime's cluster.json)
    calls: list[tuple[object, ...]] = field(default_factory=list)
    ups: list[UpOptions] = field(default_factory=list)  # the options of every `up`

    def _status(self) -> StackStatus:
        if self.current is not None:
            return self.current
        return running_stack(self.name, self.environment)

    def up(self, options: UpOptions, progress: ProgressCallback) -> UpResult:
        self.calls.append(("up", options))
        self.ups.append(options)
        progress("kafka", "waiting for Kafka at 127.0.0.1:9092")
        if self.fail_up is not None:
            raise self.fail_up
        return UpResult(
            self._status(),
            already_running=self.already_running,
            notes=("a note",),
            sync_from_host=self.sync_from_host,
        )

    def down(self, remove_data: bool, progress: ProgressCallback) -> DownResult:
        self.calls.append(("down", remove_data))
        progress("kafka", "stopping")
        return DownResult(stopped=("kafka", "zookeeper"), removed_data=remove_data)

    def status(self) -> StackStatus:
        self.calls.append(("status",))
        return self._status()

    def logs(self, service: str | None, follow: bool, tail: int | None) -> Iterator[str]:
        self.calls.append(("logs", service, follow, tail))
        yield from self.log_lines


@dataclass
class Harness:
    runtime: FakeRuntime
    admin: FakeCluster
    chosen: list[str] = field(default_factory=list)
    admin_settings: list[ConnectionSettings] = field(default_factory=list)

    def invoke(
        self,
        *args: str,
        environ: dict[str, str] | None = None,
        interactive: bool = False,
        stdin: str | None = None,
    ) -> tuple[int, str, str]:
        def runtime_factory(name: str) -> FakeRuntime:
            self.chosen.append(name)
            self.runtime.name = "docker" if name == "docker" else "local"
            return self.runtime

        def admin_factory(settings: ConnectionSettings) -> FakeCluster:
            self.admin_settings.append(settings)
            return self.admin

        state = AppState(
            environ=environ or {},
            runtime_factory=runtime_factory,
            admin_factory=admin_factory,
            interactive=interactive,
        )
        result = CliRunner().invoke(app, ["--topics-file", TOPICS, *args], obj=state, input=stdin)
        assert "Traceback" not in result.stdout + result.stderr
        return result.exit_code, result.stdout, result.stderr
