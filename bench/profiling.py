"""Where the time goes: cProfile of a stage, its own time summed per category.

A category is claimed by substrings of "filename:function" (first match wins). A built-in (C
code) or a generic helper (contextlib, functools, ...) that no category claims is charged to the
categories of its callers, split by the own time each caller's calls caused, up the call graph,
so that an environment scan behind a proxy look-up lands with that look-up. psycopg's waits for
the server are counted per event (one per statement sent). cProfile adds overhead to every Python
call, so Python-heavy categories look bigger than they are: the shares are a map, not a rate.

The pipeline's profiled run: the appender around `EventStore.append`, the consumer only inside
`EventConsumer.process` (its whole per-batch transaction), so Kafka polls and the group join are
not counted.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from dataclasses import dataclass
from pathlib import Path

from .infra import Servers, append_in_batches, nominations, sandbox
from .stats import rate

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
    cpu_clock: bool = False  # timed with the thread's CPU clock (waiting left out)


def categorise(stats: pstats.Stats, categories=CATEGORIES, generic: tuple[str, ...] = ()) -> dict[str, float]:
    """Own time per category; unclaimed built-ins and `generic` helpers split theirs over their
    callers' categories (weighted by the own time each caller's calls caused), recursively."""
    memo: dict[tuple, dict[str, float]] = {}

    def category(key: tuple) -> str | None:
        filename, _, name = key
        label = f"{filename}:{name}".lower()
        found = next((cat for cat, needles in categories if any(n in label for n in needles)), None)
        if found is None and filename != "~" and not any(g in filename for g in generic):
            return OTHER
        return found

    def shares(key: tuple, depth: int = 0) -> dict[str, float]:
        if (own := category(key)) is not None:
            return {own: 1.0}
        if key in memo:
            return memo[key]
        memo[key] = {OTHER: 1.0}  # a cycle, or no caller, resolves to "other"
        callers = stats.stats.get(key, (0, 0, 0, 0, {}))[4]
        weights = {caller: edge[2] for caller, edge in callers.items() if edge[2] > 0} or \
            {caller: edge[1] for caller, edge in callers.items()}
        total = sum(weights.values())
        if depth > 12 or not total:
            return memo[key]
        out: dict[str, float] = {}
        for caller, weight in weights.items():
            for cat, share in shares(caller, depth + 1).items():
                out[cat] = out.get(cat, 0.0) + share * weight / total
        memo[key] = out
        return out

    totals: dict[str, float] = {}
    for key, (_, _, own, _, _) in stats.stats.items():
        for cat, share in shares(key).items():
            totals[cat] = totals.get(cat, 0.0) + own * share
    return totals


def summarise(stage: str, profiler: cProfile.Profile, events: int, rate_seen: float, categories=CATEGORIES,
              generic: tuple[str, ...] = (), cpu_clock: bool = False) -> ProfileResult:
    stats = pstats.Stats(profiler)
    totals = categorise(stats, categories, generic)
    waits = next((value[1] for (filename, _, name), value in stats.stats.items()
                  if filename.endswith("psycopg/connection.py") and name == "wait"), None)
    ranked = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:8]
    top = [(name if filename == "~" else f"{Path(filename).parent.name}/{Path(filename).name}:{line}({name})",
            value[2]) for (filename, line, name), value in ranked]
    return ProfileResult(stage, events, rate_seen, sum(totals.values()), sorted(totals.items(), key=lambda kv: -kv[1]),
                         top, None if waits is None else waits / events, cpu_clock)


def profile_stages(servers: Servers, root: Path, events: int, batch: int = 100) -> list[ProfileResult]:
    """One extra run: the append stage and the consume stage, each under its own profiler."""
    from .pipeline import measure_consume, measure_relay

    appender, consumer = cProfile.Profile(), cProfile.Profile()
    with sandbox(servers, root) as box:
        summit = box.open_summit()
        new = nominations(summit, events)
        began = time.perf_counter()
        appender.runcall(append_in_batches, box.runtime("agenda").store, summit, new, batch)
        append_rate = rate(events, time.perf_counter() - began)
        measure_relay(box, events)
        consume_rate, _ = measure_consume(box, summit, events, wrap=consumer.runcall)
    return [summarise(f"appender (`EventStore.append`, {batch} events/transaction)", appender, events, append_rate),
            summarise("consumer (`EventConsumer.process`, pre-filled topic)", consumer, events, consume_rate)]
