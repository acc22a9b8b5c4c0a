"""`g1000 up`: the whole stack on loopback, in one process tree, with its state in one directory.

Layout of the data directory:
    pg/            embedded PostgreSQL cluster (one database per service)
    postgres.password  its superuser's generated password (0600); no connection without it
    postgres-roles/    passwords of the owner role (migrations) and of each process's own role (0600)
    keys/          Ed25519 signing keys of the services (0600) and their public keys
    secrets/       the token-signing key pair and the internal token (0600)
    logs/          one log file per process
    metrics/       per-worker Prometheus files of the gateway (emptied at start)
    stack.json     URLs, pids and the database URL of the running stack (0600)

Start order: database, broker, one-off preparation (databases, migrations, keys, topics: any
error is reported here, in one line), then per service a gunicorn web process, its outbox relay
and its consumer, and finally the gateway. SIGINT/SIGTERM stops everything in reverse order;
state survives a restart on the same directory.

Supervision (issue 10, M5): every child that dies is restarted — the web processes, relays and
consumers, and also the embedded PostgreSQL and the bundled broker — on the same port, so the
URLs every process holds stay valid. Each has its own exponential back-off
(services/core/backoff.py) that resets once it has run healthily for a while, so a crash loop
is slowed down but a long-lived stack that loses its broker once gets it back at once. The
bundled broker keeps its data in memory: after it restarts the topics are made again and every
relay and consumer is restarted against it (the outboxes still hold every event; the ledger
fills what the broker lost through its gap filler and tail reconciler). stack.json is rewritten
after every restart, so its pids are always those of the running processes.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests

from services.core.backoff import Backoff
from services.core.config import SERVICES, check_database_url, kafka_security, load_config
from services.core.db import ensure_database_of
from services.core.errors import UnavailableError
from services.core.kafka import broker_reachable, ensure_topics
from services.core.provision import adopt_database
from services.core.registry import BY_NAME
from services.core.runtime import bootstrap

from .dbroles import LocalRoles, provision_local_roles
from .embedded import EmbeddedBroker, EmbeddedPostgres
from .errors import StackError
from .procs import free_port, stop_process
from .services import SERVICE_MODULES, spec_for

log = logging.getLogger(__name__)


def web_command(target: str, port: int, workers: int, host: str = "127.0.0.1") -> list[str]:
    """The gunicorn command line of one web process (deploy/k8s's gunicorn.conf.py says the same):
    the worker that answers gunicorn's own refusals with problem+json and the access-log format
    without query strings (services/core/httpworker.py, issue 10 L2 and L8)."""
    from services.core.httpworker import ACCESS_LOG_FORMAT, WORKER_CLASS

    return [
        sys.executable, "-m", "gunicorn", "--bind", f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "--workers", str(workers), "--worker-class", WORKER_CLASS, "--threads", "4",
        "--timeout", "30", "--graceful-timeout", "10", "--access-logfile", "-",
        "--access-logformat", ACCESS_LOG_FORMAT, "--no-control-socket", target,
    ]


def gateway_url(host: str, port: int) -> str:
    """The URL this machine reaches the gateway at: a wildcard bind is reached on loopback."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict
    log_path: Path
    restart: bool = True
    process: subprocess.Popen | None = None
    restarts: int = 0
    backoff: Backoff = field(default_factory=lambda: supervisor_backoff())
    due: float | None = None  # when a restart is due (monotonic), while the child is down

    def start(self) -> None:
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, process_group=0)
        self.backoff.started(time.monotonic())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def supervisor_backoff() -> Backoff:
    """0.5 s, 1 s, 2 s … at most 30 s between restarts of a child that keeps dying; back to
    0.5 s once it has run for 30 s (G1000_RESTART_HEALTHY_SECONDS overrides, for tests)."""
    healthy = float(os.environ.get("G1000_RESTART_HEALTHY_SECONDS", "30"))
    return Backoff(base=0.5, factor=2.0, ceiling=30.0, healthy_after=healthy)


