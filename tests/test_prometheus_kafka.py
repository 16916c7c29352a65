"""A real Prometheus scraping a real `serve` in front of a real broker (Kafka 3.9).

A declared group commits 40 of 100 events (CreateTime spread over the last minute) and stops.
`serve` runs as its own process; Prometheus (Debian's package) runs on loopback with its own
temp dir and free port, a 1 s scrape and evaluation interval, and the rules `health rules`
generates from the test's topics.yaml with `--for 2s` (max_lag_seconds 5s on the topic), so
the lag-seconds alert goes pending then firing within seconds instead of minutes. PromQL over
the HTTP API must return the group's lag and lag seconds. Every wait is bounded; both
processes are stopped (SIGTERM, then SIGKILL) whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.groups_support import commit_messages
from tests.kafka_support import KafkaCluster, free_ports
from tests.lag_support import Cli, produce_at, write_lag_topics
from tests.prometheus_support import ROOT, promtool, tool

T = TypeVar("T")
JOB = "dreamscape-serve"


def _until(what: str, probe: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    """`probe()` until it returns something other than None, for at most `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:g}s waiting for {what}")
        time.sleep(0.5)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@contextmanager
def _process(argv: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[Any]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=out, env=env)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()


@pytest.mark.kafka
@pytest.mark.timeout(240)
def test_prometheus_scrapes_serve_and_the_lag_seconds_alert_fires(
    kafka_cluster: KafkaCluster, tmp_path: Path
) -> None:
    prometheus = tool("prometheus")
    tag = uuid.uuid4().hex[:8]
    prefix = f"dreamscape{tag}."
    topic = prefix + "payment.completed"
    group = f"dreamscape-payment-service-{tag}-group"
    cli = Cli(kafka_cluster.bootstrap, write_lag_topics(tmp_path, prefix, f"-{tag}", "5s"))
    assert cli.run("topics", "sync")[0] == 0

    now_ms = int(time.time() * 1000)
    stamps = [now_ms - 60_000 + i * 600 for i in range(100)]
    produce_at(kafka_cluster.settings, topic, stamps)
    commit_messages(kafka_cluster.settings, group, topic, {0: 40})  # and it stops

    code, rules, err = cli.run("health", "rules", "--for", "2s", "--job", JOB)
    assert code == 0, err
    (tmp_path / "rules.yml").write_text(rules)
    serve_port, prom_port = free_ports(2)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - rules.yml\n"
        f"scrape_configs:\n  - job_name: {JOB}\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{serve_port}']\n"
    )
    checked = promtool(["check", "config", str(config)])
    assert checked.returncode == 0, checked.stdout + checked.stderr

    env = {
        **os.environ,
        "KAFKA_BROKERS": kafka_cluster.bootstrap,
        # the child must import this checkout, whatever is pip-installed
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    serve_argv = [
        sys.executable,
        "-m",
        "dreamscape_infra",
        "--topics-file",
        str(cli.file),
        "serve",
        "--port",
        str(serve_port),
        "--cache-seconds",
        "1",
        "-o",
        "json",
    ]
    prom_argv = [
        prometheus,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
        "--storage.tsdb.retention.time=1h",
    ]
    api = f"http://127.0.0.1:{prom_port}/api/v1"
    with (
        _process(serve_argv, tmp_path / "serve.log", env) as serve,
        _process(prom_argv, tmp_path / "prometheus.log") as prom,
    ):
        announced = json.loads(serve.stdout.readline() or b"{}")
        assert announced.get("kind") == "serve", (tmp_path / "serve.log").read_text()
        with urllib.request.urlopen(announced["metrics_url"], timeout=10) as response:
            scrape = response.read()
        checked = promtool(["check", "metrics"], stdin=scrape)  # a real scrape of serve
        assert checked.returncode == 0, checked.stdout + checked.stderr

        def query(expr: str) -> float | None:
            if prom.poll() is not None:
                pytest.fail((tmp_path / "prometheus.log").read_text()[-2000:])
            try:
                doc = _get(f"{api}/query?{urllib.parse.urlencode({'query': expr})}")
            except OSError:
                return None  # not listening yet
            result = doc["data"]["result"]
            return float(result[0]["value"][1]) if result else None

        lag = _until(
            "the group's lag",
            lambda: query(f'sum(dreamscape_consumergroup_lag{{group="{group}"}})'),
        )
        assert lag == 60
        seconds_expr = (
            f'max(dreamscape_consumergroup_lag_seconds{{group="{group}",topic="{topic}"}})'
        )
        seconds = _until("the group's lag seconds", lambda: query(seconds_expr))
        age_now = time.time() - stamps[40] / 1000  # the first unconsumed event's CreateTime
        # what Prometheus holds was read at most cache (1 s) + scrape interval (1 s) ago
        assert age_now - 4 <= seconds <= age_now + 1, (seconds, age_now)
        recorded = _until(
            "the recording rule",
            lambda: query(
                f'dreamscape:consumergroup_lag_seconds:max{{group="{group}",topic="{topic}"}}'
            ),
        )
        assert recorded > 5

        states: list[str] = []

        def alert_state() -> str | None:
            for alert in _get(f"{api}/alerts")["data"]["alerts"]:
                labels = alert["labels"]
                if (labels["alertname"], labels.get("group")) == (
                    "DreamscapeConsumerLagSecondsHigh",
                    group,
                ):
                    states.append(alert["state"])
                    return alert["state"] if alert["state"] == "firing" else None
            return None

        assert _until("the lag-seconds alert to fire", alert_state) == "firing"
        print(
            f"lag {lag}, lag seconds {seconds:.2f} (CreateTime age {age_now:.2f}), alert {states}"
        )
        stopped = [
            a
            for a in _get(f"{api}/alerts")["data"]["alerts"]
            if a["labels"]["alertname"] == "DreamscapeConsumerGroupStopped"
            and a["labels"].get("group") == group
        ]
        assert stopped, "the STOPPED alert (for: 5m) should at least be pending"
        assert stopped[0]["state"] == "pending"
    assert serve.returncode == 0, (tmp_path / "serve.log").read_text()
