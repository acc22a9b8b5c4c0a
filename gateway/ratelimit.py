"""Rate limits per caller: a fixed-window counter per token digest (or per anonymous address).

Budgets (issue 10 M6, L3): every request counts against exactly one budget, chosen by what it
asks for. `token` (a live bearer token's refresh chain) and `address` (anonymous callers, by
client address) are the general ones. Check-in (`POST /v1/auth/check-in`) has its own, larger
`check-in` budget per address: at a venue behind one NAT every participant checks in from the
same address, and one person's burst of general requests must not block the others' check-in
(a code has 80 random bits, so a large budget buys no useful guessing). Export bundles
(`GET /v1/logs/{log_id}/export`) have their own, smaller `export` budget per caller: a bundle is
the whole log, and eight concurrent ones slowed every other request. A ballot's casts and
receipt fetches (`cast`) count against one counter per ballot and operation that every voter
shares, never by token or address (gateway/unlinked.py says why and what it costs).

One statement per request (`INSERT … ON CONFLICT DO UPDATE … RETURNING`) counts the request in
the gateway's database, so every gunicorn worker and every gateway replica shares the counters.
The table is unlogged (migration 0004): counting writes no WAL and its commit does not wait for a
flush to disk; a database crash forgets the counters, which only starts every client's window anew.
The window index comes from the gateway's clock (injectable, so tests control time). Answers
carry the `RateLimit` / `RateLimit-Policy` fields of draft-ietf-httpapi-ratelimit-headers, and a
refused request is 429 problem+json (RFC 9457) with `Retry-After`: seconds until the window resets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.core.db import Database

_COUNT = """
INSERT INTO rate_counters AS c (bucket, window_start, hits) VALUES (%s, %s, 1)
ON CONFLICT (bucket) DO UPDATE SET
    hits = CASE WHEN EXCLUDED.window_start > c.window_start THEN 1 ELSE c.hits + 1 END,
    window_start = GREATEST(c.window_start, EXCLUDED.window_start)
RETURNING hits, window_start
"""


TOKEN, ADDRESS, CHECK_IN, EXPORT, CAST = "token", "address", "check-in", "export", "cast"
POLICIES = (TOKEN, ADDRESS, CHECK_IN, EXPORT, CAST)


@dataclass(frozen=True)
class Verdict:
    policy: str  # one of POLICIES
    limit: int
    remaining: int
    reset_seconds: int  # until the current window ends, at least 1
    window_seconds: int

    @property
    def allowed(self) -> bool:
        return self.remaining >= 0

    def headers(self) -> dict[str, str]:
        """draft-ietf-httpapi-ratelimit-headers fields (quota q per window w; remaining r, reset t)."""
        return {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w={self.window_seconds}',
            "RateLimit": f'"{self.policy}";r={max(self.remaining, 0)};t={self.reset_seconds}',
        }


def budget_for(method: str, template: str | None, authenticated: bool) -> str:
    """The budget a request counts against: by its route template (access.py), then its caller."""
    if method == "POST" and template == "/v1/auth/check-in":
        return CHECK_IN
    if method in ("GET", "HEAD") and template == "/v1/logs/{log_id}/export":
        return EXPORT
    return TOKEN if authenticated else ADDRESS


class RateLimiter:
    def __init__(self, db: Database, *, per_token: int, per_address: int, window_seconds: int,
                 per_check_in: int | None = None, per_export: int | None = None, per_cast: int | None = None):
        self.db = db
        self.limits = {TOKEN: per_token, ADDRESS: per_address, CHECK_IN: per_check_in or per_address,
                       EXPORT: per_export or per_address, CAST: per_cast or per_address}
        self.window = window_seconds

    def hit(self, bucket: str, policy: str | bool, now: float, conn=None) -> Verdict:
        """Count one request of `bucket` against budget `policy` (POLICIES; True/False: token or
        address) at time `now` (seconds since the epoch), in `conn`'s transaction when given.
        A bucket belongs to one budget: callers name it after the budget (budget_for)."""
        if isinstance(policy, bool):
            policy = TOKEN if policy else ADDRESS
        limit = self.limits[policy]
        window_start = int(now // self.window) * self.window
        if conn is None:
            with self.db.transaction() as conn:
                hits, start = conn.execute(_COUNT, (bucket, window_start)).fetchone()
        else:
            hits, start = conn.execute(_COUNT, (bucket, window_start)).fetchone()
        reset = max(1, math.ceil(start + self.window - now))
        return Verdict(policy, limit, limit - hits, reset, self.window)

    def forget_stale(self, now: float) -> int:
        """Delete counters whose window ended a day ago (clients that went away)."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM rate_counters WHERE window_start < %s",
                                (int(now) - 86_400,)).rowcount
