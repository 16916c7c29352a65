"""Helpers for the health tests: a small topics file with a prod overlay (RF 3, min ISR 2)."""

from __future__ import annotations

from pathlib import Path

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
    path = folder / "health-topics.yaml"
    path.write_text(PROD_TOPICS, encoding="utf-8")
    return path


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
    path = folder / f"generated-{domain}-{count}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def port_block_below_ephemeral(count: int, attempts: int = 200) -> int:
    """A first port of `count` free ports below the kernel's ephemeral range.

    Brokers the fault tests kill and restart must get their port back: a port from the
    ephemeral range can meanwhile become the local end of some outgoing connection on this
    busy machine, and the restart then fails with "port in use".
    """
    import random
    import socket
    from contextlib import ExitStack

    low = 20000
    try:
        low_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low_ephemeral = 32768
    high = max(low + 1000, low_ephemeral) - count
    for _ in range(attempts):
        base = random.randrange(low, high)
        try:
            with ExitStack() as stack:
                for port in range(base, base + count):
                    sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no block of {count} free ports below the ephemeral range")
