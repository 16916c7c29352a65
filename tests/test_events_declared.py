"""`read_declared`: the names, prefix and event_type of topics.yaml, read fast, and the same
answer (or the same located errors) as the strict loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamscape_infra.errors import ConfigError
from dreamscape_infra.events.declared import Declared, read_declared
from dreamscape_infra.topics.desired import load_desired
from tests.events_support import topics_file

ROOT = Path(__file__).resolve().parent.parent


def strict(path: Path) -> Declared:
    desired = load_desired(path)
    return Declared(
        tuple(t.name for t in desired.topics),
        desired.prefix,
        {t.name: t.event_type for t in desired.topics},
    )


@pytest.mark.parametrize("prefix", ["dreamscape.", "ev12ab."])
def test_fast_read_agrees_with_the_strict_loader(tmp_path: Path, prefix: str) -> None:
    path = topics_file(tmp_path, prefix)
    fast = read_declared(path, required=True)
    assert fast == strict(path)
    assert fast.expected_type(prefix + "legacy.audit") == "audit.*"
    assert fast.expected_type(prefix + "user.created") == "user.created"


def test_fast_read_of_the_shipped_file_agrees() -> None:
    assert read_declared(ROOT / "topics.yaml", required=True) == strict(ROOT / "topics.yaml")


def test_missing_file(tmp_path: Path) -> None:
    assert read_declared(tmp_path / "nope.yaml", required=False) == Declared()
    with pytest.raises(ConfigError, match="file not found"):
        read_declared(tmp_path / "nope.yaml", required=True)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version: 1\ndomains: {}\ntopics: [1]\n", "topics[0]"),
        ("version: 1\ndomains: {user: {owner: u}}\ntopics:\n  - name: 5\n", "topics[0].name"),
        (
            "version: 1\ndomains: {user: {owner: u}}\ntopics:\n"
            "  - name: dreamscape.user.a\n    event_type: ''\n",
            "topics[0].event_type",
        ),
        ("topics: [\n", "topics.yaml"),
        (
            "version: 1\ndomains: {user: {owner: u}}\ntopics:\n  - name: dreamscape.user.a\n"
            "  - name: dreamscape.user.a\n",
            "duplicate topic",
        ),
    ],
)
def test_a_file_the_fast_read_cannot_vouch_for_gets_the_strict_errors(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_declared(path, required=False)
    assert problem in " ".join(info.value.problems)
