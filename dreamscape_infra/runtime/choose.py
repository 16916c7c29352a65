"""Choosing the runtime: `--runtime docker|local|auto`, or DREAMSCAPE_RUNTIME, default auto.

auto picks docker when a Docker daemon answers, else local when Java is present. The choice
comes with a reason the CLI shows, so nobody wonders which Kafka they got.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dreamscape_infra.errors import ConfigError, EnvironmentFailure
from dreamscape_infra.runtime.base import RuntimeName, StackRuntime

RUNTIME_ENV = "DREAMSCAPE_RUNTIME"
CHOICES = ("docker", "local", "auto")


@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """The runtime to use and why it was chosen (for one line on stderr)."""

    name: RuntimeName
    reason: str


def docker_answers() -> bool:
    """True when the docker runtime exists and its daemon answers; never raises."""
    try:
        from dreamscape_infra.runtime.docker import docker_daemon_available
    except ImportError:
        return False
    try:
        return bool(docker_daemon_available())
    except Exception:  # a probe must never break selection: no answer means no docker
        return False


def java_present(env: Mapping[str, str]) -> bool:
    from dreamscape_infra.runtime.dist import java_available

    return java_available(env)


def local_stack_running(env: Mapping[str, str], state_dir: Path | str | None = None) -> bool:
    """True when the local runtime's state folder has a live service of ours; never raises."""
    try:
        from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime

        return LocalRuntime(LocalConfig.from_env(env, state_dir), env=env).status().running
    except Exception:  # a probe must never break selection
        return False


def requested_runtime(option: str | None, env: Mapping[str, str]) -> str:
    """The option if given, else DREAMSCAPE_RUNTIME, else auto; ConfigError naming the source."""
    source, raw = ("--runtime", option) if option else (RUNTIME_ENV, env.get(RUNTIME_ENV))
    value = (raw or "auto").strip().lower()
    if value not in CHOICES:
        raise ConfigError([f"{source}: unknown runtime '{raw}' (expected docker, local or auto)"])
    return value


def choose_runtime(
    option: str | None,
    env: Mapping[str, str],
    *,
    docker_probe: Callable[[], bool] = docker_answers,
    java_probe: Callable[[Mapping[str, str]], bool] = java_present,
    local_probe: Callable[[], bool] = lambda: False,
) -> RuntimeChoice:
    """Resolve docker|local|auto to a runtime name.

    Explicit choices are returned as they are (the runtime itself reports what is missing).
    auto prefers a local stack that is already running (so `status`/`down` find what `up`
    started), then docker when its daemon answers, then local when Java is present; it raises
    EnvironmentFailure when none is available.
    """
    value = requested_runtime(option, env)
    origin = "--runtime" if option else (RUNTIME_ENV if env.get(RUNTIME_ENV) else None)
    if value == "docker":
        return RuntimeChoice("docker", f"requested by {origin}")
    if value == "local":
        return RuntimeChoice("local", f"requested by {origin}")
    if local_probe():
        return RuntimeChoice("local", "auto: the local stack is running")
    if docker_probe():
        return RuntimeChoice("docker", "auto: a Docker daemon answers")
    if java_probe(env):
        return RuntimeChoice("local", "auto: no Docker daemon answered, Java is present")
    raise EnvironmentFailure(
        "no runtime available: no Docker daemon answered and Java was not found",
        hint="start Docker, or install Java 17+ and Maven for --runtime local (it fetches Kafka "
        "on first use)",
    )


def make_runtime(
    name: str, env: Mapping[str, str], *, state_dir: Path | str | None = None
) -> StackRuntime:
    """The runtime object for a resolved name; `state_dir` applies to the local runtime."""
    if name == "local":
        from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime

        return LocalRuntime(LocalConfig.from_env(env, state_dir), env=env)
    if name == "docker":
        try:
            from dreamscape_infra.runtime.docker import DockerComposeRuntime
        except ImportError:
            raise EnvironmentFailure(
                "the docker runtime is not available in this build", hint="use --runtime local"
            ) from None
        return DockerComposeRuntime(env)
    raise ConfigError([f"--runtime: unknown runtime '{name}' (expected docker or local)"])
