"""`ConfluentAcls`: the `AclAdmin` Protocol over confluent_kafka's describe/create/delete_acls.

It is a `ConfluentAdmin` (same connection, same fast failure on a refused login or an
unreachable broker) that also speaks the ACL requests, and the only code that builds
confluent_kafka's AclBinding objects; it copies what it learns into
`dreamscape_infra.acls.model.AclBinding` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dreamscape_infra.acls.model import AclBinding, PatternType, Permission, ResourceType
from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.admin import ConfluentAdmin, _code_name, _safe
from dreamscape_infra.kafka.cluster import OK, ActionResult

if TYPE_CHECKING:
    from dreamscape_infra.settings import ConnectionSettings

_RESOURCE_TYPES: dict[str, ResourceType] = {
    "TOPIC": "topic",
    "GROUP": "group",
    "BROKER": "cluster",  # librdkafka's name for Kafka's CLUSTER resource (kafka-cluster)
    "TRANSACTIONAL_ID": "transactional_id",
}
_PATTERNS: dict[str, PatternType] = {"LITERAL": "literal", "PREFIXED": "prefixed"}
_PERMISSIONS: dict[str, Permission] = {"ALLOW": "allow", "DENY": "deny"}


class ConfluentAcls(ConfluentAdmin):
    """AclAdmin (and KafkaAdmin) over one AdminClient."""

    def __init__(self, settings: ConnectionSettings, timeout_s: float = 10.0) -> None:
        super().__init__(settings, timeout_s=timeout_s)

    def list_acls(self) -> tuple[AclBinding, ...]:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import (
            AclBindingFilter,
            AclOperation,
            AclPermissionType,
            ResourcePatternType,
        )
        from confluent_kafka.admin import ResourceType as KResourceType

        metadata = self._metadata()  # unreachable or refused: ConfluentAdmin's one-line errors
        self._require_describe()
        self._require_authorizer(metadata)
        make_filter: Any = AclBindingFilter  # its stubs do not admit None, which means "any"
        every = make_filter(
            KResourceType.ANY,
            None,
            ResourcePatternType.ANY,
            None,
            None,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        try:
            found = self._client.describe_acls(every, request_timeout=self._timeout).result(
                timeout=self._timeout + 1
            )
        except KafkaException as exc:
            raise _acl_failure(exc, self._brokers) from None
        except TimeoutError:
            raise self._unreachable() from None
        return tuple(sorted(_binding(b) for b in found))

    def _require_describe(self) -> None:
        """DescribeAcls needs DESCRIBE on the cluster, but librdkafka answers a principal
        without it with an empty list rather than an error: ask what we may do first."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AclOperation

        try:
            cluster = self._client.describe_cluster(
                include_authorized_operations=True, request_timeout=self._timeout
            ).result(timeout=self._timeout + 1)
        except (KafkaException, TimeoutError):
            raise self._unreachable() from None
        allowed = cluster.authorized_operations or []
        if not {AclOperation.DESCRIBE, AclOperation.ALL} & set(allowed):
            raise EnvironmentFailure(
                f"this principal may not read the ACLs of the cluster at {self._brokers} "
                "(CLUSTER_AUTHORIZATION_FAILED: DESCRIBE on the cluster is needed)",
                hint="connect as an admin (a super user): KAFKA_SASL_USERNAME",
            )

    def _require_authorizer(self, metadata: Any) -> None:
        """Without an authorizer DescribeAcls answers an empty list, as if nothing were
        granted; the broker's `authorizer.class.name` tells the two apart."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import ConfigResource
        from confluent_kafka.admin import ResourceType as KResourceType

        if not metadata.brokers:
            return
        broker = ConfigResource(KResourceType.BROKER, str(min(metadata.brokers)))
        try:
            configs = self._client.describe_configs([broker], request_timeout=self._timeout)[
                broker
            ].result(timeout=self._timeout + 1)
        except (KafkaException, TimeoutError):
            return  # not allowed to read broker configs: DescribeAcls will say what it can
        entry = configs.get("authorizer.class.name")
        if entry is None or not entry.value:
            raise _no_authorizer(self._brokers)

    def create_acls(self, bindings: Sequence[AclBinding]) -> dict[AclBinding, ActionResult]:
        native = {_native(b): b for b in bindings}
        if not native:
            return {}
        futures = self._client.create_acls(list(native), request_timeout=self._change_timeout)
        return self._answers(futures, native)

    def delete_acls(self, bindings: Sequence[AclBinding]) -> dict[AclBinding, ActionResult]:
        native = {_native(b, as_filter=True): b for b in bindings}
        if not native:
            return {}
        futures = self._client.delete_acls(list(native), request_timeout=self._change_timeout)
        return self._answers(futures, native)

    def _answers(
        self, futures: dict[Any, Any], native: dict[Any, AclBinding]
    ) -> dict[AclBinding, ActionResult]:
        from confluent_kafka import KafkaException

        results: dict[AclBinding, ActionResult] = {}
        for item, future in futures.items():
            binding = native[item]
            try:
                future.result(timeout=self._change_timeout + 10)
                results[binding] = OK
            except KafkaException as exc:
                results[binding] = ActionResult(False, _code_name(exc), _safe(exc))
            except TimeoutError:
                results[binding] = ActionResult(False, "_TIMED_OUT", "the broker did not answer")
        return results


def _acl_failure(exc: BaseException, brokers: str) -> EnvironmentFailure:
    code = _code_name(exc)
    if code == "SECURITY_DISABLED" or "No Authorizer" in _safe(exc):
        return _no_authorizer(brokers)
    if code == "CLUSTER_AUTHORIZATION_FAILED":
        return EnvironmentFailure(
            f"this principal may not read the ACLs of the cluster at {brokers} "
            "(CLUSTER_AUTHORIZATION_FAILED)",
            hint="connect as an admin (a super user): KAFKA_SASL_USERNAME",
        )
    return EnvironmentFailure(f"cannot read the ACLs at {brokers}: {code}: {_safe(exc)}")


def _no_authorizer(brokers: str) -> EnvironmentFailure:
    return EnvironmentFailure(
        f"the Kafka cluster at {brokers} runs no authorizer: it has no ACLs to plan",
        hint="start one with an authorizer (`dreamscape-infra up --runtime local --acls`), "
        "or set authorizer.class.name on the brokers",
    )


def _binding(native: Any) -> AclBinding:
    return AclBinding(
        principal=str(native.principal),
        resource_type=_RESOURCE_TYPES.get(native.restype.name, "unknown"),
        resource_name=str(native.name),
        pattern_type=_PATTERNS.get(native.resource_pattern_type.name, "unknown"),
        operation=str(native.operation.name).lower(),
        permission=_PERMISSIONS.get(native.permission_type.name, "unknown"),
        host=str(native.host),
    )


def _native(binding: AclBinding, *, as_filter: bool = False) -> Any:
    from confluent_kafka.admin import (
        AclBinding as KAclBinding,
    )
    from confluent_kafka.admin import (
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
    )
    from confluent_kafka.admin import ResourceType as KResourceType

    restype = {v: k for k, v in _RESOURCE_TYPES.items()}[binding.resource_type]
    pattern = {v: k for k, v in _PATTERNS.items()}[binding.pattern_type]
    permission = {v: k for k, v in _PERMISSIONS.items()}[binding.permission]
    cls = AclBindingFilter if as_filter else KAclBinding
    return cls(
        KResourceType[restype],
        binding.resource_name,
        ResourcePatternType[pattern],
        binding.principal,
        binding.host,
        AclOperation[binding.operation.upper()],
        AclPermissionType[permission],
    )
