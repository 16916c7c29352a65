"""The shipped JSON Schema matches the code, and the shipped topics.yaml points editors at it."""

from __future__ import annotations

import json
from pathlib import Path

from dreamscape_infra.topics.filemodel import json_schema

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_schema_is_current() -> None:
    shipped = json.loads((ROOT / "docs" / "topics.schema.json").read_text())
    assert shipped == json_schema(), "run: dreamscape-infra topics schema > docs/topics.schema.json"


def test_schema_forbids_unknown_keys_and_requires_topics() -> None:
    schema = json_schema()
    assert schema["additionalProperties"] is False
    assert {"domains", "topics"} <= set(schema["required"])
    topic = schema["$defs"]["TopicModel"]
    assert topic["additionalProperties"] is False
    assert topic["required"] == ["name"]


def test_schema_carries_bounds_defaults_and_descriptions() -> None:
    schema = json_schema()
    assert schema["title"] == "dreamscape-infra topics.yaml"
    assert schema["properties"]["version"] == {"type": "integer", "const": 1, "default": 1}
    topic = schema["$defs"]["TopicModel"]["properties"]
    assert topic["partitions"] == {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 100_000,
        "default": None,
    }
    assert topic["keyed"]["type"] == "boolean"
    assert "remaps keys" in topic["keyed"]["description"]
    assert topic["event_type"]["minLength"] == 1
    produces = schema["$defs"]["ServiceModel"]["properties"]["produces"]
    assert produces["items"] == {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/PrefixModel"}]}
    assert schema["$defs"]["SettingsModel"]["properties"]["prune_min_idle"]["anyOf"] == [
        {"type": "string"},
        {"type": "integer"},
    ]
