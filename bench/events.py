"""Events: `events tail` against kafka-console-consumer, `events produce` against
kafka-console-producer, and `events validate` over what the produce runs wrote.

A simple version; rates are for the whole process, start-up included.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from bench.harness import Broker, median, must, ratio, seconds, seed_copy, timed, value

TAIL_TOPIC = "user.created"  # under the run's own prefix
PRODUCE_TOPIC = "analytics.event.tracked"
BASELINE_TOPIC = "analytics.page.view"
PAYLOAD = '{"userId":"user-123","email":"john@example.com","firstName":"John","lastName":"Doe"}'
COUNT = 10_000
CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
PRODUCER = "kafka.tools.ConsoleProducer"  # Kafka 3.9; org.apache.kafka.tools. from 4.0


def envelopes(count: int) -> str:
    """`count` envelope-shaped JSON lines for the console producer (it checks nothing)."""
    now = dt.datetime.now(dt.UTC).isoformat()
    payload = json.loads(PAYLOAD)
    return "".join(
        json.dumps(
            {
                "eventId": str(uuid.uuid4()),
                "eventType": "analytics.page.view",
                "timestamp": now,
                "source": "bench",
                "version": "1",
                "payload": payload,
            }
        )
        + "\n"
        for _ in range(count)
    )


def measure(broker: Broker, tag: str, runs: int = 5) -> Any:
    """Every figure of this section, as a results.json section."""
    prefix = f"{tag}ev."  # a copy of the shipped topics.yaml: no other section's messages
    path = seed_copy(broker.work, prefix)
    broker.run_cli("-f", str(path), "topics", "sync")
    env = broker.env
    tail_topic, produce_topic, baseline_topic = (
        prefix + t for t in (TAIL_TOPIC, PRODUCE_TOPIC, BASELINE_TOPIC)
    )

    def cli(*args: str) -> list[str]:
        return broker.cli("-f", str(path), *args)

    seed = cli(
        "events",
        "produce",
        tail_topic,
        "--source",
        "user-service",
        "--payload",
        PAYLOAD,
        "--count",
        "20",
    )
    must(timed(seed, env), "events produce (the tail topic)")
    tail = cli("events", "tail", tail_topic, "--from-beginning", "--max-messages", "5")
    consumer = broker.tool(
        CONSUMER,
        "--bootstrap-server",
        broker.bootstrap,
        "--topic",
        tail_topic,
        "--from-beginning",
        "--max-messages",
        "5",
    )
    must(timed(tail, env), "events tail")  # untimed warm-ups
    must(timed(consumer), "kafka-console-consumer")
    tails, consumers = [], []
    for _ in range(runs):
        tails.append(must(timed(tail, env), "events tail").seconds)
        consumers.append(must(timed(consumer), "kafka-console-consumer").seconds)

    produce = cli(
        "events",
        "produce",
        produce_topic,
        "--source",
        "bench",
        "--payload",
        PAYLOAD,
        "--count",
        str(COUNT),
    )
    produces = []
    for _ in range(runs):
        run = must(timed(produce, env), "events produce")
        if f"produced {COUNT} of {COUNT}" not in run.stdout:
            raise SystemExit(f"bench: not every event was delivered:\n{run.stdout[-500:]}")
        produces.append(run.seconds)
    producer = broker.tool(
        PRODUCER,
        "--bootstrap-server",
        broker.bootstrap,
        "--topic",
        baseline_topic,
        "--producer-property",
        "acks=all",
        "--producer-property",
        "enable.idempotence=true",
    )
    lines = envelopes(COUNT)
    producers = [
        must(timed(producer, stdin=lines), "kafka-console-producer").seconds for _ in range(3)
    ]

    validate = cli("events", "validate", produce_topic, "-o", "json")
    validates, checked = [], 0
    for _ in range(3):
        run = must(timed(validate, env), "events validate")
        checked = int(json.loads(run.stdout)["summary"]["messages"])
        validates.append(run.seconds)
    broker.delete_prefix(prefix)
    return {
        "title": "Events (`events tail`, `events produce`, `events validate`)",
        "about": (
            "The baselines are ConsoleConsumer and ConsoleProducer from the same jars, one JVM"
            " each, called with `java` directly. `events produce` sends with acks=all and"
            " idempotence and waits for every delivery, as the console producer is told to."
        ),
        "figures": [
            seconds(
                f"`dreamscape-infra events tail PREFIX.{TAIL_TOPIC} --from-beginning -n 5`",
                tails,
                "tail",
            ),
            seconds("`kafka-console-consumer` of the same 5 messages", consumers, "consumer"),
            seconds(f"`dreamscape-infra events produce --count {COUNT}`", produces, "produce"),
            seconds(
                f"`kafka-console-producer` of {COUNT:,} envelopes, acks=all", producers, "producer"
            ),
            value(
                "`events produce`, events per second (whole process)",
                f"{COUNT / median(produces):,.0f}",
            ),
            seconds(
                f"`dreamscape-infra events validate` of {checked:,} events", validates, "validate"
            ),
            value(
                "`events validate`, events per second (whole process)",
                f"{checked / median(validates):,.0f}",
            ),
        ],
        "ratios": [
            ratio("`events tail` vs `kafka-console-consumer`", "tail", "consumer", 3),
            ratio("`events produce` vs `kafka-console-producer`", "produce", "producer"),
        ],
        "notes": [],
        "tables": [],
    }
