"""Wire schemas of the ledger's REST API."""

from __future__ import annotations

from datetime import date

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from g1000_proofs.vocabulary import check_vocabulary

from services.core.fields import Text


EARLIEST_DATE = date(2020, 1, 1)
LATEST_YEARS_AHEAD = 5


def date_window(today: date) -> tuple[date, date]:
    """The dates a new summit may have (issue 10 L8): not before 2020-01-01 (no G1000 summit
    this software serves is older; 0001-01-01 is a typing error) and at most five years after
    today (a charter is written for a planned summit, not for a far-off placeholder)."""
    try:
        latest = today.replace(year=today.year + LATEST_YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + LATEST_YEARS_AHEAD, day=28)
    return EARLIEST_DATE, latest


class VocabularyField(fields.Field):
    """The register vocabulary `{"features": {name: [value, ...]}}` (g1000_proofs.vocabulary)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict) or set(value) != {"features"}:
            raise ValidationError('exactly {"features": {name: [value, ...]}}')
        problems = check_vocabulary(value["features"])
        if problems:
            raise ValidationError(problems)
        return value


_VOCABULARY_DOC = {
    "type": "object", "required": ["features"], "additionalProperties": False,
    "properties": {"features": {
        "type": "object", "minProperties": 1, "maxProperties": 16,
        "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,39}$"},
        "additionalProperties": {"type": "array", "minItems": 1, "maxItems": 100, "uniqueItems": True,
                                 "items": {"type": "string", "minLength": 1, "maxLength": 64}}}},
    "description": "the register's allow-list (issue 10 H1/H2): the only feature names a register row "
                   "or pool member may carry, each with its only allowed values (coarse bands, e.g. "
                   "age_band: [16-29, 30-59, 60+]). These names and values are published.",
    "example": {"features": {"age_band": ["16-29", "30-59", "60+"], "neighbourhood": ["centrum", "noord"]}},
}


class SummitCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    theme = Text(required=True, validate=validate.Length(1, 500))
    municipality = Text(required=True, single_line=True, validate=validate.Length(1, 200))
    date = fields.Date(required=True, metadata={
        "description": "YYYY-MM-DD, from 2020-01-01 to five years after today"})
    seats = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$")),
        values=fields.Integer(strict=True, validate=validate.Range(0, 10_000)),
        required=True, validate=validate.Length(1, 20),
        metadata={"description": "seats per stakeholder group, e.g. citizens, employers, government, free_thinkers"},
    )
    register = VocabularyField(required=True, metadata=_VOCABULARY_DOC)

    @validates("date")
    def _sane_date(self, value, **kwargs):
        earliest, latest = date_window(date.today())
        if not earliest <= value <= latest:
            raise ValidationError(f"a summit's date lies from {earliest.isoformat()} to {latest.isoformat()}")


class SummitSchema(Schema):
    summit_id = fields.UUID()
    theme = fields.String()
    municipality = fields.String()
    date = fields.Date()
    seats = fields.Dict(keys=fields.String(), values=fields.Integer())
    register = fields.Raw(allow_none=True, metadata={
        "description": "the charter's register vocabulary; null for summits chartered before it existed"})
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
