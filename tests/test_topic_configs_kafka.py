"""The topic-config table against real brokers: Kafka 3.9 (ZooKeeper) and 4.x (KRaft).

Instead of a copy of the table written out in a test, each broker answers for itself: the keys
DescribeConfigs reports for a fresh topic, and which values CreateTopics(validate_only) refuses.
What we accept for the broker's version must never be refused by it, and what it accepts we
accept too (the few places where we are deliberately stricter are listed, with the reason).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest

from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.kafka.cluster import NewTopicRequest
from dreamscape_infra.runtime.dist import find_kafka
from dreamscape_infra.topics.configs import (
    TOPIC_CONFIGS,
    ConfigValueError,
    KafkaVersion,
    TopicConfigKey,
    normalize_config_value,
    parse_kafka_version,
)
from tests.kafka_support import KafkaCluster, skip_or_fail

pytestmark = pytest.mark.kafka

# (key, value as written) that a broker accepts and we refuse on purpose.
STRICTER_ON_PURPOSE = {
    # Kafka takes any negative retention.bytes as "no limit"; we ask for the one spelling, -1.
    ("retention.bytes", "-2"),
}
# Turning these on depends on the broker's setup (tiered storage; ZooKeeper mode refuses the
# last two outright), not on the value: only their "off" and a wrong spelling are probed.
NEEDS_TIERED_STORAGE = {
    "remote.storage.enable",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
}


@pytest.fixture(params=["zookeeper", "kraft"])
def cluster(request: pytest.FixtureRequest) -> KafkaCluster:
    name = "kafka_cluster" if request.param == "zookeeper" else "kafka_kraft"
    found: KafkaCluster = request.getfixturevalue(name)
    return found


def version_of(cluster: KafkaCluster) -> KafkaVersion:
    if cluster.mode == "external":
        skip_or_fail("an external cluster (DREAMSCAPE_TEST_BROKERS) does not say its Kafka version")
    dist = find_kafka("kraft" if cluster.mode == "kraft" else "zookeeper", os.environ)
    return parse_kafka_version(dist.version)


def test_our_keys_are_the_brokers_keys(cluster: KafkaCluster) -> None:
    version = version_of(cluster)
    admin = ConfluentAdmin(cluster.settings)
    name = f"cfgkeys.{secrets.token_hex(4)}"
    try:
        created = admin.create_topics([NewTopicRequest(name, 1, 1, {})], validate_only=False)
        assert created[name].ok, created[name]
        assert admin.wait_for_topics([name], 30) == set()
        described = set(admin.snapshot([name]).topics[name].configs)
        ours = {key for key, spec in TOPIC_CONFIGS.items() if not spec.removed_on(version)}
        assert described == ours
        removed = {key for key, spec in TOPIC_CONFIGS.items() if spec.removed_on(version)}
        assert not removed & described
    finally:
        admin.delete_topics([name])
        admin.close()


def _candidates(spec: TopicConfigKey, version: KafkaVersion) -> list[str]:
    """Values on and just beyond each documented edge of `spec` for `version`."""
    if spec.type in ("long", "int", "double"):
        numbers: set[float] = {-1, -2}
        low = spec.minimum_on(version)
        if low is not None:
            numbers |= {low, low - 1}
        if spec.maximum is not None:
            numbers |= {spec.maximum, spec.maximum + 1}
        for _, raised in spec.min_by_version:  # the older minimum, under the newer one
            numbers |= {spec.minimum or 0, raised - 1}
        if spec.type == "double":
            return sorted({repr(float(n)) for n in numbers})
        return sorted({str(int(n)) for n in numbers})
    if spec.type == "boolean":
        return ["false", "yes"] if spec.name in NEEDS_TIERED_STORAGE else ["true", "false", "yes"]
    if spec.choices is not None:
        return [*spec.choices, spec.choices[0].upper(), "nonsense"]
    if spec.name.endswith("throttled.replicas"):
        return ["*", "0:1,1:2", "0-1"]
    return []


def _ours(key: str, raw: str, version: KafkaVersion) -> bool:
    try:
        normalize_config_value(key, raw, version)
    except ConfigValueError:
        return False
    return True


def test_we_accept_exactly_what_the_broker_accepts(cluster: KafkaCluster) -> None:
    version = version_of(cluster)
    probes: list[tuple[str, str]] = []
    for key, spec in sorted(TOPIC_CONFIGS.items()):
        if spec.removed_on(version):
            probes.append((key, "true" if spec.type == "boolean" else "0"))
        else:
            probes.extend((key, raw) for raw in _candidates(spec, version))
    requests = [
        NewTopicRequest(f"cfgprobe.{index}", 1, 1, {key: raw})
        for index, (key, raw) in enumerate(probes)
    ]
    admin = ConfluentAdmin(cluster.settings)
    try:
        answers = admin.create_topics(requests, validate_only=True)
    finally:
        admin.close()
    disagreements: list[dict[str, Any]] = []
    for index, (key, raw) in enumerate(probes):
        answer = answers[f"cfgprobe.{index}"]
        ours = _ours(key, raw, version)
        if ours != answer.ok and not (answer.ok and (key, raw) in STRICTER_ON_PURPOSE):
            disagreements.append(
                {"key": key, "value": raw, "ours": ours, "broker": answer.message or "accepted"}
            )
    assert disagreements == []
    assert len(probes) > len(TOPIC_CONFIGS)  # every key was probed, most more than once
