"""The transparency-log benchmark: one summit's log of N entries (default 1,000,000), built end
to end, asked for proofs (RFC 9162 §2.1 inclusion and consistency) over HTTP and exported for the
auditor's verifier: is a whole day's log cheap to append to, to prove against and to audit?

1. Ingest: the agenda's EventStore appends N events while the relay and the ledger's consumer run
   as `g1000 worker` processes with `g1000 up`'s settings; timed from the first append after a
   warm-up event until the log holds all, its size sampled every second. On fresh sandboxes each
   stage alone (append, relay, the consumer over a pre-filled topic) with its CPU and WAL, and a
   cProfile of the consumer.
2. Proofs: the ledger under gunicorn as `g1000 up` starts it, one keep-alive client asking for
   random proofs; the same proofs in process (the public `node_reader` and the proof math) show the
   HTTP share. Every HTTP proof must equal the in-process one; a sample is verified with
   g1000_proofs.merkle against the signed checkpoint.
3. Verifier: the export of `/v1/logs/{id}/export` checked by `g1000-verify bundle` (default workers,
   then `--workers 1`) against the 2-process Ed25519 ceiling measured just before and after, and a
   cProfile of it on a slice of the bundle.

Everything started here is stopped by pid; the bundle files go as soon as they are not needed.
"""

from __future__ import annotations

import base64
import contextlib
import cProfile
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Callable, Iterator
from unittest import mock

import requests

from g1000.procs import stop_process
from g1000.services import SERVICE_MODULES
from g1000.stack import Stack
from g1000_proofs.checkpoint import open_checkpoint
from g1000_proofs.merkle import consistency_proof, inclusion_proof, root_hash, verify_consistency, verify_inclusion
from g1000_proofs.tree_shape import consistency_proof_nodes, inclusion_proof_nodes
from services.ledger.log import node_at, node_reader

from .ceiling import CeilingResult, run_ceiling, sample_event
from .cpu import CpuUse, process_cpu, snapshot, wait_until_quiet
from .infra import (BenchError, ConsumerThread, LogWatch, Sandbox, Servers, log_workers, nominations, part_timer,
                    sandbox, say, start_web, wait_ready)
from .pipeline import mean_batches, measure_relay
from .profiling import ProfileResult, summarise
from .stats import Latencies, Samples, rate

APPEND_CHUNK = 10_000  # events generated at a time (signed by the store when appended)
SAMPLE_SECONDS = 1.0  # how often the log's size is sampled during the ingest run
WARMUP_REQUESTS = 100  # untimed requests of each kind before the timed ones
BYTES_PER_ENTRY = 10_000  # generous disk estimate per log entry (both databases, WAL, bundle)
# the settings an in-process consumer's background loops read from the environment, as `g1000 up` sets them
STACK_SETTINGS = ("G1000_MAX_POLL_INTERVAL_MS", "G1000_CHECKPOINT_SECONDS", "PYTHONUNBUFFERED")
VERIFIER_CATEGORIES = (
    ("Ed25519 verify (cryptography)", ("ed25519",)),
    ("RFC 8785 canonical JSON (g1000_proofs/jcs.py)", ("g1000_proofs/jcs.py",)),
    ("JSON parsing of bundle lines (json)", ("/json/",)),
    ("leaf hash, chain, Merkle, base64 (hashlib, merkle.py, binascii)",
     ("g1000_proofs/merkle.py", "_hashlib", "sha256", "binascii")),
    ("entry checks: envelope, keys, seq (checks.py, re)", ("g1000_verify/checks.py", "re.pattern", "/re/")),
    ("reading the bundle (sources.py)", ("g1000_verify/sources.py",)),
)


@dataclass(frozen=True)
class LedgerParams:
    entries: int = 1_000_000  # agenda events in the log (the log has genesis entries on top)
    batch: int = 500  # events per append transaction
    capacity_events: int = 200_000  # the stages-alone runs over a pre-filled topic
    profile_events: int = 20_000  # the profiled consumer run (0: none)
    inclusion_proofs: int = 2_000
    consistency_proofs: int = 2_000
    verify_sample: int = 200  # proofs of each kind checked with g1000_proofs.merkle
    verifier_profile_entries: int = 20_000  # slice of the bundle the verifier is profiled on
    ceiling_seconds: float = 2.0
    ceiling_repeat: int = 3  # before the verifier runs, and as many again after them
    verifier_default_runs: int = 2  # runs with the default workers (then 1 with --workers 1)
    seed: int = 9162


