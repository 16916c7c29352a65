"""Which topics and partitions a command reads, and which messages it shows. Pure."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dreamscape_infra.errors import EnvironmentFailure, UsageError
from dreamscape_infra.events.decode import Decoded, decode_value
from dreamscape_infra.events.model import Message, Partition
from dreamscape_infra.kafka.cluster import is_internal_topic

if TYPE_CHECKING:
    from dreamscape_infra.topics.model import DesiredState

_GLOB = frozenset("*?[")


def declared_names(desired: DesiredState | None) -> tuple[str, ...]:
    """The topics topics.yaml declares, sorted (none without a topics file)."""
    return tuple(sorted(t.name for t in desired.topics)) if desired is not None else ()


def is_pattern(text: str) -> bool:
    return any(c in _GLOB for c in text)


def nearest(name: str, declared: Sequence[str], count: int = 3) -> list[str]:
    """The declared topics closest to `name` (at least one when any is declared)."""
    close = difflib.get_close_matches(name, declared, n=count, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name, declared, n=count, cutoff=0.0)
    return close


def _unknown(name: str, declared: Sequence[str], what: str) -> UsageError:
    close = nearest(name.replace("*", "").replace("?", ""), declared)
    hint = f"nearest declared: {', '.join(close)}" if close else "no topic is declared"
    return UsageError(f"{what} '{name}' ({hint})")


def check_declared(name: str, declared: Sequence[str]) -> None:
    """UsageError naming the nearest declared topics when `name` is not declared."""
    if name not in declared:
        raise _unknown(name, declared, "undeclared topic")


def resolve_topics(
    patterns: Sequence[str], declared: Sequence[str], existing: Collection[str]
) -> list[str]:
    """Topic names for the command line's names and globs, sorted, without duplicates.

    A name must exist on the cluster; an existing undeclared topic is fine (reading is harmless).
    A glob matches existing non-internal topics. Unknown names and globs that match nothing are
    UsageErrors naming the nearest declared topics; a declared topic missing from the cluster is
    an EnvironmentFailure (run `topics sync`).
    """
    found: set[str] = set()
    for pattern in patterns:
        if is_pattern(pattern):
            matches = {
                t for t in existing if not is_internal_topic(t) and fnmatch.fnmatchcase(t, pattern)
            }
            if not matches:
                raise _unknown(pattern, declared, "no topic matches")
            found |= matches
        elif pattern in existing:
            found.add(pattern)
        elif pattern in declared:
            raise EnvironmentFailure(
                f"topic '{pattern}' is declared but does not exist on the cluster",
                hint="create it with `dreamscape-infra topics sync`",
            )
        else:
            raise _unknown(pattern, declared, "unknown topic")
    return sorted(found)


def select_partitions(
    topics: Sequence[str], counts: dict[str, int], partition: int | None
) -> list[Partition]:
    """Every partition of the topics, or only `partition` of each (UsageError if none has it)."""
    chosen: list[Partition] = []
    for topic in topics:
        ids = range(counts.get(topic, 0))
        if partition is None:
            chosen.extend((topic, p) for p in ids)
        elif partition in ids:
            chosen.append((topic, partition))
    if partition is not None and not chosen:
        raise UsageError(
            f"--partition {partition}: no selected topic has it "
            f"({', '.join(f'{t}: {counts.get(t, 0)}' for t in topics)} partitions)"
        )
    return chosen


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """--key (exact), --type (eventType, exact or glob) and --grep (substring of the value's
    text or the key). All given conditions must hold."""

    key: str | None = None
    event_type: str | None = None
    grep: str | None = None

    @property
    def active(self) -> bool:
        return self.key is not None or self.event_type is not None or self.grep is not None

    def matches(self, message: Message, decoded: Decoded) -> bool:
        if self.key is not None:
            key = message.key.decode("utf-8", "replace") if message.key is not None else None
            if key != self.key:
                return False
        if self.event_type is not None:
            event = decoded.event
            found = event.get("eventType") if event is not None else None
            if not isinstance(found, str):
                return False
            if found != self.event_type and not (
                is_pattern(self.event_type) and fnmatch.fnmatchcase(found, self.event_type)
            ):
                return False
        if self.grep is not None:
            text = message.value.decode("utf-8", "replace") if message.value is not None else ""
            key_text = message.key.decode("utf-8", "replace") if message.key is not None else ""
            if self.grep not in text and self.grep not in key_text:
                return False
        return True


@dataclass(slots=True)
class ShownCounts:
    """What `events tail` has read so far, shown (matched the filter), and shown as text or
    base64 because the value is not JSON."""

    read: int = 0
    shown: int = 0
    not_json: int = 0


def shown_messages(
    batches: Iterable[Sequence[Message]],
    selection: MessageFilter,
    max_messages: int | None,
    counts: ShownCounts,
) -> Iterator[tuple[int, list[tuple[Message, Decoded]]]]:
    """Per batch read: its size and the messages in it to show, decoded, the ones `selection`
    matches, up to `max_messages` in all (then it stops). `counts` is kept up to date."""
    active = selection.active
    matches = selection.matches
    for batch in batches:
        counts.read += len(batch)
        shown: list[tuple[Message, Decoded]] = []
        done = False
        for message in batch:
            decoded = decode_value(message.value)
            if active and not matches(message, decoded):
                continue
            if decoded.encoding in ("text", "base64"):
                counts.not_json += 1
            shown.append((message, decoded))
            counts.shown += 1
            if max_messages is not None and counts.shown >= max_messages:
                done = True
                break
        yield len(batch), shown
        if done:
            return


def capped_batches(
    batches: Iterable[Sequence[Message]], max_messages: int | None, counts: ShownCounts
) -> Iterator[tuple[int, Sequence[Message]]]:
    """Per batch read: its size and its messages, up to `max_messages` in all (then it stops),
    with nothing filtered or decoded; `counts.read` and `counts.shown` are kept up to date."""
    for batch in batches:
        counts.read += len(batch)
        if max_messages is not None and counts.shown + len(batch) >= max_messages:
            taken = batch[: max_messages - counts.shown]
            counts.shown += len(taken)
            yield len(batch), taken
            return
        counts.shown += len(batch)
        yield len(batch), batch
