"""The servers a benchmark runs against, a fresh sandbox (databases, topics, keys) per measurement,
and the parts it starts and watches: `g1000 worker` processes, apps under gunicorn, a consumer
thread with per-batch timing, and a watcher of one summit's transparency log.

Servers are embedded (PostgreSQL with fsync and synchronous commit on, as users run it, and the
bundled broker) unless `G1000_DATABASE_URL` / `G1000_KAFKA_BOOTSTRAP` name external ones. No
measurement sees another's rows or messages. Children start as `g1000 up` starts them (g1000/stack.py
`Child`, `spawn_web`, `child_env`) and are stopped by pid when their block ends, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import psycopg
import requests
from psycopg import sql

from g1000.embedded import EmbeddedBroker, EmbeddedPostgres
from g1000.procs import free_port, stop_process
from g1000.services import spec_for
from g1000.stack import Child, Stack
from services.core.config import SERVICES, load_config
from services.core.events import NewEvent
from services.core.runtime import Runtime, bootstrap, prepare_broker
from services.core.signing import load_or_create_signer
from services.ledger.summits import open_summit

from .machine import filesystem_of, tansu_version

STALL_SECONDS = 120.0  # no growth of the log for this long: the run has failed
CHARTER = {"theme": "Samen leven in de wijk", "municipality": "Benchmarkstad",
           "seats": {"citizens": 800, "employers": 70, "government": 70, "free_thinkers": 60},
           "features": {"age_band": ["16-29", "30-44", "45-64", "65+"],
                        "neighbourhood": ["centrum", "noord", "oost", "zuid", "west"]}}


class BenchError(RuntimeError):
    """The harness could not measure (a worker died, events were quarantined, no progress)."""


def say(part: str, text: str) -> None:
    """Progress on stderr (stdout carries the one-line results)."""
    print(f"bench: {part}: {text}", file=sys.stderr, flush=True)


# ---- the workload: participants nominating topics ------------------------------------------------


def nomination(summit_id: str) -> NewEvent:
    """One `agenda.topic.nominated` event: a new topic of the summit, about 400 signed bytes. All
    events of a summit share a message key, hence one partition, as on a G1000 day."""
    topic_id = str(uuid.uuid4())
    payload = {"v": 1, "topic_id": topic_id, "title": "Groen in de wijk", "description": "Meer bomen."}
    return NewEvent("agenda.topic.nominated", payload, f"summit:{summit_id}/topic:{topic_id}", 1)


def nominations(summit_id: str, count: int) -> list[NewEvent]:
    return [nomination(summit_id) for _ in range(count)]


def append_in_batches(store, summit_id: str, events: list[NewEvent], batch: int) -> None:
    """Append `events` with `batch` events per transaction (1 = what one API request does)."""
    for start in range(0, len(events), batch):
        store.append(summit_id, events[start:start + batch])


# ---- servers and sandboxes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Servers:
    database_url: str
    bootstrap: str
    database: str  # how the database is run, for the report
    broker: str  # which broker, for the report


@contextlib.contextmanager
def servers(workdir: Path) -> Iterator[Servers]:
    """External servers from the environment, or embedded ones started (and always stopped) here."""
    with contextlib.ExitStack() as started:
        db_url, db_text = os.environ.get("G1000_DATABASE_URL"), "external (G1000_DATABASE_URL)"
        if not db_url:
            postgres = EmbeddedPostgres(workdir / "pg", fast_unsafe=False)
            started.callback(postgres.stop)
            db_url = postgres.start().url
            db_text = f"embedded, fsync and synchronous_commit on, data on {filesystem_of(workdir)}"
        bootstrap_servers = os.environ.get("G1000_KAFKA_BOOTSTRAP")
        broker_text = f"external at {bootstrap_servers} (G1000_KAFKA_BOOTSTRAP)"
        if not bootstrap_servers:
            broker = EmbeddedBroker()
            started.callback(broker.stop)
            bootstrap_servers = broker.start(workdir / "broker.log").bootstrap
            broker_text = f"Tansu {tansu_version()} (bundled, its default in-memory storage)"
        yield Servers(db_url, bootstrap_servers, db_text, broker_text)


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A scratch directory for server data and sandboxes, removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="g1000-bench-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def url_with_database(server_url: str, dbname: str) -> str:
    """The postgresql:// URL of database `dbname` on the server `server_url` points at."""
    return urlsplit(server_url)._replace(path=f"/{dbname}").geturl()


