"""Seed rounds: open, commit, close early, reveal, dice, beacon, finalise; read (public).

Deadlines are checked against the server clock, and once more against the time the log gave
the event (rounds.check_recorded), so a request at the very edge of a deadline is refused
rather than logged on the wrong side of it.
"""

from __future__ import annotations

import uuid

from flask.views import MethodView

from services.core.auth import requires
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.events import NewEvent
from services.core.summits import summit_vocabulary

from . import repo, rounds
from .uow import PREFIX, now, reading, writing
from .errors import LotteryNotFoundError
from .schemas import (
    LotteryBeaconSchema, LotteryCommitSchema, LotteryDiceSchema, LotteryRevealSchema,
    LotteryRoundListSchema, LotteryRoundOpenSchema, LotteryRoundSchema,
)

blp = Blueprint("lottery_rounds", __name__, url_prefix=f"{PREFIX}/rounds",
                description="Seed rounds: commitments, reveals, dice and beacon values, the seed")

STAFF = ("organiser", "facilitator")
_ERRORS = (401, 403, 404, 409, 422)


def round_json(rnd: rounds.Round, at: str) -> dict:
    return {
        "round_id": rnd.round_id, "purpose": rnd.purpose, "parties": list(rnd.parties),
        "commit_deadline": rnd.commit_deadline, "reveal_deadline": rnd.reveal_deadline,
        "state": rnd.state(at), "opened_seq": rnd.opened_seq,
        "commitments": [{"party": e.party, "commitment": e.commitment, "seq": e.seq, "occurred_at": e.occurred_at}
                        for e in rnd.commitments],
        "contributions": [{"party": e.party, "value": e.value, "kind": e.kind, "source": e.source, "seq": e.seq,
                           "occurred_at": e.occurred_at} for e in rnd.contributions],
        "first_contribution_seq": rnd.first_contribution_seq, "seed": rnd.seed,
        "seed_contributions": rounds.seed_contributions(rnd) if rnd.seed is not None else None,
        "not_revealed": list(rnd.not_revealed), "finalized_seq": rnd.finalized_seq,
        "draw": rnd.draw,
    }


def _features(conn, sid: str) -> list[str]:
    """What an invitation round may stratify by: the committed register's features, or before
    the register exists the charter's vocabulary (none for a v1 charter)."""
    reg = repo.register(conn, sid)
    if reg is not None:
        return list(reg["features"])
    return sorted(summit_vocabulary(conn, sid) or {})


def _documented(view):
    for status in _ERRORS:
        view = blp.alt_response(status, schema=ProblemSchema)(view)
    return view


def _step(summit_id, round_id, decide) -> dict:
    """Load the round, decide its next event, append it, check the recorded time; the round now."""
    with writing(summit_id) as (tx, sid):
        rnd = repo.load_round(tx.conn, sid, str(round_id))
        if rnd is None:
            raise LotteryNotFoundError(f"no round {round_id} in summit {sid}")
        at = now()
        event_type, payload = decide(rnd, sid, at)
        (recorded,) = tx.append(sid, [NewEvent(event_type, payload, repo.round_aggregate(sid, rnd.round_id),
                                               rnd.version + 1)])
        rounds.check_recorded(rnd, event_type, recorded.occurred_at)
        rnd = rounds.apply(rnd, event_type, payload, recorded.seq, recorded.occurred_at)
    return round_json(rnd, at)


