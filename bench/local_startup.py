"""Benchmark: `dreamscape-infra up --runtime local --no-sync` until the broker is ready.

Each run starts from an empty state folder on free ports with a warm jar cache, times the whole
CLI process (it returns only once an AdminClient sees every broker and a controller), then
stops and removes the stack (untimed). Writes its section of docs/benchmarks.md between
`<!-- local-startup:begin -->` and `<!-- local-startup:end -->`, leaving other sections alone.

Usage: python bench/local_startup.py [--runs 5] [--compare-flags] [--no-kraft] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- local-startup:begin -->"
END = "<!-- local-startup:end -->"
TARGET_S = 15.0
LOAD = os.getloadavg()


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def cli() -> list[str]:
    found = shutil.which("dreamscape-infra")
    return [found] if found else [sys.executable, "-m", "dreamscape_infra"]


def one_run(kraft: bool, jvm_opts: str | None = None) -> float:
    """Seconds from starting `up` to its exit with a ready broker."""
    with tempfile.TemporaryDirectory(prefix="bench-local-") as tmp:
        zk, kafka, controller = free_ports(3)
        env = {
            **os.environ,
            "DREAMSCAPE_STATE_DIR": str(Path(tmp) / "state"),
            "DREAMSCAPE_ZK_PORT": str(zk),
            "DREAMSCAPE_KAFKA_PORT": str(kafka),
            "DREAMSCAPE_CONTROLLER_PORT": str(controller),
        }
        if jvm_opts is not None:
            env["DREAMSCAPE_JVM_OPTS"] = jvm_opts
        argv = [*cli(), "up", "--runtime", "local", "--no-sync", "--timeout", "120"]
        if kraft:
            argv.append("--kraft")
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        down = [*cli(), "down", "--runtime", "local", "-v", "--yes"]
        subprocess.run(down, env=env, capture_output=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"up failed (exit {done.returncode}):\n{done.stderr}")
        return elapsed


def describe(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} s ({min(times):.2f}-{max(times):.2f}, n={len(times)})"


def java_version() -> str:
    done = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return (done.stderr.splitlines() or ["unknown"])[0]


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def section(results: dict[str, list[float]]) -> str:
    from dreamscape_infra.runtime.dist import KRAFT_VERSION, ZOOKEEPER_VERSION
    from dreamscape_infra.runtime.local import JVM_FLAGS

    zk = statistics.median(results["zookeeper"])
    verdict = "met" if zk <= TARGET_S else "**not met**"
    lines = [
        BEGIN,
        "## Local runtime start-up (`up --runtime local`)",
        "",
        "Written by `python bench/local_startup.py`. Each run: an empty state folder on free",
        "ports, a warm jar cache (`make kafka-dist` done), wall clock of the whole",
        "`dreamscape-infra up --runtime local --no-sync` process, which exits only once an",
        "AdminClient sees every broker and a controller. `down -v` after each run is not timed.",
        "Times are `median (min-max, n=runs)`.",
        "",
        f"- Machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, {java_version()}",
        f"- JVM flags: `-Xmx512m {' '.join(JVM_FLAGS)}` (ZooKeeper `-Xmx256m`)",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
        f"- Load average (1 min) before / after the runs: {LOAD[0]:.2f} / {os.getloadavg()[0]:.2f}"
        " (other work shared the 2 cores)",
        "",
        "| mode | up → ready |",
        "|---|---|",
        f"| ZooKeeper + 1 broker (Kafka {ZOOKEEPER_VERSION}) | {describe(results['zookeeper'])} |",
    ]
    if "default-jvm" in results:
        lines.append(
            "| ZooKeeper + 1 broker, JVM defaults (`DREAMSCAPE_JVM_OPTS=`, G1 + C2) "
            f"| {describe(results['default-jvm'])} |"
        )
    if "kraft" in results:
        lines.append(
            f"| one KRaft node, `--kraft` (Kafka {KRAFT_VERSION}, includes storage format) "
            f"| {describe(results['kraft'])} |"
        )
    lines += ["", f"Target ≤ {TARGET_S:g} s (ZooKeeper mode, median): {verdict}.", END]
    return "\n".join(lines)


def write_section(text: str) -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if BEGIN in current and END in current:
        head, _, rest = current.partition(BEGIN)
        _, _, tail = rest.partition(END)
        updated = head + text + tail
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(updated, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-kraft", action="store_true", help="ZooKeeper mode only")
    parser.add_argument(
        "--compare-flags", action="store_true", help="also time the JVM's default flags"
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the doc")
    args = parser.parse_args()

    results: dict[str, list[float]] = {}
    modes = ["zookeeper"] if args.no_kraft else ["zookeeper", "kraft"]
    if args.compare_flags:
        modes.append("default-jvm")
    for mode in modes:
        results[mode] = []
        for i in range(args.runs):
            jvm_opts = "" if mode == "default-jvm" else None
            elapsed = one_run(kraft=mode == "kraft", jvm_opts=jvm_opts)
            results[mode].append(elapsed)
            print(f"{mode} run {i + 1}: {elapsed:.2f} s", flush=True)
    text = section(results)
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
