"""Our exception types. Each carries the exit code the CLI turns it into.

Core code raises these; only `dreamscape_infra.cli` catches them, prints one line and exits.
Messages must never contain secrets: build them from names and locations, not from settings
objects.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """One exit-code scheme for every command (documented in `--help` and the README)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    INVALID_CONFIG = 3
    ENVIRONMENT = 4
    CHANGES_PENDING = 5
    UNFIXABLE_DRIFT = 6
    REFUSED = 7
    CHECK_FAILED = 8


EXIT_CODE_HELP = (
    "Exit codes: 0 success/in sync, 1 internal error, 2 usage error, "
    "3 invalid configuration (topics.yaml or environment), "
    "4 environment failure (Kafka, Docker or the local runtime), "
    "5 changes pending (topics plan --detailed-exitcode), "
    "6 unfixable drift remains, 7 destructive action refused without confirmation, "
    "8 a check failed (a dead stack service, lag over a threshold, DEGRADED health, "
    "malformed events)."
)


class InfraError(Exception):
    """Base class: a failure we expected and can explain in one line."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(InfraError):
    """topics.yaml or the environment is invalid. `problems` lists every located error."""

    exit_code = ExitCode.INVALID_CONFIG

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "invalid configuration"
        more = len(self.problems) - 1
        summary = first if more <= 0 else f"{first} (and {more} more)"
        super().__init__(summary, hint=hint)


class EnvironmentFailure(InfraError):
    """Kafka unreachable, authentication refused, Docker or the local runtime failing."""

    exit_code = ExitCode.ENVIRONMENT

    def __init__(
        self, message: str, *, hint: str | None = None, details: list[str] | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.details = list(details or [])


class RefusedError(InfraError):
    """A destructive action was not confirmed."""

    exit_code = ExitCode.REFUSED


class CheckFailed(InfraError):
    """A check the user asked for failed: lag over a threshold, DEGRADED health, a dead
    service of the stack, malformed events. The command ran fine; the answer is "no"."""

    exit_code = ExitCode.CHECK_FAILED


class UsageError(InfraError):
    """Bad input on the command line that only the cluster or topics.yaml can reveal: an
    unknown group or topic, invalid JSON in an argument, an unparsable date or --since, a
    negative offset. One line, exit 2, like Typer's own usage errors."""

    exit_code = ExitCode.USAGE
