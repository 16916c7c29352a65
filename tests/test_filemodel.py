"""topics.yaml's structure: the validator's messages, its agreement with the JSON Schema it
publishes, and that reading the file no longer imports pydantic.

The schema and the validator are both made from the models' field descriptions; these tests hold
them to the same verdict on every document, using jsonschema as the independent judge of the
schema. Structure only: names, configs and conventions are load_desired's (test_desired.py).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dreamscape_infra.topics.filemodel import (
    DefaultsModel,
    DomainModel,
    EnvironmentModel,
    GroupModel,
    PrefixModel,
    ServiceModel,
    SettingsModel,
    TopicModel,
    TopicOverrideModel,
    TopicsFileModel,
    json_schema,
    validate,
)
from dreamscape_infra.yamlsource import Path as DocPath
from dreamscape_infra.yamlsource import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "fixtures" / "topics-small.yaml"
SCHEMA = Draft202012Validator(json_schema())

BASE: dict[str, Any] = {
    "domains": {"user": {"owner": "user-service"}},
    "topics": [{"name": "dreamscape.user.a"}],
}
DROP = object()  # edit(): remove the key instead of setting it


def edit(*changes: tuple[DocPath, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of BASE with each (path, value) set (DROP: removed), creating what is missing."""
    document = copy.deepcopy(BASE if base is None else base)
    for path, value in changes:
        node: Any = document
        for part, after in itertools.pairwise(path):
            if isinstance(node, list) and part == len(node):
                node.append({} if isinstance(after, str) else [])
            elif isinstance(node, dict) and part not in node:
                node[part] = {} if isinstance(after, str) else []
            node = node[part]
        last = path[-1]
        if value is DROP:
            del node[last]
        elif isinstance(node, list) and last == len(node):
            node.append(value)
        else:
            node[last] = value
    return document


def outcome(document: Any) -> tuple[bool, list[tuple[DocPath, str]]]:
    model, problems = validate(TopicsFileModel, document)
    assert (model is None) == bool(problems), "a model, or the problems: never both or neither"
    return model is not None, [(p.path, p.message) for p in problems]


# --- a corpus: valid documents, and one per kind of structural fault ---------------------------

FULL: dict[str, Any] = {
    "version": 1,
    "prefix": "dreamscape.",
    "defaults": {"partitions": 3, "replication_factor": 1, "config": {"retention.ms": "7d"}},
    "settings": {
        "strict_configs": True,
        "prune_max_deletes": 5,
        "kafka_version": "3.9",
        "prune_min_idle": "2h",
    },
    "domains": {"user": {"owner": "user-service", "description": "Users"}},
    "topics": [
        {
            "name": "dreamscape.user.a",
            "partitions": 100_000,
            "replication_factor": 32,
            "config": {"cleanup.policy": ["compact", "delete"], "retention.ms": 1000},
            "keyed": True,
            "owner": "someone",
            "description": "A",
            "event_type": "*",
        }
    ],
    "consumer_groups": [
        {"name": "dreamscape-x-group", "service": "x", "topics": ["dreamscape.user.a"]}
    ],
    "environments": {
        "prod": {
            "description": "Production",
            "defaults": {"replication_factor": 3},
            "topics": {"dreamscape.user.a": {"partitions": 6, "config": {"segment.ms": "1h"}}},
        }
    },
    "services": {
        "x": {
            "principal": "User:x",
            "produces": ["dreamscape.user.*", {"prefix": "dreamscape.user."}],
            "consumes": None,
            "group": "dreamscape-x-group",
            "retired": False,
            "description": "X",
        }
    },
}

TOPIC = ("topics", 0)
SERVICE = ("services", "svc")
ENV = ("environments", "dev")
OVERRIDE = (*ENV, "topics", "dreamscape.user.a")
PATTERN = "expected a topic name, a glob or {prefix: ...}"

VALID = [
    pytest.param(BASE, id="minimal"),
    pytest.param(FULL, id="every-field"),
    pytest.param(
        edit(
            ((*TOPIC, "partitions"), None),
            ((*TOPIC, "description"), None),
            ((*TOPIC, "event_type"), None),
            (("settings", "kafka_version"), None),
            (("domains", "user", "description"), None),
        ),
        id="nulls-where-optional",
    ),
    pytest.param(edit((("settings", "prune_min_idle"), 3_600_000)), id="prune-min-idle-int"),
    pytest.param(edit(((*TOPIC, "config"), {"a": [1], "b": {"c": None}})), id="config-any"),
    pytest.param(edit((("topics",), [])), id="no-topics"),
    pytest.param(edit(((*ENV, "topics"), {})), id="empty-environment"),
]

