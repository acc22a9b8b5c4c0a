"""Where the time goes: cProfile of the appender and of the consumer, the two ends of the pipeline.

The appender is profiled around `EventStore.append` (batches of 100); the consumer only inside
`EventConsumer.process` (its whole per-batch work: one database transaction that verifies, dedupes
and records each event), so the Kafka poll and the group join are not counted. We sum the
profiler's own time per category (Ed25519, canonical JSON, payload schema, PostgreSQL round trips
including waiting for the server, ...) and count psycopg's waits for the server per event. A
built-in function (C code) is charged to the Python function that called it. cProfile adds
overhead to every Python call, so Python-heavy categories look bigger than they are: the shares
are a map of the time, not a measurement of the rate.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .infra import Servers, sandbox
from .pipeline import measure_consume, measure_relay
from .stats import rate
from .workload import append_in_batches, nominations

# (category, substrings of "filename:function" that put a function in it), first match wins
CATEGORIES = (
    ("Ed25519 sign / verify / key load (cryptography)", ("ed25519",)),
    ("PostgreSQL round trips (psycopg, incl. waiting for the server)", ("psycopg",)),
    ("RFC 8785 canonical JSON (rfc8785, canonical.py)", ("rfc8785", "core/canonical.py")),
    ("JSON parsing (json)", ("/json/",)),
    ("payload schema (marshmallow)", ("marshmallow",)),
    ("envelope building and checks (envelope.py, uuid, re, datetime)",
     ("core/envelope.py", "/uuid.py", "/re/", "signing.py", "datetime")),
    ("ledger handler: log append, Merkle tree (services/ledger, g1000_proofs)",
     ("services/ledger/", "g1000_proofs/")),
    ("event store and consumer loop (store.py, consumer.py)",
     ("core/store.py", "core/consumer.py", "contextlib.py", "bench/")),
)
OTHER = "other"


@dataclass(frozen=True)
class ProfileResult:
    stage: str
    events: int
    rate_under_profile: float
    seconds: float  # profiled seconds
    categories: list[tuple[str, float]]  # (category, seconds), largest first
    top_functions: list[tuple[str, float]]
    round_trips_per_event: float | None  # psycopg waits for the server, per event


def category_of(key: tuple, categories=CATEGORIES) -> str | None:
    """The category of a function, or None for a built-in no category claims."""
    filename, _, name = key
    label = f"{filename}:{name}".lower()
    for category, needles in categories:
        if any(n in label for n in needles):
            return category
    return None if filename == "~" else OTHER


def categorise(stats: pstats.Stats, categories=CATEGORIES) -> dict[str, float]:
    """Own time per category; unclaimed built-ins are charged to their callers' categories."""
    totals: dict[str, float] = {}
    for key, (_, _, own, _, callers) in stats.stats.items():
        category = category_of(key, categories)
        if category is not None:
            totals[category] = totals.get(category, 0.0) + own
            continue
        for caller, edge in callers.items():
            charged = category_of(caller, categories) or OTHER
            totals[charged] = totals.get(charged, 0.0) + edge[2]
    return totals


def top_functions(stats: pstats.Stats, count: int = 8) -> list[tuple[str, float]]:
    ranked = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:count]
    return [(_short(key), value[2]) for key, value in ranked]


def _short(key: tuple) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    return f"{Path(filename).parent.name}/{Path(filename).name}:{line}({name})"


def round_trips(stats: pstats.Stats) -> int | None:
    """How often psycopg waited for the server: once per statement or command sent."""
    for (filename, _, name), value in stats.stats.items():
        if filename.endswith("psycopg/connection.py") and name == "wait":
            return value[1]
    return None


def summarise(stage: str, profiler: cProfile.Profile, events: int, rate_seen: float,
              categories=CATEGORIES, categorise_by: Callable | None = None) -> ProfileResult:
    """`categories`: (name, substrings) pairs as CATEGORIES; another stage may bring its own, or its
    own `categorise_by(stats) -> {category: seconds}` (the gateway charges helpers up the call graph)."""
    stats = pstats.Stats(profiler)
    totals = categorise_by(stats) if categorise_by else categorise(stats, categories)
    ordered = sorted(totals.items(), key=lambda kv: -kv[1])
    waits = round_trips(stats)
    return ProfileResult(stage, events, rate_seen, sum(totals.values()), ordered, top_functions(stats),
                         None if waits is None else waits / events)


def profile_stages(servers: Servers, root: Path, events: int, batch: int = 100) -> list[ProfileResult]:
    """One extra run: the append stage and the consume stage, each under its own profiler."""
    appender, consumer = cProfile.Profile(), cProfile.Profile()
    with sandbox(servers, root) as box:
        summit = box.open_summit()
        store = box.runtime("agenda").store
        new = nominations(summit, events)
        began = time.perf_counter()
        appender.runcall(append_in_batches, store, summit, new, batch)
        append_rate = rate(events, time.perf_counter() - began)
        measure_relay(box, events)
        consume_rate, _ = measure_consume(box, summit, events, wrap=consumer.runcall)
    return [summarise(f"appender (`EventStore.append`, {batch} events/transaction)", appender, events,
                      append_rate),
            summarise("consumer (`EventConsumer.process`, pre-filled topic)", consumer, events,
                      consume_rate)]
