"""The resolved desired state as plain values: what `load_desired` returns and the rest reads.

Kept apart from the loader (topics/desired.py) so the planner and the renderers can use these
values without importing YAML, the file model and the config table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# The defaults of topics.yaml's `settings.prune_*`. filemodel.py declares the file's own
# default for prune_min_idle as "1h"; a test pins that it parses to this number.
DEFAULT_PRUNE_MAX_DELETES = 10
DEFAULT_PRUNE_MIN_IDLE_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic as it should exist on the cluster."""

    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str]
    domain: str
    owner: str
    keyed: bool = False
    description: str | None = None
    event_type: str | None = None  # topics.yaml's `event_type`; None: the default rule
    schema: SchemaRef | None = None  # topics.yaml's `schema` (payload contract); None: any
    max_lag_seconds: float | None = None  # topics.yaml's lag threshold for every group

    @property
    def compacted(self) -> bool:
        return "compact" in self.configs.get("cleanup.policy", "").split(",")


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """A topic's payload schema as topics.yaml names it; the file is read by `schemas/`."""

    path: str  # as written, relative to topics.yaml's folder
    declared_at: str  # where topics.yaml names it, `topics.yaml:58`, for error messages
    compatibility: str  # the subject's compatibility (the topic's own, else the settings')


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A consumer group and the topics it reads."""

    name: str
    service: str
    topics: tuple[str, ...]
    max_lag_seconds: float | None = None  # topics.yaml's lag threshold on all its topics


PatternType = Literal["literal", "prefixed"]


@dataclass(frozen=True, slots=True, order=True)
class TopicRef:
    """A topic name (literal) or a name prefix (prefixed) a service's ACLs are about."""

    name: str
    pattern: PatternType = "literal"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A service's principal and access, with globs expanded to the declared topics."""

    name: str
    principal: str
    produces: tuple[TopicRef, ...]
    consumes: tuple[TopicRef, ...]
    group: str | None
    retired: bool = False


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Everything topics.yaml declares, resolved for one environment."""

    topics: tuple[TopicSpec, ...]
    groups: tuple[GroupSpec, ...]
    domains: Mapping[str, str]  # domain -> owner
    prefix: str
    environment: str | None
    environments: tuple[str, ...]
    strict_configs: bool = False
    prune_max_deletes: int = DEFAULT_PRUNE_MAX_DELETES
    prune_min_idle_ms: int = DEFAULT_PRUNE_MIN_IDLE_MS
    source: str = "topics.yaml"
    services: tuple[ServiceSpec, ...] = ()
    topic_index: Mapping[str, TopicSpec] = field(default_factory=dict, compare=False)

    def topic(self, name: str) -> TopicSpec | None:
        return self.topic_index.get(name)

    def is_managed_name(self, name: str) -> bool:
        return name.startswith(self.prefix)
