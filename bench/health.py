"""Health and metrics: `health` against the two JVMs an operator would run, and `serve`'s
`GET /metrics` from its cache and cold (every request reads the cluster, 2,000 partitions)."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.groups import scene
from bench.harness import ROOT, SEED_FILE, Broker, free_port, must, ratio, seconds, timed, value
from bench.harness import wait_port as wait_for_port

TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand"
GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
COLD_TOPICS, COLD_PARTITIONS = 400, 5


@contextlib.contextmanager
def serving(broker: Broker, topics_file: Path, cache_seconds: float) -> Iterator[str]:
    """`dreamscape-infra serve` on a free port; its /metrics URL; stopped at the end."""
    port = free_port()
    argv = broker.cli(
        "-f", str(topics_file), "serve", "--port", str(port), "--cache-seconds", str(cache_seconds)
    )
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=broker.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def get_ms(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def cold_file(work: Path, prefix: str) -> Path:
    lines = [
        "version: 1",
        f"prefix: {prefix}",
        "defaults:",
        f"  partitions: {COLD_PARTITIONS}",
        "  replication_factor: 1",
        "domains:",
        "  cold: {owner: bench}",
        "topics:",
        *(f"  - name: {prefix}cold.t{i:04d}" for i in range(COLD_TOPICS)),
    ]
    path = work / "cold.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(broker: Broker, tag: str, runs: int = 5, requests: int = 200) -> Any:
    """Every figure of this section, as a results.json section."""
    scene(broker, SEED_FILE, 10, 5)
    health = ("-f", str(SEED_FILE), "health", "-o", "json")
    urp = broker.tool(
        TOPIC_COMMAND,
        "--bootstrap-server",
        broker.bootstrap,
        "--describe",
        "--under-replicated-partitions",
    )
    groups = broker.tool(
        GROUP_COMMAND, "--bootstrap-server", broker.bootstrap, "--describe", "--all-groups"
    )
    broker.run_cli(*health)  # untimed warm-ups
    must(timed(urp), "kafka-topics --describe")
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(broker.run_cli(*health).seconds)
        theirs.append(
            must(timed(urp), "kafka-topics --describe --under-replicated-partitions").seconds
            + must(timed(groups), "kafka-consumer-groups --describe --all-groups").seconds
        )
    with serving(broker, SEED_FILE, 3600.0) as url:
        get_ms(url)
        cached = [get_ms(url) for _ in range(requests)]
    cold_path = cold_file(broker.work, f"{tag}cold.")
    broker.run_cli("-f", str(cold_path), "topics", "sync")
    with serving(broker, cold_path, 0.0) as url:
        get_ms(url)
        cold = [get_ms(url) for _ in range(20)]
    broker.delete_prefix(f"{tag}cold.")
    return {
        "title": "Health and metrics (`health`, `serve`)",
        "about": (
            "`health` on the shipped topics.yaml with its 5 groups committed, against the"
            " operator's way of looking: `kafka-topics --describe --under-replicated-partitions`"
            " plus `kafka-consumer-groups --describe --all-groups`, one JVM each (which between"
            " them still do not say whether the declared topics are in sync)."
        ),
        "figures": [
            seconds("`dreamscape-infra health`", ours, "health"),
            seconds(
                "`kafka-topics --describe --under-replicated-partitions` +"
                " `kafka-consumer-groups --describe --all-groups`",
                theirs,
                "jvms",
            ),
            value(
                f"`GET /metrics` from the cache, {len(cached)} requests",
                f"p95 {p95(cached):.1f} ms (median {statistics.median(cached):.1f} ms)",
            ),
            value(
                f"`GET /metrics` cold (`--cache-seconds 0`), {COLD_TOPICS * COLD_PARTITIONS:,}"
                f" partitions, {len(cold)} requests",
                f"p95 {p95(cold):.0f} ms (median {statistics.median(cold):.0f} ms)",
            ),
        ],
        "ratios": [ratio("`health` vs the two JVMs", "health", "jvms")],
        "notes": [],
        "tables": [],
    }
