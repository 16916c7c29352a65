"""`python3 -m bench.run` (`make bench`): start one broker, run every benchmark, write results.

One broker of the local runtime serves every benchmark (its own state dir, free ports, stopped
at the end); the figures go to bench/results.json, which `bench.render` turns into
docs/benchmarks.md. `--only topics,groups` runs some; `--no-render` leaves the doc alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import console, events, groups, health, kcat, render, schemas, topics
from bench.harness import ROOT, Broker, compile_package, local_broker, log, machine

RESULTS = ROOT / "bench" / "results.json"
BENCHMARKS: dict[str, Callable[[Broker, str], Any]] = {
    "topics": topics.measure,
    "events": events.measure,
    "groups": groups.measure,
    "health": health.measure,
    "kcat": kcat.measure,
    "schemas": schemas.measure,
    "console": console.measure,
}


def dumps(results: Any) -> str:
    """Indented JSON, each list of run times on one line."""
    text = json.dumps(results, indent=1, ensure_ascii=False)
    return re.sub(r"\[\s+([-\d.,\s]+?)\s+\]", lambda m: f"[{' '.join(m[1].split())}]", text) + "\n"


def _carried_over(old: Any, new: list[Any]) -> list[Any]:
    """With --only: the earlier run's other sections, in their place and marked as such, and
    this run's sections replacing theirs (by title) or added at the end."""
    fresh = {section["title"]: section for section in new}
    when = f"{old['machine']['date']}, commit {old['machine']['commit']}"
    merged = []
    for section in old.get("sections", []):
        if section["title"] in fresh:
            merged.append(fresh.pop(section["title"]))
            continue
        if not any(note.startswith("Measured in an earlier run") for note in section["notes"]):
            section["notes"].append(f"Measured in an earlier run ({when}).")
        merged.append(section)
    return merged + list(fresh.values())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks, write results.json and (unless told not to) the doc."""
    parser = argparse.ArgumentParser(prog="python3 -m bench.run", description=__doc__)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated names")
    parser.add_argument("--no-render", action="store_true", help="don't write the doc")
    opts = parser.parse_args(argv)
    chosen = [name.strip() for name in opts.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    compile_package()
    tag = "b" + secrets.token_hex(2)  # topics of this run have names no earlier run used
    results: dict[str, Any] = {"machine": machine(), "load_start": os.getloadavg()[0]}
    started = time.perf_counter()
    with local_broker() as broker:
        results["broker"] = {
            "version": broker.version,
            "mode": "ZooKeeper, one broker",
            "up_seconds": round(broker.up_seconds, 2),
        }
        log(f"Kafka {broker.version} at {broker.bootstrap}, up in {broker.up_seconds:.1f} s")
        results["sections"] = []
        for name in chosen:
            log(f"== {name}")
            results["sections"].append(BENCHMARKS[name](broker, tag))
    results["load_end"] = os.getloadavg()[0]
    if set(chosen) != set(BENCHMARKS) and RESULTS.exists():
        results["sections"] = _carried_over(json.loads(RESULTS.read_text()), results["sections"])
    results["minutes"] = round((time.perf_counter() - started) / 60, 1)
    RESULTS.write_text(dumps(results))
    log(f"wrote {RESULTS.relative_to(ROOT)}")
    if not opts.no_render:
        render.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
