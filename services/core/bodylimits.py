"""How large a request body each route takes: declared here once, for the gateway and the services.

A JSON body is small: the largest request schema (a pool's members, a check-in code batch) fits
well within 1 MiB, so that is the default, and a larger body is refused with 413 before any of it
is parsed (issue 12, item 4: a 20 MB body used to be parsed in full and answered 422). The one
route that takes more is the register upload, whose body carries the whole extract as text
(docs/lottery.md); its limit is the register's own, `REGISTER_BODY_BYTES`, which
services/lottery/extract.py takes as its text limit, so the two cannot drift apart.

Both the gateway and each service set `request.max_content_length` from `body_limit` before a
request is answered, so Werkzeug refuses a declared Content-Length above the limit and stops a
streamed (chunked) body at it (RFC 9110 §15.5.14).
"""

from __future__ import annotations

import re

DEFAULT_BODY_BYTES = 1024 * 1024
REGISTER_BODY_BYTES = 64 * 1024 * 1024  # a register extract of 200,000 rows is about 20 MB

# (method, path pattern, limit): the routes that take more than the default
LARGE_BODIES: tuple[tuple[str, re.Pattern, int], ...] = (
    ("POST", re.compile(r"^/v1/summits/[^/]+/lottery/register$"), REGISTER_BODY_BYTES),
)


def body_limit(method: str, path: str) -> int:
    """The largest body, in bytes, that `method path` accepts."""
    for m, pattern, limit in LARGE_BODIES:
        if m == method and pattern.match(path):
            return limit
    return DEFAULT_BODY_BYTES


__all__ = ["DEFAULT_BODY_BYTES", "LARGE_BODIES", "REGISTER_BODY_BYTES", "body_limit"]
