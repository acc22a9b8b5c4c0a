"""The gateway benchmark: what a request pays for going through the gateway instead of straight to
the service that answers it, and how many public reads per second the stack serves through it.

Every client request passes the gateway (gateway/app.py): access matrix, bearer token and its
record, a rate-limit count in its database, an Idempotency-Key claim, a second HTTP hop. The issue
asks for that overhead against calling the service directly, in the same run, and for requests/s.
The stack is the one `g1000 up` runs (the services and the gateway under gunicorn, its command line
and environment) in a sandbox, with the rate limits at their maximum so the limiter counts every
request but refuses none. Untimed set-up: a summit whose log holds `log_entries` events under a
checkpoint (carried by `g1000 worker` processes, stopped before anything is timed), the agenda told
of the summit (its `ledger.summit.created` applied in process), an organiser token on the gateway's
record (as `g1000 admin` issues it).

1. Latency: one client, one keep-alive connection per path, requests alternating direct / gateway
   with the order swapped every pair, so noise and caches hit both alike.
2. Throughput: the public read from `concurrency` client threads, each from its own loopback
   address (one rate-limit counter each, as distinct citizens), in ABBA order; at the highest
   concurrency also all on one address (one hot counter row). The client is `http.client`, the
   thinnest in the standard library, sharing the cores with the servers.
3. CPU: each gunicorn tree, PostgreSQL, the client and the machine (bench/cpu.py); the gateway's own
   steps timed alone in this process; a cProfile of the gateway app in this process on the thread's
   CPU clock.
"""

from __future__ import annotations

import contextlib
import cProfile
import http.client
import json
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from g1000.procs import stop_process
from g1000.services import SERVICE_MODULES
from g1000.stack import Stack
from services.core.config import SERVICES
from services.core.vouch import HEADER as VOUCH_HEADER
from services.core.vouch import sign_vouch

from .cpu import CpuUse, snapshot
from .infra import (CHARTER, BenchError, LogWatch, Sandbox, Servers, Web, drop_databases, ensure_alive, part_timer,
                    sandbox, say, start_web, wait_ready)
from .ledger import LedgerParams, measure_ingest
from .profiling import ProfileResult, summarise
from .stats import Latencies

RATE_LIMIT = "1000000"  # the largest the gateway accepts (gateway/settings.py): counts, never refuses
IDLE_SECONDS = 1.0  # a connection idle this long is reopened before the next timed request


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
    step_samples: int = 1_000  # timings of each of the gateway's own steps, in process
    profile_requests: int = 300  # requests of each profiled kind (0: no profile)
    seed: int = 4417


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # what the report calls it
    service: str  # who answers it directly
    method: str
    expect: int  # the status every answer must have
    idempotency: bool = False  # a fresh Idempotency-Key on every request
    forwarded: bool = True  # False: /healthz, answered by each server itself


KINDS = (
    Kind("healthz", "`GET /healthz`, answered by the server itself (no forwarding, no database)", "ledger",
         "GET", 200, forwarded=False),
    Kind("read", "public read `GET /v1/summits/{id}`", "ledger", "GET", 200),
    Kind("proof", "log read `GET /v1/logs/{id}/proofs/inclusion`", "ledger", "GET", 200),
    Kind("write", "organiser write `POST /v1/summits/{id}/topics`", "agenda", "POST", 201),
    Kind("write-key", "the same write with an `Idempotency-Key`", "agenda", "POST", 201, idempotency=True),
)
KIND = {kind.key: kind for kind in KINDS}


@dataclass
class Pair:
    kind: Kind
    direct: Latencies
    gateway: Latencies
    usage: CpuUse  # over the timed requests of both paths, with each gunicorn tree


@dataclass
class ThroughputRun:
    target: str  # "direct", "gateway", "gateway, one address"
    concurrency: int
    requests: int  # completed inside the window
    errors: int
    seconds: float  # the window
    latency: Latencies
    usage: CpuUse
    buckets: int | None = None  # rate-limit counters seen by the gateway afterwards (gateway runs)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class GatewayResult:
    params: GatewayParams
    log_size: int = 0
    checkpoint_size: int = 0
    web_settings: str = ""
    pairs: list[Pair] = field(default_factory=list)
    throughput: list[ThroughputRun] = field(default_factory=list)
    steps: dict[str, Latencies] = field(default_factory=dict)  # the gateway's own steps, in process
    profiles: list[ProfileResult] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    loads: dict[str, tuple[float, float]] = field(default_factory=dict)


