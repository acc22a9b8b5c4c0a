"""Wire schemas of the agenda's REST API."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.core.fields import Text


class TopicCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    title = Text(required=True, single_line=True, validate=validate.Length(1, 200))
    description = Text(load_default="", validate=validate.Length(0, 2000))


class TopicSchema(Schema):
    topic_id = fields.UUID()
    summit_id = fields.UUID()
    title = fields.String()
    description = fields.String()
    seq = fields.Integer(metadata={"description": "position of the nomination event in the agenda stream"})
    nominated_at = fields.String()


class TopicListSchema(Schema):
    topics = fields.List(fields.Nested(TopicSchema))
