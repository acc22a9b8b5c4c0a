"""Credentials (a participant on the roll, once per ballot), casts (public, no token) and receipts.

Secrecy (docs/ballot.md): the cast path keeps no address, no request time and nothing that joins
a cast to an issuance. A cast waits in the pending table (random id, no time, no order) until
its batch is appended, shuffled, with one time for the whole batch.
"""

from __future__ import annotations

import base64
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.views import MethodView
from g1000_proofs import blind_rsa
from g1000_proofs.errors import BlindSignatureError

from services.core.auth import current_claims, requires, vouched
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.runtime import runtime

from . import repo
from .modexp import powmod_sec
from .domain import accept_cast, decode_base64, issued_event
from .errors import AlreadyDoneError, BallotInvalidError, BallotNotFoundError
from .schemas import BallotCredentialRequestSchema, BallotCredentialSchema, BallotReceiptSchema, BallotVoteAcceptedSchema, BallotVoteRequestSchema
from .uow import PREFIX, ballot_of, flush, now, reading, writing

_KEYS: dict[str, tuple[bytes, rsa.RSAPrivateKey]] = {}
_KEEP = 8  # open ballots of a summit at once are few


def signing_key(ballot_id: str, der: bytes | None) -> rsa.RSAPrivateKey:
    """The ballot's credential key, loaded once per process while the ballot is open.

    Loading checks the RSA key (about 150 ms at 3072 bits), which dominated every credential
    request. The service made this key itself and `blind_sign` checks each signature it makes
    against the public half (RFC 9474 §7), so the per-load check adds nothing and is skipped."""
    if der is None:
        _KEYS.pop(ballot_id, None)
        raise BallotInvalidError("the ballot's credential key has been erased")
    kept = _KEYS.get(ballot_id)
    if kept is not None and kept[0] == der:
        return kept[1]
    key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    if len(_KEYS) >= _KEEP:
        _KEYS.pop(next(iter(_KEYS)))
    _KEYS[ballot_id] = (der, key)
    return key


blp = Blueprint("ballot_casting", __name__, url_prefix=PREFIX,
                description="Anonymous credentials (RFC 9474 blind signatures), sealed casts and receipts")


@blp.route("/<uuid:ballot_id>/credentials")
class Credentials(MethodView):
    @requires("participant")
    @blp.arguments(BallotCredentialRequestSchema)
    @blp.response(201, BallotCredentialSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body, summit_id, ballot_id):
        """Blind-sign the participant's blinded token (once per ballot; a second request is 409).
        The log records only that this pseudonym obtained a credential for this ballot."""
        pseudonym = current_claims().subject
        blinded = decode_base64(body["blinded_msg"], "blinded_msg")
        # Check, sign, then record: the RSA work (tens of ms at 3072 bits) runs outside the
        # transaction and the summit's lock, so credential requests are signed in parallel. The
        # checks run again under the lock; a signature whose recording loses a race (a second
        # request of the same participant, a closing in between) is dropped, never answered.
        with reading(summit_id) as (conn, sid):
            b = ballot_of(conn, sid, ballot_id)
            issued_event(b, now(), pseudonym, repo.on_roll(conn, b.ballot_id, pseudonym),
                         repo.issued_to(conn, b.ballot_id, pseudonym))
            key = signing_key(b.ballot_id, b.credential_private)
        try:
            blind_sig = blind_rsa.blind_sign(key, blinded, powmod=powmod_sec)  # checks its output (RFC 9474 §7)
        except BlindSignatureError as e:
            raise BallotInvalidError(str(e), errors={"blinded_msg": ["not a blinded message for this key"]}) from None
        with writing(summit_id) as (tx, sid):
            b = ballot_of(tx.conn, sid, ballot_id, lock=True)
            at = now()
            event = issued_event(b, at, pseudonym, repo.on_roll(tx.conn, b.ballot_id, pseudonym),
                                 repo.issued_to(tx.conn, b.ballot_id, pseudonym))
            (recorded,) = tx.append(sid, [event], occurred_at=at)
            repo.save_issued(tx.conn, b, recorded)
        return {"blind_sig": base64.b64encode(blind_sig).decode()}


@blp.route("/<uuid:ballot_id>/votes")
class Votes(MethodView):
    @vouched
    @blp.arguments(BallotVoteRequestSchema)
    @blp.response(202, BallotVoteAcceptedSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body, summit_id, ballot_id):
        """Cast a sealed vote with an anonymous credential (public, no token). Accepted casts wait
        and are appended in shuffled batches; 409 when the nullifier was used or the ballot is not
        open, 422 when the credential does not verify or the sealed vote has the wrong size."""
        rt = runtime()
        with writing(summit_id) as (tx, sid):
            b = ballot_of(tx.conn, sid, ballot_id, lock=True)
            at = now()
            cast = accept_cast(b, at, body)
            if not repo.take_nullifier(tx.conn, b.ballot_id, cast):
                raise AlreadyDoneError("this credential has been used to vote already (its nullifier is taken)")
            if repo.add_pending(tx.conn, b.ballot_id, str(uuid.uuid4()), cast) >= rt.config.ballot_batch:
                flush(tx, b, at)
        return {"nullifier": cast.nullifier, "sealed_sha256": cast.sealed_sha256, "status": "pending"}, 202


@blp.route("/<uuid:ballot_id>/votes/<string:nullifier>")
class Receipt(MethodView):
    @blp.response(200, BallotReceiptSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, ballot_id, nullifier):
        """The receipt of a cast (public): pending, or appended with its seq and event."""
        with reading(summit_id) as (conn, sid):
            b = ballot_of(conn, sid, ballot_id)
            found = repo.receipt(conn, b.ballot_id, nullifier.lower())
            if found is None:
                raise BallotNotFoundError("no cast with this nullifier in this ballot")
            sealed_sha256, seq, event_id = found
            event = None
            if seq is not None:
                event = repo.event_by_id(conn, event_id).as_dict()
        return {"nullifier": nullifier.lower(), "sealed_sha256": sealed_sha256,
                "status": "pending" if seq is None else "appended", "index": seq, "event_id": event_id,
                "event": event}
