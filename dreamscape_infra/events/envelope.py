"""Building BaseEvent envelopes, parsing JSON arguments, and the topic <-> eventType rule.

Pure apart from the clock and the random eventId, both of which callers may pass in.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import uuid
from collections.abc import Mapping
from typing import Any

from dreamscape_infra.errors import UsageError

DEFAULT_VERSION = "1.0"


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


def event_type_matches(event_type: str, pattern: str) -> bool:
    """Exact match, or a glob match when the pattern has glob characters."""
    if event_type == pattern:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(event_type, pattern)
    return False
