"""PostgreSQL access for a service: a connection pool, driver errors translated once, migrations.

Each service owns its own database (`g1000_<service>` on the configured server unless a URL for it
is given). Migrations are numbered SQL files per component, applied once each, in order, under an
advisory lock so that several replicas starting together do not race.

No call waits on the database without a bound (DatabaseTimeouts): connecting, every answer the
server owes (a stalled or frozen server included, which no server-side timeout can bound), and
waiting for a pooled connection. A connection is checked before it is handed out, so the pool
drops the stale ones a database restart leaves behind at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import ConfigError, TransientError, UnavailableError

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x6731303030  # "g1000": one advisory lock id for every migration run
CHECK_SECONDS = 2.0  # the pool's check of a connection before handing it out


@dataclass(frozen=True)
class DatabaseTimeouts:
    """Bounds on every wait for PostgreSQL (services/core/config.py reads them from G1000_DB_*)."""

    connect_seconds: int = 3  # libpq connect_timeout
    statement_ms: int = 5_000  # server-side statement_timeout; 0: none
    pool_seconds: float = 3.0  # waiting for a free pooled connection
    keepalives_idle_seconds: int = 10  # TCP keepalives: a vanished server host is noticed

    @property
    def answer_seconds(self) -> float | None:
        """How long the client waits for any answer of the server: the statement timeout plus a
        margin, so a server that is alive answers with its own error first."""
        return None if self.statement_ms == 0 else self.statement_ms / 1000 + 1.0

    def connection_kwargs(self, url: str) -> dict:
        options = conninfo_to_dict(url).get("options") or ""
        if self.statement_ms:
            options = f"{options} -c statement_timeout={self.statement_ms}".strip()
        kwargs = {"connect_timeout": self.connect_seconds, "keepalives": 1,
                  "keepalives_idle": self.keepalives_idle_seconds, "keepalives_interval": 3,
                  "keepalives_count": 3}
        if options:
            kwargs["options"] = options
        return kwargs


_answer = threading.local()  # a per-thread override of the answer bound (see answer_within)


@contextlib.contextmanager
def answer_within(seconds: float | None) -> Iterator[None]:
    """Wait at most `seconds` (None: without bound) for the server in this thread meanwhile."""
    before = getattr(_answer, "seconds", False)
    _answer.seconds = seconds
    try:
        yield
    finally:
        _answer.seconds = before


class BoundedConnection(psycopg.Connection):
    """A connection that waits for an answer of the server at most `answer_seconds`.

    A frozen server (SIGSTOP, a stalled disk, a network that drops packets without a reset)
    enforces no statement timeout and its kernel still acknowledges TCP, so only the client can
    bound the wait. On expiry the connection is closed (its state is unknown) and the caller gets
    an OperationalError, which Database.transaction turns into a TransientError (503).
    """

    answer_seconds: float | None = None

    def wait(self, gen, interval=psycopg.connection._WAIT_INTERVAL, timeout=None):
        if timeout is None:
            override = getattr(_answer, "seconds", False)
            timeout = self.answer_seconds if override is False else override
        try:
            return super().wait(gen, interval=interval, timeout=timeout)
        except psycopg.errors._WaitTimeout:
            self.pgconn.finish()
            raise psycopg.OperationalError(f"the database did not answer within {timeout:g} s") from None


def _check(conn: psycopg.Connection) -> None:
    with answer_within(CHECK_SECONDS):
        ConnectionPool.check_connection(conn)


def database_url(server_url: str, dbname: str) -> str:
    """The URL of database `dbname` on the server that `server_url` points at."""
    try:
        params = conninfo_to_dict(server_url)
    except psycopg.ProgrammingError as e:
        raise ConfigError(f"G1000_DATABASE_URL is not a PostgreSQL connection string: {e}") from None
    params["dbname"] = dbname
    return make_conninfo(**params)


def ensure_database(server_url: str, dbname: str, timeout: float = 5.0) -> None:
    """Create database `dbname` if it does not exist yet (idempotent)."""
    admin_url = database_url(server_url, "postgres")
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=max(1, int(timeout))) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if not exists:
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
                except psycopg.errors.DuplicateDatabase:
                    pass
                except psycopg.errors.InsufficientPrivilege:
                    raise ConfigError(
                        f"database {dbname} does not exist and {_redact(admin_url)} may not create it:"
                        " run the migrations as the owner role (G1000_MIGRATION_DATABASE_URL)") from None
    except psycopg.OperationalError as e:
        raise UnavailableError(f"cannot reach PostgreSQL at {_redact(admin_url)}: {_first_line(e)}") from None


def ensure_database_of(url: str) -> None:
    """Create the database that `url` names, on the server it points at, if it is missing."""
    try:
        dbname = conninfo_to_dict(url).get("dbname")
    except psycopg.ProgrammingError as e:
        raise ConfigError(f"not a PostgreSQL connection string: {e}") from None
    if not dbname:
        raise ConfigError("the database URL names no database")
    ensure_database(url, dbname)


class Database:
    """A pool of connections to one service database."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8, name: str = "g1000",
                 timeouts: DatabaseTimeouts | None = None):
        self.url = url
        self.timeouts = timeouts or DatabaseTimeouts()
        connection_class = type("BoundedConnection", (BoundedConnection,),
                                {"answer_seconds": self.timeouts.answer_seconds})
        self.pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False, name=name,
            connection_class=connection_class, check=_check,
            kwargs={"autocommit": False, **self.timeouts.connection_kwargs(url)},
            timeout=self.timeouts.pool_seconds,
        )

    def open(self, wait_seconds: float = 10.0) -> None:
        try:
            self.pool.open(wait=True, timeout=wait_seconds)
        except PoolTimeout:
            self.pool.close()
            raise UnavailableError(f"cannot reach PostgreSQL at {_redact(self.url)}") from None

    def close(self) -> None:
        self.pool.close()

    def dedicated_connection(self, *, autocommit: bool = True) -> psycopg.Connection:
        """A connection of its own, outside the pool, with the pool's bounds on connecting (connect
        timeout, TCP keepalives) and its statement timeout, for a session that must outlive
        transactions: the relay's LISTEN and its session advisory lock (services/core/outbox.py).

        Deliberately a plain connection, not a BoundedConnection: waiting for a NOTIFY is the
        client waiting with nothing owed by the server, bounded by the caller's own `notifies`
        timeout, which a BoundedConnection would turn into a broken connection. The statement
        timeout does not touch that wait (no statement runs while idle); it bounds the LISTEN
        and the lock attempt themselves."""
        return psycopg.connect(self.url, autocommit=autocommit, **self.timeouts.connection_kwargs(self.url))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        try:
            with self.pool.connection() as conn:
                with conn.transaction():
                    yield conn
        except (psycopg.OperationalError, PoolTimeout) as e:
            raise TransientError(f"database unavailable: {_first_line(e)}") from None

    def ping(self, seconds: float = 2.0) -> bool:
        """Whether the database answers; never waits much longer than `seconds`."""
        try:
            with answer_within(seconds), self.pool.connection(timeout=seconds) as conn:
                conn.execute("SELECT 1")
                conn.rollback()
            return True
        except (psycopg.Error, PoolTimeout):
            return False

    def migrate(self, *packages: str) -> list[str]:
        """Apply the migrations of each package (`<package>/migrations/NNNN_*.sql`) not yet applied."""
        applied: list[str] = []
        if not self.pending_migrations(*packages):
            # Up to date: no lock and no DDL, so that a runtime role (which may create nothing,
            # services/core/privileges.py) starts as well as the owner does.
            return applied
        # Without the bounds of a request: a replica may wait for another one's migrations.
        try:
            self._migrate(packages, applied)
        except psycopg.errors.InsufficientPrivilege as e:
            raise ConfigError(
                f"migrations of {_redact(self.url)} are pending and its role may not apply them"
                f" ({_first_line(e)}): run them as the owner role (G1000_MIGRATION_DATABASE_URL)") from None
        for item in applied:
            log.info("applied migration %s", item)
        return applied

    def pending_migrations(self, *packages: str) -> list[str]:
        """The migrations of `packages` not applied yet, read without taking any lock."""
        with self.transaction() as conn:
            if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
                done = set()
            else:
                done = set(conn.execute("SELECT component, version FROM schema_migrations").fetchall())
        return [f"{package}:{name}" for package in packages
                for version, name, _ in _migration_files(package) if (package, version) not in done]

    def _migrate(self, packages: tuple[str, ...], applied: list[str]) -> None:
        with answer_within(None), self.transaction() as conn:
            conn.execute("SET LOCAL statement_timeout = 0")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " component text NOT NULL, version int NOT NULL, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))"
            )
            for package in packages:
                done = {r[0] for r in conn.execute(
                    "SELECT version FROM schema_migrations WHERE component = %s", (package,))}
                for version, name, text in _migration_files(package):
                    if version in done:
                        continue
                    conn.execute(text)
                    conn.execute(
                        "INSERT INTO schema_migrations (component, version, name) VALUES (%s, %s, %s)",
                        (package, version, name),
                    )
                    applied.append(f"{package}:{name}")


def _migration_files(package: str) -> list[tuple[int, str, str]]:
    folder = resources.files(package).joinpath("migrations")
    found = []
    if not folder.is_dir():
        return found
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for (version, first, _), (again, second, _) in zip(found, found[1:]):
        if version == again:
            # Only one of them would ever be applied, and which one depends on a directory listing.
            raise RuntimeError(f"{package}: migrations {first} and {second} share version {version}")
    return found


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable url>"
    params.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in params.items() if k in ("host", "port", "dbname", "user"))
