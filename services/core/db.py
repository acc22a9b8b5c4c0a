"""PostgreSQL access for a service: a connection pool, driver errors translated once, migrations.

Each service owns its own database (`g1000_<service>` on the configured server unless a URL for it
is given). Migrations are numbered SQL files per component, applied once each, in order, under an
advisory lock so that several replicas starting together do not race.
"""

from __future__ import annotations

import contextlib
import logging
from importlib import resources
from typing import Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import ConfigError, TransientError, UnavailableError

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x6731303030  # "g1000": one advisory lock id for every migration run


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

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8, name: str = "g1000"):
        self.url = url
        self.pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False, name=name,
            kwargs={"autocommit": False}, timeout=10.0,
        )

    def open(self, wait_seconds: float = 10.0) -> None:
        try:
            self.pool.open(wait=True, timeout=wait_seconds)
        except PoolTimeout:
            self.pool.close()
            raise UnavailableError(f"cannot reach PostgreSQL at {_redact(self.url)}") from None

    def close(self) -> None:
        self.pool.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        try:
            with self.pool.connection() as conn:
                with conn.transaction():
                    yield conn
        except (psycopg.OperationalError, PoolTimeout) as e:
            raise TransientError(f"database unavailable: {_first_line(e)}") from None

    def ping(self) -> bool:
        try:
            with self.pool.connection(timeout=2.0) as conn:
                conn.execute("SELECT 1")
                conn.rollback()
            return True
        except (psycopg.Error, PoolTimeout):
            return False

    def migrate(self, *packages: str) -> list[str]:
        """Apply the migrations of each package (`<package>/migrations/NNNN_*.sql`) not yet applied."""
        applied: list[str] = []
        with self.transaction() as conn:
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
        for item in applied:
            log.info("applied migration %s", item)
        return applied


def _migration_files(package: str) -> list[tuple[int, str, str]]:
    folder = resources.files(package).joinpath("migrations")
    found = []
    if not folder.is_dir():
        return found
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


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
