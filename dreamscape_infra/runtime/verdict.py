"""Is the stack up? The rule behind `status`'s exit code, as plain values.

The rule, in this order (documented in `status --help`, the README and docs/json-output.md):

1. `no-broker` (exit 4): no broker of the stack answers, because no broker process runs or
   because none accepts an AdminClient connection. An unreachable cluster is an environment
   failure, whatever else is wrong, so this wins.
2. `service-down` (exit 8, "a check failed"): a broker answers, but a service the stack expects
   is down, i.e. not running, or running and reported unhealthy. Which services a stack expects
   is the runtime's call (`ServiceStatus.expected`): every JVM of the local layout; docker's
   ZooKeeper and Kafka plus the extras that were created, never the one-shot topic-init.
3. `ok` (exit 0).

Which services are brokers is also the runtime's call (`ServiceStatus.role`), never a guess from
a name. Nothing here prints; the CLI renders these values and raises `failure()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dreamscape_infra.errors import CheckFailed, EnvironmentFailure, ExitCode, InfraError
from dreamscape_infra.runtime.base import ServiceStatus, StackStatus
from dreamscape_infra.runtime.probe import BrokerReachability

Verdict = Literal["ok", "service-down", "no-broker"]


@dataclass(frozen=True, slots=True)
class StackVerdict:
    """The stack's verdict: which rule applied, and the expected services that are down."""

    verdict: Verdict
    down: tuple[ServiceStatus, ...]
    bootstrap_servers: str
    broker_error: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        return {
            "ok": ExitCode.OK,
            "service-down": ExitCode.CHECK_FAILED,
            "no-broker": ExitCode.ENVIRONMENT,
        }[self.verdict]

    def failure(self) -> InfraError | None:
        """The error the CLI raises after showing the status (None when all is well)."""
        if self.verdict == "no-broker":
            return EnvironmentFailure(
                f"no broker answers at {self.bootstrap_servers} ({self.broker_error})",
                hint="start the stack with `dreamscape-infra up`; `dreamscape-infra logs` "
                "shows why a broker stopped",
            )
        if self.verdict == "service-down":
            names = ", ".join(f"{s.name} ({why_down(s)})" for s in self.down)
            count = len(self.down)
            return CheckFailed(
                f"{count} service{'s' if count > 1 else ''} of the stack "
                f"{'are' if count > 1 else 'is'} down: {names}",
                hint="`dreamscape-infra up` starts what is missing; "
                f"`dreamscape-infra logs {self.down[0].name}` shows why it stopped",
            )
        return None


def why_down(service: ServiceStatus) -> str:
    """A down service's state in one word: its state, or `unhealthy` when it runs."""
    return "unhealthy" if service.state == "running" else service.state


def stack_verdict(status: StackStatus, broker: BrokerReachability) -> StackVerdict:
    """Apply the module's rule: no-broker (4) wins over service-down (8) over ok (0)."""
    down = tuple(s for s in status.services if s.is_down)
    if not broker.reachable:
        return StackVerdict("no-broker", down, status.bootstrap_servers, broker.error)
    if down:
        return StackVerdict("service-down", down, status.bootstrap_servers)
    return StackVerdict("ok", (), status.bootstrap_servers)


__all__ = ["StackVerdict", "Verdict", "stack_verdict", "why_down"]
