"""`topics export --format strimzi`: KafkaTopic and KafkaUser manifests, checked with Strimzi's
own model classes (io.strimzi:api, strimzi-check/StrimziCheck.java) — and that check is shown
to fail on an unknown property, an unknown enum value and a wrong kind."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.topics.desired import load_desired
from dreamscape_infra.topics.strimzi import kubernetes_name, strimzi_manifests
from tests.acl_fixtures import ACL_TOPICS, write_acl_topics
from tests.kafka_support import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "strimzi-check.sh"
runner = CliRunner()


def export(topics: Path, *args: str) -> tuple[int, str, str]:
    state = AppState(environ={})
    result = runner.invoke(
        app, ["--topics-file", str(topics), "topics", "export", *args], obj=state
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


# --- the manifests (pure) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("dreamscape.user.created", "dreamscape.user.created"),
        ("dreamscape.user_created", None),
        ("Dreamscape.User", None),
        ("a.-b", None),
    ],
)
def test_kubernetes_names(topic: str, expected: str | None) -> None:
    name = kubernetes_name(topic)
    if expected is not None:
        assert name == expected
    else:
        assert name != topic
        assert name == name.lower()
        assert all(part and part[0].isalnum() and part[-1].isalnum() for part in name.split("."))
        assert kubernetes_name(topic.swapcase()) != name  # the hash keeps them apart


def test_topics_then_users_with_their_acls(tmp_path: Path) -> None:
    desired = load_desired(write_acl_topics(tmp_path))
    manifests = strimzi_manifests(desired, "my-cluster")
    kinds = [m["kind"] for m in manifests]
    assert kinds == ["KafkaTopic"] * 4 + ["KafkaUser"] * 3
    topic = manifests[0]
    assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2"
    assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "my-cluster"
    assert topic["spec"]["topicName"] == topic["metadata"]["name"] == "dreamscape.auth.login"
    assert topic["spec"]["partitions"] == 1
    payment = next(m for m in manifests if m["metadata"]["name"] == "payment-service")
    assert payment["spec"]["authentication"] == {"type": "scram-sha-512"}
    rules = payment["spec"]["authorization"]["acls"]
    assert {
        "resource": {"type": "topic", "name": "dreamscape.auth.", "patternType": "prefix"},
        "type": "allow",
        "operations": ["Describe", "Read"],
        "host": "*",
    } in rules
    assert {
        "resource": {
            "type": "group",
            "name": "dreamscape-payment-service-group",
            "patternType": "literal",
        },
        "type": "allow",
        "operations": ["Read"],
        "host": "*",
    } in rules


def test_environment_overlay_and_typed_configs(tmp_path: Path) -> None:
    text = ACL_TOPICS.replace(
        "topics:\n",
        "defaults:\n  config: {retention.ms: 7d, compression.type: lz4}\n"
        "environments:\n  prod:\n    defaults: {replication_factor: 3}\ntopics:\n",
        1,
    )
    topics = write_acl_topics(tmp_path, text)
    code, out, err = export(topics, "--format", "strimzi", "--env", "prod", "--no-users")
    assert code == 0, err
    docs = list(yaml.safe_load_all(out))
    assert {d["kind"] for d in docs} == {"KafkaTopic"}
    assert {d["spec"]["replicas"] for d in docs} == {3}
    assert docs[0]["spec"]["config"] == {"compression.type": "lz4", "retention.ms": 604800000}


def test_output_dir_and_json(tmp_path: Path) -> None:
    topics = write_acl_topics(tmp_path)
    out_dir = tmp_path / "manifests"
    code, out, err = export(topics, "--format", "strimzi", "--output-dir", str(out_dir))
    assert code == 0, err
    assert "wrote 7 resource(s)" in out
    assert (out_dir / "kafkatopic-dreamscape.user.created.yaml").is_file()
    assert yaml.safe_load((out_dir / "kafkauser-auth-service.yaml").read_text())["kind"] == (
        "KafkaUser"
    )
    code, out, _ = export(topics, "--format", "strimzi", "-o", "json")
    doc = json.loads(out)
    assert doc["kind"] == "strimzi-export"
    assert len(doc["manifests"]) == 7


@pytest.mark.parametrize(
    ("args", "replace", "code", "message"),
    [
        (["--format", "helm"], None, 2, "supported: strimzi"),
        (["--format", "strimzi", "--cluster", "My_Cluster"], None, 3, "--cluster: 'My_Cluster'"),
        (
            ["--format", "strimzi"],
            ("principal: User:payment-service", "principal: User:Payment_Service"),
            3,
            "services.payment-service.principal: 'User:Payment_Service' cannot be a Strimzi",
        ),
    ],
)
def test_bad_export_input(
    tmp_path: Path, args: list[str], replace: tuple[str, str] | None, code: int, message: str
) -> None:
    text = ACL_TOPICS.replace(*replace) if replace else ACL_TOPICS
    got, out, err = export(write_acl_topics(tmp_path, text), *args)
    assert got == code
    assert message in err
    assert out == ""


# --- Strimzi's own model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def strimzi_check() -> Path:
    """The compiled check (built by the script once, then cached)."""
    for tool in ("java", "javac", "mvn"):
        if shutil.which(tool) is None:
            skip_or_fail(f"the Strimzi check needs '{tool}' (a JDK 17 and Maven)")
    build = subprocess.run(
        ["bash", str(CHECK), "--build-only"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if build.returncode != 0:
        skip_or_fail(f"building the Strimzi check failed:\n{build.stderr[-2000:]}")
    return CHECK


def run_check(check: Path, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(check), "-"],
        check=False,
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.strimzi
def test_export_passes_the_strimzi_model(strimzi_check: Path, tmp_path: Path) -> None:
    text = ACL_TOPICS.replace(
        "  user-service:\n",
        "  ops-service:\n    produces: [{prefix: dreamscape.}]\n  user-service:\n",
    )
    code, out, err = export(write_acl_topics(tmp_path, text), "--format", "strimzi")
    assert code == 0, err
    result = run_check(strimzi_check, out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 document(s) checked, 0 problem(s)" in result.stdout


@pytest.mark.strimzi
def test_shipped_topics_yaml_passes_the_strimzi_model(strimzi_check: Path) -> None:
    """Issue 12's acceptance on the shipped file (every topic and service, prod overlay); beside
    test_shipped_topics_yaml_acceptance, the only other test that reads the shipped file."""
    code, out, err = export(ROOT / "topics.yaml", "--format", "strimzi", "--env", "prod")
    assert code == 0, err
    result = run_check(strimzi_check, out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 problem(s)" in result.stdout


def _manifests(tmp_path: Path) -> list[dict[str, Any]]:
    return strimzi_manifests(load_desired(write_acl_topics(tmp_path)))


@pytest.mark.strimzi
@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (
            lambda m: m[0]["spec"].update(replicationFactor=2),
            "unknown property [replicationFactor]",
        ),
        (lambda m: m[0].update(extra=1), "KafkaTopic: unknown property [extra]"),
        (
            lambda m: m[-1]["spec"]["authorization"]["acls"][0].update(hosts="*"),
            "acls[0]: unknown property [hosts]",
        ),
        (
            lambda m: m[-1]["spec"]["authorization"]["acls"][0].update(operations=["Reed"]),
            "operations[0] is not a value Strimzi knows",
        ),
        (lambda m: m[0].update(kind="KafkaTopicz"), "is not KafkaTopic or KafkaUser"),
        (lambda m: m[0]["metadata"].update(name="Not_A_Name"), "is not a Kubernetes name"),
        (lambda m: m[0]["spec"].update(partitions=0), "spec.partitions must be >= 1"),
    ],
)
def test_the_check_rejects_what_strimzi_does_not_know(
    strimzi_check: Path, tmp_path: Path, break_it: Any, message: str
) -> None:
    manifests = _manifests(tmp_path)
    break_it(manifests)
    result = run_check(strimzi_check, yaml.safe_dump_all(manifests, sort_keys=False))
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
