"""`ConfluentGroups`: the `GroupsClient` Protocol over confluent_kafka's AdminClient.

It extends `ConfluentAdmin` for its connection handling (one client per run, fail-fast
metadata, authentication and TLS errors in one line) and copies every answer into the frozen
values of `dreamscape_infra.groups.client`. Each method is one batched request, except the
committed offsets: librdkafka's ListConsumerGroupOffsets takes one group per request, so one is
sent per group, all at once, and then awaited together. `record_timestamps` reads records with
one Consumer, made on first use and kept for the client's life, that only ever assign()s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dreamscape_infra.errors import EnvironmentFailure, RefusedError, UsageError
from dreamscape_infra.groups.client import (
    GroupDescription,
    GroupListing,
    GroupMember,
    OffsetRange,
    RecordTime,
    TopicPartition,
)
from dreamscape_infra.kafka.admin import ConfluentAdmin, _code_name, _log, _safe

if TYPE_CHECKING:
    from dreamscape_infra.settings import ConnectionSettings

# librdkafka's ConsumerGroupState names -> the names Kafka's own tools print
_STATES = {
    "STABLE": "Stable",
    "EMPTY": "Empty",
    "PREPARING_REBALANCING": "PreparingRebalance",
    "COMPLETING_REBALANCING": "CompletingRebalance",
    "DEAD": "Dead",
    "UNKNOWN": "Unknown",
}
# The broker's answers for a group that still has members.
_NOT_EMPTY = {"NON_EMPTY_GROUP", "UNKNOWN_MEMBER_ID", "REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION"}


def _state(raw: Any) -> str:
    name = getattr(raw, "name", None) or str(raw)
    return _STATES.get(str(name), str(name).title())


class ConfluentGroups(ConfluentAdmin):
    """GroupsClient over confluent_kafka's AdminClient."""

    def __init__(self, settings: ConnectionSettings, timeout_s: float = 10.0) -> None:
        super().__init__(settings, timeout_s=timeout_s)
        self._settings = settings
        self._reader: Any = None  # the Consumer of record_timestamps, made on first use

    def _record_reader(self) -> Any:
        from confluent_kafka import Consumer

        if self._reader is None:
            config = self._settings.client_config()
            config.update(
                {
                    # assign() only: this id never joins, commits or appears in ListGroups
                    "group.id": "dreamscape-infra-lag-reader",
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "enable.partition.eof": True,
                    "auto.offset.reset": "earliest",
                    # one small batch per partition is all we read: no prefetch beyond it
                    "fetch.wait.max.ms": 20,
                    "max.partition.fetch.bytes": 1024,
                    "queued.min.messages": 1,
                    # librdkafka then waits fetch.queue.backoff.ms (1 s) before fetching again
                    # for a partition whose queue is at queued.min.messages: partitions not
                    # answered by the first Fetch would wait a second for the next
                    "fetch.queue.backoff.ms": 5,
                    "fetch.error.backoff.ms": 50,
                    "error_cb": self._on_error,
                    "logger": _log,
                    "socket.connection.setup.timeout.ms": int(self._timeout * 1000),
                }
            )
            try:
                self._reader = Consumer(config)
            except Exception as exc:  # KafkaException for an invalid client config
                raise EnvironmentFailure(f"cannot create a Kafka consumer: {_safe(exc)}") from None
            del config
        return self._reader

    def record_timestamps(
        self, positions: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, RecordTime]:
        from confluent_kafka import (
            TIMESTAMP_LOG_APPEND_TIME,
            TIMESTAMP_NOT_AVAILABLE,
            KafkaError,
        )
        from confluent_kafka import TopicPartition as KafkaTopicPartition

        if not positions:
            return {}
        reader = self._record_reader()
        # One assignment of every partition: librdkafka then sends one Fetch per partition
        # leader for all of them together, each answering with the batch at its offset.
        reader.assign([KafkaTopicPartition(t, p, o) for (t, p), o in sorted(positions.items())])
        found: dict[TopicPartition, RecordTime] = {}
        done: set[TopicPartition] = set()
        paused: list[Any] = []
        deadline = time.monotonic() + self._timeout
        try:
            while len(done) < len(positions) and time.monotonic() < deadline:
                for message in reader.consume(num_messages=len(positions), timeout=0.01):
                    tp = (message.topic(), message.partition())
                    if tp in done or tp not in positions:
                        continue
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            done.add(tp)  # nothing at or after the offset (any more)
                        continue
                    if message.offset() < positions[tp]:
                        continue  # a batch starts before the offset asked for
                    kind, stamp = message.timestamp()
                    if kind != TIMESTAMP_NOT_AVAILABLE and stamp >= 0:
                        found[tp] = RecordTime(
                            int(message.offset()), int(stamp), kind == TIMESTAMP_LOG_APPEND_TIME
                        )
                    done.add(tp)
                    paused.append(KafkaTopicPartition(*tp))
                    reader.pause(paused[-1:])
        finally:
            # a pause outlives the assignment: the next read of the same partition (serve
            # reads every few seconds with this consumer) would get nothing
            if paused:
                reader.resume(paused)
            reader.unassign()
        return found

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        super().close()

    def _result(self, future: Any) -> Any:
        from confluent_kafka import KafkaException

        try:
            return future.result(timeout=self._timeout + 5)
        except (KafkaException, TimeoutError):
            raise self._unreachable() from None

    def list_groups(self) -> tuple[GroupListing, ...]:
        result = self._result(self._client.list_consumer_groups(request_timeout=self._timeout))
        return tuple(
            sorted(
                (GroupListing(g.group_id, _state(g.state)) for g in result.valid),
                key=lambda g: g.group,
            )
        )

    def describe_groups(self, groups: Sequence[str]) -> dict[str, GroupDescription]:
        from confluent_kafka import KafkaException

        if not groups:
            return {}
        futures = self._client.describe_consumer_groups(list(groups), request_timeout=self._timeout)
        out: dict[str, GroupDescription] = {}
        for group, future in futures.items():
            try:
                description = future.result(timeout=self._timeout + 5)
            except KafkaException as exc:
                if _code_name(exc) == "GROUP_ID_NOT_FOUND":
                    continue  # deleted since it was listed
                raise EnvironmentFailure(
                    f"cannot describe consumer group {group}: {_safe(exc)}"
                ) from None
            except TimeoutError:
                raise self._unreachable() from None
            members = tuple(
                GroupMember(
                    consumer_id=str(m.member_id),
                    client_id=str(m.client_id),
                    host=str(m.host).lstrip("/"),
                    assignment=tuple(
                        sorted(
                            (tp.topic, tp.partition)
                            for tp in (m.assignment.topic_partitions if m.assignment else [])
                        )
                    ),
                )
                for m in description.members
            )
            out[group] = GroupDescription(group, _state(description.state), members)
        return out

    def committed_offsets(self, groups: Sequence[str]) -> dict[str, dict[TopicPartition, int]]:
        from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException

        # One request per group (librdkafka's limit), all in flight together.
        pending = [
            self._client.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group)], request_timeout=self._timeout
            )
            for group in groups
        ]
        out: dict[str, dict[TopicPartition, int]] = {g: {} for g in groups}
        for futures in pending:
            for group, future in futures.items():
                try:
                    result = future.result(timeout=self._timeout + 5)
                except KafkaException as exc:
                    if _code_name(exc) == "GROUP_ID_NOT_FOUND":
                        continue
                    raise EnvironmentFailure(
                        f"cannot read the committed offsets of {group}: {_safe(exc)}"
                    ) from None
                except TimeoutError:
                    raise self._unreachable() from None
                for tp in result.topic_partitions or []:
                    if tp.error is None and tp.offset >= 0:
                        out[group][(tp.topic, tp.partition)] = int(tp.offset)
        return out

    def partition_counts(self, topics: Sequence[str] | None = None) -> dict[str, int]:
        metadata = self._metadata()
        wanted = None if topics is None else set(topics)
        return {
            name: len(meta.partitions)
            for name, meta in metadata.topics.items()
            if meta.partitions and (wanted is None or name in wanted)
        }

    def _list_offsets(self, request: Mapping[Any, Any]) -> Any:
        return self._client.list_offsets(dict(request), request_timeout=self._timeout)

    def _offsets(self, futures: Mapping[Any, Any]) -> dict[TopicPartition, int]:
        from confluent_kafka import KafkaException

        out: dict[TopicPartition, int] = {}
        for tp, future in futures.items():
            try:
                info = future.result(timeout=self._timeout + 5)
            except KafkaException as exc:
                raise EnvironmentFailure(
                    f"cannot list the offsets of {tp.topic}-{tp.partition}: {_safe(exc)}"
                ) from None
            except TimeoutError:
                raise self._unreachable() from None
            out[(tp.topic, tp.partition)] = int(info.offset)
        return out

    def offset_ranges(
        self, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, OffsetRange]:
        from confluent_kafka import TopicPartition as KafkaTopicPartition
        from confluent_kafka.admin import OffsetSpec

        if not partitions:
            return {}
        tps = [KafkaTopicPartition(t, p) for t, p in partitions]
        # Both requests in flight before either is awaited.
        earliest = self._list_offsets({tp: OffsetSpec.earliest() for tp in tps})  # type: ignore[no-untyped-call]
        latest = self._list_offsets({tp: OffsetSpec.latest() for tp in tps})  # type: ignore[no-untyped-call]
        starts, ends = self._offsets(earliest), self._offsets(latest)
        return {tp: OffsetRange(starts[tp], ends[tp]) for tp in starts if tp in ends}

    def offsets_for_time(
        self, partitions: Sequence[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        from confluent_kafka import TopicPartition as KafkaTopicPartition
        from confluent_kafka.admin import OffsetSpec

        if not partitions:
            return {}
        request = {
            KafkaTopicPartition(t, p): OffsetSpec.for_timestamp(timestamp_ms) for t, p in partitions
        }
        found = self._offsets(self._list_offsets(request))
        return {tp: (offset if offset >= 0 else None) for tp, offset in found.items()}

    def alter_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException
        from confluent_kafka import TopicPartition as KafkaTopicPartition

        request = ConsumerGroupTopicPartitions(
            group, [KafkaTopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]
        )
        futures = self._client.alter_consumer_group_offsets(
            [request], request_timeout=self._change_timeout
        )
        for future in futures.values():
            try:
                result = future.result(timeout=self._change_timeout + 5)
            except KafkaException as exc:
                self._raise_change_error(group, "move the offsets of", exc)
            except TimeoutError:
                raise self._unreachable() from None
            for tp in result.topic_partitions or []:
                if tp.error is not None:
                    self._raise_change_error(group, "move the offsets of", tp.error)

    def delete_group(self, group: str) -> None:
        from confluent_kafka import KafkaException

        futures = self._client.delete_consumer_groups([group], request_timeout=self._change_timeout)
        for future in futures.values():
            try:
                future.result(timeout=self._change_timeout + 5)
            except KafkaException as exc:
                self._raise_change_error(group, "delete", exc)
            except TimeoutError:
                raise self._unreachable() from None

    def _raise_change_error(self, group: str, what: str, error: Any) -> None:
        wrapped = error if isinstance(error, BaseException) else Exception(error)
        code = _code_name(wrapped)
        message = _safe(wrapped)
        if code in _NOT_EMPTY:
            raise RefusedError(
                f"refused: the broker will not {what} {group} while it has active members ({code})",
                hint="stop the group's consumers first",
            ) from None
        if code == "GROUP_ID_NOT_FOUND":
            raise UsageError(f"consumer group '{group}' does not exist on the cluster") from None
        raise EnvironmentFailure(f"cannot {what} consumer group {group}: {message}") from None
