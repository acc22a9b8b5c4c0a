"""The one error hierarchy of the gateway.

Every error the gateway's own modules raise is declared here under one root, itself under the
platform's CoreError (services/core/errors.py), so `except GatewayError` catches them all and
none carries an HTTP status: the gateway's request pipeline decides the answer::

    GatewayError
    +-- CredentialError            check-in codes and refresh tokens (gateway/credentials.py);
    |   +-- UnknownCodeError       the message is safe to show to the caller
    |   +-- UsedCodeError
    |   +-- UnknownTokenError
    |   +-- ChainEndedError
    |   +-- NotSeatedError
    |   +-- LiveCodeError
    +-- InvalidKeyError (also ValueError)      a malformed Idempotency-Key field
    +-- SpecConflictError (also RuntimeError)  two OpenAPI documents disagree
    +-- SpecUnavailableError (also RuntimeError)
    +-- SeatsUnavailableError (also TransientError, so answered 503 like any dependency outage)
    +-- ArrivalUnavailableError (also TransientError): the ballot did not record a check-in's arrival
"""

from __future__ import annotations

from services.core.errors import CoreError, TransientError


class GatewayError(CoreError):
    """Root of every error raised by the gateway's own modules."""


class CredentialError(GatewayError):
    """Root of the gateway's credential errors; the message is safe to show to the caller."""


class UnknownCodeError(CredentialError):
    """No such check-in code (never made, or expired and removed)."""


class UsedCodeError(CredentialError):
    """The check-in code was used already: a code opens one session."""


class UnknownTokenError(CredentialError):
    """No such refresh token (never issued, revoked or already rotated)."""


class ChainEndedError(CredentialError):
    """The token's refresh chain has reached its absolute lifetime: a new token must be issued."""


class NotSeatedError(CredentialError):
    """The code's participant is no longer seated (e.g. dropped out after the code was made)."""


class LiveCodeError(CredentialError):
    """A participant already has a live (unused, unexpired) check-in code for the summit."""

    def __init__(self, participants: list[str]):
        self.participants = participants
        super().__init__(f"{len(participants)} participant(s) already have a live check-in code: "
                         + ", ".join(participants[:20]) + ("…" if len(participants) > 20 else ""))


class InvalidKeyError(GatewayError, ValueError):
    """The Idempotency-Key field is not 1..255 printable ASCII characters."""


class SpecConflictError(GatewayError, RuntimeError):
    """Two documents define the same component or path with different content."""


class SpecUnavailableError(GatewayError, RuntimeError):
    """A service that owns public paths did not serve its OpenAPI document."""


class SeatsUnavailableError(GatewayError, TransientError):
    """The lottery could not say who is seated (unreachable or 5xx): the gateway answers 503."""


class ArrivalUnavailableError(GatewayError, TransientError):
    """The ballot did not record a check-in's arrival (unreachable, 5xx, or it does not know the
    summit yet): the gateway answers 503 and the check-in code stays unused."""
