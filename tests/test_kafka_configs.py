"""Pure tests for value normalisation and comparison (no broker needed).

The key table itself is checked against real 3.9 and 4.x brokers in
tests/test_topic_configs_kafka.py, not against a copy of it written out here. Values are
normalised for Kafka 3.9 here (the version that knows every key) unless a test says otherwise.
"""

from __future__ import annotations

import pytest

from dreamscape_infra.topics.configs import (
    TOPIC_CONFIGS,
    ConfigValueError,
    KafkaVersion,
    configs_equal,
    normalize_config_value,
    parse_duration_ms,
    parse_kafka_version,
    parse_size_bytes,
)

KAFKA_3_9: KafkaVersion = (3, 9)

MS = 1
SECOND = 1000 * MS
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


# --------------------------------------------------------------------------- human units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", 7 * DAY),
        ("7D", 7 * DAY),
        ("500ms", 500),
        ("12h", 12 * HOUR),
        ("30m", 30 * MINUTE),
        ("45s", 45 * SECOND),
        ("1w", 7 * DAY),
        ("2 h", 2 * HOUR),
        (" 3d ", 3 * DAY),
        ("0s", 0),
        ("604800000", 604800000),
        ("-1", -1),
        ("+5", 5),
        ("007", 7),
    ],
)
def test_parse_duration_ms(text: str, expected: int) -> None:
    assert parse_duration_ms(text) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "7 days", "1.5h", "7y", "d", "-1d", "1h30m", "1e3", "0x10", "7_000"]
)
def test_parse_duration_ms_rejects(text: str) -> None:
    with pytest.raises(ConfigValueError, match="integer number of milliseconds"):
        parse_duration_ms(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1GiB", 1073741824),
        ("512MiB", 512 * 1024 * 1024),
        ("10KB", 10000),
        ("1GB", 10**9),
        ("2MB", 2 * 10**6),
        ("1TB", 10**12),
        ("1TiB", 1024**4),
        ("4KiB", 4096),
        ("1gib", 1073741824),
        ("64 KiB", 65536),
        ("100B", 100),
        ("100", 100),
        ("-1", -1),
    ],
)
def test_parse_size_bytes(text: str, expected: int) -> None:
    assert parse_size_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "big", "1.5GiB", "1G", "1K", "10 kilobytes", "-1GiB", "1e9"])
def test_parse_size_bytes_rejects(text: str) -> None:
    with pytest.raises(ConfigValueError, match="integer number of bytes"):
        parse_size_bytes(text)


