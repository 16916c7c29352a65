"""Events benchmarks against a real local Kafka broker, each figure next to its baseline.

1. `events tail dreamscape.user.created --from-beginning --max-messages 5`, the whole process,
   against the seed's `kafka-console-consumer` doing the same from the same jars on the same
   broker (ConsoleConsumer, one JVM; target: at least 3 times faster).
2. `events produce --count 10000` with acks=all and idempotence (target: ≥ 20,000 events/s for
   the whole process), against `kafka-console-producer` writing the same 10,000 envelopes with
   the same acks and idempotence (ConsoleProducer, one JVM).
3. `events validate` over the 100,000 events those produce runs wrote (target: ≥ 50,000
   events/s for the whole process), against jsonschema's `Draft202012Validator.is_valid` alone
   over the same events, in-process (what validating without the compiled fast check costs).

Run `python bench/events_bench.py` (or `make bench`). It starts its own broker with
`dreamscape-infra up --runtime local --no-sync` in a private state dir on free ports, syncs the
shipped topics.yaml, stops everything at the end (`down -v`), and writes its section of
docs/benchmarks.md between the `events` markers, leaving the rest of the file alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _bytecode import ensure_bytecode

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- events:begin -->"
END = "<!-- events:end -->"
CACHE = Path(os.environ.get("DREAMSCAPE_CACHE", Path.home() / ".cache" / "dreamscape-infra"))
KAFKA_VERSION = os.environ.get("BENCH_KAFKA_VERSION", "3.9.1")
TAIL_TOPIC = "dreamscape.user.created"
PRODUCE_TOPIC = "dreamscape.analytics.event.tracked"
BASELINE_PRODUCE_TOPIC = "dreamscape.analytics.page.view"
PAYLOAD = '{"userId":"user-123","email":"john@example.com","firstName":"John","lastName":"Doe"}'
PRODUCE_COUNT = 10_000
VALIDATE_TOTAL = 100_000
RESERVED_PORTS = {2181, 9092, 12181, 19092}
# What kafka-run-class.sh gives a tool JVM (KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS).
TOOL_JVM_OPTS = (
    "-Xmx256M",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    code: int
    stdout: str
    stderr: str


def timed(
    argv: Sequence[str], env: Mapping[str, str], stdin: str | None = None, timeout: float = 600
) -> Run:
    """Wall time of one whole process, from fork to exit."""
    start = time.perf_counter()
    proc = subprocess.run(
        list(argv),
        env=dict(env),
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(time.perf_counter() - start, proc.returncode, proc.stdout, proc.stderr)


def must(run: Run, what: str) -> Run:
    if run.code != 0:
        raise SystemExit(f"bench: {what} exited {run.code}:\n{run.stderr[-2000:]}")
    return run


@dataclass(frozen=True, slots=True)
class Stats:
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def cell(self) -> str:
        if len(self.values) == 1:
            return f"{self.values[0]:.2f} s (n=1)"
        return (
            f"{self.median:.2f} s ({min(self.values):.2f}-{max(self.values):.2f}, "
            f"n={len(self.values)})"
        )


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def cli(*args: str) -> list[str]:
    """The CLI of this checkout (PYTHONPATH=ROOT in the env), as a whole process."""
    return [sys.executable, "-m", "dreamscape_infra", *args]


@dataclass(frozen=True, slots=True)
class Broker:
    bootstrap: str
    libs: Path
    how: str
    env: dict[str, str]


@contextlib.contextmanager
def local_broker() -> Iterator[Broker]:
    """`up --runtime local --no-sync` in a private state dir on free ports; always `down -v`."""
    libs = CACHE / "kafka" / KAFKA_VERSION / "libs"
    if not (libs.parent / ".complete").is_file():
        raise SystemExit(f"bench: no Kafka {KAFKA_VERSION} jars in {libs}; run `make kafka-dist`")
    work = Path(tempfile.mkdtemp(prefix="dreamscape-events-bench-"))
    kafka_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "DREAMSCAPE_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "NO_COLOR": "1",
            "DREAMSCAPE_STATE_DIR": str(work / "state"),
            "DREAMSCAPE_ZK_PORT": str(free_port()),
            "DREAMSCAPE_KAFKA_PORT": str(kafka_port),
            "DREAMSCAPE_CONTROLLER_PORT": str(free_port()),
            "KAFKA_BROKERS": f"127.0.0.1:{kafka_port}",
            "DREAMSCAPE_TOPICS_FILE": str(ROOT / "topics.yaml"),
        }
    )
    try:
        up = must(timed(cli("up", "--runtime", "local", "--no-sync"), env, timeout=300), "up")
        how = f"started with `dreamscape-infra up --runtime local` in {up.seconds:.1f} s"
        yield Broker(f"127.0.0.1:{kafka_port}", libs, how, env)
    finally:
        down = timed(cli("down", "--runtime", "local", "-v", "--yes"), env, timeout=300)
        if down.code != 0:
            log(f"`down` exited {down.code}: {down.stderr[-500:]}")
        shutil.rmtree(work, ignore_errors=True)


def tool_logging(work: Path) -> list[str]:
    """Tool JVMs log warnings to stderr only, as kafka-run-class.sh's tools-log4j does."""
    log4j = work / "tools-log4j.properties"
    log4j.write_text(
        "log4j.rootLogger=WARN, stderr\n"
        "log4j.appender.stderr=org.apache.log4j.ConsoleAppender\n"
        "log4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n"
        "log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
        "log4j.appender.stderr.Target=System.err\n"
    )
    log4j2 = work / "tools-log4j2.properties"
    log4j2.write_text(
        "rootLogger.level=WARN\nrootLogger.appenderRef.stderr.ref=STDERR\n"
        "appender.stderr.type=Console\nappender.stderr.name=STDERR\n"
        "appender.stderr.target=SYSTEM_ERR\nappender.stderr.layout.type=PatternLayout\n"
        "appender.stderr.layout.pattern=[%d] %p %m (%c)%n\n"
    )
    return [f"-Dlog4j.configuration=file:{log4j}", f"-Dlog4j2.configurationFile={log4j2}"]


