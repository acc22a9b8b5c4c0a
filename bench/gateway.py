"""The gateway benchmark: what a request pays for going through the gateway instead of straight to
the service that answers it, and how many public reads per second the stack serves through it.

Why it exists: every client request of a G1000 day passes the gateway (gateway/app.py), which
checks the access matrix, the bearer token and its record, counts the caller against its rate
limit in its own database, claims an Idempotency-Key, and forwards the request over a second
HTTP hop. The issue asks for that overhead, measured against calling the service directly, in
the same run, as a ratio, and for requests/s of a public read on this machine.

The stack is the one `g1000 up` runs, in a sandbox of its own (databases, topics, keys): the four
services (ledger, lottery, agenda, ballot) and the gateway each under gunicorn with the command
line of g1000/stack.py `spawn_web` (2 gthread workers, 4 threads each, access log on), with the
environment `g1000 up` gives its children. The gateway's rate limits are raised to their maximum
(1,000,000 per minute) so that the limiter counts every request (its one database statement is part
of the real overhead) but never refuses one. Set-up, untimed: the summit is chartered through the
ledger's REST API; `log_entries` agenda events are appended and carried into the summit's log by the
agenda's outbox relay and the ledger's consumer as `g1000 worker` processes, until a checkpoint
covers them (so log reads prove against a realistic log); then those workers are stopped, so nothing
runs in the background while requests are timed. The agenda learns of the summit by applying the
ledger's `ledger.summit.created` event in process (what its consume worker would do;
tests/integration/gateway_support.py `announce` does the same). The organiser token is issued on the
gateway's record (as `g1000 admin` does), so it passes the revocation check.

1. Latency: one client thread, one keep-alive connection to the service and one to the gateway,
   requests alternating direct / gateway (the order swapped every pair, so machine noise, caches and
   the order of arrival hit both paths equally), `requests` timed of each after `warmup` untimed.
   Kinds: a public read of a summit's charter (ledger), an inclusion proof (ledger; the same random
   index for both paths of a pair), an organiser's topic nomination (agenda; a write with the token
   checked by the gateway and again by the service), the same with an Idempotency-Key (what a careful
   client sends), and `/healthz` of the service and of the gateway (neither forwards nor touches a
   database: the floor of one HTTP request here).
2. Throughput: the public read with `concurrency` client threads, each with its own keep-alive
   connection, for `throughput_seconds`, direct and through the gateway, `throughput_repeat` times in
   ABBA order. Each client thread connects from its own loopback address (127.0.0.k), as distinct
   citizens would, so the gateway keeps one rate-limit counter per client; at the highest concurrency
   the gateway is also measured with all clients on one address (one counter row every request
   updates). The client is Python (`http.client`, the thinnest client the standard library has; no
   `wrk` on this machine) in the benchmark's own process, sharing the 2 cores with the servers.
3. CPU: user + system time of each gunicorn process tree (master + workers), of PostgreSQL, of the
   client (this process) and of the whole machine, read from /proc around every measurement; the
   gateway's own steps (rate-limit counter, token record, token signature, Idempotency-Key) timed
   alone in this process on the gateway's database; and a cProfile, on the thread's CPU clock, of
   the gateway app in this process (Flask's test client) forwarding to the services under gunicorn.

Everything started here is stopped by pid in `finally`; the sandbox drops its databases and the
gateway's database is dropped here.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from g1000.procs import stop_process
from g1000.services import SERVICE_MODULES
from g1000.stack import Stack
from services.core.config import SERVICES

from .cpu import TICK, CpuSnapshot, CpuUse, processes
from .cpu import snapshot as cpu_snapshot
from .infra import (CHARTER, BenchError, Sandbox, Servers, Web, log_tail, sandbox, say, start_web, url_with_database,
                    wait_ready)
from .ledger import Latencies, append_all, log_probe, log_workers
from .profiling import ProfileResult, summarise

GATEWAY_TARGET = "gateway.app:create_app()"
RATE_LIMIT = "1000000"  # the largest the gateway accepts (gateway/settings.py): counts, never refuses
IDLE_SECONDS = 1.0  # a connection idle this long is reopened before the next timed request
WEB_READY_SECONDS = 90.0


@dataclass(frozen=True)
class GatewayParams:
    requests: int = 2_000  # timed requests of each kind, on each path
    warmup: int = 200  # untimed requests of each kind on each path before the timed ones
    log_entries: int = 10_000  # agenda events in the summit's log before the log reads
    log_batch: int = 500  # events per append transaction while the log is filled
    concurrency: tuple[int, ...] = (8, 32)
    throughput_seconds: float = 10.0
    throughput_repeat: int = 2  # runs of each target at each concurrency, in ABBA order
    throughput_warmup: float = 1.0  # seconds of each run before its window opens
    step_samples: int = 1_000  # timings of each of the gateway's own steps, in process (half before the
    # latency runs, half after)
    profile_requests: int = 300  # requests of each profiled kind (0: no profile; ~13 requests/s profiled)
    seed: int = 4417


# ---- CPU by process tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """CPU over one measurement: bench/cpu.py's groups and machine, plus each gunicorn tree."""

    cpu: CpuUse
    webs: dict[str, float]  # gunicorn tree (master + workers) -> CPU seconds

    @property
    def seconds(self) -> float:
        return self.cpu.seconds

    def per_request(self, requests_done: int) -> dict[str, float]:
        """CPU seconds per request: the client (this process), each web tree, PostgreSQL, the rest
        of our processes (idle workers, the broker)."""
        rest = self.cpu.groups["workers"] - sum(self.webs.values()) + self.cpu.groups["broker"]
        out = {"client": self.cpu.groups["harness"], **self.webs, "postgres": self.cpu.groups["postgres"],
               "rest": max(0.0, rest)}
        return {name: value / requests_done for name, value in out.items()}


