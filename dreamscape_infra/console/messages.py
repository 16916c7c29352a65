"""The console's message browser: the newest messages of one topic, read like `events tail`.

By assignment (no group, nothing committed), bounded by the end offsets at the start of the
read, so it never waits on an idle topic. Each message is `events tail -o json`'s JSON line
plus the verdict of `events validate` (valid, and the findings). Never prints.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dreamscape_infra.errors import UsageError

if TYPE_CHECKING:
    from dreamscape_infra.events.model import EventReader
    from dreamscape_infra.topics.model import DesiredState

DEFAULT_COUNT = 50
MAX_COUNT = 500
# Without a start the newest are read: this many per partition at most (more with a filter,
# which has to look further back), so a 2,000-partition topic is never read whole.
NEWEST_PER_PARTITION = 50
FILTERED_PER_PARTITION = 1000
# A value longer than this is cut in the JSON (the page shows that it was).
VALUE_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """`?n=&offset=&since=&key=&type=&grep=` of /api/topics/<name>/messages."""

    count: int = DEFAULT_COUNT
    offset: int | None = None
    since: str | None = None
    key: str | None = None
    event_type: str | None = None
    grep: str | None = None

    @property
    def cache_key(self) -> tuple[Any, ...]:
        return (self.count, self.offset, self.since, self.key, self.event_type, self.grep)


def parse_query(params: Mapping[str, list[str]]) -> MessageQuery:
    """The query string's filters; UsageError (400) for a bad number or an unknown name."""
    known = {"n", "offset", "since", "key", "type", "grep"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise UsageError(
            f"unknown query parameter '{unknown[0]}' (known: {', '.join(sorted(known))})"
        )

    def one(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values and values[-1] != "" else None

    def number(name: str) -> int | None:
        text = one(name)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"?{name}= must be an integer, got '{text}'") from None

    count = number("n")
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise UsageError(f"?n= must be between 1 and {MAX_COUNT}")
    query = MessageQuery(
        count=count or DEFAULT_COUNT,
        offset=number("offset"),
        since=one("since"),
        key=one("key"),
        event_type=one("type"),
        grep=one("grep"),
    )
    if query.offset is not None and query.since is not None:
        raise UsageError("?offset= and ?since= cannot be combined; choose one start position")
    return query


def read_messages(
    reader: EventReader, desired: DesiredState | None, topic: str, query: MessageQuery
) -> dict[str, Any]:
    """The messages `query` selects: from ?offset=/?since= onwards the first `count`; without
    a start the newest `count` across partitions (newest first)."""
    from dreamscape_infra.events.decode import json_line
    from dreamscape_infra.events.envelope import declared_event_type
    from dreamscape_infra.events.position import Position, position_from_options
    from dreamscape_infra.events.read import plan_scan, read_batches
    from dreamscape_infra.events.schema import EnvelopeChecker
    from dreamscape_infra.events.selection import MessageFilter, ShownCounts, shown_messages
    from dreamscape_infra.events.validate import message_findings

    selection = MessageFilter(key=query.key, event_type=query.event_type, grep=query.grep)
    newest = query.offset is None and query.since is None
    if newest:
        per_partition = FILTERED_PER_PARTITION if selection.active else NEWEST_PER_PARTITION
        position = Position("offset", -max(per_partition, query.count))
    else:
        position = position_from_options(
            from_beginning=False,
            since=query.since,
            offset=query.offset,
            now_ms=int(time.time() * 1000),
        )
    declared = [t.name for t in desired.topics] if desired is not None else []
    scan = plan_scan(reader, declared, [topic], position, None)
    counts = ShownCounts()
    left: set[Any] = set()
    shown = []
    batches = read_batches(reader, scan.plan, left=left, stall_s=10.0)
    for _, batch in shown_messages(batches, selection, None if newest else query.count, counts):
        shown.extend(batch)
    if newest:
        shown.sort(key=lambda md: (md[0].timestamp_ms or 0, md[0].offset), reverse=True)
        shown = shown[: query.count]
    checker = EnvelopeChecker()
    expected = declared_event_type(desired, topic)
    messages = []
    for message, decoded in shown:
        doc = json_line(message, decoded)
        findings = message_findings(checker, message, decoded, expected)
        doc["valid"] = not any(f.severity == "error" for f in findings)
        doc["findings"] = [
            {"kind": f.kind, "severity": f.severity, "message": f.message} for f in findings
        ]
        _cut(doc)
        messages.append(doc)
    return {
        "kind": "messages",
        "version": 1,
        "topic": topic,
        "position": "newest" if newest else position.describe(),
        "filters": {"key": query.key, "type": query.event_type, "grep": query.grep},
        "read": counts.read,
        "shown": len(messages),
        "messages": messages,
        "unfinished_partitions": sorted(p[1] for p in left),
    }


def _cut(doc: dict[str, Any]) -> None:
    """Very large values are cut to VALUE_LIMIT characters of their text form."""
    value = doc.get("value")
    if isinstance(value, str) and len(value) > VALUE_LIMIT:
        doc["value"] = value[:VALUE_LIMIT]
        doc["value_truncated"] = True
    raw = doc.get("value_base64")
    if isinstance(raw, str) and len(raw) > VALUE_LIMIT:
        doc["value_base64"] = raw[:VALUE_LIMIT]
        doc["value_truncated"] = True
