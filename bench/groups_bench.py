"""Consumer-group lag benchmarks against a real local Kafka broker.

Measured together with its baseline in the same run, on the same broker:

1. Lag of the 5 declared groups over the 32 seed topics (the shipped topics.yaml, 111
   partitions), after real consumers committed part of what a producer wrote:
   `dreamscape-infra groups lag` (the whole process) against the seed's way,
   `kafka-consumer-groups --describe --group G` once per group (ConsumerGroupCommand from the same
   jars, one JVM per group). Both must report the same lag.
2. The requests `read_group_lags` sends, counted on the real adapter, for the seed (111
   partitions) and for generated topics with 100 and 2,000 partitions: they must not grow.

Run `python bench/groups_bench.py` (or `make bench`). It writes its section of
docs/benchmarks.md between the `group-lag` markers and leaves the rest of the file alone. The
broker, timing and doc helpers are sync_bench.py's.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # this checkout's dreamscape_infra, also when run as a script

from _bytecode import ensure_bytecode  # noqa: E402  (bench/ is on sys.path: the script's own folder)
from _counted import CountingClient  # noqa: E402

from dreamscape_infra.groups.lag import read_group_lags  # noqa: E402
from dreamscape_infra.kafka.groups import ConfluentGroups  # noqa: E402
from dreamscape_infra.settings import ConnectionSettings  # noqa: E402
from dreamscape_infra.topics.desired import DesiredState, load_desired  # noqa: E402


def _sync_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_sync_bench_shared", HERE / "sync_bench.py")
    if spec is None or spec.loader is None:
        raise SystemExit("bench: cannot load bench/sync_bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


sb = _sync_bench()
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- group-lag:begin -->"
END = "<!-- group-lag:end -->"
SEED_FILE = ROOT / "topics.yaml"
GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
PER_PARTITION = 20  # messages produced to each partition
COMMITTED = 8  # of which each group commits this many (its lag is 12 per partition)


# ---- counting round trips --------------------------------------------------------------------


class CountingGroups(ConfluentGroups):
    """The real adapter, with its AdminClient wrapped to count the requests it sends."""

    def __init__(self, settings: ConnectionSettings, requests: Counter[str]) -> None:
        super().__init__(settings, timeout_s=30)
        self._client = CountingClient(self._client, requests)


def count_requests(settings: ConnectionSettings, desired: DesiredState) -> dict[str, int]:
    requests: Counter[str] = Counter()
    client = CountingGroups(settings, requests)
    try:
        lags = read_group_lags(client, desired)
    finally:
        client.close()
    if not any(p.committed is not None for g in lags for p in g.partitions):
        raise SystemExit("bench: the counted read saw no committed offsets")
    return dict(requests)


# ---- setting the scene -----------------------------------------------------------------------


def produce_all(
    settings: ConnectionSettings, topics: Mapping[str, int], per_partition: int
) -> None:
    """`per_partition` messages to every partition of `topics`."""
    from confluent_kafka import Producer

    producer = Producer({**settings.client_config(), "linger.ms": 20, "acks": "all"})
    for topic, partitions in topics.items():
        for p in range(partitions):
            for i in range(per_partition):
                producer.produce(topic, value=f"bench-{i}".encode(), partition=p)
            producer.poll(0)
    if producer.flush(120):
        raise SystemExit("bench: messages not delivered")


def commit_groups(
    settings: ConnectionSettings, desired: DesiredState, counts: Mapping[str, int], offset: int
) -> None:
    """Each declared group commits `offset` on every partition of its topics, as a real
    confluent_kafka Consumer of that group."""
    from confluent_kafka import Consumer, TopicPartition

    for group in desired.groups:
        consumer = Consumer(
            {**settings.client_config(), "group.id": group.name, "enable.auto.commit": False}
        )
        try:
            offsets = [TopicPartition(t, p, offset) for t in group.topics for p in range(counts[t])]
            consumer.commit(offsets=offsets, asynchronous=False)
        finally:
            consumer.close()


def sync_topics(broker: Any, path: Path) -> None:
    sb.must(sb.timed(cli(broker, "-f", str(path), "topics", "sync"), env(broker)), "topics sync")


def partition_counts(settings: ConnectionSettings) -> dict[str, int]:
    client = ConfluentGroups(settings, timeout_s=30)
    try:
        return client.partition_counts()
    finally:
        client.close()


def generated_file(work: Path, prefix: str, topics: int, partitions: int) -> Path:
    """`topics` topics of `partitions` partitions; the 5 seed groups each read all of them."""
    lines = [
        "version: 1",
        f"prefix: {prefix}",
        "defaults:",
        f"  partitions: {partitions}",
        "  replication_factor: 1",
        "domains:",
        "  load: {owner: bench}",
        "topics:",
        *(f"  - name: {prefix}load.t{i:04d}" for i in range(topics)),
        "consumer_groups:",
    ]
    for service in ("auth", "user", "voyage", "payment", "ai"):
        lines += [
            f"  - name: dreamscape-{service}-bench-group",
            f"    service: {service}-bench",
            "    topics:",
            *(f"      - {prefix}load.t{i:04d}" for i in range(topics)),
        ]
    path = work / f"{prefix.rstrip('.')}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- the commands ----------------------------------------------------------------------------


def env(broker: Any) -> dict[str, str]:
    out: dict[str, str] = sb.cli_env(broker)
    out["PYTHONPATH"] = str(ROOT)  # this checkout's code, not whatever is installed
    return out


def cli(broker: Any, *args: str) -> list[str]:
    return [sys.executable, "-m", "dreamscape_infra", *args]


def group_command(broker: Any, log_opts: Sequence[str], group: str) -> list[str]:
    return [
        "java",
        *sb.TOOL_JVM_OPTS,
        *log_opts,
        "-cp",
        f"{broker.libs}/*",
        GROUP_COMMAND,
        "--bootstrap-server",
        broker.bootstrap,
        "--describe",
        "--group",
        group,
    ]


def describe_lag(broker: Any, log_opts: Sequence[str], group: str) -> int:
    """The total LAG kafka-consumer-groups prints for `group`."""
    import subprocess

    done = subprocess.run(
        group_command(broker, log_opts, group), capture_output=True, text=True, check=True
    )
    total = 0
    for line in done.stdout.splitlines():
        cells = line.split()
        if len(cells) >= 6 and cells[0] == group and cells[5] != "-":
            total += int(cells[5])
    return total


@dataclass
class Results:
    lag_runs: list[float] = field(default_factory=list)
    describe_runs: list[float] = field(default_factory=list)
    ours: dict[str, int] = field(default_factory=dict)
    theirs: dict[str, int] = field(default_factory=dict)
    seed_partitions: int = 0
    group_partitions: int = 0
    requests: dict[str, dict[str, int]] = field(default_factory=dict)
    scale_times: dict[str, list[float]] = field(default_factory=dict)
    load_start: float = field(default_factory=lambda: os.getloadavg()[0])


def seed_figures(broker: Any, res: Results, runs: int, loop_runs: int) -> None:
    settings = broker.settings()
    desired = load_desired(SEED_FILE)
    sync_topics(broker, SEED_FILE)
    counts = partition_counts(settings)
    seed = {t.name: counts[t.name] for t in desired.topics}
    res.seed_partitions = sum(seed.values())
    res.group_partitions = sum(counts[t] for g in desired.groups for t in g.topics)
    produce_all(settings, seed, PER_PARTITION)
    commit_groups(settings, desired, counts, COMMITTED)
    log_opts = sb._write_tool_logging(broker.work)
    lag = cli(broker, "-f", str(SEED_FILE), "groups", "lag", "-o", "json")
    e = env(broker)
    # Untimed warm-ups, so neither side pays for a cold page cache; our JSON is the reference.
    import subprocess

    doc = json.loads(subprocess.run(lag, env=e, capture_output=True, text=True, check=True).stdout)
    res.ours = {g["group"]: g["total_lag"] for g in doc["groups"]}
    res.theirs = {g.name: describe_lag(broker, log_opts, g.name) for g in desired.groups}
    sb.log(f"ours {res.ours} theirs {res.theirs}")

    def loop() -> float:
        start = time.perf_counter()
        for group in desired.groups:
            sb.must(sb.timed(group_command(broker, log_opts, group.name)), f"describe {group.name}")
        return time.perf_counter() - start

    for i in range(max(runs, loop_runs)):
        if i < runs:
            res.lag_runs.append(sb.must(sb.timed(lag, e), "groups lag").seconds)
        if i < loop_runs:
            res.describe_runs.append(loop())
    sb.log(
        f"lag median {statistics.median(res.lag_runs):.2f}s, "
        f"describe x5 median {statistics.median(res.describe_runs):.2f}s"
    )
    res.requests[f"seed ({res.seed_partitions} partitions)"] = count_requests(settings, desired)


def scale_figures(broker: Any, res: Results, sizes: Sequence[tuple[int, int]]) -> None:
    settings = broker.settings()
    for topics, partitions in sizes:
        prefix = f"glag{topics * partitions}."
        path = generated_file(broker.work, prefix, topics, partitions)
        sync_topics(broker, path)
        desired = load_desired(path)
        counts = partition_counts(settings)
        mine = {t.name: counts[t.name] for t in desired.topics}
        produce_all(settings, mine, 2)
        commit_groups(settings, desired, counts, 1)
        label = f"{topics * partitions:,} partitions ({topics} topics × {partitions})"
        res.requests[label] = count_requests(settings, desired)
        lag = cli(broker, "-f", str(path), "groups", "lag", "-o", "json")
        res.scale_times[label] = [
            sb.must(sb.timed(lag, env(broker)), f"groups lag {label}").seconds for _ in range(3)
        ]
        sb.log(f"{label}: {res.requests[label]} {res.scale_times[label]}")
        sb.delete_prefix(broker, prefix)
        sb.settle()


# ---- the report ------------------------------------------------------------------------------


def _requests_cell(requests: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(requests.items()))


def render(broker: Any, res: Results) -> str:
    m = sb.machine()
    ours, theirs = sb.Stats(tuple(res.lag_runs)), sb.Stats(tuple(res.describe_runs))
    ratio = theirs.median / ours.median
    pairs = [d / o for d, o in zip(res.describe_runs, res.lag_runs, strict=False)]
    verdict = "met" if ratio >= 5 else "**not met**"
    if ratio >= 5 and min(pairs) < 5:
        verdict = "met by the medians, **but not by every pair of runs**"
    same = res.ours == res.theirs
    lines = [
        BEGIN,
        "## Consumer-group lag (`groups lag`)",
        "",
        "Written by `python bench/groups_bench.py` (also `make bench`); the figure and its",
        "baseline were measured in the same run, on the same broker. Times are wall clock of",
        "the whole process (fork to exit), as `median (min-max, n=runs)`.",
        "",
        f"- Machine: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, {m['java']}",
        f"- Package: {m['bytecode']}",
        f"- Kafka {broker.version} ({broker.mode}), {broker.how}",
        f"- Date: {m['date']}, commit {m['commit']}",
        f"- Load average (1 min) when the bench started / ended: {res.load_start:.2f} /"
        f" {os.getloadavg()[0]:.2f}; the CPUs are shared, so compare figures within this run",
        "",
        "### Lag of the 5 declared groups (target: ≥ 5× faster than the seed's way)",
        "",
        f"The shipped topics.yaml: 32 topics, {res.seed_partitions} partitions. A producer wrote"
        f" {PER_PARTITION} messages to every partition, then each declared group committed"
        f" offset {COMMITTED} on every partition of the topics it declares, as a real"
        f" confluent_kafka Consumer ({res.group_partitions} group-partitions in all).",
        "",
        "| | time | vs. `groups lag` |",
        "|---|---|---|",
        f"| `dreamscape-infra groups lag` (the 5 declared groups) | {ours.cell()} | 1× |",
        f"| `kafka-consumer-groups --describe --group G` ×5 | {theirs.cell()} "
        f"| **{ratio:.1f}×** slower |",
        "",
        "The baseline runs ConsumerGroupCommand from the same jars, one JVM per group with"
        " kafka-run-class.sh's JVM options, calling `java` directly (no bash wrapper, no"
        " container), so it is if anything faster than the seed's `docker exec` loop. Run by run:"
        f" {', '.join(f'{r:.1f}×' for r in pairs)}. Target ≥ 5×: {verdict} ({ratio:.1f}×).",
        "",
        "Both report the same total lag per group: "
        + ("**yes**" if same else "**NO**")
        + f" ({', '.join(f'{g} {v}' for g, v in res.ours.items())}"
        + ("" if same else f"; kafka-consumer-groups: {res.theirs}")
        + ").",
        "",
        "### Round trips do not grow with partitions",
        "",
        "The requests `read_group_lags` sends for the 5 groups, counted by wrapping the real"
        " adapter's AdminClient (each call is one batched request): `list_topics` is the"
        " metadata request, `list_consumer_group_offsets` the committed offsets (librdkafka takes"
        " one group per request, so one per group, all in flight together), `list_offsets` once"
        " for the earliest and once for the latest offsets of all partitions. In the generated"
        " files every group reads every topic.",
        "",
        "| partitions | requests | `groups lag` (whole process) |",
        "|---|---|---|",
    ]
    for label, requests in res.requests.items():
        times = res.scale_times.get(label)
        cell = sb.Stats(tuple(times)).cell() if times else ours.cell()
        lines.append(
            f"| {label} | {_requests_cell(requests)} (total {sum(requests.values())}) | {cell} |"
        )
    totals = {sum(r.values()) for r in res.requests.values()}
    lines += [
        "",
        "Constant: " + ("**yes**" if len(totals) == 1 else f"**no** ({sorted(totals)})") + ".",
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
    parser.add_argument("--runs", type=int, default=7, help="runs of `groups lag`")
    parser.add_argument("--loop-runs", type=int, default=3, help="runs of the describe loop")
    parser.add_argument("--broker", choices=("auto", "local", "own"), default="auto")
    parser.add_argument("--no-write", action="store_true", help="print, don't write the doc")
    opts = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    ensure_bytecode()
    res = Results()
    with contextlib.ExitStack() as stack:
        broker = sb.any_broker(opts.broker, stack)
        sb.log(f"Kafka {broker.version} at {broker.bootstrap} ({broker.work})")
        seed_figures(broker, res, opts.runs, opts.loop_runs)
        scale_figures(broker, res, [(10, 10), (200, 10)])
        section = render(broker, res)
    print(section)
    if not opts.no_write:
        write_section(section)
        sb.log(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
