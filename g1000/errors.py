"""Errors of the `g1000` command line (stack orchestration, demo)."""

from services.core.errors import CoreError


class StackError(CoreError):
    """A component of the local stack could not be started or did not become ready."""


class DemoError(CoreError):
    """The demo found the running stack behaving other than it must."""
