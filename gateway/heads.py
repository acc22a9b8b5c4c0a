"""`GET /v1/summits/{summit_id}/heads`: every producer's signed stream head, gathered.

Why (issue 10, M5 and Build 7): the log alone cannot show what never reached it.  Each service
signs, from its own database, the last seq it has recorded for a summit (services/core/heads.py;
encoding and signature in `g1000_proofs.heads`); this route asks every service for its head
directly, never through the broker, so a verifier can compare the log with what its producers
hold (`g1000-verify --complete`).  The gateway does not need to be trusted for it: each head is
signed with the key the log itself registers for its stream.  It only checks each head's shape
(a service that answers nonsense is listed as unavailable) and that the summit exists.
"""

from __future__ import annotations

import marshmallow as ma
import requests
from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from g1000_proofs.heads import HeadError, parse_head
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema

heads = Blueprint("heads", __name__, url_prefix="/v1/summits/<uuid:summit_id>",
                  description="Completeness: the producers' signed stream heads")

TIMEOUT_SECONDS = 3.0


class StreamHeadSchema(ma.Schema):
    v = ma.fields.Integer(required=True, metadata={"description": "1"})
    summit_id = ma.fields.UUID(required=True)
    stream = ma.fields.String(required=True)
    last_seq = ma.fields.Integer(required=True, metadata={
        "description": "the last seq the producer has recorded for the summit (0: none yet)"})
    time = ma.fields.String(required=True, metadata={"description": "when it was signed, RFC 3339 UTC ms"})
    key_id = ma.fields.String(required=True, metadata={"description": "hex SHA-256 of the stream's key"})
    sig = ma.fields.String(required=True, metadata={
        "description": 'base64 Ed25519 over "g1000-stream-head/v1\\n" + JCS(head without sig)'})


class HeadsSchema(ma.Schema):
    summit_id = ma.fields.UUID(required=True)
    heads = ma.fields.List(ma.fields.Nested(StreamHeadSchema), required=True)
    unavailable = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "services whose head could not be read now (a verifier counts them as missing)"})


def gather_heads(session: requests.Session, upstreams: dict[str, str], summit_id: str,
                 timeout: float = TIMEOUT_SECONDS) -> tuple[list[dict], list[str]]:
    """Each service's heads for the summit, and the services that gave none (in name order)."""
    found, unavailable = [], []
    for name, url in sorted(upstreams.items()):
        try:
            response = session.get(f"{url}/stream-heads/{summit_id}", timeout=timeout)
            items = response.json()["heads"] if response.status_code == 200 else None
            parsed = [parse_head(item).as_dict() for item in items] if isinstance(items, list) else None
        except (requests.RequestException, ValueError, KeyError, TypeError, HeadError):
            parsed = None
        if not parsed:
            unavailable.append(name)
        else:
            found += parsed
    return sorted(found, key=lambda h: h["stream"]), unavailable


@heads.route("/heads")
class SummitHeads(MethodView):
    @heads.response(200, HeadsSchema)
    @heads.alt_response(404, schema=ProblemSchema)
    @heads.alt_response(503, schema=ProblemSchema)
    def get(self, summit_id):
        """Every producer's signed head for the summit, read from each service directly."""
        summit = str(summit_id)
        if current_app.extensions["g1000_summits"].tenant(summit) is None:
            abort(404, message=f"no summit {summit}")
        session, upstreams = current_app.extensions["g1000_heads_upstreams"]
        found, unavailable = gather_heads(session, upstreams, summit)
        return {"summit_id": summit, "heads": found, "unavailable": unavailable}


def reported_backlog(answer: requests.Response) -> dict | None:
    """The `outbox` member a service's `/readyz` reports (ready or not), None if it has none."""
    try:
        outbox = answer.json().get("outbox")
    except (ValueError, AttributeError):
        return None
    if not isinstance(outbox, dict):
        return None
    unpublished, oldest = outbox.get("unpublished"), outbox.get("oldest_seconds")
    if type(unpublished) is not int or not isinstance(oldest, (int, float)) or isinstance(oldest, bool):
        return None
    return {"unpublished": unpublished, "oldest_seconds": oldest}
