"""Support for the ballot's secrecy tests (no tests here): a whole ballot through the gateway with
the client module, and scans of every row of every database and every captured log line for
anything that joins a participant to a vote (docs/ballot.md, "Secrecy: what is never stored").

A participant is known by their pseudonym, their check-in code, their participant token and its
token id; a vote by its nullifier, its credential (token, prefix, signature) and its sealed bytes.
Each secret is searched in every encoding a row or a line could hold it in: as given, hex and
base64 of its bytes (bytea values are rendered as UTF-8, hex and base64 before the search).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from g1000 import trustee
from g1000.ballot_client import BallotClient
from services.core.envelope import format_time
from tests.integration.gateway_support import SUMMIT

OPTIONS = ("fietspaden", "groen", "wonen")


def http_for(client, address):
    """The client module's HTTP call over the gateway's test client, from one client address."""
    def http(method, path, body, token):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.open(path, method=method, json=body, headers=headers,
                               environ_base={"REMOTE_ADDR": address})
        return response.status_code, response.get_json() if response.is_json else response.get_data(as_text=True)
    return http


@dataclass
class Voter:
    pseudonym: str
    code: str
    token: str
    token_id: str
    address: str
    nullifier: str = ""
    credential: dict = field(default_factory=dict)
    sealed: str = ""

    def person(self) -> list[str]:
        return [self.pseudonym, self.code, self.token, self.token_id]

    def vote(self) -> list[str]:
        return [self.nullifier, self.credential["token"], self.credential["prefix"],
                self.credential["signature"], self.sealed]


@dataclass
class Ballot:
    client: object
    organiser: dict
    summit_id: str
    ballot_id: str
    keys: object
    voters: list[Voter]
    stack: object = None

    @property
    def base(self) -> str:
        return f"/v1/summits/{self.summit_id}/ballots/{self.ballot_id}"


def choice_of(i: int) -> dict:
    return {"approve": [OPTIONS[i % 3]] if i % 2 else [OPTIONS[i % 3], OPTIONS[(i + 1) % 3]]}


def open_ballot(stack, tmp_path, n: int) -> Ballot:
    """A summit with `n` seated participants, all checked in, and an open approval ballot."""
    client = stack.gateway().test_client()
    organiser = stack.auth()
    summit_id = client.post("/v1/summits", json=SUMMIT, headers=organiser).get_json()["summit_id"]
    stack.announce(summit_id)
    seated = stack.seat(summit_id, n=n)
    codes = client.post(f"/v1/summits/{summit_id}/check-in-codes", json={"participants": seated},
                        headers=organiser).get_json()["codes"]
    voters = []
    for i, c in enumerate(codes):
        answer = client.post("/v1/auth/check-in", json={"code": c["code"]}).get_json()
        voters.append(Voter(c["participant"] if "participant" in c else c.get("pseudonym", seated[i]), c["code"],
                            answer["token"], answer["token_id"], f"198.51.100.{20 + i}"))
    assert sorted(v.pseudonym for v in voters) == sorted(seated)
    keys = trustee.keygen(2, 3, ["notary", "delegate", "clerk"], tmp_path / "keys")
    now = datetime.now(timezone.utc)
    created = client.post(f"/v1/summits/{summit_id}/ballots", headers=organiser, json={
        "title": [{"language": "nl", "text": "Welke voorstellen?"}], "method": {"kind": "approval", "min": 1, "max": 2},
        "options": [{"option_id": o, "texts": [{"language": "nl", "text": o}]} for o in OPTIONS],
        "opens_at": format_time(now - timedelta(seconds=1)), "closes_at": format_time(now + timedelta(hours=1)),
        "sealing": keys.public})
    assert created.status_code == 201, created.get_data(as_text=True)
    ballot_id = created.get_json()["ballot_id"]
    opened = client.post(f"/v1/summits/{summit_id}/ballots/{ballot_id}/open", headers=organiser)
    assert opened.status_code == 200, opened.get_data(as_text=True)
    return Ballot(client, organiser, summit_id, ballot_id, keys, voters, stack)


def cast_all(b: Ballot) -> None:
    """Every voter obtains a credential and casts at once (the worst case for linking by order)."""
    for i, v in enumerate(b.voters):
        voter = BallotClient(http_for(b.client, v.address), b.summit_id, b.ballot_id)
        credential = voter.obtain_credential(v.token)
        v.nullifier, sealed = voter.cast(credential, choice_of(i))
        v.credential = {"token": credential.token.hex(), "prefix": credential.prefix.hex(),
                        "signature": base64.b64encode(credential.signature).decode()}
        v.sealed = base64.b64encode(sealed).decode()


def close_and_tally(b: Ballot) -> dict:
    assert b.client.post(f"{b.base}/close", headers=b.organiser).status_code == 200
    post = http_for(b.client, "192.0.2.50")
    for share in b.keys.share_files[:2]:
        trustee.submit("", b.summit_id, b.ballot_id, share, lambda url, body: post("POST", url, body, None))
    final = b.client.get(b.base).get_json()
    deliver_to_ledger(b.stack)
    assert final["state"] == "tallied" and final["counted"] == len(b.voters), final
    return final


def deliver_to_ledger(stack) -> int:
    """Hand every event of the ballot and lottery services to the ledger, as its consumer of every
    stream would (so the ledger's tables hold the ballot's log too); the number delivered."""
    delivered = 0
    for rt in (stack.lottery, stack.ballot):
        with rt.db.transaction() as conn:
            rows = conn.execute("SELECT seq, body FROM events ORDER BY position").fetchall()
        stack.ledger.consumer().process([(f"test:{seq}", bytes(body)) for seq, body in rows])
        delivered += len(rows)
    return delivered


# -- encodings -------------------------------------------------------------------------------------

def forms(secret: str) -> set[str]:
    """The ways a secret can appear in a row or a line: itself, and hex/base64 of its bytes."""
    out = {secret}
    raw = None
    try:
        raw = bytes.fromhex(secret)
    except ValueError:
        try:
            raw = base64.b64decode(secret, validate=True)
        except (ValueError, binascii.Error):
            raw = secret.encode()
    if raw:
        out |= {raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return {f for f in out if len(f) >= 8}


def render(value) -> str:
    """A column value as text; bytes also as UTF-8 (a JSON body), hex and base64."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return " ".join((value.decode("utf-8", "replace"), value.hex(), base64.b64encode(value).decode()))
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


