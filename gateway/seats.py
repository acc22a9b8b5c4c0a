"""Who the log shows seated at a summit, as the lottery service publishes it.

Check-in codes are made only for seated pseudonyms (issue 10, M3): for every pool of the summit
that has a drawn panel, the panel now (after replacements) from the lottery's public
`GET /v1/summits/{id}/lottery/pools/{pool}/panel`. Asked afresh each time codes are made (rare,
and a replacement changes who is seated), never cached.
"""

from __future__ import annotations

import requests

from .errors import SeatsUnavailableError


class Seats:
    def __init__(self, session: requests.Session, lottery_url: str, timeout: float = 5.0):
        self.session = session
        self.base = lottery_url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str) -> requests.Response:
        try:
            response = self.session.get(self.base + path, timeout=self.timeout)
        except requests.RequestException as e:
            raise SeatsUnavailableError(f"the lottery is not reachable: {type(e).__name__}") from None
        if response.status_code >= 500:
            raise SeatsUnavailableError(f"the lottery answered {response.status_code}")
        return response

    def seated(self, summit_id: str) -> set[str]:
        """The pseudonyms on every drawn panel of the summit now (empty when none is drawn)."""
        base = f"/v1/summits/{summit_id}/lottery/pools"
        listed = self._get(base)
        if listed.status_code != 200:
            return set()
        seated: set[str] = set()
        for pool in listed.json().get("pools", []):
            panel = self._get(f"{base}/{pool['pool']}/panel")
            if panel.status_code == 200:
                seated.update(panel.json().get("members", []))
        return seated
