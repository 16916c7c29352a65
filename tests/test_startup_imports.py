"""What the commands that talk to Kafka import before they do anything.

The start-up budget (a no-op `topics plan` in <= 0.25 s, issue 8) has no room for modules that
the command does not use. pyproject pins the two dependencies whose newer versions bring such
imports (typer 0.29: pydantic for option coercion; confluent-kafka 2.16: asyncio when the
package is imported); these tests say so when a bump or a new import brings one back.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The modules a no-op `topics plan`, `health` and `events produce` load, without running them.
HOT_PATHS = {
    "topics plan": [
        "dreamscape_infra.cli",
        "dreamscape_infra.cli.root",
        "dreamscape_infra.cli.topics",
        "dreamscape_infra.topics.reconcile",
        "dreamscape_infra.topics.render",
        "dreamscape_infra.topics.desired",
        "dreamscape_infra.kafka.admin",
        "confluent_kafka.admin",
    ],
    "health": [
        "dreamscape_infra.cli",
        "dreamscape_infra.cli.root",
        "dreamscape_infra.cli.health",
        "dreamscape_infra.health.sources",
        "dreamscape_infra.health.render",
        "dreamscape_infra.topics.desired",
        "dreamscape_infra.kafka.admin",
        "dreamscape_infra.kafka.groups",
        "confluent_kafka.admin",
    ],
    "events produce": [
        "dreamscape_infra.cli",
        "dreamscape_infra.cli.root",
        "dreamscape_infra.cli.events",
        "dreamscape_infra.events.envelope",
        "dreamscape_infra.kafka.events",
        "confluent_kafka",
    ],
}
NOT_ON_THE_HOT_PATH = ("pydantic", "asyncio", "ssl", "rich", "python_on_whales", "jsonschema")


def probe(modules: list[str], then: str) -> set[str]:
    """In a fresh interpreter: import `modules`, run `then` (which prints names); the names."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n" + then
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(done.stdout.split())


def loaded_top_level(modules: list[str]) -> set[str]:
    return probe(modules, "print(' '.join(sorted({m.partition('.')[0] for m in sys.modules})))\n")


@pytest.mark.parametrize("command", sorted(HOT_PATHS))
def test_a_command_that_talks_to_kafka_imports_nothing_it_does_not_use(command: str) -> None:
    loaded = loaded_top_level(HOT_PATHS[command])
    assert "confluent_kafka" in loaded  # the probe really imported the path
    assert sorted(loaded & set(NOT_ON_THE_HOT_PATH)) == []


def test_the_import_check_can_fail() -> None:
    assert {"asyncio", "ssl", "rich"} <= loaded_top_level(["asyncio", "rich.console"])
