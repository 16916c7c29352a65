"""ACL bindings as plain values, and the `AclAdmin` Protocol the ACL code asks a cluster through.

Pure: no confluent_kafka here. `dreamscape_infra.kafka.acls.ConfluentAcls` implements the
Protocol against a real cluster; tests implement it with a fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from dreamscape_infra.kafka.cluster import ActionResult

ResourceType = Literal["topic", "group", "cluster", "transactional_id", "broker", "unknown"]
PatternType = Literal["literal", "prefixed", "unknown"]
Permission = Literal["allow", "deny", "unknown"]
# Kafka's AclOperation names, lower-case with '_' (e.g. idempotent_write, describe_configs)
Operation = str


@dataclass(frozen=True, slots=True, order=True)
class AclBinding:
    """One ACL: `principal` may (allow) or may not (deny) do `operation` on a resource.

    Field order is the sort order: by principal, then resource, then operation.
    """

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    operation: Operation
    permission: Permission = "allow"
    host: str = "*"

    def describe(self) -> str:
        """`ALLOW User:x WRITE topic:dreamscape.a` (a `*` after a prefixed name)."""
        star = "*" if self.pattern_type == "prefixed" else ""
        return (
            f"{self.permission.upper()} {self.principal} {self.operation.upper()} "
            f"{self.resource_type}:{self.resource_name}{star}"
            + ("" if self.host == "*" else f" from {self.host}")
        )


class AclAdmin(Protocol):
    """What the ACL code may ask of a cluster. Fakes implement this too."""

    def list_acls(self) -> tuple[AclBinding, ...]:
        """Every ACL binding of the cluster. Raises EnvironmentFailure when unreachable, when
        the broker runs no authorizer, or when this principal may not describe ACLs."""
        ...

    def create_acls(self, bindings: Sequence[AclBinding]) -> dict[AclBinding, ActionResult]:
        """Create the bindings in one request; an answer per binding."""
        ...

    def delete_acls(self, bindings: Sequence[AclBinding]) -> dict[AclBinding, ActionResult]:
        """Delete exactly these bindings (each an exact filter) in one request."""
        ...

    def close(self) -> None: ...
