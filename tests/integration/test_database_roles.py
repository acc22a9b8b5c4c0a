"""Each service connects as its own least-privileged role (issue 10, M2, M7, Build 4).

Attacks, each run on a real PostgreSQL through the connection a service actually uses (its
runtime role): rewriting or deleting the log, disabling the append-only triggers, switching
triggers off for the session, running a shell command through COPY, creating a role, reaching
another service's database, and reviving a revoked token in the gateway's table. All refused,
while the normal flows (the rest of the suite runs under these roles too) keep working. The
declaration (services/core/privileges.py) must name every table the migrations create.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from services.core.db import database_url
from services.core.privileges import PRIVILEGES
from services.core.provision import url_user
from tests.helpers import runtime_for
from tests.support.event_flow import build_log, topic

pytestmark = pytest.mark.integration

SERVICES = ("ledger", "lottery", "agenda", "ballot")
REFUSED = psycopg.errors.InsufficientPrivilege


@pytest.fixture
def runtimes(service_env):
    rts = {name: runtime_for(name, service_env) for name in SERVICES}
    yield rts
    for rt in rts.values():
        rt.db.close()


def _as_service(rt, statement: str, *params):
    """Run `statement` on one of the service's own pooled connections (no wrapping)."""
    with rt.db.pool.connection() as conn:
        return conn.execute(statement, params)


def _refused(rt, statement: str) -> bool:
    try:
        _as_service(rt, statement)
    except REFUSED:
        return True
    return False


def _admin(env: dict, url: str) -> str:
    """The administrator's URL of the database that `url` names (to look, never to attack)."""
    return database_url(env["G1000_DATABASE_URL"], conninfo_to_dict(url)["dbname"])


def test_the_runtime_roles_are_not_privileged_and_own_nothing(runtimes, service_env, stack):
    stack.gateway()  # opens (and migrates) the gateway's database
    urls = {name: rt.db.url for name, rt in runtimes.items()} | {"gateway": stack.databases[0].url}
    roles = {name: url_user(url) for name, url in urls.items()}
    owner = url_user(service_env["G1000_MIGRATION_DATABASE_URL"])
    assert len(set(roles.values()) | {owner}) == 6, "one role per service, the gateway and the owner"
    with psycopg.connect(service_env["G1000_DATABASE_URL"]) as conn:
        # the owner migrates and creates databases, nothing more: no superuser, no roles
        assert conn.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls"
                            " FROM pg_roles WHERE rolname = %s", (owner,)).fetchone() == (False, False, True, False, False)
        for name, role in roles.items():
            attributes = conn.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit"
                " FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            assert attributes == (False,) * 6, (name, attributes)
            assert conn.execute("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member"
                                " WHERE r.rolname = %s", (role,)).fetchone()[0] == 0, f"{name} is a member of a role"
            assert conn.execute("SELECT count(*) FROM pg_database WHERE datdba = %s::regrole",
                                (role,)).fetchone()[0] == 0
    for name, url in urls.items():
        with psycopg.connect(_admin(service_env, url)) as conn:
            owned = conn.execute("SELECT count(*) FROM pg_class WHERE relowner = %s::regrole", (roles[name],)).fetchone()
            assert owned[0] == 0, f"{name}'s runtime role owns relations"
            tables = {r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
            assert tables == set(PRIVILEGES[name]), (
                f"{name}: services/core/privileges.py must declare exactly the tables of its database;"
                f" undeclared {sorted(tables - set(PRIVILEGES[name]))},"
                f" missing {sorted(set(PRIVILEGES[name]) - tables)}")
            assert conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
                                ).fetchone()[0] == owner


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_cannot_rewrite_its_log_nor_step_around_the_triggers(runtimes, name):
    rt = runtimes[name]
    summit = "0b0e3c2e-1d9a-4c1f-9a77-5b1f1f3d2a01"
    if name == "agenda":
        rt.store.append(summit, [topic(summit, "blijft staan")])
    attacks = [
        "UPDATE events SET body = 'x'",
        "UPDATE events SET type = 'forged', published_at = now()",
        "DELETE FROM events",
        "TRUNCATE events",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "ALTER TABLE events DISABLE TRIGGER events_no_delete",
        "DROP TRIGGER events_no_delete ON events",
        "SET session_replication_role = replica",
        "COPY events FROM PROGRAM 'id > /tmp/g1000-owned'",
        "COPY (SELECT 1) TO PROGRAM 'id > /tmp/g1000-owned'",
        "CREATE ROLE g1000_intruder LOGIN SUPERUSER",
        "CREATE TABLE intruder (x int)",
        "ALTER TABLE events ADD COLUMN forged text",
        "CREATE TEMP TABLE intruder (x int)",
        "SELECT pg_read_file('/etc/passwd')",
    ]
    assert [a for a in attacks if not _refused(rt, a)] == []
    # and what it needs still works: appending and the relay's publication mark
    assert _as_service(rt, "UPDATE events SET published_at = now() WHERE published_at IS NULL").rowcount >= 0
    assert _as_service(rt, "SELECT count(*) FROM events").fetchone()[0] >= (1 if name == "agenda" else 0)


