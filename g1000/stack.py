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
and its consumer, and finally the gateway. Crashed workers are restarted. SIGINT/SIGTERM stops
everything in reverse order; state survives a restart on the same directory.
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

import requests

from services.core.config import SERVICES, check_database_url, kafka_security, load_config
from services.core.db import ensure_database_of
from services.core.errors import UnavailableError
from services.core.kafka import broker_reachable, ensure_topics
from services.core.provision import adopt_database
from services.core.runtime import bootstrap

from .dbroles import LocalRoles, provision_local_roles
from .embedded import EmbeddedBroker, EmbeddedPostgres
from .errors import StackError
from .procs import free_port, stop_process
from .services import SERVICE_MODULES, spec_for

log = logging.getLogger(__name__)


def web_command(target: str, port: int, workers: int) -> list[str]:
    """The gunicorn command line of one web process (deploy/k8s's gunicorn.conf.py says the same):
    the worker that answers gunicorn's own refusals with problem+json and the access-log format
    without query strings (services/core/httpworker.py, issue 10 L2 and L8)."""
    from services.core.httpworker import ACCESS_LOG_FORMAT, WORKER_CLASS

    return [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", WORKER_CLASS, "--threads", "4",
        "--timeout", "30", "--graceful-timeout", "10", "--access-logfile", "-",
        "--access-logformat", ACCESS_LOG_FORMAT, "--no-control-socket", target,
    ]


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict
    log_path: Path
    restart: bool = True
    process: subprocess.Popen | None = None
    restarts: int = 0

    def start(self) -> None:
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, process_group=0)


@dataclass
class Stack:
    data_dir: Path
    env: dict = field(default_factory=lambda: dict(os.environ))
    fast_unsafe: bool = False
    web_workers: int = 2
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    roles: LocalRoles | None = None  # the embedded server's roles (g1000/dbroles.py)
    children: list[Child] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    # ---- start -------------------------------------------------------------------------------

    def start(self, ready_timeout: float = 120.0) -> dict:
        self._prepare_directories()
        self._secret("internal.token")
        database_url = self._database()
        bootstrap_servers = self._broker()
        child_env = self._child_env(database_url, bootstrap_servers)
        self._prepare_services(child_env)
        ports = {name: free_port() for name in (*SERVICES, "gateway")}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        # every process learns every service URL (the ledger asks producers to re-publish at gaps)
        child_env.update({f"G1000_{n.upper()}_URL": self.urls[n] for n in SERVICES})
        for name in SERVICES:
            env = self._env_for(name, child_env)
            self._spawn_web(name, f"{SERVICE_MODULES[name]}:create_app()", ports[name], env)
            for kind in ("relay", "consume"):
                self._spawn(f"{name}-{kind}", [sys.executable, "-m", "g1000.cli", "worker", kind, name], env)
        metrics_dir = self.data_dir / "metrics" / "gateway"  # prometheus-client multiprocess mode
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        self._spawn_web("gateway", "gateway.app:create_app()", ports["gateway"],
                        self._env_for("gateway", child_env) | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir.resolve())})
        self._wait_ready(ready_timeout)
        # `g1000 admin` acts as the gateway's runtime role, never as the superuser or the owner
        return self._write_manifest(self._env_for("gateway", child_env)["G1000_DATABASE_URL"], bootstrap_servers)

    def _prepare_directories(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for sub, mode in (("keys", 0o700), ("secrets", 0o700), ("logs", 0o755)):
            (self.data_dir / sub).mkdir(exist_ok=True)
            (self.data_dir / sub).chmod(mode)

    def _secret(self, name: str) -> str:
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

    def _child_env(self, database_url: str, bootstrap_servers: str) -> dict:
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
        from gateway.app import token_signer
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

    def _spawn_web(self, name: str, target: str, port: int, env: dict) -> None:
        self._spawn(name, web_command(target, port, self.web_workers), env)

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
        """Restart crashed children (with a growing pause) until `stop` is set."""
        while not stop.wait(poll):
            for child in self.children:
                code = child.process.poll()
                if code is not None and child.restart and not stop.is_set():
                    child.restarts += 1
                    log.warning("%s exited with code %s; restarting (restart %d)", child.name, code, child.restarts)
                    stop.wait(min(10.0, 0.5 * child.restarts))
                    if not stop.is_set():
                        child.start()

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
