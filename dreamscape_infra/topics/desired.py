"""topics.yaml -> the desired state, validated strictly and resolved for one environment.

`load_desired(path, env)` is pure apart from reading the file. It collects *every* problem
before raising one `ConfigError`, each problem located as `FILE:LINE: topics[7].config.x: ...`.
Config values are normalised to Kafka's string form here, once, so the planner compares
strings that mean the same thing only when they are equal. The file's structure (its models,
their validator and the JSON Schema) is `filemodel.py`; this module resolves what it declares.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path as FsPath
from typing import Any

from dreamscape_infra.errors import ConfigError
from dreamscape_infra.topics.configs import (
    TOPIC_CONFIGS,
    ConfigValueError,
    KafkaVersion,
    normalize_config_value,
    parse_duration_ms,
    parse_kafka_version,
)
from dreamscape_infra.topics.filemodel import (
    PrefixModel,
    TopicsFileModel,
    did_you_mean,
    validate,
)
from dreamscape_infra.topics.model import (
    DEFAULT_PRUNE_MAX_DELETES,
    DEFAULT_PRUNE_MIN_IDLE_MS,
    DesiredState,
    GroupSpec,
    PatternType,
    SchemaRef,
    ServiceSpec,
    TopicRef,
    TopicSpec,
)
from dreamscape_infra.yamlsource import Path, YamlDocument, YamlSyntaxError, format_path, parse_yaml

# The values moved to topics/model.py; importing them from here keeps working.
__all__ = [
    "DEFAULT_PRUNE_MAX_DELETES",
    "DEFAULT_PRUNE_MIN_IDLE_MS",
    "FALLBACK_PARTITIONS",
    "FALLBACK_REPLICATION",
    "MAX_TOPIC_NAME",
    "DesiredState",
    "GroupSpec",
    "PatternType",
    "ServiceSpec",
    "TopicRef",
    "TopicSpec",
    "load_desired",
    "read_topics_file",
]

_KAFKA_NAME_RE = re.compile(r"^[a-zA-Z0-9._-]+$")
_SEGMENT = r"[a-z][a-z0-9_-]*"
MAX_TOPIC_NAME = 249

FALLBACK_PARTITIONS = 3
FALLBACK_REPLICATION = 1


# --- loading --------------------------------------------------------------------------------


class _Problems:
    def __init__(self, source: str, doc: YamlDocument | None) -> None:
        self.source = source
        self.doc = doc
        self.items: list[str] = []
        self.kafka_version: KafkaVersion | None = None  # what config values are checked against

    def add(self, path: Path, message: str) -> None:
        line = self.doc.line_of(path) if self.doc is not None else None
        where = f"{self.source}:{line}" if line else self.source
        self.items.append(f"{where}: {format_path(path)}: {message}")


def _normalise_configs(raw: Mapping[str, Any], path: Path, problems: _Problems) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw.items():
        if key not in TOPIC_CONFIGS:
            problems.add(
                path, f"unknown topic config '{key}'{did_you_mean(key, list(TOPIC_CONFIGS))}"
            )
            continue
        try:
            out[key] = normalize_config_value(key, value, problems.kafka_version)
        except ConfigValueError as exc:
            problems.add((*path, key), str(exc))
    return out


def read_topics_file(path: str | FsPath) -> tuple[TopicsFileModel, YamlDocument]:
    """Read and structurally validate the file. Raises ConfigError with every problem."""
    source = str(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [f"{source}: file not found"],
            hint="pass --topics-file or set DREAMSCAPE_TOPICS_FILE",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{source}: cannot read: {exc.__class__.__name__}"]) from None
    try:
        doc = parse_yaml(text)
    except YamlSyntaxError as exc:
        where = f"{source}:{exc.line}" if exc.line else source
        raise ConfigError([f"{where}: {exc.message}"]) from None
    if doc.data is None:
        raise ConfigError([f"{source}: the file is empty"])
    if not isinstance(doc.data, dict):
        raise ConfigError([f"{source}:1: the top level must be a mapping"])
    model, found = validate(TopicsFileModel, doc.data)
    if model is None:
        problems = _Problems(source, doc)
        for problem in found:
            problems.add(problem.path, problem.message)
        raise ConfigError(problems.items)
    return model, doc


def load_desired(path: str | FsPath, environment: str | None = None) -> DesiredState:
    """Load topics.yaml and resolve it for `environment` (None: the base declarations).

    The one reader of topics.yaml: every command loads it through here.

    Guarantees: every TopicSpec has a valid, conventional, unique name in a declared domain,
    partitions and RF >= 1, only known configs in Kafka's string form that the Kafka version
    of `settings.kafka_version` accepts (unset: every supported version), and
    min.insync.replicas <= RF — in this and in every other declared environment.
    """
    model, doc = read_topics_file(path)
    problems = _Problems(str(path), doc)
    if environment is not None and environment not in model.environments:
        declared = ", ".join(model.environments) or "none"
        raise ConfigError(
            [f"--env/DREAMSCAPE_ENV: unknown environment '{environment}' (declared: {declared})"]
        )
    _check_names(model, problems)
    if model.settings.kafka_version is not None:
        try:
            problems.kafka_version = parse_kafka_version(model.settings.kafka_version)
        except ConfigValueError as exc:
            problems.add(("settings", "kafka_version"), str(exc))
    base_cfg = _normalise_configs(model.defaults.config, ("defaults", "config"), problems)
    topic_cfgs = [
        _normalise_configs(t.config, ("topics", i, "config"), problems)
        for i, t in enumerate(model.topics)
    ]
    env_cfgs: dict[str, tuple[dict[str, str], dict[str, dict[str, str]]]] = {}
    declared_topics = {t.name for t in model.topics}
    for env_name, env in model.environments.items():
        env_path: Path = ("environments", env_name)
        defaults_cfg = _normalise_configs(
            env.defaults.config, (*env_path, "defaults", "config"), problems
        )
        overrides: dict[str, dict[str, str]] = {}
        for topic_name, override in env.topics.items():
            if topic_name not in declared_topics:
                problems.add(
                    (*env_path, "topics", topic_name),
                    f"overrides undeclared topic '{topic_name}'"
                    f"{did_you_mean(topic_name, sorted(declared_topics))}",
                )
            overrides[topic_name] = _normalise_configs(
                override.config, (*env_path, "topics", topic_name, "config"), problems
            )
        env_cfgs[env_name] = (defaults_cfg, overrides)

    min_idle_ms = DEFAULT_PRUNE_MIN_IDLE_MS
    try:
        min_idle_ms = parse_duration_ms(str(model.settings.prune_min_idle))
        if min_idle_ms < 0:
            problems.add(("settings", "prune_min_idle"), "must not be negative")
    except ConfigValueError as exc:
        problems.add(("settings", "prune_min_idle"), str(exc))

    topic_limits = [
        _lag_limit(t.max_lag_seconds, ("topics", i, "max_lag_seconds"), problems)
        for i, t in enumerate(model.topics)
    ]
    group_limits = [
        _lag_limit(g.max_lag_seconds, ("consumer_groups", i, "max_lag_seconds"), problems)
        for i, g in enumerate(model.consumer_groups)
    ]
    resolved: dict[str | None, tuple[TopicSpec, ...]] = {}
    for overlay in (None, *model.environments):
        specs = _resolve(model, overlay, base_cfg, topic_cfgs, env_cfgs, problems)
        limits = {t.name: limit for t, limit in zip(model.topics, topic_limits, strict=True)}
        resolved[overlay] = tuple(replace(s, max_lag_seconds=limits.get(s.name)) for s in specs)

    services = _resolve_services(model, problems)
    _check_compatibility(model, problems)
    if problems.items:
        raise ConfigError(problems.items)
    topics = resolved[environment]
    return DesiredState(
        topics=topics,
        groups=tuple(
            GroupSpec(g.name, g.service, tuple(g.topics), limit)
            for g, limit in zip(model.consumer_groups, group_limits, strict=True)
        ),
        domains={name: d.owner for name, d in model.domains.items()},
        prefix=model.prefix,
        environment=environment,
        environments=tuple(model.environments),
        strict_configs=model.settings.strict_configs,
        prune_max_deletes=model.settings.prune_max_deletes,
        prune_min_idle_ms=min_idle_ms,
        source=str(path),
        services=services,
        topic_index={t.name: t for t in topics},
    )


def _lag_limit(value: str | int | None, path: Path, problems: _Problems) -> float | None:
    """A `max_lag_seconds` in seconds: a number of seconds or a duration ("30s", "5m")."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text) if text.isdigit() else parse_duration_ms(text) / 1000
    except ConfigValueError:
        problems.add(path, f"expected a duration such as 30s, 5m or 1h, or seconds (got {value!r})")
        return None
    if seconds <= 0:
        problems.add(path, f"must be more than 0 seconds (got {value!r})")
        return None
    return seconds