def test_the_ledger_cannot_rewrite_entries_nodes_keys_or_checkpoints(pair):
    agenda, ledger = pair
    summit, _ = build_log(agenda, ledger, 7)
    with ledger.db.transaction() as conn:
        conn.execute("INSERT INTO log_checkpoints (summit_id, tree_size, root_hash, note)"
                     " VALUES (%s, 8, '\\x00', 'n') ON CONFLICT DO NOTHING", (summit,))
    for table in ("log_entries", "log_nodes", "log_keys", "log_checkpoints"):
        for attack in (f"UPDATE {table} SET summit_id = summit_id", f"DELETE FROM {table}",
                       f"TRUNCATE {table}", f"ALTER TABLE {table} DISABLE TRIGGER ALL"):
            with pytest.raises(REFUSED):
                _as_service(ledger, attack)
    # the appender's own bookkeeping stays writable (it is what appends do)
    assert _as_service(ledger, "UPDATE log_heads SET updated_at = now() WHERE summit_id = %s", summit).rowcount == 1


def test_a_service_cannot_reach_another_services_database(runtimes, stack):
    stack.gateway()
    gateway_url = stack.databases[0].url
    for name, rt in runtimes.items():
        for other, target in [(o, runtimes[o].db.url) for o in SERVICES if o != name] + [("gateway", gateway_url)]:
            params = conninfo_to_dict(rt.db.url)
            params["dbname"] = conninfo_to_dict(target)["dbname"]
            with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
                psycopg.connect(psycopg.conninfo.make_conninfo(**params), connect_timeout=5).close()


def test_a_revoked_token_cannot_be_revived_by_any_role_of_the_stack(stack):
    """M2: the attack was one UPDATE of the token table by a local user connected as superuser.
    Now a process's role is the gateway's at most: it may revoke, never clear a revocation (the
    trigger binds the owner too), nor stretch a token's lifetime or change what it grants."""
    from tests.support.gateway_calls import bearer, new_summit, staff

    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    facilitator = staff(client, stack.token, summit)
    token_id = facilitator["token_id"]
    assert client.delete(f"/v1/auth/tokens/{token_id}", headers=stack.auth()).status_code == 200
    gateway_db = stack.databases[0]
    owner_url = stack.env["G1000_MIGRATION_DATABASE_URL"]
    owner_here = database_url(owner_url, conninfo_to_dict(gateway_db.url)["dbname"])
    revivals = [
        ("UPDATE issued_tokens SET revoked_at = NULL, revoked_by = NULL WHERE token_id = %s", "final"),
        ("UPDATE issued_tokens SET revoked_at = now() + interval '10 years' WHERE token_id = %s", "final"),
        ("UPDATE issued_tokens SET expires_at = now() + interval '10 years' WHERE token_id = %s", None),
        ("UPDATE issued_tokens SET role = 'organiser' WHERE token_id = %s", None),
    ]
    for statement, trigger_says in revivals:
        with pytest.raises(REFUSED):
            with gateway_db.pool.connection() as conn:
                conn.execute(statement, (token_id,))
        with pytest.raises(REFUSED, match=trigger_says or "may only revoke"):
            with psycopg.connect(owner_here) as conn:  # even the owner of the table
                conn.execute(statement, (token_id,))
    with pytest.raises(REFUSED):  # nor can it move the trigger out of the way
        with gateway_db.pool.connection() as conn:
            conn.execute("ALTER TABLE issued_tokens DISABLE TRIGGER issued_tokens_revocation_final")
    after = client.get("/v1/auth/whoami", headers=bearer(facilitator["token"]))
    assert after.status_code == 401 and "revoked" in after.get_json()["detail"]
    # the gateway's normal acts still work under its role: issue, check, revoke
    fresh = staff(client, stack.token, summit)
    assert client.get("/v1/auth/whoami", headers=bearer(fresh["token"])).status_code == 200
    assert client.delete(f"/v1/auth/tokens/{fresh['token_id']}", headers=stack.auth()).status_code == 200


