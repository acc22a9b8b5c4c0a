"""The arrival of a participant: the gateway calls this when it redeems a check-in code.

`POST /internal/summits/{summit_id}/arrivals {"pseudonym": ...}` appends
`ballot.participant.arrived` once per pseudonym and summit and answers 201 the first time, 200
(same body) after that, so the gateway can retry freely. Not routed by the gateway's `/v1`
forwarding: only the gateway's own vouch for exactly this path reaches it (services/core/auth.py
`vouched`), so no client can add itself to a roll.
"""

from __future__ import annotations

from flask import Blueprint, request
from marshmallow import ValidationError

from services.core.auth import vouched
from services.core.problem import problem

from . import repo
from .domain import arrival_event
from .schemas import BallotArrivalRequestSchema
from .uow import now, writing

blp = Blueprint("ballot_arrivals", __name__, url_prefix="/internal/summits/<uuid:summit_id>")


@blp.post("/arrivals")
@vouched
def arrive(summit_id):
    body = request.get_json(silent=True)
    try:
        pseudonym = BallotArrivalRequestSchema().load(body if isinstance(body, dict) else {})["pseudonym"]
    except ValidationError as e:
        return problem(422, "Unprocessable Entity", "some fields are invalid; `errors` names each one",
                       errors={"json": e.messages})
    with writing(summit_id) as (tx, sid):
        seq = repo.has_arrived(tx.conn, sid, pseudonym)
        status = 200
        if seq is None:
            (recorded,) = tx.append(sid, [arrival_event(sid, pseudonym)], occurred_at=now())
            repo.add_arrival(tx.conn, sid, pseudonym, recorded.seq)
            seq, status = recorded.seq, 201
    return {"summit_id": sid, "pseudonym": pseudonym, "seq": seq}, status