def _check_names(model: TopicsFileModel, problems: _Problems) -> None:
    prefix = model.prefix
    convention = re.compile(rf"^{re.escape(prefix)}({_SEGMENT})(\.{_SEGMENT}){{1,}}$")
    seen: dict[str, int] = {}
    collisions: dict[str, int] = {}
    for index, topic in enumerate(model.topics):
        path: Path = ("topics", index, "name")
        name = topic.name
        if name in (".", "..") or not name:
            problems.add(path, f"'{name}' is not a valid Kafka topic name")
            continue
        if len(name) > MAX_TOPIC_NAME:
            problems.add(path, f"name is {len(name)} characters; Kafka allows {MAX_TOPIC_NAME}")
        if not _KAFKA_NAME_RE.fullmatch(name):
            problems.add(
                path, f"'{name}' has characters Kafka forbids (allowed: a-z A-Z 0-9 . _ -)"
            )
            continue
        if name in seen:
            problems.add(path, f"duplicate topic '{name}' (also topics[{seen[name]}])")
            continue
        seen[name] = index
        metric = name.replace(".", "_")
        if metric in collisions:
            other = model.topics[collisions[metric]].name
            problems.add(
                path,
                f"'{name}' collides with '{other}' (topics[{collisions[metric]}]) once '.' "
                "becomes '_' in Kafka's metric names",
            )
        else:
            collisions[metric] = index
        match = convention.fullmatch(name)
        if match is None:
            problems.add(
                path,
                f"'{name}' breaks the convention {prefix}<domain>.<event>[.<sub-event>] "
                "(lower-case segments)",
            )
            continue
        domain = match.group(1)
        if domain not in model.domains:
            problems.add(
                path,
                f"domain '{domain}' is not declared under domains"
                f"{did_you_mean(domain, list(model.domains))}",
            )

    group_names: dict[str, int] = {}
    for index, group in enumerate(model.consumer_groups):
        gpath: Path = ("consumer_groups", index)
        expected = f"dreamscape-{group.service}-group"
        if group.name in group_names:
            problems.add((*gpath, "name"), f"duplicate consumer group '{group.name}'")
        group_names[group.name] = index
        if group.name != expected:
            problems.add(
                (*gpath, "name"),
                f"'{group.name}' breaks the convention dreamscape-<service>-group "
                f"(expected '{expected}' for service '{group.service}')",
            )
        for t_index, topic_name in enumerate(group.topics):
            if topic_name not in seen:
                problems.add(
                    (*gpath, "topics", t_index),
                    f"reads undeclared topic '{topic_name}'{did_you_mean(topic_name, list(seen))}",
                )


