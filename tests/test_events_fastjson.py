"""The orjson paths (`events.fastjson`) give exactly what the reference (`events.decode`) gives:
the same tail line bytes, the same replayed record, the same eventId, on awkward values and on
random ones. Pure."""

from __future__ import annotations

import json
import random
import string
from typing import Any

import pytest

from dreamscape_infra.errors import UsageError
from dreamscape_infra.events import decode, fastjson
from dreamscape_infra.events.model import Message
from tests.test_events_jsonlines import UC_RECORDS

AWKWARD: list[bytes | None] = [
    None,
    b"",
    b"null",
    b"true",
    b"0",
    b"-1",
    b"9223372036854775807",
    b"9223372036854775808",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"123456789012345678901234567890",
    b"1.5",
    b"1e16",
    b"1e+16",
    b"1E16",
    b"10000000000000000.0",
    b"0.00001",
    b"1e-05",
    b'{"a":1e16}',
    b'{"a":[1,2.0,3]}',
    b'{"a":1.0}',
    b'{"a": 1}',
    b'{"a":1 }',
    b'{"a":1}\n',
    b'{"a":"1.5"}',
    b'{"ts":"2024-01-15T10:30:00.000Z"}',
    b'{"a":"\\u00e9"}',
    b'{"a":"\xc3\xa9"}',
    b'{"a":"\\ud800"}',
    b'{"a":"\\ud83d\\ude00"}',
    b'{"a":"\\/"}',
    b'{"a":"\\u001f\\b\\f\\n\\r\\t"}',
    b'{"a":"\x7f"}',
    b'{"a":1,"a":2}',
    b'{"a":NaN}',
    b"Infinity",
    b"[]",
    b"{}",
    b'[[[[[[[[{"deep":[{}]}]]]]]]]]',
    b'"a,b:c\\"d"',
    b'{"k,\\":":"v\\",:"}',
    b"\xef\xbb\xbf{}",
    b"\xff",
    b"not json",
    *(value for _, _, value, _ in UC_RECORDS),
]


def _exact_line(message: Message) -> bytes:
    return json.dumps(decode.json_line(message), ensure_ascii=False).encode("utf-8")


def _message(value: bytes | None, key: bytes | None = b"k", headers: Any = ()) -> Message:
    return Message("t", 1, 7, 1_705_314_600_123, key, value, headers)


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 7, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**25])
    if kind == 2:
        return rng.choice([0.0, -0.0, 1.5, 0.1, 1e16, 1e-5, 1e-4, 123.456, 1e300, 5e-324])
    if kind in (3, 4, 5):
        alphabet = string.printable + 'éü😀\u2028\x00\x1f\x7f,:"\\/{}[]'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
    if kind in (6, 7):
        return {
            "".join(rng.choice('abc,:"\\é') for _ in range(rng.randrange(1, 4))): _random_json(
                rng, depth + 1
            )
            for _ in range(rng.randrange(4))
        }
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def _random_values(count: int) -> list[bytes]:
    rng = random.Random(22)
    values = []
    for _ in range(count):
        data = _random_json(rng)
        separators = rng.choice([(",", ":"), (", ", ": ")])
        values.append(
            json.dumps(data, ensure_ascii=rng.random() < 0.3, separators=separators).encode()
        )
    return values


@pytest.mark.parametrize("value", AWKWARD)
def test_tail_line_is_the_reference_line(value: bytes | None) -> None:
    message = _message(value, headers=(("h", b"\xff"), ("n", None), ("t", "é".encode())))
    assert fastjson.LineWriter().line(message) == _exact_line(message)


def test_tail_lines_of_random_values_are_the_reference_lines() -> None:
    writer = fastjson.LineWriter()
    for value in _random_values(3000):
        message = _message(value)
        assert writer.line(message) == _exact_line(message), value


def test_timestamps_keep_their_form_across_seconds() -> None:
    writer = fastjson.LineWriter()
    for stamp in (None, -1, 0, 999, 1000, 1_705_314_600_000, 1_705_314_600_999, 4_102_444_800_001):
        message = Message("t", 0, 0, stamp, None, b"{}", ())
        assert writer.line(message) == _exact_line(message)


@pytest.mark.parametrize("value", AWKWARD)
def test_replay_of_a_line_is_the_reference_record(value: bytes | None) -> None:
    line = _exact_line(_message(value, key=b"\x00k", headers=(("h", b"v"), ("n", None))))
    fast = fastjson.replay_record(line, "f:1", "dst")
    assert fast == decode.replay_record(line.decode(), "f:1", "dst")
    assert fast.value == value


def test_replay_of_random_lines_is_the_reference_record() -> None:
    for value in _random_values(3000):
        line = _exact_line(_message(value))
        assert fastjson.replay_record(line, "f:1", "dst").value == value


@pytest.mark.parametrize(
    "line",
    [
        b"{oops",
        b"[1]",
        b'{"value": 1}',
        b'{"value": 1.0E2, "value_encoding": "json"}',
        b'{"value": "x", "value_encoding": "nope"}',
        b'{"value": 1, "value_encoding": "text"}',
        b'{"value": "%%%", "value_encoding": "base64"}',
        b'{"value_encoding": "null", "headers": [1]}',
        b'{"value_encoding": "null", "partition": -1}',
        b'{"value_encoding": "null", "partition": true}',
        b'{"value_encoding": "null", "key": 5, "key_encoding": "text"}',
        b'{"value": NaN, "value_encoding": "json"}',
        b'{"value": 123456789012345678901234, "value_encoding": "json"}',
        b"\xff",
    ],
)
def test_replay_of_odd_lines_matches_the_reference(line: bytes) -> None:
    try:
        expected: Any = decode.replay_record(decode.line_text(line, "f:3"), "f:3", "t")
    except UsageError as exc:
        expected = exc.message
    try:
        got: Any = fastjson.replay_record(line, "f:3", "t")
    except UsageError as exc:
        got = exc.message
    assert got == expected


@pytest.mark.parametrize(
    "line",
    [
        # floats and long integers where neither path reads them: the fast path keeps going
        b'{"offset": 1.5, "timestamp_ms": 1e16, "extra": [0.1], "value": {"a": 1},'
        b' "value_encoding": "json"}',
        b'{"offset": 123456789012345678901234, "value": "v", "value_encoding": "text"}',
        # where they become bytes (a json value, key or header), the exact path decides
        b'{"value": {"a": 1e16}, "value_encoding": "json"}',
        b'{"value_encoding": "null", "key": 1e16, "key_encoding": "json"}',
        b'{"value_encoding": "null",'
        b' "headers": [{"key": "h", "value": [1.0], "encoding": "json"}]}',
        b'{"value_encoding": "null", "partition": 1.0}',
        b'{"value_encoding": "null", "partition": 123456789012345678901234}',
    ],
)
def test_replay_with_floats_outside_the_bytes_matches_the_reference(line: bytes) -> None:
    try:
        expected: Any = decode.replay_record(decode.line_text(line, "f:4"), "f:4", "t")
    except UsageError as exc:
        expected = exc.message
    try:
        got: Any = fastjson.replay_record(line, "f:4", "t")
    except UsageError as exc:
        got = exc.message
    assert got == expected


@pytest.mark.parametrize("value", AWKWARD)
def test_event_id_is_the_reference_one(value: bytes | None) -> None:
    assert fastjson.event_id_of(value) == decode.event_id_of(value)
    event = b'{"eventId":"e-1","x":' + (value or b"null") + b"}"
    assert fastjson.event_id_of(event) == decode.event_id_of(event)