# --------------------------------------------------------------------------- normalisation: good


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        # integers: YAML ints, integral floats, digit strings, human units
        ("retention.ms", 604800000, "604800000"),
        ("retention.ms", "7d", "604800000"),
        ("retention.ms", "12h", "43200000"),
        ("retention.ms", -1, "-1"),
        ("retention.ms", "-1", "-1"),
        ("retention.ms", 0, "0"),
        ("retention.ms", 1e3, "1000"),
        ("retention.ms", " 86400000 ", "86400000"),
        ("retention.ms", "+5", "5"),
        ("delete.retention.ms", "1d", "86400000"),
        ("segment.ms", "1w", "604800000"),
        ("segment.jitter.ms", "30m", "1800000"),
        ("min.compaction.lag.ms", "45s", "45000"),
        ("max.compaction.lag.ms", "500ms", "500"),
        ("message.timestamp.after.max.ms", "1h", "3600000"),
        ("message.timestamp.before.max.ms", 9223372036854775807, "9223372036854775807"),
        ("local.retention.ms", -2, "-2"),
        ("local.retention.bytes", "-2", "-2"),
        ("local.retention.bytes", "10GiB", "10737418240"),
        ("retention.bytes", "1GiB", "1073741824"),
        ("retention.bytes", -1, "-1"),
        ("retention.bytes", "1TB", "1000000000000"),
        ("segment.bytes", "512MiB", "536870912"),
        ("segment.bytes", "1GiB", "1073741824"),
        ("segment.bytes", 14, "14"),
        ("segment.index.bytes", "10MiB", "10485760"),
        ("max.message.bytes", "1MB", "1000000"),
        ("max.message.bytes", 1048588, "1048588"),
        ("index.interval.bytes", "4KiB", "4096"),
        ("flush.messages", 1, "1"),
        ("flush.messages", "10000", "10000"),
        ("flush.ms", "1s", "1000"),
        ("min.insync.replicas", 2, "2"),
        ("min.insync.replicas", "2", "2"),
        ("min.insync.replicas", 2.0, "2"),
        ("compression.gzip.level", -1, "-1"),
        ("compression.gzip.level", 9, "9"),
        ("compression.lz4.level", 17, "17"),
        ("compression.zstd.level", -131072, "-131072"),
        ("compression.zstd.level", "22", "22"),
        # doubles
        ("min.cleanable.dirty.ratio", 0.5, "0.5"),
        ("min.cleanable.dirty.ratio", "0.50", "0.5"),
        ("min.cleanable.dirty.ratio", 0, "0.0"),
        ("min.cleanable.dirty.ratio", 1, "1.0"),
        ("min.cleanable.dirty.ratio", "1e-1", "0.1"),
        ("min.cleanable.dirty.ratio", " .25 ", "0.25"),
        # booleans
        ("preallocate", True, "true"),
        ("preallocate", False, "false"),
        ("unclean.leader.election.enable", "TRUE", "true"),
        ("remote.storage.enable", " False ", "false"),
        ("remote.log.copy.disable", "true", "true"),
        ("remote.log.delete.on.disable", False, "false"),
        ("message.downconversion.enable", True, "true"),
        # strings with choices
        ("compression.type", "zstd", "zstd"),
        ("compression.type", " producer ", "producer"),
        ("compression.type", "uncompressed", "uncompressed"),
        ("message.timestamp.type", "LogAppendTime", "LogAppendTime"),
        ("message.timestamp.type", "CreateTime", "CreateTime"),
        ("message.format.version", "3.0-IV1", "3.0-IV1"),
        ("message.format.version", "3.0", "3.0"),
        ("message.format.version", 2.8, "2.8"),
        ("message.format.version", "0.10.2", "0.10.2"),
        ("message.format.version", "2.8.1", "2.8.1"),
        # lists
        ("cleanup.policy", "delete", "delete"),
        ("cleanup.policy", "compact,delete", "compact,delete"),
        ("cleanup.policy", "delete, compact", "delete,compact"),
        ("cleanup.policy", ["compact", "delete"], "compact,delete"),
        ("cleanup.policy", [" delete "], "delete"),
        ("cleanup.policy", ("compact",), "compact"),
        ("cleanup.policy", "", ""),
        ("cleanup.policy", [], ""),
        ("leader.replication.throttled.replicas", "*", "*"),
        ("leader.replication.throttled.replicas", "0:101, 1:102", "0:101,1:102"),
        ("follower.replication.throttled.replicas", ["0:101", "1:102"], "0:101,1:102"),
        ("follower.replication.throttled.replicas", "", ""),
    ],
)
def test_normalize_good_values(key: str, raw: object, expected: str) -> None:
    assert normalize_config_value(key, raw, KAFKA_3_9) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("x", "x"), (" x ", "x"), (5, "5"), (True, "true"), (["a", "b"], "a,b"), (0.5, "0.5")],
)
def test_unknown_key_is_only_stringified(raw: object, expected: str) -> None:
    assert normalize_config_value("retention.msx", raw) == expected


@pytest.mark.parametrize("version", [None, KAFKA_3_9, (4, 0), (4, 1)], ids=str)
def test_every_numeric_key_accepts_its_bounds_and_is_idempotent(
    version: KafkaVersion | None,
) -> None:
    for name, spec in TOPIC_CONFIGS.items():
        if spec.type not in ("long", "int", "double") or spec.removed_on(version):
            continue
        for bound in (spec.minimum_on(version), spec.maximum):
            if bound is None:
                continue
            raw = str(int(bound)) if spec.type != "double" else str(float(bound))
            value = normalize_config_value(name, raw, version)
            assert normalize_config_value(name, value, version) == value, name
            assert configs_equal(name, value, raw), name


