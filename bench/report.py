"""BENCHMARKS.md: our sections rendered as Markdown, and written without touching anyone else's.

Each benchmark owns one section between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`.
A run replaces exactly its own sections (or appends them the first time); all other text in the
file stays byte for byte as it was.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .ceiling import FULL_1, RAW_1, RAW_2, CeilingResult
from .pipeline import (BUSY, CONSUME, RELAY, PipelineResult, append_label, consumer_batch_label, e2e_label,
                       ordered_labels, per_transaction, relay_batch_label)
from .profiling import ProfileResult
from .stats import Samples, fmt

HEADER = """# Benchmarks

Written by `make bench` (`python -m bench.run`). Performance is measured, not asserted: nothing
here is a test threshold. The sections between `<!-- bench:…:start/end -->` markers are rewritten
by each run; everything else in this file is left as it is.
"""


def replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    if not text.strip():
        text = HEADER
    return text.rstrip("\n") + "\n\n" + block + "\n"


def write_sections(path: Path, sections: dict[str, str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for name, body in sections.items():
        text = replace_section(text, name, body)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def machine_table(machine: dict[str, str]) -> str:
    rows = "\n".join(f"| {label} | {value} |" for label, value in machine.items())
    return "| machine | |\n|---|---|\n" + rows


def _rate_row(label: str, r: Samples, ceiling: float | None = None) -> str:
    ratio = f" | {r.median / ceiling:.3f}" if ceiling else ""
    return f"| {label} | **{fmt(r.median)}** | {fmt(r.low)} | {fmt(r.high)}{ratio} |"


def pipeline_section(res: PipelineResult, ceiling: CeilingResult, profiles: list[ProfileResult],
                     machine: dict[str, str]) -> str:
    p = res.params
    ceil = ceiling.rates[RAW_1].median
    rows = "\n".join(_rate_row(label, res.rates[label], ceil) for label in ordered_labels(p))
    e2e = res.rates[e2e_label(p.batch)].median
    parts = [
        "## Pipeline throughput: append → outbox → broker → consumer",
        f"Events per second through the agenda's EventStore, the agenda's OutboxRelay, the broker and "
        f"the ledger's EventConsumer (verify signature + schema, dedupe, record). **Median of "
        f"{p.repeat} repetitions**, each in fresh databases and topics; min and max show the spread "
        f"on this shared, noisy machine. Measured in the same run as the Ed25519 ceiling below.",
        machine_table(machine),
        _parameters(res),
        "| rate (events/s) | median | min | max | ÷ 1-core Ed25519 verify ceiling |\n"
        "|---|---|---|---|---|\n" + rows,
        f"**Ratio:** the end-to-end pipeline ({per_transaction(p.batch)}) runs at **{fmt(e2e)} "
        f"events/s = {e2e / ceil:.3f} × the 1-core Ed25519 verify ceiling** of {fmt(ceil)} "
        f"verifies/s measured in this run ({100 * e2e / ceil:.0f} %).",
        shape_table(res),
    ]
    parts += [profile_text(prof) for prof in profiles]
    parts.append("**Interpretation.** " + interpretation(res, ceiling, profiles))
    return "\n\n".join(parts)


def _parameters(res: PipelineResult) -> str:
    p = res.params
    return "\n".join([
        "Parameters:",
        f"- N = {p.events:,} events per run ({p.single_events:,} for the 1-event-per-transaction runs),"
        f" {p.batch} events per append transaction, {p.repeat} repetitions;",
        f"- workload: `agenda.topic.nominated`, one summit (one message key, so one partition of 3),"
        f" {res.event_bytes} bytes per event on the wire;",
        f"- the services' own settings: the relay sends up to {_relay_batch_size()} events per batch"
        " and waits for the broker's acknowledgement (acks=all); the consumer applies each polled"
        " batch in one database transaction (sizes seen: the batching table below);",
        "- end-to-end: relay and consumer run as `g1000 worker` processes (as `g1000 up` runs them),"
        " the appender in the harness; the clock runs from the first append until the ledger has"
        " recorded all N (after one warm-up event, so the consumer-group join is not counted);",
        "- stages: each component alone, in order on one sandbox (append fills the outbox the relay"
        " publishes, which fills the topic the consumer reads); the consume rate is timed from the"
        " start of the consumer's first batch to the end of its last.",
    ])


def _relay_batch_size() -> int:
    from inspect import signature

    from services.core.outbox import OutboxRelay

    return signature(OutboxRelay).parameters["batch_size"].default


def shape_table(res: PipelineResult) -> str:
    """How the work was batched: from the tables' transaction timestamps, and the consumer's clock."""
    def cell(label: str, value: float) -> str:
        return f"{100 * value:.0f} %" if label == BUSY else f"{value:,.1f}"

    rows = "\n".join(f"| {label} | **{cell(label, v.median)}** | {cell(label, v.low)} | {cell(label, v.high)} |"
                     for label, v in res.shape.items())
    return ("How the work was batched: relay publishes and consumer transactions are counted by the"
            " distinct transaction timestamps their rows carry; the busy share comes from timing every"
            " `process` call of the consume stage.\n\n"
            "| quantity | median | min | max |\n|---|---|---|---|\n" + rows)


def profile_text(prof: ProfileResult) -> str:
    rows = "\n".join(f"| {name} | {sec:.2f} | {100 * sec / prof.seconds:.0f} % |"
                     for name, sec in prof.categories)
    top = ", ".join(f"`{name}` {sec:.2f} s" for name, sec in prof.top_functions[:6])
    trips = ("" if prof.round_trips_per_event is None else
             f" PostgreSQL round trips per event: {prof.round_trips_per_event:.1f}.")
    intro = (
        f"**Profile of the {prof.stage}**: cProfile over {prof.events:,} events in one extra run"
        f" ({fmt(prof.rate_under_profile)} events/s under the profiler). Own time per category; C"
        f" functions are charged to their Python caller; the profiler inflates Python-heavy"
        f" categories.{trips}"
    )
    table = f"| category | seconds | share |\n|---|---|---|\n{rows}"
    return f"{intro}\n\n{table}\n\nLargest single functions (own time): {top}."


def interpretation(res: PipelineResult, ceiling: CeilingResult, profiles: list[ProfileResult]) -> str:
    p = res.params
    r = {label: res.rates[label].median for label in ordered_labels(p)}
    e2e = r[e2e_label(p.batch)]
    stages = {"append": r[append_label(p.batch)], "relay": r[RELAY], "consume": r[CONSUME]}
    slowest = min(stages, key=stages.get)
    share = e2e / stages[slowest]
    if share >= 0.9:
        why = (f"the stages overlap well and the {slowest} stage sets the pace (a difference of 10 %"
               f" either way is within the noise here, see min/max)")
    else:
        why = ("end-to-end, the appender, the relay, the consumer, PostgreSQL and the broker all run"
               " at once on 2 cores, so the pipeline falls below its slowest stage")
    text = [
        f"End-to-end runs at {fmt(e2e)} events/s, {100 * share:.0f} % of the slowest stage measured"
        f" alone ({slowest}, {fmt(stages[slowest])} events/s; append {fmt(stages['append'])}, relay"
        f" {fmt(stages['relay'])}, consume {fmt(stages['consume'])}): {why}.",
        _verify_sentence(stages["consume"], ceiling),
        *[_profile_sentence(prof) for prof in profiles],
    ]
    if p.batch != 1:
        text.append(_single_sentence(res))
    text.append(
        "Caveats: the bundled broker keeps messages in memory (no broker fsync), everything is on"
        " loopback, one summit uses one partition, the appender is a single thread (an API under load"
        " appends from concurrent requests, whose commits PostgreSQL can group), and other work on"
        " this shared machine adds noise (see min/max and the load average)."
    )
    return " ".join(text)


def _verify_sentence(consume: float, ceiling: CeilingResult) -> str:
    """How much of the consumer's time its checks take: its rate over the rate of the checks alone."""
    raw, full = ceiling.rates[RAW_1].median, ceiling.rates[FULL_1].median
    checks, signature = consume / full, consume / raw
    if checks >= 0.5:
        lead = "The consumer's own checks are most of its work"
    elif checks >= 0.25:
        lead = "Verification is a visible but not the dominant cost of the consumer"
    else:
        lead = "Signature verification is not the limit"
    return (f"{lead}: one core verifies {fmt(raw)} Ed25519 signatures/s and runs the consumer's full"
            f" `verify_event` {fmt(full)} times/s, while the consumer records {fmt(consume)} events/s,"
            f" so the checks take roughly {100 * checks:.0f} % of its time and the signature itself"
            f" roughly {100 * signature:.0f} % (rates measured separately; noise can blur this).")


