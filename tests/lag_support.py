"""Helpers for the lag-seconds tests on real brokers: a topics file with thresholds and a
LogAppendTime topic, and a producer that sets each message's CreateTime."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.settings import ConnectionSettings


def write_lag_topics(directory: Path, prefix: str, tag: str, limit: str = "10s") -> Path:
    """`{prefix}payment.completed` (1 partition, max_lag_seconds `limit`), `{prefix}payment.audit`
    (LogAppendTime), and the declared group dreamscape-payment-service{tag}-group reading both."""
    text = f"""\
version: 1
prefix: {prefix}
defaults:
  partitions: 1
  replication_factor: 1
domains:
  payment: {{owner: payment-service}}
topics:
  - name: {prefix}payment.completed
    max_lag_seconds: {limit}
  - name: {prefix}payment.audit
    config:
      message.timestamp.type: LogAppendTime
consumer_groups:
  - name: dreamscape-payment-service{tag}-group
    service: payment-service{tag}
    topics: [{prefix}payment.completed, {prefix}payment.audit]
"""
    path = directory / "topics.yaml"
    path.write_text(text)
    return path


def produce_at(settings: ConnectionSettings, topic: str, timestamps_ms: Sequence[int]) -> None:
    """One message per timestamp into partition 0 of `topic`, each with that CreateTime."""
    from confluent_kafka import Producer

    producer = Producer({**settings.client_config(), "acks": "all", "linger.ms": 5})
    for i, stamp in enumerate(timestamps_ms):
        producer.produce(topic, value=f"event-{i}".encode(), partition=0, timestamp=stamp)
    if producer.flush(60):
        raise RuntimeError(f"messages not delivered to {topic}")


@dataclass(frozen=True)
class Cli:
    """The real CLI (CliRunner, in-process Kafka clients) against `bootstrap` and `file`."""

    bootstrap: str
    file: Path

    def run(self, *args: str) -> tuple[int, str, str]:
        state = AppState(
            environ={"KAFKA_BROKERS": self.bootstrap}, interactive=False, plain_tables=True
        )
        result = CliRunner().invoke(app, ["--topics-file", str(self.file), *args], obj=state)
        assert "Traceback" not in result.stdout + result.stderr
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out, err = self.run(*args, "-o", "json")
        assert out, err
        return code, json.loads(out)
