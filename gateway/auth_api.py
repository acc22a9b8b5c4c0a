"""The gateway's own `/v1` endpoints: tokens and check-in codes (flask-smorest, marshmallow).

These run in the gateway because it holds the token-signing key and the record of issued
tokens (gateway/credentials.py). By the time a view runs, the gateway's `before_request` has
authenticated the caller and applied the access matrix (gateway/access.py); the views only do
what is specific to them (who may revoke which token, which roles an organiser may issue).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

import marshmallow as ma
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import abort

from services.core.fields import Text
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema

from .credentials import (DEFAULT_CODE_TTL_SECONDS, ChainEndedError, Credentials, CredentialError,
                          LiveCodeError, NotSeatedError, UnknownCodeError, UnknownTokenError, UsedCodeError)

auth = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Tokens: check-in, refresh, revocation")
summit_credentials = Blueprint("credentials", __name__, url_prefix="/v1/summits/<uuid:summit_id>",
                               description="Credentials for one summit: staff tokens and check-in codes")

_SUBJECT = re.compile(r"^[A-Za-z0-9._:@-]{1,128}\Z")
MAX_CODES_PER_REQUEST = 2_000


def credentials() -> Credentials:
    return current_app.extensions["g1000_credentials"]


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True, metadata={"description": "Send as `Authorization: Bearer <token>`"})
    token_id = ma.fields.UUID(required=True)
    role = ma.fields.String(required=True)
    tenant = ma.fields.String(required=True)
    summit_id = ma.fields.UUID(allow_none=True, required=True)
    subject = ma.fields.String(required=True)
    expires_at = ma.fields.String(required=True, metadata={"description": "RFC 3339 UTC"})


class CheckInSchema(ma.Schema):
    code = Text(required=True, single_line=True, validate=ma.validate.Length(1, 64),
                            metadata={"description": "The code printed on the invitation, e.g. 7K2M-Q9XD-4HTV-C1RB"})


class WhoAmISchema(ma.Schema):
    token_id = ma.fields.UUID(required=True)
    role = ma.fields.String(required=True)
    tenant = ma.fields.String(required=True)
    summit_id = ma.fields.UUID(allow_none=True, required=True)
    subject = ma.fields.String(required=True)
    issued_at = ma.fields.String(required=True)
    expires_at = ma.fields.String(required=True)


class TokenRecordSchema(ma.Schema):
    token_id = ma.fields.UUID(required=True)
    role = ma.fields.String(required=True)
    tenant = ma.fields.String(required=True)
    summit_id = ma.fields.UUID(allow_none=True, required=True)
    subject = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    issued_by = ma.fields.String(required=True)
    issued_at = ma.fields.String(required=True)
    expires_at = ma.fields.String(required=True)
    revoked_at = ma.fields.String(allow_none=True, required=True)


class TokenRecordListSchema(ma.Schema):
    tokens = ma.fields.List(ma.fields.Nested(TokenRecordSchema), required=True)


class StaffTokenCreateSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(["facilitator", "auditor"]))
    subject = ma.fields.String(validate=ma.validate.Regexp(_SUBJECT),
                               metadata={"description": "pseudonymous id of the holder (default: generated)"})
    label = Text(load_default="", single_line=True, validate=ma.validate.Length(0, 200),
                             metadata={"description": "what the organiser calls this token, e.g. 'table 12'"})
    ttl_seconds = ma.fields.Integer(strict=True, validate=ma.validate.Range(60, 7 * 86_400),
                                    metadata={"description": "lifetime (default: the role's)"})


class RevokeQuerySchema(ma.Schema):
    cascade = ma.fields.Boolean(load_default=False, truthy={"true"}, falsy={"false"},
                                metadata={"description": "also revoke every token issued by this token's refresh"
                                                         " chain, transitively (`true` or `false`)"})


class CodesCreateSchema(ma.Schema):
    participants = ma.fields.List(ma.fields.String(validate=ma.validate.Regexp(_SUBJECT)), required=True,
                                  validate=ma.validate.Length(1, MAX_CODES_PER_REQUEST),
                                  metadata={"description": "one code for each of these pseudonyms; each must be"
                                                           " seated (on a drawn panel of the summit, after"
                                                           " replacements) and have no live code yet"})

    @ma.validates_schema
    def _distinct(self, data, **kwargs):
        if "participants" in data and len(set(data["participants"])) != len(data["participants"]):
            raise ma.ValidationError("participant ids must be distinct", "participants")


class CodeSchema(ma.Schema):
    code = ma.fields.String(required=True)
    participant = ma.fields.String(required=True)


class CodesSchema(ma.Schema):
    summit_id = ma.fields.UUID(required=True)
    expires_at = ma.fields.String(required=True)
    codes = ma.fields.List(ma.fields.Nested(CodeSchema), required=True)


def _token_body(issued) -> dict:
    c = issued.claims
    return {"token": issued.token, "token_id": c.token_id, "role": c.role, "tenant": c.tenant,
            "summit_id": c.summit_id, "subject": c.subject, "expires_at": _iso(c.expires_at)}


@auth.route("/check-in")
class CheckIn(MethodView):
    @auth.arguments(CheckInSchema)
    @auth.response(201, TokenSchema)
    @auth.alt_response(404, schema=ProblemSchema)
    @auth.alt_response(409, schema=ProblemSchema)
    @auth.alt_response(503, schema=ProblemSchema)
    def post(self, body):
        """Exchange the one-time check-in code of an invitation for a participant token (public).

        409 when the code is used, or when its participant is no longer seated (dropped out
        after the code was made: the code stays unused). The participant's arrival is recorded at
        the ballot first (they are on the roll of ballots opened later); 503 when the ballot cannot
        record it, and the code stays unused."""
        try:
            return _token_body(credentials().redeem(body["code"],
                                                    seated=current_app.extensions["g1000_seats"].seated,
                                                    arrive=current_app.extensions["g1000_arrivals"].record))
        except (UsedCodeError, NotSeatedError) as e:
            abort(409, message=str(e))
        except UnknownCodeError as e:
            abort(404, message=str(e))


@auth.route("/refresh")
class Refresh(MethodView):
    @auth.response(201, TokenSchema)
    @auth.alt_response(401, schema=ProblemSchema)
    def post(self):
        """A fresh token with the same rights; the presented one is revoked.

        A refresh chain ends at an absolute lifetime from its first token (organiser 7 days by
        default): the fresh token expires no later, and afterwards refresh is 401. The fresh
        token shares the old one's rate-limit budget."""
        try:
            return _token_body(credentials().refresh(g.claims))
        except (UnknownTokenError, ChainEndedError) as e:
            abort(401, message=str(e))


