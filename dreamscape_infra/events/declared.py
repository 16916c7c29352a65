"""What the events commands need from topics.yaml: the declared topic names, the prefix, and each
topic's `event_type`.

`topics validate` (load_desired) is the strict check of the whole file. The events commands
need three fields, so `read_declared` reads just those with PyYAML's C loader: in a fresh
process about half the time of load_desired, which also records every value's line, checks the
whole structure and resolves every environment's configs (imports included), on every
`events tail`. It hands the file to `load_desired` whenever anything it relies on is not as
expected, so a broken file is still reported with every problem and its line (exit 3); a file
whose other parts are wrong (a config value, a service) is left to `topics validate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamscape_infra.events.envelope import expected_event_type

DEFAULT_PREFIX = "dreamscape."


@dataclass(frozen=True, slots=True)
class Declared:
    """The declared topics (empty when there is no topics file)."""

    names: tuple[str, ...] = ()
    prefix: str = DEFAULT_PREFIX
    event_types: Mapping[str, str | None] = field(default_factory=dict)

    def expected_type(self, topic: str) -> str | None:
        """The eventType (pattern) the topic's messages must carry; None: no rule applies."""
        return expected_event_type(topic, self.prefix, self.event_types)


def _fast(data: Any) -> Declared | None:
    if not isinstance(data, dict) or data.get("version", 1) != 1:
        return None
    prefix = data.get("prefix", DEFAULT_PREFIX)
    topics = data.get("topics")
    if not isinstance(prefix, str) or not isinstance(topics, list) or not topics:
        return None
    names: list[str] = []
    event_types: dict[str, str | None] = {}
    for entry in topics:
        if not isinstance(entry, dict):
            return None
        name, event_type = entry.get("name"), entry.get("event_type")
        if not isinstance(name, str) or not name.startswith(prefix) or name in event_types:
            return None
        if event_type is not None and (not isinstance(event_type, str) or not event_type):
            return None
        names.append(name)
        event_types[name] = event_type
    return Declared(tuple(sorted(names)), prefix, event_types)


def read_declared(path: str | Path, *, required: bool) -> Declared:
    """The declared topics of the topics file at `path`.

    Without the file: an empty Declared, unless `required` (then load_desired's ConfigError,
    exit 3, with its hint). A file the fast read cannot vouch for goes through load_desired,
    which raises ConfigError listing every problem.
    """
    import yaml

    file = Path(path)
    if not file.exists() and not required:
        return Declared()
    try:
        text = file.read_text(encoding="utf-8")
        loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        found = _fast(yaml.load(text, Loader=loader))  # a safe loader (C when built)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        found = None
    if found is not None:
        return found
    from dreamscape_infra.topics.desired import load_desired

    desired = load_desired(path)  # raises ConfigError with every located problem
    return Declared(
        tuple(t.name for t in desired.topics),
        desired.prefix,
        {t.name: t.event_type for t in desired.topics},
    )