class Meter:
    """Reads the CPU of this process's tree (bench/cpu.py) and of each gunicorn tree we started."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids

    def read(self) -> tuple[CpuSnapshot, dict[str, float]]:
        children, info = processes()
        webs = {}
        for name, pid in self.pids.items():
            ticks, todo = 0, [pid]
            while todo:
                p = todo.pop()
                _, own, reaped = info.get(p, ("", 0, 0))
                ticks += own + reaped
                todo.extend(children.get(p, ()))
            webs[name] = ticks / TICK
        return cpu_snapshot(), webs

    @staticmethod
    def since(now: tuple[CpuSnapshot, dict[str, float]], before: tuple[CpuSnapshot, dict[str, float]]) -> Usage:
        return Usage(now[0].since(before[0]), {n: now[1][n] - before[1].get(n, 0.0) for n in now[1]})


# ---- a thin keep-alive HTTP client ----------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection (`http.client`: little CPU of its own per request, so more of
    the 2 cores go to the servers). A connection idle for IDLE_SECONDS is reopened, untimed, before
    the next request (gunicorn closes idle keep-alive connections after 2 s); one the server closed
    under a request is reopened and the request sent again, untimed, and counted in `reopened`."""

    def __init__(self, base: str, source: str | None = None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.source = (source, 0) if source else None
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0.0
        self.reopened = 0

    def _open(self) -> None:
        self.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=self.source)
        self.conn.connect()
        self.used = time.monotonic()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[float, int, bytes]:
        """Milliseconds from sending the request to having read the whole body; status; body."""
        if self.conn is None or time.monotonic() - self.used > IDLE_SECONDS:
            self._open()
        for attempt in (0, 1):
            began = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt:
                    raise
                self.reopened += 1
                self._open()
                continue
            millis = 1000 * (time.perf_counter() - began)
            self.used = time.monotonic()
            if response.will_close:
                self.close()
            return millis, response.status, data
        raise AssertionError("unreachable")


# ---- the stack under gunicorn ---------------------------------------------------------------------


@dataclass
class Deployment:
    """The gunicorn processes of one run; `served` says how each upstream is served (for the report)."""

    webs: dict[str, Web] = field(default_factory=dict)
    served: dict[str, str] = field(default_factory=dict)
    upstreams: dict[str, str] = field(default_factory=dict)  # what the gateway forwards to

    def url(self, name: str) -> str:
        return self.webs[name].base

    def pids(self) -> dict[str, int]:
        return {name: web.child.process.pid for name, web in self.webs.items()}

    def ensure_alive(self) -> None:
        for web in self.webs.values():
            if web.child.process.poll() is not None:
                raise BenchError(f"{web.name} (gunicorn) exited with {web.child.process.returncode}: "
                                 + log_tail(web.child.log_path))


