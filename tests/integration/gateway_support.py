"""Support for the gateway tests (no tests here): real ledger and agenda apps served over HTTP, and
gateways in front of them on their own database. The `stack` fixture is registered in conftest."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server

from gateway.app import create_app, token_signer
from gateway.credentials import Credentials
from gateway.database import open_gateway_database
from gateway.settings import load_gateway_settings
from services.core.runtime import create_service_app
from tests.helpers import REGISTER, runtime_for, vouching_client

UNREACHABLE = "http://127.0.0.1:9"
SUMMIT = {"theme": "Samen leven", "municipality": "Teststad", "date": "2027-03-14",
          "seats": {"citizens": 900, "employers": 100}, "register": REGISTER}


class Gate:
    """WSGI wrapper that holds POST /v1/summits until released (a deterministic slow upstream)."""

    def __init__(self, app):
        self.app = app
        self.closed = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.posts = 0

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/v1/summits":
            self.posts += 1
            if self.closed:
                self.entered.set()
                assert self.release.wait(30), "the test never released the upstream"
        return self.app(environ, start_response)


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Stack:
    env: dict
    ledger: object
    agenda: object
    gate: Gate
    upstreams: dict
    token: str
    lottery: object = None
    ballot: object = None
    databases: list = field(default_factory=list)

    def gateway(self, clock=None, **env):
        """A gateway app on this stack's database (env overrides, e.g. rate limits)."""
        full = dict(self.env, **env)
        settings = load_gateway_settings(full)
        db = open_gateway_database(settings.database_url, pool_size=4, migration_url=settings.migration_url)
        self.databases.append(db)
        kwargs = {"clock": clock} if clock else {}
        return create_app(self.upstreams, env=full, database=db, **kwargs)

    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def credentials(self, clock=None) -> Credentials:
        """The gateway's record of credentials (as `g1000 admin` uses it)."""
        if not self.databases:
            self.gateway()
        settings = load_gateway_settings(self.env)
        return Credentials(self.databases[0], token_signer(settings), **({"clock": clock} if clock else {}))

    def issue(self, role: str = "organiser", summit_id: str | None = None, tenant: str = "Teststad",
              clock=None, **kwargs) -> str:
        """A token recorded by the gateway (so it passes the revocation check)."""
        return self.credentials(clock).issue(role=role, tenant=tenant, summit_id=summit_id,
                                             subject=kwargs.pop("subject", f"{role[:4]}-test"),
                                             issued_by="admin", **kwargs).token

    def announce(self, summit_id: str) -> None:
        """Let the other services learn of a summit, as their consumers would from the ledger stream."""
        with self.ledger.db.transaction() as conn:
            rows = conn.execute("SELECT seq, body FROM events WHERE summit_id = %s AND type = 'ledger.summit.created'",
                                (summit_id,)).fetchall()
        for rt in self.others():
            rt.consumer().process([(f"test:{seq}", bytes(body)) for seq, body in rows])

    def seat(self, summit_id: str, n: int = 3, pool: str = "employers") -> list[str]:
        """Seat `n` nominees of a stakeholder pool: nominate, commit a distribution, run a quick
        seed round and draw the panel at the lottery (as its organiser would, through a vouching
        client). Returns the seated pseudonyms; the summit must have been announced."""
        import hashlib
        import secrets
        from datetime import datetime, timedelta, timezone

        from services.lottery import jobs

        lottery = vouching_client(create_service_app(self.lottery), self.env)
        base, auth = f"/v1/summits/{summit_id}/lottery", self.auth()

        def post(path, body, status):
            response = lottery.post(base + path, json=body, headers=auth)
            assert response.status_code == status, response.get_data(as_text=True)
            return response.get_json()

        members = [{"pseudonym": secrets.token_hex(16), "features": {"gender": "f"}} for _ in range(n)]
        post(f"/pools/{pool}/members", {"members": members}, 201)
        post(f"/pools/{pool}/distributions", {"panel_size": n, "quotas": {"gender": {"f": [n, n]}}}, 202)
        jobs.run_once(self.lottery)
        (dist,) = lottery.get(f"{base}/pools/{pool}/distributions").get_json()["distributions"]
        stamp = lambda s: (datetime.now(timezone.utc) + timedelta(seconds=s)).isoformat()  # noqa: E731
        parties = ("gemeente", "notaris")
        rnd = post("/rounds", {"purpose": "panel", "parties": list(parties), "commit_deadline": stamp(60),
                               "reveal_deadline": stamp(120)}, 201)
        values = {p: secrets.token_hex(32) for p in parties}
        for party in parties:
            post(f"/rounds/{rnd['round_id']}/commitments",
                 {"party": party, "commitment": hashlib.sha256(values[party].encode()).hexdigest()}, 201)
        for party in parties:
            post(f"/rounds/{rnd['round_id']}/reveals", {"party": party, "value": values[party]}, 201)
        post(f"/rounds/{rnd['round_id']}/finalize", None, 200)
        panel = post(f"/pools/{pool}/draws", {"distribution_id": dist["distribution_id"],
                                              "round_id": rnd["round_id"]}, 201)
        return panel["members"]

    def agenda_count(self, summit_id: str) -> int:
        with self.agenda.db.transaction() as conn:
            return conn.execute("SELECT count(*) FROM events WHERE summit_id = %s", (summit_id,)).fetchone()[0]

    def others(self) -> list:
        return [rt for rt in (self.agenda, self.lottery, self.ballot) if rt is not None]

    def gateway_rows(self, sql: str, *params):
        with self.databases[0].transaction() as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture
def stack(service_env):
    ledger = runtime_for("ledger", service_env)
    agenda = runtime_for("agenda", service_env)
    lottery = runtime_for("lottery", service_env)
    ballot = runtime_for("ballot", service_env)   # a check-in records the arrival there
    gate = Gate(create_service_app(ledger))
    served = [serve(gate), serve(create_service_app(agenda)), serve(create_service_app(lottery)),
              serve(create_service_app(ballot))]
    env = dict(service_env)  # the gateway's own database and runtime role come with it
    upstreams = {"ledger": served[0][2], "agenda": served[1][2], "lottery": served[2][2], "ballot": served[3][2]}
    s = Stack(env, ledger, agenda, gate, upstreams, "", lottery=lottery, ballot=ballot)
    s.token = s.issue("organiser")
    yield s
    gate.release.set()
    for server, thread, _ in served:
        server.shutdown()
        thread.join(timeout=10)
    for db in s.databases:
        db.close()
    for rt in (ledger, agenda, lottery, ballot):
        rt.db.close()
