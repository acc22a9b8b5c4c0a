"""Rate limits per caller: a fixed-window counter per token digest (or per anonymous address).

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


@dataclass(frozen=True)
class Verdict:
    policy: str  # "token" or "address"
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


class RateLimiter:
    def __init__(self, db: Database, *, per_token: int, per_address: int, window_seconds: int):
        self.db = db
        self.per_token = per_token
        self.per_address = per_address
        self.window = window_seconds

    def hit(self, bucket: str, authenticated: bool, now: float, conn=None) -> Verdict:
        """Count one request of `bucket` at time `now` (seconds since the epoch), in `conn`'s
        transaction when given."""
        limit = self.per_token if authenticated else self.per_address
        window_start = int(now // self.window) * self.window
        if conn is None:
            with self.db.transaction() as conn:
                hits, start = conn.execute(_COUNT, (bucket, window_start)).fetchone()
        else:
            hits, start = conn.execute(_COUNT, (bucket, window_start)).fetchone()
        reset = max(1, math.ceil(start + self.window - now))
        return Verdict("token" if authenticated else "address", limit, limit - hits, reset, self.window)

    def forget_stale(self, now: float) -> int:
        """Delete counters whose window ended a day ago (clients that went away)."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM rate_counters WHERE window_start < %s",
                                (int(now) - 86_400,)).rowcount