def gateway_database_url(box: Sandbox) -> str:
    return url_with_database(box.servers.database_url, f"{box.tag}_gateway")


def stack_env(box: Sandbox, stack: Stack) -> dict[str, str]:
    """What `g1000 up` gives its children (g1000/stack.py `child_env`), on the sandbox's databases,
    topics and keys, plus the gateway's own database and the raised rate limits."""
    env = {**os.environ, **box.env}
    env.pop("G1000_FAILPOINTS", None)
    env.update(stack.child_env(box.servers.database_url, box.servers.bootstrap))
    env.update(box.env)  # the sandbox's databases and topic prefix win over the defaults
    env["G1000_GATEWAY_DATABASE_URL"] = gateway_database_url(box)
    env["G1000_RATE_LIMIT_PER_MINUTE"] = RATE_LIMIT
    env["G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE"] = RATE_LIMIT
    return env


def prepare(box: Sandbox, env: dict[str, str]):
    """Databases, migrations, keys and topics of every service and of the gateway, before any
    process starts (as `g1000 up` does); returns the gateway's Credentials on its database."""
    from gateway.credentials import token_signer
    from gateway.credentials import Credentials
    from gateway.database import open_gateway_database
    from gateway.settings import load_gateway_settings

    for name in SERVICES:
        box.runtime(name)
    settings = load_gateway_settings(env)
    db = open_gateway_database(settings.database_url, pool_size=2)
    return db, Credentials(db, token_signer(settings))


@contextlib.contextmanager
def deployed(box: Sandbox, env: dict[str, str], stack: Stack) -> Iterator[Deployment]:
    """The four services and the gateway under gunicorn; a service that does not come up (a service
    under construction, say) is replaced by the ledger's URL for the gateway's readiness check only,
    and the report says so. Every process is stopped by pid when the block ends."""
    dep = Deployment()
    try:
        for name in SERVICES:
            dep.webs[name] = start_web(stack, name, f"{SERVICE_MODULES[name]}:create_app()", env)
        for name in SERVICES:
            try:
                wait_ready(dep.webs[name])
                dep.served[name] = "gunicorn (as `g1000 up`)"
            except BenchError as e:
                if name in ("ledger", "agenda"):
                    raise
                stop_process(dep.webs.pop(name).child.process, signal.SIGTERM, timeout=15)
                dep.served[name] = f"not served (would not start: {str(e)[:160]}); its URL points at the ledger"
                say("gateway", f"{name} would not start under gunicorn; the gateway's {name} URL points at the ledger")
        dep.upstreams = {n: dep.webs.get(n, dep.webs["ledger"]).base for n in SERVICES}
        urls = {f"G1000_{n.upper()}_URL": url for n, url in dep.upstreams.items()}
        metrics_dir = box.data_dir / "metrics" / "gateway"  # prometheus-client multiprocess mode
        metrics_dir.mkdir(parents=True, exist_ok=True)
        gw_env = {**env, **urls, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir.resolve())}
        dep.webs["gateway"] = start_web(stack, "gateway", GATEWAY_TARGET, gw_env)
        wait_ready(dep.webs["gateway"])
        yield dep
    finally:
        for web in reversed(list(dep.webs.values())):
            stop_process(web.child.process, signal.SIGTERM, timeout=15)


# ---- set-up: a log of realistic size, the agenda told of the summit --------------------------------


def fill_log(box: Sandbox, summit_id: str, p: GatewayParams) -> tuple[int, int]:
    """Append `log_entries` agenda events and let the relay and the ledger's consumer (g1000 worker
    processes) carry them into the log until a checkpoint covers all of it; returns (log size,
    checkpoint size). The workers are stopped before anything is timed."""
    with log_probe(box, summit_id) as probe:
        genesis = probe.size()
        with log_workers(box) as alive:
            if p.log_entries:
                append_all(box, summit_id, p.log_entries, p.log_batch, progress=lambda _: None, every=alive)
            size = genesis + p.log_entries
            probe.wait_for_size(size, alive)
            probe.check_nothing_quarantined()
            probe.wait_for_checkpoint(size, alive)
        return size, probe.latest_checkpoint()


