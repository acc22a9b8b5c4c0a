"""The one error hierarchy of the service platform.

Adapters translate driver and transport exceptions into these once, at the edge, so domain and
application code never sees psycopg or kafka exceptions. Each carries enough to explain itself.

Every error of services.core is declared here, and the root of every service's own hierarchy
(LedgerError, LotteryError, GatewayError, the g1000 command's CommandError) hangs under CoreError
(tests/unit/test_error_roots.py). None carries an HTTP status: the edge maps classes to
problem types and statuses once (services/core/problem.py, each service's api adapter).
"""


class CoreError(Exception):
    """Root of every error raised by services.core."""


class ConfigError(CoreError):
    """The configuration is malformed or names something that cannot be used."""


class ConflictError(CoreError):
    """A concurrent writer won: the aggregate version this write expected is already taken."""


class TransientError(CoreError):
    """A dependency (database, broker) is briefly unavailable; retrying later may succeed."""


class UnavailableError(TransientError):
    """A dependency could not be reached at all (at start-up this is fatal, not retried)."""


class VerificationError(CoreError):
    """An event failed verification: bad signature, unknown key, malformed envelope or payload."""

    def __init__(self, reason: str, *, event_id: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


class SignatureError(VerificationError):
    """The Ed25519 signature does not verify over the canonical bytes."""


class UnknownKeyError(VerificationError):
    """The event names a key id that the keyring does not hold for its stream."""


class SchemaError(VerificationError):
    """The envelope or its payload does not match the registered schema for its type."""

    def __init__(self, reason: str, *, event_id: str | None = None, fields: dict | None = None):
        super().__init__(reason, event_id=event_id)
        self.fields = fields or {}


class CanonicalizationError(CoreError):
    """A value cannot be put into an event (floats, non-string keys, unsafe integers)."""


class TokenError(CoreError):
    """A bearer token is not acceptable; the message says why without echoing the token."""


class MalformedTokenError(TokenError):
    """The token is not three base64url parts of the expected shape (services/core/tokens.py)."""


class BadTokenSignatureError(TokenError):
    """The token's Ed25519 signature does not verify with the issuer's key."""


class ExpiredTokenError(TokenError):
    """The token's `exp` has passed (beyond the clock-skew leeway)."""


class VouchError(CoreError):
    """A request's vouch is missing, malformed, stale or does not match; the message says why."""


class BodyJSONError(CoreError, ValueError):
    """A request body that is not JSON this service accepts."""
