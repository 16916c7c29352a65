"""Helpers for the consumer-group tests: a small topics file, and real producers and consumers
(confluent_kafka) that commit exactly what a test asks for.

`python -m tests.groups_support produce TOPIC N` / `commit GROUP TOPIC N` do the same by hand
against $KAFKA_BROKERS (used for the acceptance runs quoted in the report).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dreamscape_infra.groups.client import (
    TopicPartition,
)
from dreamscape_infra.settings import ConnectionSettings, load_settings
from tests.topics_files import write_topics

# ---- a small topics file ----------------------------------------------------------------------


def write_topics_file(directory: Path, prefix: str = "dreamscape.", tag: str = "") -> Path:
    """Four topics in two domains and two declared groups, under `prefix`; `tag` goes into
    the group names (tests isolate themselves by prefix and tag on a shared broker)."""
    p = prefix
    text = f"""\
version: 1
prefix: {p}
defaults:
  partitions: 3
  replication_factor: 1
domains:
  user: {{owner: user-service}}
  auth: {{owner: auth-service}}
topics:
  - name: {p}user.created
  - name: {p}user.deleted
  - name: {p}auth.login
    partitions: 2
  - name: {p}auth.logout
    partitions: 1
consumer_groups:
  - name: dreamscape-auth-service{tag}-group
    service: auth-service{tag}
    topics: [{p}user.created, {p}user.deleted]
  - name: dreamscape-user-service{tag}-group
    service: user-service{tag}
    topics: [{p}auth.login]
"""
    return write_topics(directory, text)


# ---- real producers and consumers -------------------------------------------------------------


def produce(settings: ConnectionSettings, topic: str, per_partition: Sequence[int]) -> None:
    """Write `per_partition[p]` messages to partition p of `topic` (exact, so lag is known)."""
    from confluent_kafka import Producer

    producer = Producer({**settings.client_config(), "acks": "all", "linger.ms": 5})
    for partition, count in enumerate(per_partition):
        for i in range(count):
            producer.produce(topic, value=f"event-{partition}-{i}".encode(), partition=partition)
    remaining = producer.flush(60)
    if remaining:
        raise RuntimeError(f"{remaining} message(s) not delivered to {topic}")


def spread(total: int, partitions: int) -> list[int]:
    """`total` messages split as evenly as possible over `partitions`."""
    return [total // partitions + (1 if p < total % partitions else 0) for p in range(partitions)]


def consumer(settings: ConnectionSettings, group: str, **extra: Any) -> Any:
    """A real confluent_kafka Consumer in `group` that never commits by itself."""
    from confluent_kafka import Consumer

    config = {
        **settings.client_config(),
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        **extra,
    }
    return Consumer(config)


def commit_messages(
    settings: ConnectionSettings,
    group: str,
    topic: str,
    per_partition: Mapping[int, int],
    timeout_s: float = 60.0,
) -> None:
    """Consume and commit exactly `per_partition[p]` messages of each partition p, as a real
    member of `group` (subscribe, poll, commit), then leave the group."""
    from confluent_kafka import TopicPartition as KafkaTopicPartition

    c = consumer(settings, group)
    try:
        c.subscribe([topic])
        seen: dict[int, int] = {}
        deadline = time.monotonic() + timeout_s
        while any(seen.get(p, 0) < n for p, n in per_partition.items()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{group} read only {seen} of {dict(per_partition)}")
            message = c.poll(0.5)
            if message is None or message.error() is not None:
                continue
            seen[message.partition()] = seen.get(message.partition(), 0) + 1
        # Commit exactly the wanted offsets (poll may have read further on some partition).
        offsets = [KafkaTopicPartition(topic, p, n) for p, n in per_partition.items() if n]
        c.commit(offsets=offsets, asynchronous=False)
    finally:
        c.close()


@contextmanager
def polling_member(
    settings: ConnectionSettings, group: str, topics: Sequence[str], *, commit: bool = False
) -> Iterator[Any]:
    """A real member of `group` that keeps polling in a thread (never committing unless
    `commit`) until the block ends; waits until it has an assignment."""
    c = consumer(settings, group)
    stop = threading.Event()
    assigned = threading.Event()

    def on_assign(_consumer: Any, partitions: Any) -> None:
        if partitions:
            assigned.set()

    c.subscribe(list(topics), on_assign=on_assign)

    def loop() -> None:
        while not stop.is_set():
            message = c.poll(0.2)
            if commit and message is not None and message.error() is None:
                c.commit(message=message, asynchronous=False)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        if not assigned.wait(60):
            raise RuntimeError(f"{group}: no partitions assigned within 60 s")
        yield c
    finally:
        stop.set()
        thread.join(30)
        c.close()


def kafka_consumer_groups(
    mode: str, bootstrap: str, group: str
) -> dict[TopicPartition, tuple[int | None, int, int | None]]:
    """`kafka-consumer-groups --describe --group G` from the jars of the broker's line:
    (current offset, log-end offset, lag) per partition, None where it prints `-`."""
    import subprocess

    from dreamscape_infra.runtime.dist import find_java, find_kafka

    dist = find_kafka("kraft" if mode == "kraft" else "zookeeper", os.environ)
    argv = [
        find_java(os.environ),
        "-Xmx256M",
        "-Dlog4j.configuration=file:/dev/null",
        "-Dlog4j2.level=ERROR",
        "-cp",
        dist.classpath,
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--bootstrap-server",
        bootstrap,
        "--describe",
        "--group",
        group,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"kafka-consumer-groups exited {done.returncode}: {done.stderr}")
    rows: dict[TopicPartition, tuple[int | None, int, int | None]] = {}
    for line in done.stdout.splitlines():
        cells = line.split()
        if len(cells) < 6 or cells[0] != group:
            continue

        def number(cell: str) -> int | None:
            return None if cell == "-" else int(cell)

        log_end = number(cells[4])
        assert log_end is not None, line
        rows[(cells[1], int(cells[2]))] = (number(cells[3]), log_end, number(cells[5]))
    return rows


def _main(argv: Sequence[str]) -> int:
    settings = load_settings(os.environ)
    if argv[:1] == ["produce"]:
        topic, total = argv[1], int(argv[2])
        from dreamscape_infra.kafka.groups import ConfluentGroups

        client = ConfluentGroups(settings)
        count = client.partition_counts([topic])[topic]
        client.close()
        produce(settings, topic, spread(total, count))
        print(f"produced {total} to {topic} ({spread(total, count)} per partition)")
        return 0
    if argv[:1] == ["commit"]:
        group, topic, total = argv[1], argv[2], int(argv[3])
        from dreamscape_infra.kafka.groups import ConfluentGroups

        client = ConfluentGroups(settings)
        count = client.partition_counts([topic])[topic]
        client.close()
        wanted = dict(enumerate(spread(total, count)))
        commit_messages(settings, group, topic, wanted)
        print(f"{group} committed {total} of {topic} ({wanted} per partition)")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
