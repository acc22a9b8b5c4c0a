"""Wire schemas of the lottery's REST API (bodies validated with marshmallow; OpenAPI from them).

Names start with `Lottery` so the gateway's merged OpenAPI document has no component clashes.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.core.fields import Text

from .domain import CONSENT_TEXT
from .extract import MAX_TEXT_CHARS

_NAME = r"^[a-z][a-z0-9_]{0,39}\Z"
_PARTY = r"^[a-z][a-z0-9_-]{0,39}\Z"
_HEX64 = r"^[0-9a-f]{64}\Z"
_TEXT = r"^[^\x00-\x1f\x7f\ud800-\udfff]+\Z"   # printable: no control characters, no lone surrogates
_ID = r"^[0-9a-f]{32}\Z"   # opaque ids: 128 random bits as lowercase hex (g1000_proofs.vocabulary)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _features(**kwargs):
    return fields.Dict(keys=fields.String(validate=validate.Regexp(_NAME)),
                       values=Text(single_line=True, validate=validate.Length(1, 64)),
                       validate=validate.Length(0, 16), **kwargs)


# --- register -----------------------------------------------------------------------------------


class LotteryRegisterImportSchema(_Strict):
    csv = Text(required=True, validate=validate.Length(1, MAX_TEXT_CHARS), metadata={
        "description": "The pseudonymised register extract as CSV text (UTF-8, comma or semicolon): "
                       "a header line with `pseudonym`, `household` and exactly the feature columns "
                       "the summit's charter declares (e.g. age_band, gender, neighbourhood), then one "
                       "line per resident: opaque ids (32 lowercase hex characters) and only the "
                       "charter's values. Anything else is refused (`g1000 register prepare` writes it)."})


_CELL_ERROR = {"type": "object", "required": ["line", "column", "message"], "properties": {
    "line": {"type": "integer", "minimum": 1},
    "column": {"type": ["integer", "null"], "minimum": 1, "description": "1-based; null: the whole line"},
    "message": {"type": "string"}}}


class LotteryExtractProblemSchema(Schema):
    """422 answer to a refused extract (RFC 9457): `errors` lists the file's errors with their
    line and column, or (a malformed request body) the field messages."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    request_id = fields.String(metadata={"description": "the request's X-Request-Id (services/core/problem.py)"})
    errors = fields.Raw(metadata={"oneOf": [
        {"type": "array", "items": _CELL_ERROR},
        {"type": "object", "additionalProperties": {}, "description": "field-level validation messages"}]})
    k_anonymity = fields.Raw(metadata={"type": "object", "description": (
        "Only when the register would single people out: `k`, `features` (the published names) and, "
        "for each check (`rows`: combinations shared by fewer than k rows; `households`: combinations "
        "found in fewer than k households; `compositions`: households whose member composition fewer "
        "than k households share), `below_k` and `by_size` [{`size`, `count`}]. Counts only, never values.")})


class LotteryRegisterSchema(Schema):
    register_id = fields.UUID()
    count = fields.Integer()
    root = fields.String(metadata={"description": "hex register root (contract 2: g1000_proofs.register.register_root)"})
    chunks = fields.Integer()
    features = fields.List(fields.String())
    feature_counts = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()))
    committed_seq = fields.Integer()
    committed_at = fields.String()


# --- seed rounds --------------------------------------------------------------------------------


class LotteryDrawParametersSchema(_Strict):
    """The invitation draw's parameters, declared when its round is opened (issue 10 H3)."""

    n = fields.Integer(required=True, strict=True, validate=validate.Range(1, 200_000),
                       metadata={"description": "how many invitations (one per household)"})
    stratify_by = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(_NAME),
                                metadata={"description": "a feature of the register, or null"})


class LotteryRoundOpenSchema(_Strict):
    purpose = fields.String(required=True, validate=validate.OneOf(("invitation", "panel")))
    draw = fields.Nested(LotteryDrawParametersSchema, load_default=None, allow_none=True, metadata={
        "description": "required for purpose invitation, absent or null for panel: the draw's n and "
                       "stratify_by, fixed in the log before any party commits (the draw must use them)"})
    parties = fields.List(fields.String(validate=validate.Regexp(_PARTY)), required=True,
                          validate=validate.Length(1, 20),
                          metadata={"description": "who commits (organisations or roles, not people)"})
    commit_deadline = fields.AwareDateTime(required=True)
    reveal_deadline = fields.AwareDateTime(required=True)


class LotteryCommitSchema(_Strict):
    party = fields.String(required=True, validate=validate.Regexp(_PARTY))
    commitment = fields.String(required=True, validate=validate.Regexp(_HEX64),
                               metadata={"description": "lowercase hex SHA-256 of the UTF-8 value"})


class LotteryRevealSchema(_Strict):
    party = fields.String(required=True, validate=validate.Regexp(_PARTY))
    value = fields.String(required=True, validate=[validate.Length(1, 256), validate.Regexp(_TEXT)],
                          metadata={"description": "the committed value, exactly (64 random hex recommended)"})


