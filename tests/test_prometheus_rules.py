"""The shipped Prometheus rules and the /metrics exposition, checked by a real promtool:
`promtool check rules`, `promtool test rules` (every shipped rule, input series -> alerts), the
rules `health rules` generates from a topics.yaml, and `promtool check metrics` on a scrape of
the real `serve` HTTP server."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import yaml
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.groups.model import GroupLag, PartitionLag
from dreamscape_infra.health.checks import HealthReport
from dreamscape_infra.health.server import CachedHealth, make_server, serving
from dreamscape_infra.health.sources import Observation
from tests.lag_support import write_lag_topics
from tests.prometheus_support import PROMETHEUS_DOCS, promtool

runner = CliRunner()


def _rules(path: Path, *args: str) -> tuple[int, str, str]:
    state = AppState(environ={}, interactive=False)
    result = runner.invoke(app, ["--topics-file", str(path), "health", "rules", *args], obj=state)
    return result.exit_code, result.stdout, result.stderr


def test_shipped_rules_pass_promtool_check_and_their_unit_tests() -> None:
    rule_files = sorted(
        p for p in PROMETHEUS_DOCS.glob("*.yml") if not p.name.endswith(".test.yml")
    )
    tests = sorted(PROMETHEUS_DOCS.glob("*.test.yml"))
    assert rule_files
    assert tests
    checked = promtool(["check", "rules", *map(str, rule_files)])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool(["test", "rules", *map(str, tests)])
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_shipped_alert_has_a_unit_test_and_a_summary_naming_a_command() -> None:
    rule_files = [p for p in PROMETHEUS_DOCS.glob("*.yml") if not p.name.endswith(".test.yml")]
    alerts = {
        rule["alert"]: rule
        for path in rule_files
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    tested = {
        case["alertname"]
        for path in PROMETHEUS_DOCS.glob("*.test.yml")
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    }
    assert set(alerts) <= tested, set(alerts) - tested
    for name, rule in alerts.items():
        assert "`dreamscape-infra " in rule["annotations"]["summary"], name


def test_generated_rules_follow_topics_yaml_and_pass_promtool(tmp_path: Path) -> None:
    path = write_lag_topics(tmp_path, "dreamscape.", "", limit="45s")
    code, out, err = _rules(path, "--for", "30s", "--job", "kafka-health")
    assert code == 0, err
    rules = tmp_path / "rules.yml"
    rules.write_text(out)
    checked = promtool(["check", "rules", str(rules)])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (thresholds,) = [g for g in yaml.safe_load(out)["groups"] if g["name"].endswith("thresholds")]
    (rule,) = thresholds["rules"]
    assert rule["expr"].endswith('{topic="dreamscape.payment.completed"}) > 45')
    assert rule["for"] == "30s"
    assert 'up{job="kafka-health"}' in out
    # editing the file changes the rules
    path.write_text(path.read_text().replace("max_lag_seconds: 45s", "max_lag_seconds: 2m"))
    assert "> 120\n" in _rules(path)[1]


def test_bad_for_is_exit_2_and_a_bad_threshold_exit_3(tmp_path: Path) -> None:
    path = write_lag_topics(tmp_path, "dreamscape.", "")
    code, _, err = _rules(path, "--for", "soon")
    assert code == 2
    assert "--for: 'soon' is not a Prometheus duration" in err
    bad = write_lag_topics(tmp_path, "dreamscape.", "", limit="fast")
    code, _, err = _rules(bad)
    assert code == 3
    assert f"{bad}:10: topics[0].max_lag_seconds" in err


def test_promtool_check_metrics_passes_on_a_real_scrape() -> None:
    from dreamscape_infra.health.checks import Expectation, LagLimits, evaluate
    from tests.test_lag_seconds_health import _read

    parts = (
        PartitionLag("dreamscape.payment.completed", 0, 40, 0, 100, lag_seconds=36.5),
        PartitionLag("dreamscape.payment.audit", 0, 3, 10, 20, lag_seconds=None),
    )
    lags = [GroupLag("dreamscape-payment-service-group", "Empty", 0, True, parts)]

    def read() -> tuple[Observation, list[GroupLag]]:
        return Observation(_read(), None), lags

    def judge(o: Observation, lg: object) -> HealthReport:
        return evaluate(
            o.read,
            expected=Expectation(3, "test"),
            sync=None,
            lags=lags,
            max_lag=None,
            lag_limits=LagLimits(topics={"dreamscape.payment.completed": 30.0}),
        )

    server = make_server("127.0.0.1", 0, CachedHealth(read, judge, 0.0))
    with serving(server) as base, urllib.request.urlopen(base + "/metrics", timeout=10) as got:
        body = got.read()
    assert b"dreamscape_consumergroup_lag_seconds{" in body
    checked = promtool(["check", "metrics"], stdin=body)
    assert checked.returncode == 0, checked.stdout + checked.stderr
