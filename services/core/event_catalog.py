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

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from g1000_proofs.agenda import FIELDS as TEXT_FIELDS
from g1000_proofs.agenda import WITHHOLDING_REASONS
from g1000_proofs.ballot import credential_key
from g1000_proofs.ballot_count import spec_of
from g1000_proofs.draw_parameters import declaration_problem
from g1000_proofs.errors import BallotRuleError, TallyError
from g1000_proofs.sealing import MAX_SEALED
from g1000_proofs.texts import LANGUAGES as TEXT_LANGUAGES
from g1000_proofs.vocabulary import check_vocabulary

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


class RegisterVocabulary(fields.Field):
    """`{"features": {name: [value, ...]}}`: the only feature names and values a register row or
    pool member of this summit may hold (g1000_proofs.vocabulary; issue 10 H1/H2)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict) or set(value) != {"features"}:
            raise ValidationError('the register vocabulary is exactly {"features": {name: [value, ...]}}')
        problems = check_vocabulary(value["features"])
        if problems:
            raise ValidationError(problems)
        return value


class SummitCreatedV2(SummitCreatedV1):
    """The charter, version 2: also declares the register's vocabulary, the allow-list of the
    features any register row or pool member may carry (docs/ledger.md). Written for every new
    summit; v1 charters (no vocabulary) stay valid in old logs, but their register is refused."""

    register = RegisterVocabulary(required=True)


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


# --- lottery (docs/lottery.md; docs/architecture.md §6) ---------------------------------------------------

_PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")   # pseudonyms and household ids
_PARTY = re.compile(r"^[a-z][a-z0-9_-]{0,39}\Z")
_STAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\Z")
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]+\Z")
_FEATURE_VALUE = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,64}\Z")
_MAX_INT = 2**53 - 1


def _count(low: int = 0, high: int = _MAX_INT, **kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(low, high), **kwargs)


def _pseudonym(**kwargs) -> fields.String:
    return fields.String(validate=validate.Regexp(_PSEUDONYM), **kwargs)


def _sorted_unique(items: list, what: str) -> None:
    if any(a >= b for a, b in zip(items, items[1:])):
        raise ValidationError(f"{what} must be sorted in code-point order without repeats")


class LotteryRow(fields.Field):
    """A register row or pool member: exactly `pseudonym`, `household` (ids of A-Z a-z 0-9 . _ : -)
    and `features` (at most 16 names of a-z 0-9 _ to values of 1-64 printable characters); no
    personal data. Checked in plain code, not a nested schema: a register holds up to 200,000."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict) or set(value) != {"pseudonym", "household", "features"}:
            raise ValidationError('a row has exactly "pseudonym", "household" and "features"')
        for key in ("pseudonym", "household"):
            if not isinstance(value[key], str) or not _PSEUDONYM.match(value[key]):
                raise ValidationError(f"{key} must be 1-64 characters of A-Z a-z 0-9 . _ : -")
        features = value["features"]
        if not isinstance(features, dict) or len(features) > 16:
            raise ValidationError("features must be an object of at most 16 members")
        for name, text in features.items():
            if not _NAME.match(name) or not isinstance(text, str) or not _FEATURE_VALUE.match(text):
                raise ValidationError(f"feature {name!r} must be a-z 0-9 _ with a value of 1-64 printable characters")
        return value


class RegisterChunkV1(Payload):
    """Up to 500 register rows (at most 256 KiB of canonical rows), sorted by pseudonym."""

    register_id = CanonicalUUID(required=True)
    chunk = _count(0, 10_000, required=True)
    rows = fields.List(LotteryRow(), required=True, validate=validate.Length(1, 500))

    @validates_schema
    def _ordered(self, data, **kwargs):
        _sorted_unique([r["pseudonym"] for r in data.get("rows", [])], "rows")


