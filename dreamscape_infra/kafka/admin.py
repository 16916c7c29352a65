"""`ConfluentAdmin`: the `KafkaAdmin` Protocol over confluent_kafka's AdminClient.

The only code that touches the AdminClient; it copies what it learns into the frozen values of
`dreamscape_infra.kafka.cluster`. Every call is batched: reading the cluster for a plan is one
metadata request plus one DescribeConfigs per chunk of topics, whatever the number of topics.
Errors become `EnvironmentFailure` (unreachable, authentication) or per-topic `ActionResult`s.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.cluster import (
    OK,
    ActionResult,
    BrokerInfo,
    ClusterInfo,
    ClusterSnapshot,
    ConfigEntryState,
    ConfigOp,
    ConfigSourceName,
    NewTopicRequest,
    PartitionInfo,
    TopicState,
    is_internal_topic,
)

if TYPE_CHECKING:
    from dreamscape_infra.kafka.failures import ClientSecurity
    from dreamscape_infra.settings import ConnectionSettings

# Kafka limits one request's size; chunking keeps 2,000 topics to a handful of round trips.
CHUNK = 500
CONFIG_READ_ATTEMPTS = 4  # DescribeConfigs answered with a retriable error is asked again

_log = logging.getLogger("dreamscape_infra.kafka")
_log.addHandler(logging.NullHandler())


_SOURCES: dict[str, ConfigSourceName] = {
    "DYNAMIC_TOPIC_CONFIG": "topic",
    "DYNAMIC_BROKER_CONFIG": "broker",
    "DYNAMIC_DEFAULT_BROKER_CONFIG": "broker-default",
    "STATIC_BROKER_CONFIG": "static-broker",
    "DEFAULT_CONFIG": "default",
}


def _source_name(raw: Any) -> ConfigSourceName:
    """librdkafka reports the source as an int (ConfigSource value) or as the enum itself."""
    from confluent_kafka.admin import ConfigSource

    try:
        name = ConfigSource(raw).name if isinstance(raw, int) else str(raw.name)
    except (ValueError, AttributeError):
        return "unknown"
    return _SOURCES.get(name, "unknown")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ConfluentAdmin:
    """KafkaAdmin over confluent_kafka's AdminClient. One client per run, reused for all calls."""

    def __init__(self, settings: ConnectionSettings, timeout_s: float = 10.0) -> None:
        from confluent_kafka.admin import AdminClient

        self._brokers = settings.bootstrap_servers
        self._timeout = timeout_s
        # Changes may take the controller a while (500 topics per request under load): once the
        # broker has answered a metadata request, wait longer for them than for connecting.
        self._change_timeout = max(timeout_s * 6, 60.0)
        self._last_error: tuple[str, str] | None = None
        self._seen_errors: set[str] = set()
        config = settings.client_config()
        # What a failure message may name, no secret among it; kafka/failures.py (regexes,
        # probes) is imported only once something has failed.
        self._security_fields: dict[str, Any] = {
            "brokers": settings.bootstrap_servers,
            "ssl": settings.ssl,
            "ca_location": settings.ssl_ca_location,
            "verify_hostname": settings.ssl_verify_hostname,
            "sasl_username": settings.sasl_username,
            "sasl_mechanism": config.get("sasl.mechanism"),
            "client_certificate": settings.ssl_cert_location is not None,
        }
        config.update(
            {
                "error_cb": self._on_error,
                "logger": _log,
                "socket.connection.setup.timeout.ms": int(timeout_s * 1000),
            }
        )
        try:
            self._client: Any = AdminClient(config)
        except Exception as exc:  # KafkaException for an invalid client config
            raise EnvironmentFailure(
                f"cannot create a Kafka client: {_safe(exc)}",
                hint="check the KAFKA_* variables (`dreamscape-infra config`)",
            ) from None
        del config

    def _security(self) -> ClientSecurity:
        from dreamscape_infra.kafka.failures import ClientSecurity

        return ClientSecurity(**self._security_fields)

    def _on_error(self, error: Any) -> None:
        name = str(error.name())
        self._seen_errors.add(name)
        if name == "_ALL_BROKERS_DOWN" and self._last_error is not None:
            return  # it follows the refusal that caused it: keep the cause for _refused
        self._last_error = (name, str(error.str()))

    def _refused(self, poll_s: float) -> EnvironmentFailure | None:
        """An authentication or TLS failure reported through error_cb, if any.

        error_cb only runs when the client is polled, so serve the queued errors first.
        """
        self._client.poll(poll_s)
        if self._last_error is None:
            return None
        # Taken, not peeked: an error explains one failure, not every later one of this client.
        name, text = self._last_error
        self._last_error = None
        # one line naming the cause: bad credentials, wrong mechanism, untrusted certificate,
        # hostname mismatch, TLS to a plaintext port (see kafka/failures.py)
        from dreamscape_infra.kafka.failures import classify

        return classify(name, text, self._security())

    def _unreachable(self) -> EnvironmentFailure:
        return self._refused(0.2) or EnvironmentFailure(
            f"Kafka is not reachable at {self._brokers} (waited {self._timeout:g}s)",
            hint="check KAFKA_BROKERS, or start Kafka with `dreamscape-infra up`",
        )

    def _metadata(self, timeout_s: float | None = None) -> Any:
        """One metadata request. Asked in 1 s slices, so that a refused login fails fast
        instead of waiting out the whole timeout."""
        from confluent_kafka import KafkaException

        deadline = time.monotonic() + (timeout_s or self._timeout)
        while True:
            remaining = deadline - time.monotonic()
            try:
                return self._client.list_topics(timeout=max(min(1.0, remaining), 0.05))
            except KafkaException:
                refused = self._refused(0)
                if refused is not None:
                    raise refused from None
                if "_ALL_BROKERS_DOWN" in self._seen_errors:
                    self._seen_errors.discard("_ALL_BROKERS_DOWN")  # reported once, like above
                    # plaintext spoken to a TLS port looks like any dropped connection
                    from dreamscape_infra.kafka.failures import dropped_connection

                    raise dropped_connection(self._security()) or EnvironmentFailure(
                        f"Kafka is not reachable at {self._brokers} (every broker refused or "
                        "dropped the connection; a TLS or SASL port spoken to in plaintext?)",
                        hint="check KAFKA_BROKERS, KAFKA_SSL and KAFKA_SASL_*, or start Kafka "
                        "with `dreamscape-infra up`",
                    ) from None
                if time.monotonic() >= deadline:
                    raise self._unreachable() from None

    def describe_cluster(self) -> ClusterInfo:
        from confluent_kafka import KafkaException

        try:
            result = self._client.describe_cluster(request_timeout=self._timeout).result(
                timeout=self._timeout + 1
            )
        except (KafkaException, TimeoutError):
            raise self._unreachable() from None
        controller = result.controller.id if result.controller is not None else None
        brokers = tuple(
            sorted((BrokerInfo(n.id, n.host, n.port) for n in result.nodes), key=lambda b: b.id)
        )
        return ClusterInfo(result.cluster_id, controller, brokers)

    def snapshot(self, config_topics: Iterable[str]) -> ClusterSnapshot:
        metadata = self._metadata()
        topics: dict[str, TopicState] = {}
        for name, meta in metadata.topics.items():
            if meta.error is not None and not meta.partitions:
                continue
            partitions = tuple(
                sorted(
                    (
                        PartitionInfo(p.id, p.leader, tuple(p.replicas), tuple(p.isrs))
                        for p in meta.partitions.values()
                    ),
                    key=lambda p: p.id,
                )
            )
            topics[name] = TopicState(name=name, partitions=partitions)
        wanted = sorted({n for n in config_topics if n in topics})
        for name, configs in self._describe_configs(wanted).items():
            topics[name] = TopicState(name, topics[name].partitions, configs)
        cluster = _cluster_info(metadata)
        return ClusterSnapshot(topics=topics, broker_count=len(cluster.brokers), cluster=cluster)

    def _describe_configs(self, names: Sequence[str]) -> dict[str, dict[str, ConfigEntryState]]:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import ConfigResource, ResourceType

        out: dict[str, dict[str, ConfigEntryState]] = {}
        pending = list(names)
        for attempt in range(CONFIG_READ_ATTEMPTS):
            retry: list[str] = []
            for chunk in _chunks(pending):
                resources = [ConfigResource(ResourceType.TOPIC, n) for n in chunk]
                futures = self._client.describe_configs(resources, request_timeout=self._timeout)
                for resource, future in futures.items():
                    try:
                        entries = future.result()
                    except KafkaException as exc:
                        if _code_name(exc) == "UNKNOWN_TOPIC_OR_PART":
                            continue  # deleted between metadata and describe: treat as absent
                        # a broker in a controller fail-over or just restarted answers with a
                        # retriable error ("Timed out waiting for controller"): ask again
                        if _retriable(exc) and attempt + 1 < CONFIG_READ_ATTEMPTS:
                            retry.append(resource.name)
                            continue
                        raise EnvironmentFailure(
                            f"cannot read the configs of topic {resource.name}: {_safe(exc)}"
                        ) from None
                    out[resource.name] = _config_entries(entries)
            if not retry:
                break
            pending = retry
            time.sleep(0.5 * (attempt + 1))
        return out

    def _collect(self, futures: Mapping[Any, Any], key: Any = None) -> dict[str, ActionResult]:
        from confluent_kafka import KafkaException

        results: dict[str, ActionResult] = {}
        for item, future in futures.items():
            name = key(item) if key is not None else item
            try:
                future.result(timeout=self._change_timeout + 10)
                results[name] = OK
            except KafkaException as exc:
                results[name] = ActionResult(False, _code_name(exc), _safe(exc))
            except TimeoutError:
                results[name] = ActionResult(False, "_TIMED_OUT", "the broker did not answer")
        return results

    def create_topics(
        self, topics: Sequence[NewTopicRequest], *, validate_only: bool
    ) -> dict[str, ActionResult]:
        from confluent_kafka.admin import NewTopic

        results: dict[str, ActionResult] = {}
        for chunk in _chunks(list(topics)):
            new = [
                NewTopic(t.name, t.partitions, t.replication_factor, config=dict(t.configs))
                for t in chunk
            ]
            futures = self._client.create_topics(
                new,
                validate_only=validate_only,
                operation_timeout=self._change_timeout,
                request_timeout=self._change_timeout + 5,
            )
            results.update(self._collect(futures))
        return results

    def create_partitions(
        self, counts: Mapping[str, int], *, validate_only: bool
    ) -> dict[str, ActionResult]:
        from confluent_kafka.admin import NewPartitions

        results: dict[str, ActionResult] = {}
        for chunk in _chunks(sorted(counts)):
            new = [NewPartitions(name, counts[name]) for name in chunk]
            futures = self._client.create_partitions(
                new,
                validate_only=validate_only,
                operation_timeout=self._change_timeout,
                request_timeout=self._change_timeout + 5,
            )
            results.update(self._collect(futures))
        return results

    def alter_configs(
        self, changes: Mapping[str, Sequence[ConfigOp]], *, validate_only: bool
    ) -> dict[str, ActionResult]:
        from confluent_kafka.admin import (
            AlterConfigOpType,
            ConfigEntry,
            ConfigResource,
            ResourceType,
        )

        results: dict[str, ActionResult] = {}
        for chunk in _chunks(sorted(changes)):
            resources = []
            for name in chunk:
                entries = [
                    ConfigEntry(
                        op.key,
                        op.value if op.op == "set" else None,
                        incremental_operation=(
                            AlterConfigOpType.SET if op.op == "set" else AlterConfigOpType.DELETE
                        ),
                    )
                    for op in changes[name]
                ]
                resources.append(
                    ConfigResource(ResourceType.TOPIC, name, incremental_configs=entries)
                )
            futures = self._client.incremental_alter_configs(
                resources, validate_only=validate_only, request_timeout=self._change_timeout
            )
            results.update(self._collect(futures, key=lambda r: r.name))
        return results

    def delete_topics(self, names: Sequence[str]) -> dict[str, ActionResult]:
        safe = [n for n in names if not is_internal_topic(n)]  # belt and braces
        if not safe:
            return {}
        futures = self._client.delete_topics(
            list(safe),
            operation_timeout=self._change_timeout,
            request_timeout=self._change_timeout + 5,
        )
        return self._collect(futures)

    def wait_for_topics(self, names: Sequence[str], timeout_s: float) -> set[str]:
        pending = set(names)
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while pending:
            metadata = self._metadata()
            for name in list(pending):
                meta = metadata.topics.get(name)
                if (
                    meta is not None
                    and meta.error is None
                    and meta.partitions
                    and all(p.leader >= 0 for p in meta.partitions.values())
                ):
                    pending.discard(name)
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        return pending

    def groups_with_offsets(self, topics: Sequence[str]) -> dict[str, tuple[str, ...]]:
        from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException

        wanted = set(topics)
        found: dict[str, set[str]] = {t: set() for t in topics}
        try:
            listing = self._client.list_consumer_groups(request_timeout=self._timeout).result()
        except KafkaException:
            raise self._unreachable() from None
        group_ids = sorted(g.group_id for g in listing.valid)
        for group_id in group_ids:  # the protocol asks per group, not per topic
            futures = self._client.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group_id)], request_timeout=self._timeout
            )
            for future in futures.values():
                try:
                    result = future.result()
                except KafkaException:
                    continue
                for tp in result.topic_partitions or []:
                    if tp.topic in wanted and tp.offset >= 0:
                        found[tp.topic].add(group_id)
        return {t: tuple(sorted(g)) for t, g in found.items()}

    def latest_timestamps(self, topics: Sequence[str]) -> dict[str, int | None]:
        from confluent_kafka import KafkaException, TopicPartition
        from confluent_kafka.admin import OffsetSpec

        metadata = self._metadata()
        request = {
            TopicPartition(t, p): OffsetSpec.max_timestamp()  # type: ignore[no-untyped-call]
            for t in topics
            if t in metadata.topics
            for p in metadata.topics[t].partitions
        }
        newest: dict[str, int | None] = dict.fromkeys(topics)
        if not request:
            return newest
        futures = self._client.list_offsets(request, request_timeout=self._timeout)
        for tp, future in futures.items():
            try:
                info = future.result()
            except KafkaException:
                continue
            if info.timestamp is not None and info.timestamp >= 0:
                current = newest.get(tp.topic)
                newest[tp.topic] = max(current or 0, int(info.timestamp))
        return newest

    def close(self) -> None:
        """AdminClient has no close; drop our reference so librdkafka can shut down."""
        self._client = _Closed()


