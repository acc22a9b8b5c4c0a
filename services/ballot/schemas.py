"""The ballot API's request and response bodies (marshmallow; docs/ballot.md, the API)."""

from __future__ import annotations

import re

from g1000_proofs.texts import LANGUAGES
from marshmallow import RAISE, Schema, fields, validate

from services.core.fields import Text

_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_OPTION_ID = re.compile(r"^[a-z0-9_-]{1,40}\Z")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}\Z")
_PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _hex64(**kwargs):
    return fields.String(validate=validate.Regexp(_HEX64), **kwargs)


def _base64(high: int, **kwargs):
    return fields.String(validate=[validate.Length(4, high), validate.Regexp(_BASE64)], **kwargs)


class BallotTextIn(_Strict):
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    text = Text(required=True, validate=validate.Length(1, 2000))


class BallotOptionIn(_Strict):
    option_id = fields.String(required=True, validate=validate.Regexp(_OPTION_ID))
    texts = fields.List(fields.Nested(BallotTextIn), required=True, validate=validate.Length(1, len(LANGUAGES)))


class BallotSealingIn(_Strict):
    public_key = _hex64(required=True, metadata={"description": "X25519 public key, 64 hex digits"})
    k = fields.Integer(required=True, strict=True, validate=validate.Range(1, 255))
    n = fields.Integer(required=True, strict=True, validate=validate.Range(1, 255))
    share_hashes = fields.List(_hex64(), required=True, validate=validate.Length(1, 255))


class BallotCreateSchema(_Strict):
    title = fields.List(fields.Nested(BallotTextIn), required=True, validate=validate.Length(1, len(LANGUAGES)))
    method = fields.Dict(required=True, metadata={"description": 'e.g. {"kind": "approval", "min": 1, "max": 3}'})
    options = fields.List(fields.Nested(BallotOptionIn), required=True, validate=validate.Length(2, 100))
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)
    sealing = fields.Nested(BallotSealingIn, required=True)


class BallotSchema(Schema):
    ballot_id = fields.String(required=True)
    summit_id = fields.String(required=True)
    state = fields.String(required=True)
    title = fields.List(fields.Dict(), required=True)
    method = fields.Dict(required=True)
    options = fields.List(fields.Dict(), required=True)
    opens_at = fields.String(required=True)
    closes_at = fields.String(required=True)
    sealing = fields.Dict(required=True)
    roll = fields.Dict(allow_none=True)
    credential_key = fields.String(allow_none=True)
    issued = fields.Integer()
    cast = fields.Integer(allow_none=True, metadata={"description": "only once the ballot is closed"})
    closed_at = fields.String(allow_none=True)
    early = fields.Boolean(allow_none=True)
    private_key = fields.String(allow_none=True)
    counted = fields.Integer(allow_none=True)
    result = fields.Dict(allow_none=True)


class BallotListSchema(Schema):
    ballots = fields.List(fields.Nested(BallotSchema), required=True)


class BallotCredentialRequestSchema(_Strict):
    blinded_msg = _base64(1400, required=True, metadata={"description": "RFC 9474 blinded message, base64"})


class BallotCredentialSchema(Schema):
    blind_sig = fields.String(required=True)


class BallotCredentialIn(_Strict):
    token = _hex64(required=True)
    prefix = _hex64(required=True)
    signature = _base64(1400, required=True)


class BallotVoteRequestSchema(_Strict):
    credential = fields.Nested(BallotCredentialIn, required=True)
    sealed = _base64(6000, required=True)


class BallotVoteAcceptedSchema(Schema):
    nullifier = fields.String(required=True)
    sealed_sha256 = fields.String(required=True)
    status = fields.String(required=True)


class BallotReceiptSchema(Schema):
    nullifier = fields.String(required=True)
    sealed_sha256 = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending or appended"})
    index = fields.Integer(allow_none=True, metadata={"description": "the event's seq in the ballot stream"})
    event_id = fields.String(allow_none=True)
    event = fields.Dict(allow_none=True)


class BallotShareRequestSchema(_Strict):
    share = Text(required=True, single_line=True, validate=validate.Length(1, 400),
                 metadata={"description": "g1000-share-v1:k:x:hex"})


class BallotShareAcceptedSchema(Schema):
    received = fields.Integer(required=True)
    k = fields.Integer(required=True)
    state = fields.String(required=True)


class BallotArrivalRequestSchema(_Strict):
    pseudonym = fields.String(required=True, validate=validate.Regexp(_PSEUDONYM))
