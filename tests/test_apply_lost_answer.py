"""A creation whose answer was lost (the controller died mid-request) but which took effect is
reported as existing, not as failed; one that did not take effect stays an error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dreamscape_infra.kafka.cluster import ActionResult, NewTopicRequest
from dreamscape_infra.topics.apply import apply_plan
from dreamscape_infra.topics.desired import load_desired
from dreamscape_infra.topics.plan import compute_plan
from tests.fake_cluster import FakeCluster, FakeTopic
from tests.health_support import generated_topics


@dataclass
class LosingAdmin(FakeCluster):
    """Creates the first `keep` topics of a request, then answers _TRANSPORT for every one."""

    keep: int = 0

    def create_topics(
        self, topics: Sequence[NewTopicRequest], *, validate_only: bool
    ) -> dict[str, ActionResult]:
        self.calls.append("create_topics")
        for t in topics[: self.keep]:
            self.topics[t.name] = FakeTopic(t.partitions, t.replication_factor, dict(t.configs))
        return {t.name: ActionResult(False, "_TRANSPORT", "connection lost") for t in topics}


def test_lost_answers_are_sorted_into_done_and_not_done(tmp_path: Path) -> None:
    desired = load_desired(str(generated_topics(tmp_path, 5, replication_factor=1)))
    admin = LosingAdmin(keep=2)
    plan = compute_plan(desired, admin.snapshot([]))
    report = apply_plan(plan, admin, desired=desired)
    outcomes = {r.action.topic: r.outcome for r in report.results if r.action.kind == "create"}
    assert sorted(outcomes.values()) == ["error", "error", "error", "exists", "exists"]
    assert outcomes["dreamscape.load.topic-0000"] == "exists"
    assert int(report.exit_code()) == 4
    messages = [r.message for r in report.results if r.outcome == "exists"]
    assert all("answer was lost" in (m or "") for m in messages)


def test_nothing_created_stays_failed_and_unreachable_check_changes_nothing(tmp_path: Path) -> None:
    desired = load_desired(str(generated_topics(tmp_path, 3, replication_factor=1)))
    admin = LosingAdmin(keep=0)
    plan = compute_plan(desired, admin.snapshot([]))
    report = apply_plan(plan, admin, desired=desired)
    assert {r.outcome for r in report.results} == {"error"}
