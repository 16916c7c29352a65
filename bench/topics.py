"""Topics as code: `topics sync` and `topics plan` against Kafka's own `kafka-topics`.

1. The 32 seed topics (the shipped topics.yaml) created from empty by `topics sync`, against a
   topic-init loop of `kafka-topics --create --if-not-exists`, one JVM per topic (target ≥ 30 times,
   medians). Beside them, one CreateTopics request for the same topics from a Python process
   that is already running and connected: what the broker itself takes, so that the sync's
   time over it is Python's share (start-up, loading, planning, waiting for leaders).
2. A no-op `topics plan` of those topics against one `kafka-topics --describe` JVM of the
   same topics (target ≥ 5 times), with `--help` and `python -c pass` for scale.
3. Generated files of 200 and 2,000 topics: sync from empty and a no-op plan, with the
   requests the broker answered counted (JMX), to show they do not grow with the topics.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import (
    SEED_FILE,
    Broker,
    log,
    median,
    must,
    ratio,
    seconds,
    seed_copy,
    timed,
    value,
)
from dreamscape_infra.topics.desired import load_desired

TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand"


def init_loop(broker: Broker, path: Path) -> float:
    """A topic-init script: `kafka-topics --create --if-not-exists` once per topic."""
    start = time.perf_counter()
    for spec in load_desired(path).topics:
        argv = [
            "--bootstrap-server",
            broker.bootstrap,
            "--create",
            "--if-not-exists",
            "--topic",
            spec.name,
            "--partitions",
            str(spec.partitions),
            "--replication-factor",
            str(spec.replication_factor),
        ]
        for key, val in spec.configs.items():
            argv += ["--config", f"{key}={val}"]
        must(timed(broker.tool(TOPIC_COMMAND, *argv)), f"kafka-topics --create {spec.name}")
    return time.perf_counter() - start


def one_request(broker: Broker, path: Path) -> float:
    """One CreateTopics request for the file's topics from a connected client, to the answer."""
    from confluent_kafka.admin import NewTopic

    admin = broker.admin()
    admin.list_topics(timeout=30)  # connected before the clock starts
    topics = [
        NewTopic(t.name, t.partitions, t.replication_factor, config=dict(t.configs))
        for t in load_desired(path).topics
    ]
    start = time.perf_counter()
    for future in admin.create_topics(topics, operation_timeout=60).values():
        future.result()
    return time.perf_counter() - start


def generated_file(work: Path, prefix: str, count: int) -> Path:
    """`count` topics of 1 partition with two configs, in one declared domain."""
    lines = [
        "version: 1",
        f"prefix: {prefix}",
        "defaults:",
        "  partitions: 1",
        "  replication_factor: 1",
        "  config:",
        "    retention.ms: 1d",
        "    compression.type: lz4",
        "domains:",
        "  load: {owner: bench}",
        "topics:",
        *(f"  - name: {prefix}load.t{i:05d}" for i in range(count)),
    ]
    path = work / f"{prefix.rstrip('.')}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def requests_cell(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) + f" (total {sum(counts.values())})"