@dataclass(frozen=True)
class GrowthPoint:
    seconds: float  # since the clock started
    log_events: int  # agenda events in the log (log size minus genesis)
    appended: int  # agenda events appended by then
    wal_bytes: int  # PostgreSQL's WAL written so far (pg_stat_wal, the whole server)


@dataclass
class IngestResult:
    events: int
    genesis: int
    timed_events: int  # events after the warm-up one
    seconds: float
    append_seconds: float  # until the appender had committed its last transaction
    rate: float
    growth: list[GrowthPoint]
    relay_batch: float  # mean events per relay publish
    consumer_batch: float  # mean events per consumer transaction
    checkpoints: int
    sizes: dict[str, int]  # database and relation sizes, bytes
    load: list[float]  # 1-minute load average, sampled
    cpu: CpuUse  # over the timed window


@dataclass
class CapacityResult:
    """The stages alone on a fresh log: append, relay, then the ledger consumer over the topic."""

    events: int
    rate: float  # the ledger consumer alone
    busy: float  # share of the consumer's window inside `process`
    tenths: list[float]  # consumer rate over each tenth of the events
    append_rate: float
    relay_rate: float
    cpu: dict[str, tuple[CpuUse, int]]  # stage -> CPU while it ran alone, and the events it handled
    wal_per_event: dict[str, float]  # stage -> WAL bytes per event
    profile: ProfileResult | None = None

    def cpu_per_event(self, stage: str) -> float:
        use, events = self.cpu[stage]
        return use.ours / events


@dataclass
class ProofResult:
    tree_size: int
    http: dict[str, Latencies]
    in_process: dict[str, Latencies]
    baseline: Latencies  # GET /healthz over the same session
    hashes_per_proof: dict[str, float]
    equal_to_in_process: int
    verified: dict[str, int]


@dataclass
class VerifierRun:
    label: str
    workers: int | None
    seconds: float
    exit_code: int
    report: dict
    cpu_seconds: float  # the verifier and its worker processes
    main_cpu_seconds: float | None  # the verifier's main process alone (None: not seen)
    stderr: str
    other_cores: float = 0.0  # other tenants' CPU use meanwhile

    @property
    def entries(self) -> int:
        return int(self.report.get("checked", {}).get("entries", 0))

    @property
    def rate(self) -> float:
        return rate(self.entries, self.seconds) if self.entries else 0.0


@dataclass
class VerifierResult:
    export_seconds: float
    bundle_bytes: int
    bundle_entries: int
    ceiling: CeilingResult  # samples taken before and after the verifier runs, pooled
    runs: list[VerifierRun]  # the default-workers runs first, then --workers 1
    quiet_wait: float  # seconds waited for our processes to go idle before measuring
    ceiling_other_cores: list[float]  # other tenants' CPU use during the ceiling measurements
    profile: ProfileResult | None = None

    def default_runs(self) -> list[VerifierRun]:
        return [r for r in self.runs if r.workers is None]


@dataclass
class LedgerResult:
    params: LedgerParams
    event_bytes: int = 0
    ingest: IngestResult | None = None
    capacity: CapacityResult | None = None
    proofs: ProofResult | None = None
    verifier: VerifierResult | None = None
    durations: dict[str, float] = field(default_factory=dict)
    loads: dict[str, tuple[float, float]] = field(default_factory=dict)  # 1-min load at start, end


# ---- 1. ingest ------------------------------------------------------------------------------------


