"""A fake `AclAdmin`: ACLs in a set, with a log of every request, for CLI and apply tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dreamscape_infra.acls.model import AclBinding
from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.cluster import OK, ActionResult


@dataclass
class FakeAclAdmin:
    """The cluster's ACLs; `refuse` makes creations of those bindings fail like a broker."""

    acls: set[AclBinding] = field(default_factory=set)
    refuse: set[AclBinding] = field(default_factory=set)
    unreachable: bool = False
    requests: list[tuple[str, tuple[AclBinding, ...]]] = field(default_factory=list)
    closed: bool = False

    def list_acls(self) -> tuple[AclBinding, ...]:
        if self.unreachable:
            raise EnvironmentFailure("Kafka is not reachable at fake:9092 (waited 1s)")
        self.requests.append(("describe", ()))
        return tuple(sorted(self.acls))

    def create_acls(self, bindings: Sequence[AclBinding]) -> dict[AclBinding, ActionResult]:
        self.requests.append(("create", tuple(bindings)))
        out: dict[AclBinding, ActionResult] = {}
        for binding in bindings:
            if binding in self.refuse:
                out[binding] = ActionResult(False, "INVALID_REQUEST", "refused by the fake")
            else:
                self.acls.add(binding)
                out[binding] = OK
        return out

    def delete_acls(self, bindings: Sequence[AclBinding]) -> dict[AclBinding, ActionResult]:
        self.requests.append(("delete", tuple(bindings)))
        for binding in bindings:
            self.acls.discard(binding)
        return dict.fromkeys(bindings, OK)

    def close(self) -> None:
        self.closed = True