def announce(box: Sandbox, summit_id: str) -> None:
    """Apply the ledger's `ledger.summit.created` event to the agenda, as its consume worker would."""
    with box.runtime("ledger").db.transaction() as conn:
        rows = conn.execute("SELECT seq, body FROM events WHERE summit_id = %s AND type = 'ledger.summit.created'",
                            (summit_id,)).fetchall()
    if not rows:
        raise BenchError("the ledger has no ledger.summit.created event for the summit")
    box.runtime("agenda").consumer().process([(f"bench:{seq}", bytes(body)) for seq, body in rows])


# ---- 1. latency -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # what the report calls it
    service: str  # who answers it directly
    method: str
    expect: int  # the status every answer must have
    idempotency: bool = False  # a fresh Idempotency-Key on every request
    forwarded: bool = True  # False: /healthz, answered by each server itself


@dataclass
class Pair:
    kind: Kind
    direct: Latencies
    gateway: Latencies
    usage: Usage  # over the timed requests of both paths
    reopened: int  # connections reopened under a request (see Client)


@dataclass
class ThroughputRun:
    target: str  # "direct", "gateway", "gateway, one address"
    concurrency: int
    requests: int  # completed inside the window
    errors: int
    seconds: float  # the window
    latency: Latencies
    usage: Usage
    buckets: int | None = None  # rate-limit counters seen by the gateway afterwards (gateway runs)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class GatewayResult:
    params: GatewayParams
    summit_id: str = ""
    log_size: int = 0
    checkpoint_size: int = 0
    served: dict[str, str] = field(default_factory=dict)
    web_settings: str = ""
    pairs: list[Pair] = field(default_factory=list)
    throughput: list[ThroughputRun] = field(default_factory=list)
    steps: dict[str, Latencies] = field(default_factory=dict)  # the gateway's own steps, in process
    profiles: list[ProfileResult] = field(default_factory=list)
    gateway_code: str = ""  # where the gateway package was imported from, and whether it changed
    durations: dict[str, float] = field(default_factory=dict)
    loads: dict[str, tuple[float, float]] = field(default_factory=dict)


KINDS = (
    Kind("healthz", "`GET /healthz`, answered by the server itself (no forwarding, no database)", "ledger",
         "GET", 200, forwarded=False),
    Kind("read", "public read `GET /v1/summits/{id}`", "ledger", "GET", 200),
    Kind("proof", "log read `GET /v1/logs/{id}/proofs/inclusion`", "ledger", "GET", 200),
    Kind("write", "organiser write `POST /v1/summits/{id}/topics`", "agenda", "POST", 201),
    Kind("write-key", "the same write with an `Idempotency-Key`", "agenda", "POST", 201, idempotency=True),
)
KIND = {kind.key: kind for kind in KINDS}


class Requests:
    """The request of kind `kind` number `i`: identical on both paths (a write differs only in the
    topic's title and its Idempotency-Key)."""

    def __init__(self, summit_id: str, token: str, proof_size: int, seed: int, signer=None, token_id=None):
        self.summit_id, self.token, self.proof_size = summit_id, token, proof_size
        self.signer, self.token_id = signer, token_id  # to vouch for writes sent directly, as the gateway does
        self.rng = random.Random(seed)
        self.proof_index: dict[int, int] = {}

    def __call__(self, kind: Kind, i: int) -> tuple[str, bytes | None, dict[str, str]]:
        if kind.key == "healthz":
            return "/healthz", None, {}
        if kind.key == "read":
            return f"/v1/summits/{self.summit_id}", None, {}
        if kind.key == "proof":
            index = self.proof_index.setdefault(i, self.rng.randrange(self.proof_size))
            return f"/v1/logs/{self.summit_id}/proofs/inclusion?index={index}&tree_size={self.proof_size}", None, {}
        body = json.dumps({"title": f"Bench topic {uuid.uuid4().hex[:8]}", "description": "Meer bomen."}).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if kind.idempotency:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        path = f"/v1/summits/{self.summit_id}/topics"
        if self.signer is not None:  # a service acts only on a vouched request; the gateway replaces it
            from services.core.vouch import HEADER, sign_vouch

            headers[HEADER] = sign_vouch(self.signer, method="POST", target=path, body=body,
                                         token_id=self.token_id, now=time.time())
        return path, body, headers