INVALID = [
    # wrong type, one per kind of field
    pytest.param(
        edit(((*TOPIC, "partitions"), "3")),
        [(("topics", 0, "partitions"), "expected an integer (got '3')")],
        id="int-given-string",
    ),
    pytest.param(
        edit(((*TOPIC, "partitions"), True)),
        [(("topics", 0, "partitions"), "expected an integer (got true)")],
        id="int-given-bool",
    ),
    pytest.param(
        edit(((*TOPIC, "replication_factor"), 2.5)),
        [(("topics", 0, "replication_factor"), "expected an integer (got 2.5)")],
        id="int-given-float",
    ),
    pytest.param(
        edit((("settings", "prune_max_deletes"), None)),
        [(("settings", "prune_max_deletes"), "expected an integer (got null)")],
        id="required-int-given-null",
    ),
    pytest.param(
        edit(((*TOPIC, "name"), 5)),
        [(("topics", 0, "name"), "expected a string (got 5; put it in quotes)")],
        id="string-given-int",
    ),
    pytest.param(
        edit((("settings", "kafka_version"), 3.9)),
        [(("settings", "kafka_version"), "expected a string (got 3.9; put it in quotes)")],
        id="optional-string-given-float",
    ),
    pytest.param(
        edit(((*TOPIC, "owner"), ["a"])),
        [(("topics", 0, "owner"), "expected a string (got a list)")],
        id="string-given-list",
    ),
    pytest.param(
        edit((("domains", "user", "owner"), None)),
        [(("domains", "user", "owner"), "expected a string (got null)")],
        id="required-string-given-null",
    ),
    pytest.param(
        edit(((*TOPIC, "keyed"), "yes")),
        [(("topics", 0, "keyed"), "expected true or false (got 'yes')")],
        id="bool-given-string",
    ),
    pytest.param(
        edit(((*SERVICE, "retired"), 1)),
        [(("services", "svc", "retired"), "expected true or false (got 1)")],
        id="bool-given-int",
    ),
    pytest.param(
        edit((("settings", "strict_configs"), None)),
        [(("settings", "strict_configs"), "expected true or false (got null)")],
        id="bool-given-null",
    ),
    pytest.param(
        edit((("settings", "prune_min_idle"), True)),
        [(("settings", "prune_min_idle"), "expected a string or an integer (got true)")],
        id="str-or-int-given-bool",
    ),
    pytest.param(
        edit((("settings", "prune_min_idle"), 1.5)),
        [(("settings", "prune_min_idle"), "expected a string or an integer (got 1.5)")],
        id="str-or-int-given-float",
    ),
    pytest.param(
        edit((("topics",), {})),
        [(("topics",), "expected a list (got a mapping)")],
        id="list-given-mapping",
    ),
    pytest.param(
        edit((("consumer_groups", 0), {"name": "g", "service": "s", "topics": "dreamscape.x"})),
        [(("consumer_groups", 0, "topics"), "expected a list (got 'dreamscape.x')")],
        id="list-given-string",
    ),
    pytest.param(
        edit((("consumer_groups", 0), {"name": "g", "service": "s", "topics": [1]})),
        [(("consumer_groups", 0, "topics", 0), "expected a string (got 1; put it in quotes)")],
        id="list-item-wrong",
    ),
    pytest.param(
        edit((("domains",), [])),
        [(("domains",), "expected a mapping (got a list)")],
        id="mapping-given-list",
    ),
    pytest.param(
        edit(((*TOPIC, "config"), None)),
        [(("topics", 0, "config"), "expected a mapping (got null)")],
        id="config-given-null",
    ),
    pytest.param(
        edit((("domains", "user"), None)),
        [(("domains", "user"), "expected a mapping (got null)")],
        id="record-in-mapping-given-null",
    ),
    pytest.param(
        edit((("topics", 0), "dreamscape.user.a")),
        [(("topics", 0), "expected a mapping (got 'dreamscape.user.a')")],
        id="record-in-list-given-string",
    ),
    pytest.param(
        edit((("defaults",), None)),
        [(("defaults",), "expected a mapping (got null)")],
        id="record-given-null",
    ),
    # version
    pytest.param(edit((("version",), 2)), [(("version",), "expected 1 (got 2)")], id="version-2"),
    pytest.param(
        edit((("version",), "1")), [(("version",), "expected 1 (got '1')")], id="version-string"
    ),
    pytest.param(
        edit((("version",), True)), [(("version",), "expected 1 (got true)")], id="version-true"
    ),
    pytest.param(
        edit((("version",), None)), [(("version",), "expected 1 (got null)")], id="version-null"
    ),
    # bounds
    pytest.param(
        edit(((*TOPIC, "partitions"), 0)),
        [(("topics", 0, "partitions"), "must be at least 1 (got 0)")],
        id="partitions-0",
    ),
    pytest.param(
        edit((("defaults", "partitions"), 100_001)),
        [(("defaults", "partitions"), "must be at most 100000 (got 100001)")],
        id="partitions-100001",
    ),
    pytest.param(
        edit(((*OVERRIDE, "replication_factor"), 33)),
        [((*OVERRIDE, "replication_factor"), "must be at most 32 (got 33)")],
        id="rf-33",
    ),
    pytest.param(
        edit((("settings", "prune_max_deletes"), -1)),
        [(("settings", "prune_max_deletes"), "must be at least 1 (got -1)")],
        id="prune-max-deletes-negative",
    ),
    pytest.param(
        edit(((*TOPIC, "event_type"), "")),
        [(("topics", 0, "event_type"), "must not be empty")],
        id="event-type-empty",
    ),
    # unknown keys, at every level
    pytest.param(
        edit((("prefixx",), "x.")),
        [((), "unknown key 'prefixx' (did you mean 'prefix'?)")],
        id="unknown-top-level",
    ),
    pytest.param(
        edit((("defaults", "partition"), 1)),
        [(("defaults",), "unknown key 'partition' (did you mean 'partitions'?)")],
        id="unknown-in-defaults",
    ),
    pytest.param(
        edit((("settings", "strict"), True)),
        [(("settings",), "unknown key 'strict' (did you mean 'strict_configs'?)")],
        id="unknown-in-settings",
    ),
    pytest.param(
        edit((("domains", "user", "ownr"), "u")),
        [(("domains", "user"), "unknown key 'ownr' (did you mean 'owner'?)")],
        id="unknown-in-domain",
    ),
    pytest.param(
        edit(((*TOPIC, "replicas"), 3)),
        [(("topics", 0), "unknown key 'replicas'")],
        id="unknown-in-topic-no-suggestion",
    ),
    pytest.param(
        edit((("consumer_groups", 0), {"name": "g", "service": "s", "topic": []})),
        [(("consumer_groups", 0), "unknown key 'topic' (did you mean 'topics'?)")],
        id="unknown-in-group",
    ),
    pytest.param(
        edit(((*ENV, "default"), {})),
        [(ENV, "unknown key 'default' (did you mean 'defaults'?)")],
        id="unknown-in-environment",
    ),
    pytest.param(
        edit(((*ENV, "defaults", "replication"), 1)),
        [((*ENV, "defaults"), "unknown key 'replication' (did you mean 'replication_factor'?)")],
        id="unknown-in-environment-defaults",
    ),
    pytest.param(
        edit(((*OVERRIDE, "keyed"), True)),
        [(OVERRIDE, "unknown key 'keyed'")],
        id="unknown-in-override",
    ),
    pytest.param(
        edit(((*SERVICE, "principals"), "User:x")),
        [(SERVICE, "unknown key 'principals' (did you mean 'principal'?)")],
        id="unknown-in-service",
    ),
    pytest.param(
        edit(((*SERVICE, "produces"), [{"prefix": "p", "prefx": "p"}])),
        [((*SERVICE, "produces", 0), "unknown key 'prefx' (did you mean 'prefix'?)")],
        id="unknown-in-prefix-entry",
    ),
    # missing required keys
    pytest.param(
        edit((("topics",), DROP)), [((), "missing required key 'topics'")], id="missing-topics"
    ),
    pytest.param(
        edit((("domains",), DROP)), [((), "missing required key 'domains'")], id="missing-domains"
    ),
    pytest.param(
        edit((("topics", 0), {"partitions": 1})),
        [(("topics", 0), "missing required key 'name'")],
        id="missing-topic-name",
    ),
    pytest.param(
        edit((("domains", "user"), {})),
        [(("domains", "user"), "missing required key 'owner'")],
        id="missing-domain-owner",
    ),
    pytest.param(
        edit((("consumer_groups", 0), {"name": "g"})),
        [(("consumer_groups", 0), "missing required key 'service'")],
        id="missing-group-service",
    ),
    # produces/consumes entries
    pytest.param(
        edit(((*SERVICE, "produces"), [3])),
        [((*SERVICE, "produces", 0), f"{PATTERN} (got 3)")],
        id="pattern-given-int",
    ),
    pytest.param(
        edit(((*SERVICE, "consumes"), [["dreamscape.user.a"]])),
        [((*SERVICE, "consumes", 0), f"{PATTERN} (got a list)")],
        id="pattern-given-list",
    ),
    pytest.param(
        edit(((*SERVICE, "produces"), [{"prefix": 3}])),
        [((*SERVICE, "produces", 0, "prefix"), "expected a string (got 3; put it in quotes)")],
        id="prefix-entry-given-int",
    ),
    pytest.param(
        edit(((*SERVICE, "produces"), [{}])),
        [((*SERVICE, "produces", 0), "missing required key 'prefix'")],
        id="prefix-entry-empty",
    ),
    pytest.param(
        edit(((*SERVICE, "produces"), None)),
        [((*SERVICE, "produces"), "expected a list (got null)")],
        id="produces-null",
    ),
    pytest.param(
        edit(((*SERVICE, "consumes"), "dreamscape.user.a")),
        [((*SERVICE, "consumes"), "expected a list (got 'dreamscape.user.a')")],
        id="consumes-given-string",
    ),
    # every problem, in document order
    pytest.param(
        edit(
            (("versoin",), 1),
            ((*TOPIC, "partitions"), 0),
            (("topics", 1), {"replicas": 3}),
            (("settings", "prune_min_idle"), None),
        ),
        [
            (("topics", 0, "partitions"), "must be at least 1 (got 0)"),
            (("topics", 1), "unknown key 'replicas'"),
            (("topics", 1), "missing required key 'name'"),
            ((), "unknown key 'versoin' (did you mean 'version'?)"),
            (("settings", "prune_min_idle"), "expected a string or an integer (got null)"),
        ],
        id="several-at-once",
    ),
]


