"""The desired-state cache (topics/cache.py): a hit equals a real load, anything odd is a miss.

Every test uses its own folder under tmp_path; conftest points DREAMSCAPE_DESIRED_CACHE at a
per-test folder as well, so nothing here or elsewhere touches the real ~/.cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ConfigError, ExitCode
from dreamscape_infra.topics import cache
from dreamscape_infra.topics.cache import cache_dir, load_desired_cached
from dreamscape_infra.topics.desired import load_desired

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "fixtures" / "topics-small.yaml"
# The seed's 32 topics, services, globs and prefixes, copied: a user editing the real
# topics.yaml must not break these tests (only the shipped-file acceptance tests read it).
FULL = ROOT / "tests" / "fixtures" / "topics-full.yaml"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def copy_small(tmp_path: Path) -> Path:
    target = tmp_path / "topics.yaml"
    shutil.copyfile(SMALL, target)
    return target


@pytest.mark.parametrize("source", [SMALL, FULL], ids=["small", "full"])
@pytest.mark.parametrize("environment", [None, "dev", "prod"])
def test_a_hit_equals_a_fresh_load(tmp_path: Path, source: Path, environment: str | None) -> None:
    folder = tmp_path / "c"
    fresh = load_desired(source, environment)
    miss = load_desired_cached(source, environment, folder)
    assert len(entries(folder)) == 1
    hit = load_desired_cached(source, environment, folder)
    assert miss == fresh
    assert hit == fresh
    assert hit.topic_index == fresh.topic_index  # not compared by ==, rebuilt on a hit
    assert list(hit.topics[0].configs) == list(fresh.topics[0].configs)  # sorted, like a load
    assert hit.services == fresh.services


def test_a_hit_really_comes_from_the_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "c"
    fresh = load_desired(SMALL)
    load_desired_cached(SMALL, None, folder)

    def no_load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a hit must not load the file")

    monkeypatch.setattr("dreamscape_infra.topics.desired.load_desired", no_load)
    assert load_desired_cached(SMALL, None, folder) == fresh


def test_source_is_the_path_given_this_time(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    other = copy_small(tmp_path)
    load_desired_cached(SMALL, None, folder)
    hit = load_desired_cached(other, None, folder)  # same bytes: same entry
    assert len(entries(folder)) == 1
    assert hit.source == str(other)


def test_one_changed_byte_misses(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    path = copy_small(tmp_path)
    before = load_desired_cached(path, None, folder)
    text = path.read_text()
    path.write_text(text.replace("partitions: 3", "partitions: 4", 1))
    after = load_desired_cached(path, None, folder)
    assert after == load_desired(path)
    assert after != before
    assert len(entries(folder)) == 2


def test_another_environment_misses(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    load_desired_cached(SMALL, "dev", folder)
    prod = load_desired_cached(SMALL, "prod", folder)
    assert prod == load_desired(SMALL, "prod")
    assert len(entries(folder)) == 2


def test_an_edited_loader_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "c"
    load_desired_cached(SMALL, None, folder)
    monkeypatch.setattr(cache, "_code_fingerprint", lambda: "desired.py:1:2")
    load_desired_cached(SMALL, None, folder)
    assert len(entries(folder)) == 2


def test_the_fingerprint_covers_the_loader_and_pyyaml() -> None:
    fingerprint = cache._code_fingerprint()
    assert fingerprint is not None
    names = {part.split(":")[0] for part in fingerprint.split(";")}
    assert {"desired.py", "filemodel.py", "configs.py", "yamlsource.py", "model.py"} <= names
    assert "__init__.py" in names  # PyYAML's


def _corrupt(entry: Path) -> None:
    entry.write_bytes(b"\x00not json")


def _truncated(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[:100])


def _wrong_shape(entry: Path) -> None:
    doc = json.loads(entry.read_bytes())
    doc["state"]["topics"][0]["partitions"] = "3"
    entry.write_text(json.dumps(doc))


def _missing_field(entry: Path) -> None:
    doc = json.loads(entry.read_bytes())
    del doc["state"]["services"]
    entry.write_text(json.dumps(doc))


def _old_format(entry: Path) -> None:
    doc = json.loads(entry.read_bytes())
    doc["format"] = 0
    entry.write_text(json.dumps(doc))


def _not_an_object(entry: Path) -> None:
    entry.write_text("[1, 2, 3]")


def _a_folder(entry: Path) -> None:
    entry.unlink()
    entry.mkdir()


@pytest.mark.parametrize(
    "damage",
    [_corrupt, _truncated, _wrong_shape, _missing_field, _old_format, _not_an_object, _a_folder],
)
def test_a_damaged_entry_is_a_miss(tmp_path: Path, damage: Callable[[Path], None]) -> None:
    folder = tmp_path / "c"
    load_desired_cached(SMALL, "prod", folder)
    [entry] = entries(folder)
    damage(entry)
    assert load_desired_cached(SMALL, "prod", folder) == load_desired(SMALL, "prod")


def test_a_read_only_folder_is_a_real_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    folder.chmod(0o500)

    def refused(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # what the mode bits do for a normal user; root (as in CI containers) ignores them
    monkeypatch.setattr("tempfile.mkstemp", refused)
    try:
        assert load_desired_cached(SMALL, None, folder) == load_desired(SMALL)
        assert load_desired_cached(SMALL, None, folder) == load_desired(SMALL)
        assert entries(folder) == []
    finally:
        folder.chmod(0o700)


def test_a_cache_path_that_is_a_file_is_a_real_load(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.write_text("not a folder")
    assert load_desired_cached(SMALL, None, folder) == load_desired(SMALL)
    assert load_desired_cached(SMALL, None, folder / "below") == load_desired(SMALL)


def test_errors_come_from_a_real_load_even_with_a_warm_cache(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    path = copy_small(tmp_path)
    load_desired_cached(path, None, folder)
    path.write_text(path.read_text().replace("partitions: 3", "partitions: zero", 1))
    with pytest.raises(ConfigError) as cold:
        load_desired(path)
    with pytest.raises(ConfigError) as warm:
        load_desired_cached(path, None, folder)
    assert warm.value.problems == cold.value.problems
    assert warm.value.exit_code == cold.value.exit_code == ExitCode.INVALID_CONFIG
    assert len(entries(folder)) == 1  # the failure stored nothing


def test_an_unknown_environment_and_a_missing_file_say_what_load_desired_says(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "c"
    load_desired_cached(SMALL, None, folder)
    cases: list[tuple[Path, str | None]] = [(SMALL, "staging"), (tmp_path / "absent.yaml", None)]
    for path, environment in cases:
        with pytest.raises(ConfigError) as cold:
            load_desired(path, environment)
        with pytest.raises(ConfigError) as warm:
            load_desired_cached(path, environment, folder)
        assert (warm.value.problems, warm.value.hint) == (cold.value.problems, cold.value.hint)


def test_the_folder_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "c"
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    (folder).mkdir()
    (folder / "notes.json").write_text("{}")  # not ours: never pruned
    path = copy_small(tmp_path)
    text = path.read_text()
    for partitions in range(1, 7):
        path.write_text(text.replace("partitions: 3", f"partitions: {partitions}", 1))
        load_desired_cached(path, None, folder)
    assert len(entries(folder)) == 4
    assert (folder / "notes.json").exists()
    load_desired_cached(path, None, folder)  # the newest entry survived: a hit, nothing new
    assert len(entries(folder)) == 4


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DREAMSCAPE_DESIRED_CACHE": "/a", "DREAMSCAPE_CACHE": "/b", "HOME": "/h"}, "/a"),
        ({"DREAMSCAPE_CACHE": "/b", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/b/desired"),
        ({"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/dreamscape-infra/desired"),
        ({"HOME": "/h"}, "/h/.cache/dreamscape-infra/desired"),
        ({}, None),
        ({"DREAMSCAPE_NO_CACHE": "1", "DREAMSCAPE_DESIRED_CACHE": "/a"}, None),
        ({"DREAMSCAPE_NO_CACHE": "0", "HOME": "/h"}, "/h/.cache/dreamscape-infra/desired"),
    ],
)
def test_cache_dir(env: dict[str, str], expected: str | None) -> None:
    found = cache_dir(env)
    assert (str(found) if found is not None else None) == expected


# --- through the CLI --------------------------------------------------------------------------


def _show(state: AppState, path: Path) -> int:
    result = CliRunner().invoke(
        app, ["--topics-file", str(path), "topics", "show", "-o", "json"], obj=state
    )
    return result.exit_code


def test_the_cli_uses_the_folder_its_environment_names(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    assert _show(AppState(environ={"DREAMSCAPE_DESIRED_CACHE": str(folder)}), SMALL) == 0
    assert len(entries(folder)) == 1


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    env = {"DREAMSCAPE_NO_CACHE": "1", "DREAMSCAPE_DESIRED_CACHE": str(tmp_path / "c")}
    env["HOME"] = str(tmp_path / "home")
    assert _show(AppState(environ=env), SMALL) == 0
    assert list(tmp_path.iterdir()) == []


def test_validate_always_really_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "c"
    path = copy_small(tmp_path)
    state_env = {"DREAMSCAPE_DESIRED_CACHE": str(folder)}
    assert _show(AppState(environ=state_env), path) == 0
    # an entry a real load of this file would never give: validate must not believe it
    [entry] = entries(folder)
    doc = json.loads(entry.read_bytes())
    doc["state"]["topics"] = []
    entry.write_text(json.dumps(doc))
    result = CliRunner().invoke(
        app,
        ["--topics-file", str(path), "topics", "validate", "-o", "json"],
        obj=AppState(environ=state_env),
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["topics"] == len(load_desired(path).topics)


def test_an_invalid_file_after_a_warm_cache_is_exit_3_through_the_cli(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    path = copy_small(tmp_path)
    state_env = {"DREAMSCAPE_DESIRED_CACHE": str(folder)}
    assert _show(AppState(environ=state_env), path) == 0
    path.write_text(path.read_text() + "\nunknown_key: 1\n")
    result = CliRunner().invoke(
        app, ["--topics-file", str(path), "topics", "show"], obj=AppState(environ=state_env)
    )
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "unknown_key" in result.stderr


# --- what a hit imports -----------------------------------------------------------------------

HEAVY = ("yaml", "dreamscape_infra.topics.filemodel", "dreamscape_infra.topics.configs")


def _heavy_after_load(folder: Path) -> list[str]:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from dreamscape_infra.topics.cache import load_desired_cached\n"
        f"load_desired_cached({str(SMALL)!r}, 'prod', Path({str(folder)!r}))\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.split()


def test_a_hit_imports_no_yaml_filemodel_or_configs(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    assert _heavy_after_load(folder) == list(HEAVY)  # the miss: the check can fail
    assert _heavy_after_load(folder) == []  # the hit


def test_the_key_hash_is_sha256() -> None:
    import hashlib

    import dreamscape_infra

    ours = cache._key(b"topics", None)
    fingerprint = cache._code_fingerprint()
    assert fingerprint is not None
    expected = hashlib.sha256()
    for part in (str(cache.FORMAT), dreamscape_infra.__version__, fingerprint, "[null]"):
        expected.update(part.encode() + b"\0")
    expected.update(hashlib.sha256(b"topics").digest())
    assert ours == expected.hexdigest()
