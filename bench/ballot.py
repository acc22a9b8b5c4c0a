"""The ballot's benchmark (issue 13, docs/ballot.md): 1,000 voters in a burst through the gateway.

The whole stack runs as `g1000 up` runs it (g1000/stack.py `Stack`: every service and worker under
gunicorn or as `g1000 worker`, the gateway in front) on the bench's servers. Set-up, not timed:
a summit chartered through the gateway, each participant's arrival recorded at the ballot by the
gateway's own `Arrivals.record` (what check-in does) and a participant token issued with the
gateway's `Credentials.issue`; the trustees' key from `g1000 trustee` (g1000/trustee.py `keygen`);
the ballot created and opened. The burst: every voter, on a thread pool of `concurrency`, runs the
client module (g1000/ballot_client.py over ballot_http's fresh connection per request): read the
ballot, ask for the blind credential (RFC 9474) with the token, finalize it, seal (RFC 9180) and
cast with no token. Each request's latency and each failure are recorded. Then the organiser
closes, two trustees submit their shares (timed until the ballot is tallied), and once the ledger
holds every ballot event under a checkpoint, `g1000-verify tally` (g1000_verify.cli `main`) runs
over the log through the gateway (timed). Baselines in the same run, one core, at the ballot's key
size: RFC 9474 blind signatures (g1000_proofs.blind_rsa.blind_sign), RSASSA-PSS verifications
(blind_rsa.verify), and loads of the private key from DER as the credential request does them.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from .gateway import stack_env
from .infra import CHARTER, BenchError, Servers, drop_databases, part_timer, sandbox, say
from .report import durations_table, machine_table, ms, table, verdict
from .stats import Latencies, fmt, rate

GOAL_SECONDS, GOAL_P99_MS = 10.0, 500.0
KINDS = ("read the ballot", "credential request", "cast")


@dataclass(frozen=True)
class BallotParams:
    voters: int = 1_000
    concurrency: int = 32
    baseline_seconds: float = 2.0


@dataclass
class BallotResult:
    params: BallotParams
    key_bits: int = 0
    settings: str = ""
    requests: dict[str, Latencies] = field(default_factory=dict)
    voter_millis: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    burst_seconds: float = 0.0
    close_seconds: float = 0.0
    tally_seconds: float = 0.0
    verify_seconds: float = 0.0
    counted: int = 0
    log_entries: int = 0
    sign_rate: float = 0.0
    verify_rate: float = 0.0
    load_rate: float = 0.0
    durations: dict[str, float] = field(default_factory=dict)
    loads: dict[str, tuple[float, float]] = field(default_factory=dict)


def raw_rates(bits: int, seconds: float) -> tuple[float, float, float]:
    """Blind signatures, signature verifications and loads of the private key from DER (with
    `cryptography`'s RSA key check, as the credential request loads it) per second on one core."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from g1000_proofs import blind_rsa

    variant, key = blind_rsa.PSS_RANDOMIZED, rsa.generate_private_key(public_exponent=65537, key_size=bits)
    prepared = blind_rsa.prepare(secrets.token_bytes(32), variant)
    blinded = blind_rsa.blind(key.public_key(), prepared, variant)
    sig = blind_rsa.finalize(key.public_key(), prepared, blind_rsa.blind_sign(key, blinded.blinded_msg),
                             blinded.inv, variant)

    def per_second(call) -> float:
        count, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds:
            call()
            count += 1
        return rate(count, time.perf_counter() - began)

    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    from services.ballot.modexp import powmod_sec  # the exponentiation the service uses

    return (per_second(lambda: blind_rsa.blind_sign(key, blinded.blinded_msg, powmod=powmod_sec)),
            per_second(lambda: blind_rsa.verify(key.public_key(), prepared, sig, variant)),
            per_second(lambda: serialization.load_der_private_key(der, password=None)))


def wait(what: str, check, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


class Gateway:
    """Set-up calls through the gateway as the organiser (one careful client: Idempotency-Keys)."""

    def __init__(self, base: str, token: str):
        self.base, self.session = base, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int, body: dict | None = None):
        response = self.session.request(method, self.base + path, json=body, timeout=60,
                                        headers={"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {})
        if response.status_code != expect:
            raise BenchError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json() if "json" in response.headers.get("Content-Type", "") else response.text

    def received(self, summit_id: str) -> dict[str, int]:
        """The ledger's count of received events per stream."""
        streams = self.call("GET", f"/v1/summits/{summit_id}/streams", 200)["streams"]
        return {s["stream"]: s["received"] for s in streams}


def burst(gateway: str, summit_id: str, ballot_id: str, tokens: list[str], result: BallotResult) -> None:
    """Every voter obtains a credential and casts, `concurrency` at a time; latencies and errors."""
    from g1000.ballot_client import BallotClient
    from g1000.ballot_http import anonymous_http

    plain = anonymous_http(gateway)
    millis: dict[str, list[float]] = {kind: [] for kind in KINDS}

    def timed(method: str, path: str, body, token):
        kind = KINDS[0] if method == "GET" else KINDS[1] if path.endswith("/credentials") else KINDS[2]
        began = time.perf_counter()
        answer = plain(method, path, body, token)
        millis[kind].append(1000 * (time.perf_counter() - began))  # list.append is atomic
        return answer

    def vote(i: int) -> None:
        began = time.perf_counter()
        try:
            voter = BallotClient(timed, summit_id, ballot_id)
            voter.cast(voter.obtain_credential(tokens[i]), {"approve": [("a", "b", "c")[i % 3]]})
        except Exception as e:  # noqa: BLE001 - every failure is counted and the first ones shown
            result.errors.append(f"{type(e).__name__}: {e}"[:200])
            return
        result.voter_millis.append(1000 * (time.perf_counter() - began))

    began = time.perf_counter()
    with ThreadPoolExecutor(result.params.concurrency) as pool:
        list(pool.map(vote, range(len(tokens))))
    result.burst_seconds = time.perf_counter() - began
    result.requests = {kind: Latencies(kind, values) for kind, values in millis.items()}


def verify_tally(gateway: str, summit_id: str, log_key: str, counted: int) -> float:
    """Seconds of `g1000-verify tally` over the log through the gateway; it must pass and recount
    the votes the service counted."""
    from g1000_verify.cli import main as verify

    out, began = io.StringIO(), time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = verify(["tally", "--gateway", gateway, "--summit", summit_id, "--json", "--log-key", log_key])
    seconds = time.perf_counter() - began
    if code != 0:
        raise BenchError(f"g1000-verify tally exited with {code}: {out.getvalue()[-300:]}")
    recounted = [b.get("counted") for b in json.loads(out.getvalue())["tally"]["ballots"]]
    if recounted != [counted]:
        raise BenchError(f"g1000-verify tally recounted {recounted}, the service counted {counted}")
    return seconds


def ballot_body(sealing: dict) -> dict:
    """An approval ballot of three options, open now for an hour, sealed to the trustees' key."""
    from services.core.envelope import format_time

    now = datetime.now(timezone.utc)
    return {"title": [{"language": "nl", "text": "Welk voorstel?"}], "method": {"kind": "approval", "min": 1, "max": 1},
            "options": [{"option_id": o, "texts": [{"language": "nl", "text": o}]} for o in "abc"],
            "opens_at": format_time(now - timedelta(seconds=1)), "closes_at": format_time(now + timedelta(hours=1)),
            "sealing": sealing}


def run_ballot(servers: Servers, root: Path, p: BallotParams) -> BallotResult:
    from g1000 import trustee
    from g1000.stack import Stack
    from gateway.arrivals import Arrivals
    from gateway.credentials import Credentials, token_signer
    from gateway.database import open_gateway_database
    from gateway.settings import load_gateway_settings
    from services.core.config import load_config

    result = BallotResult(p)
    part = part_timer(result.durations, result.loads)
    with sandbox(servers, root) as box, contextlib.ExitStack() as started, tempfile.TemporaryDirectory() as keys:
        started.callback(drop_databases, servers.database_url, [f"{box.tag}_gateway"])  # runs last
        env = stack_env(box)
        stack = Stack(box.data_dir, env=env)
        with part("start the stack (services, workers, gateway)"):
            say("ballot", "starting the stack as `g1000 up` does")
            started.callback(stack.stop)
            stack.start()
        config, gw = load_config("ballot", env), stack.urls["gateway"]
        result.key_bits = config.ballot_key_bits
        result.settings = (f"{stack.web_workers} gunicorn workers per app; a batch of casts every"
                           f" {config.ballot_batch} waiting or {config.ballot_batch_seconds} s")
        settings = load_gateway_settings(env)
        gateway_db = open_gateway_database(settings.database_url, pool_size=4)
        started.callback(gateway_db.close)
        credentials = Credentials(gateway_db, token_signer(settings))
        tenant = CHARTER["municipality"]
        with part(f"set-up: summit, {p.voters:,} arrivals and tokens, trustees' key, ballot opened"):
            org = Gateway(gw, credentials.issue(role="organiser", tenant=tenant, subject="bench",
                                                issued_by="bench", label="ballot benchmark").token)
            summit_id = org.call("POST", "/v1/summits", 201, {
                "theme": CHARTER["theme"], "municipality": tenant, "date": "2027-03-14", "seats": CHARTER["seats"],
                "register": {"features": CHARTER["features"]}})["summit_id"]
            base = f"/v1/summits/{summit_id}/ballots"
            wait("the ballot to learn of the summit", lambda: org.session.get(gw + base).status_code == 200)
            arrivals = Arrivals(requests.Session(), stack.urls["ballot"], token_signer(settings), timeout=30)
            pseudonyms = [secrets.token_hex(16) for _ in range(p.voters)]
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda ps: arrivals.record(summit_id, ps), pseudonyms))
            tokens = [credentials.issue(role="participant", tenant=tenant, subject=ps, issued_by="bench",
                                        summit_id=summit_id).token for ps in pseudonyms]
            made = trustee.keygen(2, 3, ["notaris", "burgerdelegatie", "griffie"], Path(keys) / "keys")
            ballot_id = org.call("POST", base, 201, ballot_body(made.public))["ballot_id"]
            roll = org.call("POST", f"{base}/{ballot_id}/open", 200)["roll"]["count"]
            if roll != p.voters:
                raise BenchError(f"the roll holds {roll} participants, not {p.voters}")
        with part(f"burst: {p.voters:,} voters, {p.concurrency} at a time"):
            say("ballot", f"burst: {p.voters:,} voters, credential + cast, {p.concurrency} threads")
            burst(gw, summit_id, ballot_id, tokens, result)
        with part("close, shares, tally"):
            began = time.perf_counter()
            org.call("POST", f"{base}/{ballot_id}/close", 200)
            result.close_seconds = time.perf_counter() - began
            began = time.perf_counter()
            for share in made.share_files[:2]:
                trustee.submit(gw, summit_id, ballot_id, share, trustee.http_post)
            wait("the tally", lambda: org.call("GET", f"{base}/{ballot_id}", 200)["state"] == "tallied", 600)
            result.tally_seconds = time.perf_counter() - began
            result.counted = org.call("GET", f"{base}/{ballot_id}", 200)["counted"]
        with part("wait for the log and a checkpoint over it"):
            expected = 3 * p.voters + 5  # arrivals, created, opened, credentials, casts, closed, key, tally
            wait("the ledger to receive every ballot event",
                 lambda: org.received(summit_id).get("ballot", 0) >= expected, 600)
            total = result.log_entries = sum(org.received(summit_id).values())
            wait("a checkpoint over the log", lambda: (org.call("GET", f"/v1/logs/{summit_id}/checkpoints", 200)
                                                       ["checkpoints"] or [{"tree_size": 0}])[-1]["tree_size"] >= total)
        with part("g1000-verify tally over the log"):
            say("ballot", f"g1000-verify tally over {total:,} log entries")
            key = org.call("GET", f"/v1/logs/{summit_id}/key", 200).strip()
            result.verify_seconds = verify_tally(gw, summit_id, key, result.counted)
    with part("baselines: RSA blind-sign, verify and key load, one core"):
        result.sign_rate, result.verify_rate, result.load_rate = raw_rates(result.key_bits, p.baseline_seconds)
    return result


def latency_row(label: str, millis: list[float]) -> tuple:
    lat = Latencies(label, millis)
    return label, f"{len(millis):,}", ms(lat.p(50)), ms(lat.p(99)), ms(max(millis))


def versus(label: str, seconds: float, votes: int, raw: str, raw_rate: float) -> tuple:
    """A row of seconds and votes/s, against a raw RSA rate (the ratio is ours over it)."""
    ours = votes / seconds
    return label, f"{seconds:.2f}", fmt(ours), f"{raw} {fmt(raw_rate)}/s", f"{ours / raw_rate:.3f}"


def ballot_section(res: BallotResult, machine: dict[str, str]) -> str:
    p, n, done, bits = res.params, res.params.voters, len(res.voter_millis), res.key_bits
    every = [m for lat in res.requests.values() for m in lat.millis]
    p99 = Latencies("all", every).p(99) if every else float("inf")
    ours, ok = done / res.burst_seconds, done == n and not res.errors
    return "\n\n".join([
        f"## Ballot: {n:,} voters obtaining a credential and casting through the gateway",
        f"The whole stack as `g1000 up` runs it; {n:,} checked-in participants, each reading the ballot,"
        f" asking for a blind credential with their token and casting a sealed vote without one, through"
        f" the gateway, {p.concurrency} voters at a time (method: bench/ballot.py). {bits}-bit"
        f" credential key; {res.settings}. **One run**; baselines on one core of the same machine.",
        machine_table(machine),
        table(("the burst", "value", "goal"), [
            ("voters who cast (of all)", f"{done:,} of {n:,}", f"all {verdict(done == n)}"),
            ("errors", f"{len(res.errors):,}", f"0 {verdict(not res.errors)}"),
            ("all casts done in", f"{res.burst_seconds:.2f} s",
             f"≤ {GOAL_SECONDS:g} s {verdict(ok and res.burst_seconds <= GOAL_SECONDS)}"),
            ("throughput", f"{fmt(ours)} voters/s ({fmt(3 * ours)} requests/s)", ""),
            ("p99 of every request", f"{ms(p99)} ms", f"< {GOAL_P99_MS:g} ms {verdict(p99 < GOAL_P99_MS)}"),
        ]),
        table(("latency (ms)", "requests", "p50", "p99", "max"),
              [latency_row(lat.label, lat.millis) for lat in res.requests.values() if lat.millis]
              + ([latency_row("one voter: all three", res.voter_millis)] if res.voter_millis else [])),
        table(("after the burst", "seconds", "votes/s", f"raw RSA at {bits} bits, one core", "ratio"), [
            versus("the burst (one blind signature per voter)", res.burst_seconds, done, "blind-sign", res.sign_rate),
            versus("the burst (one key load per credential)", res.burst_seconds, done, "DER key load", res.load_rate),
            ("close", f"{res.close_seconds:.2f}", "", "", ""),
            versus("two shares until tallied", res.tally_seconds, res.counted, "verify", res.verify_rate),
            versus(f"`g1000-verify tally`, {res.log_entries:,} log entries via the gateway", res.verify_seconds,
                   res.counted, "verify", res.verify_rate),
        ]),
        *([table(("first errors",), [(e.replace("|", "/"),) for e in res.errors[:5]])] if res.errors else []),
        durations_table(res.durations, res.loads, "total"),
    ])
