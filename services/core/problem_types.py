"""The catalogue of problem types: one `type` URI per kind of error (RFC 9457 §3.1.1, §4).

Why: `about:blank` tells a client only the status; a type names the kind of error, so a client
can branch on it and a person can look it up. Each type is a relative reference
(`/problems/not-found`), which resolves against the gateway that answered, and the gateway
serves a page there that says when the problem happens and what to do (gateway/problems_page.py).
Declared once, here; `problem()` (services/core/problem.py) picks the type of a status unless
the edge that maps an error names a more specific one (the lottery's `refused`, for instance).
Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/problems/"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str         # the English title, as answered (translated by services/core/messages.py)
    when: str          # when it happens, for the documentation page
    what_to_do: str    # what the caller can do about it

    @property
    def uri(self) -> str:
        return PREFIX + self.slug


_TYPES = (
    ProblemType("bad-request", 400, "Bad Request",
                "The request cannot be read: the body is not JSON (or holds a duplicate key, an "
                "over-long number, too deep nesting), or a header such as Idempotency-Key is malformed.",
                "Fix the request as `detail` says; sending it again unchanged gets the same answer."),
    ProblemType("unauthorized", 401, "Unauthorized",
                "The route needs a bearer token and the request brought none, or one that is malformed, "
                "badly signed, expired or revoked. The answer carries `WWW-Authenticate: Bearer`.",
                "Obtain a token (a check-in code or your organiser's credentials), refresh an expired "
                "one, and send it as `Authorization: Bearer <token>`."),
    ProblemType("forbidden", 403, "Forbidden",
                "The token is valid but its role or summit does not allow this operation.",
                "Use a token of a role that may do this for this summit; the access matrix is in "
                "the API reference (/docs)."),
    ProblemType("not-found", 404, "Not Found",
                "No such resource: the path matches no route, the summit id is not a UUID, or the "
                "summit, register, round, pool, code or job does not exist.",
                "Check the path and the ids in it; `detail` names what was not found."),
    ProblemType("method-not-allowed", 405, "Method Not Allowed",
                "The path exists but not with this method. The `Allow` header lists the methods it has.",
                "Use one of the methods in `Allow`."),
    ProblemType("conflict", 409, "Conflict",
                "The request is valid, but the current state does not allow it (yet, or any more): "
                "done once already, the seed round is in another phase, a concurrent write won, or an "
                "Idempotency-Key is being used with another request.",
                "Read the current state (the resource's GET), then decide; retrying unchanged gets "
                "the same answer until the state changes."),
    ProblemType("content-too-large", 413, "Request Entity Too Large",
                "The body is larger than the route accepts; `detail` says the route's limit in bytes.",
                "Send a smaller body (the register upload has a larger limit than other routes)."),
    ProblemType("unsupported-media-type", 415, "Unsupported Media Type",
                "The route takes a JSON body and the request was sent with another Content-Type.",
                "Send the body with `Content-Type: application/json`."),
    ProblemType("validation", 422, "Unprocessable Entity",
                "The body or query is JSON of the right kind, but some fields are missing or invalid; "
                "`errors` names each field with its messages.",
                "Correct the fields `errors` names and send the request again."),
    ProblemType("refused", 422, "Unprocessable Content",
                "The request is well formed, but its content cannot be accepted: a register extract with "
                "errors or that would single people out, quotas that do not fit the pool, a reveal that "
                "does not match its commitment, a draw that cannot be made from its input.",
                "Read `detail` and `errors` (and `k_anonymity` for a register), fix the data and send it "
                "again. Nothing was recorded."),
    ProblemType("rate-limited", 429, "Too Many Requests",
                "The caller (its token's refresh chain, or its address) made more requests in the window "
                "than the budget allows.",
                "Wait the seconds `Retry-After` gives, then retry."),
    ProblemType("internal", 500, "Internal Server Error",
                "An unexpected error. It has been logged with the request id; nothing of it is shown.",
                "Report it quoting `request_id`; retrying may not help."),
    ProblemType("bad-gateway", 502, "Bad Gateway",
                "The gateway reached the service that owns the route, but its answer could not be used.",
                "Retry later; if it persists, report it quoting `request_id`."),
    ProblemType("unavailable", 503, "Service Unavailable",
                "A dependency (a service, the database or the broker) is briefly unavailable.",
                "Retry after the seconds `Retry-After` gives. A rejected request changed nothing."),
    ProblemType("gateway-timeout", 504, "Gateway Timeout",
                "The service that owns the route did not answer in time.",
                "Retry a read; for a write, read the state first (or repeat it with the same "
                "Idempotency-Key), since it may have been done."),
    ProblemType("http", 0, "HTTP error",
                "Any other HTTP error; its `status` and `title` say which (RFC 9110 §15).",
                "Read `detail`; the status's meaning is that of RFC 9110."),
)

CATALOGUE: dict[str, ProblemType] = {t.slug: t for t in _TYPES}
# the type a status gets when the code that answers does not name a more specific one
_BY_STATUS = {t.status: t.slug for t in reversed(_TYPES) if t.status}
_BY_STATUS[422] = "validation"
FALLBACK = "http"


def for_status(status: int) -> ProblemType:
    return CATALOGUE[_BY_STATUS.get(status, FALLBACK)]


def by_slug(slug: str) -> ProblemType:
    return CATALOGUE[slug]


def slug_of(uri: str) -> str | None:
    """The catalogue slug of a `type` URI, or None when it is not one of ours."""
    if uri.startswith(PREFIX) and uri[len(PREFIX):] in CATALOGUE:
        return uri[len(PREFIX):]
    return None
