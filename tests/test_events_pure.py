"""Pure parts of the events capability: positions, topic selection, filters, decoding and the
JSON Lines replay form, the bounded read loop (over the fake reader) and the validation tally."""

from __future__ import annotations

import base64
import json

import pytest

from dreamscape_infra.errors import EnvironmentFailure, ExitCode, UsageError
from dreamscape_infra.events.decode import decode_value, json_line, replay_record
from dreamscape_infra.events.model import Batch, Message, Watermarks
from dreamscape_infra.events.position import (
    Position,
    ReadPlan,
    parse_since,
    plan_read,
    position_from_options,
)
from dreamscape_infra.events.read import read_batches
from dreamscape_infra.events.schema import EnvelopeChecker
from dreamscape_infra.events.selection import (
    MessageFilter,
    check_declared,
    resolve_topics,
    select_partitions,
)
from dreamscape_infra.events.validate import ValidationTally
from tests.events_support import FakeReader, encoded, event

NOW = 1_705_314_600_000  # 2024-01-15T10:30:00Z
DECLARED = ("dreamscape.user.created", "dreamscape.user.updated", "dreamscape.payment.completed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10m", NOW - 600_000),
        ("30s", NOW - 30_000),
        ("500ms", NOW - 500),
        ("2h", NOW - 7_200_000),
        ("7d", NOW - 604_800_000),
        ("1w", NOW - 604_800_000),
        ("1.5h", NOW - 5_400_000),
        ("2024-01-15T10:30:00Z", NOW),
        ("2024-01-15T10:30:00.000Z", NOW),
        ("2024-01-15T12:30:00+02:00", NOW),
        ("2024-01-15T10:30:00", NOW),
        ("2024-01-15", NOW - 37_800_000),
    ],
)
def test_parse_since(text: str, expected: int) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "10 minutes", "-5m", "", "2024-13-01", "10x"])
def test_parse_since_refuses_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_since(text, NOW)
    assert info.value.exit_code == ExitCode.USAGE
    assert "30s, 10m, 2h, 7d" in info.value.message
    assert "2024-01-15T10:30:00Z" in info.value.message


def test_positions_are_exclusive() -> None:
    with pytest.raises(UsageError, match="--from-beginning and --offset cannot be combined"):
        position_from_options(from_beginning=True, since=None, offset=3, now_ms=NOW)
    assert position_from_options(from_beginning=False, since=None, offset=None, now_ms=NOW) == (
        Position("end")
    )
    assert position_from_options(
        from_beginning=False, since=None, offset=None, now_ms=NOW, default="beginning"
    ) == Position("beginning")


def test_plan_read_clamps_and_stops_at_the_high_marks() -> None:
    a, b = ("t", 0), ("t", 1)
    marks = {a: Watermarks(5, 20), b: Watermarks(0, 0)}
    assert plan_read([a, b], marks, Position("beginning")).starts == {a: 5, b: 0}
    assert plan_read([a, b], marks, Position("end")).starts == {a: 20, b: 0}
    assert plan_read([a, b], marks, Position("offset", 2)).starts == {a: 5, b: 0}
    assert plan_read([a, b], marks, Position("offset", 12)).starts == {a: 12, b: 0}
    assert plan_read([a, b], marks, Position("offset", 99)).starts == {a: 20, b: 0}
    assert plan_read([a, b], marks, Position("offset", -3)).starts == {a: 17, b: 0}
    plan = plan_read([a, b], marks, Position("since", 1), {a: 9, b: None})
    assert plan.starts == {a: 9, b: 0}
    assert plan.stops == {a: 20, b: 0}
    assert plan.total == 11
    assert plan.pending() == [a]


def test_resolve_topics_names_globs_and_unknown_names() -> None:
    existing = {*DECLARED, "dreamscape.payment.failed", "legacy.orders", "__consumer_offsets"}
    assert resolve_topics(["dreamscape.payment.*"], DECLARED, existing) == [
        "dreamscape.payment.completed",
        "dreamscape.payment.failed",
    ]
    assert resolve_topics(["legacy.orders", "legacy.orders"], DECLARED, existing) == [
        "legacy.orders"
    ]
    assert resolve_topics(["*"], DECLARED, existing)[0] != "__consumer_offsets"
    with pytest.raises(UsageError) as info:
        resolve_topics(["dreamscape.user.crated"], DECLARED, existing)
    assert info.value.message.startswith(
        "unknown topic 'dreamscape.user.crated' (nearest declared:"
    )
    assert "dreamscape.user.created" in info.value.message
    with pytest.raises(UsageError, match=r"no topic matches 'dreamscape\.voyage\.\*'"):
        resolve_topics(["dreamscape.voyage.*"], DECLARED, existing)
    with pytest.raises(EnvironmentFailure, match="declared but does not exist"):
        resolve_topics(
            ["dreamscape.user.updated"], DECLARED, existing - {"dreamscape.user.updated"}
        )