@pytest.mark.parametrize("document", VALID)
def test_valid_documents_pass_both(document: dict[str, Any]) -> None:
    assert outcome(document) == (True, [])
    assert SCHEMA.is_valid(document), [e.message for e in SCHEMA.iter_errors(document)]


@pytest.mark.parametrize(("document", "expected"), INVALID)
def test_faults_are_located_and_the_schema_refuses_them_too(
    document: dict[str, Any], expected: list[tuple[DocPath, str]]
) -> None:
    assert outcome(document) == (False, expected)
    assert not SCHEMA.is_valid(document)


def test_the_model_built_holds_the_values() -> None:
    model, problems = validate(TopicsFileModel, FULL)
    assert problems == ()
    assert model is not None
    assert model.settings.kafka_version == "3.9"
    assert model.topics[0].config["retention.ms"] == 1000  # configs are checked later, by name
    assert model.environments["prod"].topics["dreamscape.user.a"].partitions == 6
    assert model.services["x"].produces == [
        "dreamscape.user.*",
        PrefixModel(prefix="dreamscape.user."),
    ]
    assert model.defaults == DefaultsModel(
        partitions=3, replication_factor=1, config={"retention.ms": "7d"}
    )
    minimal, _ = validate(TopicsFileModel, BASE)
    assert minimal is not None
    assert minimal.settings == SettingsModel()
    assert (minimal.version, minimal.prefix, minimal.services) == (1, "dreamscape.", {})