def _single_sentence(res: PipelineResult) -> str:
    p = res.params
    med = {label: s.median for label, s in {**res.rates, **res.shape}.items()}
    return (f"With one event per transaction (what an API request does) the appender alone makes"
            f" {fmt(med[append_label(1)])} events/s (against {fmt(med[append_label(p.batch)])} in batches"
            f" of {p.batch}) and end-to-end {fmt(med[e2e_label(1)])} events/s; the relay, woken by each"
            f" commit, then publishes {med[relay_batch_label(1)]:.1f} events per batch and the consumer"
            f" records {med[consumer_batch_label(1)]:.1f} per transaction (against"
            f" {med[relay_batch_label(p.batch)]:.0f} and {med[consumer_batch_label(p.batch)]:.0f} with"
            f" batches of {p.batch}), and each batch pays its fixed costs (a database transaction,"
            f" a broker acknowledgement or an offset commit) for fewer events.")


def _profile_sentence(prof: ProfileResult) -> str:
    shares = {name: sec / prof.seconds for name, sec in prof.categories}
    (top_name, top_share), *rest = sorted(shares.items(), key=lambda kv: -kv[1])
    others = ", ".join(f"{_short_category(n)} {100 * s:.0f} %" for n, s in rest[:3])
    who = prof.stage.split(" (")[0]
    sentence = (f"Profiled, the {who} spends {100 * top_share:.0f} % of its time in"
                f" {_short_category(top_name)}, then {others}")
    if prof.round_trips_per_event is not None:
        sentence += f"; it makes {prof.round_trips_per_event:.1f} round trips to PostgreSQL per event"
    return sentence + "."


