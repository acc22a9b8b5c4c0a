"""The ballot's unlinked routes: casting a vote and fetching its receipt leave nothing of the caller.

Why this module exists: a secret ballot is only secret if nothing joins a vote to the person who
cast it (docs/ballot.md, "Secrecy"). A vote is cast with an anonymous credential and no token;
a receipt is fetched by the vote's nullifier, so whoever learns who fetched it learns whose vote
it is. For these two operations the gateway keeps nothing that names the caller or the moment:

- **No token.** A request that carries an Authorization header is refused (400) before the token
  is read, so a client that would link its vote to its participant token learns so at once; the
  forwarded request carries a vouch without a token id.
- **No address, no time in the rate limiter.** The counter is one per ballot and operation
  (``cast:POST:<summit>:<ballot>``), shared by every voter; its own budget
  (``G1000_RATE_LIMIT_BALLOT_PER_MINUTE``). The price: one client can spend the ballot's budget
  and make every voter retry (429 with Retry-After) for the rest of the window; the budget is
  large, and an attacker who can send that many requests can flood the venue's network anyway.
- **No idempotency record.** ``Idempotency-Key`` is ignored here: a stored record would keep the
  caller's scope, the fingerprint of the body (the hash of the vote) and the time. A cast is
  retry-safe without it: a repeat of the same credential is refused as a reused nullifier, and
  the client then fetches the receipt by its nullifier.
- **No access-log line** (gateway/observability.py), and gunicorn's access log skips these paths
  too (services/core/httpworker.py); the metrics count them by route template only.
- **Forwarded bare:** only Content-Type, Accept and Accept-Language reach the service, with a fresh
  request id and no X-Forwarded-For.

What remains outside the gateway (the ingress or a reverse proxy in front of it, the network) is
listed in docs/ballot.md under "Residual risks".
"""

from __future__ import annotations

from .access import Match

VOTES = "/v1/summits/{summit_id}/ballots/{ballot_id}/votes"
RECEIPT = "/v1/summits/{summit_id}/ballots/{ballot_id}/votes/{nullifier}"
UNLINKED = frozenset({("POST", VOTES), ("GET", RECEIPT), ("HEAD", RECEIPT)})
FORWARDED_HEADERS = ("content-type", "accept", "accept-language")


def is_unlinked(method: str, match: Match | None) -> bool:
    """Whether this request is a cast or a receipt fetch (the templates above)."""
    return match is not None and (method, match.template) in UNLINKED


def bucket(method: str, match: Match) -> str:
    """The shared counter of one ballot's casts (or receipt fetches): no caller in it."""
    method = "GET" if method == "HEAD" else method
    return f"cast:{method}:{match.params.get('summit_id', '').lower()}:{match.params.get('ballot_id', '').lower()}"


def bare_headers(headers) -> dict[str, str]:
    """The only client header fields an unlinked request passes on."""
    return {k: v for k, v in headers.items() if k.lower() in FORWARDED_HEADERS}