class RegisterCommittedV1(Payload):
    """The register's commitment: row count and Merkle root (g1000_proofs.draw.register_commitment)."""

    register_id = CanonicalUUID(required=True)
    count = _count(1, 200_000, required=True)
    root = fields.String(required=True, validate=validate.Regexp(_HEX64))
    chunks = _count(1, 10_000, required=True)
    features = fields.List(fields.String(validate=validate.Regexp(_NAME)), required=True,
                           validate=validate.Length(0, 16))

    @validates_schema
    def _ordered(self, data, **kwargs):
        _sorted_unique(data.get("features", []), "features")


_SALT = re.compile(r"^[0-9a-f]{32}\Z")


class CommittedRow(fields.Field):
    """A register row of contract 2 (g1000_proofs.register): exactly `pseudonym` and
    `commitments` = {`household`: hex, `features`: {name: hex}}; no clear value at all."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict) or set(value) != {"pseudonym", "commitments"}:
            raise ValidationError('a committed row has exactly "pseudonym" and "commitments"')
        if not isinstance(value["pseudonym"], str) or not _PSEUDONYM.match(value["pseudonym"]):
            raise ValidationError("pseudonym must be 1-64 characters of A-Z a-z 0-9 . _ : -")
        c = value["commitments"]
        if not isinstance(c, dict) or set(c) != {"household", "features"}:
            raise ValidationError('commitments has exactly "household" and "features"')
        features = c["features"]
        if not isinstance(features, dict) or len(features) > 16:
            raise ValidationError("features must be an object of at most 16 members")
        for name, digest in [("household", c["household"]), *features.items()]:
            if not _NAME.match(name) or not isinstance(digest, str) or not _HEX64.match(digest):
                raise ValidationError(f"the commitment of {name!r} must be 64 lowercase hex digits")
        return value


class RegisterChunkV2(RegisterChunkV1):
    """Up to 500 committed rows (contract 2), sorted by pseudonym: v1 with committed rows."""

    rows = fields.List(CommittedRow(), required=True, validate=validate.Length(1, 500))


class RegisterCommittedV2(RegisterCommittedV1):
    """Count and root of the committed rows (g1000_proofs.register.register_root), contract 2."""

    contract = fields.Integer(strict=True, required=True, validate=validate.Equal(2))


class Opening(Schema):
    pseudonym = _pseudonym(required=True)
    value = fields.String(required=True, validate=validate.Regexp(_FEATURE_VALUE))
    salt = fields.String(required=True, validate=validate.Regexp(_SALT))


class RegisterRevealedV1(Payload):
    """Openings (value and salt) of one field of up to 500 rows, for one invitation draw: the
    stratum feature of every row, or the household of every row the draw reached."""

    register_id = CanonicalUUID(required=True)
    draw_id = CanonicalUUID(required=True)
    chunk = _count(0, 10_000, required=True)
    field = fields.String(required=True, validate=validate.OneOf(["household", "feature"]))
    feature = fields.String(required=True, allow_none=True, validate=validate.Regexp(_NAME))
    openings = fields.List(fields.Nested(Opening), required=True, validate=validate.Length(1, 500))

    @validates_schema
    def _consistent(self, data, **kwargs):
        if (data.get("field") == "feature") != (data.get("feature") is not None):
            raise ValidationError("feature names the revealed feature exactly when field is feature")
        _sorted_unique([o["pseudonym"] for o in data.get("openings", [])], "openings")


class SeedRoundOpenedV1(Payload):
    """A seed round: its purpose, the parties that may commit, and its two deadlines."""

    round_id = CanonicalUUID(required=True)
    purpose = fields.String(required=True, validate=validate.OneOf(("invitation", "panel")))
    parties = fields.List(fields.String(validate=validate.Regexp(_PARTY)), required=True,
                          validate=validate.Length(1, 20))
    commit_deadline = fields.String(required=True, validate=validate.Regexp(_STAMP))
    reveal_deadline = fields.String(required=True, validate=validate.Regexp(_STAMP))

    @validates_schema
    def _consistent(self, data, **kwargs):
        parties = data.get("parties", [])
        if len(set(parties)) != len(parties):
            raise ValidationError("parties must be distinct", "parties")
        if data.get("reveal_deadline", "") <= data.get("commit_deadline", ""):
            raise ValidationError("the reveal deadline must come after the commit deadline", "reveal_deadline")


class SeedRoundOpenedV2(SeedRoundOpenedV1):
    """A seed round, version 2 (issue 10 H3): an invitation round also declares its draw's
    parameters, `draw` = {`n`, `stratify_by`}, before any party commits, so they cannot be chosen
    after the seed; a panel round has `draw` null (its distribution fixes the draw). The rule is
    g1000_proofs.draw_parameters, which g1000-verify applies as well."""

    draw = fields.Raw(required=True, allow_none=True)

    @validates_schema
    def _declared(self, data, **kwargs):
        if data.get("purpose") in ("invitation", "panel"):
            problem = declaration_problem(data["purpose"], data.get("draw"))
            if problem is not None:
                raise ValidationError(problem, "draw")


class SeedCommittedV1(Payload):
    """A party's commitment: lowercase hex SHA-256 of the UTF-8 bytes of its value."""

    round_id = CanonicalUUID(required=True)
    party = fields.String(required=True, validate=validate.Regexp(_PARTY))
    commitment = fields.String(required=True, validate=validate.Regexp(_HEX64))


