"""Errors of the `g1000` command line (stack orchestration, demo, register preparation).

One root, CommandError, under the platform's CoreError (services/core/errors.py), so
`except CommandError` catches every refusal of the command and `except CoreError` every refusal
of the platform::

    CommandError
    +-- StackError        a component of the local stack did not start or become ready
    +-- DemoError         the demo found the running stack behaving other than it must
    +-- PrepareRefused    the raw register extract cannot be prepared (`g1000 register prepare`)
    +-- BallotClientError the ballot's service answered what a voter's client must not accept
    |   +-- ReceiptRejected   a vote's receipt does not prove that our vote is in the log
    +-- TrusteeError      a trustee's key, share or public file is unusable (`g1000 trustee`)
"""

from services.core.errors import CoreError


class CommandError(CoreError):
    """Root of every error raised by the `g1000` command."""


class StackError(CommandError):
    """A component of the local stack could not be started or did not become ready."""


class DemoError(CommandError):
    """The demo found the running stack behaving other than it must."""


class PrepareRefused(CommandError):
    """The raw extract cannot be prepared as it stands; `lines` says why, one problem a line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0] if lines else "refused")
        self.lines = lines


class BallotClientError(CommandError):
    """The ballot's service answered what a voter's client must not accept (g1000/ballot_client.py)."""


class ReceiptRejected(BallotClientError):
    """A vote's receipt does not show our nullifier and sealed vote as an entry of the signed log."""


class TrusteeError(CommandError):
    """A trustee's key, share or public file cannot be used as it stands (`g1000 trustee`)."""
