"""`dreamscape-infra events ...`: read, publish and check events in the BaseEvent envelope.

tail and validate read through `AppState.event_reader_factory` (by partition assignment, never a
consumer group), produce writes through `AppState.event_writer_factory` (idempotent, acks=all);
tests replace both with fakes. schema needs no cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dreamscape_infra.cli.state import (
    OUTPUT_OPTION,
    TOPICS_FILE_OPTION,
    AppState,
    OutputFormat,
    get_state,
)
from dreamscape_infra.errors import CheckFailed, EnvironmentFailure, UsageError
from dreamscape_infra.tables import Line

if TYPE_CHECKING:
    from dreamscape_infra.events.declared import Declared
    from dreamscape_infra.events.model import EventReader, EventWriter, Partition
    from dreamscape_infra.events.position import Position, ReadPlan
    from dreamscape_infra.tables import TableData

app = typer.Typer(
    help=(
        "Events in the BaseEvent envelope: tail, produce, validate, schema. Reading is by "
        "partition assignment: no consumer group is created and no offset is committed."
    ),
    no_args_is_help=True,
)

TOPICS_ARG: Any = typer.Argument(
    ..., help="Topic names or globs, e.g. dreamscape.user.created 'dreamscape.payment.*'."
)
FROM_BEGINNING: Any = typer.Option(
    False, "--from-beginning", help="Start at the oldest message still in each partition."
)
SINCE: Any = typer.Option(
    None, "--since", help="Start at a time: 10m, 2h, 7d back from now, or ISO 8601."
)
OFFSET: Any = typer.Option(
    None,
    "--offset",
    help="Start at this offset in each partition; negative: the last N of each partition.",
)
PARTITION: Any = typer.Option(None, "--partition", "-p", min=0, help="Only this partition.")
MAX_MESSAGES: Any = typer.Option(
    None, "--max-messages", "-n", min=1, help="Stop after this many (matching) messages."
)


# --- shared reading ---------------------------------------------------------------------------


def _declared(state: AppState, required: bool) -> Declared:
    """topics.yaml's topics. Reading commands work without the file (nothing is declared, the
    prefix is dreamscape.); produce needs it unless --allow-undeclared."""
    from dreamscape_infra.events.declared import read_declared

    return read_declared(state.topics_file, required=required)


def _reader(state: AppState) -> EventReader:
    settings = state.settings()
    if state.event_reader_factory is not None:
        return state.event_reader_factory(settings)
    from dreamscape_infra.kafka.events import ConfluentEventReader

    return ConfluentEventReader(settings)


def _writer(state: AppState) -> EventWriter:
    settings = state.settings()
    if state.event_writer_factory is not None:
        return state.event_writer_factory(settings)
    from dreamscape_infra.kafka.events import ConfluentEventWriter

    return ConfluentEventWriter(settings)


@dataclass(frozen=True, slots=True)
class _Scan:
    topics: list[str]
    plan: ReadPlan


def _prepare_scan(
    reader: EventReader,
    declared: Declared,
    patterns: Sequence[str],
    position: Position,
    partition: int | None,
) -> _Scan:
    from dreamscape_infra.events.position import plan_read
    from dreamscape_infra.events.selection import resolve_topics, select_partitions

    existing = reader.topics()
    topics = resolve_topics(patterns, declared.names, existing)
    parts = select_partitions(topics, existing, partition)
    marks = reader.watermarks(parts)
    time_offsets = None
    if position.kind == "since":
        time_offsets = reader.offsets_for_time(parts, position.value)
    return _Scan(topics, plan_read(parts, marks, position, time_offsets))


def _position(
    from_beginning: bool, since: str | None, offset: int | None, default: str = "end"
) -> Position:
    from dreamscape_infra.events.position import position_from_options

    return position_from_options(
        from_beginning=from_beginning,
        since=since,
        offset=offset,
        now_ms=int(time.time() * 1000),
        default="beginning" if default == "beginning" else "end",
    )


class _Progress:
    """A progress bar on stderr for people on a terminal; nothing otherwise."""

    def __init__(self, state: AppState, enabled: bool, total: int, what: str) -> None:
        self._bar: Any = None
        if enabled and total > 0:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn(what),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=state.err_console(),
                transient=True,
            )
            self._task = self._bar.add_task(what, total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, count)


def _plain(state: AppState) -> bool:
    return state.plain_tables if state.plain_tables is not None else not sys.stdout.isatty()


class _TableStream:
    """Rows as they arrive. Through a pipe: the title and header once, then one line per row as
    it is read. On a terminal, a bounded read's rows are gathered into one table (in chunks of
    TERMINAL_CHUNK rows) so the columns line up; with --follow each batch prints at once."""

    TERMINAL_CHUNK = 500

    def __init__(self, state: AppState, title: str, many_topics: bool, follow: bool) -> None:
        self._state = state
        self._title = title
        self._many = many_topics
        self._plain = _plain(state)
        self._gather = not self._plain and not follow
        self._pending: list[tuple[str, ...]] = []
        self._first = True
        self.rows = 0

    def write(self, rows: Sequence[tuple[str, ...]]) -> None:
        self.rows += len(rows)
        if self._gather:
            self._pending.extend(rows)
            if len(self._pending) >= self.TERMINAL_CHUNK:
                self.flush()
            return
        self._print(rows)

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        self._print(rows)

    def _print(self, rows: Sequence[tuple[str, ...]]) -> None:
        from dreamscape_infra.events.render import tail_table

        if not rows:
            return
        table: TableData = tail_table(rows, self._title, many_topics=self._many)
        out = self._state.out_console()
        if self._first:
            self._state.print_tables(table)
        elif self._plain:
            # no title, no header again; tabs kept (Console.print would expand them)
            out.file.write("".join(line + "\n" for line in table.plain_lines()[2:]))
            out.file.flush()
        else:
            rich_table = table.to_rich()
            rich_table.title = None
            rich_table.show_header = False
            out.print(rich_table)
        self._first = False

    @property
    def empty(self) -> bool:
        return self.rows == 0


@contextlib.contextmanager
def _closing(reader: EventReader) -> Iterator[EventReader]:
    try:
        yield reader
    finally:
        with contextlib.suppress(Exception):
            reader.close()


def _stdout_gone() -> None:
    """The reader of our stdout went away (`| head`): stop quietly, as cat does."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