def measure(broker: Broker, tag: str, runs: int = 3, sizes: tuple[int, ...] = (200, 2000)) -> Any:
    """Every figure of this section, as a results.json section."""
    sync, loop, request = [], [], []
    plan_checked = True
    warm = seed_copy(broker.work, f"{tag}warm.")  # untimed: neither side pays a cold cache
    broker.run_cli("-f", str(warm), "topics", "sync")
    must(timed(broker.tool(TOPIC_COMMAND, "--bootstrap-server", broker.bootstrap, "--list")), "")
    broker.delete_prefix(f"{tag}warm.")
    for i in range(runs):
        path = seed_copy(broker.work, f"{tag}loop{i}.")
        loop.append(init_loop(broker, path))
        # the loop made the same topics as a sync would: the plan for its file is empty
        check = timed(
            broker.cli("-f", str(path), "topics", "plan", "--detailed-exitcode"), broker.env
        )
        plan_checked = plan_checked and check.code == 0
        broker.delete_prefix(f"{tag}loop{i}.")
        path = seed_copy(broker.work, f"{tag}req{i}.")
        request.append(one_request(broker, path))
        broker.delete_prefix(f"{tag}req{i}.")
        path = seed_copy(broker.work, f"{tag}seed{i}.")
        sync.append(broker.run_cli("-f", str(path), "topics", "sync").seconds)
        log(f"init loop {loop[-1]:.2f} s, sync {sync[-1]:.2f} s, one request {request[-1]:.2f} s")
        if i < runs - 1:  # the last one stays for the no-op plans
            broker.delete_prefix(f"{tag}seed{i}.")

    last = seed_copy(broker.work, f"{tag}seed{runs - 1}.")
    plans, helps, passes = [], [], []
    for _ in range(9):  # interleaved, so the three see the same load
        plans.append(
            broker.run_cli("-f", str(last), "topics", "plan", "--detailed-exitcode").seconds
        )
        helps.append(broker.run_cli("--help").seconds)
        passes.append(must(timed([sys.executable, "-c", "pass"]), "python -c pass").seconds)
    describe = broker.tool(
        TOPIC_COMMAND,
        "--bootstrap-server",
        broker.bootstrap,
        "--describe",
        "--topic",
        f"{tag}seed{runs - 1}\\..*",
    )
    describes = [must(timed(describe), "kafka-topics --describe").seconds for _ in range(3)]
    broker.delete_prefix(f"{tag}seed{runs - 1}.")

    rows = []
    for n in sizes:
        prefix = f"{tag}gen{n}."
        path = generated_file(broker.work, prefix, n)
        synced, sync_requests = broker.counted("-f", str(path), "topics", "sync")
        planned, plan_requests = broker.counted(
            "-f", str(path), "topics", "plan", "--detailed-exitcode"
        )
        log(f"{n} topics: sync {synced.seconds:.2f} s, plan {planned.seconds:.2f} s")
        rows.append(
            [
                f"{n:,}",
                f"{synced.seconds:.2f} s",
                f"{planned.seconds:.2f} s",
                requests_cell(sync_requests),
                requests_cell(plan_requests),
            ]
        )
        broker.delete_prefix(prefix)

    partitions = sum(t.partitions for t in load_desired(SEED_FILE).topics)
    share = median(sync) - median(request)
    return {
        "title": "Topics as code (`topics sync`, `topics plan`)",
        "about": (
            f"The shipped topics.yaml: 32 topics, {partitions} partitions, each run under a prefix"
            " of its own so that every sync creates from empty. The baselines run TopicCommand"
            f" from the same Kafka {broker.version} jars, one JVM each with kafka-run-class.sh's"
            " JVM options, calling `java` directly (no bash wrapper, no container)."
        ),
        "figures": [
            seconds("`dreamscape-infra topics sync`, 32 topics from empty", sync, "sync"),
            seconds("init loop: `kafka-topics --create --if-not-exists` ×32", loop, "loop"),
            seconds(
                "one CreateTopics request for the 32, from a connected Python client",
                request,
                "request",
            ),
            seconds("`dreamscape-infra topics plan --detailed-exitcode` (no-op)", plans, "plan"),
            seconds("`kafka-topics --describe` of the same 32 topics (one JVM)", describes, "jvm"),
            seconds("`dreamscape-infra --help`", helps, "help"),
            seconds("`python -c pass` (the interpreter's start)", passes, "pass"),
            value("Python's share of the sync (sync − one request, medians)", f"{share:.2f} s"),
        ],
        "ratios": [
            ratio("`topics sync` vs the init loop", "sync", "loop", 30),
            ratio("no-op `topics plan` vs one `kafka-topics --describe`", "plan", "jvm", 5),
        ],
        "notes": [
            "After each init loop, `topics plan --detailed-exitcode` on its file exited 0 (it"
            " made the same topics): " + ("**yes**" if plan_checked else "**NO**") + ".",
            "Python's share has no target: it is the sync's whole process (start-up, imports,"
            " loading topics.yaml, planning, waiting for leaders) beyond what the broker takes to"
            " answer one CreateTopics request.",
        ],
        "tables": [
            {
                "title": "Generated topics (1 partition, two configs each): requests the broker"
                " answered, counted from its JMX RequestsPerSec before and after each command",
                "head": ["topics", "sync", "no-op plan", "sync: requests", "plan: requests"],
                "rows": rows,
            }
        ],
    }
