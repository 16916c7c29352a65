"""The hot paths of tail, validate and replay on orjson, giving exactly what `decode` gives.

`decode` is the reference: Python's json module defines the bytes of a JSON Lines line (its
default separators, its float forms) and when a value needs `value_base64`. orjson is 5-10x
faster but not the same: it reads integers past 64 bits as floats and writes floats in other
forms (`1e16` where Python writes `1e+16`). So orjson is used only where its answer is provably
Python's, and everything else falls back to `decode`:

- what orjson reads is taken only when it holds no float (`_float_free`; an integer past 64
  bits comes back from orjson as a float, so it is caught too); without floats, orjson reads
  what Python's json reads, and its compact output is Python's compact output, byte for byte
  (strings are escaped the same way, keys keep their order);
- a tail line takes the fast path only when the value is already in that compact form, i.e.
  needs no `value_base64`;
- a line is written with orjson's two-space indent, then each newline and its indent is
  folded into Python's `", "`: a newline is never inside a JSON string, so the folding cannot
  touch data.

tests/test_events_fastjson.py compares both paths on a corpus of awkward values.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import orjson

from dreamscape_infra.events import decode
from dreamscape_infra.events.model import Header, Message, Outgoing

_INDENT = orjson.OPT_INDENT_2
_ITEM_BREAK = re.compile(rb",\n *").sub
_OPEN_BREAK = re.compile(rb"\n *").sub
_B64 = base64.b64encode
_loads = orjson.loads
_dumps = orjson.dumps


class Fallback(Exception):
    """This value or line needs the exact (slow) path."""


def _float_free(value: Any) -> bool:
    """True when no float is anywhere in `value` as orjson read it (an integer past 64 bits
    comes back from orjson as a float, so it counts as one). Cheaper than any regex on bytes.
    Only containers go on the stack (no recursion limit); the leaves are checked where found."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return kind is not float
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        container = pop()
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is float:
                return False
            if kind is dict or kind is list:
                push(item)
    return True


def load_value(raw: bytes) -> Any:
    """`raw` parsed as `decode.decode_value` would parse it, when `raw` is also exactly what
    `decode.compact` gives for it (the common case: no `value_base64` needed). Raises Fallback
    otherwise: not JSON to orjson, a float or long integer inside, or not in compact form."""
    try:
        data = _loads(raw)
    except orjson.JSONDecodeError:
        raise Fallback from None
    # Without floats and big integers orjson writes what Python's compact encoder writes.
    if not _float_free(data) or _dumps(data) != raw:
        raise Fallback
    return data


def loads_or_none(raw: bytes) -> Any:
    """orjson's reading of `raw`, None when it is not JSON to orjson. Floats and integers past
    64 bits may differ from Python's json (see the module doc): fit for type checks only."""
    try:
        return _loads(raw)
    except orjson.JSONDecodeError:
        return None


def _python_form(doc: dict[str, Any]) -> bytes:
    """`json.dumps(doc, ensure_ascii=False)` for a float-free doc, through orjson."""
    return _OPEN_BREAK(b"", _ITEM_BREAK(b", ", _dumps(doc, option=_INDENT)))


def _text_or_b64(raw: bytes | None) -> tuple[str | None, str]:
    if raw is None:
        return None, "null"
    try:
        return raw.decode("utf-8"), "text"
    except UnicodeDecodeError:
        return _B64(raw).decode("ascii"), "base64"


class _Stamps:
    """iso_ms() with the text of each second formatted once (messages share seconds)."""

    def __init__(self) -> None:
        self._seconds: dict[int, str] = {}

    def iso(self, timestamp_ms: int | None) -> str | None:
        if timestamp_ms is None or timestamp_ms < 0:
            return None
        second, ms = divmod(timestamp_ms, 1000)
        prefix = self._seconds.get(second)
        if prefix is None:
            if len(self._seconds) > 4096:
                self._seconds.clear()
            prefix = self._seconds[second] = str(decode.iso_ms(second * 1000))[:-4]
        return f"{prefix}{ms:03d}Z"


class LineWriter:
    """`events tail -o json` lines, each exactly `json.dumps(decode.json_line(m),
    ensure_ascii=False)` encoded as UTF-8."""

    def __init__(self) -> None:
        self._iso = _Stamps().iso

    def line(self, message: Message) -> bytes:
        """One message as its JSON Lines line (without the newline)."""
        raw = message.value
        if raw is None:
            value: Any = None
            encoding = "null"
        else:
            try:
                value = load_value(raw)
            except Fallback:
                return self._exact(message)
            encoding = "json"
        key, key_encoding = _text_or_b64(message.key)
        headers = []
        for name, header in message.headers:
            text, header_encoding = _text_or_b64(header)
            headers.append({"key": name, "value": text, "encoding": header_encoding})
        doc = {
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "timestamp": self._iso(message.timestamp_ms),
            "timestamp_ms": message.timestamp_ms,
            "key": key,
            "key_encoding": key_encoding,
            "headers": headers,
            "value": value,
            "value_encoding": encoding,
        }
        return _python_form(doc)

    @staticmethod
    def _exact(message: Message) -> bytes:
        text = decode.LINE_ENCODER.encode(decode.json_line(message))
        return text.encode("utf-8")

    def lines(self, messages: list[Message]) -> bytes:
        """The lines of `messages`, each ended by a newline."""
        line = self.line
        return b"".join([line(m) + b"\n" for m in messages])


# --- replay ---------------------------------------------------------------------------------


def _bytes(value: Any, encoding: Any) -> bytes | None:
    if encoding == "text" and type(value) is str:
        return value.encode("utf-8")
    if encoding == "null" or (encoding is None and value is None):
        return None
    if encoding == "base64" and type(value) is str:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise Fallback from None
    if encoding == "json":
        # orjson's compact form is Python's only without floats and long integers
        if not _float_free(value):
            raise Fallback
        return _dumps(value)
    raise Fallback


def replay_record(line: bytes, where: str, topic: str) -> Outgoing:
    """`decode.replay_record` of one line, from bytes: the same record, or the same UsageError
    (the exact path is taken for anything unusual)."""
    try:
        doc = _loads(line)
        # Floats elsewhere in the line (offset, timestamp_ms, unknown fields) are read by
        # neither path; the fields that become bytes are type-checked, json ones in _bytes.
        if type(doc) is not dict or "value_encoding" not in doc:
            raise Fallback
        if "value_base64" in doc:
            value = _bytes(doc["value_base64"], "base64")
        else:
            value = _bytes(doc.get("value"), doc["value_encoding"])
        key = _bytes(doc.get("key"), doc.get("key_encoding"))
        headers: list[Header] = []
        for header in doc.get("headers") or ():
            if type(header) is not dict or type(header.get("key")) is not str:
                raise Fallback
            headers.append((header["key"], _bytes(header.get("value"), header.get("encoding"))))
        partition = doc.get("partition")
        if partition is not None and (type(partition) is not int or partition < 0):
            raise Fallback
    except (Fallback, orjson.JSONDecodeError):
        return decode.replay_record(decode.line_text(line, where), where, topic)
    return Outgoing(topic, value, key, tuple(headers), partition)


def event_id_of(value: bytes | None) -> str | None:
    """`decode.event_id_of`, through orjson when it can tell."""
    if value is None:
        return None
    try:
        data = load_value(value)
    except Fallback:
        return decode.event_id_of(value)
    found = data.get("eventId") if type(data) is dict else None
    return found if isinstance(found, str) else None