def append_all(box: Sandbox, summit_id: str, count: int, batch: int,
               progress: Callable[[int], None] = lambda _: None, every: Callable[[], None] = lambda: None) -> None:
    """Append `count` nominations in transactions of `batch`, generated APPEND_CHUNK at a time;
    `progress(done)` after each transaction, `every()` after each chunk."""
    store, done = box.runtime("agenda").store, 0
    while done < count:
        events = nominations(summit_id, min(APPEND_CHUNK, count - done))
        for start in range(0, len(events), batch):
            chunk = events[start:start + batch]
            store.append(summit_id, chunk)
            done += len(chunk)
            progress(done)
        every()


class Sampler:
    """Samples the log's size, the WAL, the appender's progress and the load every SAMPLE_SECONDS."""

    def __init__(self, box: Sandbox, summit_id: str, genesis: int, began: float):
        self.watch, self.genesis, self.began = LogWatch(box, summit_id), genesis, began
        self.appended = 1  # written by the appender (the warm-up event is in)
        self.points: list[GrowthPoint] = []
        self.load: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(SAMPLE_SECONDS):
            size, wal = self.watch.size(), self.watch.wal_bytes()
            self.points.append(GrowthPoint(time.perf_counter() - self.began, size - self.genesis, self.appended, wal))
            self.load.append(os.getloadavg()[0])

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.watch.conn.close()


