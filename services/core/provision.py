"""Database roles, applied: the owner role runs the migrations and grants each service's runtime
role exactly what services/core/privileges.py declares (issue 10, Build 4).

Two steps, by two different roles:
- `provision_roles` (an administrator: a superuser or a role with CREATEROLE) makes the login
  roles: the owner (`g1000_owner`) and one runtime role per service and the gateway. None is a
  superuser or may create roles, replicate or bypass row security; only the owner may create
  databases (CREATEDB: the service databases, which it then owns). The embedded stack and the test fixtures
  do this; on Kubernetes CloudNativePG's managed roles do (deploy/k8s/base/postgres.yaml).
- `migrate_and_grant` (the owner) creates the database if needed, applies the migrations and then
  the declared grants, all under the migration advisory lock.

A process that is given no owner URL (G1000_MIGRATION_DATABASE_URL) migrates with the one URL it
has, as before: an outside server with a single role keeps working, at the price that this role
owns the tables (and so could disable the triggers).
"""

from __future__ import annotations

import os

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from .db import MIGRATION_LOCK, Database, DatabaseTimeouts, answer_within, database_url, ensure_database_of
from .errors import ConfigError, UnavailableError
from .privileges import OWNER_ROLE, grant_statements

_RUNTIME_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
_OWNER_ATTRIBUTES = "LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"


def url_user(url: str) -> str | None:
    """The role a connection string logs in as (libpq falls back to PGUSER)."""
    return conninfo_to_dict(url).get("user") or os.environ.get("PGUSER") or None


def with_credentials(url: str, user: str, password: str) -> str:
    """`url` (host, port, database, options) logging in as `user` with `password`."""
    params = conninfo_to_dict(url)
    params.update(user=user, password=password)
    return psycopg.conninfo.make_conninfo(**params)


def provision_roles(admin_url: str, owner_password: str, runtime_passwords: dict[str, str],
                    owner_role: str = OWNER_ROLE) -> None:
    """Create (or bring back in line) the owner role and the runtime roles, `runtime_passwords`
    mapping role name to password. Idempotent: run at every start of the embedded stack."""
    wanted = [(owner_role, _OWNER_ATTRIBUTES, owner_password)]
    wanted += [(role, _RUNTIME_ATTRIBUTES, password) for role, password in sorted(runtime_passwords.items())]
    try:
        with psycopg.connect(database_url(admin_url, "postgres"), autocommit=True, connect_timeout=5) as conn:
            for role, attributes, password in wanted:
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                verb = "ALTER" if exists else "CREATE"
                try:
                    conn.execute(sql.SQL("{} ROLE {} WITH {} PASSWORD {}").format(
                        sql.SQL(verb), sql.Identifier(role), sql.SQL(attributes), sql.Literal(password)))
                except psycopg.errors.DuplicateObject:  # another process created it meanwhile
                    conn.execute(sql.SQL("ALTER ROLE {} WITH {} PASSWORD {}").format(
                        sql.Identifier(role), sql.SQL(attributes), sql.Literal(password)))
            for role, _, _ in wanted[1:]:  # a runtime role is a member of no role (it could act as it)
                for (granted,) in conn.execute(
                        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
                        " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", (role,)).fetchall():
                    conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(granted), sql.Identifier(role)))
    except psycopg.errors.InsufficientPrivilege as e:
        raise ConfigError(f"the administrator URL may not create roles (needs CREATEROLE): {e}") from None
    except psycopg.OperationalError as e:
        raise UnavailableError(f"cannot reach PostgreSQL to provision roles: {str(e).strip()[:200]}") from None


def adopt_database(admin_url: str, dbname: str, owner_role: str = OWNER_ROLE) -> None:
    """Hand a database made before the owner role existed (its tables owned by the superuser) to
    the owner role, so that the owner can migrate it and grant on it. No-op for an owned one."""
    with psycopg.connect(database_url(admin_url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                             (dbname,)).fetchone()
        if owner is None or owner[0] == owner_role:
            return
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(owner_role)))
    with psycopg.connect(database_url(admin_url, dbname), autocommit=False, connect_timeout=5) as conn:
        # tables first: a table takes the sequences of its serial columns along (which may not be
        # handed over on their own); then whatever sequences remain
        for kinds, what in ((["r", "p", "v", "m"], "TABLE"), (["S"], "SEQUENCE")):
            for (name,) in conn.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public' AND c.relkind::text = ANY(%s)"
                    " AND pg_get_userbyid(c.relowner) <> %s", (kinds, owner_role)).fetchall():
                conn.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(what), sql.Identifier(name),
                                                                       sql.Identifier(owner_role)))
        for (signature,) in conn.execute(
                "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s", (owner_role,)).fetchall():
            conn.execute(sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(signature), sql.Identifier(owner_role)))
        conn.commit()


def owner_url_for(migration_server_url: str, runtime_database_url: str) -> str:
    """The owner's URL of the database that `runtime_database_url` names."""
    dbname = conninfo_to_dict(runtime_database_url).get("dbname")
    if not dbname:
        raise ConfigError("the database URL names no database")
    return database_url(migration_server_url, dbname)


def migrate_and_grant(owner_url: str, packages: tuple[str, ...], name: str, runtime_url: str,
                      timeouts: DatabaseTimeouts | None = None) -> list[str]:
    """As the owner: create the database if missing, apply the migrations of `packages`, then
    grant the runtime role of `runtime_url` exactly the privileges declared for `name`."""
    ensure_database_of(owner_url)
    role = url_user(runtime_url)
    owner = url_user(owner_url)
    if role is None:
        raise ConfigError(f"the database URL of {name} names no user (nor does PGUSER)")
    db = Database(owner_url, max_size=1, name=f"{name}-migrate", timeouts=timeouts)
    db.open()
    try:
        applied = db.migrate(*packages)
        if role != owner:
            dbname = conninfo_to_dict(owner_url)["dbname"]
            with answer_within(None), db.transaction() as conn:
                conn.execute("SET LOCAL statement_timeout = 0")
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                # A GRANT on a table one does not own is only a warning in PostgreSQL: refuse it
                # loudly instead, or a role would silently lack (or keep) privileges.
                foreign = conn.execute(
                    "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                    " AND c.relkind IN ('r', 'p', 'S') AND c.relowner <> current_user::regrole"
                    " ORDER BY 1 LIMIT 3").fetchall()
                if foreign:
                    raise ConfigError(
                        f"{dbname}: {', '.join(f'{t} (owned by {o})' for t, o in foreign)} not owned by"
                        f" the owner role {owner}: hand the database over first (as the g1000 up"
                        " stack does, services/core/provision.py adopt_database)")
                for statement in grant_statements(name, role, dbname):
                    conn.execute(statement)
    except psycopg.errors.UndefinedObject as e:
        raise ConfigError(f"cannot grant to the runtime role of {name}: {str(e).strip()}") from None
    except psycopg.errors.InsufficientPrivilege as e:  # e.g. a schema_migrations of the superuser's
        raise ConfigError(f"{name}: the owner role {owner} may not migrate its database"
                          f" ({str(e).strip().splitlines()[0]}): hand the database over first (as the"
                          " g1000 up stack does, services/core/provision.py adopt_database)") from None
    finally:
        db.close()
    return applied