def _resolve(
    model: TopicsFileModel,
    env_name: str | None,
    base_cfg: dict[str, str],
    topic_cfgs: list[dict[str, str]],
    env_cfgs: dict[str, tuple[dict[str, str], dict[str, dict[str, str]]]],
    problems: _Problems,
) -> tuple[TopicSpec, ...]:
    env = model.environments[env_name] if env_name is not None else None
    env_defaults_cfg, env_overrides_cfg = env_cfgs.get(env_name or "", ({}, {}))
    specs: list[TopicSpec] = []
    for index, topic in enumerate(model.topics):
        override = env.topics.get(topic.name) if env is not None else None
        partitions = _first(
            override.partitions if override else None,
            topic.partitions,
            env.defaults.partitions if env else None,
            model.defaults.partitions,
            FALLBACK_PARTITIONS,
        )
        rf = _first(
            override.replication_factor if override else None,
            topic.replication_factor,
            env.defaults.replication_factor if env else None,
            model.defaults.replication_factor,
            FALLBACK_REPLICATION,
        )
        configs = {
            **base_cfg,
            **env_defaults_cfg,
            **topic_cfgs[index],
            **env_overrides_cfg.get(topic.name, {}),
        }
        min_isr = configs.get("min.insync.replicas")
        if min_isr is not None and min_isr.isdigit() and int(min_isr) > rf:
            where = f" in environment '{env_name}'" if env_name else ""
            problems.add(
                ("topics", index),
                f"min.insync.replicas ({min_isr}) is greater than the replication factor "
                f"({rf}){where}",
            )
        domain = topic.name[len(model.prefix) :].split(".", 1)[0]
        owner = topic.owner or (model.domains[domain].owner if domain in model.domains else "")
        spec = TopicSpec(
            name=topic.name,
            partitions=partitions,
            replication_factor=rf,
            configs=dict(sorted(configs.items())),
            domain=domain,
            owner=owner,
            keyed=topic.keyed,
            description=topic.description,
            event_type=topic.event_type,
            schema=_schema_ref(model, index, problems),
        )
        specs.append(spec)
    return tuple(sorted(specs, key=lambda s: s.name))


# The Schema Registry's compatibility levels (Confluent's names; Apicurio's ccompat takes them)
COMPATIBILITY_LEVELS = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)


def _schema_ref(model: TopicsFileModel, index: int, problems: _Problems) -> SchemaRef | None:
    topic = model.topics[index]
    if topic.schema is None:
        return None
    line = problems.doc.line_of(("topics", index, "schema")) if problems.doc else None
    return SchemaRef(
        path=topic.schema,
        declared_at=f"{problems.source}:{line}" if line else problems.source,
        compatibility=topic.compatibility or model.settings.schema_compatibility,
    )