def milestones(points: list[GrowthPoint], final: GrowthPoint, total: int, parts: int = 10) -> list[GrowthPoint]:
    """The first sample at or past each 1/parts of `total` events, ending with the exact final point."""
    chosen: list[GrowthPoint] = []
    for k in range(1, parts):
        hit = next((pt for pt in points if pt.log_events >= total * k // parts), None)
        if hit is not None and (not chosen or hit.log_events > chosen[-1].log_events):
            chosen.append(hit)
    return chosen + [final]


def relation_sizes(box: Sandbox) -> dict[str, int]:
    size, tables = "SELECT pg_total_relation_size(%s::regclass)", ("log_entries", "log_nodes", "processed_events")
    with box.runtime("ledger").db.transaction() as conn:
        sizes = {f"ledger {t} (with indexes)": conn.execute(size, (t,)).fetchone()[0] for t in tables}
        sizes["ledger database"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    with box.runtime("agenda").db.transaction() as conn:
        sizes["agenda database (event store + outbox)"] = conn.execute(
            "SELECT pg_database_size(current_database())").fetchone()[0]
    return sizes


def measure_ingest(box: Sandbox, summit_id: str, p: LedgerParams) -> IngestResult:
    """Build the log end to end; the sandbox (and the log) stay for the proofs and the export."""
    with LogWatch(box, summit_id) as watch:
        genesis = watch.size()
        with log_workers(box) as alive:
            box.runtime("agenda").store.append(summit_id, nominations(summit_id, 1))  # warm-up: event 1 of N
            watch.wait_for_size(genesis + 1, alive)
            began, cpu_began, wal_began = time.perf_counter(), snapshot(), watch.wal_bytes()
            with Sampler(box, summit_id, genesis, began) as sampler:
                tenth = max(1, (p.entries - 1) // 10)

                def progress(done: int) -> None:
                    sampler.appended = 1 + done
                    if done % tenth < p.batch:
                        logged = sampler.points[-1].log_events if sampler.points else 0
                        say("ledger", f"appended {1 + done:,}/{p.entries:,}, log at {logged:,}")

                append_all(box, summit_id, p.entries - 1, p.batch, progress, every=alive)
                appended_at = time.perf_counter()
                say("ledger", f"appender done after {appended_at - began:.0f} s; waiting for the consumer")
                done = watch.wait_for_size(genesis + p.entries, alive, poll=0.02)
                cpu, wal_done = snapshot().since(cpu_began), watch.wal_bytes()
            watch.check_nothing_quarantined()
            watch.wait_for_checkpoint(genesis + p.entries, alive)
        checkpoints = watch.one("SELECT count(*) FROM log_checkpoints WHERE summit_id = %s", summit_id)
    growth = [GrowthPoint(0.0, 0, 1, wal_began),
              *milestones(sampler.points, GrowthPoint(done - began, p.entries, p.entries, wal_done), p.entries)]
    return IngestResult(p.entries, genesis, p.entries - 1, done - began, appended_at - began,
                        rate(p.entries - 1, done - began), growth, *mean_batches(box, summit_id), checkpoints,
                        relation_sizes(box), sampler.load, cpu)


def measure_capacity(servers: Servers, root: Path, p: LedgerParams, events: int,
                     profiler: cProfile.Profile | None = None) -> CapacityResult:
    """Each stage alone on a fresh sandbox, with its CPU and WAL: the append of `events`, the relay
    of the outbox it filled, then the ledger consumer (in a thread of this process, with its
    background loops and `g1000 up`'s settings) over the pre-filled topic, timed per batch."""
    cpu: dict[str, tuple[CpuUse, int]] = {}
    wal: dict[str, float] = {}
    with sandbox(servers, root) as box:
        summit_id = box.open_summit()
        with LogWatch(box, summit_id) as watch:

            @contextlib.contextmanager
            def stage(name: str, handled: Callable[[], int] = lambda: events) -> Iterator[None]:
                began, wal_began = snapshot(), watch.wal_bytes()
                yield
                cpu[name] = (snapshot().since(began), handled())
                wal[name] = (watch.wal_bytes() - wal_began) / cpu[name][1]

            genesis, began = watch.size(), time.perf_counter()
            with stage("append"):
                append_all(box, summit_id, events, p.batch)
            append_rate = rate(events, time.perf_counter() - began)
            with stage("relay"):
                relay_rate = measure_relay(box, events)
            say("ledger", f"topic pre-filled with {events:,} events; consuming")
            settings = {k: v for k, v in box.child_env().items() if k in STACK_SETTINGS}
            wrap = profiler.runcall if profiler else None
            with mock.patch.dict(os.environ, settings), ConsumerThread(box.runtime("ledger"), wrap) as run:
                watch.wait_for_size(genesis + 1, run.ensure_alive, poll=0.01)  # the group has joined
                start = watch.size()
                with stage("consume", handled=lambda: max(1, genesis + events - start)):
                    watch.wait_for_size(genesis + events, run.ensure_alive, poll=0.1)
                    run.wait_until_applied(events)
            watch.check_nothing_quarantined()
    return CapacityResult(events, rate(events, run.window()), run.busy() / run.window(),
                          tenth_rates(run.spans, events), append_rate, relay_rate, cpu, wal)


def tenth_rates(spans: list[tuple[float, float, int]], total: int) -> list[float]:
    """Rate over each tenth of the events, from the consumer's per-batch clock (batch ends)."""
    rates, applied, last_count, last_time = [], 0, 0, spans[0][0]
    for _, end, count in spans:
        applied += count
        if applied >= total * (len(rates) + 1) / 10 and end > last_time:
            rates.append(rate(applied - last_count, end - last_time))
            last_count, last_time = applied, end
    return rates


def profile_consumer(servers: Servers, root: Path, p: LedgerParams) -> ProfileResult:
    """cProfile of `EventConsumer.process` over a pre-filled topic. cProfile sees one thread only,
    so for this run the consumer verifies inline instead of on its verify threads (its threshold
    raised): the profile then shows the verification's parts too."""
    from services.core import consumer

    profiler = cProfile.Profile()
    with mock.patch.object(consumer, "PARALLEL_VERIFY_MIN", sys.maxsize):
        run = measure_capacity(servers, root, p, p.profile_events, profiler)
    return summarise("ledger consumer (`EventConsumer.process`, pre-filled topic, verification inline)",
                     profiler, p.profile_events, run.rate)


# ---- 2. proofs over HTTP -------------------------------------------------------------------------


@contextlib.contextmanager
def ledger_web(box: Sandbox) -> Iterator[str]:
    """The ledger app under gunicorn as `g1000 up` starts it; yields its base URL."""
    web = start_web(Stack(box.data_dir, env={}, web_workers=2), "ledger",
                    f"{SERVICE_MODULES['ledger']}:create_app()", box.child_env())
    try:
        wait_ready(web, timeout=60)
        yield web.base
    finally:
        stop_process(web.child.process, signal.SIGTERM, timeout=15)


def timed_get(session: requests.Session, url: str) -> tuple[float, bytes]:
    """One request: milliseconds until the whole body is read, and the body."""
    began = time.perf_counter()
    response = session.get(url, timeout=30)
    body = response.content
    millis = 1000 * (time.perf_counter() - began)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}: {body[:200]!r}")
    return millis, body


def proof_pairs(rng: random.Random, size: int, inclusion: int, consistency: int) -> dict[str, list[tuple[int, int]]]:
    seconds = [rng.randint(2, size) for _ in range(consistency)]
    return {"inclusion": [(rng.randrange(size), size) for _ in range(inclusion)],
            "consistency": [(rng.randint(1, second - 1), second) for second in seconds]}


def proof_path(kind: str, a: int, b: int) -> str:
    return (f"/proofs/inclusion?index={a}&tree_size={b}" if kind == "inclusion"
            else f"/proofs/consistency?first={a}&second={b}")


def in_process_proof(db, summit_id: str, kind: str, a: int, b: int) -> list[bytes]:
    """What the view does for one proof, without HTTP and Flask: the log size, one read of the
    nodes the proof needs (the public `node_reader`, as the view reads them), the proof math."""
    with db.transaction() as conn:
        conn.execute("SELECT size FROM log_heads WHERE summit_id = %s", (summit_id,)).fetchone()
        if kind == "inclusion":
            return inclusion_proof(a, b, node_reader(conn, summit_id, inclusion_proof_nodes(a, b)))
        return consistency_proof(a, b, node_reader(conn, summit_id, consistency_proof_nodes(a, b)))


def measure_proofs(box: Sandbox, summit_id: str, base: str, p: LedgerParams) -> tuple[ProofResult, str]:
    """Proof latencies over HTTP and in process; returns them and the log's verifier key."""
    log_url, ledger = f"{base}/v1/logs/{summit_id}", box.runtime("ledger")
    http: dict[str, Latencies] = {}
    answers: dict[str, list[list[bytes]]] = {}
    with requests.Session() as session:
        vkey = session.get(f"{log_url}/key", timeout=30).text.strip()
        checkpoint = open_checkpoint(session.get(f"{log_url}/checkpoint", timeout=30).text, vkey)
        pairs = proof_pairs(random.Random(p.seed), checkpoint.size, p.inclusion_proofs, p.consistency_proofs)
        warm = proof_pairs(random.Random(p.seed + 1), checkpoint.size, WARMUP_REQUESTS, WARMUP_REQUESTS)
        for kind, todo in warm.items():
            for a, b in todo:
                timed_get(session, log_url + proof_path(kind, a, b))
        for kind, todo in pairs.items():
            say("ledger", f"{len(todo):,} {kind} proofs over HTTP")
            timed = [timed_get(session, log_url + proof_path(kind, a, b)) for a, b in todo]
            http[kind] = Latencies(f"{kind} proof, HTTP (gunicorn, keep-alive)", [ms for ms, _ in timed])
            answers[kind] = [[base64.b64decode(h) for h in json.loads(body)["hashes"]] for _, body in timed]
        baseline = Latencies("GET /healthz, HTTP (same session)",
                             [timed_get(session, f"{base}/healthz")[0] for _ in range(500)])
    in_process: dict[str, Latencies] = {}
    for kind, todo in pairs.items():
        millis = []
        for (a, b), served in zip(todo, answers[kind]):
            began = time.perf_counter()
            proof = in_process_proof(ledger.db, summit_id, kind, a, b)
            millis.append(1000 * (time.perf_counter() - began))
            if proof != served:
                raise BenchError(f"the {kind} proof for ({a}, {b}) over HTTP differs from the in-process one")
        in_process[kind] = Latencies(f"{kind} proof, in process (database reads + math)", millis)
    verified = verify_sample(ledger, summit_id, checkpoint, pairs, answers, p.verify_sample)
    hashes = {kind: sum(map(len, got)) / len(got) for kind, got in answers.items()}
    equal = sum(len(todo) for todo in pairs.values())
    return ProofResult(checkpoint.size, http, in_process, baseline, hashes, equal, verified), vkey


def verify_sample(ledger, summit_id: str, checkpoint, pairs, answers, count: int) -> dict[str, int]:
    """Check proofs with g1000_proofs.merkle: inclusion against the signed checkpoint root (leaves
    read from the log); consistency against roots rebuilt from the stored nodes, whose root at the
    checkpoint's size must itself equal the signed one."""
    inclusion = list(zip(pairs["inclusion"], answers["inclusion"]))[:count]
    consistency = list(zip(pairs["consistency"], answers["consistency"]))[:count]
    with ledger.db.transaction() as conn:
        def root(k: int) -> bytes:
            return root_hash(k, lambda level, index: node_at(conn, summit_id, level, index))

        if root(checkpoint.size) != checkpoint.root_hash:
            raise BenchError("the root rebuilt from the stored nodes differs from the signed checkpoint")
        for (index, tree_size), proof in inclusion:
            verify_inclusion(node_at(conn, summit_id, 0, index), index, tree_size, proof, checkpoint.root_hash)
        for (first, second), proof in consistency:
            verify_consistency(first, second, proof, root(first), root(second))
    return {"inclusion": len(inclusion), "consistency": len(consistency)}


# ---- 3. export and the verifier ---------------------------------------------------------------


def export_bundle(base: str, summit_id: str, path: Path) -> float:
    """GET /export into `path`; returns the seconds it took."""
    began = time.perf_counter()
    with requests.get(f"{base}/v1/logs/{summit_id}/export", stream=True, timeout=300) as response:
        if response.status_code != 200:
            raise BenchError(f"the export answered {response.status_code}")
        with open(path, "wb") as out:
            for chunk in response.iter_content(1 << 20):
                out.write(chunk)
    return time.perf_counter() - began


def run_verifier(bundle: Path, vkey: str, workers: int | None, scratch: Path) -> VerifierRun:
    """`g1000-verify bundle FILE --json` (as `python -m g1000_verify`, so the frozen copy is what
    runs): wall time, exit code, its JSON report, its CPU time (its pool's included, from wait4)
    and its main process's own CPU (polled from /proc until it exits)."""
    args = [sys.executable, "-m", "g1000_verify", "bundle", str(bundle), "--json", "--log-key", vkey]
    args += [] if workers is None else ["--workers", str(workers)]
    out_path, err_path = scratch / "verify.out", scratch / "verify.err"
    cpu, main_cpu = snapshot(), None
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, process_group=0)
    try:
        while not (waited := os.wait4(proc.pid, os.WNOHANG))[0]:
            main_cpu = process_cpu(proc.pid) or main_cpu
            time.sleep(0.1)
        seconds, (_, status, usage) = time.perf_counter() - began, waited
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if proc.returncode is None:  # interrupted: stop it and its pool (its own process group)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    try:
        report = json.loads(stdout)
    except ValueError:
        report = {}
    label = "default workers (2 on this machine)" if workers is None else f"--workers {workers}"
    return VerifierRun(label, workers, seconds, proc.returncode, report, usage.ru_utime + usage.ru_stime,
                       main_cpu, stderr.strip()[-500:], snapshot().since(cpu).other_cores)


def profile_verifier(bundle: Path, wanted: int, vkey: str) -> ProfileResult:
    """cProfile of the verifier's `run_checks` (--workers 1) on a valid smaller log: the bundle's
    first S entries, S the largest checkpoint size <= `wanted`, with the checkpoints and key lines
    up to S (the whole bundle would take the profiler too long)."""
    from g1000_proofs.note import parse_verifier_key
    from g1000_verify.checks import Options, run_checks
    from g1000_verify.sources import open_bundle

    model = open_bundle(str(bundle))
    size = max((c.tree_size for c in model.checkpoints if isinstance(c.tree_size, int) and c.tree_size <= wanted),
               default=0)
    if not size:
        raise BenchError(f"the bundle has no checkpoint at or below {wanted} entries")
    entries = model.entries
    model = replace(model, tree_size=size, checkpoints=[c for c in model.checkpoints if c.tree_size <= size],
                    key_lines=[k for k in model.key_lines if k.index < size], entries=lambda: islice(entries(), size))
    profiler = cProfile.Profile()
    began = time.perf_counter()
    result = profiler.runcall(run_checks, model, Options(log_key=parse_verifier_key(vkey), workers=1))
    seconds = time.perf_counter() - began
    if not result.ok:
        raise BenchError(f"the verifier failed on the bundle slice: {result.failure.describe()}")
    return summarise(f"verifier (`run_checks` on the first {size:,} entries, --workers 1)", profiler, size,
                     rate(size, seconds), categories=VERIFIER_CATEGORIES)


def measure_verifier(bundle: Path, entries: int, vkey: str, export_seconds: float, p: LedgerParams
                     ) -> VerifierResult:
    """The Ed25519 ceiling before and after the verifier runs (pooled: the machine's other load
    comes and goes), the default-workers runs, one `--workers 1` run, then the profile."""
    waited = wait_until_quiet()
    say("ledger", f"Ed25519 ceiling before the verifier (waited {waited:.0f} s for our processes to go idle)")
    ceilings, others, runs = [], [], []

    def ceiling() -> None:
        cpu = snapshot()
        ceilings.append(run_ceiling(seconds=p.ceiling_seconds, repeat=p.ceiling_repeat))
        others.append(snapshot().since(cpu).other_cores)

    ceiling()
    for workers in [None] * p.verifier_default_runs + [1]:
        say("ledger", f"g1000-verify bundle, {'default workers' if workers is None else f'--workers {workers}'}")
        runs.append(run_verifier(bundle, vkey, workers, bundle.parent))
        say("ledger", f"  exit {runs[-1].exit_code}, {runs[-1].entries:,} entries in {runs[-1].seconds:.0f} s")
    say("ledger", "Ed25519 ceiling after the verifier")
    ceiling()
    first, second = ceilings
    pooled = CeilingResult(first.seconds, first.repeat + second.repeat, first.message_bytes,
                           {k: Samples(v.samples + second.rates[k].samples) for k, v in first.rates.items()})
    profile = None
    if p.verifier_profile_entries:
        say("ledger", f"profiled verifier on at most {p.verifier_profile_entries:,} entries")
        profile = profile_verifier(bundle, p.verifier_profile_entries, vkey)
    return VerifierResult(export_seconds, bundle.stat().st_size, entries, pooled, runs, waited, others, profile)


# ---- the whole benchmark -------------------------------------------------------------------------


def run_ledger(servers: Servers, root: Path, p: LedgerParams) -> LedgerResult:
    free, needed = shutil.disk_usage(root).free, BYTES_PER_ENTRY * (p.entries + p.capacity_events)
    if free < needed:
        raise BenchError(f"{free / 2**30:.1f} GiB free under {root}; a log of {p.entries:,} entries needs"
                         f" about {needed / 2**30:.1f} GiB (databases, WAL, bundle)")
    result = LedgerResult(p, event_bytes=len(sample_event().event.body))
    part = part_timer(result.durations, result.loads)
    with part("ledger consumer alone, pre-filled topic"):
        say("ledger", f"stages alone over {p.capacity_events:,} pre-filled events")
        result.capacity = measure_capacity(servers, root, p, p.capacity_events)
    if p.profile_events:
        with part("profiled consumer run"):
            say("ledger", f"profiled consumer run, {p.profile_events:,} events")
            result.capacity.profile = profile_consumer(servers, root, p)
    bundle = root / "ledger-bundle.jsonl"
    try:
        with sandbox(servers, root) as box:
            with part("charter + ingest end to end"):
                summit_id = box.open_summit()
                say("ledger", f"ingest end to end, {p.entries:,} events into one log")
                result.ingest = measure_ingest(box, summit_id, p)
            with ledger_web(box) as base:
                with part("proofs (HTTP and in process)"):
                    result.proofs, vkey = measure_proofs(box, summit_id, base, p)
                with part("export bundle"):
                    say("ledger", "export")
                    export_seconds = export_bundle(base, summit_id, bundle)
        with part("verifier (ceiling, 2 runs, profile)"):
            result.verifier = measure_verifier(bundle, result.ingest.genesis + p.entries, vkey, export_seconds, p)
    finally:
        bundle.unlink(missing_ok=True)
    return result
