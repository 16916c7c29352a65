"""What a run imports before it does anything: `--help` and the commands that talk to Kafka.

The command modules import the heavy libraries (confluent_kafka, python_on_whales, yaml, ...)
inside the functions that use them, so the whole Typer app loads without them. These tests pin
that property of our code only; how long the dependencies take to import is reported by bench/,
never asserted here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Our dependencies that only a command's work needs.
HEAVY = ("confluent_kafka", "python_on_whales", "yaml", "jsonschema", "prometheus_client")

# The modules a no-op `topics plan`, `health` and `events produce` load, without running them
# (the adapters import confluent_kafka when they open a client).
HOT_PATHS = {
    "topics plan": [
        "dreamscape_infra.cli",
        "dreamscape_infra.topics.reconcile",
        "dreamscape_infra.topics.render",
        "dreamscape_infra.topics.desired",
        "dreamscape_infra.kafka.admin",
        "confluent_kafka.admin",
    ],
    "health": [
        "dreamscape_infra.cli",
        "dreamscape_infra.health.sources",
        "dreamscape_infra.health.render",
        "dreamscape_infra.topics.desired",
        "dreamscape_infra.kafka.admin",
        "dreamscape_infra.kafka.groups",
        "confluent_kafka.admin",
    ],
    "events produce": [
        "dreamscape_infra.cli",
        "dreamscape_infra.events.envelope",
        "dreamscape_infra.kafka.events",
        "confluent_kafka",
    ],
}


def loaded_after(code: str, *args: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after running `code` with `args`."""
    probe = code + "\nprint(' '.join(sorted({m.partition('.')[0] for m in sys.modules})))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(done.stdout.splitlines()[-1].split())


HELP = (
    "import sys\n"
    "from dreamscape_infra.cli import main\n"
    "sys.argv = ['dreamscape-infra', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
)


@pytest.mark.parametrize("args", [["--help"], ["topics", "--help"], ["events", "--help"]])
def test_help_loads_the_app_without_the_heavy_libraries(args: list[str]) -> None:
    loaded = loaded_after(HELP, *args)
    assert {"dreamscape_infra", "typer"} <= loaded  # the probe really ran the app
    assert sorted(loaded & set(HEAVY)) == []


@pytest.mark.parametrize("command", sorted(HOT_PATHS))
def test_a_command_that_talks_to_kafka_does_not_load_the_docker_client(command: str) -> None:
    code = "import importlib, sys\n" + "".join(
        f"importlib.import_module({name!r})\n" for name in HOT_PATHS[command]
    )
    loaded = loaded_after(code)
    assert "confluent_kafka" in loaded  # the probe really imported the path
    assert "python_on_whales" not in loaded
