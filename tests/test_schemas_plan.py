"""`schemas plan/sync`: the pure plan over many declared x registry cases, the apply, and the
CLI's exit codes and output, with the fake registry (tests/fake_registry.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ExitCode
from dreamscape_infra.schemas.apply import apply_plan
from dreamscape_infra.schemas.desired import envelope_with
from dreamscape_infra.schemas.model import SubjectSpec, canonical
from dreamscape_infra.schemas.plan import block_unconfirmed, compute_plan
from dreamscape_infra.schemas.reconcile import observe
from tests.fake_registry import FakeRegistry

SUBJECT = "dreamscape.user.created-value"
V1: dict[str, Any] = {"type": "object", "properties": {"userId": {"type": "string"}}}
V2: dict[str, Any] = {"type": "object", "properties": {"userId": {"type": "integer"}}}


def _spec(payload: dict[str, Any], level: str = "BACKWARD") -> SubjectSpec:
    topic = SUBJECT.removesuffix("-value")
    return SubjectSpec(
        SUBJECT, topic, envelope_with(topic, payload), payload, level, "s.json", "t.yaml:1"
    )


def _registered(payload: dict[str, Any], level: str | None = "BACKWARD") -> FakeRegistry:
    registry = FakeRegistry(versions={SUBJECT: [_spec(payload).text]})
    if level is not None:
        registry.levels[SUBJECT] = level
    return registry


def _plan(registry: FakeRegistry, *specs: SubjectSpec, prune: bool = False) -> Any:
    return compute_plan(specs, observe(registry, specs, "dreamscape."), registry.url, prune=prune)


@pytest.mark.parametrize(
    ("registry", "spec", "kinds"),
    [
        (FakeRegistry(), _spec(V1), ["create"]),
        (_registered(V1), _spec(V1), ["unchanged"]),
        (_registered(V1), _spec(V2), ["update"]),
        (_registered(V1, level=None), _spec(V1), ["set-compatibility", "unchanged"]),
        (_registered(V1, level="NONE"), _spec(V2, "FULL"), ["set-compatibility", "update"]),
        (
            FakeRegistry(
                versions={SUBJECT: [_spec(V1).text]},
                levels={SUBJECT: "BACKWARD"},
                refuse={SUBJECT: ("SUBSCHEMA_TYPE_CHANGED at payload.userId",)},
            ),
            _spec(V2),
            ["incompatible"],
        ),
    ],
)
def test_plan_kinds(registry: FakeRegistry, spec: SubjectSpec, kinds: list[str]) -> None:
    plan = _plan(registry, spec)
    assert [a.kind for a in plan.actions] == kinds


def test_an_unchanged_subject_is_never_sent_for_a_check() -> None:
    registry = _registered(V1)
    _plan(registry, _spec(V1))
    assert not [c for c in registry.calls if c.startswith("check")]


def test_incompatible_is_exit_6_always_and_keeps_the_registry_reason() -> None:
    registry = _registered(V1)
    registry.refuse[SUBJECT] = ("SUBSCHEMA_TYPE_CHANGED at payload.userId",)
    plan = _plan(registry, _spec(V2))
    (action,) = plan.unfixable
    assert action.reasons == ("SUBSCHEMA_TYPE_CHANGED at payload.userId",)
    assert plan.exit_code(detailed=False) == ExitCode.UNFIXABLE_DRIFT
    report = apply_plan(plan, registry)
    assert len(registry.versions[SUBJECT]) == 1, "never registered"
    assert report.exit_code() == ExitCode.UNFIXABLE_DRIFT


def test_pending_is_5_only_with_detailed_exitcode() -> None:
    plan = _plan(_registered(V1), _spec(V2))
    assert plan.exit_code(detailed=True) == ExitCode.CHANGES_PENDING
    assert plan.exit_code(detailed=False) == ExitCode.OK


def test_create_sets_the_level_before_version_1() -> None:
    registry = FakeRegistry()
    report = apply_plan(_plan(registry, _spec(V1)), registry)
    writes = [c for c in registry.calls if c.split()[0] in ("config", "register")]
    assert writes == [f"config {SUBJECT} BACKWARD", f"register {SUBJECT}"]
    assert [r.detail for r in report.results] == ["version 1"]
    assert _plan(registry, _spec(V1)).pending == ()


def test_a_rerun_after_a_partial_sync_converges_without_duplicate_versions() -> None:
    """A sync killed after registering, before anything else: the rerun plans nothing new."""
    registry = _registered(V1)
    registry.versions[SUBJECT].append(_spec(V2).text)  # the killed run's write
    plan = _plan(registry, _spec(V2))
    assert [a.kind for a in plan.actions] == ["unchanged"]
    apply_plan(plan, registry)
    assert len(registry.versions[SUBJECT]) == 2


def test_undeclared_subjects_are_listed_and_deleted_only_with_prune() -> None:
    registry = FakeRegistry(versions={"dreamscape.old-value": ["{}"], "other-value": ["{}"]})
    listed = _plan(registry)
    assert [(a.subject, a.kind) for a in listed.actions] == [("dreamscape.old-value", "undeclared")]
    assert not listed.pending
    pruned = _plan(registry, prune=True)
    assert [a.kind for a in pruned.actions] == ["delete"]
    blocked = block_unconfirmed(pruned, "not confirmed")
    report = apply_plan(blocked, registry)
    assert "dreamscape.old-value" in registry.versions
    assert report.exit_code() == ExitCode.REFUSED
    apply_plan(pruned, registry)
    assert sorted(registry.versions) == ["other-value"]


def test_dry_run_writes_nothing() -> None:
    registry = FakeRegistry()
    report = apply_plan(_plan(registry, _spec(V1)), registry, dry_run=True)
    assert [r.outcome for r in report.results] == ["would-apply"]
    assert registry.versions == {}


def test_a_refused_write_fails_that_subject_only() -> None:
    registry = FakeRegistry(refuse_writes={SUBJECT})
    report = apply_plan(_plan(registry, _spec(V1)), registry)
    assert [r.outcome for r in report.results] == ["failed"]
    assert report.exit_code() == ExitCode.ENVIRONMENT


def test_canonical_text_ignores_key_order() -> None:
    assert canonical({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == canonical(
        {"a": [1, {"c": 3, "d": 2}], "b": 1}
    )


# ---- the CLI ------------------------------------------------------------------------------

runner = CliRunner()
PAYLOAD_V1 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"userId": {"type": "string"}},
    "required": ["userId"],
    "additionalProperties": False,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "user.created.json").write_text(json.dumps(PAYLOAD_V1))
    (tmp_path / "topics.yaml").write_text(
        "version: 1\nprefix: dreamscape.\n"
        "domains:\n  user:\n    owner: user-service\n"
        "topics:\n  - name: dreamscape.user.created\n    schema: schemas/user.created.json\n"
    )
    return tmp_path


def _cli(project: Path, registry: FakeRegistry, *args: str) -> tuple[int, str, str]:
    state = AppState(
        environ={}, interactive=False, plain_tables=True, registry_factory=lambda: registry
    )
    result = runner.invoke(app, ["-f", str(project / "topics.yaml"), *args], obj=state)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_cli_show_needs_no_registry(project: Path) -> None:
    registry = FakeRegistry(down=True)
    code, out, _ = _cli(project, registry, "schemas", "show")
    assert code == 0
    assert f"{SUBJECT}\tschemas/user.created.json\tBACKWARD\tuserId" in out
    code, out, _ = _cli(project, registry, "schemas", "show", "-o", "json")
    assert json.loads(out)["subjects"][0]["subject"] == SUBJECT


def test_cli_plan_sync_plan(project: Path) -> None:
    registry = FakeRegistry()
    code, out, _ = _cli(project, registry, "schemas", "plan", "--detailed-exitcode")
    assert code == ExitCode.CHANGES_PENDING
    assert f"{SUBJECT}\tcreate\tversion 1, compatibility BACKWARD" in out
    code, out, _ = _cli(project, registry, "schemas", "sync")
    assert code == 0
    assert "applied version 1" in out
    code, _, _ = _cli(project, registry, "schemas", "plan", "--detailed-exitcode")
    assert code == 0
    assert registry.closed


def test_cli_incompatible_is_exit_6_naming_the_reason(project: Path) -> None:
    registry = FakeRegistry()
    _cli(project, registry, "schemas", "sync")
    changed = {**PAYLOAD_V1, "properties": {"userId": {"type": "integer"}}}
    (project / "schemas" / "user.created.json").write_text(json.dumps(changed))
    registry.refuse[SUBJECT] = ("SUBSCHEMA_TYPE_CHANGED at payload.userId",)
    code, out, err = _cli(project, registry, "schemas", "plan")
    assert code == ExitCode.UNFIXABLE_DRIFT
    assert "incompatible" in out
    assert (
        f"error: {SUBJECT}: the registry refuses the new version "
        "(SUBSCHEMA_TYPE_CHANGED at payload.userId)"
    ) in err
    code, out, _ = _cli(project, registry, "schemas", "sync", "-o", "json")
    assert code == ExitCode.UNFIXABLE_DRIFT
    assert json.loads(out)["exit_code"] == 6
    assert len(registry.versions[SUBJECT]) == 1


def test_cli_prune_without_yes_is_refused(project: Path) -> None:
    registry = FakeRegistry(versions={"dreamscape.gone-value": ["{}"]})
    code, _, err = _cli(project, registry, "schemas", "sync", "--prune")
    assert code == ExitCode.REFUSED
    assert "pass --yes" in err
    assert "dreamscape.gone-value" in registry.versions
    code, _, _ = _cli(project, registry, "schemas", "sync", "--prune", "--yes")
    assert code == 0
    assert "dreamscape.gone-value" not in registry.versions


def test_cli_unreachable_registry_is_exit_4(project: Path) -> None:
    code, _, err = _cli(project, FakeRegistry(down=True), "schemas", "plan")
    assert code == ExitCode.ENVIRONMENT
    assert (
        "error: the Schema Registry at http://registry.test/apis/ccompat/v7 is unreachable" in err
    )


def test_cli_bad_schema_file_sends_nothing(project: Path) -> None:
    (project / "schemas" / "user.created.json").write_text("{")
    registry = FakeRegistry()
    code, _, err = _cli(project, registry, "schemas", "sync")
    assert code == ExitCode.INVALID_CONFIG
    assert "schemas/user.created.json:1: invalid JSON" in err
    assert registry.calls == []