def test_the_fixture_file_passes_both() -> None:
    data = parse_yaml(SMALL.read_text(encoding="utf-8")).data
    assert outcome(data) == (True, [])
    assert SCHEMA.is_valid(data)


def test_whole_floats_are_the_one_known_difference() -> None:
    # JSON Schema counts 3.0 as an integer (and 1.0 as the const 1); like pydantic's strict
    # mode, the loader does not. Pinned, so that a change on either side is seen.
    for path, value in ((("version",), 1.0), ((*TOPIC, "partitions"), 3.0)):
        document = edit((path, value))
        assert not outcome(document)[0]
        assert SCHEMA.is_valid(document)


# --- a sweep: every field of every model, given values of every JSON type ------------------

PLACES: dict[type[Any], tuple[DocPath, dict[str, Any]]] = {
    TopicsFileModel: ((), BASE),
    DefaultsModel: (("defaults",), {}),
    SettingsModel: (("settings",), {}),
    DomainModel: (("domains", "user"), {"owner": "u"}),
    TopicModel: (TOPIC, {"name": "dreamscape.user.a"}),
    EnvironmentModel: (ENV, {}),
    TopicOverrideModel: (OVERRIDE, {}),
    GroupModel: (("consumer_groups", 0), {"name": "dreamscape-x-group", "service": "x"}),
    ServiceModel: (SERVICE, {}),
    PrefixModel: ((*SERVICE, "produces", 0), {"prefix": "dreamscape."}),
}
SAMPLES: list[Any] = [
    None, True, False, 0, 1, 2, 32, 33, 100_000, 100_001, -1, 2.5, "", "x", "3", "1h",
    [], ["x"], [1], [{"prefix": "p"}], [{"name": "x"}], {}, {"prefix": "p"}, {"bogus": 1},
    {"owner": "u"}, {"k": "v"},
]  # fmt: skip


