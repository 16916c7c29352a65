"""A cache of resolved desired states, so an unchanged topics.yaml skips YAML and validation.

`load_desired` costs ~45-50 ms of imports (PyYAML, the file model, the config table) plus its
own work; a no-op `topics plan` has 0.25 s in all. A hit here returns an equal `DesiredState`
from one small JSON file and imports none of that.

Correctness rests on the key, never on timestamps of topics.yaml: sha256 of the exact bytes
that are parsed on a miss, the environment, the package version, and a fingerprint (size and
mtime_ns) of the loader's own source files and of PyYAML's, so an edited file or an edited or
upgraded loader can never be answered from an old entry. Only successful loads are stored, so
every ConfigError comes from a real load. Entries are JSON (data, never code: no pickle).

Everything about the cache is best-effort: an unwritable or missing folder, a corrupt,
truncated, foreign or old-format entry is a miss, never an error.

Where (`cache_dir`): $DREAMSCAPE_DESIRED_CACHE, else $DREAMSCAPE_CACHE/desired, else
$XDG_CACHE_HOME/dreamscape-infra/desired, else $HOME/.cache/dreamscape-infra/desired; none of
them set (or DREAMSCAPE_NO_CACHE=1): no cache.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dreamscape_infra import __version__
from dreamscape_infra.topics.model import (
    DesiredState,
    GroupSpec,
    ServiceSpec,
    TopicRef,
    TopicSpec,
)

if TYPE_CHECKING:
    from hashlib import sha256
else:
    # hashlib loads OpenSSL (~5 ms, a tenth of a hit); CPython's own SHA-256 is the same hash.
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:  # other interpreters and versions
        from hashlib import sha256

NO_CACHE_ENV = "DREAMSCAPE_NO_CACHE"
DESIRED_CACHE_ENV = "DREAMSCAPE_DESIRED_CACHE"
FORMAT = 1  # bump when the entry layout changes; other formats are misses
MAX_ENTRIES = 64  # one per (file version, environment): a handful in practice

_HERE = Path(__file__).resolve().parent
# What load_desired's answer depends on besides the file and the environment (this module is
# in the list because it writes and reads the entries).
_LOADER_SOURCES = (
    _HERE / "desired.py",
    _HERE / "filemodel.py",
    _HERE / "configs.py",
    _HERE / "model.py",
    _HERE / "cache.py",
    _HERE.parent / "yamlsource.py",
)


def cache_dir(env: Mapping[str, str]) -> Path | None:
    """The folder for entries under `env`, or None when the cache is off.

    Only `env` decides (the CLI passes `AppState.env`): an environment that names no folder
    and no HOME gets no cache rather than a guess at the real home.
    """
    if env.get(NO_CACHE_ENV, "").strip() not in ("", "0"):
        return None
    if own := env.get(DESIRED_CACHE_ENV):
        return Path(own).expanduser()
    if shared := env.get("DREAMSCAPE_CACHE"):  # the jar cache's root (runtime/dist.py)
        return Path(shared).expanduser() / "desired"
    if xdg := env.get("XDG_CACHE_HOME"):
        return Path(xdg) / "dreamscape-infra" / "desired"
    if home := env.get("HOME"):
        return Path(home) / ".cache" / "dreamscape-infra" / "desired"
    return None


def load_desired_cached(
    path: str | Path,
    environment: str | None = None,
    folder: Path | None = None,
    *,
    use_entries: bool = True,
) -> DesiredState:
    """`load_desired(path, environment)`, answered from `folder` when this exact file was
    loaded before by this exact code. Equal result, same ConfigErrors; `source` is `path`.

    folder None: no cache. use_entries False: always a real load, stored for next time.
    """
    source = str(path)
    key = None
    content = None
    if folder is not None:
        try:
            content = Path(path).read_bytes()
        except OSError:
            content = None  # the real load reports it, with its own message
        else:
            key = _key(content, environment)
    if key is not None and folder is not None and use_entries:
        cached = _read(folder, key, source)
        if cached is not None:
            return cached

    from dreamscape_infra.topics.desired import load_desired

    state = load_desired(path, environment, content=content)
    if key is not None and folder is not None:
        _write(folder, key, state)
    return state


# --- the key ---------------------------------------------------------------------------------


def _key(content: bytes, environment: str | None) -> str | None:
    fingerprint = _code_fingerprint()
    if fingerprint is None:
        return None
    digest = sha256()
    for part in (str(FORMAT), __version__, fingerprint, json.dumps([environment])):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(sha256(content).digest())
    return digest.hexdigest()


def _code_fingerprint() -> str | None:
    """Size and mtime of the loader's sources and PyYAML's, found without importing them."""
    paths = list(_LOADER_SOURCES)
    try:
        spec = find_spec("yaml")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        return None
    paths.append(Path(spec.origin))
    parts = []
    for file in paths:
        try:
            st = os.stat(file)
        except OSError:
            return None  # e.g. a zipped install: no way to tell an edit, so no cache
        parts.append(f"{file.name}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)


# --- entries ---------------------------------------------------------------------------------


class _BadEntry(ValueError):
    """An entry that is not what this version writes: a miss."""


def _read(folder: Path, key: str, source: str) -> DesiredState | None:
    try:
        raw = (folder / f"{key}.json").read_bytes()
        entry = json.loads(raw)
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        return _decode(entry.get("state"), source)
    except (OSError, ValueError, RecursionError):  # JSONDecodeError and _BadEntry are ValueErrors
        return None


def _write(folder: Path, key: str, state: DesiredState) -> None:
    entry = {"format": FORMAT, "key": key, "state": _encode(state)}
    data = json.dumps(entry, separators=(",", ":")).encode()
    import tempfile  # ~2 ms, and only a miss writes

    tmp_name = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A temp file in the same folder, then one rename: readers see all or nothing.
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp_name, folder / f"{key}.json")
        tmp_name = None
        _prune(folder)
    except OSError:
        pass  # best-effort: the next run loads the file again
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _prune(folder: Path) -> None:
    """Keep the newest MAX_ENTRIES files (entries and temp files a crash left behind)."""
    found = []
    for item in os.scandir(folder):
        # only what _write makes: never other files in a folder a user pointed us at
        if item.name.endswith(".json") and (len(item.name) == 69 or item.name.startswith(".tmp-")):
            try:
                found.append((item.stat().st_mtime_ns, item.path))
            except OSError:
                continue
    if len(found) <= MAX_ENTRIES:
        return
    found.sort(reverse=True)
    for _mtime, stale in found[MAX_ENTRIES:]:
        with contextlib.suppress(OSError):
            os.unlink(stale)


def _encode(state: DesiredState) -> dict[str, Any]:
    return {
        "topics": [
            {
                "name": t.name,
                "partitions": t.partitions,
                "replication_factor": t.replication_factor,
                "configs": dict(t.configs),
                "domain": t.domain,
                "owner": t.owner,
                "keyed": t.keyed,
                "description": t.description,
                "event_type": t.event_type,
            }
            for t in state.topics
        ],
        "groups": [
            {"name": g.name, "service": g.service, "topics": list(g.topics)} for g in state.groups
        ],
        "domains": dict(state.domains),
        "prefix": state.prefix,
        "environment": state.environment,
        "environments": list(state.environments),
        "strict_configs": state.strict_configs,
        "prune_max_deletes": state.prune_max_deletes,
        "prune_min_idle_ms": state.prune_min_idle_ms,
        "services": [
            {
                "name": s.name,
                "principal": s.principal,
                "produces": [[r.name, r.pattern] for r in s.produces],
                "consumes": [[r.name, r.pattern] for r in s.consumes],
                "group": s.group,
                "retired": s.retired,
            }
            for s in state.services
        ],
    }


def _decode(raw: object, source: str) -> DesiredState:
    """The inverse of `_encode`, checking every type: anything else raises _BadEntry."""
    state = _dict(raw)
    topics = tuple(
        TopicSpec(
            name=_str(t["name"]),
            partitions=_int(t["partitions"]),
            replication_factor=_int(t["replication_factor"]),
            configs={_str(k): _str(v) for k, v in _dict(t["configs"]).items()},
            domain=_str(t["domain"]),
            owner=_str(t["owner"]),
            keyed=_bool(t["keyed"]),
            description=_opt_str(t["description"]),
            event_type=_opt_str(t["event_type"]),
        )
        for t in map(_dict, _list(state["topics"]))
    )
    groups = tuple(
        GroupSpec(_str(g["name"]), _str(g["service"]), tuple(map(_str, _list(g["topics"]))))
        for g in map(_dict, _list(state["groups"]))
    )
    services = tuple(
        ServiceSpec(
            name=_str(s["name"]),
            principal=_str(s["principal"]),
            produces=_refs(s["produces"]),
            consumes=_refs(s["consumes"]),
            group=_opt_str(s["group"]),
            retired=_bool(s["retired"]),
        )
        for s in map(_dict, _list(state["services"]))
    )
    return DesiredState(
        topics=topics,
        groups=groups,
        domains={_str(k): _str(v) for k, v in _dict(state["domains"]).items()},
        prefix=_str(state["prefix"]),
        environment=_opt_str(state["environment"]),
        environments=tuple(map(_str, _list(state["environments"]))),
        strict_configs=_bool(state["strict_configs"]),
        prune_max_deletes=_int(state["prune_max_deletes"]),
        prune_min_idle_ms=_int(state["prune_min_idle_ms"]),
        source=source,
        services=services,
        topic_index={t.name: t for t in topics},
    )


def _refs(raw: object) -> tuple[TopicRef, ...]:
    refs = []
    for item in _list(raw):
        pair = _list(item)
        if len(pair) != 2 or pair[1] not in ("literal", "prefixed"):
            raise _BadEntry("topic ref")
        refs.append(TopicRef(_str(pair[0]), "literal" if pair[1] == "literal" else "prefixed"))
    return tuple(refs)


def _dict(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _BadEntry("expected an object")
    return _Fields(raw)


class _Fields(dict[str, Any]):
    """A JSON object whose missing keys are a bad entry, not a KeyError."""

    def __missing__(self, key: str) -> Any:
        raise _BadEntry(f"missing {key}")


def _list(raw: object) -> list[Any]:
    if not isinstance(raw, list):
        raise _BadEntry("expected an array")
    return raw


def _str(raw: object) -> str:
    if not isinstance(raw, str):
        raise _BadEntry("expected a string")
    return raw


def _opt_str(raw: object) -> str | None:
    return None if raw is None else _str(raw)


def _int(raw: object) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise _BadEntry("expected an integer")
    return raw


def _bool(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise _BadEntry("expected a boolean")
    return raw
