"""Helpers shared by integration and end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from services.core.config import load_config
from services.core.runtime import Runtime, bootstrap, prepare_broker


def issue_token(env: dict, role: str = "organiser", tenant: str = "Teststad", summit_id: str | None = None,
                subject: str = "test-subject", ttl_seconds: int = 3600, now: float | None = None) -> str:
    """A token signed with the test environment's token key, as the gateway issues them. Services
    check signature, expiry, role and summit; only the gateway also checks its record (revocation),
    so gateway tests issue through gateway.credentials instead."""
    from services.core.signing import load_signer
    from services.core.tokens import issue, new_claims

    signer = load_signer(Path(env["G1000_DATA_DIR"]) / "secrets" / "tokens.key")
    claims = new_claims(role=role, tenant=tenant, subject=subject, now=int(time.time() if now is None else now),
                        ttl_seconds=ttl_seconds, summit_id=summit_id)
    return issue(signer, claims)


@contextmanager
def superuser_transaction(rt: Runtime, admin_server_url: str):
    """A transaction on `rt`'s database as the server's administrator, with the append-only
    triggers off (session_replication_role): how a test damages a store below the service, which
    the service's own role cannot (tests/integration/test_database_roles.py)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from services.core.db import database_url

    url = database_url(admin_server_url, conninfo_to_dict(rt.config.database_url)["dbname"])
    with psycopg.connect(url) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            yield conn


class Vouching:
    """WSGI middleware that vouches for every request as the gateway does (services/core/vouch.py),
    for tests that call a service app directly. `vouching_client(app, env)` is its test client."""

    def __init__(self, app, signer):
        self.app = app
        self.signer = signer

    def __call__(self, environ, start_response):
        import io

        from services.core.tokens import TokenError, TokenVerifier
        from services.core.tokens import bearer as bearer_token
        from services.core.vouch import sign_vouch, target_of

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        token = bearer_token(environ.get("HTTP_AUTHORIZATION"))
        token_id = None
        if token is not None:
            try:
                token_id = TokenVerifier(self.signer.public_key).verify(token, time.time()).token_id
            except TokenError:
                pass
        environ["HTTP_G1000_VOUCH"] = sign_vouch(
            self.signer, method=environ["REQUEST_METHOD"],
            target=target_of(environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")),
            body=body, token_id=token_id, now=time.time())
        return self.app(environ, start_response)


def vouching_client(app, env: dict):
    """A test client of a service app whose requests carry the gateway's vouch."""
    from services.core.signing import load_signer

    app.wsgi_app = Vouching(app.wsgi_app, load_signer(Path(env["G1000_DATA_DIR"]) / "secrets" / "tokens.key"))
    return app.test_client()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def internal_headers(env: dict) -> dict:
    """The platform's internal credential (operator endpoints under /internal)."""
    return bearer(Path(env["G1000_INTERNAL_TOKEN_FILE"]).read_text().strip())


def runtime_for(service: str, env: dict) -> Runtime:
    from g1000.services import spec_for

    config = load_config(service, env)
    rt = bootstrap(spec_for(service), config, pool_size=4)
    prepare_broker(config)
    return rt


def wait_until(check: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def running(target: Callable[[threading.Event], None]):
    """Run a loop (relay or consumer) in a thread until the block ends."""
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(stop,), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "worker thread did not stop"


def spawn_worker(kind: str, service: str, env: dict, failpoints: str = "") -> subprocess.Popen:
    """Start `g1000 worker KIND SERVICE` as its own process (so it can be SIGKILLed).

    Its output goes to a file beside the test's data directory; `proc.log_path` names it.
    """
    child_env = dict(os.environ, **env)
    child_env["G1000_FAILPOINTS"] = failpoints
    log_path = Path(env["G1000_DATA_DIR"]).parent / f"{kind}-{service}-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "g1000.cli", "worker", kind, service], env=child_env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path
    return proc


def log_tail(proc: subprocess.Popen, chars: int = 2000) -> str:
    return proc.log_path.read_text(errors="replace")[-chars:]


def count(rt: Runtime, sql: str, *params) -> int:
    with rt.db.transaction() as conn:
        return conn.execute(sql, params).fetchone()[0]


def caught_up(rt: Runtime) -> bool:
    """True when the service's consumer group has committed offsets up to the end of its topics."""
    from kafka import KafkaConsumer, TopicPartition

    # A consumer that never subscribes does not join the group; it only reads its offsets.
    probe = KafkaConsumer(bootstrap_servers=rt.config.kafka_bootstrap, group_id=f"{rt.spec.name}-consumer",
                          enable_auto_commit=False)
    try:
        partitions = [TopicPartition(t, p) for t in rt.consumed_topics()
                      for p in (probe.partitions_for_topic(t) or ())]
        ends = probe.end_offsets(partitions)
        return all(ends[tp] == 0 or (probe.committed(tp) or 0) >= ends[tp] for tp in partitions)
    finally:
        probe.close()


# The register vocabulary the tests' charters declare (ledger.summit.created v2, issue 10 H1/H2).
AGES = ("16-29", "30-59", "60+")
HOODS = ("centrum", "noord", "zuid")
VOCABULARY = {"age_band": list(AGES), "education": ["low", "mid", "high"], "gender": ["f", "m", "x"],
              "neighbourhood": list(HOODS)}
REGISTER = {"features": VOCABULARY}


def opaque(label: str) -> str:
    """A deterministic opaque id (32 lowercase hex characters) for a test's label, e.g. "p007"."""
    import hashlib

    return hashlib.sha256(label.encode()).hexdigest()[:32]


def open_test_summit(ledger: Runtime, features: dict | None = None) -> str:
    """A summit with its log opened (genesis appended), as POST /v1/summits does it."""
    from datetime import date

    from services.ledger.summits import open_summit

    return open_summit(ledger, theme="Samen leven", municipality="Teststad", day=date(2027, 3, 14),
                       seats={"citizens": 900, "employers": 100},
                       features=VOCABULARY if features is None else features)


def log_count(rt: Runtime, summit: str | None = None, stream: str = "agenda") -> int:
    """Entries of `stream` in the ledger's logs (of one summit, or all)."""
    if summit is None:
        return count(rt, "SELECT count(*) FROM log_entries WHERE stream = %s", stream)
    return count(rt, "SELECT count(*) FROM log_entries WHERE summit_id = %s AND stream = %s", summit, stream)
