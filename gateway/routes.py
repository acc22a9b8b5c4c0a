"""Which service answers which public path: the routing table, declared as data.

Order matters: the first matching prefix wins, so more specific patterns come first.
"""

from __future__ import annotations

import re

ROUTES: list[tuple[re.Pattern, str]] = [
    # answered by the gateway itself (gateway/auth_api.py): it holds the token key and record
    (re.compile(r"^/v1/auth(/.*)?$"), "gateway"),
    (re.compile(r"^/v1/summits/[^/]+/(tokens|check-in-codes|heads)$"), "gateway"),
    (re.compile(r"^/v1/summits/[^/]+/topics(/.*)?$"), "agenda"),
    (re.compile(r"^/v1/summits/[^/]+/lottery(/.*)?$"), "lottery"),
    (re.compile(r"^/v1/summits/[^/]+/ballots(/.*)?$"), "ballot"),
    (re.compile(r"^/v1/summits(/.*)?$"), "ledger"),
    (re.compile(r"^/v1/logs(/.*)?$"), "ledger"),
]

# The gateway's own endpoints: never rate limited, never forwarded.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def service_for(path: str) -> str | None:
    for pattern, service in ROUTES:
        if pattern.match(path):
            return service
    return None