def one(client: Client, kind: Kind, path: str, body: bytes | None, headers: dict[str, str]) -> float:
    millis, status, data = client.request(kind.method, path, body, headers)
    if status != kind.expect:
        raise BenchError(f"{kind.method} {path} answered {status} (expected {kind.expect}): {data[:300]!r}")
    return millis


def measure_pair(dep: Deployment, meter: Meter, make: Requests, kind: Kind, p: GatewayParams) -> Pair:
    """`warmup` then `requests` of one kind on each path, alternating; the order swaps every pair."""
    direct, gateway = Client(dep.url(kind.service)), Client(dep.url("gateway"))
    try:
        clients = (direct, gateway)
        for i in range(p.warmup):
            for client in clients:
                one(client, kind, *make(kind, -1 - i))
        dep.ensure_alive()
        times: tuple[list[float], list[float]] = ([], [])
        reopened_before = direct.reopened + gateway.reopened
        before = meter.read()
        for i in range(p.requests):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for which in order:
                times[which].append(one(clients[which], kind, *make(kind, i)))
        usage = Meter.since(meter.read(), before)
        reopened = direct.reopened + gateway.reopened - reopened_before
    finally:
        direct.close()
        gateway.close()
    dep.ensure_alive()
    return Pair(kind, Latencies(f"direct to the {kind.service}", times[0]), Latencies("through the gateway", times[1]),
                usage, reopened)


# ---- 2. throughput ------------------------------------------------------------------------------


def source_addresses(count: int) -> list[str]:
    """127.0.0.2, 127.0.0.3, ...: one loopback address per client thread (Linux routes all of 127/8
    to the loopback interface)."""
    return [f"127.0.{(k + 2) // 256}.{(k + 2) % 256}" for k in range(count)]


def count_buckets(gateway_db_url: str) -> int:
    with psycopg.connect(gateway_db_url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM rate_counters WHERE bucket LIKE 'addr:%'").fetchone()[0]


def measure_throughput(dep: Deployment, meter: Meter, summit_id: str, target: str, concurrency: int,
                       p: GatewayParams, gateway_db_url: str) -> ThroughputRun:
    """`concurrency` client threads reading the summit's charter as fast as they are answered; the
    window opens `throughput_warmup` s after they start and lasts `throughput_seconds`."""
    base = dep.url("ledger") if target == "direct" else dep.url("gateway")
    sources = [None] * concurrency if target == "gateway, one address" else source_addresses(concurrency)
    path = f"/v1/summits/{summit_id}"
    stop = threading.Event()
    done: list[list[tuple[float, float]]] = [[] for _ in range(concurrency)]  # (end time, ms)
    errors = [0] * concurrency
    failures: list[BaseException] = []

    def run(k: int) -> None:
        client = Client(base, sources[k])
        try:
            while not stop.is_set():
                millis, status, _ = client.request("GET", path)
                if status == 200:
                    done[k].append((time.perf_counter(), millis))
                else:
                    errors[k] += 1
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            failures.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(k,), name=f"bench-client-{k}", daemon=True)
               for k in range(concurrency)]
    for t in threads:
        t.start()
    try:
        time.sleep(p.throughput_warmup)
        opened, before = time.perf_counter(), meter.read()
        time.sleep(p.throughput_seconds)
        closed, after = time.perf_counter(), meter.read()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    if failures:
        raise BenchError(f"a client thread failed ({target}, {concurrency} threads): {failures[0]!r}")
    dep.ensure_alive()
    inside = [ms for per in done for end, ms in per if opened <= end < closed]
    if not inside:
        raise BenchError(f"no request completed in the window ({target}, {concurrency} threads)")
    buckets = count_buckets(gateway_db_url) if target != "direct" else None
    return ThroughputRun(target, concurrency, len(inside), sum(errors), closed - opened,
                         Latencies(target, inside), Meter.since(after, before), buckets)