class Client:
    """One keep-alive HTTP/1.1 connection (`http.client`: little CPU of its own per request, so more
    of the cores go to the servers). A connection idle for IDLE_SECONDS is reopened, untimed, before
    the next request (gunicorn closes idle keep-alive connections after 2 s); one the server closed
    under a request is reopened and the request sent again, untimed."""

    def __init__(self, base: str, source: str | None = None):
        parts = urlsplit(base)
        self.host, self.port, self.source = parts.hostname, parts.port, (source, 0) if source else None
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0.0

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
                self._open()
                continue
            millis, self.used = 1000 * (time.perf_counter() - began), time.monotonic()
            if response.will_close:
                self.close()
            return millis, response.status, data
        raise AssertionError("unreachable")


# ---- the stack under gunicorn ---------------------------------------------------------------------


@dataclass
class Deployment:
    """The gunicorn processes of one run, by name."""

    webs: dict[str, Web] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.webs[name].base

    def cpu(self):
        """A CPU reading with each gunicorn tree (master + workers) named, to subtract later."""
        return snapshot({name: web.child.process.pid for name, web in self.webs.items()})

    def ensure_alive(self) -> None:
        for web in self.webs.values():
            ensure_alive(web.child)


def stack_env(box: Sandbox) -> dict[str, str]:
    """What `g1000 up` gives its children, plus the gateway's own database and the raised limits."""
    return {**box.child_env(), "G1000_GATEWAY_DATABASE_URL": box.database_url("gateway"),
            "G1000_RATE_LIMIT_PER_MINUTE": RATE_LIMIT, "G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE": RATE_LIMIT}


@contextlib.contextmanager
def deployed(box: Sandbox, env: dict[str, str], stack: Stack) -> Iterator[Deployment]:
    """The four services, then the gateway pointing at them, under gunicorn; stopped by pid."""
    dep = Deployment()
    try:
        for name in SERVICES:
            dep.webs[name] = start_web(stack, name, f"{SERVICE_MODULES[name]}:create_app()", env)
        for name in SERVICES:
            wait_ready(dep.webs[name])
        metrics_dir = box.data_dir / "metrics" / "gateway"  # prometheus-client multiprocess mode
        metrics_dir.mkdir(parents=True, exist_ok=True)
        gw_env = {**env, **{f"G1000_{n.upper()}_URL": dep.url(n) for n in SERVICES},
                  "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir.resolve())}
        dep.webs["gateway"] = start_web(stack, "gateway", "gateway.app:create_app()", gw_env)
        wait_ready(dep.webs["gateway"])
        yield dep
    finally:
        for web in reversed(list(dep.webs.values())):
            stop_process(web.child.process, signal.SIGTERM, timeout=15)


def fill_log(box: Sandbox, summit_id: str, p: GatewayParams) -> tuple[int, int]:
    """Carry `log_entries` agenda events into the log as the ledger benchmark's ingest does, until a
    checkpoint covers them (workers stopped after); then tell the agenda of the summit, as its
    consume worker would. Returns the log's size and the checkpoint's."""
    ingest = measure_ingest(box, summit_id, LedgerParams(entries=p.log_entries, batch=p.log_batch))
    with LogWatch(box, summit_id) as watch:
        size, checkpoint = watch.size(), watch.checkpoint()
    with box.runtime("ledger").db.transaction() as conn:
        rows = conn.execute("SELECT seq, body FROM events WHERE summit_id = %s AND type = 'ledger.summit.created'",
                            (summit_id,)).fetchall()
    if not rows or size != ingest.genesis + p.log_entries:
        raise BenchError(f"the log holds {size} entries, or the ledger has no ledger.summit.created event")
    box.runtime("agenda").consumer().process([(f"bench:{seq}", bytes(body)) for seq, body in rows])
    return size, checkpoint


# ---- 1. latency -------------------------------------------------------------------------------------


class Requests:
    """The request of kind `kind` number `i`: identical on both paths (a write differs only in the
    topic's title and its Idempotency-Key). A write sent directly carries the vouch the gateway
    would add (a service acts only on a vouched request; the gateway replaces it)."""

    def __init__(self, summit_id: str, token: str, proof_size: int, seed: int, signer, token_id: str):
        self.summit_id, self.token, self.proof_size, self.signer, self.token_id = \
            summit_id, token, proof_size, signer, token_id
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
        path = f"/v1/summits/{self.summit_id}/topics"
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                   VOUCH_HEADER: sign_vouch(self.signer, method="POST", target=path, body=body,
                                            token_id=self.token_id, now=time.time())}
        if kind.idempotency:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        return path, body, headers