def test_without_a_password_nobody_connects(service_env):
    """M2's way in was a trust rule: any local user connected as any role. Now every role needs
    its password, the runtime roles included (no connection as them without it)."""
    import os

    if os.environ.get("G1000_DATABASE_URL"):
        pytest.skip("an outside server's authentication rules are its own")
    for url in (service_env["G1000_AGENDA_DATABASE_URL"], service_env["G1000_MIGRATION_DATABASE_URL"],
                service_env["G1000_DATABASE_URL"]):
        params = conninfo_to_dict(url)
        params.pop("password")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(psycopg.conninfo.make_conninfo(**params, passfile="/dev/null"), connect_timeout=5).close()


def test_g1000_migrate_as_owner_then_the_services_start_without_it(service_env):
    """The Kubernetes way (deploy/k8s/base/migrate.yaml): `g1000 migrate` as the owner first; the
    service processes, given their runtime role only, run no DDL. Before that, a process given its
    runtime role only refuses to start, naming the owner's variable."""
    from g1000.migrate import migrate
    from services.core.errors import ConfigError

    runtime_only = {k: v for k, v in service_env.items() if k != "G1000_MIGRATION_DATABASE_URL"}
    with pytest.raises(ConfigError, match="does not exist.*G1000_MIGRATION_DATABASE_URL"):
        runtime_for("agenda", runtime_only)
    from services.core.db import ensure_database_of
    from services.core.provision import owner_url_for

    ensure_database_of(owner_url_for(service_env["G1000_MIGRATION_DATABASE_URL"],
                                     service_env["G1000_AGENDA_DATABASE_URL"]))  # as on Kubernetes
    with pytest.raises(ConfigError, match="pending.*G1000_MIGRATION_DATABASE_URL"):
        runtime_for("agenda", runtime_only)
    first = migrate(service_env, ["agenda", "gateway"])
    assert "services.core:0005_append_only.sql" in first["agenda"]
    assert "gateway:0006_final_revocation.sql" in first["gateway"]
    assert migrate(service_env, ["agenda"]) == {"agenda": []}  # idempotent; grants reapplied
    agenda = runtime_for("agenda", runtime_only)
    try:
        summit = "5a0e3c2e-1d9a-4c1f-9a77-5b1f1f3d2a02"
        agenda.store.append(summit, [topic(summit, "na de migratie")])
        assert _refused(agenda, "DELETE FROM events")
    finally:
        agenda.db.close()


def test_a_database_made_before_the_roles_is_handed_to_the_owner(service_env, database_roles):
    """`g1000 up` on a data directory from before (everything made by the superuser): the stack
    hands the database to the owner, which then migrates and grants as usual."""
    from services.core.db import Database
    from services.core.errors import ConfigError
    from services.core.provision import adopt_database, migrate_and_grant, owner_url_for

    admin = service_env["G1000_DATABASE_URL"]
    runtime = service_env["G1000_BALLOT_DATABASE_URL"]
    dbname = conninfo_to_dict(runtime)["dbname"]
    old = Database(database_url(admin, dbname), max_size=1)  # the old way: the superuser migrates
    from services.core.db import ensure_database_of

    ensure_database_of(old.url)
    old.open()
    try:
        old.migrate("services.core")
    finally:
        old.close()
    owner_url = owner_url_for(service_env["G1000_MIGRATION_DATABASE_URL"], runtime)
    with pytest.raises(ConfigError, match="hand the database over first"):  # not its tables yet
        migrate_and_grant(owner_url, ("services.core", "services.ballot"), "ballot", runtime)
    adopt_database(admin, dbname, url_user(owner_url))
    adopt_database(admin, dbname, url_user(owner_url))  # idempotent
    with psycopg.connect(database_url(admin, dbname)) as conn:
        owners = {r[0] for r in conn.execute(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = 'public'").fetchall()}
        functions = {r[0] for r in conn.execute(
            "SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc p JOIN pg_namespace n"
            " ON n.oid = p.pronamespace WHERE n.nspname = 'public'").fetchall()}
    assert owners == functions == {url_user(owner_url)}
    # the core's migrations were applied by the superuser before; the ballot's own by the owner now
    assert migrate_and_grant(owner_url, ("services.core", "services.ballot"), "ballot", runtime) == [
        "services.ballot:0001_ballot.sql"]
    ballot = runtime_for("ballot", service_env)
    try:
        assert _refused(ballot, "DELETE FROM events")
        assert _as_service(ballot, "SELECT count(*) FROM events").fetchone()[0] == 0
    finally:
        ballot.db.close()
