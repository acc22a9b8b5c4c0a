"""Stage 1: the invitation draw from the register, and the invitees who respond with their code."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from services.core.auth import requires, vouched
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.events import NewEvent

from . import repo, rounds
from .uow import PREFIX, now, reading, vocabulary, writing
from .domain import (
    CONSENT_TEXT, RESPONDENTS, check_round_for, code_hash, invitation_payload, invitation_plan,
    member_event, new_code, normalise_code, respondent_row, reveal_events, row_json,
)
from .errors import AlreadyDoneError, LotteryInvalidError, LotteryNotFoundError, PhaseError
from .schemas import (
    LotteryInvitationRequestSchema, LotteryInvitationsCreatedSchema, LotteryInvitationsSchema,
    LotteryMemberAddedSchema, LotteryRespondentSchema,
)

blp = Blueprint("lottery_invitations", __name__, url_prefix=PREFIX,
                description="The invitation draw and the invitees' registration as respondents")


def _responded(conn, sid: str) -> int:
    return repo.pool_head(conn, sid, RESPONDENTS)[0]


@blp.route("/invitations")
class Invitations(MethodView):
    @blp.response(200, LotteryInvitationsSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """The invitees (pseudonyms, in draw order) and the draw's parameters (public)."""
        with reading(summit_id) as (conn, sid):
            draw = repo.invitation_draw(conn, sid)
            if draw is None:
                raise LotteryNotFoundError(f"summit {sid} has no invitation draw yet")
            draw["responded"] = _responded(conn, sid)
        return draw

    @requires("organiser")
    @blp.arguments(LotteryInvitationRequestSchema)
    @blp.response(201, LotteryInvitationsCreatedSchema, headers={"Cache-Control": {
        "description": "no-store: the answer holds the one-time codes", "schema": {"type": "string"}}})
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body, summit_id):
        """Draw the invitees with a finalised invitation round (organiser; once per summit), with
        the `n` and `stratify_by` the round declared when it was opened: the request may leave
        them out, and if it names others the draw is refused (409, nothing logged). Before
        the draw the log gets the reveals re-deriving it needs (`lottery.register.revealed`: the
        stratum feature of every row, the household of every row the draw reached). The answer holds each invitee's one-time code for the letters: shown only here, never logged,
        kept only hashed."""
        with writing(summit_id) as (tx, sid):
            if repo.invitation_draw(tx.conn, sid) is not None:
                raise AlreadyDoneError(f"summit {sid} already has its invitation draw")
            reg = repo.register(tx.conn, sid)
            if reg is None:
                raise PhaseError("import the register before drawing invitations")
            rnd = repo.load_round(tx.conn, sid, str(body["round_id"]))
            if rnd is None:
                raise LotteryNotFoundError(f"no round {body['round_id']} in summit {sid}")
            at = now()
            designated = rounds.designated(repo.load_rounds(tx.conn, sid), "invitation", reg["committed_seq"], at)
            seed = check_round_for(rnd, "invitation", "register", reg["committed_seq"], designated)
            n, stratify_by = rounds.declared_draw(rnd, body.get("n"), body.get("stratify_by", rounds.OMITTED))
            draw_id, rows = str(uuid.uuid4()), repo.register_rows(tx.conn, sid)
            plan = None if reg["contract"] == 1 else invitation_plan(seed, rows, n, stratify_by, reg["features"])
            payload = invitation_payload(draw_id, rnd, seed, reg["register_id"], rows, n, stratify_by,
                                         reg["features"], invitees=None if plan is None else plan.invitees)
            reveals = [] if plan is None else reveal_events(sid, reg["register_id"], draw_id, plan, rows,
                                                            repo.register_salts(tx.conn, sid))
            *_, recorded = tx.append(sid, [*reveals, NewEvent("lottery.invitations.drawn", payload,
                                                              f"summit:{sid}/invitations", 1)])
            codes = [(p, new_code()) for p in payload["invitees"]]
            repo.save_invitation_draw(tx.conn, sid, recorded,
                                      [(code_hash(sid, normalise_code(c)), p) for p, c in codes])
            draw = repo.invitation_draw(tx.conn, sid)
        draw.update(responded=0, codes=[{"pseudonym": p, "code": c} for p, c in codes])
        return draw, 201, {"Cache-Control": "no-store"}


@blp.route("/respondents")
class Respondents(MethodView):
    @vouched
    @blp.arguments(LotteryRespondentSchema)
    @blp.response(201, LotteryMemberAddedSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body, summit_id):
        """An invitee registers as respondent with the code from their letter (public: the code
        is the credential, usable once) and joins the `respondents` pool. Only through the
        gateway (its vouch), so its rate limit and idempotency apply."""
        if body["consent"] is not True:
            raise LotteryInvalidError("taking part needs consent to: " + CONSENT_TEXT,
                                      errors={"consent": ["must be true"]})
        code = normalise_code(body["code"])
        if code is None:
            raise LotteryInvalidError("an invitation code is 12 characters, e.g. 7K3M-Q9TX-2HCA",
                                      errors={"code": ["not an invitation code"]})
        with writing(summit_id) as (tx, sid):
            digest = code_hash(sid, code)
            owner = repo.code_owner(tx.conn, sid, digest)
            if owner is None:
                raise LotteryNotFoundError("no invitation with this code")
            pseudonym, used = owner
            if used:
                raise AlreadyDoneError("this invitation code has been used")
            if repo.load_panel(tx.conn, sid, RESPONDENTS) is not None:
                raise PhaseError("the panel has been drawn; registration is closed")
            invitee = repo.register_row(tx.conn, sid, pseudonym)
            if invitee is None:  # cannot happen: codes are made for register rows only
                raise LotteryNotFoundError("no invitation with this code")
            row = respondent_row(invitee, body["features"], vocabulary(tx.conn, sid))
            (recorded,) = tx.append(sid, [member_event(sid, RESPONDENTS, row)])
            repo.add_member(tx.conn, sid, RESPONDENTS, row, recorded.seq)
            repo.use_code(tx.conn, digest)
        return {"pool": RESPONDENTS, "member": row_json(row), "seq": recorded.seq}
