"""Wire schemas of the agenda's REST API (docs/agenda.md)."""

from __future__ import annotations

from g1000_proofs.agenda import FIELDS, WITHHOLDING_REASONS
from g1000_proofs.texts import LANGUAGES
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from services.core.fields import Text

from .domain import DEFAULT_LANGUAGE


class TopicCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    title = Text(required=True, single_line=True, validate=validate.Length(1, 200),
                 metadata={"example": "Veilig fietsen naar school"})
    description = Text(load_default="", validate=validate.Length(0, 2000),
                       metadata={"example": "Meer vrijliggende fietspaden rond de scholen."})
    language = fields.String(load_default=DEFAULT_LANGUAGE, validate=validate.OneOf(LANGUAGES),
                             metadata={"description": "the language the participant writes in (default nl)",
                                       "example": "nl"})

    @validates("title")
    def _not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("the title must not be blank")


class WithheldSchema(Schema):
    reason = fields.String(metadata={"description": f"one of {', '.join(WITHHOLDING_REASONS)}"})
    seq = fields.Integer(metadata={"description": "position of the agenda.text.withheld event"})


class TopicTextSchema(Schema):
    field = fields.String(metadata={"description": f"one of {', '.join(FIELDS)}"})
    language = fields.String()
    sha256 = fields.String(metadata={"description": "as in the nomination event (NFC, UTF-8)"})
    length = fields.Integer(metadata={"description": "UTF-8 bytes of the NFC text"})
    text = fields.String(allow_none=True, metadata={"description": "null once withheld"})
    withheld = fields.Nested(WithheldSchema, allow_none=True)


class TopicSchema(Schema):
    topic_id = fields.UUID()
    summit_id = fields.UUID()
    payload_v = fields.Integer(metadata={"description": "version of the nomination's payload: 2 keeps the "
                                                        "words out of the log, 1 (older topics) holds them"})
    language = fields.String(allow_none=True, metadata={"description": "null for v1 topics"})
    title = fields.String(allow_none=True, metadata={"description": "null once withheld"})
    description = fields.String(allow_none=True, metadata={"description": "null once withheld"})
    texts = fields.List(fields.Nested(TopicTextSchema),
                        metadata={"description": "v2: each text with its description in the log"})
    seq = fields.Integer(metadata={"description": "position of the nomination (or split) event in the agenda stream"})
    nominated_at = fields.String()
    state = fields.String(metadata={"description": "open, merged (into merged_into) or split (into split_into)"})
    merged_into = fields.UUID(allow_none=True)
    merged_from = fields.List(fields.UUID(), metadata={"description": "the duplicates merged into this topic"})
    split_from = fields.UUID(allow_none=True, metadata={"description": "the topic a split made this one of"})
    split_into = fields.List(fields.UUID())


class TopicListSchema(Schema):
    topics = fields.List(fields.Nested(TopicSchema))


class NominationsSchema(Schema):
    class Meta:
        unknown = RAISE

    open = fields.Boolean(required=True, truthy={True}, falsy={False}, metadata={"example": False})


class NominationsStateSchema(Schema):
    open = fields.Boolean()
    seq = fields.Integer(allow_none=True, metadata={"description": "the last opened/closed event (null: "
                                                                   "never closed, open since the charter)"})


class WithholdingCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    field = fields.String(required=True, validate=validate.OneOf(FIELDS), metadata={"example": "description"})
    reason = fields.String(required=True, validate=validate.OneOf(WITHHOLDING_REASONS),
                           metadata={"example": "personal-data"})


class ServedTextSchema(Schema):
    topic_id = fields.UUID()
    field = fields.String()
    language = fields.String()
    sha256 = fields.String()
    length = fields.Integer()
    text = fields.String(allow_none=True)
    withheld = fields.String(allow_none=True, metadata={"description": "the reason, when withheld"})


class TextsExportSchema(Schema):
    format = fields.String(metadata={"example": "g1000-agenda-texts"})
    version = fields.Integer(metadata={"example": 1})
    summit_id = fields.UUID()
    texts = fields.List(fields.Nested(ServedTextSchema))


class MergeCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    into = fields.UUID(required=True, metadata={"example": "6c5b4a3f-2e1d-4c0b-9a8f-7e6d5c4b3a2f"})
    from_ = fields.List(fields.UUID(), required=True, data_key="from", validate=validate.Length(1, 50),
                        metadata={"description": "the duplicates, merged into `into`"})


class SplitCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    into = fields.List(fields.Nested(TopicCreateSchema), required=True, validate=validate.Length(2, 10),
                       metadata={"description": "the new topics, each with its own words and language"})


class SplitResultSchema(Schema):
    from_ = fields.Nested(TopicSchema, data_key="from")
    into = fields.List(fields.Nested(TopicSchema))
