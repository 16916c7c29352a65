"""`dreamscape-infra events ...`: read, publish and check events in the BaseEvent envelope.

tail and validate read through `AppState.event_reader_factory` (by partition assignment, never a
consumer group), produce writes through `AppState.event_writer_factory` (idempotent, acks=all);
tests replace both with fakes. schema needs no cluster. topics.yaml comes through the one loader
(`AppState.desired`). This module parses, calls `dreamscape_infra.events` and renders.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import typer

from dreamscape_infra.cli.state import (
    OUTPUT_OPTION,
    TOPICS_FILE_OPTION,
    AppState,
    OutputFormat,
    get_state,
)
from dreamscape_infra.errors import ConfigError, UsageError
from dreamscape_infra.events.model import KEEP_DELIVERIES
from dreamscape_infra.tables import Line

if TYPE_CHECKING:
    from dreamscape_infra.events.decode import Decoded
    from dreamscape_infra.events.model import (
        DeliveryReport,
        EventReader,
        EventWriter,
        Header,
        Message,
        Outgoing,
        Partition,
    )
    from dreamscape_infra.events.position import Position
    from dreamscape_infra.events.produce import EventOptions
    from dreamscape_infra.schemas.payload import PayloadChecker
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.tables import TableData
    from dreamscape_infra.topics.model import DesiredState

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


# --- shared ---------------------------------------------------------------------------------


def _declared(state: AppState, required: bool) -> DesiredState | None:
    """topics.yaml through the one loader (`AppState.desired`): a file `topics validate` rejects
    is rejected here with the same located errors (exit 3). Reading commands work without the
    file (None: nothing is declared, the prefix is dreamscape.); produce needs it unless
    --allow-undeclared."""
    if not required and not Path(state.topics_file).exists():
        return None
    return state.desired(None)


def _reader(state: AppState) -> EventReader:
    settings = state.settings()
    if state.event_reader_factory is not None:
        return state.event_reader_factory(settings)
    from dreamscape_infra.kafka.events import ConfluentEventReader

    return ConfluentEventReader(settings)


def _writer(state: AppState, settings: ConnectionSettings) -> EventWriter:
    if state.event_writer_factory is not None:
        return state.event_writer_factory(settings)
    from dreamscape_infra.kafka.events import ConfluentEventWriter

    return ConfluentEventWriter(settings)


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


def _warn(state: AppState, text: str) -> None:
    state.err_console().print(text, markup=False, highlight=False)


class _Progress:
    """Progress on stderr for people on a terminal (count, rate, and a bar when the total is
    known); nothing otherwise, so a pipe or a log gets no extra bytes."""

    def __init__(self, state: AppState, enabled: bool, total: int | None, what: str) -> None:
        self._bar: Any = None
        if enabled and (total is None or total > 0):
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            columns: list[Any] = [TextColumn(what)]
            if total is not None:
                columns += [BarColumn(), MofNCompleteColumn()]
            else:
                columns.append(TextColumn("{task.completed:,}"))
            columns.append(TextColumn("{task.fields[rate]}"))
            if total is not None:
                columns.append(TimeRemainingColumn())
            self._bar = Progress(*columns, console=state.err_console(), transient=True)
            self._task = self._bar.add_task(what, total=total, rate="")
            self._started = time.monotonic()
            self._done = 0

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._done += count
            elapsed = time.monotonic() - self._started
            rate = f"{self._done / elapsed:,.0f}/s" if elapsed > 0 else ""
            self._bar.update(self._task, advance=count, rate=rate)


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

    def write(self, shown: Sequence[tuple[Message, Decoded]]) -> None:
        from dreamscape_infra.events.render import tail_row

        rows = [tail_row(message, decoded, many_topics=self._many) for message, decoded in shown]
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


class _JsonLines:
    """--output json: one JSON object per message (`fastjson.LineWriter`, byte for byte what
    `decode.json_line` gives), each batch written to stdout at once, as bytes."""

    def __init__(self) -> None:
        from dreamscape_infra.events.fastjson import LineWriter

        self._lines = LineWriter().lines
        sys.stdout.flush()
        self._out = sys.stdout.buffer

    def write(self, shown: Sequence[Message]) -> None:
        if shown:
            self._out.write(self._lines(list(shown)))
            self._out.flush()

    def flush(self) -> None:
        pass


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
    from dreamscape_infra.events.read import plan_scan, read_batches
    from dreamscape_infra.events.render import tail_summary, unfinished_names
    from dreamscape_infra.events.selection import (
        MessageFilter,
        ShownCounts,
        capped_batches,
        declared_names,
        shown_messages,
    )

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    position = _position(from_beginning, since, offset)
    declared = declared_names(_declared(state, required=False))
    selection = MessageFilter(key=key, event_type=event_type, grep=grep)
    counts = ShownCounts()
    left: set[Partition] = set()
    with _closing(_reader(state)) as reader:
        scan = plan_scan(reader, declared, topics, position, partition)
        title = f"{', '.join(scan.topics)} ({position.describe()})"
        many = len(scan.topics) > 1
        sink = _JsonLines() if json_mode else _TableStream(state, title, many, follow)
        # On a terminal, while the output goes to a file or a pipe: how far the read is.
        progress_on = not follow and state.err_is_terminal() and not sys.stdout.isatty()
        batches = read_batches(reader, scan.plan, follow=follow, left=left)
        try:
            with _Progress(state, progress_on, scan.plan.total, "reading") as progress:
                if isinstance(sink, _JsonLines) and not selection.active:
                    # Nothing to filter or count: lines straight from the batches.
                    for read, messages in capped_batches(batches, max_messages, counts):
                        progress.advance(read)
                        sink.write(messages)
                else:
                    for read, shown in shown_messages(batches, selection, max_messages, counts):
                        progress.advance(read)
                        if isinstance(sink, _JsonLines):
                            sink.write([message for message, _ in shown])
                        else:
                            sink.write(shown)
        except KeyboardInterrupt:
            pass  # Ctrl-C ends --follow (or a long read) normally: exit 0
        except BrokenPipeError:
            _stdout_gone()
            return
    try:
        sink.flush()
    except BrokenPipeError:
        _stdout_gone()
        return
    if not json_mode:
        from_end = position.kind == "end" and not follow
        _warn(state, tail_summary(counts, filtered=selection.active, hint_older=from_end))
        if left:
            _warn(state, f"warning: gave up waiting for {', '.join(unfinished_names(left))}")


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
    from dreamscape_infra.events.envelope import declared_event_type
    from dreamscape_infra.events.read import plan_scan, read_batches
    from dreamscape_infra.events.render import (
        unfinished_names,
        validation_json,
        validation_summary,
        validation_tables,
    )
    from dreamscape_infra.events.schema import EnvelopeChecker
    from dreamscape_infra.events.selection import declared_names
    from dreamscape_infra.events.validate import ValidationTally

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    position = _position(from_beginning, since, offset, default="beginning")
    desired = _declared(state, required=False)
    left: set[Partition] = set()
    with _closing(_reader(state)) as reader:
        scan = plan_scan(reader, declared_names(desired), topics, position, partition)
        expected = {t: declared_event_type(desired, t) for t in scan.topics}
        payloads = _payloads(desired)
        tally = ValidationTally(
            EnvelopeChecker(),
            expected,
            payload_check=payloads.findings if payloads else None,
            payload_topics=payloads.topics if payloads else frozenset(),
        )
        progress_on = not json_mode and state.err_is_terminal()
        total = scan.plan.total if max_messages is None else min(scan.plan.total, max_messages)
        with _Progress(state, progress_on, total, "validating") as progress:
            batches = read_batches(reader, scan.plan, left=left)
            for tallied in tally.tally_batches(batches, max_messages):
                progress.advance(tallied)
    unfinished = unfinished_names(left)
    if json_mode:
        state.print_json(validation_json(tally, scan.topics, position.describe(), unfinished))
    else:
        state.print_tables(*validation_tables(tally, scan.topics))
        state.print_tables(Line(validation_summary(tally)))
        if unfinished:
            _warn(state, f"warning: gave up waiting for {', '.join(unfinished)}")
    tally.raise_if_failed()


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


def _json_option(spec: str, option: str) -> Any:
    """The JSON of --payload or --metadata (text, @file or -); errors name the option."""
    from dreamscape_infra.events.envelope import parse_json_argument

    what = option if not spec.startswith("@") else f"{option} {spec}"
    return parse_json_argument(_read_source(spec, option), what)


def _one_mode(*, payload: str | None, raw: str | None, from_file: str | None) -> None:
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


def _parse_headers(headers: Sequence[str]) -> tuple[Header, ...]:
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
    topics.yaml or a payload its declared schema refuses, 4 Kafka unreachable or a record not
    delivered.

    Example: dreamscape-infra events produce dreamscape.user.created --type user.created
    --source user-service --payload '{"userId":"user-123"}'
    """
    from dreamscape_infra.events.produce import EventOptions, check_delivered
    from dreamscape_infra.events.render import produce_json, produce_lines
    from dreamscape_infra.events.selection import check_declared, declared_names

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    _one_mode(payload=payload, raw=raw, from_file=from_file)
    desired = _declared(state, required=not allow_undeclared)
    if not allow_undeclared:
        check_declared(topic, declared_names(desired))
    request = _Request(
        topic,
        desired,
        EventOptions(event_type, source, version, correlation_id, causation_id),
        payload=payload,
        metadata=metadata,
        raw=raw,
        from_file=from_file,
        key=key.encode("utf-8") if key is not None else None,
        headers=_parse_headers(header),
        count=count,
    )
    progress_on = state.err_is_terminal()
    report, event_ids, mode, elapsed = _send(state, request, progress_on)
    if json_mode:
        state.print_json(produce_json(topic, report, event_ids, mode, elapsed))
    else:
        # Lines: plain through a pipe (no rich import on the hot path), rich on a terminal
        state.print_tables(*(Line(line) for line in produce_lines(topic, report, event_ids)))
    check_delivered(topic, report)


