"""`g1000-verify` against a real log in PostgreSQL, served over HTTP by the ledger: the untouched
log verifies; a changed byte, a deleted entry, two swapped entries or a replaced checkpoint is
found, naming the first bad index."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from g1000_proofs.checkpoint import Checkpoint, sign_checkpoint
from g1000_proofs.note_keys import generate_signer_key
from services.core.runtime import create_service_app
from services.ledger.checkpoints import LogKey, cut_checkpoint
from services.ledger.settings import load_ledger_settings
from tests.helpers import runtime_for, superuser_transaction
from tests.support.event_flow import build_log

pytestmark = pytest.mark.integration

N = 120


@pytest.fixture
def served_log(service_env):
    agenda = runtime_for("agenda", service_env)
    ledger = runtime_for("ledger", service_env)
    summit, leaves = build_log(agenda, ledger, N)
    settings = load_ledger_settings(ledger.config)
    key = LogKey.load(settings.log_key_file, settings.log_host)
    with superuser_transaction(ledger, service_env["G1000_DATABASE_URL"]) as conn:  # two checkpoints:
        # one midway, one at the end (past the append-only triggers)
        conn.execute("DELETE FROM log_checkpoints WHERE summit_id = %s", (summit,))
        conn.execute("UPDATE log_heads SET size = 60 WHERE summit_id = %s", (summit,))
        cut_checkpoint(conn, key, summit)
        conn.execute("UPDATE log_heads SET size = %s WHERE summit_id = %s", (len(leaves), summit))
        cut_checkpoint(conn, key, summit)
    server = make_server("127.0.0.1", 0, create_service_app(ledger), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", summit, ledger, key
    server.shutdown()
    thread.join(timeout=10)
    agenda.db.close()
    ledger.db.close()


def verify(url: str, summit: str, *extra: str) -> tuple[int, dict]:
    from g1000_verify.cli import main

    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["log", "--gateway", url, "--summit", summit, "--json", *extra])
    return code, json.loads(out.getvalue())


def test_untouched_log_verifies_and_receipts_check(served_log):
    url, summit, ledger, key = served_log
    code, report = verify(url, summit, "--log-key", key.verifier_key(summit))
    assert code == 0, report
    assert report["ok"] and report["failure"] is None and report["tree_size"] == N + 3
    assert report["checked"]["checkpoints"] == 2 and report["checked"]["consistency_proofs"] == 1
    assert report["log_key_source"] == "argument"
    with ledger.db.transaction() as conn:
        leaf = conn.execute("SELECT encode(leaf_hash, 'base64') FROM log_entries WHERE summit_id = %s AND idx = 17",
                            (summit,)).fetchone()[0]
    code, report = verify(url, summit, "--receipt", f"17:{leaf}")
    assert code == 0 and report["checked"]["receipts"] == 1
    code, report = verify(url, summit, "--receipt", f"18:{leaf}")
    assert code != 0 and report["failure"]["index"] == 18


def tamper(ledger, sql: str, *params) -> None:
    """Change the stored log as a database superuser can: past the append-only triggers."""
    with superuser_transaction(ledger, _ADMIN["url"]) as conn:
        conn.execute(sql, params)


_ADMIN: dict = {}


@pytest.fixture(autouse=True)
def _admin_url(database_server_url):
    _ADMIN["url"] = database_server_url  # the administrator's URL, for tamper()


def test_one_changed_byte_is_found_at_its_index(served_log):
    url, summit, ledger, _ = served_log
    tamper(ledger, "UPDATE log_entries SET body = convert_to(replace(convert_from(body, 'UTF8'), '\"t40\"', '\"t41\"'),"
                   " 'UTF8') WHERE summit_id = %s AND idx = 43", summit)
    code, report = verify(url, summit)
    assert code != 0 and report["failure"]["index"] == 43, report


def test_deleted_entry_is_found(served_log):
    url, summit, ledger, _ = served_log
    tamper(ledger, "DELETE FROM log_entries WHERE summit_id = %s AND idx = 77", summit)
    code, report = verify(url, summit)
    assert code != 0 and report["failure"]["index"] == 77, report


def test_swapped_entries_are_found_at_the_first(served_log):
    url, summit, ledger, _ = served_log
    tamper(ledger, "UPDATE log_entries SET idx = -1 WHERE summit_id = %s AND idx = 30", summit)
    tamper(ledger, "UPDATE log_entries SET idx = 30 WHERE summit_id = %s AND idx = 90", summit)
    tamper(ledger, "UPDATE log_entries SET idx = 90 WHERE summit_id = %s AND idx = -1", summit)
    code, report = verify(url, summit)
    assert code != 0 and report["failure"]["index"] == 30, report


def test_replaced_checkpoint_is_found(served_log):
    url, summit, ledger, key = served_log
    skey, _ = generate_signer_key(key.origin(summit))
    with ledger.db.transaction() as conn:
        root = bytes(conn.execute("SELECT root_hash FROM log_checkpoints WHERE summit_id = %s AND tree_size = 60",
                                  (summit,)).fetchone()[0])
    forged = sign_checkpoint(Checkpoint(key.origin(summit), 60, root), skey)
    tamper(ledger, "UPDATE log_checkpoints SET note = %s WHERE summit_id = %s AND tree_size = 60", forged, summit)
    code, report = verify(url, summit, "--log-key", key.verifier_key(summit))
    assert code != 0 and report["failure"]["check"].startswith("checkpoint"), report


def test_checkpoint_with_another_root_is_found(served_log):
    url, summit, ledger, key = served_log
    forged = sign_checkpoint(Checkpoint(key.origin(summit), 60, bytes(32)), key.note_signer(summit))
    tamper(ledger, "UPDATE log_checkpoints SET note = %s WHERE summit_id = %s AND tree_size = 60", forged, summit)
    code, report = verify(url, summit)
    assert code != 0 and report["failure"]["check"].startswith("checkpoint"), report


def test_console_script_runs_as_a_separate_process(served_log):
    url, summit, _, key = served_log
    done = subprocess.run([sys.executable, "-m", "g1000_verify.cli", "log", "--gateway", url, "--summit", summit,
                           "--log-key", key.verifier_key(summit)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
