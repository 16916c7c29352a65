"""Reading the registry for a plan: one task per subject, run concurrently.

Each declared subject costs two or three requests (its latest version, its level, and — only
when the schema differs — the registry's compatibility verdict), each a round trip to the
registry. 200 subjects one after another would be 600 round trips in a row; here they overlap
on `workers` threads (the client is thread-safe: one httpx client, no shared mutable state of
ours), so a no-op plan of the seed costs about one round trip more than `topics plan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dreamscape_infra.schemas.model import Registry, SubjectSpec, SubjectState, Verdict

WORKERS = 16


@dataclass(frozen=True, slots=True)
class Observed:
    """What the registry holds for the declared subjects, and its verdict on each change."""

    states: dict[str, SubjectState]
    verdicts: dict[str, Verdict]  # only for subjects whose latest schema differs
    undeclared: tuple[str, ...]  # subjects under the prefix that topics.yaml does not declare


def needs_check(spec: SubjectSpec, state: SubjectState) -> bool:
    """A new version would be registered: the subject exists with another latest schema."""
    return state.version is not None and state.schema != spec.schema


def observe(
    registry: Registry,
    specs: Sequence[SubjectSpec],
    prefix: str,
    *,
    workers: int = WORKERS,
) -> Observed:
    """Every declared subject's state and, for each changed one, the registry's verdict;
    plus the undeclared subjects under `prefix` (value and key subjects of our topics)."""

    def one(spec: SubjectSpec) -> tuple[SubjectState, Verdict | None]:
        state = registry.subject_state(spec.subject)
        verdict = registry.check(spec.subject, spec.text) if needs_check(spec, state) else None
        return state, verdict

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        listing = pool.submit(registry.subjects)
        answers = list(pool.map(one, specs))
        subjects = listing.result()
    declared = {s.subject for s in specs}
    states = {state.subject: state for state, _ in answers}
    verdicts = {state.subject: v for state, v in answers if v is not None}
    undeclared = tuple(sorted(s for s in subjects if s.startswith(prefix) and s not in declared))
    return Observed(states, verdicts, undeclared)
