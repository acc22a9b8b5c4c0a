"""The ballot service against the real PostgreSQL, for its integration tests: the ``ballot``
fixture (the service with a ledger and an open summit, 2048-bit credential keys for speed, a
settable clock) and a voter client written directly on g1000_proofs (blind_rsa, sealing), as an
app would do it (the reusable client module is another piece of work).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest
from g1000_proofs import ballot as rules
from g1000_proofs import blind_rsa, sealing, shamir

from services.ballot.uow import CLOCK
from services.core.runtime import Runtime, create_service_app
from services.core.signing import Signer
from services.core.tokens import issue, new_claims
from tests.helpers import open_test_summit, runtime_for, vouching_client
from tests.support.lottery_flow import TENANT, learn_summits, token_signer

START = datetime(2027, 3, 14, 10, 0, tzinfo=timezone.utc)


@dataclass
class Clock:
    at: datetime = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


@dataclass
class Trustees:
    """What the trustees' tool makes: an X25519 key pair split k of n."""

    private: str
    public: str
    shares: list[str]
    k: int

    @classmethod
    def make(cls, k: int = 2, n: int = 3) -> "Trustees":
        private = secrets.token_bytes(32)
        return cls(private.hex(), sealing.public_key_hex(private.hex()),
                   [s.encode() for s in shamir.split(private, k, n)], k)

    def sealing(self) -> dict:
        return {"public_key": self.public, "k": self.k, "n": len(self.shares),
                "share_hashes": [hashlib.sha256(s.encode()).hexdigest() for s in self.shares]}


@dataclass
class BallotStack:
    rt: Runtime
    ledger: Runtime
    client: object
    summit: str
    signer: Signer
    clock: Clock
    trustees: Trustees = field(default_factory=Trustees.make)
    env: dict = field(default_factory=dict)

    def new_client(self):
        """Another vouching client of the same service (one per thread in a race)."""
        return vouching_client(create_service_app(self.rt), self.env)

    def auth(self, role: str = "organiser", subject: str = "test-organiser") -> dict:
        claims = new_claims(role=role, tenant=TENANT, subject=subject, now=int(time.time()), ttl_seconds=3600,
                            summit_id=None if role == "organiser" else self.summit)
        return {"Authorization": f"Bearer {issue(self.signer, claims)}"}

    def url(self, path: str = "") -> str:
        return f"/v1/summits/{self.summit}/ballots{path}"

    def post(self, path: str, body: dict | None = None, role: str | None = "organiser", subject: str = "test-organiser"):
        headers = self.auth(role, subject) if role else {}
        return self.client.post(self.url(path), json=body if body is not None else {}, headers=headers)

    def get(self, path: str = ""):
        return self.client.get(self.url(path))

    def ok(self, response, status: int = 200) -> dict:
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def arrive(self, pseudonym: str, status: int | None = None):
        r = self.client.post(f"/internal/summits/{self.summit}/arrivals", json={"pseudonym": pseudonym})
        if status is not None:
            assert r.status_code == status, r.get_json()
        return r

    def create(self, method: dict, options=("bikes", "parks", "trams"), minutes: int = 60) -> dict:
        body = {"title": [{"language": "nl", "text": "Wat eerst?"}, {"language": "en", "text": "What first?"}],
                "method": method,
                "options": [{"option_id": o, "texts": [{"language": "nl", "text": f"Optie {o}"}]} for o in options],
                "opens_at": START.isoformat(), "closes_at": (START + timedelta(minutes=minutes)).isoformat(),
                "sealing": self.trustees.sealing()}
        return self.ok(self.post("", body), 201)

    def events(self, event_type: str | None = None) -> list:
        found = self.rt.store.read_stream(self.summit, limit=100_000)
        return [e for e in found if event_type is None or e.type == event_type]

    def count(self, sql: str, *args) -> int:
        with self.rt.db.transaction() as conn:
            return conn.execute(sql, args).fetchone()[0]


@dataclass
class Voter:
    """A participant's client: blind a token, finalize the credential, seal and cast."""

    pseudonym: str
    token: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    credential: rules.Credential | None = None

    def obtain(self, stack: BallotStack, ballot: dict) -> object:
        key = rules.credential_key(ballot["credential_key"])
        prepared = blind_rsa.prepare(self.token, blind_rsa.PSS_RANDOMIZED)
        blinded = blind_rsa.blind(key, prepared, blind_rsa.PSS_RANDOMIZED)
        r = stack.post(f"/{ballot['ballot_id']}/credentials",
                       {"blinded_msg": base64.b64encode(blinded.blinded_msg).decode()},
                       role="participant", subject=self.pseudonym)
        if r.status_code == 201:
            sig = blind_rsa.finalize(key, prepared, base64.b64decode(r.get_json()["blind_sig"]), blinded.inv,
                                     blind_rsa.PSS_RANDOMIZED)
            self.credential = rules.Credential(prepared[32:], prepared[:32], sig)
        return r

    def cast_body(self, stack: BallotStack, ballot: dict, choice, credential: rules.Credential | None = None) -> dict:
        c = credential or self.credential
        sealed = sealing.seal_vote(choice, ballot["sealing"]["public_key"], stack.summit, ballot["ballot_id"])
        return {"credential": {"token": c.token.hex(), "prefix": c.prefix.hex(),
                               "signature": base64.b64encode(c.signature).decode()},
                "sealed": base64.b64encode(sealed).decode()}

    def cast(self, stack: BallotStack, ballot: dict, choice, credential: rules.Credential | None = None):
        return stack.client.post(stack.url(f"/{ballot['ballot_id']}/votes"),
                                 json=self.cast_body(stack, ballot, choice, credential))


@pytest.fixture
def ballot_stack(service_env):
    signer = token_signer(service_env)
    rt = runtime_for("ballot", service_env)    # first: its key is in the summit's genesis
    rt.config = replace(rt.config, ballot_key_bits=2048, ballot_batch=4)
    clock = Clock()
    rt.extras[CLOCK] = clock
    ledger = runtime_for("ledger", service_env)
    summit = open_test_summit(ledger)
    learn_summits(rt, ledger, summit)
    yield BallotStack(rt, ledger, vouching_client(create_service_app(rt), service_env), summit, signer, clock,
                      env=service_env)
    rt.db.close()
    ledger.db.close()