def throughput_plan(p: GatewayParams) -> list[tuple[int, str]]:
    """(concurrency, target) in ABBA order per concurrency; at the highest concurrency the gateway is
    also run with every client on one address."""
    plan = []
    top = max(p.concurrency)
    for c in p.concurrency:
        targets = ["direct", "gateway"] + (["gateway, one address"] if c == top else [])
        for rep in range(p.throughput_repeat):
            plan += [(c, t) for t in (targets if rep % 2 == 0 else targets[::-1])]
    return plan


# ---- 3. the gateway's own steps, and where its time goes ------------------------------------------


STEPS = (
    ("limiter", "rate limit: count the request (`RateLimiter.hit`, one statement and its commit, unlogged table)"),
    ("token-record", "token record: is it live? (`Credentials.is_live`, one read; the gateway makes it in the"
                     " counter's transaction)"),
    ("token-signature", "token signature and claims (`TokenVerifier.verify`, Ed25519, no I/O)"),
    ("idempotency", "Idempotency-Key: claim + store the answer (`IdempotencyStore`, two durable commits)"),
)


def measure_steps(gateway_db, credentials, token: str, n: int) -> dict[str, Latencies]:
    """The gateway's own per-request steps, called in this process on the gateway's database (pool
    of one connection), round robin so that noise hits them alike; milliseconds each."""
    from gateway.idempotency import IdempotencyStore, fingerprint
    from gateway.ratelimit import RateLimiter
    from gateway.settings import IDEMPOTENCY_TTL_SECONDS
    from services.core.tokens import TokenVerifier

    limiter = RateLimiter(gateway_db, per_token=int(RATE_LIMIT), per_address=int(RATE_LIMIT), window_seconds=60)
    keys = IdempotencyStore(gateway_db, IDEMPOTENCY_TTL_SECONDS)
    verifier = TokenVerifier(credentials.signer.public_key)
    claims = verifier.verify(token, time.time())
    fp = fingerprint(b"", "application/json", b'{"title": "x"}')
    scope = ("token:bench-steps", "POST", "/v1/summits/bench/topics")

    def idempotency() -> None:
        key = str(uuid.uuid4())
        if keys.claim(*scope, key, fp).outcome != "owner":
            raise BenchError("a fresh Idempotency-Key was not taken")
        keys.complete(*scope, key, 201, "application/json", {"Content-Type": "application/json"}, b"{}")

    calls: dict[str, Callable[[], object]] = {
        "limiter": lambda: limiter.hit("addr:bench-steps", False, time.time()),
        "token-record": lambda: credentials.is_live(claims.token_id),
        "token-signature": lambda: verifier.verify(token, time.time()),
        "idempotency": idempotency,
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(n + 20):  # the first 20 rounds are a warm-up
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            if i >= 20:
                times[name].append(1000 * (time.perf_counter() - began))
    labels = dict(STEPS)
    return {name: Latencies(labels[name], values) for name, values in times.items()}


# Where the gateway's CPU goes: own time by category, first match wins on "file:function". Built-ins
# and generic helpers (GENERIC) are charged to the categories of their callers, up the call graph,
# so the environment scan behind requests' proxy look-up lands with that look-up.
GATEWAY_CATEGORIES = (
    ("requests' per-request look-ups in the environment: proxies and .netrc (trust_env)",
     ("urllib/request.py", "requests/utils.py:get_netrc_auth", "requests/utils.py:get_environ_proxies",
      "requests/utils.py:should_bypass_proxies", "netrc.py")),
    ("PostgreSQL: rate counter, token record, Idempotency-Key (psycopg)", ("psycopg", "core/db.py")),
    ("forwarding: requests, urllib3, http.client, sockets (building, sending, parsing)",
     ("requests/", "urllib3/", "http/client.py", "socket.py", "selectors.py", "email/", "urllib/parse.py")),
    ("token check: Ed25519, canonical JSON (tokens.py, cryptography, rfc8785)",
     ("ed25519", "core/tokens.py", "rfc8785", "core/canonical.py")),
    ("access log and metrics (logging, json, prometheus_client)", ("logging/", "prometheus_client", "/json/")),
    ("the profiling harness: Flask's test client (werkzeug/test.py), not in a deployed gateway",
     ("werkzeug/test.py", "bench/")),
    ("Flask and Werkzeug (routing, request and response objects, headers)", ("flask/", "werkzeug/")),
    ("the gateway's own code (access matrix, idempotency, rate-limit headers)", ("gateway/",)),
)
GENERIC = ("<frozen ", "/typing.py", "/contextlib.py", "/functools.py", "/threading.py", "/uuid.py", "/abc.py",
           "/enum.py")
OTHER = "other"


def gateway_category(key: tuple) -> str | None:
    """The category of a function; None for a built-in or a generic helper (charged to its callers)."""
    filename, _, name = key
    label = f"{filename}:{name}".lower()
    for category, needles in GATEWAY_CATEGORIES:
        if any(n in label for n in needles):
            return category
    if filename == "~" or any(g in filename for g in GENERIC):
        return None
    return OTHER


def categorise_up(stats) -> dict[str, float]:
    """Own time per category; uncategorised functions split theirs over their callers' categories
    (weighted by the own time each caller's calls caused), recursively."""
    memo: dict[tuple, dict[str, float]] = {}

    def shares(key: tuple, depth: int = 0) -> dict[str, float]:
        category = gateway_category(key)
        if category is not None:
            return {category: 1.0}
        if key in memo:
            return memo[key]
        memo[key] = {OTHER: 1.0}  # a cycle resolves to "other"
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


def profile_gateway(env: dict[str, str], dep: Deployment, gateway_db, make: Requests, kind: Kind, n: int,
                    log_path: Path) -> ProfileResult:
    """cProfile of the gateway app in this process (Flask's test client, no gunicorn) over `n`
    requests of `kind`, forwarded to the service under gunicorn; its access log goes to `log_path`.
    The profiler's clock is the thread's CPU time, so waiting (for the service, for a commit) is left
    out and the shares are of the gateway's CPU, the resource that limits its requests/s."""
    import cProfile

    from gateway.app import create_app

    app = create_app(dict(dep.upstreams), env=env, database=gateway_db)
    client = app.test_client()

    def send(i: int) -> None:
        path, body, headers = make(kind, i)
        response = client.open(path, method=kind.method, data=body, headers=headers)
        if response.status_code != kind.expect:
            raise BenchError(f"in-process gateway: {kind.method} {path} answered {response.status_code}:"
                             f" {response.get_data()[:300]!r}")

    def loop() -> None:
        for i in range(n):
            send(i)

    profiler = cProfile.Profile(time.thread_time)
    with open(log_path, "a") as log, contextlib.redirect_stderr(log):
        for i in range(50):
            send(-1 - i)
        began = time.perf_counter()
        profiler.runcall(loop)
        seconds = time.perf_counter() - began
    return summarise(f"gateway, {kind.label}", profiler, n, n / seconds, categorise_by=categorise_up)


# ---- the whole benchmark ---------------------------------------------------------------------------


def gateway_source() -> tuple[Path, str]:
    """The directory the gateway package is imported from, and a digest of its source files."""
    import gateway

    root = Path(gateway.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".sql") and path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return root, digest.hexdigest()[:12]


def describe_gateway_code(start: tuple[Path, str], end: tuple[Path, str]) -> str:
    """Where the measured gateway came from: the frozen copy of a `bench.run` run (bench/snapshot.py)
    or, when that copy does not hold it, the repository as it was while the run went on."""
    from .snapshot import is_frozen

    root, digest = start
    if not is_frozen():
        where = f"{root} (not a frozen `bench.run` run)"
    elif root.is_relative_to(Path(__file__).resolve().parent.parent):
        where = "the run's frozen copy"
    else:
        where = f"{root}, live: bench/snapshot.py does not copy it into the frozen copy"
    text = f"gateway package from {where}, digest {digest}"
    if end[1] != digest:
        text += (f"; it changed during the run (digest at the end {end[1]}), so the gateway may have been"
                 " measured mid-edit")
    return text


def drop_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = url_with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run_gateway(servers: Servers, root: Path, p: GatewayParams) -> GatewayResult:
    result = GatewayResult(p)
    code_at_start = gateway_source()

    @contextlib.contextmanager
    def part(name: str) -> Iterator[None]:
        began, load = time.monotonic(), os.getloadavg()[0]
        try:
            yield
        finally:  # a part that runs several times (ABBA) adds up; its load: first start, last end
            result.durations[name] = result.durations.get(name, 0.0) + time.monotonic() - began
            result.loads[name] = (result.loads.get(name, (load,))[0], os.getloadavg()[0])

    with sandbox(servers, root) as box, contextlib.ExitStack() as started:
        gateway_db_url = gateway_database_url(box)
        started.callback(drop_database, servers.database_url, gateway_db_url)  # runs last
        stack = Stack(box.data_dir, env={}, web_workers=2)
        stack.secret("internal.token")
        env = stack_env(box, stack)
        with part(f"set-up: charter, {p.log_entries:,} log entries, checkpoint"):
            gateway_db, credentials = prepare(box, env)
            started.callback(gateway_db.close)
            result.summit_id = box.open_summit()
            say("gateway", f"filling the summit's log with {p.log_entries:,} entries")
            result.log_size, result.checkpoint_size = fill_log(box, result.summit_id, p)
            announce(box, result.summit_id)
            issued = credentials.issue(role="organiser", tenant=CHARTER["municipality"], subject="bench",
                                       issued_by="bench", label="gateway benchmark")
            token = issued.token
        with part("start the services and the gateway under gunicorn"):
            say("gateway", "starting ledger, lottery, agenda, ballot and the gateway under gunicorn")
            dep = started.enter_context(deployed(box, env, stack))
        result.served = dict(dep.served)
        result.web_settings = gunicorn_options(dep.webs["gateway"].child.args)
        meter = Meter(dep.pids())
        make = Requests(result.summit_id, token, result.checkpoint_size, p.seed, credentials.signer,
                        issued.claims.token_id)
        steps = []  # half before the latency runs, half after them: a commit's latency drifts
        with part("the gateway's own steps, in process (before and after the latency runs)"):
            say("gateway", f"the gateway's own steps, {p.step_samples // 2:,} times each, in process")
            steps.append(measure_steps(gateway_db, credentials, token, p.step_samples // 2))
        for kind in KINDS:
            with part(f"latency: {kind.key}"):
                say("gateway", f"latency, {kind.key}: {p.requests:,} requests on each path")
                result.pairs.append(measure_pair(dep, meter, make, kind, p))
        with part("the gateway's own steps, in process (before and after the latency runs)"):
            say("gateway", f"the gateway's own steps, {p.step_samples - p.step_samples // 2:,} times each, in process")
            steps.append(measure_steps(gateway_db, credentials, token, p.step_samples - p.step_samples // 2))
        result.steps = {name: Latencies(lat.label, lat.millis + steps[1][name].millis)
                        for name, lat in steps[0].items()}
        for concurrency, target in throughput_plan(p):
            with part(f"throughput: {target}, {concurrency} clients"):
                say("gateway", f"throughput, {target}, {concurrency} client threads, {p.throughput_seconds:g} s")
                result.throughput.append(measure_throughput(dep, meter, result.summit_id, target, concurrency,
                                                            p, gateway_db_url))
        if p.profile_requests:
            with part("profiles of the gateway, in process"):
                for kind in (KIND["read"], KIND["write-key"]):
                    say("gateway", f"profiled gateway, {kind.key}, {p.profile_requests:,} requests")
                    result.profiles.append(profile_gateway(env, dep, gateway_db, make, kind, p.profile_requests,
                                                           box.logs / "gateway-in-process.log"))
    result.gateway_code = describe_gateway_code(code_at_start, gateway_source())
    return result


def gunicorn_options(args: list[str]) -> str:
    """gunicorn's options from a started web process's command line (without the port and app)."""
    options = args[args.index("gunicorn") + 1:-1]
    if "--bind" in options:
        at = options.index("--bind")
        del options[at:at + 2]
    return " ".join(options)
