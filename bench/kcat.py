"""Events at volume against kcat: `events tail -o json`, `events produce --from-file`,
`events validate` and `events produce --count` of 100,000 and 1,000,000 events, each next to
kcat (Debian's `kcat`, librdkafka's C client) doing the same on the same broker in the same run.

Every command is a whole process, timed from fork to exit, with its CPU time (user+sys) and
peak RSS from /usr/bin/time. Output goes to files in the bench's work folder, never through Python.
At 1,000,000 events it also runs the acceptance pipe `events tail ... -o json | events produce
... --from-file -`, with both processes' peak RSS, and checks that the copy equals the original
(partition, key, headers, value of every record, through kcat).

Targets (issue 22): tail ≥ 0.5x kcat's throughput, replay ≥ 0.33x kcat -P, validate ≥ 150,000
events/s, produce --count ≥ 100,000 events/s, the 1M run's peak RSS within 30 MiB of the 100k
run's, the pipe under 100 MiB per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.harness import ROOT, Broker, log, ratio, seconds, value

# BENCH_KCAT_SIZES=1000,10000 for a quick try of the bench itself.
SIZES = tuple(int(n) for n in os.environ.get("BENCH_KCAT_SIZES", "100000,1000000").split(","))
PAYLOAD = {"userId": "user-123", "email": "john@example.com", "firstName": "John", "lastName": "D"}
PRODUCER = ("-X", "acks=all", "-X", "enable.idempotence=true")


@dataclass(frozen=True, slots=True)
class Measured:
    """One whole process: wall seconds, CPU seconds (user+sys), peak RSS in MiB, exit code."""

    wall: float
    cpu: float
    rss_mib: float
    code: int
    stderr: str


def measured(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    stdin: Path | int | None = None,
    stdout: Path | int | None = None,
) -> Measured:
    """Run `argv` to its end under /usr/bin/time (CPU and peak RSS of that process alone:
    wait4() from this Python process would report at least this process's own RSS, which the
    kernel carries over to a child at exec); stdin/stdout from/to a file (or a pipe's fd) or
    /dev/null."""
    with (
        open(os.devnull, "rb") as null_in,
        open(os.devnull, "wb") as null_out,
        tempfile.NamedTemporaryFile("r", suffix=".time") as report,
    ):
        source: IO[bytes] | int = (
            stdin if isinstance(stdin, int) else stdin.open("rb") if stdin else null_in
        )
        sink: IO[bytes] | int = (
            stdout if isinstance(stdout, int) else stdout.open("wb") if stdout else null_out
        )
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", report.name, *argv],
            env=dict(env) if env is not None else None,
            cwd=ROOT,
            stdin=source,
            stdout=sink,
            stderr=subprocess.PIPE,
            check=False,
        )
        wall = time.perf_counter() - start
        for handle in (source, sink):
            if not isinstance(handle, int) and handle not in (null_in, null_out):
                handle.close()
        user, system, rss_kib = report.read().split()[-3:]
    return Measured(
        wall,
        float(user) + float(system),
        int(rss_kib) / 1024,
        proc.returncode,
        proc.stderr.decode(errors="replace"),
    )


def ok(run: Measured, what: str) -> Measured:
    if run.code != 0:
        raise SystemExit(f"bench: {what} exited {run.code}:\n{run.stderr[-2000:]}")
    return run


def seed(broker: Broker, topic: str, count: int) -> None:
    """`count` valid BaseEvents with 1,000 keys and a header, straight through confluent_kafka."""
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": broker.bootstrap, "linger.ms": 20, "enable.idempotence": True}
    )
    stamp = "2026-01-15T10:30:00.000Z"
    for i in range(count):
        event = {
            "eventId": str(uuid.uuid4()),
            "eventType": "user.created",
            "timestamp": stamp,
            "version": "1.0",
            "source": "user-service",
            "correlationId": f"corr-{i}",
            "payload": PAYLOAD,
        }
        value = json.dumps(event, separators=(",", ":")).encode()
        while True:
            try:
                producer.produce(
                    topic, value, f"user-{i % 1000}".encode(), headers=[("trace", b"t-%d" % i)]
                )
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10_000 == 0:
            producer.poll(0)
    if producer.flush(300):
        raise SystemExit(f"bench: seeding {topic} left records undelivered")


def digest(broker: Broker, topic: str, work: Path) -> tuple[int, str]:
    """The records of `topic` (partition, key, headers, value) as a count and a sha256 of their
    sorted lines, read by kcat."""
    out = work / f"{topic}.dump"
    ok(
        measured(
            [
                "kcat",
                "-b",
                broker.bootstrap,
                "-C",
                "-t",
                topic,
                "-e",
                "-o",
                "beginning",
                "-q",
                "-f",
                "%p\t%k\t%h\t%s\n",
            ],
            stdout=out,
        ),
        f"kcat -C {topic}",
    )
    subprocess.run(["sort", "-o", str(out), str(out)], check=True, env={"LC_ALL": "C"})
    sha = hashlib.sha256()
    lines = 0
    with out.open("rb") as handle:
        for line in handle:
            sha.update(line)
            lines += 1
    out.unlink()
    return lines, sha.hexdigest()


def _median(runs: Sequence[Measured], field: str) -> float:
    return float(statistics.median(getattr(r, field) for r in runs))


def measure(broker: Broker, tag: str, runs: int = 3) -> Any:
    """Every figure of this section, as a results.json section."""
    if shutil.which("kcat") is None:
        raise SystemExit("bench: kcat is missing (`make bench-deps`: apt-get install kcat)")
    admin = broker.admin()
    from confluent_kafka.admin import NewTopic

    prefix = f"{tag}kc."
    figures: list[dict[str, Any]] = []
    ratios: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    notes: list[str] = []
    peaks: dict[int, dict[str, float]] = {}
    work = broker.work
    env = broker.env
    cli = broker.cli
    for size in SIZES:
        n = f"{size // 1000}k" if size < 1_000_000 else f"{size // 1_000_000}M"
        src, ours, theirs, made = (prefix + f"{n}.{t}" for t in ("src", "ours", "kcat", "count"))
        futures = admin.create_topics([NewTopic(t, 3, 1) for t in (src, ours, theirs, made)])
        for future in futures.values():
            future.result()
        log(f"seeding {src} with {size:,} events")
        seed(broker, src, size)
        lines, values = work / f"{n}.jsonl", work / f"{n}.values"
        got: dict[str, list[Measured]] = {}

        def run(key: str, argv: Sequence[str], **io: Any) -> None:
            got.setdefault(key, []).append(ok(measured(argv, env, **io), key))  # noqa: B023

        kcat = ["kcat", "-b", broker.bootstrap]
        for i in range(runs):
            log(f"{n}: round {i + 1} of {runs}")
            run(
                "tail",
                cli("events", "tail", src, "--from-beginning", "-o", "json"),
                stdout=lines,
            )
            run("kcat -C", [*kcat, "-C", "-t", src, "-e", "-o", "beginning", "-q"], stdout=values)
            run("replay", cli("events", "produce", ours, "--allow-undeclared", "--from-file",
                              str(lines)))  # fmt: skip
            run("kcat -P", [*kcat, "-P", "-t", theirs, *PRODUCER, "-l", str(values)])
            run("validate", cli("events", "validate", src))
            run(
                "count",
                cli("events", "produce", made, "--allow-undeclared", "--type", "user.created",
                    "--source", "bench",
                    "--payload", json.dumps(PAYLOAD), "--count", str(size)),
            )  # fmt: skip
        labels = {
            "tail": f"`events tail --from-beginning -o json` of {n} events (to a file)",
            "kcat -C": f"`kcat -C -e -o beginning` of {n} events (values, to a file)",
            "replay": f"`events produce --from-file` of those {n} lines",
            "kcat -P": f"`kcat -P -l` of those {n} values, acks=all, idempotent",
            "validate": f"`events validate` of {n} events",
            "count": f"`events produce --count {size}` (envelopes built and checked)",
        }
        for key, label in labels.items():
            figures.append(seconds(label, [r.wall for r in got[key]], f"{key} {n}"))
            wall, cpu = _median(got[key], "wall"), _median(got[key], "cpu")
            rss = max(r.rss_mib for r in got[key])
            rows.append(
                [label, f"{wall:.2f} s", f"{cpu:.2f} s", f"{rss:.0f} MiB", f"{size / wall:,.0f}"]
            )
            peaks.setdefault(size, {})[key] = rss
        ratios.append(ratio(f"{n}: `events tail -o json` vs `kcat -C`", f"tail {n}",
                            f"kcat -C {n}", 0.5))  # fmt: skip
        ratios.append(ratio(f"{n}: `events produce --from-file` vs `kcat -P`", f"replay {n}",
                            f"kcat -P {n}", 0.33))  # fmt: skip
        figures.append(
            value(
                f"{n}: `events validate`, events/s (target ≥ 150,000)",
                f"{size / _median(got['validate'], 'wall'):,.0f}",
            )
        )
        figures.append(
            value(
                f"{n}: `events produce --count`, events/s (target ≥ 100,000)",
                f"{size / _median(got['count'], 'wall'):,.0f}",
            )
        )
        if size == SIZES[-1]:
            notes += pipe(broker, src, prefix + f"{n}.pipe", rows, size)
        lines.unlink(missing_ok=True)
        values.unlink(missing_ok=True)
        broker.delete_prefix(prefix + n + ".")
    small, large = (peaks[s] for s in SIZES)
    for key in ("tail", "replay", "validate"):
        grew = large[key] - small[key]
        verdict = "met" if grew <= 30 else "**not met**"
        notes.append(
            f"`{key}` peak RSS {small[key]:.0f} MiB at 100k, {large[key]:.0f} MiB at 1M "
            f"(+{grew:.0f} MiB; target ≤ +30 MiB: {verdict})"
        )
    return {
        "title": "Events at volume, against kcat",
        "about": (
            "kcat is Debian's `kcat` (librdkafka's C client), on the same broker in the same run."
            " Each command is a whole process; wall time, and CPU time (user+sys) and peak"
            " RSS from /usr/bin/time. The topic has 3 partitions, valid BaseEvents with 1,000"
            " keys and a header. Ours reads and writes the JSON Lines replay form (keys, headers,"
            " partitions), kcat only the values; both producers use acks=all and idempotence."
        ),
        "figures": figures,
        "ratios": ratios,
        "notes": notes,
        "tables": [
            {
                "title": "Medians (wall, CPU) and the highest peak RSS of the runs",
                "head": ["command", "wall", "CPU", "peak RSS", "events/s (wall)"],
                "rows": rows,
            }
        ],
    }


def pipe(broker: Broker, src: str, copy: str, rows: list[list[str]], size: int) -> list[str]:
    """`events tail src -o json | events produce copy --from-file -`: both processes measured,
    and the copy compared with the original."""
    from confluent_kafka.admin import NewTopic

    admin = broker.admin()  # kept while the future resolves: a dropped client cancels it
    admin.create_topics([NewTopic(copy, 3, 1)])[copy].result()
    env = broker.env
    read_fd, write_fd = os.pipe()
    results: dict[str, Measured] = {}

    def tail() -> None:
        try:
            results["tail"] = measured(
                broker.cli("events", "tail", src, "--from-beginning", "-o", "json"),
                env,
                stdout=write_fd,
            )
        finally:
            os.close(write_fd)

    thread = threading.Thread(target=tail)
    start = time.perf_counter()
    thread.start()
    try:
        results["produce"] = measured(
            broker.cli("events", "produce", copy, "--allow-undeclared", "--from-file", "-"),
            env,
            stdin=read_fd,
        )
    finally:
        os.close(read_fd)
        thread.join()
    wall = time.perf_counter() - start
    ok(results["tail"], "the pipe's tail")
    ok(results["produce"], "the pipe's produce")
    original, copied = digest(broker, src, broker.work), digest(broker, copy, broker.work)
    same = original == copied
    if not same:
        raise SystemExit(f"bench: the copy differs: {original} vs {copied}")
    label = "the pipe `events tail -o json | events produce --from-file -`"
    rows.append(
        [
            f"{label}: tail",
            f"{results['tail'].wall:.2f} s",
            f"{results['tail'].cpu:.2f} s",
            f"{results['tail'].rss_mib:.0f} MiB",
            "",
        ]
    )
    rows.append(
        [
            f"{label}: produce",
            f"{results['produce'].wall:.2f} s",
            f"{results['produce'].cpu:.2f} s",
            f"{results['produce'].rss_mib:.0f} MiB",
            f"{size / wall:,.0f}",
        ]
    )
    worst = max(r.rss_mib for r in results.values())
    verdict = "met" if worst < 100 else "**not met**"
    return [
        f"The pipe of {size:,} events took {wall:.1f} s; peak RSS {results['tail'].rss_mib:.0f}"
        f" MiB (tail) and {results['produce'].rss_mib:.0f} MiB (produce), target < 100 MiB:"
        f" {verdict}. The copy equals the original: {original[0]:,} records, the same"
        f" partition, key, headers and value (sha256 of the sorted kcat dumps"
        f" {original[1][:12]}…)."
    ]
