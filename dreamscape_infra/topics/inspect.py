"""Reading topics back from the cluster as values: one topic with its drift (`topics describe`),
and every topic under a prefix as a topics.yaml fragment (`topics import`).

Both return plain values; `dreamscape_infra.topics.render` turns them into tables, JSON or YAML.
No printing, no prompting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dreamscape_infra.kafka.cluster import KafkaAdmin, TopicState, is_internal_topic
from dreamscape_infra.topics.model import DesiredState, TopicSpec
from dreamscape_infra.topics.plan import Action, compute_plan


@dataclass(frozen=True, slots=True)
class TopicDescription:
    """One topic as the cluster has it, its declaration (None: undeclared) and the differences
    sync would act on or report."""

    state: TopicState
    spec: TopicSpec | None
    differences: tuple[Action, ...]

    @property
    def name(self) -> str:
        return self.state.name


def describe_topic(admin: KafkaAdmin, desired: DesiredState, name: str) -> TopicDescription | None:
    """The topic `name` with its configs and its drift from topics.yaml; None when it does not
    exist. One metadata read plus one config read."""
    snapshot = admin.snapshot([name])
    state = snapshot.topics.get(name)
    if state is None:
        return None
    spec = desired.topic(name)
    # Plan only this topic: the others are neither read nor reported as unmanaged.
    only = replace(desired, topics=(spec,) if spec else (), topic_index={})
    differences = tuple(a for a in compute_plan(only, snapshot).actions if a.topic == name)
    return TopicDescription(state, spec, differences)


@dataclass(frozen=True, slots=True)
class ImportedTopic:
    """A live topic as topics.yaml would declare it: only its topic-level overrides."""

    name: str
    partitions: int
    replication_factor: int
    configs: tuple[tuple[str, str | int | None], ...]


def import_topics(admin: KafkaAdmin, prefix: str) -> tuple[ImportedTopic, ...]:
    """Every non-internal topic whose name starts with `prefix`, sorted by name, with the
    configs set on the topic itself (integers as YAML integers, the rest as Kafka's strings)."""
    names = [
        n for n in admin.snapshot([]).topics if n.startswith(prefix) and not is_internal_topic(n)
    ]
    snapshot = admin.snapshot(names)
    imported = []
    for name in sorted(names):
        topic = snapshot.topics.get(name)
        if topic is None:  # deleted between the two reads
            continue
        overrides = tuple(
            (key, _yaml_value(entry.value))
            for key, entry in sorted(topic.configs.items())
            if entry.is_override
        )
        imported.append(
            ImportedTopic(name, topic.partition_count, topic.replication_factor, overrides)
        )
    return tuple(imported)


def _yaml_value(value: str | None) -> str | int | None:
    # Kafka stores every config as a string; numbers read better (and diff cleaner) as numbers.
    if value is not None and value.lstrip("-").isdigit():
        return int(value)
    return value