# --------------------------------------------------------------------------- normalisation: bad


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        (
            "retention.ms",
            "abc",
            "expected an integer number of milliseconds (e.g. 604800000 or 7d), got 'abc'",
        ),
        (
            "retention.ms",
            True,
            "expected an integer number of milliseconds (e.g. 604800000 or 7d), got true",
        ),
        ("retention.ms", 1.5, "got 1.5"),
        ("retention.ms", float("inf"), "got inf"),
        ("retention.ms", "7 days", "got '7 days'"),
        ("retention.ms", "1.5h", "got '1.5h'"),
        ("retention.ms", [1], "got [1]"),
        ("retention.ms", {"d": 7}, "got {'d': 7}"),
        ("retention.ms", -2, "must be -1 or >= 0, got -2"),
        ("retention.ms", "2d3h", "milliseconds"),
        ("segment.ms", 0, "must be >= 1, got 0"),
        ("max.compaction.lag.ms", "0s", "must be >= 1, got 0"),
        ("delete.retention.ms", -1, "must be >= 0, got -1"),
        ("local.retention.ms", -3, "must be >= -2, got -3"),
        ("min.insync.replicas", 0, "must be >= 1, got 0"),
        ("min.insync.replicas", False, "expected an integer, got false"),
        ("min.insync.replicas", "2h", "expected an integer, got '2h'"),
        ("min.insync.replicas", "two", "expected an integer, got 'two'"),
        ("min.insync.replicas", 2**31, "must fit a Java int"),
        ("flush.messages", 0, "must be >= 1, got 0"),
        ("retention.ms", 2**63, "must fit a Java long"),
        ("segment.bytes", "2GiB", "must fit a Java int"),
        ("segment.bytes", 13, "must be >= 14, got 13"),
        ("segment.bytes", "1 gigabyte", "expected an integer number of bytes (e.g. 1073741824"),
        ("segment.index.bytes", 3, "must be >= 4, got 3"),
        ("max.message.bytes", -1, "must be >= 0, got -1"),
        ("retention.bytes", -5, "must be -1 or >= 0, got -5"),
        ("retention.bytes", "lots", "expected an integer number of bytes"),
        ("compression.gzip.level", 0, "must be -1 or between 1 and 9, got 0"),
        ("compression.gzip.level", 10, "must be -1 or between 1 and 9, got 10"),
        ("compression.lz4.level", 18, "must be between 1 and 17, got 18"),
        ("compression.lz4.level", -1, "must be between 1 and 17, got -1"),
        ("compression.zstd.level", 23, "must be between -131072 and 22, got 23"),
        ("min.cleanable.dirty.ratio", 1.5, "must be between 0 and 1, got 1.5"),
        ("min.cleanable.dirty.ratio", "-0.1", "must be between 0 and 1, got '-0.1'"),
        ("min.cleanable.dirty.ratio", "half", "expected a number (e.g. 0.5), got 'half'"),
        ("min.cleanable.dirty.ratio", "NaN", "got 'NaN'"),
        ("min.cleanable.dirty.ratio", float("nan"), "expected a number"),
        ("min.cleanable.dirty.ratio", True, "expected a number (e.g. 0.5), got true"),
        ("preallocate", "yes", "expected true or false, got 'yes'"),
        ("preallocate", 1, "expected true or false, got 1"),
        ("preallocate", "", "expected true or false, got ''"),
        ("unclean.leader.election.enable", "on", "expected true or false, got 'on'"),
        (
            "cleanup.policy",
            "sometimes",
            "expected one of compact, delete (comma-separated), got 'sometimes'",
        ),
        ("cleanup.policy", ["compact", "forever"], "got 'forever'"),
        ("cleanup.policy", "Delete", "did you mean 'delete'?"),
        ("cleanup.policy", "compact,", "list has an empty item"),
        ("cleanup.policy", "delete,delete", "list names 'delete' twice"),
        ("cleanup.policy", ["compact", 1], "list items must be strings, got 1"),
        ("cleanup.policy", True, "expected a comma-separated string or a list, got true"),
        (
            "compression.type",
            "none",
            "expected one of uncompressed, zstd, lz4, snappy, gzip, producer, got 'none'",
        ),
        ("compression.type", "GZIP", "values are case-sensitive: did you mean 'gzip'?"),
        ("compression.type", True, "expected a string, got true"),
        ("message.timestamp.type", "createtime", "did you mean 'CreateTime'?"),
        ("message.timestamp.type", "BrokerTime", "expected one of CreateTime, LogAppendTime"),
        ("message.format.version", "foo", "expected a Kafka version such as 3.0"),
        ("message.format.version", 3, "got 3"),
        ("message.format.version", "3.0-IV9", "got '3.0-IV9'"),
        ("message.format.version", "9.9", "got '9.9'"),
        ("leader.replication.throttled.replicas", "0:1,*", "got '*'"),
        ("leader.replication.throttled.replicas", "a:b", "partitionId:brokerId pairs"),
        ("follower.replication.throttled.replicas", [61], "quote it in YAML"),
        ("retention.ms", None, "expected a value, got null"),
        ("compression.type", None, "got null"),
    ],
)
def test_normalize_rejects(key: str, raw: object, message: str) -> None:
    with pytest.raises(ConfigValueError) as caught:
        normalize_config_value(key, raw, KAFKA_3_9)
    assert message in str(caught.value)
    assert not str(caught.value).startswith(key)  # the caller adds the location


# --------------------------------------------------------------------------- Kafka versions


@pytest.mark.parametrize(
    ("version", "accepted"),
    [(None, False), (KAFKA_3_9, True), ((4, 0), True), ((4, 1), False), ((4, 3), False)],
    ids=str,
)
def test_segment_bytes_1000_only_where_the_broker_takes_it(
    version: KafkaVersion | None, accepted: bool
) -> None:
    # Kafka 4.1 raised the minimum from 14 to 1 MiB: a 4.1 broker refuses 1000.
    if accepted:
        assert normalize_config_value("segment.bytes", 1000, version) == "1000"
    else:
        with pytest.raises(ConfigValueError, match="must be >= 1048576"):
            normalize_config_value("segment.bytes", 1000, version)


