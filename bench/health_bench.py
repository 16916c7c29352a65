"""Health and metrics benchmarks against a real local Kafka broker.

Measured in one run, on one broker, each next to its baseline:

1. `dreamscape-infra health` as a whole process (fork to exit) on the seed's topics (the shipped
   topics.yaml) with 5 consumer groups that committed offsets. Target ≤ 0.5 s. Baseline: the
   seed's way of looking, `kafka-topics --describe --under-replicated-partitions` plus
   `kafka-consumer-groups --describe --all-groups`, from the same jars (one JVM each).
2. `GET /metrics` of `dreamscape-infra serve` answered from the cache: p95 ≤ 100 ms.
3. `GET /metrics` cold (`--cache-seconds 0`, so every request reads the cluster) with 2,000
   partitions (400 declared topics of 5): p95 ≤ 300 ms.

Run `python bench/health_bench.py` (or `make bench`). It writes its section of
docs/benchmarks.md between the `health` markers and leaves the rest of the file alone.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import sync_bench as sb  # noqa: E402
from _bytecode import ensure_bytecode  # noqa: E402  (the broker, timing and machine helpers)

from dreamscape_infra.topics.desired import load_desired  # noqa: E402

ROOT = HERE.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- health:begin -->"
END = "<!-- health:end -->"
SEED_FILE = ROOT / "topics.yaml"
GROUPS = 5
COLD_TOPICS, COLD_PARTITIONS = 400, 5


@dataclass
class Results:
    load_start: float
    health_runs: list[float] = field(default_factory=list)
    baseline_runs: list[float] = field(default_factory=list)
    baseline_parts: list[tuple[float, float]] = field(default_factory=list)
    cached_ms: list[float] = field(default_factory=list)
    cold_ms: list[float] = field(default_factory=list)
    cold_read_s: float = 0.0
    full_ms: list[float] = field(default_factory=list)
    cold_partitions: int = 0
    seed_partitions: int = 0


def cli(*args: str) -> list[str]:
    """This checkout's CLI (not whatever `dreamscape-infra` is on PATH)."""
    return [sys.executable, "-m", "dreamscape_infra", *args]


def env_for(broker: sb.Broker) -> dict[str, str]:
    env = sb.cli_env(broker)
    env["PYTHONPATH"] = str(ROOT)
    return env


def tool(broker: sb.Broker, log_opts: Sequence[str], main: str, *args: str) -> list[str]:
    return [
        "java",
        *sb.TOOL_JVM_OPTS,
        *log_opts,
        "-cp",
        f"{broker.libs}/*",
        main,
        "--bootstrap-server",
        broker.bootstrap,
        *args,
    ]