class _Closed:
    """Stands in for the AdminClient after close(): any use is a bug."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("the Kafka admin client was closed")


def _cluster_info(metadata: Any) -> ClusterInfo:
    """Brokers and controller from a metadata response (controller -1: none elected yet)."""
    brokers = tuple(
        sorted(
            (BrokerInfo(b.id, b.host, b.port) for b in metadata.brokers.values()),
            key=lambda b: b.id,
        )
    )
    controller = metadata.controller_id if metadata.controller_id >= 0 else None
    return ClusterInfo(metadata.cluster_id, controller, brokers)


def _config_entries(entries: Mapping[str, Any]) -> dict[str, ConfigEntryState]:
    """One topic's DescribeConfigs answer as plain values (sensitive values never copied)."""
    return {
        key: _entry_state(
            None if entry.is_sensitive else entry.value,
            entry.source,
            bool(entry.is_sensitive),
            bool(entry.is_read_only),
        )
        for key, entry in entries.items()
    }


@functools.lru_cache(maxsize=4096)
def _entry_state(
    value: str | None, raw_source: Any, sensitive: bool, read_only: bool
) -> ConfigEntryState:
    """Shared, as values are immutable: most of a topic's ~36 entries are the broker's
    defaults, the same for every topic, so 32 topics make ~40 distinct entries, not 1,150."""
    return ConfigEntryState(value, _source_name(raw_source), sensitive, read_only)


def _retriable(exc: BaseException) -> bool:
    """A KafkaError the broker marks retriable (a timeout, no controller yet, ...)."""
    error: Any = exc.args[0] if exc.args else None
    return error is not None and hasattr(error, "retriable") and bool(error.retriable())


def _code_name(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if args and hasattr(args[0], "name"):
        return str(args[0].name())
    return exc.__class__.__name__


def _safe(exc: BaseException) -> str:
    """The broker's message only: a KafkaError's str(), never a repr with client config."""
    args = getattr(exc, "args", ())
    if args and hasattr(args[0], "str"):
        return str(args[0].str())
    return exc.__class__.__name__
