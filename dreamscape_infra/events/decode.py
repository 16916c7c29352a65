"""Bytes as people and programs see them, and the JSON Lines form that `events produce
--from-file` replays byte for byte. Pure.

A value is `json` when it is UTF-8 JSON (NaN and Infinity are not JSON), `text` when it is other
UTF-8, `base64` for any other bytes, and `null` for a tombstone. Keys and header values are
`text` or `base64`. When compact re-serialisation would not give back the exact bytes of a JSON
value (spaces, escapes, `1.0E2`...), the line also carries `value_base64`, so a replay is exact.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dreamscape_infra.errors import UsageError
from dreamscape_infra.events.model import Header, Message, Outgoing

Encoding = Literal["json", "text", "base64", "null"]


def _reject(name: str) -> Any:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_constant=_reject)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Decoded:
    """A value decoded once: `data` is the parsed JSON, the text, the base64 text, or None."""

    encoding: Encoding
    data: Any

    @property
    def event(self) -> Mapping[str, Any] | None:
        return self.data if self.encoding == "json" and isinstance(self.data, dict) else None


NULL = Decoded("null", None)


def decode_value(raw: bytes | None) -> Decoded:
    """Never raises: anything that is not JSON is still shown, as text or base64."""
    if raw is None:
        return NULL
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Decoded("base64", base64.b64encode(raw).decode("ascii"))
    try:
        # The C scanner straight away; the full decoder only for surrounding whitespace.
        data, end = _SCAN(text, 0)
        if end == len(text):
            return Decoded("json", data)
        return Decoded("json", _DECODER.decode(text))
    except (StopIteration, ValueError):  # not JSON, or NaN/Infinity
        try:
            return Decoded("json", _DECODER.decode(text))
        except ValueError:
            return Decoded("text", text)


def decode_bytes(raw: bytes | None) -> tuple[str | None, Encoding]:
    """A key or header value: text when UTF-8, else base64."""
    if raw is None:
        return None, "null"
    try:
        return raw.decode("utf-8"), "text"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact(data: Any) -> bytes:
    """The form `events produce` writes: compact UTF-8 JSON."""
    return _COMPACT.encode(data).encode("utf-8")


def iso_ms(timestamp_ms: int | None) -> str | None:
    if timestamp_ms is None or timestamp_ms < 0:
        return None
    moment = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp_ms % 1000:03d}Z"


def json_line(message: Message, decoded: Decoded | None = None) -> dict[str, Any]:
    """One message as a JSON Lines object (documented in docs/json-output.md)."""
    value = decoded if decoded is not None else decode_value(message.value)
    same = True
    if value.encoding == "json" and message.value is not None:
        try:
            same = compact(value.data) == message.value
        except UnicodeEncodeError:
            # JSON with a lone surrogate (`"\ud800"`) has no UTF-8 form: show its text.
            value = Decoded("text", message.value.decode("utf-8"))
    key, key_encoding = decode_bytes(message.key)
    doc: dict[str, Any] = {
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "timestamp": iso_ms(message.timestamp_ms),
        "timestamp_ms": message.timestamp_ms,
        "key": key,
        "key_encoding": key_encoding,
        "headers": [_header_json(name, raw) for name, raw in message.headers],
        "value": value.data,
        "value_encoding": value.encoding,
    }
    if not same and message.value is not None:
        doc["value_base64"] = base64.b64encode(message.value).decode("ascii")
    return doc


# What `events tail -o json` writes a line with: json.dumps(line, ensure_ascii=False).
LINE_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _header_json(name: str, raw: bytes | None) -> dict[str, Any]:
    text, encoding = decode_bytes(raw)
    return {"key": name, "value": text, "encoding": encoding}


# --- replay ---------------------------------------------------------------------------------


def _bytes(value: Any, encoding: Any, where: str) -> bytes | None:
    if encoding == "null" or (encoding is None and value is None):
        return None
    if encoding == "text":
        if not isinstance(value, str):
            raise UsageError(f"{where}: a text value must be a string")
        return value.encode("utf-8")
    if encoding == "base64":
        if not isinstance(value, str):
            raise UsageError(f"{where}: a base64 value must be a string")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(f"{where}: invalid base64") from None
    if encoding == "json":
        return compact(value)
    raise UsageError(f"{where}: unknown encoding {encoding!r} (json, text, base64 or null)")


def replay_record(line: str, where: str, topic: str) -> Outgoing:
    """A JSON Lines object written by `events tail --output json`, back as the record to produce
    to `topic`, with the same key, value, headers and partition. UsageError names `where`
    (file:line) and the problem."""
    try:
        doc = json.loads(line, parse_constant=_reject)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise UsageError(f"{where}: invalid JSON: {exc} is not JSON") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{where}: expected a JSON object as written by `events tail -o json`")
    if "value_encoding" not in doc:
        raise UsageError(f"{where}: no value_encoding: not a line of `events tail -o json`")
    if "value_base64" in doc:
        value = _bytes(doc["value_base64"], "base64", f"{where}: value_base64")
    else:
        value = _bytes(doc.get("value"), doc["value_encoding"], f"{where}: value")
    key = _bytes(doc.get("key"), doc.get("key_encoding"), f"{where}: key")
    headers: list[Header] = []
    for index, header in enumerate(doc.get("headers") or []):
        hwhere = f"{where}: headers[{index}]"
        if not isinstance(header, dict) or not isinstance(header.get("key"), str):
            raise UsageError(f"{hwhere}: expected {{'key', 'value', 'encoding'}}")
        headers.append((header["key"], _bytes(header.get("value"), header.get("encoding"), hwhere)))
    partition = doc.get("partition")
    if partition is not None and (not isinstance(partition, int) or partition < 0):
        raise UsageError(f"{where}: partition must be a non-negative integer")
    return Outgoing(topic, value, key, tuple(headers), partition)


def line_text(line: bytes, where: str) -> str:
    """One line of a --from-file stream as text; UsageError naming `where` when it is not
    UTF-8."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not UTF-8 text (byte {exc.start + 1})") from None


def event_id_of(value: bytes | None) -> str | None:
    """The eventId of a value that is an event, else None."""
    event = decode_value(value).event
    found = event.get("eventId") if event is not None else None
    return found if isinstance(found, str) else None