def java_tool(broker: Broker, log_opts: Sequence[str], tool: str, *args: str) -> list[str]:
    """A Kafka CLI tool from the same jars, as kafka-run-class.sh runs it (without bash)."""
    v4 = KAFKA_VERSION.startswith("4")
    # ConsoleConsumer moved to the tools jar in 3.7; ConsoleProducer only in 4.0.
    main = {
        "consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "producer": "org.apache.kafka.tools.ConsoleProducer"
        if v4
        else "kafka.tools.ConsoleProducer",
    }[tool]
    return ["java", *TOOL_JVM_OPTS, *log_opts, "-cp", f"{broker.libs}/*", main, *args]


@dataclass
class Results:
    tail: list[float] = field(default_factory=list)
    console_consumer: list[float] = field(default_factory=list)
    produce: list[float] = field(default_factory=list)
    produce_inside: list[float] = field(default_factory=list)  # the command's own elapsed_s
    console_producer: list[float] = field(default_factory=list)
    validate: list[float] = field(default_factory=list)
    validated: int = 0
    jsonschema_rate: float = 0.0
    help_runs: list[float] = field(default_factory=list)
    load_start: float = field(default_factory=lambda: os.getloadavg()[0])


def envelope_lines(count: int, event_type: str) -> str:
    from dreamscape_infra.events.envelope import build_envelope, encode_event

    payload = json.loads(PAYLOAD)
    return "".join(
        encode_event(
            build_envelope(event_type=event_type, source="bench", payload=payload)
        ).decode()
        + "\n"
        for _ in range(count)
    )


