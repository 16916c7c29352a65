"""The console in the real browser: how soon the overview is complete after navigation, and how
fast /api/ answers from serve's cache with 20 clients at once.

Two scenes on the bench's broker: the shipped topics.yaml (32 topics, its 5 groups committed),
and 2,000 generated one-partition topics with 50 groups reading 40 topics each. For each,
`serve` runs on a free port with its cache warm (the sampler reads once per interval anyway),
Debian's headless Chromium opens `/` afresh `runs` times, and the page's own mark says when
every panel was filled (`data-ready-ms`, ms since the navigation started). Then 20 threads ask
/api/overview, /api/topics and /api/groups for `seconds` and the p95 of their answers is taken.
Targets (issue 20): overview within 1 s at 32 topics and 3 s at 2,000 topics / 50 groups,
medians; API p95 <= 50 ms.

`python3 -m bench.console` runs it alone on a broker of its own and prints the section.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.harness import ROOT, SEED_FILE, Broker, free_port, local_broker, log, value
from bench.harness import wait_port as wait_for_port

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BIG_TOPICS, BIG_GROUPS, TOPICS_PER_GROUP = 2000, 50, 40
API_PATHS = ("/api/overview", "/api/topics", "/api/groups")
CLIENTS = 20


@contextlib.contextmanager
def serving(broker: Broker, topics_file: Path, cache_seconds: float = 5.0) -> Iterator[str]:
    """`dreamscape-infra serve` on a free port; its base URL once /api/overview answers."""
    port = free_port()
    argv = broker.cli(
        "-f", str(topics_file), "serve", "--port", str(port), "--cache-seconds", str(cache_seconds)
    )
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=broker.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, 60)
        get_ms(base + "/api/overview")  # the first read: the cache is warm from here on
        yield base
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


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,1000")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def overview_ms(driver: Any, base: str, runs: int) -> list[float]:
    """Per fresh navigation to `/`: ms until the page marked every panel filled."""
    found: list[float] = []
    for _ in range(runs):
        driver.get("about:blank")
        driver.get(base + "/")
        deadline = time.monotonic() + 60
        mark = None
        while mark is None and time.monotonic() < deadline:
            mark = driver.execute_script("return document.body.getAttribute('data-ready-ms')")
            if mark is None:
                time.sleep(0.02)
        if mark is None:
            raise SystemExit("bench: the overview was not complete within 60 s")
        found.append(float(mark))
    return found


def api_p95(base: str, seconds: float) -> tuple[float, float, int]:
    """(p95 ms, median ms, answers) of CLIENTS threads asking API_PATHS for `seconds`."""
    stop = time.monotonic() + seconds
    times: list[float] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        n = i
        while time.monotonic() < stop:
            took = get_ms(base + API_PATHS[n % len(API_PATHS)])
            n += 1
            with lock:
                times.append(took)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    return p95(times), statistics.median(times), len(times)


def big_file(work: Path, prefix: str) -> Path:
    names = [f"{prefix}d{i % 10}.t{i:04d}" for i in range(BIG_TOPICS)]
    lines = [
        "version: 1",
        f"prefix: {prefix}",
        "defaults:",
        "  partitions: 1",
        "  replication_factor: 1",
        "domains:",
        *(f"  d{d}: {{owner: svc{d}}}" for d in range(10)),
        "topics:",
    ]
    lines += [f"  - name: {n}" for n in names]
    lines.append("consumer_groups:")
    for g in range(BIG_GROUPS):
        chosen = [names[(g * TOPICS_PER_GROUP + k) % BIG_TOPICS] for k in range(TOPICS_PER_GROUP)]
        service = f"svc{g:02d}"
        lines += [f"  - name: dreamscape-{service}-group", f"    service: {service}", "    topics:"]
        lines += [f"      - {n}" for n in chosen]
    path = work / f"{prefix.rstrip('.')}-console.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def commit_groups(broker: Broker, topics_file: Path, offset: int = 0) -> None:
    """Each declared group commits `offset` on its topics' partition 0 (one-partition topics)."""
    from confluent_kafka import Consumer, TopicPartition

    from dreamscape_infra.topics.desired import load_desired

    for group in load_desired(topics_file).groups:
        consumer = Consumer(
            {
                "bootstrap.servers": broker.bootstrap,
                "group.id": group.name,
                "enable.auto.commit": False,
            }
        )
        try:
            offsets = [TopicPartition(t, 0, offset) for t in group.topics]
            consumer.commit(offsets=offsets, asynchronous=False)
        finally:
            consumer.close()


def scene(broker: Broker, topics_file: Path, runs: int, seconds: float) -> dict[str, Any]:
    with serving(broker, topics_file) as base, browser() as driver:
        ready = overview_ms(driver, base, runs)
        high, mid, answers = api_p95(base, seconds)
    return {"ready_ms": ready, "p95_ms": high, "median_ms": mid, "answers": answers}


def measure(broker: Broker, tag: str, runs: int = 7, seconds: float = 10.0) -> Any:
    """Every figure of this section, as a results.json section."""
    from bench.groups import scene as seed_scene

    seed_scene(broker, SEED_FILE, 10, 5)
    seed = scene(broker, SEED_FILE, runs, seconds)
    log(f"console, seed: {seed}")
    path = big_file(broker.work, f"{tag}c.")
    broker.run_cli("-f", str(path), "topics", "sync")
    commit_groups(broker, path)
    big = scene(broker, path, runs, seconds)
    log(f"console, {BIG_TOPICS} topics: {big}")
    broker.delete_prefix(f"{tag}c.")

    def verdict(figure: float, target: float) -> str:
        return "met" if figure <= target else "NOT met"

    seed_ready = statistics.median(seed["ready_ms"])
    big_ready = statistics.median(big["ready_ms"])
    return {
        "title": "Console (`serve`'s page in headless Chromium)",
        "about": (
            "Navigation to `/` until every overview panel is filled (the page's own mark,"
            " ms since navigation), serve's cache warm, medians of fresh loads; then"
            f" {CLIENTS} concurrent clients on /api/overview, /api/topics and /api/groups."
        ),
        "figures": [
            value(
                "overview complete, seed (32 topics, 5 groups)",
                f"median {seed_ready:.0f} ms of {runs} (target 1,000 ms: "
                f"{verdict(seed_ready, 1000)})",
            ),
            value(
                f"overview complete, {BIG_TOPICS:,} topics and {BIG_GROUPS} groups",
                f"median {big_ready:.0f} ms of {runs} (target 3,000 ms: "
                f"{verdict(big_ready, 3000)})",
            ),
            value(
                f"/api/ at {CLIENTS} clients, seed",
                f"p95 {seed['p95_ms']:.1f} ms, median {seed['median_ms']:.1f} ms, "
                f"{seed['answers']} answers (target p95 50 ms: {verdict(seed['p95_ms'], 50)})",
            ),
            value(
                f"/api/ at {CLIENTS} clients, {BIG_TOPICS:,} topics",
                f"p95 {big['p95_ms']:.1f} ms, median {big['median_ms']:.1f} ms, "
                f"{big['answers']} answers (target p95 50 ms: {verdict(big['p95_ms'], 50)})",
            ),
        ],
        "ratios": [],
        "notes": [],
        "tables": [],
    }


def main() -> int:
    """This section alone, on a broker of its own; the section JSON on stdout."""
    with local_broker() as broker:
        section = measure(broker, "bx")
    json.dump(section, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
