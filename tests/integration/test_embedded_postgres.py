"""The embedded PostgreSQL trusts no local connection (M2): every connection needs the generated
superuser password, which only the stack's user can read. These tests start servers of their own."""

from __future__ import annotations

import os
import stat
import subprocess

import psycopg
import pytest

from g1000.embedded import EmbeddedPostgres, _pg_bin, _run_as

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _embedded_only():
    if os.environ.get("G1000_DATABASE_URL"):
        pytest.skip("about the embedded PostgreSQL")


def _refused_without_password(server: EmbeddedPostgres) -> None:
    for url in (f"postgresql://postgres@127.0.0.1:{server.port}/postgres",
                f"postgresql://postgres:guess@127.0.0.1:{server.port}/postgres",
                f"postgresql://g1000pg@127.0.0.1:{server.port}/postgres"):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(url, connect_timeout=5).close()


def test_a_connection_without_the_password_is_refused(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pg", fast_unsafe=True).start()
    try:
        _refused_without_password(server)
        with psycopg.connect(server.url, connect_timeout=5) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
        assert stat.S_IMODE(server.password_file.stat().st_mode) == 0o600
        assert len(server.password) >= 40
        hba = (tmp_path / "pg" / "pg_hba.conf").read_text()
        rules = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
        assert rules and all(rule[-1] == "scram-sha-256" for rule in rules)
        assert "trust" not in [rule[-1] for rule in rules] and "local" not in [rule[0] for rule in rules]
    finally:
        server.stop()
    again = EmbeddedPostgres(tmp_path / "pg", fast_unsafe=True).start()  # a restart keeps the password
    try:
        assert again.password == server.password
        psycopg.connect(again.url, connect_timeout=5).close()
    finally:
        again.stop()


def test_a_cluster_made_with_trust_gets_a_password_before_it_listens(tmp_path):
    """A data directory from before passwords (initdb --auth=trust) is converted on its next start."""
    user = _run_as()
    pgdata = tmp_path / "pg"
    pgdata.mkdir()
    kwargs = {}
    if user is not None:
        os.chown(pgdata, user.pw_uid, user.pw_gid)
        os.chmod(tmp_path, 0o755)
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    subprocess.run([str(_pg_bin("initdb")), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C"], check=True, capture_output=True, **kwargs)
    server = EmbeddedPostgres(pgdata, fast_unsafe=True).start()
    try:
        _refused_without_password(server)
        psycopg.connect(server.url, connect_timeout=5).close()
    finally:
        server.stop()
