"""The bench's renderer: ratios of medians, and a verdict only where a target is set."""

from __future__ import annotations

from typing import Any

from bench.harness import ratio, seconds, value
from bench.render import render


def results(loop: list[float]) -> dict[str, Any]:
    return {
        "machine": {
            "cpus": "2",
            "cpu": "x",
            "python": "3.11",
            "java": "17",
            "commit": "abc",
            "date": "today",
        },
        "broker": {"version": "3.9.1", "mode": "ZooKeeper, one broker", "up_seconds": 3.0},
        "load_start": 1.0,
        "load_end": 2.0,
        "minutes": 9.5,
        "sections": [
            {
                "title": "Topics",
                "about": "About.",
                "figures": [
                    seconds("sync", [1.0, 0.5, 9.0]),
                    seconds("loop", loop),
                    value("share", "0.20 s"),
                ],
                "ratios": [
                    ratio("sync vs loop", "sync", "loop", 30),
                    ratio("free", "sync", "loop"),
                ],
                "notes": ["A note."],
                "tables": [{"title": "Counts", "head": ["n", "requests"], "rows": [["20", "7"]]}],
            }
        ],
    }


def test_ratio_of_medians_with_its_verdict() -> None:
    doc = render(results([20.0, 31.0, 40.0]))
    assert "| sync | 1.00 s (0.50-9.00, n=3) |" in doc
    assert "- sync vs loop: **31.0×** faster (medians); target ≥ 30×: met" in doc
    assert "- free: **31.0×** faster (medians)\n" in doc
    assert "| share | 0.20 s |" in doc
    assert "Targets (ratios against a baseline of the same run):" in doc
    assert "| 20 | 7 |" in doc


def test_a_missed_target_says_so() -> None:
    doc = render(results([29.0]))
    assert "| loop | 29.00 s (n=1) |" in doc
    assert "target ≥ 30×: **not met**" in doc
