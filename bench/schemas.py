"""Schemas as code: `schemas plan` against the real registry of `up --profile schema`.

1. A plan of 200 declared subjects, each changed compatibly, so each costs its three requests
   (latest version, level, the registry's compatibility verdict): `observe` as `schemas plan`
   runs it (16 concurrent tasks) against the same requests one after another (target 5 times).
2. A no-op `schemas plan` of the 32 seed topics (one declared schema) against a no-op
   `topics plan` of the same file, whole processes: the same order of time.

The registry (Apicurio, as `up --runtime local --profile schema` runs it) starts beside the
bench's broker on a free port and stops with it.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.harness import ROOT, Broker, free_port, log, ratio, seconds, seed_copy
from dreamscape_infra.runtime.apicurio import PORT_ENV
from dreamscape_infra.runtime.base import SCHEMA_REGISTRY_LABEL, UpOptions, no_progress
from dreamscape_infra.runtime.local import LocalRuntime
from dreamscape_infra.schemas.desired import load_subjects
from dreamscape_infra.schemas.reconcile import observe
from dreamscape_infra.schemas.registry import ConfluentRegistry
from dreamscape_infra.schemas.settings import RegistrySettings
from dreamscape_infra.topics.desired import load_desired

SUBJECTS = 200
PAYLOAD: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"id": {"type": "string"}},
    "required": ["id"],
    "additionalProperties": False,
}


def generated(work: Path, prefix: str) -> Path:
    """A topics.yaml of SUBJECTS topics, each with its own payload schema file."""
    folder = work / "gen-schemas"
    folder.mkdir(exist_ok=True)
    lines = [f"version: 1\nprefix: {prefix}\ndomains:\n  gen: {{owner: bench}}\ntopics:"]
    for i in range(SUBJECTS):
        (folder / f"t{i:03d}.json").write_text(json.dumps(PAYLOAD))
        lines.append(f"  - name: {prefix}gen.t{i:03d}\n    schema: gen-schemas/t{i:03d}.json")
    path = work / "gen-schemas.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(broker: Broker, tag: str, runs: int = 3) -> Any:
    """Every figure of this section, as a results.json section."""
    env = {**os.environ, PORT_ENV: str(free_port())}
    runtime = LocalRuntime(broker.runtime.config, env=env)
    result = runtime.up(UpOptions(profiles=("schema",), timeout_s=180), no_progress)
    url = next(u for label, u in result.status.urls if label == SCHEMA_REGISTRY_LABEL)
    cli_env = {**broker.env, "SCHEMA_REGISTRY_URL": url}
    try:
        prefix = f"{tag}s."
        path = generated(broker.work, prefix)
        broker_cli = replace(broker, env=cli_env)
        broker_cli.run_cli("-f", str(path), "schemas", "sync")
        changed = copy.deepcopy(PAYLOAD)
        changed["properties"]["note"] = {"type": "string"}  # compatible: every subject checked
        for schema in (broker.work / "gen-schemas").glob("*.json"):
            schema.write_text(json.dumps(changed))
        specs = load_subjects(load_desired(path))
        registry = ConfluentRegistry(RegistrySettings(url))
        timings: dict[int, list[float]] = {16: [], 1: []}
        for _ in range(runs):
            for workers in (16, 1):
                start = time.perf_counter()
                observed = observe(registry, specs, prefix, workers=workers)
                timings[workers].append(time.perf_counter() - start)
                assert len(observed.verdicts) == SUBJECTS
        registry.close()
        log(f"200 subjects: {min(timings[16]):.2f} s concurrent, {min(timings[1]):.2f} s serial")

        seed = seed_copy(broker.work, f"{tag}seed.")
        shutil.copytree(ROOT / "schemas", broker.work / "schemas", dirs_exist_ok=True)
        broker_cli.run_cli("-f", str(seed), "topics", "sync")
        broker_cli.run_cli("-f", str(seed), "schemas", "sync")
        schemas_plan = [
            broker_cli.run_cli("-f", str(seed), "schemas", "plan", "--detailed-exitcode").seconds
            for _ in range(5)
        ]
        topics_plan = [
            broker_cli.run_cli("-f", str(seed), "topics", "plan", "--detailed-exitcode").seconds
            for _ in range(5)
        ]
    finally:
        runtime.stop_extras(no_progress)
    return {
        "title": "Schemas as code (`schemas plan`)",
        "about": (
            f"`schemas plan` reads each of {SUBJECTS} declared subjects (latest version, level)"
            " and asks the registry about each changed one: Apicurio Registry as"
            " `up --profile schema` runs it, on this machine. Concurrent is how `schemas plan`"
            " runs the requests (16 tasks); one after another is the same requests in a row."
        ),
        "figures": [
            seconds(f"plan of {SUBJECTS} changed subjects, concurrent", timings[16], "concurrent"),
            seconds("the same requests one after another", timings[1], "serial"),
            seconds("no-op `schemas plan` of the seed (whole process)", schemas_plan, "splan"),
            seconds("no-op `topics plan` of the seed (whole process)", topics_plan, "tplan"),
        ],
        "ratios": [
            ratio("concurrent plan vs one after another", "concurrent", "serial", 5.0),
            ratio("no-op `schemas plan` vs `topics plan`", "splan", "tplan"),
        ],
        "notes": [],
        "tables": [],
    }
