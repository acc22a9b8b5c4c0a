"""Thin kafka-python adapters: topic names, topic creation, producer and consumer settings.

One topic per stream (`g1000.<stream>`), message key = summit_id so that one summit's events keep
their order within a partition. Producers wait for all in-sync replicas (acks=all) and keep one
request in flight, so a retry can never reorder a summit's events.

Broker authentication (issue 10 L6): every client of a process is made with the same
`KafkaSecurity` (services/core/config.py reads it from G1000_KAFKA_*): PLAINTEXT (the local
stack's bundled broker, which has no usable authentication — README), SASL/SCRAM over TLS
(SASL_SSL; on Kubernetes each service is a Strimzi KafkaUser whose ACLs name its own topics,
deploy/k8s/base/kafka.yaml), or mutual TLS (SSL with a client certificate). An authenticated
broker is what keeps a local user or a compromised pod from publishing forged events: without it
they are only quarantined by the consumers, and fill the public quarantine list.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from .errors import UnavailableError
from .registry import DEFAULT_TOPIC_PREFIX, STREAMS
from .registry import topic_for as _topic_for

log = logging.getLogger(__name__)

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


@dataclass(frozen=True)
class KafkaSecurity:
    """How a process authenticates to the broker (kafka-python's security settings)."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None      # the cluster CA (TLS protocols); None: the system's CAs
    cert_file: Path | None = None    # mutual TLS: this client's certificate and key
    key_file: Path | None = None

    def client_options(self) -> dict:
        """Keyword arguments for KafkaProducer / KafkaConsumer / KafkaAdminClient. The password
        is read here, when a client is made, so a rotated Secret is picked up by the next client."""
        options: dict = {"security_protocol": self.protocol}
        if self.protocol.startswith("SASL_"):
            options.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.username,
                           sasl_plain_password=Path(self.password_file).read_text().strip())
        if self.protocol in ("SASL_SSL", "SSL"):
            options.update(ssl_check_hostname=True)
            if self.ca_file is not None:
                options["ssl_cafile"] = str(self.ca_file)
            if self.cert_file is not None:
                options.update(ssl_certfile=str(self.cert_file), ssl_keyfile=str(self.key_file))
        return options


PLAINTEXT = KafkaSecurity()


def topic_for(stream: str, prefix: str = DEFAULT_TOPIC_PREFIX) -> str:
    """The stream's topic (the convention is the registry's, services/core/registry.py)."""
    return _topic_for(stream, prefix)


def ensure_topics(bootstrap: str, topics: list[str], partitions: int = 3,
                  security: KafkaSecurity = PLAINTEXT) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000,
                                 bootstrap_timeout_ms=10_000, client_id="g1000-admin",
                                 **security.client_options())
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


def make_producer(bootstrap: str, client_id: str, security: KafkaSecurity = PLAINTEXT) -> KafkaProducer:
    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap, client_id=client_id, acks="all", retries=5,
            max_in_flight_requests_per_connection=1, linger_ms=5, request_timeout_ms=15_000,
            bootstrap_timeout_ms=10_000, **security.client_options(),
        )
    except KafkaError as e:
        raise UnavailableError(f"cannot reach the Kafka broker at {bootstrap}: {e}") from None


def make_consumer(bootstrap: str, group_id: str, topics: list[str], *,
                  max_poll_interval_ms: int = 5_000, security: KafkaSecurity = PLAINTEXT) -> KafkaConsumer:
    """A consumer that commits offsets only when told to (after the database commit)."""
    try:
        return KafkaConsumer(
            *topics, bootstrap_servers=bootstrap, group_id=group_id, client_id=group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=500,
            bootstrap_timeout_ms=10_000,
            # The bundled broker holds a group join for the rebalance timeout: keep it short.
            max_poll_interval_ms=max_poll_interval_ms, session_timeout_ms=max_poll_interval_ms,
            heartbeat_interval_ms=max(100, max_poll_interval_ms // 3),
            **security.client_options(),
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


def broker_reachable(bootstrap: str, security: KafkaSecurity = PLAINTEXT) -> bool:
    """A broker answers the Kafka protocol (lists topics) at ``bootstrap``.

    A TCP check comes first: kafka-python's admin client leaves sockets open when it cannot
    connect at all, and readiness probes ask every few seconds during an outage."""
    if not _accepts_connections(bootstrap):
        return False
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2_000,
                                 bootstrap_timeout_ms=2_000, client_id="g1000-ready",
                                 **security.client_options())
    except (KafkaError, ValueError, OSError):
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()
