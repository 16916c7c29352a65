"""Events as tables and JSON documents. Returns values; never prints."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from dreamscape_infra.events.decode import Decoded, decode_bytes, iso_ms
from dreamscape_infra.events.model import DeliveryReport, Message, Partition
from dreamscape_infra.events.selection import ShownCounts
from dreamscape_infra.events.validate import ValidationTally
from dreamscape_infra.tables import TableData

TAIL_COLUMNS = (
    "partition",
    "offset",
    "timestamp",
    "key",
    "eventType",
    "source",
    "correlationId",
    "payload",
)
PREVIEW = 60


def _preview(text: str, limit: int = PREVIEW) -> str:
    # A preview, not a name: the full value is one `--output json` away.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field(event: Any, name: str) -> str | None:
    value = event.get(name) if isinstance(event, dict) else None
    return value if isinstance(value, str) else None if value is None else json.dumps(value)


def tail_row(message: Message, decoded: Decoded, *, many_topics: bool) -> tuple[str, ...]:
    """One table row. With several topics, the partition column reads `topic[partition]`."""
    key, key_encoding = decode_bytes(message.key)
    key_cell = "-" if key is None else (key if key_encoding == "text" else f"(base64) {key}")
    event = decoded.event
    if event is not None:
        payload = event.get("payload")
        preview = _preview(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
    elif decoded.encoding == "json":
        preview = "(JSON, not an object) " + _preview(json.dumps(decoded.data, ensure_ascii=False))
    elif decoded.encoding == "text":
        preview = "(not JSON) " + _preview(str(decoded.data))
    elif decoded.encoding == "base64":
        preview = "(not UTF-8, base64) " + _preview(str(decoded.data))
    else:
        preview = "(null)"
    where = f"{message.topic}[{message.partition}]" if many_topics else str(message.partition)
    return (
        where,
        str(message.offset),
        iso_ms(message.timestamp_ms) or "-",
        key_cell,
        _field(event, "eventType") or "-",
        _field(event, "source") or "-",
        _field(event, "correlationId") or "-",
        preview,
    )


def tail_table(
    rows: Sequence[tuple[str, ...]], title: str | None, *, many_topics: bool
) -> TableData:
    columns = ("topic[partition]", *TAIL_COLUMNS[1:]) if many_topics else TAIL_COLUMNS
    return TableData.build(title, columns, rows)


def tail_summary(counts: ShownCounts, *, filtered: bool, hint_older: bool) -> str:
    """The line after a tail: how many messages were shown (of how many read, when filtered),
    and how many were not JSON. `hint_older`: nothing was shown reading from the end, so say how
    to see older messages."""
    if counts.shown == 0:
        hint = " (reading from the end: add --from-beginning, --since or --offset)"
        return f"no messages{hint if hint_older else ''}"
    extra = f"; {counts.not_json} not JSON (shown as text or base64)" if counts.not_json else ""
    of_read = f" of {counts.read} read" if filtered else ""
    return f"{counts.shown} message(s){of_read}{extra}"


def unfinished_names(left: Iterable[Partition]) -> list[str]:
    """The partitions a read gave up waiting for, as `topic[partition]`, sorted."""
    return [f"{t}[{p}]" for t, p in sorted(left)]


def validation_json(
    tally: ValidationTally, topics: Sequence[str], position: str, left: Sequence[str]
) -> dict[str, Any]:
    """`events validate -o json` (documented in docs/json-output.md)."""
    return {
        "kind": "event-validation",
        "version": 1,
        "valid": not tally.failed,
        "position": position,
        "topics": [
            {
                "name": topic,
                "messages": tally.per_topic.get(topic, [0, 0])[0],
                "invalid": tally.per_topic.get(topic, [0, 0])[1],
            }
            for topic in topics
        ],
        "summary": {
            "messages": tally.messages,
            "valid": tally.valid,
            "invalid": tally.invalid,
            "with_warnings": tally.warned,
        },
        "problems": [
            {
                "kind": p.kind,
                "severity": p.severity,
                "count": p.count,
                "examples": [
                    {
                        "topic": e.topic,
                        "partition": e.partition,
                        "offset": e.offset,
                        "message": e.message,
                    }
                    for e in p.examples
                ],
            }
            for p in tally.sorted_problems()
        ],
        "unfinished_partitions": list(left),
    }


def validation_tables(tally: ValidationTally, topics: Sequence[str]) -> list[TableData]:
    """A per-topic count table, then the problems with their first examples."""
    per_topic = TableData.build(
        "Messages checked",
        ("topic", "messages", "invalid"),
        [(t, tally.per_topic.get(t, [0, 0])[0], tally.per_topic.get(t, [0, 0])[1]) for t in topics],
    )
    problems = tally.sorted_problems()
    if not problems:
        return [per_topic]
    rows = []
    for problem in problems:
        for index, example in enumerate(problem.examples):
            first = index == 0
            rows.append(
                (
                    problem.kind if first else "",
                    problem.severity if first else "",
                    str(problem.count) if first else "",
                    f"{example.topic}[{example.partition}]@{example.offset}",
                    example.message,
                )
            )
    return [
        per_topic,
        TableData.build(
            "Problems (first examples: topic[partition]@offset)",
            ("problem", "severity", "count", "where", "detail"),
            rows,
        ),
    ]


def validation_summary(tally: ValidationTally) -> str:
    verdict = "FAILED" if tally.failed else "OK"
    return (
        f"{verdict}: {tally.messages} message(s) checked, {tally.valid} valid, "
        f"{tally.invalid} invalid, {tally.warned} with warnings"
    )


def produce_json(
    topic: str,
    report: DeliveryReport,
    event_ids: Sequence[str | None],
    mode: str,
    elapsed_s: float | None = None,
) -> dict[str, Any]:
    """`events produce -o json`: where the records went (documented in docs/json-output.md):
    counts, each partition's offset range, and one entry per record for the first
    KEEP_DELIVERIES records (`events_omitted` counts the rest). `elapsed_s`: from the
    producer's creation to the last delivery."""
    return {
        "kind": "produce",
        "version": 1,
        "topic": topic,
        "mode": mode,
        "count": report.sent,
        "delivered": report.delivered,
        "failed": report.failed,
        "elapsed_s": None if elapsed_s is None else round(elapsed_s, 4),
        "partitions": {
            str(p): {"count": count, "first": first, "last": last}
            for p, (count, first, last) in sorted(report.partitions.items())
        },
        "events": [
            {"partition": d.partition, "offset": d.offset, "eventId": event_id, "error": d.error}
            for d, event_id in zip(report.detail, event_ids, strict=False)
        ],
        "events_omitted": report.sent - len(report.detail),
    }


def produce_lines(topic: str, report: DeliveryReport, event_ids: Sequence[str | None]) -> list[str]:
    """People's view: one line per record up to 10 records, else a per-partition summary."""
    if report.sent <= 10:
        lines = []
        for d, event_id in zip(report.detail, event_ids, strict=False):
            what = f" eventId {event_id}" if event_id else ""
            if d.ok:
                lines.append(f"produced to {topic} partition {d.partition} offset {d.offset}{what}")
            else:
                lines.append(f"FAILED to produce to {topic}{what}: {d.error}")
        return lines
    lines = [f"produced {report.delivered} of {report.sent} record(s) to {topic}"]
    for partition, (count, first, last) in sorted(report.partitions.items()):
        lines.append(f"  partition {partition}: {count} record(s), offsets {first}-{last}")
    return lines