@dataclass
class Infra:
    """The embedded PostgreSQL or the bundled broker, supervised like a child."""

    name: str
    server: EmbeddedPostgres | EmbeddedBroker
    restart_server: Callable[[], None]
    backoff: Backoff = field(default_factory=lambda: supervisor_backoff())
    due: float | None = None
    restarts: int = 0

    def alive(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None


@dataclass
class Stack:
    data_dir: Path
    env: dict = field(default_factory=lambda: dict(os.environ))
    fast_unsafe: bool = False
    web_workers: int = 2
    # where the gateway listens (`g1000 up --host --port`); the services stay on 127.0.0.1.
    # Port 0: a free port, chosen at start.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 0
    _gateway_bound: int = 0  # the port it listens on, once started
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    roles: LocalRoles | None = None  # the embedded server's roles (g1000/dbroles.py)
    children: list[Child] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    infra: list[Infra] = field(default_factory=list)
    _manifest_args: tuple[str, str] = ("", "")
    _topics: tuple | None = None  # bootstrap, topic names, partitions, Kafka security

    # ---- start -------------------------------------------------------------------------------

    def start(self, ready_timeout: float = 120.0) -> dict:
        self._prepare_directories()
        self.secret("internal.token")
        database_url = self._database()
        bootstrap_servers = self._broker()
        child_env = self.child_env(database_url, bootstrap_servers)
        self._prepare_services(child_env)
        ports = {name: free_port() for name in SERVICES}
        ports["gateway"] = self.gateway_port or free_port(self.gateway_host if ":" not in self.gateway_host else "127.0.0.1")
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        self.urls["gateway"] = gateway_url(self.gateway_host, ports["gateway"])
        self._gateway_bound = ports["gateway"]
        # every process learns every service URL (the ledger asks producers to re-publish at gaps)
        child_env.update({BY_NAME[n].url_env: self.urls[n] for n in SERVICES})
        for name in SERVICES:
            env = self._env_for(name, child_env)
            self.spawn_web(name, f"{SERVICE_MODULES[name]}:create_app()", ports[name], env)
            for kind in ("relay", "consume"):
                self._spawn(f"{name}-{kind}", [sys.executable, "-m", "g1000.cli", "worker", kind, name], env)
        metrics_dir = self.data_dir / "metrics" / "gateway"  # prometheus-client multiprocess mode
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        self.spawn_web("gateway", "gateway.app:create_app()", ports["gateway"],
                        self._env_for("gateway", child_env) | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir.resolve())},
                        host=self.gateway_host)
        self._wait_ready(ready_timeout)
        # `g1000 admin` acts as the gateway's runtime role, never as the superuser or the owner
        self._manifest_args = (self._env_for("gateway", child_env)["G1000_DATABASE_URL"], bootstrap_servers)
        if self.postgres:
            self.infra.append(Infra("postgres", self.postgres, self._restart_postgres))
        if self.broker:
            self.infra.append(Infra("broker", self.broker, self._restart_broker))
        return self._write_manifest(*self._manifest_args)

    def _prepare_directories(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for sub, mode in (("keys", 0o700), ("secrets", 0o700), ("logs", 0o755)):
            (self.data_dir / sub).mkdir(exist_ok=True)
            (self.data_dir / sub).chmod(mode)

    def secret(self, name: str) -> str:
        path = self.data_dir / "secrets" / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32) + "\n")
        return path.read_text().strip()

    def _database(self) -> str:
        external = self.env.get("G1000_DATABASE_URL")
        if external:
            ensure_database_of(check_database_url(external))  # reachability, with a clear message
            return external
        self.postgres = EmbeddedPostgres(self.data_dir / "pg", fast_unsafe=self.fast_unsafe).start()
        # Least privilege (issue 10, Build 4): an owner role migrates, each process runs as its own
        # role (g1000/dbroles.py); the superuser's URL is used here and for nothing else.
        self.roles = provision_local_roles(self.postgres.url, self.data_dir / "postgres-roles")
        for name in (*SERVICES, "gateway"):  # a directory made before the owner role: hand it over
            adopt_database(self.postgres.url, f"g1000_{name}")
        # the base of every child's environment; each gets its own role's URL instead (_env_for)
        return self.roles.runtime_urls["gateway"]

    def _broker(self) -> str:
        external = self.env.get("G1000_KAFKA_BOOTSTRAP")
        if external:
            if not broker_reachable(external, kafka_security(self.env)):  # G1000_KAFKA_* as the services use them
                raise UnavailableError(f"cannot reach the Kafka broker at {external} (G1000_KAFKA_BOOTSTRAP)")
            return external
        self.broker = EmbeddedBroker().start(self.data_dir / "logs" / "broker.log")
        return self.broker.bootstrap

    def _env_for(self, name: str, child_env: dict, *, migrate: bool = False) -> dict:
        """The environment of one service's (or the gateway's) processes: its own role's URL only,
        and the owner's (G1000_MIGRATION_DATABASE_URL) for the preparation step alone."""
        if self.roles is None:
            return child_env
        env = child_env | {"G1000_DATABASE_URL": self.roles.runtime_urls[name]}
        if not migrate:
            env.pop("G1000_MIGRATION_DATABASE_URL", None)
        return env

    def child_env(self, database_url: str, bootstrap_servers: str) -> dict:
        env = dict(self.env)
        env.update(
            G1000_DATA_DIR=str(self.data_dir.resolve()),
            G1000_DATABASE_URL=database_url,
            G1000_KAFKA_BOOTSTRAP=bootstrap_servers,
            G1000_TOKEN_KEY_FILE=str((self.data_dir / "secrets" / "tokens.key").resolve()),
            G1000_INTERNAL_TOKEN_FILE=str((self.data_dir / "secrets" / "internal.token").resolve()),
            PYTHONUNBUFFERED="1",
        )
        if self.roles is not None:
            env["G1000_MIGRATION_DATABASE_URL"] = self.roles.owner_url
        env.setdefault("G1000_MAX_POLL_INTERVAL_MS", "3000")
        env.setdefault("G1000_CHECKPOINT_SECONDS", "2")  # a local summit sees its checkpoints quickly
        return env


    def _prepare_services(self, env: dict) -> None:
        """Databases, migrations, keys and topics, once, before any process starts."""
        from gateway.credentials import token_signer
        from gateway.database import open_gateway_database
        from gateway.settings import load_gateway_settings

        settings = load_gateway_settings(self._env_for("gateway", env, migrate=True))
        token_signer(settings)
        open_gateway_database(settings.database_url, pool_size=1, migration_url=settings.migration_url).close()
        config = None
        for name in SERVICES:
            config = load_config(name, self._env_for(name, env, migrate=True))
            rt = bootstrap(spec_for(name), config, pool_size=1)
            rt.db.close()
        ensure_topics(config.kafka_bootstrap, list(config.topic_names.values()), config.partitions,
                      config.kafka_security)
        self._topics = (config.kafka_bootstrap, list(config.topic_names.values()), config.partitions,
                        config.kafka_security)

    def spawn_web(self, name: str, target: str, port: int, env: dict, host: str = "127.0.0.1") -> None:
        self._spawn(name, web_command(target, port, self.web_workers, host), env)

    def _spawn(self, name: str, args: list[str], env: dict) -> None:
        child = Child(name, args, env, self.data_dir / "logs" / f"{name}.log")
        child.start()
        self.children.append(child)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = dict(self.urls)
        while pending and time.monotonic() < deadline:
            for child in self.children:
                if child.process.poll() is not None:
                    raise StackError(f"{child.name} exited with code {child.process.returncode};"
                                     f" see {child.log_path}")
            for name, url in list(pending.items()):
                try:
                    if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                        del pending[name]
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        if pending:
            raise StackError(f"not ready after {timeout:.0f} s: {', '.join(sorted(pending))}")

    def _write_manifest(self, database_url: str, bootstrap_servers: str) -> dict:
        manifest = {
            "gateway": self.urls["gateway"],
            "gateway_listen": {"host": self.gateway_host, "port": self._gateway_bound},
            "services": {n: self.urls[n] for n in SERVICES},
            "database_url": database_url,  # `g1000 admin` issues tokens with it (this file is 0600)
            "kafka_bootstrap": bootstrap_servers,
            "data_dir": str(self.data_dir.resolve()),
            "pids": {c.name: c.process.pid for c in self.children}
            | ({"postgres": self.postgres.process.pid} if self.postgres else {})
            | ({"broker": self.broker.process.pid} if self.broker else {}),
            "supervisor_pid": os.getpid(),
        }
        path = self.data_dir / "stack.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(manifest, f, indent=2)
        os.replace(tmp, path)
        return manifest

    # ---- run and stop ------------------------------------------------------------------------

    def supervise(self, stop: threading.Event, poll: float = 0.5) -> None:
        """Restart whatever died (PostgreSQL, the broker, any child), each after its own
        back-off, until `stop` is set; rewrite stack.json after every restart."""
        while not stop.wait(poll):
            if self.supervise_once(time.monotonic(), stop):
                self._write_manifest(*self._manifest_args)

    def supervise_once(self, now: float, stop: threading.Event | None = None) -> bool:
        """One look at every process; True when something was restarted."""
        restarted = False
        for unit in [*self.infra, *self.children]:
            if stop is not None and stop.is_set():
                break
            if isinstance(unit, Child) and not unit.restart:
                continue
            if unit.due is None:
                if unit.alive():
                    continue
                pause = unit.backoff.failed(now)
                unit.due = now + pause
                code = unit.server.process.returncode if isinstance(unit, Infra) else unit.process.returncode
                log.warning("%s exited with code %s; restarting in %.1f s", unit.name, code, pause)
                continue
            if now < unit.due:
                continue
            unit.due = None
            unit.restarts += 1
            try:
                if isinstance(unit, Infra):
                    unit.restart_server()
                    unit.backoff.started(time.monotonic())
                    for child in self.children:  # what died for want of it may come back now
                        if child.due is not None:
                            child.due = min(child.due, time.monotonic())
                else:
                    unit.start()
            except Exception as e:  # noqa: BLE001 - the supervisor itself must not die of it
                log.warning("%s did not restart: %s", unit.name, e)
                continue  # still down: the next look schedules the next attempt
            log.warning("%s restarted (restart %d, pid %s)", unit.name, unit.restarts,
                        (unit.server.process if isinstance(unit, Infra) else unit.process).pid)
            restarted = True
        return restarted

    def _restart_postgres(self) -> None:
        """Start the server again on its port (the URL every process holds); the services'
        pools check connections before use and reconnect by themselves."""
        self.postgres.start()

    def _restart_broker(self) -> None:
        """Start the broker again on its port. It kept everything in memory, so every relay and
        consumer is stopped first (no client of the dead broker ever talks to the new one: a
        consumer that rejoined its group there could leave the group waiting on it), the
        topics are made again, and the relays and consumers start afresh: the consumers read
        the new broker from its beginning (no committed offsets survive) and the relays publish
        what their outboxes still hold; the ledger fills what the old broker took with it
        through its gap filler and tail reconciler."""
        clients = [c for c in self.children if c.name.endswith(("-relay", "-consume"))]
        for child in clients:  # all at once: each may take a moment to let go
            if child.alive():
                try:
                    os.kill(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for child in clients:  # a client stuck on the dead broker is killed: both are crash-safe
            if child.process is not None:  # (relays mark after the ack, consumers commit after the database)
                stop_process(child.process, signal.SIGTERM, timeout=5)
        self.broker.start(self.data_dir / "logs" / "broker.log")
        if self._topics is not None:
            bootstrap, topics, partitions, security = self._topics
            ensure_topics(bootstrap, topics, partitions, security)
        for child in clients:
            child.due = None
            child.start()
        log.warning("restarted %s against the new broker", ", ".join(c.name for c in clients))

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process is not None:
                stop_process(child.process, signal.SIGTERM, timeout=15)
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()
        manifest = self.data_dir / "stack.json"
        if manifest.exists():
            manifest.unlink()