@blp.route("")
class Rounds(MethodView):
    @blp.response(200, LotteryRoundListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """The summit's seed rounds, in the order they were opened (public)."""
        with reading(summit_id) as (conn, sid):
            found = repo.load_rounds(conn, sid)
        at = now()
        return {"rounds": [round_json(r, at) for r in found]}

    @requires("organiser")
    @blp.arguments(LotteryRoundOpenSchema)
    @blp.response(201, LotteryRoundSchema)
    @_documented
    def post(self, body, summit_id):
        """Open a seed round (organiser): its purpose, its committing parties and the deadlines;
        an invitation round also its draw's `n` and `stratify_by` (422 without them), which are
        then fixed in the log before any party commits, so they cannot be chosen after the seed."""
        round_id = str(uuid.uuid4())
        with writing(summit_id) as (tx, sid):
            at = now()
            payload = rounds.open_payload(round_id, body["purpose"], body["parties"],
                                          rounds.stamp(body["commit_deadline"]),
                                          rounds.stamp(body["reveal_deadline"]), at,
                                          draw=body["draw"], features=_features(tx.conn, sid))
            (recorded,) = tx.append(sid, [NewEvent("lottery.seed.round_opened", payload,
                                                   repo.round_aggregate(sid, round_id), 1)])
            rnd = repo.fold_round([recorded])
        return round_json(rnd, at)


@blp.route("/<uuid:round_id>")
class OneRound(MethodView):
    @blp.response(200, LotteryRoundSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, round_id):
        """A round: phase, commitments, contributions, and the seed once finalised (public)."""
        with reading(summit_id) as (conn, sid):
            rnd = repo.load_round(conn, sid, str(round_id))
        if rnd is None:
            raise LotteryNotFoundError(f"no round {round_id} in summit {sid}")
        return round_json(rnd, now())


@blp.route("/<uuid:round_id>/commitments")
class Commitments(MethodView):
    @requires(*STAFF)
    @blp.arguments(LotteryCommitSchema)
    @blp.response(201, LotteryRoundSchema)
    @_documented
    def post(self, body, summit_id, round_id):
        """Record a party's commitment SHA-256(value) (organiser or facilitator, before the
        commit deadline; a late commitment is 409). The commit phase ends when every listed
        party has committed, or at the deadline."""
        return _step(summit_id, round_id, lambda rnd, sid, at: (
            "lottery.seed.committed", rounds.commit_payload(rnd, body["party"], body["commitment"], at)))


@blp.route("/<uuid:round_id>/reveals")
class Reveals(MethodView):
    @requires(*STAFF)
    @blp.arguments(LotteryRevealSchema)
    @blp.response(201, LotteryRoundSchema)
    @_documented
    def post(self, body, summit_id, round_id):
        """Reveal a party's value (organiser or facilitator, after the commit phase). A value that
        does not match the commitment is refused (422) and not logged."""
        return _step(summit_id, round_id, lambda rnd, sid, at: (
            "lottery.seed.contributed", rounds.reveal_payload(rnd, body["party"], body["value"], at)))


@blp.route("/<uuid:round_id>/dice")
class Dice(MethodView):
    @requires(*STAFF)
    @blp.arguments(LotteryDiceSchema)
    @blp.response(201, LotteryRoundSchema)
    @_documented
    def post(self, body, summit_id, round_id):
        """Add the notary's public dice rolls (after the commit phase, before the first reveal)."""
        return _step(summit_id, round_id, lambda rnd, sid, at: (
            "lottery.seed.contributed",
            rounds.public_payload(rnd, "dice", body["party"], body["value"], None, at)))


@blp.route("/<uuid:round_id>/beacon")
class Beacon(MethodView):
    @requires(*STAFF)
    @blp.arguments(LotteryBeaconSchema)
    @blp.response(201, LotteryRoundSchema)
    @_documented
    def post(self, body, summit_id, round_id):
        """Add a published public beacon value with its source (after the commit phase, before
        the first reveal); the log records the value as `<value> @ <source>`."""
        return _step(summit_id, round_id, lambda rnd, sid, at: (
            "lottery.seed.contributed",
            rounds.public_payload(rnd, "beacon", body["party"], body["value"], body["source"], at)))


@blp.route("/<uuid:round_id>/finalize")
class Finalize(MethodView):
    @requires("organiser")
    @blp.response(200, LotteryRoundSchema)
    @_documented
    def post(self, summit_id, round_id):
        """Compute and record the seed (organiser): after every committed party revealed, or after
        the reveal deadline without the parties that did not reveal."""
        return _step(summit_id, round_id, lambda rnd, sid, at: (
            "lottery.seed.finalized", rounds.finalize_payload(rnd, sid, at)))