class SeedContribution(Schema):
    """The contribution object exactly as the seed hashes it (g1000_proofs.seed)."""

    class Meta:
        unknown = RAISE

    party = fields.String(required=True, validate=validate.Regexp(_PARTY))
    value = fields.String(required=True, validate=[validate.Length(1, 256), validate.Regexp(_PRINTABLE)])
    kind = fields.String(required=True, validate=validate.OneOf(("commit-reveal", "dice", "beacon")))


class SeedContributedV1(Payload):
    """A revealed value, a notary's dice rolls or a public beacon value (`<value> @ <source>`)."""

    round_id = CanonicalUUID(required=True)
    contribution = fields.Nested(SeedContribution, required=True)


class SeedFinalizedV1(Payload):
    """The seed: SHA-256 of JCS of the contributions in commitment order (g1000_proofs.seed)."""

    round_id = CanonicalUUID(required=True)
    seed = fields.String(required=True, validate=validate.Regexp(_HEX64))
    contributions = fields.List(fields.Nested(SeedContribution), required=True, validate=validate.Length(1, 40))
    not_revealed = fields.List(fields.String(validate=validate.Regexp(_PARTY)), required=True,
                               validate=validate.Length(0, 20))


class InvitationsDrawnV1(Payload):
    """The invitees (pseudonyms in draw order) of g1000_proofs.draw.invitation_draw."""

    draw_id = CanonicalUUID(required=True)
    round_id = CanonicalUUID(required=True)
    register_id = CanonicalUUID(required=True)
    n = _count(1, 200_000, required=True)
    stratify_by = fields.String(required=True, allow_none=True, validate=validate.Regexp(_NAME))
    invitees = fields.List(_pseudonym(), required=True, validate=validate.Length(1, 200_000))

    @validates_schema
    def _complete(self, data, **kwargs):
        invitees = data.get("invitees", [])
        if len(invitees) != data.get("n") or len(set(invitees)) != len(invitees):
            raise ValidationError("invitees must be n distinct pseudonyms", "invitees")


class PoolMemberAddedV1(Payload):
    """A respondent (pool `respondents`: an invitee) or a nominee of a stakeholder pool."""

    pool = fields.String(required=True, validate=validate.Regexp(_NAME))
    member = LotteryRow(required=True)


