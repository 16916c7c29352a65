"""The shape of `docker compose ps --format json`, as the real daemon prints it and the shim.

tests/fixtures/docker/compose-ps.ndjson is what a real daemon printed for the running stack
(recorded by tests/test_docker_stack.py with DREAMSCAPE_RECORD_COMPOSE_PS=1). The docker tests
check the live daemon still prints that shape; tests/test_docker_shim_shapes.py checks the shim's
canned entries (tests/test_docker_runtime.py) have it too, so the two cannot drift apart.
tests/fixtures/docker/compose-up.txt is the same for `compose up --wait`'s progress lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORDED_PS = Path(__file__).resolve().parent / "fixtures" / "docker" / "compose-ps.ndjson"
# what `compose up --detach --wait zookeeper kafka` printed on stderr for the running stack
RECORDED_UP = RECORDED_PS.with_name("compose-up.txt")
# What runtime/docker.py reads from each entry (statuses_from_ps, _ports).
READ_KEYS = ("Name", "Service", "State", "Health", "Status", "Publishers")
PUBLISHER_KEYS = ("URL", "TargetPort", "PublishedPort", "Protocol")


def entries(text: str) -> list[dict[str, Any]]:
    """compose v2.20+ prints one JSON object per line."""
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def shape(entry: dict[str, Any]) -> dict[str, Any]:
    """The keys the runtime reads, with the type of each value (publishers: of each field)."""
    result: dict[str, Any] = {key: type(entry.get(key)).__name__ for key in READ_KEYS}
    result["Publishers"] = sorted(
        {
            tuple((key, type(pub.get(key)).__name__) for key in PUBLISHER_KEYS)
            for pub in entry.get("Publishers") or ()
        }
    )
    return result


def recorded() -> list[dict[str, Any]]:
    return entries(RECORDED_PS.read_text(encoding="utf-8"))


def progress_lines(text: str) -> list[tuple[str, str]]:
    """compose's ` Container NAME  STATE` lines as (NAME, STATE); what `up` reports from."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "Container":
            found.append((words[1], words[2]))
    return found


def recorded_up() -> list[tuple[str, str]]:
    return progress_lines(RECORDED_UP.read_text(encoding="utf-8"))