@dataclass(frozen=True, slots=True)
class _Request:
    """What `events produce` was asked to send, as parsed from its options."""

    topic: str
    desired: DesiredState | None
    options: EventOptions
    payload: str | None
    metadata: str | None
    raw: str | None
    from_file: str | None
    key: bytes | None
    headers: tuple[Header, ...]
    count: int


def _send(
    state: AppState, request: _Request, progress_on: bool
) -> tuple[DeliveryReport, list[str | None], str, float]:
    """Build or read the records and stream them out: the delivery report, the first eventIds,
    the mode, and the seconds from the producer's creation to the last delivery."""
    from dreamscape_infra.events.produce import ReplayLines, send_records

    settings = state.settings()
    # librdkafka connects in its own threads from here on; the first records are read or
    # built meanwhile, so that the connection is (nearly) ready when they are.
    writer = _writer(state, settings)
    started = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            if request.from_file is not None:
                spec = request.from_file
                name = "stdin" if spec == "-" else spec
                stream = sys.stdin.buffer if spec == "-" else stack.enter_context(_open(spec))
                replay = ReplayLines(stream, name, request.topic)
                records: Iterable[Outgoing] = replay
                event_ids, mode, total = replay.event_ids, "replay", None
                where = lambda n: replay.where()  # noqa: E731
            else:
                records, event_ids, mode = _records(request)
                total = request.count
                where = lambda n: f"record {n}"  # noqa: E731
            what = "replaying" if mode == "replay" else "producing"
            with _Progress(state, progress_on and (total or 0) != 1, total, what) as progress:
                report = send_records(
                    writer,
                    request.topic,
                    records,
                    where=where,
                    bootstrap=settings.bootstrap_servers,
                    progress=progress.advance,
                )
        return report, event_ids, mode, time.perf_counter() - started
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _open(path_text: str) -> BinaryIO:
    path = Path(path_text)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"--from-file: file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"--from-file: cannot read {path}: {exc.__class__.__name__}") from None


