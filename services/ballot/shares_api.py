"""The trustees' shares after closing; the k-th distinct valid share reveals the key and publishes
the tally, in the same transaction (so a crash leaves either neither or both)."""

from __future__ import annotations

import base64

from flask.views import MethodView
from g1000_proofs.shamir import Share

from services.core.auth import vouched
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema

from . import repo
from .domain import accept_share, reveal_and_tally
from .schemas import BallotShareAcceptedSchema, BallotShareRequestSchema
from .uow import PREFIX, ballot_of, now, writing

blp = Blueprint("ballot_shares", __name__, url_prefix=PREFIX,
                description="The trustees' key shares (Shamir, k of n), the revealed key and the tally")


@blp.route("/<uuid:ballot_id>/shares")
class Shares(MethodView):
    @vouched
    @blp.arguments(BallotShareRequestSchema)
    @blp.response(202, BallotShareAcceptedSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body, summit_id, ballot_id):
        """Hand in a trustee's share after closing (public: a share's sha256 must be one of the
        ballot's share_hashes). With the k-th distinct share the key is revealed, every vote opened
        and the result published."""
        text = body["share"].strip()
        with writing(summit_id) as (tx, sid):
            at = now()
            b = ballot_of(tx.conn, sid, ballot_id, lock=True)
            taken = repo.shares(tx.conn, b.ballot_id)
            share = accept_share(b, text, taken)
            repo.add_share(tx.conn, b.ballot_id, share.x, text)
            received, k = len(taken) + 1, b.created["sealing"]["k"]
            state = b.state
            if received == k:
                shares = [Share.decode(t) for t in taken.values()] + [share]
                sealed = [base64.b64decode(e.payload["sealed"]) for e in repo.cast_events(tx.conn, sid, b.ballot_id)]
                events, private, counted, result = reveal_and_tally(b, shares, sealed)
                tx.append(sid, events, occurred_at=at)
                repo.save_tallied(tx.conn, b, private, counted, result)
                state = "tallied"
        return {"received": received, "k": k, "state": state}, 202
