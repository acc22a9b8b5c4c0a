"""End-to-end throughput of append -> outbox -> broker -> consumer, and the rate of each stage.

The agenda service's EventStore appends `agenda.topic.nominated` events (signing each, assigning
its gap-free seq, writing it to the outbox in the same transaction); the agenda's OutboxRelay
publishes them with acks=all and marks them published; the ledger's EventConsumer verifies each
event (canonical bytes, envelope, key, payload schema, Ed25519 signature), dedupes it and records
it with the ledger's handler (appending it to the summit's transparency log). The summit is
chartered first through the ledger's REST API, as an organiser does, so the ledger knows the
agenda's key. End-to-end time runs from the first append until all N events are in the log.

Stage rates time one component at a time with nothing else running, in order on one sandbox:
append only; relay publish (of the outbox the appends filled); consume + verify + record (of the
topic the relay filled; timed from the start of the consumer's first batch to the end of its
last, so the consumer-group join is not counted). End-to-end runs start their workers and send one
warm-up event first, for the same reason.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from services.core.outbox import OutboxRelay

from .harness import consumer_thread, ledger_watch, worker
from .infra import BenchError, Sandbox, Servers, sandbox
from .stats import Samples, rate
from .workload import append_in_batches, nominations

RELAY = "relay publish (outbox -> broker, acks=all)"
CONSUME = "consume + verify + record (pre-filled topic)"
BUSY = "share of the consume stage's time inside `process` (database transaction and checks)"


def e2e_label(batch: int) -> str:
    return f"end-to-end, {per_transaction(batch)}"


def append_label(batch: int) -> str:
    return f"append only, {per_transaction(batch)}"


def relay_batch_label(batch: int) -> str:
    return f"events per relay publish, end-to-end with {per_transaction(batch)}"


def consumer_batch_label(batch: int) -> str:
    return f"events per consumer transaction, end-to-end with {per_transaction(batch)}"


def per_transaction(batch: int) -> str:
    return "1 event per transaction" if batch == 1 else f"{batch} events per transaction"


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
    shape: dict[str, Samples] = field(default_factory=dict)  # batch sizes and shares, see one_repetition
    event_bytes: int = 0


def measure_append(box: Sandbox, summit: str, count: int, batch: int) -> float:
    agenda = box.runtime("agenda")
    events = nominations(summit, count)
    began = time.perf_counter()
    append_in_batches(agenda.store, summit, events, batch)
    return rate(count, time.perf_counter() - began)


def measure_relay(box: Sandbox, expected: int) -> float:
    agenda = box.runtime("agenda")
    relay = OutboxRelay(agenda.db, "agenda", agenda.config.kafka_bootstrap,
                        topic_prefix=agenda.config.topic_prefix)
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


def measure_consume(box: Sandbox, summit: str, count: int, wrap: Callable | None = None
                    ) -> tuple[float, float]:
    """Consume a pre-filled topic; returns (events/s, share of the time inside `process`)."""
    ledger = box.runtime("ledger")
    with ledger_watch(ledger) as watch:
        with consumer_thread(ledger, wrap=wrap) as run:
            watch.wait_for(summit, count, alive=run.ensure_alive)
            run.wait_until_applied(count)  # the commit is visible just before `process` returns
        watch.check_nothing_quarantined()
    clock = run.clock
    return rate(count, clock.window()), clock.busy() / clock.window()


def measure_end_to_end(box: Sandbox, count: int, batch: int) -> tuple[float, float, float]:
    """Events/s from the first append until the ledger logged all; and the mean batch sizes.

    One warm-up event goes through the whole path first (seq 1), so the consumer has joined its
    group and every connection is up before the clock starts.
    """
    agenda, ledger = box.runtime("agenda"), box.runtime("ledger")
    summit = box.open_summit()
    events = nominations(summit, count)
    with ledger_watch(ledger) as watch, worker(box, "relay", "agenda") as relay, \
            worker(box, "consume", "ledger") as consumer:
        def alive() -> None:
            relay.ensure_alive()
            consumer.ensure_alive()

        agenda.store.append(summit, nominations(summit, 1))
        watch.wait_for(summit, 1, alive=alive)
        began = time.perf_counter()
        append_in_batches(agenda.store, summit, events, batch)
        done = watch.wait_for(summit, 1 + count, alive=alive)
        watch.check_nothing_quarantined()
    return (rate(count, done - began), *mean_batches(box, summit))


def mean_batches(box: Sandbox, summit: str) -> tuple[float, float]:
    """Mean events per relay publish and per consumer transaction, after the warm-up event.

    `published_at` and `appended_at` are `now()`, the start time of the transaction that wrote
    them, so the number of distinct values is the number of relay / consumer batches.
    """
    per_batch = ("SELECT count(*)::float8 / count(DISTINCT {column}) FROM {table}"
                 " WHERE summit_id = %s AND stream = 'agenda' AND seq > 1")
    with box.runtime("agenda").db.transaction() as conn:
        relay = conn.execute(per_batch.format(column="published_at", table="events"), (summit,)).fetchone()[0]
    with box.runtime("ledger").db.transaction() as conn:
        consumer = conn.execute(per_batch.format(column="appended_at", table="log_entries"),
                                (summit,)).fetchone()[0]
    return relay, consumer


def event_size(box: Sandbox) -> int:
    summit = str(uuid.uuid4())
    (event,) = box.runtime("agenda").store.append(summit, nominations(summit, 1))
    return len(event.body)


def one_repetition(servers: Servers, root: Path, p: PipelineParams
                   ) -> tuple[dict[str, float], dict[str, float]]:
    """Every measurement once; returns label -> events/s, and label -> how the work was batched.

    The stages run alone, in order, on one sandbox: the appended events fill the outbox the relay
    then publishes, which fills the topic the consumer then reads. Each end-to-end run gets a
    sandbox of its own.
    """
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
        print(f"bench: pipeline repetition {i + 1}/{p.repeat} took {time.monotonic() - began:.0f} s",
              file=sys.stderr)
    result = PipelineResult(p, _rates(rates), _rates(shape))
    with sandbox(servers, root) as box:
        result.event_bytes = event_size(box)
    return result


def _rates(samples: dict[str, list[float]]) -> dict[str, Samples]:
    return {label: Samples(tuple(values)) for label, values in samples.items()}


def ordered_labels(p: PipelineParams) -> list[str]:
    """Report order: end-to-end first, then the stages along the path."""
    labels = [e2e_label(p.batch), e2e_label(1), append_label(p.batch), append_label(1), RELAY, CONSUME]
    return list(dict.fromkeys(labels))  # --batch 1 would name two rows alike