class DistributionPanelsV1(Payload):
    """Consecutive panels of a distribution (each sorted), starting at panel `first_index`."""

    distribution_id = CanonicalUUID(required=True)
    chunk = _count(0, 100_000, required=True)
    first_index = _count(0, 10_000_000, required=True)
    panels = fields.List(fields.List(_pseudonym(), validate=validate.Length(1, 10_000)), required=True,
                         validate=validate.Length(1, 500))

    @validates_schema
    def _ordered(self, data, **kwargs):
        for panel in data.get("panels", []):
            _sorted_unique(panel, "a panel")


class DistributionCommittedV1(Payload):
    """A distribution over panels with integer weights, committed before its panel round."""

    distribution_id = CanonicalUUID(required=True)
    pool = fields.String(required=True, validate=validate.Regexp(_NAME))
    panel_size = _count(1, 10_000, required=True)
    quotas = fields.Dict(
        keys=fields.String(validate=validate.Regexp(_NAME)),
        values=fields.Dict(keys=fields.String(validate=validate.Regexp(_FEATURE_VALUE)),
                           values=fields.List(_count(0, 10_000), validate=validate.Length(2, 2)),
                           validate=validate.Length(1, 100)),
        required=True, validate=validate.Length(1, 16))
    members = _count(1, 200_000, required=True)
    members_root = fields.String(required=True, validate=validate.Regexp(_HEX64))
    panel_count = _count(1, 10_000_000, required=True)
    total_weight = _count(1, required=True)
    weights = fields.List(_count(1), required=True, validate=validate.Length(1, 10_000_000))
    panels_root = fields.String(required=True, validate=validate.Regexp(_HEX64))
    chunks = _count(1, 100_000, required=True)

    @validates_schema
    def _consistent(self, data, **kwargs):
        weights = data.get("weights", [])
        if len(weights) != data.get("panel_count") or sum(weights) != data.get("total_weight"):
            raise ValidationError("weights must be panel_count integers summing to total_weight", "weights")
        for feature, table in data.get("quotas", {}).items():
            if any(low > high for low, high in table.values()):
                raise ValidationError(f"quotas of {feature}: min above max", "quotas")


class PanelDrawnV1(Payload):
    """The drawn panel: index = g1000_proofs.draw.panel_draw(seed, distribution_id, weights)."""

    distribution_id = CanonicalUUID(required=True)
    round_id = CanonicalUUID(required=True)
    index = _count(0, 10_000_000, required=True)
    members = fields.List(_pseudonym(), required=True, validate=validate.Length(1, 10_000))

    @validates_schema
    def _ordered(self, data, **kwargs):
        _sorted_unique(data.get("members", []), "members")


class PanelReplacedV1(Payload):
    """A drop-out and the next eligible reserve (null: no reserve keeps the quotas)."""

    distribution_id = CanonicalUUID(required=True)
    round_id = CanonicalUUID(required=True)
    dropped = _pseudonym(required=True)
    replacement = _pseudonym(required=True, allow_none=True)


# --- ballot (docs/ballot.md) ---------------------------------------------------------------------

_OPTION_ID = re.compile(r"^[a-z0-9_-]{1,40}\Z")
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")


