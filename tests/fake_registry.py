"""A fake Schema Registry behind `schemas.model.Registry`: subjects with versions and levels in
memory; `refuse` maps a subject to the reasons it rejects any changed schema with."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.schemas.model import RegistryRefused, SubjectState, Verdict


@dataclass
class FakeRegistry:
    url: str = "http://registry.test/apis/ccompat/v7"
    versions: dict[str, list[str]] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)
    refuse: dict[str, tuple[str, ...]] = field(default_factory=dict)
    refuse_writes: set[str] = field(default_factory=set)
    down: bool = False
    calls: list[str] = field(default_factory=list)
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _log(self, call: str) -> None:
        if self.down:
            raise EnvironmentFailure(f"the Schema Registry at {self.url} is unreachable")
        with self.lock:
            self.calls.append(call)

    def subjects(self) -> tuple[str, ...]:
        self._log("subjects")
        return tuple(sorted(self.versions))

    def subject_state(self, subject: str) -> SubjectState:
        self._log(f"state {subject}")
        versions = self.versions.get(subject)
        if not versions:
            return SubjectState(subject, None)
        return SubjectState(
            subject, len(versions), json.loads(versions[-1]), self.levels.get(subject)
        )

    def check(self, subject: str, schema_text: str) -> Verdict:
        self._log(f"check {subject}")
        reasons = self.refuse.get(subject)
        return Verdict(False, reasons) if reasons is not None else Verdict(True)

    def set_compatibility(self, subject: str, level: str) -> None:
        self._log(f"config {subject} {level}")
        self.levels[subject] = level

    def register(self, subject: str, schema_text: str) -> int:
        self._log(f"register {subject}")
        if subject in self.refuse_writes:
            raise RegistryRefused(f"the Schema Registry at {self.url} answered 422 registering")
        versions = self.versions.setdefault(subject, [])
        if schema_text in versions:
            return versions.index(schema_text) + 1
        versions.append(schema_text)
        return len(versions)

    def delete_subject(self, subject: str) -> None:
        self._log(f"delete {subject}")
        self.versions.pop(subject, None)
        self.levels.pop(subject, None)

    def close(self) -> None:
        self.closed = True
