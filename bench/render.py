"""bench/results.json → docs/benchmarks.md: `python3 -m bench.render` (bench.run calls it)."""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from bench.harness import ROOT

RESULTS = ROOT / "bench" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"


def cell(figure: Mapping[str, Any]) -> str:
    """`median s (min-max, n=runs)` of a timed figure, else its worded value."""
    if "value" in figure:
        return str(figure["value"])
    runs: list[float] = figure["seconds"]
    if len(runs) == 1:
        return f"{runs[0]:.2f} s (n=1)"
    return f"{statistics.median(runs):.2f} s ({min(runs):.2f}-{max(runs):.2f}, n={len(runs)})"


def ratio_line(r: Mapping[str, Any], figures: Mapping[str, Mapping[str, Any]]) -> str:
    times = statistics.median(figures[r["than"]]["seconds"])
    times /= statistics.median(figures[r["faster"]]["seconds"])
    line = f"- {r['label']}: **{times:.1f}×** faster (medians)"
    if r["target"] is not None:
        verdict = "met" if times >= r["target"] else "**not met**"
        line += f"; target ≥ {r['target']:g}×: {verdict}"
    return line


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def render(results: Mapping[str, Any]) -> str:
    """The whole doc; every number in it comes from `results`."""
    m, broker = results["machine"], results["broker"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python3 -m bench.run`, which writes bench/results.json;"
        " `python3 -m bench.render` makes this page from it). Every figure and its baseline were"
        " measured in the same run, on the same broker, so compare figures within one run."
        " Times are wall clock of the whole process (fork to exit), as"
        " `median (min-max, n=runs)`; the CLI runs as `python3 -m dreamscape_infra`.",
        "",
        f"- Machine: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, {m['java']}",
        f"- Kafka {broker['version']} ({broker['mode']}), started through the local runtime"
        f" (`LocalRuntime.up`, own state dir and free ports) in {broker['up_seconds']:.1f} s",
        f"- {m['date']}, commit {m['commit']}, {results['minutes']} minutes",
        f"- Load average (1 min) at the start / end: {results['load_start']:.2f} /"
        f" {results['load_end']:.2f} (the CPUs are shared with other work)",
    ]
    targets = [
        ratio_line(r, {f["key"]: f for f in section["figures"]})
        for section in results["sections"]
        for r in section["ratios"]
        if r["target"] is not None
    ]
    lines += ["", "Targets (ratios against a baseline of the same run):", "", *targets]
    for section in results["sections"]:
        figures = {f["key"]: f for f in section["figures"]}
        lines += ["", f"## {section['title']}", "", section["about"], ""]
        lines += table(["", "figure"], [[f["label"], cell(f)] for f in section["figures"]])
        lines += ["", *(ratio_line(r, figures) for r in section["ratios"])]
        lines += [f"- {note}" for note in section["notes"]]
        for extra in section["tables"]:
            lines += ["", extra["title"] + ":", "", *table(extra["head"], extra["rows"])]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Render bench/results.json (or the file named) into docs/benchmarks.md."""
    args = list(sys.argv[1:] if argv is None else argv)
    source = ROOT / args[0] if args else RESULTS
    DOC.write_text(render(json.loads(source.read_text())))
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