# --- tail -----------------------------------------------------------------------------------


@app.command("tail")
def tail(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    topics: list[str] = TOPICS_ARG,
    from_beginning: bool = FROM_BEGINNING,
    since: str | None = SINCE,
    offset: int | None = OFFSET,
    partition: int | None = PARTITION,
    max_messages: int | None = MAX_MESSAGES,
    key: str | None = typer.Option(None, "--key", "-k", help="Only messages with this key."),
    event_type: str | None = typer.Option(
        None, "--type", "-t", help="Only events of this eventType (a glob works: 'user.*')."
    ),
    grep: str | None = typer.Option(
        None, "--grep", "-g", help="Only messages whose value (or key) contains this text."
    ),
    follow: bool = typer.Option(
        False, "--follow", "-F", help="Keep reading new messages until Ctrl-C (exit 0)."
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Show messages of topics, decoded as BaseEvents, without a consumer group.

    Starts at the end (only new messages) unless --from-beginning, --since or --offset. Without
    --follow it stops at the end offsets that existed when it started, so it never hangs on an
    idle topic. --output json writes JSON Lines, one object per message, that
    `events produce --from-file` replays exactly.

    Exit codes: 0 done (also after Ctrl-C with --follow), 2 unknown topic or bad option,
    3 invalid topics.yaml, 4 Kafka unreachable.

    Example: dreamscape-infra events tail dreamscape.user.created --from-beginning --max-messages 5
    """
    from dreamscape_infra.events.decode import decode_value, json_line
    from dreamscape_infra.events.render import tail_row
    from dreamscape_infra.events.selection import MessageFilter

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    position = _position(from_beginning, since, offset)
    declared = _declared(state, required=False)
    selection = MessageFilter(key=key, event_type=event_type, grep=grep)
    shown = read = not_json = 0
    left: set[Partition] = set()
    with _closing(_reader(state)) as reader:
        scan = _prepare_scan(reader, declared, topics, position, partition)
        many = len(scan.topics) > 1
        title = f"{', '.join(scan.topics)} ({position.describe()})"
        table = _TableStream(state, title, many, follow)
        progress_on = not json_mode and not follow and state.err_console().is_terminal
        progress_on = progress_on and not sys.stdout.isatty()
        write = sys.stdout.write
        from dreamscape_infra.events.read import read_batches

        try:
            with _Progress(state, progress_on, scan.plan.total, "reading") as progress:
                for batch in read_batches(reader, scan.plan, follow=follow, left=left):
                    read += len(batch)
                    progress.advance(len(batch))
                    rows: list[tuple[str, ...]] = []
                    lines: list[str] = []
                    for message in batch:
                        decoded = decode_value(message.value)
                        if selection.active and not selection.matches(message, decoded):
                            continue
                        if decoded.encoding in ("text", "base64"):
                            not_json += 1
                        if json_mode:
                            lines.append(
                                json.dumps(json_line(message, decoded), ensure_ascii=False)
                            )
                        else:
                            rows.append(tail_row(message, decoded, many_topics=many))
                        shown += 1
                        if max_messages is not None and shown >= max_messages:
                            break
                    if json_mode:
                        if lines:
                            write("\n".join(lines) + "\n")
                            sys.stdout.flush()
                    else:
                        table.write(rows)
                    if max_messages is not None and shown >= max_messages:
                        break
        except KeyboardInterrupt:
            pass  # Ctrl-C ends --follow (or a long read) normally: exit 0
        except BrokenPipeError:
            _stdout_gone()
            return
    try:
        table.flush()
    except BrokenPipeError:
        _stdout_gone()
        return
    if json_mode:
        return
    err = state.err_console()
    if table.empty:
        hint = (
            " (reading from the end: add --from-beginning, --since or --offset)"
            if position.kind == "end" and not follow
            else ""
        )
        err.print(f"no messages{hint}", markup=False, highlight=False)
    else:
        extra = f"; {not_json} not JSON (shown as text or base64)" if not_json else ""
        filtered = f" of {read} read" if selection.active else ""
        err.print(f"{shown} message(s){filtered}{extra}", markup=False, highlight=False)
    if left:
        names = ", ".join(f"{t}[{p}]" for t, p in sorted(left))
        err.print(f"warning: gave up waiting for {names}", markup=False, highlight=False)


# --- validate -------------------------------------------------------------------------------


@app.command("validate")
def validate(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    topics: list[str] = TOPICS_ARG,
    from_beginning: bool = typer.Option(
        False, "--from-beginning", help="Check from the oldest message (the default)."
    ),
    since: str | None = SINCE,
    offset: int | None = OFFSET,
    partition: int | None = PARTITION,
    max_messages: int | None = typer.Option(
        None, "--max-messages", "-n", min=1, help="Check at most this many messages."
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Check that every message is a well-formed BaseEvent for its topic.

    Each message must be UTF-8 JSON, an object with the required fields and types (the schema of
    `events schema`: eventId a UUID, timestamp ISO 8601, version non-empty, ...), and its
    eventType must match the topic: dreamscape.user.created carries user.created, unless
    topics.yaml sets `event_type` for the topic. Unknown top-level fields are warnings. Reads
    from the beginning unless --since or --offset, up to the end offsets at the start.

    Exit codes: 0 every message is valid, 8 a message violates the envelope, 2 unknown topic or
    bad option, 3 invalid topics.yaml, 4 Kafka unreachable.

    Example: dreamscape-infra events validate 'dreamscape.user.*' --since 1h
    """
    from dreamscape_infra.events.read import read_batches
    from dreamscape_infra.events.render import (
        validation_json,
        validation_summary,
        validation_tables,
    )
    from dreamscape_infra.events.schema import EnvelopeChecker
    from dreamscape_infra.events.validate import ValidationTally

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    position = _position(from_beginning, since, offset, default="beginning")
    declared = _declared(state, required=False)
    left: set[Partition] = set()
    with _closing(_reader(state)) as reader:
        scan = _prepare_scan(reader, declared, topics, position, partition)
        tally = ValidationTally(
            EnvelopeChecker(), {t: declared.expected_type(t) for t in scan.topics}
        )
        add = tally.add
        progress_on = not json_mode and state.err_console().is_terminal
        total = scan.plan.total if max_messages is None else min(scan.plan.total, max_messages)
        with _Progress(state, progress_on, total, "validating") as progress:
            for batch in read_batches(reader, scan.plan, left=left):
                chunk = batch if max_messages is None else batch[: max_messages - tally.messages]
                for message in chunk:
                    add(message)
                progress.advance(len(chunk))
                if max_messages is not None and tally.messages >= max_messages:
                    break
    unfinished = [f"{t}[{p}]" for t, p in sorted(left)]
    if json_mode:
        state.print_json(validation_json(tally, scan.topics, position.describe(), unfinished))
    else:
        state.print_tables(*validation_tables(tally, scan.topics))
        state.print_tables(Line(validation_summary(tally)))
        if unfinished:
            state.err_console().print(
                f"warning: gave up waiting for {', '.join(unfinished)}",
                markup=False,
                highlight=False,
            )
    if tally.failed:
        first = tally.sorted_problems()[0]
        example = first.examples[0]
        raise CheckFailed(
            f"{tally.invalid} of {tally.messages} message(s) violate the envelope; first: "
            f"{example.topic} partition {example.partition} offset {example.offset}: "
            f"{example.message}"
        )


# --- produce --------------------------------------------------------------------------------


def _read_source(spec: str, what: str) -> str:
    """`-` is stdin, `@path` a file, anything else the text itself."""
    if spec == "-":
        return sys.stdin.read()
    if spec.startswith("@"):
        path = Path(spec[1:])
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"{what}: file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{what}: cannot read {path}: {exc.__class__.__name__}") from None
    return spec


def _parse_headers(headers: Sequence[str]) -> tuple[tuple[str, bytes | None], ...]:
    parsed = []
    for item in headers:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--header '{item}': expected NAME=VALUE")
        parsed.append((name, value.encode("utf-8")))
    return tuple(parsed)


@app.command("produce")
def produce(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    topic: str = typer.Argument(..., help="The topic to write to (declared in topics.yaml)."),
    event_type: str | None = typer.Option(
        None, "--type", "-t", help="eventType; default: the topic's (user.created for ...)."
    ),
    source: str | None = typer.Option(None, "--source", "-s", help="The producing service."),
    payload: str | None = typer.Option(
        None, "--payload", help="The payload: JSON text, @file, or - for stdin."
    ),
    key: str | None = typer.Option(None, "--key", "-k", help="The message key (e.g. a userId)."),
    correlation_id: str | None = typer.Option(None, "--correlation-id"),
    causation_id: str | None = typer.Option(None, "--causation-id"),
    metadata: str | None = typer.Option(None, "--metadata", help="A JSON object (or @file)."),
    version: str = typer.Option("1.0", "--version", help="The envelope's version field."),
    header: list[str] = typer.Option(
        [], "--header", "-H", help="A Kafka header NAME=VALUE (repeatable)."
    ),
    count: int = typer.Option(
        1, "--count", "-c", min=1, help="Send N events (each with its own eventId)."
    ),
    raw: str | None = typer.Option(
        None, "--raw", help="Send this value unchanged (no envelope, no checks): test bad input."
    ),
    from_file: str | None = typer.Option(
        None,
        "--from-file",
        help="Replay JSON Lines written by `events tail -o json` (a file, or - for stdin).",
    ),
    allow_undeclared: bool = typer.Option(
        False, "--allow-undeclared", help="Allow a topic that topics.yaml does not declare."
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Publish BaseEvents (idempotent producer, acks=all) and print partition and offset.

    Builds the envelope (eventId a UUIDv4, timestamp ISO 8601 UTC with milliseconds and Z) and
    validates it before sending. --raw sends a value unchanged; --from-file replays what
    `events tail -o json` wrote, with the same keys, values, headers and partitions.

    Exit codes: 0 delivered, 2 bad option, invalid JSON or undeclared topic, 3 invalid
    topics.yaml, 4 Kafka unreachable or a record not delivered.

    Example: dreamscape-infra events produce dreamscape.user.created --type user.created
    --source user-service --payload '{"userId":"user-123"}'
    """
    from dreamscape_infra.events.model import Outgoing
    from dreamscape_infra.events.render import produce_json, produce_lines
    from dreamscape_infra.events.selection import check_declared

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    modes = [
        n
        for n, v in (("--payload", payload), ("--raw", raw), ("--from-file", from_file))
        if v is not None
    ]
    if len(modes) != 1:
        raise UsageError(
            "give exactly one of --payload (an event), --raw (a value as is) or --from-file "
            f"(a replay){'; got ' + ' and '.join(modes) if modes else ''}"
        )
    declared = _declared(state, required=not allow_undeclared)
    if not allow_undeclared:
        check_declared(topic, declared.names)
    headers = _parse_headers(header)
    key_bytes = key.encode("utf-8") if key is not None else None

    # librdkafka connects in its own threads from here on; the records are read or built
    # meanwhile, so that the connection is (nearly) ready when they are.
    writer = _writer(state)
    started = time.perf_counter()
    try:
        records: list[Outgoing]
        event_ids: list[str | None]
        if from_file is not None:
            records = _replay_records(from_file, topic)
            event_ids = [_event_id_of(r.value) for r in records]
            mode = "replay"
        elif raw is not None:
            records = [Outgoing(topic, raw.encode("utf-8"), key_bytes, headers)] * count
            event_ids = [None] * count
            mode = "raw"
        else:
            built, event_ids = _envelopes(
                declared,
                topic,
                event_type=event_type,
                source=source,
                payload_spec=payload or "",
                metadata_spec=metadata,
                version=version,
                correlation_id=correlation_id,
                causation_id=causation_id,
                key=key_bytes,
                headers=headers,
                count=count,
            )
            records = list(built)
            mode = "event"
        existing = writer.topics()
        if topic not in existing:
            raise EnvironmentFailure(
                f"topic '{topic}' does not exist at {state.settings().bootstrap_servers}",
                hint="create it with `dreamscape-infra topics sync`",
            )
        partitions = existing[topic]
        for index, record in enumerate(records):
            if record.partition is not None and record.partition >= partitions:
                raise UsageError(
                    f"{from_file or 'record'}: line {index + 1}: partition {record.partition} "
                    f"does not exist in {topic} ({partitions} partitions)"
                )
        send = writer.send
        for record in records:
            send(record)
        deliveries = writer.flush(60.0)
        elapsed = time.perf_counter() - started
    finally:
        with contextlib.suppress(Exception):
            writer.close()
    if json_mode:
        state.print_json(produce_json(topic, deliveries, event_ids, mode, elapsed))
    else:
        # Lines: plain through a pipe (no rich import on the hot path), rich on a terminal
        state.print_tables(*(Line(line) for line in produce_lines(topic, deliveries, event_ids)))
    failed = [d for d in deliveries if not d.ok]
    if failed:
        raise EnvironmentFailure(
            f"{len(failed)} of {len(deliveries)} record(s) were not delivered to {topic}: "
            f"{failed[0].error}"
        )


def _event_id_of(value: bytes | None) -> str | None:
    from dreamscape_infra.events.decode import decode_value

    event = decode_value(value).event
    found = event.get("eventId") if event is not None else None
    return found if isinstance(found, str) else None


def _replay_records(spec: str, topic: str) -> list[Any]:
    from dreamscape_infra.events.decode import replay_record

    name = "stdin" if spec == "-" else spec
    text = _read_source(spec if spec == "-" else "@" + spec, "--from-file")
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            records.append(replay_record(line, f"{name}:{number}", topic))
    if not records:
        raise UsageError(f"--from-file {name}: no JSON Lines to replay")
    return records


def _envelopes(
    declared: Declared,
    topic: str,
    *,
    event_type: str | None,
    source: str | None,
    payload_spec: str,
    metadata_spec: str | None,
    version: str,
    correlation_id: str | None,
    causation_id: str | None,
    key: bytes | None,
    headers: tuple[tuple[str, bytes | None], ...],
    count: int,
) -> tuple[Iterator[Any], list[str | None]]:
    """`count` envelopes, each validated as it is built; the first is built and validated now,
    so a bad option is a UsageError (exit 2) before anything is sent. `event_ids` fills up as
    the iterator is consumed."""
    from dreamscape_infra.events.envelope import (
        EnvelopeSeries,
        event_type_matches,
        parse_json_argument,
        uuid4_strings,
    )
    from dreamscape_infra.events.model import Outgoing
    from dreamscape_infra.events.schema import EnvelopeChecker

    expected = declared.expected_type(topic)
    if event_type is None:
        if expected is None or any(c in expected for c in "*?["):
            raise UsageError(f"--type is required for {topic} (no single default eventType)")
        event_type = expected
    if source is None:
        raise UsageError("--source is required with --payload (e.g. --source user-service)")
    if expected is not None and not event_type_matches(event_type, expected):
        raise UsageError(
            f"--type '{event_type}' does not match topic {topic} (expected '{expected}'; "
            "`events validate` would reject it; use --raw to send it anyway)"
        )
    what = "--payload" if not payload_spec.startswith("@") else f"--payload {payload_spec}"
    body = parse_json_argument(_read_source(payload_spec, "--payload"), what)
    meta = None
    if metadata_spec is not None:
        mwhat = "--metadata" if not metadata_spec.startswith("@") else f"--metadata {metadata_spec}"
        meta = parse_json_argument(_read_source(metadata_spec, "--metadata"), mwhat)
    checker = EnvelopeChecker()
    series = EnvelopeSeries(
        event_type=event_type,
        source=source,
        payload=body,
        version=version,
        correlation_id=correlation_id,
        causation_id=causation_id,
        metadata=meta,
    )
    ids = iter(uuid4_strings(count))

    def make() -> tuple[Outgoing, str]:
        event_id = next(ids)
        event, value = series.make(event_id)
        if not checker.is_valid(event):
            problems = checker.schema_errors(event)
            raise UsageError(
                "the event would not be a valid BaseEvent: "
                + "; ".join(p.message for p in problems)
            )
        return Outgoing(topic, value, key, headers), event_id

    first, first_id = make()  # a problem shows before any connection is made
    event_ids: list[str | None] = [first_id]

    def stream() -> Iterator[Outgoing]:
        yield first
        for _ in range(count - 1):
            record, event_id = make()
            event_ids.append(event_id)
            yield record

    return stream(), event_ids


# --- schema ---------------------------------------------------------------------------------


@app.command("schema")
def schema(
    ctx: typer.Context,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Print the BaseEvent JSON Schema (draft 2020-12), for services and editors.

    The same schema `events validate` and `events produce` check against; shipped as
    docs/event.schema.json. The schema is a JSON document, so table and json print the same.

    Example: dreamscape-infra events schema > event.schema.json
    """
    from dreamscape_infra.events.schema import event_schema

    del output  # accepted like on every command; a schema has only the one form
    get_state(ctx).print_json(event_schema())


__all__ = ["app"]


def register(root: typer.Typer) -> None:
    """Add the `events` group to the root app."""
    root.add_typer(app, name="events")
