"""Strict YAML reading: plain Python values plus the line of every path, duplicate keys refused.

PyYAML silently keeps the last of two equal keys; we compose the node tree ourselves so that a
duplicate is an error with both line numbers, and so that later validation errors can name the
line of the value they are about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """('topics', 7, 'config', 'retention.ms') -> 'topics[7].config.retention.ms'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed document: its value and the 1-based line of each path in it."""

    data: Any
    lines: dict[Path, int]

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlSyntaxError(ValueError):
    """The text is not YAML, or has duplicate keys. `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document strictly. Raises YamlSyntaxError (with a line) on any problem."""
    # libyaml's parser when PyYAML has it (several times faster on topics.yaml); same nodes,
    # marks and errors as the pure-Python one.
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(data=None, lines={})
        lines: dict[Path, int] = {}
        errors: list[tuple[str, int]] = []
        data = _construct(loader, node, (), lines, errors)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(f"YAML syntax error: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", None) from None
    finally:
        loader.dispose()
    if errors:
        message, line = errors[0]
        raise YamlSyntaxError(message, line)
    return YamlDocument(data=data, lines=lines)


def _construct(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path,
    lines: dict[Path, int],
    errors: list[tuple[str, int]],
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool):
                errors.append((f"{format_path(path)}: mapping keys must be scalars", line))
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in first_seen:
                where = format_path((*path, key))
                errors.append(
                    (f"{where}: duplicate key (first defined on line {first_seen[key]})", line)
                )
                continue
            first_seen[key] = line
            result[key] = _construct(loader, value_node, (*path, key), lines, errors)
            lines[(*path, key)] = line
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, item, (*path, index), lines, errors)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)
