"""topics.yaml as Strimzi custom resources: a KafkaTopic per topic, a KafkaUser per service.

Pure: returns plain dicts (one per manifest) that the CLI dumps as multi-document YAML. The
shapes follow Strimzi's `kafka.strimzi.io/v1beta2` API and are checked with Strimzi's own model
classes by `scripts/strimzi-check.sh` (tests/test_strimzi_export.py).

- KafkaTopic: `metadata.name` is a valid Kubernetes name derived from the topic's name (which is
  kept whole in `spec.topicName`), `spec.partitions`, `spec.replicas` and `spec.config` as
  resolved for the environment.
- KafkaUser (SCRAM-SHA-512, simple authorization): named after its principal (`User:<name>`,
  which is how Strimzi names a SCRAM user's principal), carrying the same ACLs as
  `acls sync` creates, one rule per resource.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from dreamscape_infra.acls.desired import service_bindings
from dreamscape_infra.acls.model import AclBinding
from dreamscape_infra.errors import ConfigError
from dreamscape_infra.topics.model import DesiredState, TopicSpec

API_VERSION = "kafka.strimzi.io/v1beta2"
CLUSTER_LABEL = "strimzi.io/cluster"
MANAGED_BY = {"app.kubernetes.io/managed-by": "dreamscape-infra"}
DEFAULT_CLUSTER = "dreamscape"
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME = 253
_OPERATIONS = {
    "read": "Read",
    "write": "Write",
    "create": "Create",
    "delete": "Delete",
    "alter": "Alter",
    "describe": "Describe",
    "cluster_action": "ClusterAction",
    "alter_configs": "AlterConfigs",
    "describe_configs": "DescribeConfigs",
    "idempotent_write": "IdempotentWrite",
    "all": "All",
}
_RESOURCES = {"topic": "topic", "group": "group", "transactional_id": "transactionalId"}


def check_cluster_name(cluster: str) -> None:
    """`--cluster` becomes a label value and names a Kafka resource: a DNS-1123 label."""
    if not _DNS_LABEL.fullmatch(cluster) or len(cluster) > 63:
        raise ConfigError(
            [f"--cluster: '{cluster}' is not a Kubernetes name (lower-case, digits and '-')"]
        )


def kubernetes_name(topic: str) -> str:
    """A valid `metadata.name` for a topic: the name itself when it is one (dreamscape's are),
    otherwise lower-cased with other characters as '-' and a hash of the real name appended,
    so two topics never share a resource."""
    if len(topic) <= MAX_NAME and _DNS_SUBDOMAIN.fullmatch(topic):
        return topic
    segments = (s.strip("-") for s in re.sub(r"[^a-z0-9.-]+", "-", topic.lower()).split("."))
    base = ".".join(s for s in segments if s) or "topic"
    digest = hashlib.sha256(topic.encode("utf-8")).hexdigest()[:8]
    return f"{base[: MAX_NAME - 9].rstrip('.-')}-{digest}"


def _config_value(value: str) -> str | int | bool:
    """Kafka's string form back to YAML scalars people expect (`retention.ms: 604800000`)."""
    if value in ("true", "false"):
        return value == "true"
    if re.fullmatch(r"-?[0-9]+", value) and len(value.lstrip("-")) < 19:
        return int(value)
    return value


def _metadata(name: str, cluster: str) -> dict[str, Any]:
    return {"name": name, "labels": {CLUSTER_LABEL: cluster, **MANAGED_BY}}


def topic_manifest(spec: TopicSpec, cluster: str) -> dict[str, Any]:
    """One KafkaTopic."""
    body: dict[str, Any] = {
        "topicName": spec.name,
        "partitions": spec.partitions,
        "replicas": spec.replication_factor,
    }
    if spec.configs:
        body["config"] = {k: _config_value(v) for k, v in spec.configs.items()}
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaTopic",
        "metadata": _metadata(kubernetes_name(spec.name), cluster),
        "spec": body,
    }


def _acl_rules(bindings: Iterable[AclBinding]) -> list[dict[str, Any]]:
    """One rule per (resource, pattern, permission, host), its operations in a stable order."""
    rules: dict[tuple[str, str, str, str, str], list[str]] = {}
    for b in bindings:
        key = (b.resource_type, b.resource_name, b.pattern_type, b.permission, b.host)
        rules.setdefault(key, []).append(_OPERATIONS[b.operation])
    out: list[dict[str, Any]] = []
    for (rtype, name, pattern, permission, host), operations in sorted(rules.items()):
        resource: dict[str, Any] = {"type": _RESOURCES.get(rtype, rtype)}
        if rtype != "cluster":
            resource["name"] = name
            resource["patternType"] = "prefix" if pattern == "prefixed" else "literal"
        out.append(
            {
                "resource": resource,
                "type": permission,
                "operations": sorted(set(operations)),
                "host": host,
            }
        )
    return out


def user_manifests(desired: DesiredState, cluster: str) -> list[dict[str, Any]]:
    """A KafkaUser per declared (not retired) service. Raises ConfigError when a principal
    cannot be a Strimzi user's (it must be User:<a Kubernetes name>)."""
    problems: list[str] = []
    out: list[dict[str, Any]] = []
    for service in desired.services:
        if service.retired:
            continue  # gone from the cluster's resources: the operator deletes its user
        name = service.principal.removeprefix("User:")
        if len(name) > MAX_NAME or not _DNS_SUBDOMAIN.fullmatch(name):
            problems.append(
                f"{desired.source}: services.{service.name}.principal: '{service.principal}' "
                "cannot be a Strimzi KafkaUser (its name must be a lower-case Kubernetes name)"
            )
            continue
        out.append(
            {
                "apiVersion": API_VERSION,
                "kind": "KafkaUser",
                "metadata": _metadata(name, cluster),
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {
                        "type": "simple",
                        "acls": _acl_rules(service_bindings(service)),
                    },
                },
            }
        )
    if problems:
        raise ConfigError(problems)
    return out


def strimzi_manifests(
    desired: DesiredState, cluster: str = DEFAULT_CLUSTER, *, users: bool = True
) -> list[dict[str, Any]]:
    """Every KafkaTopic (sorted by topic) then every KafkaUser (in declaration order)."""
    check_cluster_name(cluster)
    manifests = [topic_manifest(spec, cluster) for spec in desired.topics]
    names: dict[str, str] = {}
    for manifest, spec in zip(manifests, desired.topics, strict=True):
        resource = manifest["metadata"]["name"]
        if resource in names:
            raise ConfigError(
                [f"topics '{names[resource]}' and '{spec.name}' map to one resource '{resource}'"]
            )
        names[resource] = spec.name
    if users:
        manifests.extend(user_manifests(desired, cluster))
    return manifests


def manifest_file_name(manifest: dict[str, Any]) -> str:
    """`kafkatopic-<name>.yaml` / `kafkauser-<name>.yaml` for --output-dir."""
    return f"{manifest['kind'].lower()}-{manifest['metadata']['name']}.yaml"