# -- the databases ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    database: str
    table: str
    text: str


def databases_of(env: dict) -> list[str]:
    """Every database of this test (each service's and the gateway's carry the test's tag)."""
    tag = env["G1000_TOPIC_PREFIX"]
    with psycopg.connect(env["G1000_DATABASE_URL"], autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
                                            (f"{tag}\\_%",)).fetchall()]
    return names


def connect_to(env: dict, name: str):
    parts = urlsplit(env["G1000_DATABASE_URL"])
    return psycopg.connect(urlunsplit(parts._replace(path="/" + name)), autocommit=True)


def tables(conn) -> list[tuple[str, str]]:
    return [(s, t) for s, t in conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        " AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2").fetchall()]


def columns(conn, schema: str, table: str) -> list[tuple[str, str, str | None, str]]:
    """(name, data type, default, is_identity) of each column of a table."""
    return conn.execute(
        "SELECT column_name, data_type, column_default, is_identity FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position", (schema, table)).fetchall()


def every_row(env: dict) -> list[Row]:
    """Every row of every table of every schema of every database of this test, as text."""
    rows = []
    for name in databases_of(env):
        with connect_to(env, name) as conn:
            for schema, table in tables(conn):
                qualified = sql.Identifier(schema, table)
                for values in conn.execute(sql.SQL("SELECT * FROM {}").format(qualified)).fetchall():
                    rows.append(Row(name, f"{schema}.{table}", " | ".join(render(v) for v in values)))
    return rows


def column_lists(env: dict) -> dict[str, list]:
    """`database:schema.table` -> its columns, for every table of this test's databases."""
    out = {}
    for name in databases_of(env):
        with connect_to(env, name) as conn:
            for schema, table in tables(conn):
                out[f"{name}:{schema}.{table}"] = columns(conn, schema, table)
    return out


# -- the scan --------------------------------------------------------------------------------------

def holds(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if any(f in text for f in forms(s))]


def links(texts: list[str], voters: list[Voter]) -> list[tuple[str, list[str], list[str]]]:
    """Each text (a row or a log line) that holds something of a person and something of a vote
    (anyone's: a pseudonym beside another's nullifier is as bad), with what it holds."""
    people = [s for v in voters for s in v.person()]
    votes = [s for v in voters for s in v.vote()]
    found = []
    for text in texts:
        person = holds(text, people)
        if person:
            vote = holds(text, votes)
            if vote:
                found.append((text[:300], person, vote))
    return found


def log_lines(captured_out: str, captured_err: str, records) -> list[str]:
    """Every line a process wrote (stdout, stderr) and every logging record with its extras."""
    lines = (captured_out + "\n" + captured_err).splitlines()
    for r in records:
        extras = {k: str(v) for k, v in vars(r).items() if k not in ("msg", "args", "exc_info")}
        lines.append(r.getMessage() + " " + json.dumps(extras, sort_keys=True))
    return lines