def tail_figures(broker: Broker, log_opts: Sequence[str], res: Results, runs: int) -> None:
    env = broker.env
    must(
        timed(
            cli(
                "events",
                "produce",
                TAIL_TOPIC,
                "--source",
                "user-service",
                "--payload",
                PAYLOAD,
                "--count",
                "20",
            ),
            env,
        ),
        "seeding the tail topic",
    )
    ours = cli("events", "tail", TAIL_TOPIC, "--from-beginning", "--max-messages", "5")
    theirs = java_tool(
        broker,
        log_opts,
        "consumer",
        "--bootstrap-server",
        broker.bootstrap,
        "--topic",
        TAIL_TOPIC,
        "--from-beginning",
        "--max-messages",
        "5",
    )
    # One untimed warm-up of each, so neither pays for a cold page cache.
    must(timed(ours, env), "events tail (warm-up)")
    must(timed(theirs, env), "kafka-console-consumer (warm-up)")
    for _ in range(runs):
        run = must(timed(ours, env), "events tail")
        if run.stdout.count("\tuser.created\t") != 5:  # five rows, title and header apart
            raise SystemExit(f"bench: events tail did not show 5 events:\n{run.stdout}")
        res.tail.append(run.seconds)
        run = must(timed(theirs, env), "kafka-console-consumer")
        if len(run.stdout.strip().splitlines()) != 5:
            raise SystemExit(f"bench: the console consumer did not print 5 messages:\n{run.stdout}")
        res.console_consumer.append(run.seconds)
        res.help_runs.append(must(timed(cli("--help"), env), "--help").seconds)
    log(f"tail {Stats(tuple(res.tail)).cell()} vs {Stats(tuple(res.console_consumer)).cell()}")