def _records(request: _Request) -> tuple[Iterable[Outgoing], list[str | None], str]:
    """The records to send (made as they are sent), their first eventIds and the mode: a raw
    value `count` times, or `count` envelopes built from the options."""
    from dreamscape_infra.events.envelope import declared_event_type
    from dreamscape_infra.events.model import Outgoing
    from dreamscape_infra.events.produce import envelope_records

    topic, count = request.topic, request.count
    if request.raw is not None:
        raw = Outgoing(topic, request.raw.encode("utf-8"), request.key, request.headers)
        return itertools.repeat(raw, count), [None] * min(count, KEEP_DELIVERIES), "raw"
    options = request.options.checked_for(topic, declared_event_type(request.desired, topic))
    payload = _json_option(request.payload or "", "--payload")
    _check_payload(request.desired, topic, payload)
    metadata = None if request.metadata is None else _json_option(request.metadata, "--metadata")
    built, event_ids = envelope_records(
        topic, options, payload, metadata, key=request.key, headers=request.headers, count=count
    )
    return built, event_ids, "event"


def _payloads(desired: DesiredState | None) -> PayloadChecker | None:
    from dreamscape_infra.schemas.payload import payload_checker

    return payload_checker(desired)


def _check_payload(desired: DesiredState | None, topic: str, payload: Any) -> None:
    """ConfigError (exit 3) when the payload breaks the topic's declared schema (--raw skips)."""
    checker = _payloads(desired)
    errors = checker.errors(topic, payload) if checker is not None else []
    if errors:
        raise ConfigError(
            [f"--payload: {e}" for e in errors],
            hint=f"{topic}'s payload follows {checker.source(topic) if checker else '?'} "
            "(topics.yaml `schema`); --raw sends a value unchecked",
        )


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