class LotteryDiceSchema(_Strict):
    party = fields.String(load_default="notary", validate=validate.Regexp(_PARTY))
    value = fields.String(required=True, validate=[validate.Length(1, 256), validate.Regexp(_TEXT)],
                          metadata={"description": "the rolls as the notary reads them out, e.g. '3 6 1 4 4 2'"})


class LotteryBeaconSchema(_Strict):
    party = fields.String(load_default="beacon", validate=validate.Regexp(_PARTY))
    value = fields.String(required=True, validate=[validate.Length(1, 128), validate.Regexp(_TEXT)])
    source = fields.String(required=True, validate=[validate.Length(1, 120), validate.Regexp(_TEXT)],
                           metadata={"description": "where anyone can check the value (beacon and round); "
                                                    "logged as part of the value: `<value> @ <source>`"})


class LotteryCommitmentSchema(Schema):
    party = fields.String()
    commitment = fields.String()
    seq = fields.Integer()
    occurred_at = fields.String()


class LotteryContributionSchema(Schema):
    party = fields.String()
    value = fields.String()
    kind = fields.String()
    source = fields.String(allow_none=True)
    seq = fields.Integer()
    occurred_at = fields.String()


class LotteryRoundSchema(Schema):
    round_id = fields.UUID()
    purpose = fields.String()
    parties = fields.List(fields.String())
    commit_deadline = fields.String()
    reveal_deadline = fields.String()
    state = fields.String(metadata={"description": "committing | revealing | ended | finalized"})
    opened_seq = fields.Integer()
    commitments = fields.List(fields.Nested(LotteryCommitmentSchema))
    contributions = fields.List(fields.Nested(LotteryContributionSchema))
    first_contribution_seq = fields.Integer(allow_none=True)
    seed = fields.String(allow_none=True)
    seed_contributions = fields.List(fields.Dict(), allow_none=True, metadata={
        "description": "once finalised: the contributions hashed into the seed, in commitment order"})
    not_revealed = fields.List(fields.String())
    finalized_seq = fields.Integer(allow_none=True)
    draw = fields.Dict(allow_none=True, metadata={
        "description": "an invitation round's declared {n, stratify_by}; null for a panel round "
                       "(and for a v1 round, which declared none)"})


class LotteryRoundListSchema(Schema):
    rounds = fields.List(fields.Nested(LotteryRoundSchema))


# --- invitations and respondents ----------------------------------------------------------------


class LotteryInvitationRequestSchema(_Strict):
    round_id = fields.UUID(required=True)
    n = fields.Integer(strict=True, validate=validate.Range(1, 200_000), metadata={
        "description": "optional: the round's declared n; anything else is refused (409)"})
    stratify_by = fields.String(allow_none=True, validate=validate.Regexp(_NAME), metadata={
        "description": "optional: the round's declared stratify_by; anything else is refused (409)"})


class LotteryInvitationCodeSchema(Schema):
    pseudonym = fields.String()
    code = fields.String(metadata={"description": "one-time code for the letter; shown only in this answer"})


class LotteryInvitationsSchema(Schema):
    draw_id = fields.UUID()
    round_id = fields.UUID()
    register_id = fields.UUID()
    n = fields.Integer()
    stratify_by = fields.String(allow_none=True)
    invitees = fields.List(fields.String(), metadata={"description": "pseudonyms in draw order"})
    seq = fields.Integer()
    drawn_at = fields.String()
    responded = fields.Integer()


class LotteryInvitationsCreatedSchema(LotteryInvitationsSchema):
    codes = fields.List(fields.Nested(LotteryInvitationCodeSchema))