def placed(model: type[Any], *changes: tuple[DocPath, Any]) -> dict[str, Any]:
    """BASE with `model`'s minimal instance in its place, then `changes` (relative to it)."""
    where, minimal = PLACES[model]
    base = edit((where, copy.deepcopy(minimal))) if where else copy.deepcopy(minimal)
    return edit(*(((*where, *path), value) for path, value in changes), base=base)


def test_the_sweep_places_every_model() -> None:
    assert {m.__name__ for m in PLACES} == {"TopicsFileModel", *json_schema()["$defs"]}
    for model in PLACES:
        assert outcome(placed(model)) == (True, []), model


@pytest.mark.parametrize("model", list(PLACES), ids=lambda m: m.__name__)
def test_every_field_agrees_with_the_schema(model: type[Any]) -> None:
    verdicts: list[bool] = []
    disagreements = []
    for f in dataclasses.fields(model):
        for sample in SAMPLES:
            document = placed(model, ((f.name,), sample))
            ours = outcome(document)[0]
            verdicts.append(ours)
            if ours != SCHEMA.is_valid(document):
                disagreements.append((f.name, sample, ours))
    assert disagreements == []
    assert True in verdicts
    assert False in verdicts


@pytest.mark.parametrize("model", list(PLACES), ids=lambda m: m.__name__)
def test_unknown_and_missing_keys_are_refused_by_both(model: type[Any]) -> None:
    unknown = placed(model, (("bogus",), 1))
    assert not outcome(unknown)[0]
    assert not SCHEMA.is_valid(unknown)
    required = [
        f.name
        for f in dataclasses.fields(model)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    for name in required:
        missing = placed(model, ((name,), DROP))
        assert outcome(missing)[1][-1][1] == f"missing required key '{name}'"
        assert not SCHEMA.is_valid(missing)


def test_the_schema_is_a_2020_12_schema() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


# --- no pydantic -------------------------------------------------------------------------------


def run_python(code: str, *args: str) -> str:
    """Run `code` in a fresh interpreter that imports this checkout; its stdout."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


PYDANTIC_LOADED = "sorted(m for m in sys.modules if m.partition('.')[0].startswith('pydantic'))"


def test_loading_topics_yaml_does_not_import_pydantic() -> None:
    code = (
        "import sys\n"
        "from dreamscape_infra.topics.desired import load_desired\n"
        "print(len(load_desired(sys.argv[1]).topics), __import__('dreamscape_infra').__file__)\n"
        f"print({PYDANTIC_LOADED})\n"
    )
    loaded, found = run_python(code, str(SMALL)).splitlines()
    assert loaded == f"7 {ROOT / 'dreamscape_infra' / '__init__.py'}"  # this checkout's code
    assert found == "[]"


def test_no_module_of_the_package_imports_pydantic() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import dreamscape_infra\n"
        "names = [m.name for m in pkgutil.walk_packages(dreamscape_infra.__path__, "
        "'dreamscape_infra.') if not m.name.endswith('__main__')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        f"print(len(names), {PYDANTIC_LOADED})\n"
    )
    count, found = run_python(code).split(" ", 1)
    assert int(count) > 50
    assert found == "[]"


def test_the_pydantic_check_can_fail() -> None:
    # The same probe does see pydantic when something imports it (python-on-whales does).
    assert "pydantic" in run_python(f"import sys, pydantic\nprint({PYDANTIC_LOADED})")