def commit_groups(broker: sb.Broker, count: int) -> list[str]:
    """`count` declared groups each commit an offset halfway through a topic they read."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    desired = load_desired(str(SEED_FILE))
    groups = list(desired.groups)[:count]
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for group in groups:
        for _ in range(10):
            producer.produce(group.topics[0], value=b"bench", partition=0)
    producer.flush(30)
    for group in groups:
        consumer = Consumer(
            {
                "bootstrap.servers": broker.bootstrap,
                "group.id": group.name,
                "enable.auto.commit": False,
            }
        )
        consumer.commit(offsets=[TopicPartition(group.topics[0], 0, 5)], asynchronous=False)
        consumer.close()
    return [g.name for g in groups]


def health_figures(broker: sb.Broker, res: Results, runs: int) -> None:
    env = env_for(broker)
    sb.must(sb.timed(cli("-f", str(SEED_FILE), "topics", "sync"), env), "topics sync (seed)")
    names = commit_groups(broker, GROUPS)
    sb.log(f"{len(names)} groups committed offsets: {', '.join(names)}")
    argv = cli("-f", str(SEED_FILE), "health", "-o", "json")
    sb.must(sb.timed(argv, env), "health warm-up")
    log_opts = sb._write_tool_logging(broker.work)
    urp = tool(
        broker,
        log_opts,
        "org.apache.kafka.tools.TopicCommand",
        "--describe",
        "--under-replicated-partitions",
    )
    groups = tool(
        broker,
        log_opts,
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--describe",
        "--all-groups",
    )
    sb.must(sb.timed(urp), "kafka-topics warm-up")
    for _ in range(runs):
        res.health_runs.append(sb.must(sb.timed(argv, env), "health").seconds)
        a = sb.must(sb.timed(urp), "kafka-topics --describe --under-replicated-partitions")
        b = sb.must(sb.timed(groups), "kafka-consumer-groups --describe --all-groups")
        res.baseline_parts.append((a.seconds, b.seconds))
        res.baseline_runs.append(a.seconds + b.seconds)


@contextlib.contextmanager
def serving(
    broker: sb.Broker, topics_file: Path, cache_seconds: float, config_seconds: float = 60.0
) -> Iterator[str]:
    port = sb.free_port()
    proc = subprocess.Popen(
        cli(
            "-f",
            str(topics_file),
            "serve",
            "--port",
            str(port),
            "--cache-seconds",
            str(cache_seconds),
            "--config-seconds",
            str(config_seconds),
        ),
        cwd=ROOT,
        env=env_for(broker),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        sb.wait_port(port, 60)
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def get_ms(url: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    return (time.perf_counter() - start) * 1000, body


def metric(body: bytes, name: str) -> float:
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def metrics_figures(broker: sb.Broker, res: Results, requests: int) -> None:
    with serving(broker, SEED_FILE, 3600.0) as url:
        _, body = get_ms(url)
        res.seed_partitions = int(metric(body, "dreamscape_kafka_partitions"))
        res.cached_ms = [get_ms(url)[0] for _ in range(requests)]
    topics_file = broker.work / "cold.yaml"
    lines = [
        "version: 1",
        "prefix: bench.",
        "defaults:",
        f"  partitions: {COLD_PARTITIONS}",
        "  replication_factor: 1",
        "domains:",
        "  cold:",
        "    owner: bench",
        "topics:",
    ]
    lines += [f"  - name: bench.cold.t{i:04d}" for i in range(COLD_TOPICS)]
    topics_file.write_text("\n".join(lines) + "\n")
    sb.must(sb.timed(cli("-f", str(topics_file), "topics", "sync"), env_for(broker)), "sync cold")
    with serving(broker, topics_file, 0.0) as url:
        get_ms(url)
        reads = []
        for _ in range(max(requests // 10, 10)):
            ms, body = get_ms(url)
            res.cold_ms.append(ms)
            reads.append(metric(body, "dreamscape_cluster_read_duration_seconds"))
        res.cold_partitions = int(metric(body, "dreamscape_kafka_partitions"))
        res.cold_read_s = statistics.median(reads)
    with serving(broker, topics_file, 0.0, config_seconds=0.0) as url:
        get_ms(url)
        for _ in range(max(requests // 20, 10)):
            res.full_ms.append(get_ms(url)[0])


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def render(broker: sb.Broker, res: Results) -> str:
    m = sb.machine()
    health = sb.Stats(tuple(res.health_runs))
    base = sb.Stats(tuple(res.baseline_runs))
    urp = statistics.median(a for a, _ in res.baseline_parts)
    grp = statistics.median(b for _, b in res.baseline_parts)
    cached_p95, cold_p95 = p95(res.cached_ms), p95(res.cold_ms)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = [
        BEGIN,
        "## Health and metrics (`health`, `serve`)",
        "",
        "Written by `python bench/health_bench.py` (also `make bench`); every figure and its",
        "baseline were measured in the same run, on the same broker.",
        "",
        f"- Machine: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, {m['java']}",
        f"- Package: {m['bytecode']}",
        f"- Kafka {broker.version} ({broker.mode}), {broker.how}",
        f"- Date: {m['date']}, commit {m['commit']}",
        f"- Load average (1 min) when the bench started / ended: {res.load_start:.2f} /"
        f" {os.getloadavg()[0]:.2f}; the CPUs are shared, so compare figures within this run",
        "",
        "| what | figure | target | baseline (same run) | ratio |",
        "|---|---|---|---|---|",
        f"| `dreamscape-infra health` whole process, seed topics ({res.seed_partitions}"
        f" partitions) and {GROUPS} groups | {health.cell()}"
        f" | ≤ 0.5 s: {verdict(health.median <= 0.5)}"
        f" | {base.cell()}: `kafka-topics --describe --under-replicated-partitions`"
        f" {urp:.2f} s + `kafka-consumer-groups --describe --all-groups` {grp:.2f} s"
        f" | **{base.median / health.median:.1f}×** faster |",
        f"| `GET /metrics` from the cache, {len(res.cached_ms)} requests | p95"
        f" {cached_p95:.1f} ms (median {statistics.median(res.cached_ms):.1f} ms)"
        f" | ≤ 100 ms: {verdict(cached_p95 <= 100)} | | |",
        f"| `GET /metrics` cold, {res.cold_partitions} partitions ({COLD_TOPICS} declared topics),"
        f" {len(res.cold_ms)} requests | p95 {cold_p95:.0f} ms (median"
        f" {statistics.median(res.cold_ms):.0f} ms; the cluster read alone"
        f" {res.cold_read_s * 1000:.0f} ms)"
        f" | ≤ 300 ms: {verdict(cold_p95 <= 300)} | | |",
        f"| the same with the configs read again too (`--config-seconds 0`),"
        f" {len(res.full_ms)} requests | p95 {p95(res.full_ms):.0f} ms (median"
        f" {statistics.median(res.full_ms):.0f} ms) | (none) | | |",
        "",
        "`health` reads the cluster once (one metadata request for brokers, controller and every"
        " partition, one DescribeConfigs for the declared topics), plans topics.yaml against"
        " it, and reads the declared groups' committed offsets and the end offsets for their"
        " lag; the baseline starts two JVMs, and between them they still do not say whether the"
        " declared topics are in sync or which partitions are under min.insync.replicas.",
        "Cold `/metrics` (`--cache-seconds 0`: every request reads the cluster) reads the"
        " metadata (brokers, controller, partitions, ISR) each time, plans topics.yaml and"
        " renders; the declared topics' configs, which only change on purpose, are read again"
        " every `--config-seconds` (60 s by default), and the last row shows what a request costs"
        " when it reads them too (one DescribeConfigs for 400 topics). From the cache, a request"
        " is only the exposition.",
        END,
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="health and baseline runs")
    parser.add_argument("--requests", type=int, default=200, help="cached /metrics requests")
    parser.add_argument("--broker", choices=("auto", "local", "own"), default="auto")
    parser.add_argument("--no-write", action="store_true", help="print instead of writing")
    args = parser.parse_args(argv)
    ensure_bytecode()
    res = Results(load_start=os.getloadavg()[0])
    with contextlib.ExitStack() as stack:
        broker = sb.any_broker(args.broker, stack)
        sb.log(f"broker at {broker.bootstrap}")
        health_figures(broker, res, args.runs)
        metrics_figures(broker, res, args.requests)
    section = render(broker, res)
    if args.no_write:
        print(section)
    else:
        write_doc(section)
        sb.log(f"wrote the health section of {DOC}")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        sys.exit(main())