def drop_databases(server_url: str, names: list[str]) -> None:
    with psycopg.connect(url_with_database(server_url, "postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class Sandbox:
    """One measurement's own databases, topics, keys and credential; services start on demand."""

    servers: Servers
    root: Path
    tag: str = field(default_factory=lambda: "b" + uuid.uuid4().hex[:10])
    _runtimes: dict[str, Runtime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = self.root / self.tag
        self.logs = self.data_dir / "logs"
        self.logs.mkdir(parents=True)
        (self.data_dir / "keys").mkdir()
        # the secrets `g1000 up` keeps: the gateway's token key (services read its public half)
        # and the internal token of the services' internal endpoints
        load_or_create_signer(self.data_dir / "secrets" / "tokens.key")
        Stack(self.data_dir, env={}).secret("internal.token")

    @property
    def env(self) -> dict[str, str]:
        """The service environment, exactly as a deployed service process would get it."""
        env = {"G1000_DATA_DIR": str(self.data_dir), "G1000_DATABASE_URL": self.servers.database_url,
               "G1000_KAFKA_BOOTSTRAP": self.servers.bootstrap, "G1000_TOPIC_PREFIX": self.tag}
        for service in SERVICES:
            env[f"G1000_{service.upper()}_DATABASE_URL"] = self.database_url(service)
        return env

    def database_url(self, name: str) -> str:
        return url_with_database(self.servers.database_url, f"{self.tag}_{name}")

    def child_env(self, like_up: bool = True) -> dict[str, str]:
        """The environment of a child process: the sandbox's databases, topics and keys, and with
        `like_up` the settings `g1000 up` gives its children (g1000/stack.py `child_env`: poll
        interval, checkpoint period, key files, unbuffered output)."""
        env = {**os.environ}
        if like_up:
            env.update(Stack(self.data_dir, env={}).child_env(self.servers.database_url, self.servers.bootstrap))
        env.update(self.env)
        env.pop("G1000_FAILPOINTS", None)
        return env

    def runtime(self, service: str) -> Runtime:
        if service not in self._runtimes:
            config = load_config(service, self.env)
            self._runtimes[service] = bootstrap(spec_for(service), config, pool_size=4)
            prepare_broker(config)
        return self._runtimes[service]

    def open_summit(self) -> str:
        """Charter a summit with the ledger's own `open_summit`; returns its id. The agenda is
        bootstrapped first, so the charter registers its key and the ledger accepts its events."""
        self.runtime("agenda")
        return open_summit(self.runtime("ledger"), theme=CHARTER["theme"], municipality=CHARTER["municipality"],
                           day=date(2027, 3, 14), seats=CHARTER["seats"], features=CHARTER["features"])

    def close(self) -> None:
        for rt in self._runtimes.values():
            rt.db.close()
        drop_databases(self.servers.database_url, [f"{self.tag}_{service}" for service in SERVICES])


@contextlib.contextmanager
def sandbox(servers: Servers, root: Path) -> Iterator[Sandbox]:
    box = Sandbox(servers, root)
    try:
        yield box
    finally:
        box.close()


# ---- child processes ---------------------------------------------------------------------------


def ensure_alive(child: Child) -> None:
    """Raise, with the end of its log (the work directory is removed at exit), if it died."""
    if child.process.poll() is None:
        return
    try:
        tail = " | ".join(child.log_path.read_text(errors="replace").strip().splitlines()[-5:])
    except OSError:
        tail = "(no log)"
    raise BenchError(f"{child.name} exited with {child.process.returncode}: {tail}")


@contextlib.contextmanager
def log_workers(box: Sandbox, like_up: bool = True) -> Iterator[Callable[[], None]]:
    """The agenda's outbox relay and the ledger's consumer as `g1000 worker` processes, carrying
    agenda events into the log (processes of their own, so they share no interpreter lock with the
    appender); yields a check that raises if either has died."""
    env, children = box.child_env(like_up), []
    try:
        for kind, service in (("relay", "agenda"), ("consume", "ledger")):
            args = [sys.executable, "-m", "g1000.cli", "worker", kind, service]
            children.append(Child(f"{kind}-{service} worker", args, env, box.logs / f"{kind}-{service}.log"))
            children[-1].start()

        def alive() -> None:
            for child in children:
                ensure_alive(child)

        yield alive
    finally:
        for child in children:
            stop_process(child.process, signal.SIGTERM, timeout=30)


@dataclass
class Web:
    """One app under gunicorn, started as `g1000 up` starts it (g1000/stack.py `spawn_web`)."""

    name: str
    base: str
    child: Child


def start_web(stack: Stack, name: str, target: str, env: dict[str, str]) -> Web:
    port = free_port()
    stack.spawn_web(name, target, port, env)
    return Web(name, f"http://127.0.0.1:{port}", stack.children[-1])


def wait_ready(web: Web, timeout: float = 90.0) -> None:
    """Until its /readyz answers 200; BenchError with its log's end if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        ensure_alive(web.child)
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{web.base}/readyz", timeout=3).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise BenchError(f"{web.name} under gunicorn was not ready after {timeout:.0f} s")
        time.sleep(0.2)


def part_timer(durations: dict[str, float], loads: dict[str, tuple[float, float]]):
    """A `with part(name):` that adds the block's wall time to durations[name] and records the
    1-minute load average at its start and end (a part run several times: first start, last end)."""
    @contextlib.contextmanager
    def part(name: str) -> Iterator[None]:
        began, load = time.monotonic(), os.getloadavg()[0]
        try:
            yield
        finally:
            durations[name] = durations.get(name, 0.0) + time.monotonic() - began
            loads[name] = (loads.get(name, (load,))[0], os.getloadavg()[0])
    return part


# ---- the consumer in this process, and the log it writes -----------------------------------------


class ConsumerThread:
    """A service's consumer loop in a thread of this process, with the service's background loops
    beside it (as its `g1000 worker consume` process runs them); every `process` call is timed
    (`spans`: start, end, events applied), optionally through `wrap` (a profiler's runcall)."""

    def __init__(self, rt: Runtime, wrap: Callable | None = None):
        consumer = rt.consumer()
        original, self.spans = consumer.process, []

        def timed(records):
            began = time.perf_counter()
            outcome = wrap(original, records) if wrap else original(records)
            self.spans.append((began, time.perf_counter(), outcome.applied))
            return outcome

        consumer.process = timed  # instance attribute: `run` calls self.process
        self.stop, self.failure = threading.Event(), None

        def run() -> None:
            try:
                consumer.run(rt.config.kafka_bootstrap, rt.consumed_topics(), self.stop,
                             max_poll_interval_ms=rt.config.max_poll_interval_ms)
            except BaseException as e:  # noqa: BLE001 - reported to the main thread
                self.failure = e

        loops = getattr(rt.spec, "background", lambda _: [])(rt)
        self.threads = [threading.Thread(target=run, name="bench-consumer", daemon=True)]
        self.threads += [threading.Thread(target=loop, args=(self.stop,), daemon=True) for loop in loops]

    def __enter__(self) -> ConsumerThread:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        if self.failure is not None and exc[0] is None:
            raise BenchError(f"the consumer thread failed: {self.failure!r}")

    def ensure_alive(self) -> None:
        if not self.threads[0].is_alive():
            raise BenchError(f"the consumer thread ended early: {self.failure!r}")

    def applied(self) -> int:
        return sum(applied for _, _, applied in self.spans)

    def window(self) -> float:
        """Seconds from the start of the first batch to the end of the last."""
        return self.spans[-1][1] - self.spans[0][0]

    def busy(self) -> float:
        """Seconds spent inside `process` (database transaction and verification)."""
        return sum(end - began for began, end, _ in self.spans)

    def wait_until_applied(self, count: int, timeout: float = 30.0) -> None:
        """The commit is visible just before `process` returns: wait for its span too."""
        deadline = time.monotonic() + timeout
        while self.applied() < count:
            self.ensure_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"the consumer applied {self.applied()} of {count} events")
            time.sleep(0.01)


class LogWatch:
    """One summit's transparency log, read on a connection of its own with cheap queries only (the
    head row, pg_stat_wal: count(*) over a 1M log is not cheap). "In the log" means verified,
    in `seq` order and hash-chained by the ledger's handler."""

    def __init__(self, box: Sandbox, summit_id: str):
        self.summit_id = summit_id
        self.conn = psycopg.connect(box.runtime("ledger").db.url, autocommit=True)

    def __enter__(self) -> LogWatch:
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()

    def one(self, query: str, *args):
        return self.conn.execute(query, args).fetchone()[0]

    def size(self) -> int:
        return self.one("SELECT size FROM log_heads WHERE summit_id = %s", self.summit_id)

    def wal_bytes(self) -> int:
        return int(self.one("SELECT wal_bytes FROM pg_stat_wal"))

    def checkpoint(self) -> int:
        return self.one("SELECT coalesce(max(tree_size), 0) FROM log_checkpoints WHERE summit_id = %s",
                        self.summit_id)

    def check_nothing_quarantined(self) -> None:
        count, reason = self.conn.execute("SELECT count(*), min(reason) FROM quarantine").fetchone()
        if count:
            raise BenchError(f"the ledger quarantined {count} events, e.g.: {reason}")

    def wait_for_size(self, target: int, alive: Callable[[], None], poll: float = 0.05) -> float:
        """Block until the log holds `target` entries; returns perf_counter then. Fails when the log
        does not grow for STALL_SECONDS (a benchmark must not hang forever)."""
        last, last_change = -1, time.monotonic()
        while True:
            seen, now = self.size(), time.perf_counter()
            if seen >= target:
                return now
            if seen != last:
                last, last_change = seen, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                self.check_nothing_quarantined()
                raise BenchError(f"the log stalled at {seen}/{target} entries for {STALL_SECONDS:.0f} s")
            alive()
            time.sleep(poll)

    def wait_for_checkpoint(self, size: int, alive: Callable[[], None], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.checkpoint() < size:
            alive()
            if time.monotonic() > deadline:
                raise BenchError(f"no checkpoint at size {size} after {timeout:.0f} s")
            time.sleep(0.2)