class Base64(fields.String):
    """Standard base64 with padding (RFC 4648 §4) of `low`..`high` bytes."""

    def __init__(self, low: int, high: int, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = low, high

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _BASE64.match(text):
            raise ValidationError("must be standard base64 with padding")
        size = len(text) // 4 * 3 - text.count("=")
        if not self.low <= size <= self.high:
            raise ValidationError(f"must be base64 of {self.low} to {self.high} bytes")
        return text


class TextDescription(Schema):
    """One text of the ballot as the log holds it (g1000_proofs.texts.describe): no text at all."""

    class Meta:
        unknown = RAISE

    language = fields.String(required=True, validate=validate.OneOf(TEXT_LANGUAGES))
    sha256 = fields.String(required=True, validate=validate.Regexp(_HEX64))
    length = _count(0, 100_000, required=True)


def _described(**kwargs) -> fields.List:
    return fields.List(fields.Nested(TextDescription), validate=validate.Length(1, len(TEXT_LANGUAGES)), **kwargs)


class BallotOption(Schema):
    class Meta:
        unknown = RAISE

    option_id = fields.String(required=True, validate=validate.Regexp(_OPTION_ID))
    texts = _described(required=True)

    @validates_schema
    def _languages(self, data, **kwargs):
        _sorted_unique([t["language"] for t in data.get("texts", [])], "texts (by language)")


class BallotSealing(Schema):
    """The trustees' key: X25519 public half, threshold k of n, and the hash of each share's text."""

    class Meta:
        unknown = RAISE

    public_key = fields.String(required=True, validate=validate.Regexp(_HEX64))
    k = _count(1, 255, required=True)
    n = _count(1, 255, required=True)
    share_hashes = fields.List(fields.String(validate=validate.Regexp(_HEX64)), required=True,
                               validate=validate.Length(1, 255))

    @validates_schema
    def _consistent(self, data, **kwargs):
        hashes = data.get("share_hashes", [])
        if data.get("k", 0) > data.get("n", 0):
            raise ValidationError("k must not exceed n", "k")
        if len(hashes) != data.get("n") or len(set(hashes)) != len(hashes):
            raise ValidationError("share_hashes must be n distinct hashes", "share_hashes")


class BallotMethod(fields.Field):
    """The counting method `{"kind": ..., parameters}` (g1000_proofs.ballot_count.spec_of)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("the method is an object with its kind")
        return value


class BallotCreatedV1(Payload):
    """A ballot: its texts' descriptions, method, options, window and sealing key (docs/ballot.md)."""

    ballot_id = CanonicalUUID(required=True)
    title = _described(required=True)
    method = BallotMethod(required=True)
    options = fields.List(fields.Nested(BallotOption), required=True, validate=validate.Length(2, 100))
    opens_at = fields.String(required=True, validate=validate.Regexp(_STAMP))
    closes_at = fields.String(required=True, validate=validate.Regexp(_STAMP))
    sealing = fields.Nested(BallotSealing, required=True)

    @validates_schema
    def _consistent(self, data, **kwargs):
        _sorted_unique([t["language"] for t in data.get("title", [])], "title (by language)")
        options = [o["option_id"] for o in data.get("options", [])]
        _sorted_unique(options, "options (by option_id)")
        if data.get("closes_at", "") <= data.get("opens_at", ""):
            raise ValidationError("closes_at must come after opens_at", "closes_at")
        if "method" in data and len(options) >= 2:
            try:
                spec_of(data["method"], options)
            except TallyError as e:
                raise ValidationError(str(e), "method") from None


class BallotRoll(Schema):
    class Meta:
        unknown = RAISE

    count = _count(1, 1_000_000, required=True)
    root = fields.String(required=True, validate=validate.Regexp(_HEX64))


class CredentialKey(fields.String):
    """Base64 DER SubjectPublicKeyInfo of an RSA key of at least 2048 bits (g1000_proofs.ballot)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            credential_key(text)
        except BallotRuleError as e:
            raise ValidationError(str(e)) from None
        return text


class BallotOpenedV1(Payload):
    """The roll's commitment (g1000_proofs.ballot.roll_commitment) and the fresh credential key."""

    ballot_id = CanonicalUUID(required=True)
    roll = fields.Nested(BallotRoll, required=True)
    credential_key = CredentialKey(required=True, validate=validate.Length(1, 2000))


class CredentialIssuedV1(Payload):
    """One blind signature given to a participant on the roll (not what was signed)."""

    ballot_id = CanonicalUUID(required=True)
    pseudonym = _pseudonym(required=True)


class CastCredential(Schema):
    class Meta:
        unknown = RAISE

    token = fields.String(required=True, validate=validate.Regexp(_HEX64))
    prefix = fields.String(required=True, validate=validate.Regexp(_HEX64))
    signature = Base64(256, 1024, required=True)


class VoteCastV1(Payload):
    """A sealed vote with its credential and nullifier; `occurred_at` is its batch's time."""

    ballot_id = CanonicalUUID(required=True)
    batch = CanonicalUUID(required=True)
    nullifier = fields.String(required=True, validate=validate.Regexp(_HEX64))
    credential = fields.Nested(CastCredential, required=True)
    sealed = Base64(49, MAX_SEALED, required=True)


class StrictBoolean(fields.Field):
    """JSON true or false only (not 1, 0 or "true")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class BallotClosedV1(Payload):
    """The end of casting: at closes_at, or earlier when the organiser closed it (`early`)."""

    ballot_id = CanonicalUUID(required=True)
    closed_at = fields.String(required=True, validate=validate.Regexp(_STAMP))
    early = StrictBoolean(required=True)


class KeyRevealedV1(Payload):
    """The sealing key's private half, rebuilt from k trustees' shares at closing."""

    ballot_id = CanonicalUUID(required=True)
    private_key = fields.String(required=True, validate=validate.Regexp(_HEX64))


class TallyResult(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict) or not isinstance(value.get("method"), str):
            raise ValidationError("the result is the object g1000_proofs.tally.tally returns")
        return value


class TallyPublishedV1(Payload):
    """The count: g1000_proofs.tally.tally of the opened choices in log order."""

    ballot_id = CanonicalUUID(required=True)
    counted = _count(0, 1_000_000, required=True)
    result = TallyResult(required=True)


class ParticipantArrivedV1(Payload):
    """A participant checked in (their code was redeemed): they are on the roll of later ballots."""

    pseudonym = _pseudonym(required=True)


# --- agenda, v2 (docs/agenda.md; g1000_proofs.agenda) ----------------------------------------------


class TopicTextDescription(TextDescription):
    """One text of a topic as the log holds it: which field, its language, sha256 and length."""

    field = fields.String(required=True, validate=validate.OneOf(TEXT_FIELDS))


class TopicNominatedV2(Payload):
    """A topic on the day's own agenda, without its words: per field (the title always, the
    description when there is one) the language declared and the text's sha256 and length
    (g1000_proofs.agenda.describe_topic). The words live in the agenda's store."""

    topic_id = CanonicalUUID(required=True)
    texts = fields.List(fields.Nested(TopicTextDescription), required=True,
                        validate=validate.Length(1, len(TEXT_FIELDS)))

    @validates_schema
    def _one_language_title_first(self, data, **kwargs):
        texts = data.get("texts", [])
        names = [t["field"] for t in texts]
        if "title" not in names:
            raise ValidationError("a topic's texts include its title", "texts")
        _sorted_unique(names, "the texts' fields")
        if len({t["language"] for t in texts}) != 1:
            raise ValidationError("a topic's texts share one language", "texts")


