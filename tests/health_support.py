"""Helpers for the health tests: a small topics file with a prod overlay (RF 3, min ISR 2)."""

from __future__ import annotations

from pathlib import Path

from tests.topics_files import write_topics

PROD_TOPICS = """\
version: 1
prefix: dreamscape.
defaults:
  partitions: 3
  replication_factor: 1
  config:
    min.insync.replicas: 1
environments:
  dev:
    defaults:
      replication_factor: 1
  prod:
    defaults:
      replication_factor: 3
      config:
        min.insync.replicas: 2
domains:
  user:
    owner: user-service
topics:
  - name: dreamscape.user.created
  - name: dreamscape.user.updated
    partitions: 2
consumer_groups:
  - name: dreamscape-user-service-group
    service: user-service
    topics: [dreamscape.user.created]
"""

PROD_TOPIC_NAMES = ("dreamscape.user.created", "dreamscape.user.updated")
PROD_PARTITIONS = 5  # 3 + 2


def write_prod_topics(folder: Path) -> Path:
    """The small prod-overlay topics file, written into `folder`."""
    return write_topics(folder, PROD_TOPICS, "health-topics.yaml")


def generated_topics(
    folder: Path, count: int, replication_factor: int = 3, domain: str = "load"
) -> Path:
    """A topics file of `count` generated one-partition topics `dreamscape.<domain>.topic-NNNN`."""
    lines = [
        "version: 1",
        "prefix: dreamscape.",
        "defaults:",
        "  partitions: 1",
        f"  replication_factor: {replication_factor}",
        "domains:",
        f"  {domain}:",
        f"    owner: {domain}-service",
        "topics:",
    ]
    lines += [f"  - name: dreamscape.{domain}.topic-{i:04d}" for i in range(count)]
    return write_topics(folder, "\n".join(lines) + "\n", f"generated-{domain}-{count}.yaml")
