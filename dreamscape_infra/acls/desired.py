"""The ACL bindings topics.yaml's services need. Pure.

Per service (host `*`, ALLOW, LITERAL unless the declaration is a `{prefix: ...}`):
- each topic it produces to: WRITE and DESCRIBE;
- each topic it consumes: READ and DESCRIBE;
- its consumer group: READ.

Nothing for the idempotent producer: since Kafka 3.0 (KIP-679) InitProducerId without a
transactional id is allowed to a principal with WRITE on any topic, and IDEMPOTENT_WRITE on the
cluster is only the older alternative. Checked against the brokers we run (3.9 with
AclAuthorizer and 4.1 with StandardAuthorizer) by tests/test_acls_kafka.py, which produces with
`enable.idempotence=true` as a service holding only these bindings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dreamscape_infra.acls.model import AclBinding
from dreamscape_infra.topics.model import DesiredState, ServiceSpec, TopicRef

PRODUCE_OPERATIONS = ("write", "describe")
CONSUME_OPERATIONS = ("read", "describe")
GROUP_OPERATIONS = ("read",)


@dataclass(frozen=True, slots=True)
class DesiredAcls:
    """The bindings every declared service needs, and which service each belongs to."""

    bindings: tuple[AclBinding, ...]
    owner: dict[AclBinding, str]  # binding -> service name
    principals: dict[str, str]  # principal -> service name (retired services included)


def _topic_bindings(
    principal: str, refs: Iterable[TopicRef], operations: tuple[str, ...]
) -> list[AclBinding]:
    return [
        AclBinding(principal, "topic", ref.name, ref.pattern, op)
        for ref in refs
        for op in operations
    ]


def service_bindings(service: ServiceSpec) -> tuple[AclBinding, ...]:
    """The bindings one service needs, deduplicated and sorted."""
    found = {
        *_topic_bindings(service.principal, service.produces, PRODUCE_OPERATIONS),
        *_topic_bindings(service.principal, service.consumes, CONSUME_OPERATIONS),
    }
    if service.group is not None:
        found.update(
            AclBinding(service.principal, "group", service.group, "literal", op)
            for op in GROUP_OPERATIONS
        )
    return tuple(sorted(found))


def desired_acls(desired: DesiredState) -> DesiredAcls:
    """Every declared service's bindings (sorted); principals are unique (checked at load)."""
    owner: dict[AclBinding, str] = {}
    for service in desired.services:
        for binding in service_bindings(service):
            owner[binding] = service.name
    return DesiredAcls(
        bindings=tuple(sorted(owner)),
        owner=owner,
        principals={s.principal: s.name for s in desired.services},
    )
