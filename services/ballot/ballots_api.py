"""Ballots: create (organiser), list and read (public), open and close (organiser)."""

from __future__ import annotations

import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.views import MethodView
from g1000_proofs.ballot import encode_credential_key

from services.core.auth import requires
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.runtime import runtime

from . import repo
from .domain import TITLE, Ballot, created_event, opened_event
from .schemas import BallotCreateSchema, BallotListSchema, BallotSchema
from .uow import PREFIX, ballot_of, close, now, reading, writing

blp = Blueprint("ballot_ballots", __name__, url_prefix=PREFIX,
                description="Ballots: their texts, window, roll, credential key and result")


def ballot_json(conn, b: Ballot) -> dict:
    """The public view of a ballot: the log's descriptions with the texts they describe."""
    stored = repo.texts(conn, b.ballot_id)
    c = b.created

    def with_texts(option_id: str, described: list[dict]) -> list[dict]:
        return [{**d, "text": stored.get(option_id, {}).get(d["language"])} for d in described]

    closed = b.state in ("closed", "revealed", "tallied")
    return {
        "ballot_id": b.ballot_id, "summit_id": b.summit_id, "state": b.state,
        "title": with_texts(TITLE, c["title"]), "method": c["method"],
        "options": [{"option_id": o["option_id"], "texts": with_texts(o["option_id"], o["texts"])}
                    for o in c["options"]],
        "opens_at": c["opens_at"], "closes_at": c["closes_at"], "sealing": c["sealing"],
        "roll": {"count": b.roll_count, "root": b.roll_root} if b.roll_count else None,
        "credential_key": b.credential_key, "issued": b.issued,
        "cast": repo.cast_count(conn, b.ballot_id) if closed else None,
        "closed_at": b.closed_at, "early": b.early, "private_key": b.private_key,
        "counted": b.counted, "result": b.result,
    }


@blp.route("")
class Ballots(MethodView):
    @blp.response(200, BallotListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """The summit's ballots, oldest first (public)."""
        with reading(summit_id) as (conn, sid):
            return {"ballots": [ballot_json(conn, b) for b in repo.ballots(conn, sid)]}

    @requires("organiser")
    @blp.arguments(BallotCreateSchema)
    @blp.response(201, BallotSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body, summit_id):
        """Create a ballot (organiser): its texts (only their NFC sha256 and length enter the log),
        method, options, window and the trustees' sealing key."""
        with writing(summit_id) as (tx, sid):
            event, texts = created_event(sid, str(uuid.uuid4()), body)
            (recorded,) = tx.append(sid, [event], occurred_at=now())
            repo.save_created(tx.conn, recorded, texts)
            b = ballot_of(tx.conn, sid, recorded.payload["ballot_id"])
            return ballot_json(tx.conn, b)


@blp.route("/<uuid:ballot_id>")
class OneBallot(MethodView):
    @blp.response(200, BallotSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, ballot_id):
        """The ballot, its texts, state, roll commitment, credential key, counts and result (public)."""
        with reading(summit_id) as (conn, sid):
            return ballot_json(conn, ballot_of(conn, sid, ballot_id))


def _fresh_key() -> tuple[str, bytes]:
    """A fresh credential key (RFC 9474: RSA, e = 65537): public half for the log, private DER."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=runtime().config.ballot_key_bits)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return encode_credential_key(key.public_key()), der


@blp.route("/<uuid:ballot_id>/open")
class Open(MethodView):
    @requires("organiser")
    @blp.response(200, BallotSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, summit_id, ballot_id):
        """Open the ballot (organiser, from opens_at): commit the roll of everyone checked in so far
        and a fresh credential key."""
        public, private = _fresh_key()   # before the lock: key generation takes a while
        with writing(summit_id) as (tx, sid):
            b = ballot_of(tx.conn, sid, ballot_id, lock=True)
            at = now()
            event, roll = opened_event(b, at, repo.arrivals(tx.conn, sid), public)
            (recorded,) = tx.append(sid, [event], occurred_at=at)
            repo.save_opened(tx.conn, b, recorded, roll, private)
            return ballot_json(tx.conn, ballot_of(tx.conn, sid, ballot_id))


@blp.route("/<uuid:ballot_id>/close")
class Close(MethodView):
    @requires("organiser")
    @blp.response(200, BallotSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, summit_id, ballot_id):
        """Close the ballot early (organiser; recorded as early). Pending casts are appended first."""
        with writing(summit_id) as (tx, sid):
            b = ballot_of(tx.conn, sid, ballot_id, lock=True)
            close(tx, b, now(), early=True)
            return ballot_json(tx.conn, ballot_of(tx.conn, sid, ballot_id))