def test_check_declared_names_the_nearest() -> None:
    check_declared("dreamscape.user.created", DECLARED)
    with pytest.raises(UsageError, match=r"undeclared topic 'dreamscape\.usr\.created'"):
        check_declared("dreamscape.usr.created", DECLARED)


def test_select_partitions() -> None:
    counts = {"a": 3, "b": 1}
    assert select_partitions(["a", "b"], counts, None) == [("a", 0), ("a", 1), ("a", 2), ("b", 0)]
    assert select_partitions(["a", "b"], counts, 2) == [("a", 2)]
    with pytest.raises(UsageError, match="--partition 5"):
        select_partitions(["a", "b"], counts, 5)


def _msg(value: bytes | None, key: bytes | None = None, offset: int = 0) -> Message:
    return Message("dreamscape.user.created", 0, offset, NOW, key, value)


def test_filters() -> None:
    good = _msg(encoded(event(payload={"email": "a@b.c"})), b"user-1")
    decoded = decode_value(good.value)
    assert MessageFilter(key="user-1").matches(good, decoded)
    assert not MessageFilter(key="user-2").matches(good, decoded)
    assert MessageFilter(event_type="user.created").matches(good, decoded)
    assert MessageFilter(event_type="user.*").matches(good, decoded)
    assert not MessageFilter(event_type="user.updated").matches(good, decoded)
    assert MessageFilter(grep="a@b.c").matches(good, decoded)
    assert MessageFilter(grep="user-1").matches(good, decoded)  # the key counts too
    assert not MessageFilter(grep="nope").matches(good, decoded)
    text = _msg(b"not json")
    assert not MessageFilter(event_type="user.created").matches(text, decode_value(text.value))
    assert MessageFilter(grep="not").matches(text, decode_value(text.value))


def test_decode_never_raises() -> None:
    assert decode_value(None).encoding == "null"
    assert decode_value(b"not json").encoding == "text"
    assert decode_value(b'{"a":NaN}').encoding == "text"  # NaN is not JSON
    raw = b"\xff\xfe\x00binary"
    decoded = decode_value(raw)
    assert decoded.encoding == "base64"
    assert base64.b64decode(decoded.data) == raw
    assert decode_value(b"[1,2]").encoding == "json"
    assert decode_value(b' {"a": 1}\n').data == {"a": 1}  # surrounding whitespace is JSON
    assert decode_value(b'{"a": 1} trailing').encoding == "text"
    assert decode_value(b"  ").encoding == "text"
    assert decode_value(b"[1,2]").event is None


@pytest.mark.parametrize(
    "value",
    [
        encoded(event()),
        b'{ "spaced" : 1.0E2, "\\u00e9": "x" }',  # not compact: replayed from value_base64
        '{"name":"José"}'.encode(),
        b"not json",
        b"\xff\x00\x01",
        None,
        b"",
        b'"just a string"',
    ],
)
def test_json_line_replays_byte_for_byte(value: bytes | None) -> None:
    headers = (("trace", b"abc"), ("bin", b"\xff"), ("none", None), ("trace", b"dup"))
    original = Message("src.topic", 2, 41, NOW, b"\xfe-key", value, headers)
    line = json.dumps(json_line(original))
    again = replay_record(line, "stdin:1", "dst.topic")
    assert again.topic == "dst.topic"
    assert again.partition == 2
    assert again.key == original.key
    assert again.value == original.value
    assert again.headers == headers


