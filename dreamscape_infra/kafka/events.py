"""`ConfluentEventReader` and `ConfluentEventWriter`: the events capability's Protocols
(`dreamscape_infra.events.model`) over confluent_kafka's Consumer and Producer.

The reader reads by **assignment**: it never calls subscribe(), never commits (auto commit and
offset store are off), so it never joins, creates or moves a consumer group. librdkafka insists
on a group.id for any Consumer; it is set to a fixed name that is never joined nor committed to
(a test lists the groups before and after to prove none appears).

The writer is idempotent with acks=all, so retries can neither lose nor duplicate a record.
Nothing confluent_kafka leaves this module: messages become `Message` values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.events.model import (
    KEEP_DELIVERIES,
    Batch,
    Delivery,
    DeliveryReport,
    Message,
    Outgoing,
    Partition,
    Watermarks,
)

if TYPE_CHECKING:
    from dreamscape_infra.settings import ConnectionSettings

_log = logging.getLogger("dreamscape_infra.kafka")
_log.addHandler(logging.NullHandler())

# librdkafka requires a group.id even for assign()-only consumers; we never join or commit it.
READER_GROUP_ID = "dreamscape-infra-events-reader-never-joined"
# Librdkafka's special ListOffsets timestamps: the log's end and its start.
_LATEST, _EARLIEST = -1, -2
# The producer settings that decide durability, reported by effective_config().
DURABILITY_KEYS = (
    "enable.idempotence",
    "acks",
    "max.in.flight.requests.per.connection",
    "retries",
    "message.timeout.ms",
    "linger.ms",
)


def _safe(exc: BaseException) -> str:
    """The broker's message only, never a repr that could carry client config."""
    args = getattr(exc, "args", ())
    if args and hasattr(args[0], "str"):
        return str(args[0].str())
    return exc.__class__.__name__


class _Client:
    """What the reader and writer share: fast failure when no broker answers, and metadata."""

    _client: Any

    def __init__(self, settings: ConnectionSettings, timeout_s: float) -> None:
        self._brokers = settings.bootstrap_servers
        self._timeout = timeout_s
        self._errors: list[tuple[str, str]] = []
        self._closed = False

    def _base_config(self, settings: ConnectionSettings) -> dict[str, Any]:
        config = settings.client_config()
        config.update(
            {
                "error_cb": self._on_error,
                "logger": _log,
                "client.id": "dreamscape-infra-events",
                "socket.connection.setup.timeout.ms": int(self._timeout * 1000),
            }
        )
        return config

    def _on_error(self, error: Any) -> None:
        self._errors.append((str(error.name()), str(error.str())))

    def _refused(self) -> EnvironmentFailure | None:
        for name, text in self._errors:
            if "AUTHENTICATION" in name or "SASL" in text or "uthenticat" in text:
                return EnvironmentFailure(
                    f"Kafka refused authentication at {self._brokers}: {text}",
                    hint="check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM",
                )
            if "SSL" in text or "ssl" in text:
                return EnvironmentFailure(
                    f"TLS handshake with Kafka at {self._brokers} failed: {text}",
                    hint="check KAFKA_SSL and KAFKA_SSL_CA_LOCATION",
                )
            if name == "_ALL_BROKERS_DOWN":
                return EnvironmentFailure(
                    f"Kafka is not reachable at {self._brokers} (every broker refused or "
                    "dropped the connection)",
                    hint="check KAFKA_BROKERS, or start Kafka with `dreamscape-infra up`",
                )
        return None

    def _serve_errors(self) -> None:
        """Run queued error callbacks (librdkafka serves them only when polled)."""
        self._client.poll(0)

    def topics(self) -> dict[str, int]:
        from confluent_kafka import KafkaException

        deadline = time.monotonic() + self._timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                metadata = self._client.list_topics(timeout=max(min(1.0, remaining), 0.05))
                break
            except KafkaException:
                self._serve_errors()
                refused = self._refused()
                if refused is not None:
                    raise refused from None
                if time.monotonic() >= deadline:
                    raise EnvironmentFailure(
                        f"Kafka is not reachable at {self._brokers} (waited {self._timeout:g}s)",
                        hint="check KAFKA_BROKERS, or start Kafka with `dreamscape-infra up`",
                    ) from None
        return {
            name: len(meta.partitions)
            for name, meta in metadata.topics.items()
            if meta.error is None or meta.partitions
        }


