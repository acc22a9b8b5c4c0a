"""Thin kafka-python adapters: topic names, topic creation, producer and consumer settings.

One topic per stream (`g1000.<stream>`), message key = summit_id so that one summit's events keep
their order within a partition. Producers wait for all in-sync replicas (acks=all) and keep one
request in flight, so a retry can never reorder a summit's events.
"""

from __future__ import annotations

import logging
import socket

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from .errors import UnavailableError

log = logging.getLogger(__name__)

STREAMS = ("ledger", "lottery", "agenda", "ballot")


def topic_for(stream: str, prefix: str = "g1000") -> str:
    return f"{prefix}.{stream}"


def ensure_topics(bootstrap: str, topics: list[str], partitions: int = 3) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000,
                                 bootstrap_timeout_ms=10_000, client_id="g1000-admin")
    except KafkaError as e:
        raise UnavailableError(f"cannot reach the Kafka broker at {bootstrap}: {e}") from None
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                admin.create_topics([NewTopic(t, partitions, 1) for t in missing])
            except TopicAlreadyExistsError:
                pass
    except KafkaError as e:
        raise UnavailableError(f"cannot create topics on {bootstrap}: {e}") from None
    finally:
        admin.close()


def make_producer(bootstrap: str, client_id: str) -> KafkaProducer:
    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap, client_id=client_id, acks="all", retries=5,
            max_in_flight_requests_per_connection=1, linger_ms=5, request_timeout_ms=15_000,
            bootstrap_timeout_ms=10_000,
        )
    except KafkaError as e:
        raise UnavailableError(f"cannot reach the Kafka broker at {bootstrap}: {e}") from None


def make_consumer(bootstrap: str, group_id: str, topics: list[str], *,
                  max_poll_interval_ms: int = 5_000) -> KafkaConsumer:
    """A consumer that commits offsets only when told to (after the database commit)."""
    try:
        return KafkaConsumer(
            *topics, bootstrap_servers=bootstrap, group_id=group_id, client_id=group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=500,
            bootstrap_timeout_ms=10_000,
            # The bundled broker holds a group join for the rebalance timeout: keep it short.
            max_poll_interval_ms=max_poll_interval_ms, session_timeout_ms=max_poll_interval_ms,
            heartbeat_interval_ms=max(100, max_poll_interval_ms // 3),
        )
    except KafkaError as e:
        raise UnavailableError(f"cannot reach the Kafka broker at {bootstrap}: {e}") from None


def _accepts_connections(bootstrap: str, timeout: float = 2.0) -> bool:
    """Whether any bootstrap address accepts a TCP connection (closed at once)."""
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False


def broker_reachable(bootstrap: str) -> bool:
    """A broker answers the Kafka protocol (lists topics) at ``bootstrap``.

    A TCP check comes first: kafka-python's admin client leaves sockets open when it cannot
    connect at all, and readiness probes ask every few seconds during an outage."""
    if not _accepts_connections(bootstrap):
        return False
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2_000,
                                 bootstrap_timeout_ms=2_000, client_id="g1000-ready")
    except (KafkaError, ValueError):
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()
