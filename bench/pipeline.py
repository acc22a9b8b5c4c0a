"""End-to-end throughput of append -> outbox -> broker -> consumer, and the rate of each stage.

The agenda's EventStore appends `agenda.topic.nominated` events (signing each, assigning its
gap-free seq, writing it to the outbox in the same transaction); the agenda's OutboxRelay publishes
them with acks=all; the ledger's EventConsumer verifies each event (canonical bytes, envelope, key,
payload schema, Ed25519 signature), dedupes it and appends it to the summit's transparency log.
The summit is chartered first through the ledger's REST API, so the ledger knows the agenda's key.
End to end, relay and consumer run as `g1000 worker` processes; the clock runs from the first append
until all N events are in the log, after one warm-up event (so the consumer-group join is not
counted). Stage rates time one component alone, in order on one sandbox: append; relay publish (of
the outbox the appends filled); consume + verify + record (of the topic the relay filled, from the
start of the consumer's first batch to the end of its last).
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from services.core.outbox import OutboxRelay

from .infra import (BenchError, ConsumerThread, LogWatch, Sandbox, Servers, append_in_batches, log_workers,
                    nominations, sandbox)
from .stats import Samples, rate

RELAY = "relay publish (outbox -> broker, acks=all)"
CONSUME = "consume + verify + record (pre-filled topic)"
BUSY = "share of the consume stage's time inside `process` (database transaction and checks)"


def per_transaction(batch: int) -> str:
    return "1 event per transaction" if batch == 1 else f"{batch} events per transaction"


def e2e_label(batch: int) -> str:
    return f"end-to-end, {per_transaction(batch)}"


def append_label(batch: int) -> str:
    return f"append only, {per_transaction(batch)}"


def relay_batch_label(batch: int) -> str:
    return f"events per relay publish, end-to-end with {per_transaction(batch)}"


def consumer_batch_label(batch: int) -> str:
    return f"events per consumer transaction, end-to-end with {per_transaction(batch)}"


@dataclass(frozen=True)
class PipelineParams:
    events: int = 20_000
    single_events: int = 2_000  # events for the 1-event-per-transaction runs
    batch: int = 100
    repeat: int = 3


@dataclass
class PipelineResult:
    params: PipelineParams
    rates: dict[str, Samples] = field(default_factory=dict)  # events/s
    shape: dict[str, Samples] = field(default_factory=dict)  # batch sizes and the busy share
    event_bytes: int = 0


def measure_append(box: Sandbox, summit: str, count: int, batch: int) -> float:
    events = nominations(summit, count)
    began = time.perf_counter()
    append_in_batches(box.runtime("agenda").store, summit, events, batch)
    return rate(count, time.perf_counter() - began)


def measure_relay(box: Sandbox, expected: int) -> float:
    agenda = box.runtime("agenda")
    relay = OutboxRelay(agenda.db, "agenda", agenda.config.kafka_bootstrap, topic_prefix=agenda.config.topic_prefix)
    try:
        sent, began = 0, time.perf_counter()
        while (batch := relay.publish_batch()) > 0:
            sent += batch
        elapsed = time.perf_counter() - began
    finally:
        relay.close()
    if sent != expected:
        raise BenchError(f"the relay published {sent} events, expected {expected}")
    return rate(sent, elapsed)


def measure_consume(box: Sandbox, summit: str, count: int, wrap: Callable | None = None) -> tuple[float, float]:
    """Consume a pre-filled topic; returns (events/s, share of the time inside `process`)."""
    with LogWatch(box, summit) as watch:
        target = watch.size() + count
        with ConsumerThread(box.runtime("ledger"), wrap=wrap) as run:
            watch.wait_for_size(target, run.ensure_alive)
            run.wait_until_applied(count)
        watch.check_nothing_quarantined()
    return rate(count, run.window()), run.busy() / run.window()


def measure_end_to_end(box: Sandbox, count: int, batch: int) -> tuple[float, float, float]:
    """Events/s from the first append until the ledger logged all, and the mean batch sizes."""
    agenda = box.runtime("agenda")
    summit = box.open_summit()
    events = nominations(summit, count)
    with LogWatch(box, summit) as watch:
        genesis = watch.size()
        with log_workers(box, like_up=False) as alive:
            agenda.store.append(summit, nominations(summit, 1))  # the warm-up event, seq 1
            watch.wait_for_size(genesis + 1, alive)
            began = time.perf_counter()
            append_in_batches(agenda.store, summit, events, batch)
            done = watch.wait_for_size(genesis + 1 + count, alive)
        watch.check_nothing_quarantined()
    return (rate(count, done - began), *mean_batches(box, summit))


def mean_batches(box: Sandbox, summit: str) -> tuple[float, float]:
    """Mean events per relay publish and per consumer transaction, after the warm-up event:
    `published_at` and `appended_at` are `now()`, the start of the transaction that wrote them, so
    the number of distinct values is the number of relay / consumer batches."""
    query = ("SELECT count(*)::float8 / count(DISTINCT {}) FROM {} WHERE summit_id = %s AND stream = 'agenda'"
             " AND seq > 1")
    means = []
    for service, column, table in (("agenda", "published_at", "events"), ("ledger", "appended_at", "log_entries")):
        with box.runtime(service).db.transaction() as conn:
            means.append(conn.execute(query.format(column, table), (summit,)).fetchone()[0])
    return means[0], means[1]


def one_repetition(servers: Servers, root: Path, p: PipelineParams) -> tuple[dict[str, float], dict[str, float]]:
    """Every measurement once: label -> events/s, and label -> how the work was batched. The
    stages share one sandbox; each end-to-end run gets a sandbox of its own."""
    rates: dict[str, float] = {}
    shape: dict[str, float] = {}
    with sandbox(servers, root) as box:
        summit = box.open_summit()
        rates[append_label(p.batch)] = measure_append(box, summit, p.events, p.batch)
        rates[RELAY] = measure_relay(box, p.events)
        rates[CONSUME], shape[BUSY] = measure_consume(box, summit, p.events)
    with sandbox(servers, root) as box:
        rates[append_label(1)] = measure_append(box, str(uuid.uuid4()), p.single_events, 1)
    for batch, count in dict.fromkeys([(p.batch, p.events), (1, p.single_events)]):
        with sandbox(servers, root) as box:
            rates[e2e_label(batch)], relay, consumer = measure_end_to_end(box, count, batch)
            shape[relay_batch_label(batch)], shape[consumer_batch_label(batch)] = relay, consumer
    return rates, shape


def run_pipeline(servers: Servers, root: Path, p: PipelineParams) -> PipelineResult:
    rates: dict[str, list[float]] = {}
    shape: dict[str, list[float]] = {}
    for i in range(p.repeat):
        began = time.monotonic()
        for into, observed in zip((rates, shape), one_repetition(servers, root, p)):
            for label, value in observed.items():
                into.setdefault(label, []).append(value)
        print(f"bench: pipeline repetition {i + 1}/{p.repeat} took {time.monotonic() - began:.0f} s", file=sys.stderr)
    result = PipelineResult(p, {k: Samples(tuple(v)) for k, v in rates.items()},
                            {k: Samples(tuple(v)) for k, v in shape.items()})
    with sandbox(servers, root) as box:
        summit = str(uuid.uuid4())
        (event,) = box.runtime("agenda").store.append(summit, nominations(summit, 1))
        result.event_bytes = len(event.body)
    return result


def ordered_labels(p: PipelineParams) -> list[str]:
    """Report order: end-to-end first, then the stages along the path (--batch 1 names two alike)."""
    return list(dict.fromkeys([e2e_label(p.batch), e2e_label(1), append_label(p.batch), append_label(1),
                               RELAY, CONSUME]))