def _short_category(name: str) -> str:
    return name.split(" (")[0]


def ceiling_section(ceiling: CeilingResult, machine: dict[str, str]) -> str:
    rows = "\n".join(_rate_row(label, r) for label, r in ceiling.rates.items())
    return "\n\n".join([
        "## Ed25519 verify ceiling",
        f"The baseline for the pipeline: `cryptography`'s Ed25519 verify over the signed bytes of a"
        f" real `agenda.topic.nominated` event ({ceiling.message_bytes} bytes of canonical JSON),"
        f" key loaded once, measured in the same run. **Median of {ceiling.repeat} repetitions** of"
        f" {ceiling.seconds:g} s each; the 2-process rate is the sum of two processes verifying at the"
        f" same time (for reference on this 2-core machine); `verify_event` is the consumer's full"
        f" check (parse, canonical form, envelope, key lookup, payload schema, signature).",
        machine_table(machine),
        "| rate (per second) | median | min | max |\n|---|---|---|---|\n" + rows,
        _scaling_note(ceiling),
    ])


def _scaling_note(ceiling: CeilingResult) -> str:
    one, two = ceiling.rates[RAW_1].median, ceiling.rates[RAW_2].median
    note = f"Two processes verify {two / one:.2f} × as fast as one"
    if two < 1.5 * one:
        note += (": far from 2 ×, because the machine's other core was busy with other work during"
                 " this run (see the load average), so the 2-process figure is not this machine's"
                 " 2-core capacity")
    return note + "."