def test_json_line_shape() -> None:
    doc = json_line(_msg(encoded(event()), b"user-1", offset=7))
    assert doc["timestamp"] == "2024-01-15T10:30:00.000Z"
    assert doc["key"] == "user-1"
    assert doc["key_encoding"] == "text"
    assert doc["value_encoding"] == "json"
    assert doc["value"]["eventType"] == "user.created"
    assert "value_base64" not in doc  # compact JSON replays exactly without it


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{nope", "stdin:3: invalid JSON at line 1 column 2"),
        ("[1]", "stdin:3: expected a JSON object"),
        ('{"value": 1}', "stdin:3: no value_encoding"),
        ('{"value": 1, "value_encoding": "hex"}', "unknown encoding 'hex'"),
        ('{"value": "%%", "value_encoding": "base64"}', "invalid base64"),
        ('{"value": 1, "value_encoding": "text"}', "a text value must be a string"),
        ('{"value": 1, "value_encoding": "json", "partition": -1}', "partition must be"),
        ('{"value": 1, "value_encoding": "json", "headers": [1]}', "headers[0]"),
    ],
)
def test_replay_refuses_bad_lines(line: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        replay_record(line, "stdin:3", "t")
    assert message in info.value.message


def _reader(count: int, partitions: int = 2) -> FakeReader:
    reader = FakeReader(batch_limit=3)
    for i in range(count):
        reader.add("t", i % partitions, encoded(event(eventType="x")))
    return reader


def test_bounded_read_stops_at_the_marks_of_the_start() -> None:
    reader = _reader(10)
    marks = reader.watermarks([("t", 0), ("t", 1)])
    plan = plan_read([("t", 0), ("t", 1)], marks, Position("beginning"))
    # Producers keep writing while we read: those messages are not part of a bounded read.
    reader.arrivals = [Message("t", 0, 0, NOW, None, b"late")] * 5
    seen = [m for batch in read_batches(reader, plan) for m in batch]
    assert len(seen) == 10
    assert all(m.value != b"late" for m in seen)


def test_bounded_read_of_an_idle_or_empty_topic_ends_at_once() -> None:
    reader = FakeReader()
    reader.partition_counts["t"] = 3
    parts = [("t", p) for p in range(3)]
    plan = plan_read(parts, reader.watermarks(parts), Position("beginning"))
    assert list(read_batches(reader, plan)) == []
    assert reader.polls == 0  # nothing to read: not even assigned
    reader = _reader(4)
    plan = plan_read([("t", 0), ("t", 1)], reader.watermarks([("t", 0), ("t", 1)]), Position("end"))
    assert list(read_batches(reader, plan)) == []


def test_bounded_read_gives_up_on_a_stalled_partition() -> None:
    class Stalled(FakeReader):
        def poll(self, max_messages: int, timeout_s: float) -> Batch:
            self.polls += 1
            return Batch([])

    reader = Stalled()
    plan = ReadPlan({("t", 0): 0}, {("t", 0): 5})
    ticks = iter(range(0, 1000, 10))
    left: set[tuple[str, int]] = set()
    assert list(read_batches(reader, plan, stall_s=30, clock=lambda: next(ticks), left=left)) == []
    assert left == {("t", 0)}


def test_follow_reads_what_arrives() -> None:
    reader = _reader(2)
    plan = plan_read([("t", 0), ("t", 1)], reader.watermarks([("t", 0), ("t", 1)]), Position("end"))
    reader.arrivals = [Message("t", 1, 0, NOW, None, b"new")]
    first = next(iter(read_batches(reader, plan, follow=True)))
    assert [m.value for m in first] == [b"new"]


def test_tally_counts_and_keeps_first_examples() -> None:
    tally = ValidationTally(EnvelopeChecker(), {"dreamscape.user.created": "user.created"}, 2)
    values = [
        encoded(event()),
        encoded(event(eventId="bad")),
        encoded(event(eventId="bad2")),
        encoded(event(eventId="bad3")),
        encoded(event(eventType="user.deleted")),
        encoded(event(extra=True)),
        b"not json",
        b"\xff",
        None,
    ]
    for offset, value in enumerate(values):
        tally.add(_msg(value, offset=offset))
    assert tally.messages == 9
    assert tally.invalid == 7
    assert tally.warned == 1
    kinds = {p.kind: p for p in tally.sorted_problems()}
    assert kinds["invalid:eventId"].count == 3
    assert [e.offset for e in kinds["invalid:eventId"].examples] == [1, 2]
    assert kinds["event-type-mismatch"].examples[0].offset == 4
    assert kinds["unknown-field"].severity == "warning"
    assert kinds["not-json"].examples[0].offset == 6
    assert kinds["not-utf8"].examples[0].offset == 7
    assert kinds["null-value"].examples[0].offset == 8
    assert tally.sorted_problems()[-1].kind == "unknown-field"  # warnings last


def test_tally_honours_a_glob_event_type() -> None:
    tally = ValidationTally(EnvelopeChecker(), {"dreamscape.user.created": "audit.*"})
    assert tally.add(_msg(encoded(event(eventType="audit.login"))))
    assert not tally.add(_msg(encoded(event(eventType="user.created"))))