def one(client: Client, kind: Kind, path: str, body: bytes | None, headers: dict[str, str]) -> float:
    millis, status, data = client.request(kind.method, path, body, headers)
    if status != kind.expect:
        raise BenchError(f"{kind.method} {path} answered {status} (expected {kind.expect}): {data[:300]!r}")
    return millis


def measure_pair(dep: Deployment, make: Requests, kind: Kind, p: GatewayParams) -> Pair:
    """`warmup` then `requests` of one kind on each path, alternating; the order swaps every pair."""
    clients = (Client(dep.url(kind.service)), Client(dep.url("gateway")))
    times: tuple[list[float], list[float]] = ([], [])
    try:
        for i in range(p.warmup):
            for client in clients:
                one(client, kind, *make(kind, -1 - i))
        dep.ensure_alive()
        before = dep.cpu()
        for i in range(p.requests):
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                times[which].append(one(clients[which], kind, *make(kind, i)))
        usage = dep.cpu().since(before)
    finally:
        for client in clients:
            client.close()
    dep.ensure_alive()
    return Pair(kind, Latencies(f"direct to the {kind.service}", times[0]), Latencies("through the gateway", times[1]),
                usage)


# ---- 2. throughput ------------------------------------------------------------------------------


def measure_throughput(dep: Deployment, summit_id: str, target: str, concurrency: int, p: GatewayParams,
                       gateway_db) -> ThroughputRun:
    """`concurrency` client threads reading the summit's charter as fast as they are answered; the
    window opens `throughput_warmup` s after they start and lasts `throughput_seconds`. Each thread
    connects from its own loopback address 127.0.x.y (Linux routes all of 127/8 to loopback)."""
    base = dep.url("ledger") if target == "direct" else dep.url("gateway")
    one_address = target == "gateway, one address"
    stop = threading.Event()
    done: list[list[tuple[float, float]]] = [[] for _ in range(concurrency)]  # (end time, ms)
    errors, failures = [0] * concurrency, []

    def run(k: int) -> None:
        client = Client(base, None if one_address else f"127.0.{(k + 2) // 256}.{(k + 2) % 256}")
        try:
            while not stop.is_set():
                millis, status, _ = client.request("GET", f"/v1/summits/{summit_id}")
                if status == 200:
                    done[k].append((time.perf_counter(), millis))
                else:
                    errors[k] += 1
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            failures.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(p.throughput_warmup)
        opened, before = time.perf_counter(), dep.cpu()
        time.sleep(p.throughput_seconds)
        closed, after = time.perf_counter(), dep.cpu()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    if failures:
        raise BenchError(f"a client thread failed ({target}, {concurrency} threads): {failures[0]!r}")
    dep.ensure_alive()
    inside = [ms for per in done for end, ms in per if opened <= end < closed]
    if not inside:
        raise BenchError(f"no request completed in the window ({target}, {concurrency} threads)")
    buckets = None
    if target != "direct":
        with gateway_db.transaction() as conn:
            buckets = conn.execute("SELECT count(*) FROM rate_counters WHERE bucket LIKE 'addr:%'").fetchone()[0]
    return ThroughputRun(target, concurrency, len(inside), sum(errors), closed - opened, Latencies(target, inside),
                         after.since(before), buckets)


def throughput_plan(p: GatewayParams) -> list[tuple[int, str]]:
    """(concurrency, target) in ABBA order per concurrency; at the highest concurrency the gateway
    also with every client on one address."""
    plan = []
    for c in p.concurrency:
        targets = ["direct", "gateway"] + (["gateway, one address"] if c == max(p.concurrency) else [])
        for rep in range(p.throughput_repeat):
            plan += [(c, t) for t in (targets if rep % 2 == 0 else targets[::-1])]
    return plan


# ---- 3. the gateway's own steps, and where its time goes ------------------------------------------


STEPS = {
    "limiter": "rate limit: count the request (`RateLimiter.hit`, one statement and its commit, unlogged table)",
    "token-record": "token record: is it live? (`Credentials.is_live`, one read; the gateway makes it in the"
                    " counter's transaction)",
    "token-signature": "token signature and claims (`TokenVerifier.verify`, Ed25519, no I/O)",
    "idempotency": "Idempotency-Key: claim + store the answer (`IdempotencyStore`, two durable commits)",
}


def measure_steps(gateway_db, credentials, token: str, n: int) -> dict[str, Latencies]:
    """The gateway's own per-request steps, called in this process on the gateway's database, round
    robin so that noise hits them alike, after 20 rounds of warm-up; milliseconds each."""
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
    for i in range(n + 20):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            if i >= 20:
                times[name].append(1000 * (time.perf_counter() - began))
    return {name: Latencies(STEPS[name], values) for name, values in times.items()}