class NominationsOpenedV1(Payload):
    """The organiser (re)opened nominations for the own agenda. Nominations are open from the
    charter on until closed (docs/agenda.md), so this follows an `agenda.nominations.closed`."""


class NominationsClosedV1(Payload):
    """The organiser closed nominations: the agenda refuses new topics until they are reopened."""


class TextWithheldV1(Payload):
    """A facilitator or organiser withheld one text of a topic for a reason of a fixed list; the
    store deletes its words, the log keeps the nomination's sha256 (docs/agenda.md)."""

    topic_id = CanonicalUUID(required=True)
    field = fields.String(required=True, validate=validate.OneOf(TEXT_FIELDS))
    reason = fields.String(required=True, validate=validate.OneOf(WITHHOLDING_REASONS))


class SplitPart(Schema):
    """One topic a split makes: its new id and its texts' descriptions (as a v2 nomination's)."""

    class Meta:
        unknown = RAISE

    topic_id = CanonicalUUID(required=True)
    texts = fields.List(fields.Nested(TopicTextDescription), required=True,
                        validate=validate.Length(1, len(TEXT_FIELDS)))

    @validates_schema
    def _one_language_title_first(self, data, **kwargs):
        TopicNominatedV2._one_language_title_first(self, data)


class TopicsMergedV1(Payload):
    """Facilitators merged duplicate topics `from` into the topic `into` (provenance: which
    nominations became which topic; g1000_proofs.agenda.merge_problem)."""

    into = CanonicalUUID(required=True)
    from_ = fields.List(CanonicalUUID(), required=True, data_key="from", attribute="from",
                        validate=validate.Length(1, 50))

    @validates_schema
    def _sorted(self, data, **kwargs):
        _sorted_unique([str(t) for t in data.get("from", [])], "from")


