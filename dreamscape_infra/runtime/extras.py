"""The local runtime's extra managed processes: one small spec per `up --profile`.

Kafka's JVMs are the stack; a profile adds one long-running process beside them (the Schema
Registry for `schema`, the console for `ui`), which the local runtime starts, waits for, shows
in `status`, tails in `logs <name>` and stops in `down`, exactly like a broker. What a profile
must say is small and lives in one `ExtraProfile`:

    port_env, default_port                       the variable that moves its port, and the port
    describe(state_dir, port) -> ManagedProcess  pure: name, folder, readiness URL, identity
    launch(process, env, progress) -> Launch     the command (may fetch a jar first)

`describe` must not touch the disk or the network: `status` and `down` call it for every
recorded profile. The runtime reads the port from `port_env` when it starts the process and
records it in cluster.json, so `status` in another shell still probes the right one.
A pid file is trusted only while its process's command line still contains every string of
`ManagedProcess.identity` (e.g. a path inside this state folder), so a recycled pid, or the
same program started for another state folder, is never signalled.

To add a profile: write its `ExtraProfile` and add it to `EXTRA_PROFILES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dreamscape_infra.errors import ConfigError
from dreamscape_infra.runtime.base import ProgressCallback

EXTRA_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ManagedProcess:
    """One extra process of the local stack, as `status`, `logs` and `down` need it."""

    name: str  # the service name: `status` row, `logs <name>`
    profile: str  # the `up --profile` that starts it
    port: int
    folder: Path  # <state>/<name>/: pid file, log, data
    ready_path: str  # GET http://127.0.0.1:<port><ready_path> answers 2xx once it serves
    identity: tuple[str, ...]  # strings its command line must contain to be ours
    # (label, url) shown under the status table, e.g. ("Schema Registry", "http://...")
    urls: tuple[tuple[str, str], ...] = ()

    @property
    def pid_file(self) -> Path:
        return self.folder / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def ready_url(self) -> str:
        return f"http://{EXTRA_HOST}:{self.port}{self.ready_path}"


@dataclass(frozen=True, slots=True)
class Launch:
    """How to start a ManagedProcess: its argv and the variables it gets besides ours."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


Describe = Callable[[Path, int], ManagedProcess]
LaunchFactory = Callable[[ManagedProcess, Mapping[str, str], ProgressCallback], Launch]


@dataclass(frozen=True, slots=True)
class ExtraProfile:
    """A `up --profile` of the local runtime: what it runs and how to start it."""

    profile: str
    port_env: str  # e.g. DREAMSCAPE_SCHEMA_REGISTRY_PORT
    default_port: int
    describe: Describe
    launch: LaunchFactory

    def port(self, env: Mapping[str, str]) -> int:
        """The port asked for in the environment; ConfigError naming a bad variable."""
        return port_from_env(env, self.port_env, self.default_port)


def port_from_env(env: Mapping[str, str], var: str, default: int) -> int:
    """The port in `var` (default when unset or empty); ConfigError naming the variable."""
    raw = (env.get(var) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 65536):
        raise ConfigError([f"{var}: '{raw}' is not a port (expected 1-65535)"])
    return int(raw)


def http_ready(url: str, timeout_s: float = 1.0) -> bool:
    """True when a GET of `url` answers 2xx (a readiness endpoint); any failure is False."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def extra_profiles() -> dict[str, ExtraProfile]:
    """Every profile the local runtime can run, by name, in start order. (A function, not a
    constant: each profile's module imports this one.)"""
    from dreamscape_infra.runtime.apicurio import SCHEMA_PROFILE
    from dreamscape_infra.runtime.ui import UI_PROFILE

    return {p.profile: p for p in (SCHEMA_PROFILE, UI_PROFILE)}


__all__ = [
    "EXTRA_HOST",
    "ExtraProfile",
    "Launch",
    "ManagedProcess",
    "extra_profiles",
    "http_ready",
    "port_from_env",
]