def test_without_a_version_the_message_says_how_to_allow_the_older_minimum() -> None:
    with pytest.raises(ConfigValueError) as caught:
        normalize_config_value("segment.bytes", "1000")
    assert "from Kafka 4.1" in str(caught.value)
    assert "settings.kafka_version" in str(caught.value)


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (None, "removed in Kafka 4.0; set settings.kafka_version"),
        ((4, 0), "removed in Kafka 4.0: a 4.0 broker refuses it"),
        ((4, 1), "removed in Kafka 4.0: a 4.1 broker refuses it"),
    ],
    ids=str,
)
def test_keys_removed_in_4_0_are_refused_unless_the_file_targets_3_9(
    version: KafkaVersion | None, message: str
) -> None:
    with pytest.raises(ConfigValueError, match=message):
        normalize_config_value("message.format.version", "3.0", version)
    assert normalize_config_value("message.format.version", "3.0", KAFKA_3_9) == "3.0"


@pytest.mark.parametrize(
    ("text", "expected"), [("3.9", (3, 9)), ("4.1", (4, 1)), (" 4.1.1 ", (4, 1)), ("4.10", (4, 10))]
)
def test_parse_kafka_version(text: str, expected: KafkaVersion) -> None:
    assert parse_kafka_version(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("4", "expected a Kafka version"), ("latest", "expected a Kafka version"), ("3.8", "oldest")],
)
def test_parse_kafka_version_rejects(text: str, message: str) -> None:
    with pytest.raises(ConfigValueError, match=message):
        parse_kafka_version(text)


# --------------------------------------------------------------------------- configs_equal


@pytest.mark.parametrize(
    ("key", "a", "b"),
    [
        ("cleanup.policy", "compact,delete", "delete,compact"),
        ("cleanup.policy", "compact, delete", "compact,delete"),
        ("cleanup.policy", " delete ", "delete"),
        ("cleanup.policy", "delete,delete", "delete"),
        ("cleanup.policy", "", ""),
        ("leader.replication.throttled.replicas", "0:1,1:2", "1:2, 0:1"),
        ("preallocate", "TRUE", "true"),
        ("unclean.leader.election.enable", "False", "false"),
        ("retention.ms", "604800000", " 604800000"),
        ("retention.ms", "+5", "5"),
        ("retention.ms", "007", "7"),
        ("segment.bytes", "1073741824", "1073741824"),
        ("min.cleanable.dirty.ratio", "0.5", "0.50"),
        ("min.cleanable.dirty.ratio", "1", "1.0"),
        ("min.cleanable.dirty.ratio", "1e-1", "0.1"),
        ("compression.type", "gzip", " gzip"),
        ("retention.msx", "abc", "abc"),
        ("retention.ms", None, None),
    ],
)
def test_configs_equal(key: str, a: str | None, b: str | None) -> None:
    assert configs_equal(key, a, b)
    assert configs_equal(key, b, a)


@pytest.mark.parametrize(
    ("key", "a", "b"),
    [
        ("cleanup.policy", "compact", "compact,delete"),
        ("cleanup.policy", "delete", ""),
        ("preallocate", "true", "false"),
        ("preallocate", "true", "yes"),
        ("retention.ms", "604800000", "86400000"),
        ("retention.ms", "-1", "1"),
        ("retention.ms", "7d", "604800000"),  # configs_equal takes Kafka strings, not YAML
        ("retention.ms", "abc", "ABC"),
        ("min.cleanable.dirty.ratio", "0.5", "0.25"),
        ("compression.type", "gzip", "GZIP"),
        ("message.timestamp.type", "CreateTime", "LogAppendTime"),
        ("message.format.version", "3.0", "3.0-IV1"),
        ("retention.msx", "a", "A"),
        ("retention.ms", "604800000", None),
        ("retention.ms", None, "604800000"),
        ("cleanup.policy", "", None),
    ],
)
def test_configs_differ(key: str, a: str | None, b: str | None) -> None:
    assert not configs_equal(key, a, b)
    assert not configs_equal(key, b, a)


@pytest.mark.parametrize(
    ("key", "declared", "from_broker"),
    [
        ("retention.ms", "7d", "604800000"),
        ("retention.bytes", "1GiB", "1073741824"),
        ("cleanup.policy", ["delete", "compact"], "compact,delete"),
        ("preallocate", True, "true"),
        ("min.cleanable.dirty.ratio", 0.5, "0.5"),
        ("min.insync.replicas", 2, "2"),
        ("compression.type", "lz4", "lz4"),
    ],
)
def test_declared_values_match_what_the_broker_describes(
    key: str, declared: object, from_broker: str
) -> None:
    assert configs_equal(key, normalize_config_value(key, declared), from_broker)
