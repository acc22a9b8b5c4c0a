"""The catalogue of event types: one marshmallow schema per (type, payload version).

This is a published contract: the ledger validates every payload against it before appending, and
integrators and auditors read it to understand the log. Every payload carries its own schema
version as member `v` (the envelope's `v` versions the envelope). A new payload version is added
beside the old one, never instead of it, so old entries in the log stay valid forever.

Payloads never hold personal data: no names, addresses or birth dates. Participants appear only as
per-summit pseudonyms; free text is the participants' own contribution to the day.
"""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from .errors import SchemaError

# \Z, not $: `$` also matches before a trailing newline, which would let "agenda\n" through.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


class CanonicalUUID(fields.UUID):
    """A UUID written exactly as the envelope writes them: lowercase, hyphenated, nothing else."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if value != str(parsed):
            raise ValidationError("must be a lowercase hyphenated UUID")
        return parsed


class IsoDate(fields.Date):
    """A calendar date written YYYY-MM-DD only (no week dates, no compact form)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValidationError("must be a date written YYYY-MM-DD")
        return super()._deserialize(value, attr, data, **kwargs)


class Payload(Schema):
    """Base of every payload schema: unknown members are an error, `v` is required."""

    class Meta:
        unknown = RAISE

    v = fields.Integer(required=True, strict=True)


class SummitCreatedV1(Payload):
    """A summit's charter: the genesis of its log. Only the theme is fixed in advance."""

    theme = fields.String(required=True, validate=validate.Length(1, 500))
    municipality = fields.String(required=True, validate=validate.Length(1, 200))
    date = IsoDate(required=True)
    seats = fields.Dict(
        keys=fields.String(validate=validate.Regexp(_NAME)),
        values=fields.Integer(strict=True, validate=validate.Range(0, 10_000)),
        required=True,
        validate=validate.Length(1, 20),
    )


class KeyRegisteredV1(Payload):
    """A service public key that may sign events of one stream for this summit."""

    stream = fields.String(required=True, validate=validate.Regexp(_NAME))
    public_key = fields.String(required=True, validate=validate.Regexp(_HEX64))
    key_id = fields.String(required=True, validate=validate.Regexp(_HEX64))
    valid_from = fields.String(required=True)


class TopicNominatedV1(Payload):
    """A participant puts a topic on the day's own agenda."""

    topic_id = CanonicalUUID(required=True)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(load_default="", validate=validate.Length(0, 2000))


class PayloadCatalog:
    """Maps (event type, payload version) to the schema that validates it."""

    def __init__(self) -> None:
        self._schemas: dict[tuple[str, int], Schema] = {}

    def register(self, event_type: str, version: int, schema: type[Schema]) -> None:
        self._schemas[(event_type, version)] = schema()

    def types(self) -> list[tuple[str, int]]:
        return sorted(self._schemas)

    def validate(self, event_type: str, payload: dict) -> None:
        version = payload.get("v")
        if not isinstance(version, int) or isinstance(version, bool):
            raise SchemaError(f"payload of {event_type} has no integer schema version 'v'")
        schema = self._schemas.get((event_type, version))
        if schema is None:
            raise SchemaError(f"unknown event type {event_type!r} version {version}")
        try:
            schema.load(payload)
        except ValidationError as e:
            raise SchemaError(
                f"payload of {event_type} v{version} is invalid: {e.messages}", fields=e.messages
            ) from None


CATALOG = PayloadCatalog()
CATALOG.register("ledger.summit.created", 1, SummitCreatedV1)
CATALOG.register("ledger.key.registered", 1, KeyRegisteredV1)
CATALOG.register("agenda.topic.nominated", 1, TopicNominatedV1)