def _check_compatibility(model: TopicsFileModel, problems: _Problems) -> None:
    """Known levels only; a topic's level needs a schema to apply to."""
    levels = list(COMPATIBILITY_LEVELS)
    if model.settings.schema_compatibility not in levels:
        value = model.settings.schema_compatibility
        problems.add(
            ("settings", "schema_compatibility"),
            f"unknown compatibility '{value}'{did_you_mean(value, levels)} "
            f"(expected one of {', '.join(levels)})",
        )
    for index, topic in enumerate(model.topics):
        if topic.compatibility is None:
            continue
        if topic.compatibility not in levels:
            problems.add(
                ("topics", index, "compatibility"),
                f"unknown compatibility '{topic.compatibility}'"
                f"{did_you_mean(topic.compatibility, levels)} "
                f"(expected one of {', '.join(levels)})",
            )
        elif topic.schema is None:
            problems.add(
                ("topics", index, "compatibility"),
                "has no effect without a `schema` for the topic",
            )


def _first(*values: int | None) -> int:
    for value in values:
        if value is not None:
            return value
    raise AssertionError("unreachable: the fallback is never None")


# --- services (ACLs) -------------------------------------------------------------------------

# Kafka principals are `Type:name`. Names: what SASL usernames and TLS subjects (CN=...,O=...)
# use; no whitespace, and never the wildcard, which would grant every user.
_PRINCIPAL_RE = re.compile(r"^User:[A-Za-z0-9._@=,+-]+$")
_SERVICE_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_GLOB_CHARS = frozenset("*?[")


def _resolve_services(model: TopicsFileModel, problems: _Problems) -> tuple[ServiceSpec, ...]:
    """Validate `services:` and expand its globs against the declared topics."""
    names = sorted({t.name for t in model.topics})
    groups = {g.service: g for g in model.consumer_groups}
    principals: dict[str, str] = {}
    specs: list[ServiceSpec] = []
    for name, service in model.services.items():
        spath: Path = ("services", name)
        if not _SERVICE_RE.fullmatch(name):
            problems.add(spath, f"'{name}' is not a service name (lower-case, digits and '-')")
        principal = service.principal if service.principal is not None else f"User:{name}"
        if not _PRINCIPAL_RE.fullmatch(principal):
            why = (
                "a wildcard principal would grant every user"
                if "*" in principal
                else "expected User:<name>, e.g. User:auth-service (no spaces)"
            )
            problems.add((*spath, "principal"), f"malformed principal '{principal}': {why}")
        elif principal in principals:
            problems.add(
                (*spath, "principal"),
                f"principal '{principal}' is also the principal of service "
                f"'{principals[principal]}'",
            )
        else:
            principals[principal] = name

        declared_group = groups.get(name)
        group = service.group
        if group is None and declared_group is not None:
            group = declared_group.name
        expected = f"dreamscape-{name}-group"
        if service.group is not None and service.group != expected:
            problems.add(
                (*spath, "group"),
                f"'{service.group}' breaks the convention dreamscape-<service>-group "
                f"(expected '{expected}' for service '{name}')",
            )
        produces = _expand(service.produces, (*spath, "produces"), names, problems)
        if service.consumes is not None:
            consumes = _expand(service.consumes, (*spath, "consumes"), names, problems)
        elif declared_group is not None and declared_group.name == group:
            consumes = tuple(TopicRef(t) for t in sorted(set(declared_group.topics)))
        else:
            consumes = ()
        if consumes and group is None:
            group = expected  # a consumer needs a group; the convention names it
        if service.retired:
            produces, consumes, group = (), (), None
        specs.append(ServiceSpec(name, principal, produces, consumes, group, service.retired))
    return tuple(specs)


def _expand(
    patterns: list[str | PrefixModel], path: Path, names: list[str], problems: _Problems
) -> tuple[TopicRef, ...]:
    """Names and globs become literal refs to declared topics; {prefix} one prefixed ref."""
    refs: set[TopicRef] = set()
    for index, pattern in enumerate(patterns):
        where: Path = (*path, index)
        if isinstance(pattern, PrefixModel):
            prefix = pattern.prefix
            if not prefix or not any(n.startswith(prefix) for n in names):
                problems.add((*where, "prefix"), f"prefix '{prefix}' matches no declared topic")
                continue
            refs.add(TopicRef(prefix, "prefixed"))
            continue
        if _GLOB_CHARS.isdisjoint(pattern):
            if pattern not in names:
                problems.add(where, f"undeclared topic '{pattern}'{did_you_mean(pattern, names)}")
                continue
            refs.add(TopicRef(pattern))
            continue
        matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not matched:
            problems.add(where, f"glob '{pattern}' matches no declared topic")
        refs.update(TopicRef(n) for n in matched)
    return tuple(sorted(refs))
