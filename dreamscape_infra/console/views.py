"""The console's JSON documents, built from one cached read of `serve`.

Each document is the one the matching CLI command prints with `-o json` (`topics list --all`,
`topics plan`, `topics describe`, `groups list`, `groups lag`, `health`), computed from the
same `Sample` every panel of every open tab shares: the page is another renderer of these
values, with no Kafka logic of its own. The console-only documents (overview, topology, lag
history) are built here too. Pure: no I/O, no printing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dreamscape_infra.groups.model import GroupLag
    from dreamscape_infra.groups.status import GroupStatus
    from dreamscape_infra.health.server import Sample
    from dreamscape_infra.kafka.cluster import ClusterSnapshot
    from dreamscape_infra.topics.model import DesiredState
    from dreamscape_infra.topics.plan import Plan

# Above this many declared topics the diagram shows one node per domain instead of per topic.
DIAGRAM_TOPIC_LIMIT = 150


class NotFound(LookupError):
    """An unknown topic or group in a URL: the server answers 404 with `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def empty_desired(prefix: str = "dreamscape.") -> DesiredState:
    """What nothing declared looks like (serve runs without a topics.yaml too)."""
    from dreamscape_infra.topics.model import DesiredState

    return DesiredState((), (), {}, prefix, None, ())


def fix_command(environment: str | None, topics_file: str | None) -> str:
    """The exact command that brings the cluster back to topics.yaml."""
    parts = ["dreamscape-infra"]
    if topics_file and topics_file != "topics.yaml":
        parts += ["-f", topics_file]
    parts += ["topics", "sync"]
    if environment:
        parts += ["--env", environment]
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class ConsoleContext:
    """What stays the same for the server's life."""

    desired: DesiredState | None
    bootstrap_servers: str
    interval_s: float
    topics_file: str | None = None


@dataclass(slots=True)
class Views:
    """The documents of one sample. Built lazily, once each, under serve's cache lock."""

    sample: Sample
    context: ConsoleContext
    statuses: Mapping[str, GroupStatus]
    window_s: float = 0.0  # between the two reads the statuses were judged over (0: one read)
    _plan: Plan | None = None
    _memo: dict[str, Any] = field(default_factory=dict)
    # encoded answers by request target: every tab asks the same few URLs each interval, so
    # each is serialised once per read (at 2,000 topics /api/topics is ~0.3 MB of JSON)
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def desired(self) -> DesiredState:
        return self.context.desired or empty_desired()

    @property
    def snapshot(self) -> ClusterSnapshot | None:
        return self.sample.observation.read.snapshot

    @property
    def lags(self) -> Sequence[GroupLag]:
        return self.sample.lags or ()

    def plan(self) -> Plan | None:
        if self._plan is None and self.snapshot is not None:
            from dreamscape_infra.topics.plan import PlanOptions, compute_plan

            options = PlanOptions(now_ms=int(time.time() * 1000))
            self._plan = compute_plan(self.desired, self.snapshot, options)
        return self._plan

    def _once(self, key: str, build: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    # --- the CLI's documents ----------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """`health -o json`."""
        return self.sample.report.to_json()

    def topics(self) -> dict[str, Any] | None:
        """`topics list --all -o json` (None: the cluster did not answer)."""

        def build() -> dict[str, Any] | None:
            from dreamscape_infra.topics.render import topic_list_rows

            plan = self.plan()
            if self.snapshot is None or plan is None:
                return None
            rows = topic_list_rows(list(self.snapshot.topics.values()), self.desired, plan)
            declared = {t.name for t in self.desired.topics}
            missing = sorted(declared - set(self.snapshot.topics))
            return {
                "kind": "topics",
                "version": 1,
                "topics": rows,
                # declared but absent: `topics list` cannot show a row for them
                "missing": missing,
            }

        return self._once("topics", build)  # type: ignore[no-any-return]

    def topics_plan(self) -> dict[str, Any] | None:
        """`topics plan -o json`, plus the command that applies it."""

        def build() -> dict[str, Any] | None:
            from dreamscape_infra.topics.render import plan_json

            plan = self.plan()
            if plan is None:
                return None
            doc = plan_json(plan)
            doc["fix_command"] = fix_command(self.desired.environment, self.context.topics_file)
            return doc

        return self._once("plan", build)  # type: ignore[no-any-return]

    def topic(self, name: str) -> dict[str, Any] | None:
        """`topics describe NAME -o json`; NotFound for a topic the cluster does not have."""
        from dreamscape_infra.topics.inspect import TopicDescription
        from dreamscape_infra.topics.render import action_json, describe_json

        if self.snapshot is None:
            return None
        state = self.snapshot.topics.get(name)
        plan = self.plan()
        if state is None or plan is None:
            declared = " (declared in topics.yaml, missing on the cluster)"
            raise NotFound(
                f"topic '{name}' does not exist" + (declared if self.desired.topic(name) else "")
            )
        differences = tuple(a for a in plan.actions if a.topic == name)
        doc = describe_json(TopicDescription(state, self.desired.topic(name), differences))
        doc["drifted_keys"] = sorted({a.key for a in differences if a.key})
        doc["differences"] = [action_json(a) for a in differences]
        spec = self.desired.topic(name)
        doc["domain"] = spec.domain if spec else None
        doc["fix_command"] = (
            fix_command(self.desired.environment, self.context.topics_file)
            if any(a.applicable for a in differences)
            else None
        )
        return doc

    def groups(self) -> dict[str, Any] | None:
        """`groups list -o json` (None: lag could not be read)."""
        from dreamscape_infra.groups.render import list_json

        if self.sample.lags is None:
            return None
        return self._once("groups", lambda: list_json(self.lags, self.statuses))  # type: ignore[no-any-return]

    def group(self, name: str) -> dict[str, Any] | None:
        """`groups lag NAME -o json`; NotFound for a group neither the cluster nor topics.yaml
        knows."""
        from dreamscape_infra.groups.lag import cross_check
        from dreamscape_infra.groups.render import lag_json

        if self.sample.lags is None:
            return None
        lag = next((g for g in self.lags if g.group == name), None)
        if lag is None:
            raise NotFound(f"consumer group '{name}' does not exist and is not declared")
        checks = {name: cross_check(lag, self.context.desired)}
        return lag_json([lag], self.statuses, checks, [], window_s=self.window_s)

    # --- console-only documents -------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        """The verdict, brokers and controller, counts, and the declared topology made live."""
        return self._once("overview", self._overview)  # type: ignore[no-any-return]

    def _overview(self) -> dict[str, Any]:
        read = self.sample.observation.read
        cluster = read.cluster
        brokers = None
        if cluster is not None:
            brokers = {
                "cluster_id": cluster.cluster_id,
                "controller_id": cluster.controller_id,
                "brokers": [
                    {"id": b.id, "host": b.host, "port": b.port}
                    for b in sorted(cluster.brokers, key=lambda b: b.id)
                ],
            }
        from dreamscape_infra.health.render import summarize

        plan = self.topics_plan()
        components = self.sample.report.components
        return {
            "kind": "console-overview",
            "version": 1,
            "status": self.sample.report.status,
            "health": self.health(),
            # `health`'s table in words, one line per component
            "components": [
                {"name": name, "status": c.status, "summary": summarize(name, c)}
                for name, c in components.items()
            ],
            "cluster": brokers,
            "error": read.error,
            "read_at": read.read_at,
            "read_duration_s": read.duration_s,
            "reads_total": self.sample.reads_total,
            "interval_s": self.context.interval_s,
            "bootstrap_servers": self.context.bootstrap_servers,
            "environment": self.desired.environment,
            "counts": {
                "topics": len(self.snapshot.topics) if self.snapshot is not None else None,
                "declared_topics": len(self.desired.topics),
                "groups": len(self.lags) if self.sample.lags is not None else None,
                "declared_groups": len(self.desired.groups),
            },
            "in_sync": plan["in_sync"] if plan is not None else None,
            "fix_command": plan["fix_command"] if plan is not None else None,
            "topology": topology(self.desired, self.snapshot, self.sample.lags, self.statuses),
        }


def topology(
    desired: DesiredState,
    snapshot: ClusterSnapshot | None,
    lags: Sequence[GroupLag] | None,
    statuses: Mapping[str, GroupStatus],
) -> dict[str, Any]:
    """The seed's architecture diagram as data: producer services -> topics (by domain) ->
    consumer groups (with their service), one node per declared service, topic and group; a
    consume edge carries its group's status and its lag on that topic."""
    declared = [t.name for t in desired.topics]
    by_name = {g.group: g for g in lags or ()}
    services = [
        {"id": f"service:{s.name}", "name": s.name, "retired": s.retired}
        for s in sorted(desired.services, key=lambda s: s.name)
    ]
    topics = [
        {
            "id": f"topic:{t.name}",
            "name": t.name,
            "domain": t.domain,
            "live": snapshot is not None and t.name in snapshot.topics,
        }
        for t in sorted(desired.topics, key=lambda t: (t.domain, t.name))
    ]
    groups: dict[str, dict[str, Any]] = {}
    consumes: dict[str, set[str]] = {}
    for spec in desired.groups:
        groups[spec.name] = {"service": spec.service, "declared": True}
        consumes.setdefault(spec.name, set()).update(spec.topics)
    for service in desired.services:
        if service.group is None or not service.consumes:
            continue
        entry = groups.setdefault(service.group, {"service": service.name, "declared": False})
        entry.setdefault("service", service.name)
        consumes.setdefault(service.group, set()).update(_expand(service.consumes, declared))
    group_nodes = []
    edges: list[dict[str, Any]] = []
    for name in sorted(groups):
        lag = by_name.get(name)
        status = statuses.get(name)
        group_nodes.append(
            {
                "id": f"group:{name}",
                "name": name,
                "service": groups[name]["service"],
                "declared": groups[name]["declared"],
                "status": status.value if status is not None else "NOT-STARTED",
                "total_lag": lag.total_lag if lag is not None else None,
            }
        )
        per_topic = lag.topic_lag() if lag is not None else {}
        for topic in sorted(consumes.get(name, ())):
            edges.append(
                {
                    "from": f"topic:{topic}",
                    "to": f"group:{name}",
                    "kind": "consume",
                    "status": _edge_status(status, per_topic.get(topic)),
                    "lag": per_topic.get(topic),
                }
            )
    for service in desired.services:
        for topic in _expand(service.produces, declared):
            edges.append(
                {
                    "from": f"service:{service.name}",
                    "to": f"topic:{topic}",
                    "kind": "produce",
                    "status": None,
                    "lag": None,
                }
            )
    domains: dict[str, int] = {}
    for t in desired.topics:
        domains[t.domain] = domains.get(t.domain, 0) + 1
    return {
        "services": services,
        "topics": topics,
        "groups": group_nodes,
        "edges": edges,
        "domains": [{"name": d, "topics": n} for d, n in sorted(domains.items())],
        "collapse_topics": len(topics) > DIAGRAM_TOPIC_LIMIT,
    }


def _edge_status(status: GroupStatus | None, lag: int | None) -> str:
    if status is None:
        return "NOT-STARTED"
    # a group that lags on one topic is not lagging on the others
    if status.value in ("LAGGING", "STALLED", "STOPPED") and lag == 0:
        return "OK"
    return status.value


def _expand(refs: Sequence[Any], declared: Sequence[str]) -> list[str]:
    names: list[str] = []
    for ref in refs:
        if ref.pattern == "prefixed":
            names += [n for n in declared if n.startswith(ref.name)]
        elif ref.name in declared:
            names.append(ref.name)
    return sorted(set(names))


def with_statuses(
    lags: Sequence[GroupLag] | None, previous: Sequence[GroupLag] | None
) -> dict[str, GroupStatus]:
    """Each group's status judged over the last two reads, one interval apart (one read: the
    single-sample statuses of `groups list`)."""
    from dreamscape_infra.groups.status import judge

    if lags is None:
        return {}
    before = {g.group: g for g in previous or ()}
    return {g.group: judge(before[g.group], g) if g.group in before else judge(g) for g in lags}


__all__ = ["ConsoleContext", "NotFound", "Views", "fix_command", "topology", "with_statuses"]
