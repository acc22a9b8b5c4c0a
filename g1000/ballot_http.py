"""The network half of the voter's client (g1000/ballot_client.py), over `requests`.

A new connection per request, so nothing at the transport level joins a voter's credential
request to their cast (docs/ballot.md, "Residual risks"), and a bearer token only where the
caller passes one: the cast and the receipt fetch get none.
"""

from __future__ import annotations

from typing import Callable

import requests


def anonymous_http(gateway: str, timeout: float = 30.0) -> Callable:
    """A :data:`g1000.ballot_client.Http` for the gateway at `gateway` (no trailing slash)."""
    def http(method: str, path: str, body: dict | None, token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(method, gateway + path, json=body, headers=headers, timeout=timeout)
        if "json" in response.headers.get("Content-Type", ""):
            return response.status_code, response.json()
        return response.status_code, response.text
    return http
