"""Running the pipeline's moving parts and watching them: worker processes, a consumer thread
with per-batch timing, and a watcher of what the ledger has appended to a summit's log.

End-to-end runs use the deployed shape: the agenda's outbox relay and the ledger's consumer run as
their own `g1000 worker` processes (as `g1000 up` starts them), so they do not share a Python
interpreter lock with the appender. Stage runs drive one component alone inside this process.
Whatever is started here is stopped (by pid, or by its stop event) when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psycopg

from g1000.procs import stop_process
from services.core.consumer import EventConsumer, Outcome
from services.core.runtime import Runtime

from .infra import BenchError, Sandbox

POLL_SECONDS = 0.05


@dataclass
class Worker:
    proc: subprocess.Popen
    log_path: Path

    def ensure_alive(self) -> None:
        """Raise, with the end of its log (the work directory is removed at exit), if it died."""
        if self.proc.poll() is None:
            return
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
        raise BenchError(f"{self.log_path.stem} worker exited with {self.proc.returncode}: "
                         + " | ".join(tail))


@contextlib.contextmanager
def worker(box: Sandbox, kind: str, service: str, extra_env: dict[str, str] | None = None
           ) -> Iterator[Worker]:
    """`g1000 worker KIND SERVICE` as a child process with the sandbox's environment (plus
    `extra_env`, e.g. the settings `g1000 up` gives its children)."""
    env = {**os.environ, **box.env, **(extra_env or {})}
    env.pop("G1000_FAILPOINTS", None)
    log_path = box.logs / f"{kind}-{service}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "g1000.cli", "worker", kind, service], env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                process_group=0)
    try:
        yield Worker(proc, log_path)
    finally:
        stop_process(proc, signal.SIGTERM, timeout=30)


@dataclass
class BatchClock:
    """Wraps a consumer's `process` to record when each batch started and ended."""

    consumer: EventConsumer
    spans: list[tuple[float, float, int]] = field(default_factory=list)
    wrap: Callable | None = None  # e.g. a profiler's runcall

    def __post_init__(self) -> None:
        original = self.consumer.process

        def timed(records: list[tuple[str, bytes]]) -> Outcome:
            began = time.perf_counter()
            outcome = self.wrap(original, records) if self.wrap else original(records)
            self.spans.append((began, time.perf_counter(), outcome.applied))
            return outcome

        self.consumer.process = timed  # instance attribute: `run` calls self.process

    def applied(self) -> int:
        return sum(s[2] for s in self.spans)

    def window(self) -> float:
        """Seconds from the start of the first batch to the end of the last."""
        return self.spans[-1][1] - self.spans[0][0]

    def busy(self) -> float:
        """Seconds spent inside `process` (database transaction and verification)."""
        return sum(end - began for began, end, _ in self.spans)


class ConsumerThread:
    """A service's consumer loop in a thread of this process, its batches timed by a BatchClock,
    with the service's background loops beside it, as its `g1000 worker consume` process runs."""

    def __init__(self, rt: Runtime, wrap: Callable | None = None):
        self.rt = rt
        consumer = rt.consumer()
        self.clock = BatchClock(consumer, wrap=wrap)
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(consumer,), name="bench-consumer",
                                       daemon=True)
        loops = getattr(rt.spec, "background", lambda _: [])(rt)
        self.background = [threading.Thread(target=loop, args=(self.stop,), name="bench-background",
                                            daemon=True) for loop in loops]

    def _run(self, consumer: EventConsumer) -> None:
        try:
            consumer.run(self.rt.config.kafka_bootstrap, self.rt.consumed_topics(), self.stop,
                         max_poll_interval_ms=self.rt.config.max_poll_interval_ms)
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            self.failure = e

    def ensure_alive(self) -> None:
        if not self.thread.is_alive():
            raise BenchError(f"the consumer thread ended early: {self.failure!r}")

    def wait_until_applied(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.clock.applied() < count:
            self.ensure_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"the consumer applied {self.clock.applied()} of {count} events")
            time.sleep(0.01)


@contextlib.contextmanager
def consumer_thread(rt: Runtime, wrap: Callable | None = None) -> Iterator[ConsumerThread]:
    """Run the consumer until the block ends; then stop it and wait for its thread."""
    run = ConsumerThread(rt, wrap)
    for thread in (run.thread, *run.background):
        thread.start()
    try:
        yield run
    finally:
        run.stop.set()
        for thread in (run.thread, *run.background):
            thread.join(timeout=30)
    if run.failure is not None:
        raise BenchError(f"the consumer thread failed: {run.failure!r}")


class LedgerWatch:
    """Reads the ledger's own tables on a separate connection: what is in the log, what was refused.

    "Recorded" means appended to the summit's transparency log (`log_entries`): verified, in
    `seq` order, hash-chained. This is the one place that knows the ledger's table names.
    """

    def __init__(self, ledger: Runtime):
        self.conn = psycopg.connect(ledger.db.url, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def recorded(self, summit_id: str, stream: str = "agenda") -> int:
        return self.conn.execute("SELECT count(*) FROM log_entries WHERE summit_id = %s AND stream = %s",
                                 (summit_id, stream)).fetchone()[0]

    def check_nothing_quarantined(self) -> None:
        row = self.conn.execute("SELECT count(*), min(reason) FROM quarantine").fetchone()
        if row[0]:
            raise BenchError(f"the ledger quarantined {row[0]} events, e.g.: {row[1]}")

    def wait_for(self, summit_id: str, target: int, *, alive: Callable[[], None] = lambda: None,
                 stall_seconds: float = 60.0) -> float:
        """Block until `target` agenda events of the summit are in the log; returns perf_counter then.

        Fails when nothing new arrives for `stall_seconds` (a benchmark must not hang forever).
        """
        last, last_change = -1, time.monotonic()
        while True:
            seen = self.recorded(summit_id)
            now = time.perf_counter()
            if seen >= target:
                return now
            if seen != last:
                last, last_change = seen, time.monotonic()
            elif time.monotonic() - last_change > stall_seconds:
                self.check_nothing_quarantined()
                raise BenchError(f"stalled at {seen}/{target} events for {stall_seconds:.0f} s")
            alive()
            time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def ledger_watch(ledger: Runtime) -> Iterator[LedgerWatch]:
    watch = LedgerWatch(ledger)
    try:
        yield watch
    finally:
        watch.close()
