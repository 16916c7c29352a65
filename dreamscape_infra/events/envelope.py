"""Building BaseEvent envelopes, parsing JSON arguments, and the topic <-> eventType rule.

Pure apart from the clock and the random eventId, both of which callers may pass in.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dreamscape_infra.errors import UsageError

if TYPE_CHECKING:
    from dreamscape_infra.topics.model import DesiredState

DEFAULT_VERSION = "1.0"
# The prefix when there is no topics file (topics.yaml's own default).
DEFAULT_PREFIX = "dreamscape."


def iso_timestamp(moment: dt.datetime | None = None) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, as in the seed: 2024-01-15T10:30:00.000Z."""
    moment = (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_json_argument(text: str, what: str) -> Any:
    """JSON from the command line or a file. Raises UsageError naming `what` and the line and
    column of the first error, in one line."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{what}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:  # NaN / Infinity are not JSON
        raise UsageError(f"{what}: invalid JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def build_envelope(
    *,
    event_type: str,
    source: str,
    payload: Any,
    version: str = DEFAULT_VERSION,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    metadata: Any = None,
    event_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A BaseEvent with a fresh UUIDv4 eventId and the current time, fields in the seed's order.
    Optional fields are left out when not given. Validate the result before sending it."""
    event: dict[str, Any] = {
        "eventId": event_id or str(uuid.uuid4()),
        "eventType": event_type,
        "timestamp": timestamp or iso_timestamp(),
        "version": version,
        "source": source,
    }
    if correlation_id is not None:
        event["correlationId"] = correlation_id
    if causation_id is not None:
        event["causationId"] = causation_id
    if metadata is not None:
        event["metadata"] = metadata
    event["payload"] = payload
    return event


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode_event(event: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the form services receive."""
    return _COMPACT.encode(event).encode("utf-8")


# --- the topic <-> eventType rule -----------------------------------------------------------


def default_event_type(topic: str, prefix: str) -> str | None:
    """`dreamscape.user.created` carries `user.created`: the topic name without the managed
    prefix. None for a topic outside the prefix (no rule applies)."""
    if prefix and topic.startswith(prefix) and len(topic) > len(prefix):
        return topic[len(prefix) :]
    return None


def expected_event_type(topic: str, prefix: str, overrides: Mapping[str, str | None]) -> str | None:
    """The eventType pattern a topic's messages must match: topics.yaml's `event_type` for the
    topic when declared (a glob, e.g. `payment.*`, or `*` for any), else the default rule."""
    declared = overrides.get(topic)
    if declared is not None:
        return declared
    return default_event_type(topic, prefix)


def declared_event_type(desired: DesiredState | None, topic: str) -> str | None:
    """The eventType (pattern) `topic`'s messages must carry under topics.yaml as loaded
    (None: there is no topics file, so the default rule under the default prefix); None when no
    rule applies."""
    if desired is None:
        return default_event_type(topic, DEFAULT_PREFIX)
    spec = desired.topic(topic)
    return expected_event_type(topic, desired.prefix, {topic: spec.event_type} if spec else {})


def event_type_matches(event_type: str, pattern: str) -> bool:
    """Exact match, or a glob match when the pattern has glob characters."""
    if event_type == pattern:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(event_type, pattern)
    return False


# --- many envelopes, fast (`events produce --count N`) --------------------------------------

_ID_MARK = "00000000-0000-4000-8000-000000000000"
_TS_MARK = "1970-01-01T00:00:00.000Z"


def uuid4_strings(count: int) -> list[str]:
    """`count` random version 4 UUIDs as strings: `str(uuid.uuid4())`, from one read of
    os.urandom instead of one per event."""
    import os

    raw = bytearray(os.urandom(16 * count))
    ids = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40  # version 4
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw[start : start + 16].hex()
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids


class Clock:
    """iso_timestamp() of now, formatted once per millisecond (many events share one)."""

    def __init__(self) -> None:
        self._ms = -1
        self._text = ""

    def now(self) -> str:
        import time

        ms = time.time_ns() // 1_000_000
        if ms != self._ms:
            self._ms = ms
            moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
            self._text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
        return self._text


class EnvelopeSeries:
    """Envelopes that differ only in eventId and timestamp (`--count N`), as (dict, bytes).

    The dict is what callers validate; the bytes are exactly `encode_event(dict)`, spliced from
    one encoding of a template instead of re-encoding the payload every time. When the splice
    cannot be proven equal (the template's marks occur elsewhere), every event is encoded.
    """

    def __init__(self, **fields: Any) -> None:
        self.template = build_envelope(**fields, event_id=_ID_MARK, timestamp=_TS_MARK)
        encoded = encode_event(self.template)
        before_id, _, rest = encoded.partition(_ID_MARK.encode())
        middle, _, after = rest.partition(_TS_MARK.encode())
        self._parts: tuple[bytes, bytes, bytes] | None = (before_id, middle, after)
        if encoded.count(_ID_MARK.encode()) != 1 or encoded.count(_TS_MARK.encode()) != 1:
            self._parts = None
        self._clock = Clock()

    def value(self, event_id: str) -> tuple[bytes, str]:
        """The encoded envelope with `event_id` and now's timestamp (exactly
        `encode_event(make(event_id)[0])`, without building the dict), and that timestamp."""
        timestamp = self._clock.now()
        if self._parts is None:
            event = dict(self.template)
            event["eventId"] = event_id
            event["timestamp"] = timestamp
            return encode_event(event), timestamp
        before_id, middle, after = self._parts
        return b"".join(
            (before_id, event_id.encode("ascii"), middle, timestamp.encode("ascii"), after)
        ), timestamp

    def make(self, event_id: str) -> tuple[dict[str, Any], bytes]:
        event = dict(self.template)  # same key order: eventId first, as in the seed
        event["eventId"] = event_id
        event["timestamp"] = timestamp = self._clock.now()
        if self._parts is None:
            return event, encode_event(event)
        before_id, middle, after = self._parts
        return event, b"".join(
            (before_id, event_id.encode("ascii"), middle, timestamp.encode("ascii"), after)
        )
