"""Consumer-group lag: `groups lag` against `kafka-consumer-groups --describe`, once per group.

On the shipped topics.yaml a producer writes 20 messages to every partition and each declared
group commits offset 8 on its topics as a real consumer; both sides must then report the same
lag. The requests the broker answers for one `groups lag` are counted (JMX) for the seed and
for generated files of 100 and 2,000 partitions: they must not grow with the partitions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.harness import SEED_FILE, Broker, log, must, ratio, seconds, timed
from bench.topics import requests_cell
from dreamscape_infra.topics.desired import DesiredState, load_desired

GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
SERVICES = ("auth", "user", "voyage", "payment", "ai")
PER_PARTITION, COMMITTED = 20, 8


def partition_counts(broker: Broker) -> dict[str, int]:
    topics = broker.admin().list_topics(timeout=30).topics
    return {name: len(meta.partitions) for name, meta in topics.items()}


def produce(broker: Broker, counts: Mapping[str, int], per_partition: int) -> None:
    """`per_partition` messages to every partition of `counts`' topics."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20, "acks": "all"})
    for topic, partitions in counts.items():
        for p in range(partitions):
            for i in range(per_partition):
                producer.produce(topic, value=f"bench-{i}".encode(), partition=p)
            producer.poll(0)
    if producer.flush(120):
        raise SystemExit("bench: messages not delivered")


def commit(broker: Broker, desired: DesiredState, counts: Mapping[str, int], offset: int) -> None:
    """Each declared group commits `offset` on every partition of its topics, as a consumer."""
    from confluent_kafka import Consumer, TopicPartition

    for group in desired.groups:
        consumer = Consumer(
            {
                "bootstrap.servers": broker.bootstrap,
                "group.id": group.name,
                "enable.auto.commit": False,
            }
        )
        try:
            offsets = [TopicPartition(t, p, offset) for t in group.topics for p in range(counts[t])]
            consumer.commit(offsets=offsets, asynchronous=False)
        finally:
            consumer.close()


def describe_lag(broker: Broker, group: str) -> int:
    """The total LAG kafka-consumer-groups prints for `group`."""
    argv = broker.tool(GROUP_COMMAND, "--bootstrap-server", broker.bootstrap, "--describe")
    out = must(timed([*argv, "--group", group]), f"kafka-consumer-groups {group}").stdout
    total = 0
    for line in out.splitlines():
        cells = line.split()
        if len(cells) >= 6 and cells[0] == group and cells[5] != "-":
            total += int(cells[5])
    return total


def generated_file(work: Path, prefix: str, topics: int, partitions: int) -> Path:
    """`topics` topics of `partitions` partitions; five groups each read all of them."""
    names = [f"{prefix}load.t{i:04d}" for i in range(topics)]
    lines = [
        "version: 1",
        f"prefix: {prefix}",
        "defaults:",
        f"  partitions: {partitions}",
        "  replication_factor: 1",
        "domains:",
        "  load: {owner: bench}",
        "topics:",
        *(f"  - name: {n}" for n in names),
        "consumer_groups:",
    ]
    for service in SERVICES:
        lines += [
            f"  - name: dreamscape-{service}-bench-group",
            f"    service: {service}-bench",
            "    topics:",
            *(f"      - {n}" for n in names),
        ]
    path = work / f"{prefix.rstrip('.')}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def scene(broker: Broker, path: Path, per_partition: int, offset: int) -> DesiredState:
    """Sync `path`, fill its topics and let its groups commit."""
    broker.run_cli("-f", str(path), "topics", "sync")
    desired = load_desired(path)
    counts = partition_counts(broker)
    produce(broker, {t.name: counts[t.name] for t in desired.topics}, per_partition)
    commit(broker, desired, counts, offset)
    return desired


def measure(broker: Broker, tag: str, runs: int = 7, loop_runs: int = 3) -> Any:
    """Every figure of this section, as a results.json section."""
    desired = scene(broker, SEED_FILE, PER_PARTITION, COMMITTED)
    lag = ("-f", str(SEED_FILE), "groups", "lag", "-o", "json")
    doc = json.loads(broker.run_cli(*lag).stdout)  # untimed warm-up; its lag is the reference
    ours = {g["group"]: g["total_lag"] for g in doc["groups"]}
    theirs = {g.name: describe_lag(broker, g.name) for g in desired.groups}
    log(f"lag: ours {ours}, kafka-consumer-groups {theirs}")
    lags, loops = [], []
    for i in range(runs):
        lags.append(broker.run_cli(*lag).seconds)
        if i < loop_runs:
            loop = [
                timed(
                    [
                        *broker.tool(GROUP_COMMAND),
                        "--bootstrap-server",
                        broker.bootstrap,
                        "--describe",
                        "--group",
                        g.name,
                    ]
                )
                for g in desired.groups
            ]
            loops.append(sum(must(r, "kafka-consumer-groups").seconds for r in loop))
    rows = []
    run, counts = broker.counted(*lag)
    rows.append(
        [
            f"seed ({sum(partition_counts(broker)[t.name] for t in desired.topics)})",
            f"{run.seconds:.2f} s",
            requests_cell(counts),
        ]
    )
    for topics, partitions in ((10, 10), (200, 10)):
        prefix = f"{tag}glag{topics * partitions}."
        path = generated_file(broker.work, prefix, topics, partitions)
        scene(broker, path, 2, 1)
        run, counts = broker.counted("-f", str(path), "groups", "lag", "-o", "json")
        rows.append([f"{topics * partitions:,}", f"{run.seconds:.2f} s", requests_cell(counts)])
        broker.delete_prefix(prefix)
    return {
        "title": "Consumer-group lag (`groups lag`)",
        "about": (
            f"The 5 declared groups of the shipped topics.yaml, after a producer wrote"
            f" {PER_PARTITION} messages to every partition and each group committed offset"
            f" {COMMITTED} on its topics. The baseline runs ConsumerGroupCommand from the same"
            " jars, one JVM per group, calling `java` directly."
        ),
        "figures": [
            seconds("`dreamscape-infra groups lag` (the 5 groups)", lags, "lag"),
            seconds("`kafka-consumer-groups --describe --group G` ×5", loops, "loop"),
        ],
        "ratios": [ratio("`groups lag` vs `kafka-consumer-groups` ×5", "lag", "loop", 5)],
        "notes": [
            "Both report the same total lag per group: "
            + ("**yes**" if ours == theirs else f"**NO** (kafka-consumer-groups: {theirs})")
            + " ("
            + ", ".join(f"{g} {v}" for g, v in ours.items())
            + ")."
        ],
        "tables": [
            {
                "title": "Requests the broker answered for one `groups lag` (JMX), by partitions"
                " (in the generated files every group reads every topic)",
                "head": ["partitions", "`groups lag`", "requests"],
                "rows": rows,
            }
        ],
    }
