"""The JSON Lines of `events tail -o json` byte for byte, and replay exactness.

`GOLDEN` (tests/fixtures/events_tail_golden.jsonl) is what the code printed for `golden_reader()`
before the fast paths were written; any change to the bytes of a line (spacing, escapes, number
forms, key order, when `value_base64` appears) fails here. The replay test sends those lines back
through `events produce --from-file` and compares every record's partition, key, value and headers
with the original bytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.events.model import Message
from tests.events_support import FakeReader, FakeWriter, topics_file

runner = CliRunner()
UC = "dreamscape.user.created"
PC = "dreamscape.payment.completed"
GOLDEN = Path(__file__).parent / "fixtures" / "events_tail_golden.jsonl"

_EVENT = (
    b'{"eventId":"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f","eventType":"user.created",'
    b'"timestamp":"2024-01-15T10:30:00.000Z","version":"1.0","source":"user-service",'
    b'"correlationId":"corr-1","payload":{"userId":"u-1","name":"Zo\xc3\xa9"}}'
)

# (partition, key, value, headers, timestamp_ms): every kind of byte string a line can carry.
UC_RECORDS: list[tuple[int, bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]]] = [
    (0, b"u-1", _EVENT, (("trace", b"t1"), ("tenant", b"acme"))),
    (0, None, b'{ "spaced": 1.0E2 }', ()),
    (0, b"\x00\x01\xff", b"\xff\xfe binary", (("bin", b"\xff\x00"), ("none", None))),
    (0, b"tombstone", None, ()),
    (1, "clé".encode(), "texte non JSON é".encode(), (("é", "ü".encode()),)),
    (1, b"", b"", (("empty", b""),)),
    (1, b"n", b"12345678901234567890123", ()),
    (1, b"f", b"[1.5,1e100,-0.0,0.1,1E-7,3.0]", ()),
    (1, b"s", b'"just a string"', ()),
    (1, b"esc", b'{"a":"\\u00e9\\n\\t\\"\\\\/","b":"\\ud83d\\ude00"}', ()),
    (2, b"dup", b'{"a":1,"a":2}', ()),
    (2, b"nan", b'{"x":NaN}', ()),
    (2, b"ctl", '{"c":"\x7f \u2028 \u2029 \U0001f600"}'.encode(), ()),
    (2, b"nested", b'{"a":{"b":[true,false,null,{}],"c":[]},"d":-12,"e":0}', ()),
    (2, b"ws", b'  {"a":1}\n', ()),
    (2, b"bom", b'\xef\xbb\xbf{"a":1}', ()),
    (2, b"ctrl", b"line1\nline2\r\x00", ()),
    (2, b"slash", b'{"u":"a/b","v":"\\/"}', ()),
]


def golden_reader() -> FakeReader:
    """The fixed set of messages behind GOLDEN: three partitions of one topic and one of another,
    one without a timestamp."""
    reader = FakeReader(batch_limit=3)
    for index, (partition, key, value, headers) in enumerate(UC_RECORDS):
        reader.add(UC, partition, value, key, headers, timestamp_ms=1_705_314_600_000 + index)
    reader.add(PC, 0, _EVENT.replace(b"user.created", b"payment.completed"), b"p", ())
    log = reader.logs[(PC, 0)]
    log.append(Message(PC, 0, 1, None, b"no-time", b"{}", ()))
    return reader


def _state(reader: FakeReader | None = None, writer: FakeWriter | None = None) -> AppState:
    return AppState(
        environ={},
        event_reader_factory=(lambda s: reader) if reader is not None else None,
        event_writer_factory=(lambda s: writer) if writer is not None else None,
        plain_tables=True,
    )


def _tail(tmp_path: Path, reader: FakeReader, *topics: str) -> bytes:
    path = topics_file(tmp_path)
    result = runner.invoke(
        app,
        ["--topics-file", str(path), "events", "tail", *topics, "--from-beginning", "-o", "json"],
        obj=_state(reader),
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def test_tail_json_lines_are_byte_for_byte_the_golden_ones(tmp_path: Path) -> None:
    printed = _tail(tmp_path, golden_reader(), UC, PC)
    golden = GOLDEN.read_bytes()
    assert printed.splitlines() == golden.splitlines()
    assert printed == golden


def test_golden_lines_replay_exactly(tmp_path: Path) -> None:
    reader = golden_reader()
    writer = FakeWriter({UC: 3})
    path = topics_file(tmp_path)
    result = runner.invoke(
        app,
        ["--topics-file", str(path), "events", "produce", UC, "--from-file", str(GOLDEN)],
        obj=_state(writer=writer),
    )
    assert result.exit_code == 0, result.stderr
    original = [m for part in sorted(reader.logs) for m in reader.logs[part]]
    assert [(m.partition, m.key, m.value, m.headers) for m in writer.sent] == [
        (m.partition, m.key, m.value, m.headers) for m in original
    ]
    assert {m.topic for m in writer.sent} == {UC}


def test_golden_file_is_json_lines() -> None:
    lines = GOLDEN.read_bytes().splitlines()
    assert len(lines) == len(UC_RECORDS) + 2
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_a_bad_line_stops_the_replay_and_says_what_was_sent_before(tmp_path: Path) -> None:
    good = GOLDEN.read_bytes().splitlines()[:3]
    lines = tmp_path / "lines.jsonl"
    lines.write_bytes(b"\n".join([*good, b"", b"{oops", good[0]]) + b"\n")
    writer = FakeWriter({UC: 3})
    result = runner.invoke(
        app,
        [
            "--topics-file",
            str(topics_file(tmp_path)),
            "events",
            "produce",
            UC,
            "--from-file",
            str(lines),
        ],
        obj=_state(writer=writer),
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {lines}:5: invalid JSON at line 1 column 2: Expecting property name enclosed in "
        "double quotes; nothing after it was sent; the 3 record(s) before it were delivered to "
        f"{UC}\n"
    )
    assert len(writer.sent) == 3


def test_replay_streams_each_record_before_reading_the_next_line() -> None:
    from dreamscape_infra.events.produce import ReplayLines, send_records

    good = GOLDEN.read_bytes().splitlines()
    writer = FakeWriter({UC: 3})
    sent_when_read: list[int] = []

    def lines() -> Iterator[bytes]:
        for line in good:
            sent_when_read.append(len(writer._pending))
            yield line

    report = send_records(
        writer, UC, ReplayLines(lines(), "stdin", UC), where=lambda n: "x", bootstrap="b"
    )
    assert sent_when_read == list(range(len(good)))
    assert (report.sent, report.delivered, report.failed) == (len(good), len(good), 0)


def test_progress_shows_on_a_terminal_and_never_through_a_pipe(tmp_path: Path) -> None:
    path = topics_file(tmp_path)
    args = ["--topics-file", str(path), "events", "tail", UC, PC, "--from-beginning", "-o", "json"]
    screen = io.StringIO()
    on_terminal = _state(golden_reader())
    on_terminal._err = Console(file=screen, force_terminal=True, width=100)
    result = runner.invoke(app, args, obj=on_terminal)
    assert result.exit_code == 0
    assert result.stdout_bytes == GOLDEN.read_bytes()  # progress never reaches stdout
    assert "reading" in screen.getvalue()
    assert "/s" in screen.getvalue()
    piped = runner.invoke(app, args, obj=_state(golden_reader()))
    assert piped.stdout_bytes == GOLDEN.read_bytes()
    assert piped.stderr == ""