@auth.route("/whoami")
class WhoAmI(MethodView):
    @auth.response(200, WhoAmISchema)
    @auth.alt_response(401, schema=ProblemSchema)
    def get(self):
        """What the presented token is: role, tenant, summit, subject, validity."""
        c = g.claims
        return {"token_id": c.token_id, "role": c.role, "tenant": c.tenant, "summit_id": c.summit_id,
                "subject": c.subject, "issued_at": _iso(c.issued_at), "expires_at": _iso(c.expires_at)}


@auth.route("/tokens/<uuid:token_id>")
class Token(MethodView):
    @auth.arguments(RevokeQuerySchema, location="query")
    @auth.response(200, TokenRecordSchema)
    @auth.alt_response(401, schema=ProblemSchema)
    @auth.alt_response(403, schema=ProblemSchema)
    @auth.alt_response(404, schema=ProblemSchema)
    def delete(self, query, token_id):
        """Revoke a token.

        Your own (log out); an organiser any token of its municipality; a facilitator the
        participant tokens of its summit. With `?cascade=true` also the tokens it issued (and
        its refresh chain's predecessors issued), transitively: revoking an organiser this way
        ends its facilitators and auditors too.
        """
        c = g.claims
        target = credentials().record(str(token_id))
        if target is None or (target.tenant != c.tenant and target.token_id != c.token_id):
            abort(404, message=f"no token {token_id}")
        own = target.token_id == c.token_id
        organiser = c.role == "organiser" and target.tenant == c.tenant
        facilitator = (c.role == "facilitator" and target.role == "participant"
                       and target.summit_id == c.summit_id)
        if not (own or organiser or facilitator):
            abort(403, message="you may revoke your own token; organisers those of their municipality;"
                               " facilitators the participant tokens of their summit")
        try:
            return credentials().revoke(target.token_id, c.token_id, cascade=query["cascade"]).as_json()
        except CredentialError as e:
            abort(404, message=str(e))


@summit_credentials.route("/tokens")
class SummitTokens(MethodView):
    @summit_credentials.response(200, TokenRecordListSchema)
    @summit_credentials.alt_response(401, schema=ProblemSchema)
    @summit_credentials.alt_response(403, schema=ProblemSchema)
    def get(self, summit_id):
        """The tokens issued for this summit (records only, never the tokens themselves)."""
        return {"tokens": [r.as_json() for r in credentials().for_summit(str(summit_id))]}

    @summit_credentials.arguments(StaffTokenCreateSchema)
    @summit_credentials.response(201, TokenSchema)
    @summit_credentials.alt_response(401, schema=ProblemSchema)
    @summit_credentials.alt_response(403, schema=ProblemSchema)
    def post(self, body, summit_id):
        """Issue a facilitator or auditor token for this summit (organiser of its municipality)."""
        c = g.claims
        try:
            issued = credentials().issue(
                role=body["role"], tenant=c.tenant, summit_id=str(summit_id),
                subject=body.get("subject") or f"{body['role'][:4]}-{uuid.uuid4().hex[:12]}",
                issued_by=c.token_id, label=body["label"], ttl_seconds=body.get("ttl_seconds"))
        except UnknownTokenError as e:  # revoked since the gateway checked it
            abort(401, message=str(e))
        return _token_body(issued)


@summit_credentials.route("/check-in-codes")
class CheckInCodes(MethodView):
    @summit_credentials.arguments(CodesCreateSchema)
    @summit_credentials.response(201, CodesSchema)
    @summit_credentials.alt_response(401, schema=ProblemSchema)
    @summit_credentials.alt_response(403, schema=ProblemSchema)
    @summit_credentials.alt_response(409, schema=ProblemSchema)
    @summit_credentials.alt_response(422, schema=ProblemSchema)
    def post(self, body, summit_id):
        """Make one-time check-in codes for seated participants (shown once; only their hashes
        are kept).

        Only for pseudonyms the log shows seated (on a drawn panel, after replacements; 422
        names the others), and one live code per participant (409 while one is unused)."""
        c = g.claims
        participants = body["participants"]
        seated = current_app.extensions["g1000_seats"].seated(str(summit_id))
        unseated = [p for p in participants if p not in seated]
        if unseated:
            abort(422, message=f"{len(unseated)} of these pseudonyms are not seated at this summit",
                  errors={"json": {"participants": [f"not seated: {p}" for p in unseated[:100]]}})
        try:
            made = credentials().create_codes(summit_id=str(summit_id), tenant=g.summit_tenant,
                                              created_by=c.token_id, participants=participants)
        except LiveCodeError as e:
            abort(409, message=str(e))
        expires = credentials().clock() + DEFAULT_CODE_TTL_SECONDS
        return {"summit_id": summit_id, "expires_at": _iso(int(expires)),
                "codes": [{"code": code, "participant": p} for code, p in made]}