class StrictBoolean(fields.Boolean):
    """A JSON boolean and nothing else: marshmallow's Boolean takes "true", "1", 1, "yes" and "on",
    and 1 == True in Python, so a consent given by accident of coercion would count (finding L5)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class LotteryRespondentSchema(_Strict):
    code = Text(required=True, single_line=True, validate=validate.Length(1, 40))
    features = _features(load_default=dict, metadata={
        "description": "self-reported coarse features that override the register's: only the names "
                       "the summit's charter declares, each with one of its declared values (no free "
                       "text). They are published."})
    consent = StrictBoolean(required=True, metadata={
        "description": "the JSON boolean true, exactly (strings and numbers are no consent), to this "
                       "text: " + CONSENT_TEXT})


class LotteryMemberSchema(Schema):
    pseudonym = fields.String()
    household = fields.String()
    features = fields.Dict(keys=fields.String(), values=fields.String())


class LotteryMemberAddedSchema(Schema):
    pool = fields.String()
    member = fields.Nested(LotteryMemberSchema)
    seq = fields.Integer()


# --- pools, distributions, jobs, panels ---------------------------------------------------------


class LotteryNomineeSchema(_Strict):
    pseudonym = fields.String(load_default=None, validate=validate.Regexp(_ID),
                              metadata={"description": "omit to have one generated"})
    household = fields.String(load_default=None, validate=validate.Regexp(_ID))
    features = _features(required=True)


class LotteryNomineesSchema(_Strict):
    members = fields.List(fields.Nested(LotteryNomineeSchema), required=True, validate=validate.Length(1, 2000))


class LotteryMembersAddedSchema(Schema):
    pool = fields.String()
    added = fields.List(fields.Nested(LotteryMemberSchema))


class LotteryPoolSummarySchema(Schema):
    pool = fields.String()
    members = fields.Integer()


class LotteryPoolListSchema(Schema):
    pools = fields.List(fields.Nested(LotteryPoolSummarySchema))


class LotteryPoolSchema(Schema):
    pool = fields.String()
    count = fields.Integer()
    feature_counts = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()))
    members = fields.List(fields.Nested(LotteryMemberSchema))


class LotteryDistributionRequestSchema(_Strict):
    panel_size = fields.Integer(required=True, strict=True, validate=validate.Range(1, 10_000))
    quotas = fields.Dict(
        keys=fields.String(validate=validate.Regexp(_NAME)),
        values=fields.Dict(keys=fields.String(validate=validate.Length(1, 64)),
                           values=fields.List(fields.Integer(strict=True, validate=validate.Range(0, 10_000)),
                                              validate=validate.Length(2, 2))),
        required=True, validate=validate.Length(1, 16),
        metadata={"description": "{feature: {value: [min, max]}}; every pool member needs a listed value"})

    @validates_schema
    def _bounds(self, data, **kwargs):
        for feature, table in data.get("quotas", {}).items():
            for value, (low, high) in table.items():
                if low > high:
                    raise ValidationError(f"{feature}={value}: min {low} > max {high}", "quotas")


class LotteryDiagnosisSchema(Schema):
    message = fields.String()
    conflicts = fields.List(fields.String())
    relaxation = fields.Raw(allow_none=True, metadata={"description": "the smallest change of the quotas that makes them feasible"})


class LotteryJobErrorSchema(Schema):
    kind = fields.String(metadata={"description": "infeasible | invalid | pool_changed | conflict | gave_up | internal"})
    message = fields.String()
    diagnosis = fields.Nested(LotteryDiagnosisSchema, allow_none=True)


class LotteryJobSchema(Schema):
    job_id = fields.UUID()
    kind = fields.String(metadata={"description": "register | distribution"})
    pool = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "queued | running | succeeded | failed"})
    attempts = fields.Integer()
    panel_size = fields.Integer(allow_none=True)
    quotas = fields.Raw(allow_none=True)
    distribution_id = fields.UUID(allow_none=True)
    register_id = fields.UUID(allow_none=True)
    error = fields.Nested(LotteryJobErrorSchema, allow_none=True)
    created_at = fields.String()
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    location = fields.String()


class LotteryProbabilitySchema(Schema):
    pseudonym = fields.String()
    probability = fields.String(metadata={"description": "exact, as numerator/denominator"})
    per_million = fields.Integer()


class LotteryDistributionSummarySchema(Schema):
    distribution_id = fields.UUID()
    pool = fields.String()
    panel_size = fields.Integer()
    quotas = fields.Raw()
    members = fields.Integer()
    members_root = fields.String()
    panel_count = fields.Integer()
    total_weight = fields.Integer()
    weights = fields.List(fields.Integer())
    panels_root = fields.String()
    chunks = fields.Integer()
    committed_seq = fields.Integer()
    committed_at = fields.String()
    fairness = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "minimum, maximum, mean, percentiles, gini, geometric_mean of the chances"})
    job_id = fields.UUID(allow_none=True)


class LotteryDistributionSchema(LotteryDistributionSummarySchema):
    probabilities = fields.List(fields.Nested(LotteryProbabilitySchema))


class LotteryDistributionListSchema(Schema):
    distributions = fields.List(fields.Nested(LotteryDistributionSummarySchema))


class LotteryPanelDrawSchema(_Strict):
    distribution_id = fields.UUID(required=True)
    round_id = fields.UUID(required=True)


class LotteryReplacementRequestSchema(_Strict):
    distribution_id = fields.UUID(required=True)
    dropped = fields.String(required=True, validate=validate.Regexp(_ID))
    accept_vacancy = fields.Boolean(load_default=False, metadata={
        "description": "when no reserve keeps the quotas, record the drop-out with an empty seat "
                       "instead of refusing (409)"})


class LotteryReplacementEntrySchema(Schema):
    dropped = fields.String()
    replacement = fields.String(allow_none=True)
    seq = fields.Integer()
    occurred_at = fields.String()


class LotteryPanelSchema(Schema):
    pool = fields.String()
    distribution_id = fields.UUID()
    round_id = fields.UUID()
    index = fields.Integer()
    drawn = fields.List(fields.String(), metadata={"description": "the drawn panel"})
    members = fields.List(fields.String(), metadata={"description": "the panel now, after replacements"})
    replacements = fields.List(fields.Nested(LotteryReplacementEntrySchema))
    drawn_seq = fields.Integer()
    drawn_at = fields.String()
