"""A small topics.yaml with services, shared by the ACL tests (not the shipped file)."""

from __future__ import annotations

from pathlib import Path

from tests.topics_files import write_topics

ACL_TOPICS = """\
version: 1
domains:
  user: {owner: user-service}
  auth: {owner: auth-service}
  payment: {owner: payment-service}
topics:
  - name: dreamscape.user.created
    partitions: 1
  - name: dreamscape.user.deleted
    partitions: 1
  - name: dreamscape.auth.login
    partitions: 1
  - name: dreamscape.payment.completed
    partitions: 1
consumer_groups:
  - name: dreamscape-auth-service-group
    service: auth-service
    topics: [dreamscape.user.created, dreamscape.user.deleted]
services:
  auth-service:
    produces: ['dreamscape.auth.*']
  user-service:
    produces: ['dreamscape.user.*']
  payment-service:
    principal: User:payment-service
    produces: [dreamscape.payment.completed]
    consumes: [{prefix: dreamscape.auth.}]
"""

# What ACL_TOPICS needs: auth 2 produce + 4 consume + 1 group; user 4; payment 2 + 2 + 1.
ACL_COUNT = 16


def write_acl_topics(folder: Path, text: str = ACL_TOPICS) -> Path:
    return write_topics(folder, text)


def without_payment_consumes(text: str = ACL_TOPICS) -> str:
    """ACL_TOPICS with payment-service's consumes (and so its group) removed."""
    return text.replace("    consumes: [{prefix: dreamscape.auth.}]\n", "")
