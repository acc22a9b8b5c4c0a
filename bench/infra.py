"""The servers a benchmark runs against, and a fresh sandbox (databases, topics, keys) per run.

By default the harness starts its own embedded PostgreSQL in the durable configuration users run
(fsync and synchronous commit on) and the bundled Kafka-protocol broker, both on free loopback
ports, and stops them by pid when it ends, whatever happens. `G1000_DATABASE_URL` and
`G1000_KAFKA_BOOTSTRAP` point it at external servers instead. Every measurement gets its own
databases, topic prefix, signing keys and organiser credential, so no run sees another run's rows
or messages. A sandbox drops its databases when it closes; on an external broker its topics
(prefixed `b<random>.`) are left behind, as the bundled broker has no use for deleting them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import psycopg
import requests
from psycopg import sql

from g1000.procs import free_port
from g1000.services import spec_for
from g1000.stack import Child, Stack
from services.core.config import SERVICES, load_config
from services.core.runtime import Runtime, bootstrap, prepare_broker
from services.core.signing import load_or_create_signer
from services.core.tokens import issue, new_claims

from .machine import filesystem_of, tansu_version


class BenchError(RuntimeError):
    """The harness could not measure (a worker died, events were quarantined, no progress)."""


def say(part: str, text: str) -> None:
    """Progress on stderr (stdout carries the one-line results)."""
    print(f"bench: {part}: {text}", file=sys.stderr, flush=True)


def log_tail(path: Path, lines: int = 5) -> str:
    """The end of a child's log, for the error that says why it died (its directory is removed at exit)."""
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


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
        if web.child.process.poll() is not None:
            raise BenchError(f"{web.name} (gunicorn) exited with {web.child.process.returncode}: "
                             + log_tail(web.child.log_path))
        try:
            if requests.get(f"{web.base}/readyz", timeout=3).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"{web.name} under gunicorn was not ready after {timeout:.0f} s: "
                             + log_tail(web.child.log_path))
        time.sleep(0.2)


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
        db_url = os.environ.get("G1000_DATABASE_URL")
        db_text = "external (G1000_DATABASE_URL)"
        if not db_url:
            db_url = started.enter_context(_embedded_postgres(workdir / "pg"))
            db_text = f"embedded, fsync and synchronous_commit on, data on {filesystem_of(workdir)}"
        bootstrap_servers = os.environ.get("G1000_KAFKA_BOOTSTRAP")
        broker_text = f"external at {bootstrap_servers} (G1000_KAFKA_BOOTSTRAP)"
        if not bootstrap_servers:
            bootstrap_servers = started.enter_context(_embedded_broker(workdir / "broker.log"))
            broker_text = f"Tansu {tansu_version()} (bundled, its default in-memory storage)"
        yield Servers(db_url, bootstrap_servers, db_text, broker_text)


@contextlib.contextmanager
def _embedded_postgres(pgdata: Path) -> Iterator[str]:
    from g1000.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(pgdata, fast_unsafe=False)
    try:
        server.start()
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def _embedded_broker(log_path: Path) -> Iterator[str]:
    from g1000.embedded import EmbeddedBroker

    broker = EmbeddedBroker()
    try:
        broker.start(log_path)
        yield broker.bootstrap
    finally:
        broker.stop()


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A scratch directory for server data and sandboxes, removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="g1000-bench-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


CHARTER = {"theme": "Samen leven in de wijk", "municipality": "Benchmarkstad", "date": "2027-03-14",
           "seats": {"citizens": 800, "employers": 70, "government": 70, "free_thinkers": 60},
           "register": {"features": {"age_band": ["16-29", "30-44", "45-64", "65+"],
                                     "neighbourhood": ["centrum", "noord", "oost", "zuid", "west"]}}}


@dataclass
class Sandbox:
    """One measurement's own databases, topics, keys and credential; services start on demand."""

    servers: Servers
    root: Path
    tag: str = field(default_factory=lambda: "b" + uuid.uuid4().hex[:10])
    _runtimes: dict[str, Runtime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = self.root / self.tag
        (self.data_dir / "keys").mkdir(parents=True)
        self.logs = self.data_dir / "logs"
        self.logs.mkdir()
        # the token key the gateway would hold; services read its public half from secrets/
        signer = load_or_create_signer(self.data_dir / "secrets" / "tokens.key")
        self.token_signer = signer
        self.organiser_claims = new_claims(
            role="organiser", tenant=CHARTER["municipality"], subject="bench", now=int(time.time()),
            ttl_seconds=24 * 3600)
        self.organiser_token = issue(signer, self.organiser_claims)

    @property
    def env(self) -> dict[str, str]:
        """The service environment, exactly as a deployed service process would get it."""
        env = {
            "G1000_DATA_DIR": str(self.data_dir),
            "G1000_DATABASE_URL": self.servers.database_url,
            "G1000_KAFKA_BOOTSTRAP": self.servers.bootstrap,
            "G1000_TOPIC_PREFIX": self.tag,
        }
        for service in SERVICES:
            env[f"G1000_{service.upper()}_DATABASE_URL"] = self._db_url(service)
        return env

    def runtime(self, service: str) -> Runtime:
        if service not in self._runtimes:
            config = load_config(service, self.env)
            rt = bootstrap(spec_for(service), config, pool_size=4)
            prepare_broker(config)
            self._runtimes[service] = rt
        return self._runtimes[service]

    def open_summit(self) -> str:
        """Charter a summit through the ledger's REST API, as an organiser does; returns its id.

        The charter registers the keys of the services bootstrapped so far, so the agenda is
        bootstrapped first: the ledger then accepts the agenda's events for this summit.
        """
        from services.ledger.app import create_app

        import json

        from services.core.vouch import HEADER, sign_vouch

        self.runtime("agenda")
        app = create_app(load_config("ledger", self.env))
        body = json.dumps(CHARTER).encode()
        vouch = sign_vouch(self.token_signer, method="POST", target="/v1/summits", body=body,
                           token_id=self.organiser_claims.token_id, now=time.time())  # as the gateway would
        try:
            response = app.test_client().post(
                "/v1/summits", data=body, content_type="application/json",
                headers={"Authorization": f"Bearer {self.organiser_token}", HEADER: vouch})
        finally:
            app.extensions["g1000_runtime"].db.close()
        if response.status_code != 201:
            raise BenchError(f"the ledger refused the summit: {response.status_code} {response.get_data(True)}")
        return response.get_json()["summit_id"]

    def close(self) -> None:
        for rt in self._runtimes.values():
            rt.db.close()
        self._drop_databases()

    def _db_url(self, service: str) -> str:
        return url_with_database(self.servers.database_url, f"{self.tag}_{service}")

    def _drop_databases(self) -> None:
        admin = url_with_database(self.servers.database_url, "postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            for service in SERVICES:
                name = sql.Identifier(f"{self.tag}_{service}")
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def url_with_database(server_url: str, dbname: str) -> str:
    """The postgresql:// URL of database `dbname` on the server `server_url` points at."""
    return urlsplit(server_url)._replace(path=f"/{dbname}").geturl()


@contextlib.contextmanager
def sandbox(servers: Servers, root: Path) -> Iterator[Sandbox]:
    box = Sandbox(servers, root)
    try:
        yield box
    finally:
        box.close()
