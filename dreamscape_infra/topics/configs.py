"""Every topic-level config of Apache Kafka 3.9 and 4.x, and how to write its values.

The key table was taken from `LogConfig.configDefCopy()` of the real 3.9.1, 4.0.0, 4.1.0,
4.2.0 and 4.3.1 jars, not from memory. Differences between those versions:

- 4.0 removed `message.downconversion.enable`, `message.format.version` and
  `message.timestamp.difference.max.ms` (a 4.x broker rejects them as unknown); they stay in
  the table, with `removed_in="4.0"`, so that a 3.9 cluster can still be managed.
- 4.1 raised the minimum of `segment.bytes` from 14 to 1 MiB (`min_by_version`).

Both are enforced against the Kafka version topics.yaml targets (`settings.kafka_version`);
a file that does not say must be valid on every supported version, so it gets the strictest
rules (no removed keys, the highest minimum). tests/test_topic_configs_kafka.py checks the
table against the DescribeConfigs and CreateTopics(validate_only) answers of real 3.9 and 4.x
brokers.
- 4.0 changed the default of `message.timestamp.after.max.ms` (not our concern: we only
  compare declared overrides).

`normalize_config_value` turns a YAML value into the string Kafka stores and `describe_configs`
returns, so a declared value compares equal with the broker's and the plan clears.
`configs_equal` compares two such strings by meaning (list order, whitespace, boolean case).
The module is pure: no I/O, no printing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

# (major, minor): Kafka's topic configs change only with minor releases.
KafkaVersion = tuple[int, int]
OLDEST_SUPPORTED: Final[KafkaVersion] = (3, 9)

ConfigType = Literal["long", "int", "double", "boolean", "string", "list", "class"]
ConfigUnit = Literal["ms", "bytes", "none"]

_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class TopicConfigKey:
    """What Kafka accepts for one topic config.

    `minimum`/`maximum` are the bounds of the oldest supported version (3.9, which has every
    key); where a later version is stricter, `min_by_version` records it (e.g. `segment.bytes`
    needs 1 MiB from 4.1). `allow_minus_one` admits -1 below `minimum` (retention.ms=-1 means
    no limit; gzip level -1 means the codec's default). `removed_in` is the first version that
    rejects the key as unknown. `normalize_config_value` enforces both for a Kafka version.
    """

    name: str
    type: ConfigType
    unit: ConfigUnit
    choices: tuple[str, ...] | None
    minimum: float | None
    maximum: float | None
    allow_minus_one: bool
    removed_in: KafkaVersion | None = None
    min_by_version: tuple[tuple[KafkaVersion, float], ...] = ()

    def removed_on(self, version: KafkaVersion | None) -> bool:
        """Refused as unknown by `version` (None: by some supported version)."""
        return self.removed_in is not None and (version is None or version >= self.removed_in)

    def minimum_on(self, version: KafkaVersion | None) -> float | None:
        """The lower bound on `version` (None: the highest of every supported version)."""
        low = self.minimum
        for since, raised in self.min_by_version:
            if version is None or version >= since:
                low = raised if low is None else max(low, raised)
        return low


class ConfigValueError(ValueError):
    """A declared value Kafka would refuse. The message says what is wrong, without location."""


# Every version `message.format.version` names in 3.9.1 (`MetadataVersion`); removed in 4.0.
_MESSAGE_FORMAT_VERSIONS: Final = (
    "0.8.0", "0.8.1", "0.8.2", "0.9.0",
    "0.10.0-IV0", "0.10.0-IV1", "0.10.1-IV0", "0.10.1-IV1", "0.10.1-IV2", "0.10.2-IV0",
    "0.11.0-IV0", "0.11.0-IV1", "0.11.0-IV2", "1.0-IV0", "1.1-IV0",
    "2.0-IV0", "2.0-IV1", "2.1-IV0", "2.1-IV1", "2.1-IV2", "2.2-IV0", "2.2-IV1",
    "2.3-IV0", "2.3-IV1", "2.4-IV0", "2.4-IV1", "2.5-IV0", "2.6-IV0",
    "2.7-IV0", "2.7-IV1", "2.7-IV2", "2.8-IV0", "2.8-IV1",
    "3.0-IV0", "3.0-IV1", "3.1-IV0", "3.2-IV0", "3.3-IV0", "3.3-IV1", "3.3-IV2", "3.3-IV3",
    "3.4-IV0", "3.5-IV0", "3.5-IV1", "3.5-IV2", "3.6-IV0", "3.6-IV1", "3.6-IV2",
    "3.7-IV0", "3.7-IV1", "3.7-IV2", "3.7-IV3", "3.7-IV4", "3.8-IV0", "3.9-IV0",
    "4.0-IV0", "4.0-IV1",
)  # fmt: skip


def _key(
    name: str,
    type_: ConfigType,
    unit: ConfigUnit = "none",
    *,
    choices: tuple[str, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_minus_one: bool = False,
    removed_in: KafkaVersion | None = None,
    min_by_version: tuple[tuple[KafkaVersion, float], ...] = (),
) -> TopicConfigKey:
    return TopicConfigKey(
        name=name,
        type=type_,
        unit=unit,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        allow_minus_one=allow_minus_one,
        removed_in=removed_in,
        min_by_version=min_by_version,
    )


_KEYS: Final = (
    _key("cleanup.policy", "list", choices=("compact", "delete")),
    _key("compression.gzip.level", "int", minimum=1, maximum=9, allow_minus_one=True),
    _key("compression.lz4.level", "int", minimum=1, maximum=17),
    _key(
        "compression.type",
        "string",
        choices=("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
    ),
    _key("compression.zstd.level", "int", minimum=-131072, maximum=22),
    _key("delete.retention.ms", "long", "ms", minimum=0),
    _key("file.delete.delay.ms", "long", "ms", minimum=0),
    _key("flush.messages", "long", minimum=1),
    _key("flush.ms", "long", "ms", minimum=0),
    _key("follower.replication.throttled.replicas", "list"),
    _key("index.interval.bytes", "int", "bytes", minimum=0),
    _key("leader.replication.throttled.replicas", "list"),
    # -2 means "use retention.bytes", -1 means no limit.
    _key("local.retention.bytes", "long", "bytes", minimum=-2),
    # -2 means "use retention.ms", -1 means no limit.
    _key("local.retention.ms", "long", "ms", minimum=-2),
    _key("max.compaction.lag.ms", "long", "ms", minimum=1),
    _key("max.message.bytes", "int", "bytes", minimum=0),
    _key("message.downconversion.enable", "boolean", removed_in=(4, 0)),
    _key("message.format.version", "string", removed_in=(4, 0)),
    _key("message.timestamp.after.max.ms", "long", "ms", minimum=0),
    _key("message.timestamp.before.max.ms", "long", "ms", minimum=0),
    _key("message.timestamp.difference.max.ms", "long", "ms", minimum=0, removed_in=(4, 0)),
    _key("message.timestamp.type", "string", choices=("CreateTime", "LogAppendTime")),
    _key("min.cleanable.dirty.ratio", "double", minimum=0, maximum=1),
    _key("min.compaction.lag.ms", "long", "ms", minimum=0),
    _key("min.insync.replicas", "int", minimum=1),
    _key("preallocate", "boolean"),
    _key("remote.log.copy.disable", "boolean"),
    _key("remote.log.delete.on.disable", "boolean"),
    _key("remote.storage.enable", "boolean"),
    # Kafka itself accepts any long here (every negative means no limit); we ask for -1.
    _key("retention.bytes", "long", "bytes", minimum=0, allow_minus_one=True),
    _key("retention.ms", "long", "ms", minimum=0, allow_minus_one=True),
    _key("segment.bytes", "int", "bytes", minimum=14, min_by_version=(((4, 1), 1024 * 1024),)),
    _key("segment.index.bytes", "int", "bytes", minimum=4),
    _key("segment.jitter.ms", "long", "ms", minimum=0),
    _key("segment.ms", "long", "ms", minimum=1),
    _key("unclean.leader.election.enable", "boolean"),
)

TOPIC_CONFIGS: Final[Mapping[str, TopicConfigKey]] = MappingProxyType({k.name: k for k in _KEYS})

_THROTTLED_REPLICAS = frozenset(
    {"leader.replication.throttled.replicas", "follower.replication.throttled.replicas"}
)

_DURATION_UNITS_MS: Final = {
    "ms": 1,
    "s": 1000,
    "m": 60 * 1000,
    "h": 60 * 60 * 1000,
    "d": 24 * 60 * 60 * 1000,
    "w": 7 * 24 * 60 * 60 * 1000,
}
_SIZE_UNITS: Final = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
# Java's Integer/Long.parseLong after ConfigDef trims: an optional sign and decimal digits.
_PLAIN_INT_RE: Final = re.compile(r"[+-]?[0-9]+")
_DURATION_RE: Final = re.compile(r"([0-9]+)\s*([a-zA-Z]+)")
_SIZE_RE: Final = re.compile(r"([0-9]+)\s*([a-zA-Z]+)")
# A decimal literal Java's Double.parseDouble accepts (no NaN/Infinity, no underscores).
_DOUBLE_RE: Final = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_VERSION_RE: Final = re.compile(r"[0-9]+(\.[0-9]+){1,3}(-IV[0-9]+)?")
_THROTTLED_PAIR_RE: Final = re.compile(r"[0-9]+:[0-9]+")

_DURATION_HELP: Final = "an integer number of milliseconds (e.g. 604800000 or 7d)"
_SIZE_HELP: Final = "an integer number of bytes (e.g. 1073741824 or 1GiB)"


def _show(raw: object) -> str:
    """A value as the user wrote it in YAML, for messages."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return "null"
    if isinstance(raw, str):
        return f"'{raw}'"
    return repr(raw)


def parse_duration_ms(text: str) -> int:
    """Milliseconds in `text`: a plain integer ("-1", "604800000") or one number with one unit.

    Units: ms, s, m, h, d, w (case-insensitive), e.g. "7d" -> 604800000, "500ms" -> 500.
    Only plain integers may be negative. Raises ConfigValueError otherwise.
    """
    stripped = text.strip()
    if _PLAIN_INT_RE.fullmatch(stripped):
        return int(stripped)
    match = _DURATION_RE.fullmatch(stripped)
    if match is not None:
        factor = _DURATION_UNITS_MS.get(match.group(2).lower())
        if factor is not None:
            return int(match.group(1)) * factor
    raise ConfigValueError(f"expected {_DURATION_HELP}, got {_show(text)}")


def parse_size_bytes(text: str) -> int:
    """Bytes in `text`: a plain integer ("100", "-1") or one number with one unit.

    Decimal units B, KB, MB, GB, TB (powers of 1000) and binary units KiB, MiB, GiB, TiB
    (powers of 1024), case-insensitive: "10KB" -> 10000, "1GiB" -> 1073741824.
    Only plain integers may be negative. Raises ConfigValueError otherwise.
    """
    stripped = text.strip()
    if _PLAIN_INT_RE.fullmatch(stripped):
        return int(stripped)
    match = _SIZE_RE.fullmatch(stripped)
    if match is not None:
        factor = _SIZE_UNITS.get(match.group(2).lower())
        if factor is not None:
            return int(match.group(1)) * factor
    raise ConfigValueError(f"expected {_SIZE_HELP}, got {_show(text)}")


def _fmt_bound(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


def _check_range(
    spec: TopicConfigKey, value: float, shown: str, version: KafkaVersion | None
) -> None:
    if spec.allow_minus_one and value == -1:
        return
    low, high = spec.minimum_on(version), spec.maximum
    if (low is None or value >= low) and (high is None or value <= high):
        return
    if low is not None and high is not None:
        wanted = f"between {_fmt_bound(low)} and {_fmt_bound(high)}"
    elif low is not None:
        wanted = f">= {_fmt_bound(low)}"
    elif high is not None:
        wanted = f"<= {_fmt_bound(high)}"
    else:  # unbounded: every value passed the check above
        return
    if spec.allow_minus_one:
        wanted = f"-1 or {wanted}"
    raise ConfigValueError(f"must be {wanted}{_raised_note(spec, version)}, got {shown}")


def _raised_note(spec: TopicConfigKey, version: KafkaVersion | None) -> str:
    """Which version set the minimum, when it is not the oldest's."""
    raised = [since for since, _ in spec.min_by_version if version is None or version >= since]
    if not raised:
        return ""
    since = format_kafka_version(max(raised))
    if version is None:
        return (
            f" (from Kafka {since}; settings.kafka_version names an older broker to allow "
            f"{_fmt_bound(spec.minimum or 0)})"
        )
    return f" (from Kafka {since})"


def _integer(spec: TopicConfigKey, raw: object, version: KafkaVersion | None) -> str:
    if spec.unit == "ms":
        wanted = _DURATION_HELP
    elif spec.unit == "bytes":
        wanted = _SIZE_HELP
    else:
        wanted = "an integer"
    bad = ConfigValueError(f"expected {wanted}, got {_show(raw)}")
    value: int
    # bool is an int in Python; `retention.ms: true` is a mistake, not 1.
    if isinstance(raw, bool):
        raise bad
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw) or not raw.is_integer():
            raise bad
        value = int(raw)
    elif isinstance(raw, str):
        stripped = raw.strip()
        try:
            if spec.unit == "ms":
                value = parse_duration_ms(stripped)
            elif spec.unit == "bytes":
                value = parse_size_bytes(stripped)
            elif _PLAIN_INT_RE.fullmatch(stripped):
                value = int(stripped)
            else:
                raise bad
        except ConfigValueError:
            raise bad from None
    else:
        raise bad
    java_min, java_max = (_INT_MIN, _INT_MAX) if spec.type == "int" else (_LONG_MIN, _LONG_MAX)
    if not java_min <= value <= java_max:
        raise ConfigValueError(
            f"must fit a Java {spec.type} ({java_min} to {java_max}), got {_show(raw)}"
        )
    _check_range(spec, value, str(value), version)
    return str(value)


def _double(spec: TopicConfigKey, raw: object, version: KafkaVersion | None) -> str:
    bad = ConfigValueError(f"expected a number (e.g. 0.5), got {_show(raw)}")
    if isinstance(raw, bool):
        raise bad
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str) and _DOUBLE_RE.fullmatch(raw.strip()):
        value = float(raw.strip())
    else:
        raise bad
    if not math.isfinite(value):
        raise bad
    _check_range(spec, value, _show(raw) if isinstance(raw, str) else repr(value), version)
    # repr matches Java's Double.toString for the values people write (0.5, 0.25, 1.0).
    return repr(value)


