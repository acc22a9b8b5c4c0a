"""Which municipality a summit belongs to, as the gateway needs it to apply the access matrix.

The answer comes from the ledger (`GET /v1/summits/{id}`: the charter's `municipality`) and never
changes once a summit exists, so it is kept for the life of the process (bounded); "no such summit"
is kept only briefly, because the summit may be created a moment later.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict

import requests

from services.core.errors import TransientError

MAX_KEPT = 10_000
UNKNOWN_SECONDS = 2.0
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


class SummitDirectory:
    def __init__(self, session: requests.Session, ledger_url: str, *, timeout: float = 5.0):
        self.session = session
        self.ledger_url = ledger_url
        self.timeout = timeout
        self._known: OrderedDict[str, str] = OrderedDict()
        self._unknown: dict[str, float] = {}
        self._lock = threading.Lock()

    def tenant(self, summit_id: str) -> str | None:
        """The summit's municipality, None when there is no such summit; TransientError when the
        ledger cannot say."""
        if not _UUID.match(summit_id):
            return None
        summit_id = summit_id.lower()
        with self._lock:
            if summit_id in self._known:
                self._known.move_to_end(summit_id)
                return self._known[summit_id]
            if time.monotonic() - self._unknown.get(summit_id, float("-inf")) < UNKNOWN_SECONDS:
                return None
        try:
            response = self.session.get(f"{self.ledger_url}/v1/summits/{summit_id}", timeout=self.timeout)
        except requests.RequestException:
            raise TransientError("the ledger cannot be reached to look up the summit") from None
        if response.status_code == 404:
            with self._lock:
                self._unknown[summit_id] = time.monotonic()
                if len(self._unknown) > MAX_KEPT:
                    self._unknown.clear()
            return None
        if response.status_code != 200:
            raise TransientError(f"the ledger answered {response.status_code} for a summit lookup")
        municipality = response.json()["municipality"]
        with self._lock:
            self._known[summit_id] = municipality
            if len(self._known) > MAX_KEPT:
                self._known.popitem(last=False)
        return municipality