class ConfluentEventReader(_Client):
    """EventReader over a confluent_kafka Consumer used only with assign()."""

    def __init__(self, settings: ConnectionSettings, timeout_s: float = 10.0) -> None:
        from confluent_kafka import Consumer

        super().__init__(settings, timeout_s)
        config = self._base_config(settings)
        config.update(
            {
                "group.id": READER_GROUP_ID,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 100,
                # Bounded prefetch (librdkafka keeps up to 100k messages per partition queued by
                # default): memory stays flat however long the topic is.
                "queued.min.messages": 100_000,
                "queued.max.messages.kbytes": 8192,
                # Once that queue is full, librdkafka postpones the partition's next fetch by
                # this much (default 1000 ms): reading faster than 8 MiB a second, the reader
                # sat idle most of the time (300k events: validate 7.7 s wall for 2.0 s of CPU;
                # 1.95 s with 10 ms).
                "fetch.queue.backoff.ms": 10,
            }
        )
        try:
            self._client = Consumer(config)
        except Exception as exc:  # KafkaException for an invalid client config
            raise EnvironmentFailure(
                f"cannot create a Kafka consumer: {_safe(exc)}",
                hint="check the KAFKA_* variables (`dreamscape-infra config`)",
            ) from None
        self._assigned = False
        del config

    def _serve_errors(self) -> None:
        # Consumer.poll() would consume a record once partitions are assigned.
        if not self._assigned:
            self._client.poll(0)

    def _list_offsets(self, partitions: Sequence[Partition], spec: int) -> dict[Partition, int]:
        from confluent_kafka import KafkaException, TopicPartition

        if not partitions:
            return {}
        request = [TopicPartition(t, p, spec) for t, p in partitions]
        try:
            answer = self._client.offsets_for_times(request, timeout=self._timeout)
        except KafkaException as exc:
            raise EnvironmentFailure(
                f"cannot read offsets at {self._brokers}: {_safe(exc)}"
            ) from None
        return {(tp.topic, tp.partition): int(tp.offset) for tp in answer}

    def watermarks(self, partitions: Sequence[Partition]) -> dict[Partition, Watermarks]:
        # One batched ListOffsets per leader for each end, not one request per partition.
        lows = self._list_offsets(partitions, _EARLIEST)
        highs = self._list_offsets(partitions, _LATEST)
        marks: dict[Partition, Watermarks] = {}
        for part in partitions:
            high = max(highs.get(part, 0), 0)
            low = min(max(lows.get(part, 0), 0), high)
            marks[part] = Watermarks(low, high)
        return marks

    def offsets_for_time(
        self, partitions: Sequence[Partition], timestamp_ms: int
    ) -> dict[Partition, int | None]:
        found = self._list_offsets(partitions, max(timestamp_ms, 0))
        return {p: (o if o >= 0 else None) for p, o in found.items()}

    def assign(self, starts: Mapping[Partition, int]) -> None:
        from confluent_kafka import TopicPartition

        self._client.assign([TopicPartition(t, p, o) for (t, p), o in starts.items()])
        self._assigned = True

    def poll(self, max_messages: int, timeout_s: float) -> Batch:
        from confluent_kafka import KafkaError

        # consume(n, timeout) waits out the whole timeout unless n records arrive, which would
        # delay every short read; so take what is queued, else block for the first record only.
        records = self._client.consume(num_messages=max_messages, timeout=0)
        if not records:
            first = self._client.poll(timeout_s)
            if first is None:
                return Batch(())
            records = [first]
            if max_messages > 1:
                records.extend(self._client.consume(num_messages=max_messages - 1, timeout=0))
        messages: list[Message] = []
        ends: list[tuple[Partition, int]] = []
        append = messages.append
        for record in records:
            error = record.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    ends.append(((record.topic(), record.partition()), record.offset()))
                    continue
                if error.fatal() or error.code() in (
                    KafkaError.UNKNOWN_TOPIC_OR_PART,
                    KafkaError._UNKNOWN_PARTITION,
                    KafkaError.TOPIC_AUTHORIZATION_FAILED,
                ):
                    raise EnvironmentFailure(
                        f"cannot read {record.topic()}: {error.str()}",
                    )
                _log.warning("kafka: %s", error.str())
                continue
            kind, stamp = record.timestamp()
            append(
                Message(
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    stamp if kind else None,
                    record.key(),
                    record.value(),
                    tuple(record.headers() or ()),
                )
            )
        return Batch(messages, tuple(ends))

    def close(self) -> None:
        # close() would leave a group; we never joined one, and unassign is all there is.
        if self._closed:
            return
        self._closed = True
        try:
            self._client.unassign()
        finally:
            self._client.close()


