"""A stalled or restarted PostgreSQL (M4, L7): requests answer 503 problem+json within a few seconds,
health endpoints never wait on it, and everything works again once it is back.

These tests freeze (SIGSTOP) or restart every process of a PostgreSQL of their own, never the
session's server that the other tests share.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.database import open_gateway_database
from gateway.settings import load_gateway_settings
from services.core.db import database_url
from services.core.runtime import create_service_app
from tests.helpers import runtime_for, wait_until
from tests.integration.gateway_support import UNREACHABLE, serve

pytestmark = pytest.mark.integration

FEW_SECONDS = 8.0  # the default bounds: 5 s statement timeout + 1 s, or 3 s for a pooled connection


@pytest.fixture
def own_server():
    if os.environ.get("G1000_DATABASE_URL"):
        pytest.skip("needs an embedded PostgreSQL of its own to freeze")
    from g1000.embedded import EmbeddedPostgres

    root = Path(tempfile.mkdtemp(prefix="g1000-test-stall-"))
    server = EmbeddedPostgres(root / "pg", fast_unsafe=True).start()
    try:
        yield server
    finally:
        _signal(server, signal.SIGCONT)
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def stack_on_own_server(own_server, service_env):
    """The agenda service and a gateway in front of it, both on `own_server`."""
    tag = uuid.uuid4().hex[:10]
    env = dict(service_env, G1000_DATABASE_URL=own_server.url)
    env.pop("G1000_MIGRATION_DATABASE_URL")  # the session server's owner: one role here, the superuser
    for service in ("ledger", "lottery", "agenda", "ballot"):
        env[f"G1000_{service.upper()}_DATABASE_URL"] = database_url(own_server.url, f"s{tag}_{service}")
    env["G1000_GATEWAY_DATABASE_URL"] = database_url(own_server.url, f"s{tag}_gateway")
    agenda = runtime_for("agenda", env)
    server, thread, url = serve(create_service_app(agenda))
    settings = load_gateway_settings(env)
    db = open_gateway_database(settings.database_url, pool_size=4, timeouts=settings.db_timeouts)
    upstreams = {"ledger": UNREACHABLE, "agenda": url, "lottery": UNREACHABLE, "ballot": UNREACHABLE}
    gateway = create_app(upstreams, env=env, database=db)
    try:
        yield agenda, create_service_app(agenda).test_client(), gateway.test_client()
    finally:
        _signal(own_server, signal.SIGCONT)
        server.shutdown()
        db.close()
        agenda.db.close()


def _postgres_processes(server) -> list[int]:
    """The postmaster and its children (each backend runs in a session of its own, so the
    postmaster's process group does not reach them)."""
    pids = [server.process.pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == server.process.pid:
                pids.append(int(entry.name))
    return pids


def _signal(server, signum) -> None:
    for pid in _postgres_processes(server):  # the postmaster first: it then forks no new backend
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def _topics() -> str:
    return f"/v1/summits/{uuid.uuid4()}/topics"


def _timed(client, path):
    started = time.monotonic()
    answer = client.get(path)
    return answer, time.monotonic() - started


def _assert_unavailable(answer, seconds):
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.content_type == "application/problem+json"
    assert seconds < FEW_SECONDS, f"answered after {seconds:.1f} s"


def test_a_frozen_database_answers_503_within_seconds_and_health_at_once(own_server, stack_on_own_server):
    _, service, gateway = stack_on_own_server
    assert service.get(_topics()).status_code == 404  # working: no such summit
    assert gateway.get(_topics()).status_code == 404
    _signal(own_server, signal.SIGSTOP)  # the postmaster and every backend
    try:
        outcomes = {}
        threads = [threading.Thread(target=lambda n=n, c=c: outcomes.__setitem__(n, _timed(c, _topics())))
                   for n, c in (("service", service), ("gateway", gateway))]
        for t in threads:
            t.start()
        time.sleep(0.5)  # both are now waiting on the frozen database
        for client in (service, gateway):
            answer, seconds = _timed(client, "/healthz")
            assert answer.status_code == 200 and seconds < 1.0
        answer, seconds = _timed(gateway, "/metrics")
        assert answer.status_code == 200 and seconds < 1.0
        for t in threads:
            t.join(timeout=30)
        for name in ("service", "gateway"):
            _assert_unavailable(*outcomes[name])
        for client in (service, gateway):  # a second request, now without a pooled connection
            _assert_unavailable(*_timed(client, _topics()))
            answer, seconds = _timed(client, "/readyz")
            assert answer.status_code == 503 and seconds < FEW_SECONDS
    finally:
        _signal(own_server, signal.SIGCONT)
    for client in (service, gateway):
        wait_until(lambda c=client: c.get(_topics()).status_code == 404, timeout=15, what="recovery")
        assert client.get("/readyz").status_code in (200, 503)  # the gateway's other upstreams are absent


def test_after_a_database_restart_the_first_request_already_succeeds(own_server, stack_on_own_server):
    """L7: the pool checks a connection before handing it out, so the stale ones go at once."""
    agenda, service, gateway = stack_on_own_server
    for _ in range(3):  # connections into both pools
        assert service.get(_topics()).status_code == 404
        assert gateway.get(_topics()).status_code == 404
    own_server.stop()
    own_server.start()  # same data directory, same port
    started = time.monotonic()
    assert service.get(_topics()).status_code == 404
    assert gateway.get(_topics()).status_code == 404
    assert time.monotonic() - started < FEW_SECONDS


def test_the_relays_listen_connection_is_bounded_like_the_pool(service_env):
    """M4, the relay's own session (LISTEN, advisory lock): it connects with the pool's connect
    timeout, TCP keepalives and statement timeout, and against a server that accepts TCP but
    never answers (as a frozen host does) the relay fails within the connect timeout instead of
    hanging for ever (before: psycopg.connect without any bound)."""
    import socket

    import psycopg

    from services.core.db import Database, DatabaseTimeouts
    from services.core.outbox import OutboxRelay

    agenda = runtime_for("agenda", service_env)
    try:
        relay = OutboxRelay(agenda.db, "agenda", service_env["G1000_KAFKA_BOOTSTRAP"])
        with relay.listen_connection() as conn:
            params = conn.info.get_parameters()
            assert params["connect_timeout"] == "3" and params["keepalives"] == "1"
            assert params["keepalives_idle"] == "10"
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "5s"
            conn.execute("LISTEN g1000_probe")
            assert list(conn.notifies(timeout=0.2)) == []  # an idle wait is not cut by any bound
            assert not conn.closed
    finally:
        agenda.db.close()

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes handshakes; nobody ever answers
    url = f"postgresql://nobody:x@127.0.0.1:{silent.getsockname()[1]}/nothing"
    stalled = Database(url, timeouts=DatabaseTimeouts(connect_seconds=1))
    outcome: list = []

    def run():
        try:
            OutboxRelay(stalled, "agenda", "127.0.0.1:9").run(threading.Event())
        except BaseException as e:  # noqa: BLE001 - what ended it is the result
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)  # far beyond the 1 s bound; without a bound it never ends
    silent.close()
    assert not thread.is_alive(), "the relay hung on a server that never answers"
    assert len(outcome) == 1 and isinstance(outcome[0], psycopg.OperationalError), outcome