# Where the gateway's CPU goes (bench/profiling.py: first match wins; built-ins and GENERIC helpers
# are charged to their callers up the call graph).
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


def profile_gateway(env: dict[str, str], dep: Deployment, gateway_db, make: Requests, kind: Kind, n: int,
                    log_path: Path) -> ProfileResult:
    """cProfile of the gateway app in this process (Flask's test client, no gunicorn) over `n`
    requests of `kind`, forwarded to the service under gunicorn, its access log to `log_path`. The
    profiler's clock is the thread's CPU time, so waiting (for the service, a commit) is left out:
    the shares are of the gateway's CPU, the resource that limits its requests/s."""
    from gateway.app import create_app

    upstreams = {name: dep.url(name) for name in SERVICES}
    client = create_app(upstreams, env=env, database=gateway_db).test_client()

    def send(i: int) -> None:
        path, body, headers = make(kind, i)
        response = client.open(path, method=kind.method, data=body, headers=headers)
        if response.status_code != kind.expect:
            raise BenchError(f"in-process gateway: {kind.method} {path} answered {response.status_code}:"
                             f" {response.get_data()[:300]!r}")

    profiler = cProfile.Profile(time.thread_time)
    with open(log_path, "a") as log, contextlib.redirect_stderr(log):
        for i in range(50):
            send(-1 - i)
        began = time.perf_counter()
        profiler.runcall(lambda: [send(i) for i in range(n)])
        seconds = time.perf_counter() - began
    return summarise(f"gateway, {kind.label}", profiler, n, n / seconds, GATEWAY_CATEGORIES, GENERIC, cpu_clock=True)


# ---- the whole benchmark ---------------------------------------------------------------------------


def run_gateway(servers: Servers, root: Path, p: GatewayParams) -> GatewayResult:
    from gateway.credentials import Credentials, token_signer
    from gateway.database import open_gateway_database
    from gateway.settings import load_gateway_settings

    result = GatewayResult(p)
    part = part_timer(result.durations, result.loads)
    with sandbox(servers, root) as box, contextlib.ExitStack() as started:
        started.callback(drop_databases, servers.database_url, [f"{box.tag}_gateway"])  # runs last
        stack, env = Stack(box.data_dir, env={}, web_workers=2), stack_env(box)
        with part(f"set-up: charter, {p.log_entries:,} log entries, checkpoint"):
            for name in SERVICES:  # databases, migrations, keys and topics first, as `g1000 up` does
                box.runtime(name)
            settings = load_gateway_settings(env)
            gateway_db = open_gateway_database(settings.database_url, pool_size=2)
            started.callback(gateway_db.close)
            credentials = Credentials(gateway_db, token_signer(settings))
            summit_id = box.open_summit()
            say("gateway", f"filling the summit's log with {p.log_entries:,} entries")
            result.log_size, result.checkpoint_size = fill_log(box, summit_id, p)
            issued = credentials.issue(role="organiser", tenant=CHARTER["municipality"], subject="bench",
                                       issued_by="bench", label="gateway benchmark")
        with part("start the services and the gateway under gunicorn"):
            say("gateway", "starting ledger, lottery, agenda, ballot and the gateway under gunicorn")
            dep = started.enter_context(deployed(box, env, stack))
        args = dep.webs["gateway"].child.args
        result.web_settings = " ".join(args[args.index("--workers"):-1])
        make = Requests(summit_id, issued.token, result.checkpoint_size, p.seed, credentials.signer,
                        issued.claims.token_id)
        for kind in KINDS:
            with part(f"latency: {kind.key}"):
                say("gateway", f"latency, {kind.key}: {p.requests:,} requests on each path")
                result.pairs.append(measure_pair(dep, make, kind, p))
        with part("the gateway's own steps, in process"):
            say("gateway", f"the gateway's own steps, {p.step_samples:,} times each, in process")
            result.steps = measure_steps(gateway_db, credentials, issued.token, p.step_samples)
        for concurrency, target in throughput_plan(p):
            with part(f"throughput: {target}, {concurrency} clients"):
                say("gateway", f"throughput, {target}, {concurrency} client threads, {p.throughput_seconds:g} s")
                result.throughput.append(measure_throughput(dep, summit_id, target, concurrency, p, gateway_db))
        if p.profile_requests:
            with part("profiles of the gateway, in process"):
                for kind in (KIND["read"], KIND["write-key"]):
                    say("gateway", f"profiled gateway, {kind.key}, {p.profile_requests:,} requests")
                    result.profiles.append(profile_gateway(env, dep, gateway_db, make, kind, p.profile_requests,
                                                           box.logs / "gateway-in-process.log"))
    return result