class ConfluentEventWriter(_Client):
    """EventWriter over an idempotent confluent_kafka Producer with acks=all."""

    def __init__(
        self, settings: ConnectionSettings, timeout_s: float = 10.0, keep: int = KEEP_DELIVERIES
    ) -> None:
        from confluent_kafka import Producer

        super().__init__(settings, timeout_s)
        self.config: dict[str, Any] = {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            # Fail a record after 30 s rather than librdkafka's 5 min default, so a broker
            # that goes away mid-run is reported promptly.
            "message.timeout.ms": 30_000,
            "queue.buffering.max.messages": 100_000,
            # Bounded memory: at most 16 MiB of records waiting in librdkafka, whatever the input.
            "queue.buffering.max.kbytes": 16384,
        }
        config = self._base_config(settings)
        config.update(self.config)
        try:
            self._client = Producer(config)
        except Exception as exc:
            raise EnvironmentFailure(
                f"cannot create a Kafka producer: {_safe(exc)}",
                hint="check the KAFKA_* variables (`dreamscape-infra config`)",
            ) from None
        del config
        self._keep = keep
        self._report = DeliveryReport(keep)
        self._kept: list[Delivery | None] = []
        self._produce = self._client.produce
        self._poll = self._client.poll

    def _counted(self, error: Any, record: Any) -> None:
        # One bound method for every record past the kept ones: counted, not stored.
        if error is None:
            self._report.count(record.partition(), record.offset(), None)
        else:
            self._report.count(-1, -1, str(error.str()))

    def _kept_at(self, index: int) -> Any:
        def delivered(error: Any, record: Any) -> None:
            if error is None:
                found = Delivery(record.partition(), record.offset())
            else:
                found = Delivery(-1, -1, str(error.str()))
            self._kept[index] = found
            self._report.count(found.partition, found.offset, found.error)

        return delivered

    def send(self, message: Outgoing) -> None:
        report = self._report
        sent = report.sent
        if sent < self._keep:
            self._kept.append(None)
            callback = self._kept_at(sent)
        else:
            callback = self._counted
        partition = -1 if message.partition is None else message.partition  # -1: partitioner
        headers = list(message.headers) if message.headers else None
        while True:
            try:
                self._produce(
                    message.topic,
                    message.value,
                    message.key,
                    partition=partition,
                    on_delivery=callback,
                    headers=headers,
                )
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                self._poll(0.05)
        report.sent = sent + 1
        if sent % 1000 == 999:  # serve delivery reports as we go, never one flush per batch
            self._poll(0)

    def finish(self, timeout_s: float) -> DeliveryReport:
        self._client.flush(timeout_s)
        report, self._report = self._report, DeliveryReport(self._keep)
        kept, self._kept = self._kept, []
        unanswered = f"not delivered within {timeout_s:g}s"
        report.detail = [d if d is not None else Delivery(-1, -1, unanswered) for d in kept]
        if report.first_error is None and report.delivered < report.sent:
            report.first_error = unanswered
        return report

    def flush(self, timeout_s: float) -> list[Delivery]:
        """finish() as one Delivery per record, in send order: for a few records only (at most
        `keep`; ValueError past that, since the rest were only counted)."""
        if self._report.sent > self._keep:
            raise ValueError(f"flush() lists at most {self._keep} deliveries; use finish()")
        return self.finish(timeout_s).detail

    def effective_config(self) -> dict[str, str]:
        """The durability settings this producer was built with (librdkafka has no read-back;
        these are the exact values handed to it). No connection or secret settings."""
        return {k: str(v).lower() for k, v in self.config.items() if k in DURABILITY_KEYS}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._client.flush(0)
        self._client = None  # the Producer has no close: dropping it destroys it
