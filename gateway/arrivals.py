"""The arrival of a participant at the ballot, recorded when the gateway redeems a check-in code.

Only participants who checked in may vote (docs/ballot.md): the ballot's roll is the pseudonyms of
`ballot.participant.arrived`. So the check-in (gateway/auth_api.py) first asks the ballot to record
the arrival (`POST /internal/summits/{summit}/arrivals`, idempotent, with the gateway's vouch for
exactly that request, services/core/vouch.py) and only then uses the code: a ballot that does not
answer, or does not know the summit yet, makes the check-in a 503 and the code stays unused.
"""

from __future__ import annotations

import json
import time

import requests

from services.core.vouch import HEADER as VOUCH_HEADER
from services.core.vouch import sign_vouch

from .errors import ArrivalUnavailableError


class Arrivals:
    def __init__(self, session: requests.Session, ballot_url: str, signer, timeout: float = 5.0):
        self.session = session
        self.base = ballot_url.rstrip("/")
        self.signer = signer
        self.timeout = timeout

    def record(self, summit_id: str, pseudonym: str) -> None:
        """Record the arrival at the ballot (once; repeating it is harmless), or raise
        ArrivalUnavailableError."""
        path = f"/internal/summits/{summit_id}/arrivals"
        body = json.dumps({"pseudonym": pseudonym}).encode()
        headers = {"Content-Type": "application/json",
                   VOUCH_HEADER: sign_vouch(self.signer, method="POST", target=path, body=body, token_id=None,
                                            now=time.time())}
        try:
            response = self.session.post(self.base + path, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise ArrivalUnavailableError(f"the ballot is not reachable: {type(e).__name__}") from None
        if response.status_code not in (200, 201):
            raise ArrivalUnavailableError(f"the ballot did not record the arrival ({response.status_code})")