def _boolean(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower()
    raise ConfigValueError(f"expected true or false, got {_show(raw)}")


def _choice_error(choices: tuple[str, ...], item: object, *, listed: bool) -> ConfigValueError:
    suffix = " (comma-separated)" if listed else ""
    message = f"expected one of {', '.join(choices)}{suffix}, got {_show(item)}"
    if isinstance(item, str):
        near = [c for c in choices if c.lower() == item.strip().lower()]
        if near:
            message += f" (values are case-sensitive: did you mean '{near[0]}'?)"
    return ConfigValueError(message)


def _message_format_version(text: str) -> bool:
    """Kafka 3.9 accepts a listed version, or its release prefix ("3.0", "0.10.2", "2.8.1")."""
    if text in _MESSAGE_FORMAT_VERSIONS:
        return True
    if not _VERSION_RE.fullmatch(text) or "-IV" in text:
        return False
    parts = text.split(".")
    release = ".".join(parts[:3] if parts[0] == "0" else parts[:2])
    return any(v.split("-IV")[0] == release for v in _MESSAGE_FORMAT_VERSIONS)


def _string(spec: TopicConfigKey, raw: object) -> str:
    if isinstance(raw, str):
        text = raw.strip()
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        # `message.format.version: 3.0` arrives from YAML as a float.
        text = repr(raw) if isinstance(raw, float) else str(raw)
    else:
        raise ConfigValueError(f"expected a string, got {_show(raw)}")
    if spec.choices is not None and text not in spec.choices:
        raise _choice_error(spec.choices, raw if isinstance(raw, str) else text, listed=False)
    if spec.name == "message.format.version" and not _message_format_version(text):
        raise ConfigValueError(f"expected a Kafka version such as 3.0 or 2.8-IV1, got {_show(raw)}")
    return text


def _list_items(raw: object) -> list[str]:
    if isinstance(raw, str):
        stripped = raw.strip()
        return [] if not stripped else [part.strip() for part in stripped.split(",")]
    if isinstance(raw, list | tuple):
        items: list[str] = []
        for item in raw:
            if not isinstance(item, str):
                raise ConfigValueError(
                    f"list items must be strings, got {_show(item)} (quote it in YAML)"
                )
            items.append(item.strip())
        return items
    raise ConfigValueError(f"expected a comma-separated string or a list, got {_show(raw)}")


def _list(spec: TopicConfigKey, raw: object) -> str:
    items = _list_items(raw)
    if "" in items:
        raise ConfigValueError(f"list has an empty item, got {_show(raw)}")
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ConfigValueError(f"list names '{item}' twice, got {_show(raw)}")
        seen.add(item)
    if spec.choices is not None:
        for item in items:
            if item not in spec.choices:
                raise _choice_error(spec.choices, item, listed=True)
    if spec.name in _THROTTLED_REPLICAS and items != ["*"]:
        for item in items:
            if not _THROTTLED_PAIR_RE.fullmatch(item):
                raise ConfigValueError(
                    "expected '*' or a comma-separated list of partitionId:brokerId pairs "
                    f"(e.g. 0:101,1:102), got {_show(item)}"
                )
    # An empty cleanup.policy is accepted by every 3.9-4.x broker and means "never delete";
    # 4.2 documents it. It normalises to "", which is what describe_configs returns.
    return ",".join(items)


def _opaque(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, int | float):
        return str(raw)
    if isinstance(raw, list | tuple):
        return ",".join(_opaque(item) for item in raw)
    raise ConfigValueError(f"expected a scalar or a list, got {_show(raw)}")


def parse_kafka_version(text: str) -> KafkaVersion:
    """'3.9', '4.1' or '4.1.1' -> (major, minor). Raises ConfigValueError for anything else
    and for versions older than the oldest supported (3.9)."""
    match = re.fullmatch(r"([0-9]+)\.([0-9]+)(\.[0-9]+)?", text.strip())
    if match is None:
        raise ConfigValueError(
            f"expected a Kafka version such as '4.1' or '3.9', got {_show(text)}"
        )
    version = (int(match.group(1)), int(match.group(2)))
    if version < OLDEST_SUPPORTED:
        raise ConfigValueError(
            f"Kafka {format_kafka_version(version)} is not supported "
            f"(the oldest is {format_kafka_version(OLDEST_SUPPORTED)})"
        )
    return version


def format_kafka_version(version: KafkaVersion) -> str:
    return f"{version[0]}.{version[1]}"


def normalize_config_value(key: str, raw: object, version: KafkaVersion | None = None) -> str:
    """The string Kafka stores for `raw` (a value as YAML parsed it) under topic config `key`,
    for a broker of Kafka `version` (None: valid on every supported version).

    Guarantees: the result is what the broker would keep and `describe_configs` return, so it
    compares equal with `configs_equal`; human units ("7d", "1GiB") become plain integers;
    values Kafka would refuse (wrong type, out of range, not a choice) raise ConfigValueError
    with a message that names the expected form and the value given. A Python bool is never
    accepted as a number. An unknown `key` is not an error here (the caller checks
    TOPIC_CONFIGS); its value is only turned into a string. A key `version` no longer knows,
    or a value below `version`'s minimum, is refused like any other value the broker refuses.
    """
    if raw is None:
        raise ConfigValueError("expected a value, got null (remove the key to use the default)")
    spec = TOPIC_CONFIGS.get(key)
    if spec is None:
        return _opaque(raw)
    if spec.removed_in is not None and spec.removed_on(version):
        removed = format_kafka_version(spec.removed_in)
        if version is None:
            raise ConfigValueError(
                f"removed in Kafka {removed}; set settings.kafka_version to the older broker "
                "this file targets to use it"
            )
        raise ConfigValueError(
            f"removed in Kafka {removed}: a {format_kafka_version(version)} broker refuses it"
        )
    if spec.type in ("long", "int"):
        return _integer(spec, raw, version)
    if spec.type == "double":
        return _double(spec, raw, version)
    if spec.type == "boolean":
        return _boolean(raw)
    if spec.type == "list":
        return _list(spec, raw)
    return _string(spec, raw)


def _parse_java_int(text: str) -> int | None:
    stripped = text.strip()
    return int(stripped) if _PLAIN_INT_RE.fullmatch(stripped) else None


def _parse_java_double(text: str) -> float | None:
    stripped = text.strip()
    return float(stripped) if _DOUBLE_RE.fullmatch(stripped) else None


def configs_equal(key: str, a: str | None, b: str | None) -> bool:
    """Whether two Kafka string values of topic config `key` mean the same.

    None (not set) equals only None. Surrounding whitespace never matters. By type: booleans
    ignore case; integers compare by value ("+5" == "05" == "5"); doubles by value
    ("0.5" == "0.50"); lists ignore order, spaces and repeats ("compact, delete" ==
    "delete,compact"). Strings (and unknown keys) compare exactly after stripping, since
    Kafka's choices are case-sensitive. A value that does not parse as its type compares as text.
    """
    if a is None or b is None:
        return a is None and b is None
    left, right = a.strip(), b.strip()
    if left == right:
        return True
    spec = TOPIC_CONFIGS.get(key)
    if spec is None:
        return False
    if spec.type == "boolean":
        return left.lower() == right.lower()
    if spec.type in ("long", "int"):
        x, y = _parse_java_int(left), _parse_java_int(right)
        return x is not None and x == y
    if spec.type == "double":
        p, q = _parse_java_double(left), _parse_java_double(right)
        return p is not None and p == q
    if spec.type == "list":
        return {s.strip() for s in left.split(",") if s.strip()} == {
            s.strip() for s in right.split(",") if s.strip()
        }
    return False
