"""Wire schemas of the ledger's REST API."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.core.fields import Text


class SummitCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    theme = Text(required=True, validate=validate.Length(1, 500))
    municipality = Text(required=True, single_line=True, validate=validate.Length(1, 200))
    date = fields.Date(required=True)
    seats = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$")),
        values=fields.Integer(strict=True, validate=validate.Range(0, 10_000)),
        required=True, validate=validate.Length(1, 20),
        metadata={"description": "seats per stakeholder group, e.g. citizens, employers, government, free_thinkers"},
    )


class SummitSchema(Schema):
    summit_id = fields.UUID()
    theme = fields.String()
    municipality = fields.String()
    date = fields.Date()
    seats = fields.Dict(keys=fields.String(), values=fields.Integer())
    created_at = fields.String()


class SummitListSchema(Schema):
    summits = fields.List(fields.Nested(SummitSchema))


class StreamProgressSchema(Schema):
    stream = fields.String()
    received = fields.Integer(metadata={"description": "entries of this stream in the summit's log"})
    last_seq = fields.Integer()
    held = fields.Integer(metadata={"description": "events waiting behind a gap"})


class StreamsSchema(Schema):
    summit_id = fields.UUID()
    streams = fields.List(fields.Nested(StreamProgressSchema))