class TopicSplitV1(Payload):
    """Facilitators split the topic `from` into new topics, each with its texts described (no
    words; g1000_proofs.agenda.split_problem)."""

    from_ = CanonicalUUID(required=True, data_key="from", attribute="from")
    into = fields.List(fields.Nested(SplitPart), required=True, validate=validate.Length(2, 10))


class PayloadCatalog:
    """Maps (event type, payload version) to the schema that validates it."""

    def __init__(self) -> None:
        self._schemas: dict[tuple[str, int], Schema] = {}

    def register(self, event_type: str, version: int, schema: type[Schema]) -> None:
        self._schemas[(event_type, version)] = schema()

    def types(self) -> list[tuple[str, int]]:
        return sorted(self._schemas)

    def schema(self, event_type: str, version: int) -> Schema | None:
        """The schema of one (type, payload version), for tools that walk payloads (None: unknown)."""
        return self._schemas.get((event_type, version))

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
CATALOG.register("ledger.summit.created", 2, SummitCreatedV2)
CATALOG.register("ledger.key.registered", 1, KeyRegisteredV1)
CATALOG.register("agenda.topic.nominated", 1, TopicNominatedV1)
CATALOG.register("agenda.topic.nominated", 2, TopicNominatedV2)
CATALOG.register("agenda.nominations.opened", 1, NominationsOpenedV1)
CATALOG.register("agenda.nominations.closed", 1, NominationsClosedV1)
CATALOG.register("agenda.text.withheld", 1, TextWithheldV1)
CATALOG.register("agenda.topics.merged", 1, TopicsMergedV1)
CATALOG.register("agenda.topic.split", 1, TopicSplitV1)
for _type, _schema in (
    ("lottery.register.chunk", RegisterChunkV1),
    ("lottery.register.committed", RegisterCommittedV1),
    ("lottery.seed.round_opened", SeedRoundOpenedV1),
    ("lottery.seed.committed", SeedCommittedV1),
    ("lottery.seed.contributed", SeedContributedV1),
    ("lottery.seed.finalized", SeedFinalizedV1),
    ("lottery.invitations.drawn", InvitationsDrawnV1),
    ("lottery.pool.member_added", PoolMemberAddedV1),
    ("lottery.distribution.panels", DistributionPanelsV1),
    ("lottery.distribution.committed", DistributionCommittedV1),
    ("lottery.panel.drawn", PanelDrawnV1),
    ("lottery.panel.replaced", PanelReplacedV1),
):
    CATALOG.register(_type, 1, _schema)
CATALOG.register("lottery.seed.round_opened", 2, SeedRoundOpenedV2)
CATALOG.register("lottery.register.chunk", 2, RegisterChunkV2)
CATALOG.register("lottery.register.committed", 2, RegisterCommittedV2)
CATALOG.register("lottery.register.revealed", 1, RegisterRevealedV1)
for _type, _schema in (
    ("ballot.participant.arrived", ParticipantArrivedV1),
    ("ballot.ballot.created", BallotCreatedV1),
    ("ballot.ballot.opened", BallotOpenedV1),
    ("ballot.credential.issued", CredentialIssuedV1),
    ("ballot.vote.cast", VoteCastV1),
    ("ballot.ballot.closed", BallotClosedV1),
    ("ballot.key.revealed", KeyRevealedV1),
    ("ballot.tally.published", TallyPublishedV1),
):
    CATALOG.register(_type, 1, _schema)
