"""Pure tests of topics.yaml's `services:`: defaults, glob and prefix expansion, and located
errors (exit 3) for a malformed principal, a glob matching nothing and a misnamed group."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamscape_infra.errors import ConfigError, ExitCode
from dreamscape_infra.topics.desired import DesiredState, TopicRef, load_desired
from tests.topics_files import write_topics

BASE = """\
version: 1
domains:
  user: {owner: user-service}
  auth: {owner: auth-service}
  payment: {owner: payment-service}
topics:
  - name: dreamscape.user.created
  - name: dreamscape.user.deleted
  - name: dreamscape.auth.login
  - name: dreamscape.auth.password.changed
  - name: dreamscape.payment.completed
consumer_groups:
  - name: dreamscape-auth-service-group
    service: auth-service
    topics: [dreamscape.user.created, dreamscape.user.deleted]
services:
"""


def load(tmp_path: Path, services: str) -> DesiredState:
    return load_desired(write_topics(tmp_path, BASE + services))


def problems(tmp_path: Path, services: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, services)
    assert info.value.exit_code == ExitCode.INVALID_CONFIG
    return info.value.problems


def test_defaults_reuse_the_consumer_group(tmp_path: Path) -> None:
    desired = load(tmp_path, "  auth-service:\n    produces: ['dreamscape.auth.*']\n")
    (auth,) = desired.services
    assert auth.principal == "User:auth-service"
    assert auth.group == "dreamscape-auth-service-group"
    assert auth.consumes == (
        TopicRef("dreamscape.user.created"),
        TopicRef("dreamscape.user.deleted"),
    )
    # the glob matches nested names too, and only declared topics
    assert auth.produces == (
        TopicRef("dreamscape.auth.login"),
        TopicRef("dreamscape.auth.password.changed"),
    )


def test_explicit_consumes_replace_the_group_topics_and_prefix_is_one_ref(
    tmp_path: Path,
) -> None:
    desired = load(
        tmp_path,
        "  auth-service:\n    consumes: [{prefix: dreamscape.user.}, dreamscape.auth.login]\n",
    )
    (auth,) = desired.services
    assert auth.consumes == (
        TopicRef("dreamscape.auth.login"),
        TopicRef("dreamscape.user.", "prefixed"),
    )


def test_consumer_without_declared_group_gets_the_conventional_one(tmp_path: Path) -> None:
    desired = load(tmp_path, "  payment-service:\n    consumes: ['dreamscape.user.*']\n")
    (payment,) = desired.services
    assert payment.group == "dreamscape-payment-service-group"


def test_producer_only_has_no_group_and_retired_has_no_access(tmp_path: Path) -> None:
    desired = load(
        tmp_path,
        "  payment-service:\n    produces: [dreamscape.payment.completed]\n"
        "  auth-service:\n    retired: true\n",
    )
    payment, auth = desired.services
    assert payment.group is None
    assert payment.consumes == ()
    assert (auth.produces, auth.consumes, auth.group, auth.retired) == ((), (), None, True)


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        (
            "  auth-service:\n    principal: auth-service\n",
            ":18: services.auth-service.principal: malformed principal 'auth-service'",
        ),
        (
            "  auth-service:\n    principal: 'User:*'\n",
            "a wildcard principal would grant every user",
        ),
        (
            "  auth-service:\n    principal: 'User:auth service'\n",
            "malformed principal 'User:auth service'",
        ),
        (
            "  auth-service:\n    produces: ['dreamscape.nope.*']\n",
            ":18: services.auth-service.produces[0]: glob 'dreamscape.nope.*' matches no declared",
        ),
        (
            "  auth-service:\n    produces: [dreamscape.auth.logn]\n",
            "undeclared topic 'dreamscape.auth.logn' (did you mean 'dreamscape.auth.login'?)",
        ),
        (
            "  auth-service:\n    consumes: [{prefix: dreamscape.nope.}]\n",
            "services.auth-service.consumes[0].prefix: prefix 'dreamscape.nope.' matches no",
        ),
        (
            "  auth-service:\n    group: auth-group\n",
            ":18: services.auth-service.group: 'auth-group' breaks the convention "
            "dreamscape-<service>-group (expected 'dreamscape-auth-service-group'",
        ),
        (
            "  auth-service:\n    produces: [{prefx: dreamscape.}]\n",
            "services.auth-service.produces[0]: unknown key 'prefx' (did you mean 'prefix'?)",
        ),
        (
            "  auth-service:\n    produces: [3]\n",
            "services.auth-service.produces[0]: expected a topic name, a glob or {prefix: ...} "
            "(got 3)",
        ),
        (
            "  auth-service:\n    principals: User:x\n",
            "services.auth-service: unknown key 'principals' (did you mean 'principal'?)",
        ),
        (
            "  a-service: {principal: 'User:x'}\n  b-service: {principal: 'User:x'}\n",
            "principal 'User:x' is also the principal of service 'a-service'",
        ),
    ],
)
def test_bad_services_are_located(tmp_path: Path, services: str, expected: str) -> None:
    found = problems(tmp_path, services)
    assert any(expected in p for p in found), found
    assert all(p.startswith(str(tmp_path / "topics.yaml")) for p in found)


def test_every_service_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "  auth-service:\n    principal: bad\n    group: nope\n    produces: ['x.*']\n",
    )
    assert len(found) == 3, found