def produce_figures(broker: Broker, log_opts: Sequence[str], res: Results, runs: int) -> None:
    env = broker.env
    ours = cli(
        "events",
        "produce",
        PRODUCE_TOPIC,
        "--source",
        "bench",
        "--payload",
        PAYLOAD,
        "--count",
        str(PRODUCE_COUNT),
    )
    for _ in range(runs):
        run = must(timed(ours, env), "events produce")
        if f"produced {PRODUCE_COUNT} of {PRODUCE_COUNT}" not in run.stdout:
            raise SystemExit(f"bench: not every event was delivered:\n{run.stdout}")
        res.produce.append(run.seconds)
    # The command's own clock, in separate runs: printing 10,000 deliveries as JSON is not
    # part of the whole-process figure above.
    # (To the baseline's topic, so that validate still sees exactly the 100,000 events.)
    inside = [BASELINE_PRODUCE_TOPIC if arg == PRODUCE_TOPIC else arg for arg in ours]
    for _ in range(3):
        doc = json.loads(must(timed([*inside, "-o", "json"], env), "events produce -o json").stdout)
        if doc["delivered"] != PRODUCE_COUNT:
            raise SystemExit(f"bench: not every event was delivered: {doc['delivered']}")
        res.produce_inside.append(float(doc["elapsed_s"]))
    lines = envelope_lines(PRODUCE_COUNT, "analytics.page.view")
    theirs = java_tool(
        broker,
        log_opts,
        "producer",
        "--bootstrap-server",
        broker.bootstrap,
        "--topic",
        BASELINE_PRODUCE_TOPIC,
        "--producer-property",
        "acks=all",
        "--producer-property",
        "enable.idempotence=true",
    )
    for _ in range(max(1, runs // 2)):
        res.console_producer.append(must(timed(theirs, env, lines), "console producer").seconds)
    log(
        f"produce {Stats(tuple(res.produce)).cell()} vs {Stats(tuple(res.console_producer)).cell()}"
    )


def validate_figures(broker: Broker, res: Results, runs: int) -> None:
    env = broker.env
    command = cli("events", "validate", PRODUCE_TOPIC, "-o", "json")
    for _ in range(runs):
        run = must(timed(command, env), "events validate")
        doc = json.loads(run.stdout)
        res.validated = int(doc["summary"]["messages"])
        if res.validated < VALIDATE_TOTAL or not doc["valid"]:
            raise SystemExit(f"bench: validate saw {doc['summary']}")
        res.validate.append(run.seconds)
    # The baseline: jsonschema alone over the same (decoded) events, in this process.
    from jsonschema import Draft202012Validator

    from dreamscape_infra.events.schema import event_schema

    validator = Draft202012Validator(event_schema())
    sample = [
        json.loads(line) for line in envelope_lines(20_000, "analytics.event.tracked").splitlines()
    ]
    start = time.perf_counter()
    for event in sample:
        validator.is_valid(event)
    res.jsonschema_rate = len(sample) / (time.perf_counter() - start)
    log(f"validate {Stats(tuple(res.validate)).cell()}; jsonschema {res.jsonschema_rate:,.0f}/s")


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "java": (java.stderr.splitlines() or ["?"])[0],
        "commit": commit.stdout.strip() or "?",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "bytecode": ensure_bytecode(),
    }


def verdict(met: bool, pairs_met: bool) -> str:
    if met and pairs_met:
        return "met"
    if met:
        return "met by the medians, **but not by every run**"
    return "**not met**"


def render(broker: Broker, res: Results) -> str:
    m = machine()
    tail, consumer = Stats(tuple(res.tail)), Stats(tuple(res.console_consumer))
    produce, producer = Stats(tuple(res.produce)), Stats(tuple(res.console_producer))
    validate, helpt = Stats(tuple(res.validate)), Stats(tuple(res.help_runs))
    inside = Stats(tuple(res.produce_inside))
    tail_ratio = consumer.median / tail.median
    pair_ratios = [c / t for c, t in zip(res.console_consumer, res.tail, strict=False)]
    produce_rate = PRODUCE_COUNT / produce.median
    produce_rates = [PRODUCE_COUNT / s for s in res.produce]
    validate_rate = res.validated / validate.median
    validate_rates = [res.validated / s for s in res.validate]
    lines = [
        BEGIN,
        "## Events (`events tail`, `events produce`, `events validate`)",
        "",
        "Written by `python bench/events_bench.py` (also `make bench`); every figure and its",
        "baseline were measured in the same run, on the same broker. Times are wall clock of",
        "the whole process (fork to exit), as `median (min-max, n=runs)`; rates divide the",
        "event count by the whole process's time, start-up included.",
        "",
        f"- Machine: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, {m['java']}",
        f"- Package: {m['bytecode']}",
        f"- Kafka {KAFKA_VERSION} (ZooKeeper), {broker.how}",
        f"- Date: {m['date']}, commit {m['commit']}",
        f"- Load average (1 min) when the bench started / ended: {res.load_start:.2f} /"
        f" {os.getloadavg()[0]:.2f}; the CPUs are shared, so compare figures within this run",
        "",
        "### Reading 5 events (target: ≥ 3× faster than kafka-console-consumer)",
        "",
        "| | time | vs. tail |",
        "|---|---|---|",
        f"| `dreamscape-infra events tail {TAIL_TOPIC} --from-beginning --max-messages 5` "
        f"| {tail.cell()} | 1× |",
        f"| `kafka-console-consumer --topic {TAIL_TOPIC} --from-beginning --max-messages 5` "
        f"| {consumer.cell()} | **{tail_ratio:.1f}×** slower |",
        f"| for scale: `dreamscape-infra --help` (start-up and imports, no Kafka) | {helpt.cell()} "
        "| |",
        "",
        f"The console consumer is ConsoleConsumer from the same {KAFKA_VERSION} jars, one JVM with"
        " kafka-run-class.sh's JVM options, run with `java` directly (no bash wrapper, no"
        " container), against a broker with `group.initial.rebalance.delay.ms=0`, so its group"
        " join costs as little as it can. It joins a fresh consumer group; `events tail` reads by"
        " assignment and creates none. Run by run (each consumer next to a tail): "
        + ", ".join(f"{r:.1f}×" for r in pair_ratios)
        + ".",
        f"Target ≥ 3×: {verdict(tail_ratio >= 3, min(pair_ratios) >= 3)} ({tail_ratio:.1f}×).",
        "",
        f"### Producing {PRODUCE_COUNT:,} events with acks=all (target: ≥ 20,000 events/s)",
        "",
        "| | time | events/s |",
        "|---|---|---|",
        f"| `dreamscape-infra events produce {PRODUCE_TOPIC} --source bench --payload … --count "
        f"{PRODUCE_COUNT}` | {produce.cell()} | **{produce_rate:,.0f}** |",
        f"| `kafka-console-producer` of the same {PRODUCE_COUNT:,} envelopes from stdin, "
        f"`acks=all`, `enable.idempotence=true` | {producer.cell()} "
        f"| {PRODUCE_COUNT / producer.median:,.0f} |",
        "",
        "Each event gets its own UUIDv4 eventId and timestamp and is checked against the schema"
        " before it is sent; the producer is idempotent with acks=all and the command waits for"
        " every delivery. Rates run by run: "
        + ", ".join(f"{r:,.0f}/s" for r in produce_rates)
        + f". Inside the command (its `elapsed_s`: from creating the producer, connecting"
        f" included, to the last delivery; interpreter start-up and imports excluded) the median"
        f" is {inside.median:.3f} s, **{PRODUCE_COUNT / inside.median:,.0f} events/s**; the"
        f" rest of the whole process is start-up, like `--help`'s {helpt.median:.2f} s above.",
        f"Target ≥ 20,000 events/s: {verdict(produce_rate >= 20_000, min(produce_rates) >= 20_000)}"
        f" ({produce_rate:,.0f} events/s, whole process).",
        "",
        f"### Validating {res.validated:,} events (target: ≥ 50,000 events/s)",
        "",
        "| | time | events/s |",
        "|---|---|---|",
        f"| `dreamscape-infra events validate {PRODUCE_TOPIC}` (all {res.validated:,} events "
        f"the produce runs wrote) | {validate.cell()} | **{validate_rate:,.0f}** |",
        "| baseline: jsonschema's `Draft202012Validator.is_valid` alone, in-process, same "
        f"schema and events (no Kafka, no decoding) | | {res.jsonschema_rate:,.0f} |",
        "",
        "validate reads the partitions by assignment in batches, decodes each value, and checks"
        " it with the test compiled from the schema; jsonschema itself only explains the"
        " invalid ones. Rates run by run: "
        + ", ".join(f"{r:,.0f}/s" for r in validate_rates)
        + ".",
        f"Target ≥ 50,000 events/s: "
        f"{verdict(validate_rate >= 50_000, min(validate_rates) >= 50_000)}"
        f" ({validate_rate:,.0f} events/s, whole process).",
        "",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(section: str) -> None:
    """Replace our marked section of docs/benchmarks.md, keeping everything else as it is."""
    text = DOC.read_text() if DOC.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    elif text:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        text = "# Benchmarks\n\n" + section
    DOC.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every figure and write the docs/benchmarks.md section; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="runs of tail and validate")
    parser.add_argument("--no-write", action="store_true", help="print, don't write the doc")
    opts = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    ensure_bytecode()
    res = Results()
    produce_runs = VALIDATE_TOTAL // PRODUCE_COUNT  # together they write the events validated
    with local_broker() as broker:
        log(f"Kafka {KAFKA_VERSION} at {broker.bootstrap}")
        must(timed(cli("topics", "sync"), broker.env), "topics sync")
        work = Path(broker.env["DREAMSCAPE_STATE_DIR"]).parent
        log_opts = tool_logging(work)
        tail_figures(broker, log_opts, res, opts.runs)
        produce_figures(broker, log_opts, res, produce_runs)
        validate_figures(broker, res, max(3, opts.runs // 2))
        section = render(broker, res)
    print(section)
    if not opts.no_write:
        write_section(section)
        log(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
