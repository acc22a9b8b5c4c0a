"""The steps every request to the gateway goes through, each a small named function, composed in
`Pipeline.admit` (before the view), `Pipeline.answer` (the `/v1` view) and `Pipeline.finish`
(after it).

Admission, in this order; the first step that answers ends the request:

1. `start`: a request id (`X-Request-Id`, kept only when short and plain, else generated) and
   the route's body limit (413 before anything else is read);
2. `identify`: the access matrix's match for the path (access.py; None for a path it does not
   declare, or one that would route differently at the service: `SMUGGLING`); a ballot's cast or
   receipt fetch (unlinked.py) carrying a token is refused here (400), before the token is read;
3. `authenticate_and_count`: the bearer token (signature and expiry, then the record of issued
   tokens for revocation) and one hit on its rate-limit budget (ratelimit.py), in one
   transaction (an unlinked request: no token, and its ballot's shared counter, unlinked.py);
   `rate_limited` answers 429 when the budget is spent;
4. `route_problem`: 404 for an undeclared path, 405 for an undeclared method;
5. `refused_token`: a request with a bad token is 401 unless the route is public;
6. `access_decision`: the matrix rule for the token's role and the path's summit (401/403/404);
7. `claim_key`: a POST's Idempotency-Key is claimed, or its earlier answer replayed (never for
   an unlinked request: the header is ignored there).

Then `answer` forwards to the owning service (forwarding.py) and, after a recorded drop-out,
`unseat_dropped` revokes the dropped members' tokens. `finish` settles the idempotency key
(`settle_idempotency`), adds the request id and rate-limit headers, and records metrics and the
access log; `abandon` releases a claimed key when the view raised. Every error here is RFC 9457
problem+json (services/core/problem.py).
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Callable

import urllib3
from flask import Response, g, request

from services.core import jsonbody
from services.core.db import Database
from services.core.errors import TransientError
from services.core.problem import problem
from services.core.signing import Signer
from services.core.tokens import Claims, TokenError, TokenVerifier, bearer

from .access import Match, Policy, decide
from .credentials import Credentials
from .forwarding import forward
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import IdempotencyStore, InvalidKeyError, fingerprint, parse_key
from .observability import Metrics, access_line, request_id
from .ratelimit import CAST, CHECK_IN, EXPORT, RateLimiter, Verdict, budget_for
from .routes import EXEMPT_PATHS, service_for
from .unlinked import bucket as unlinked_bucket
from .unlinked import is_unlinked
from .settings import GatewaySettings
from .summits import SummitDirectory

log = logging.getLogger(__name__)

CLEANUP_EVERY_SECONDS = 300.0
TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
# A decoded path holding "?" or "#" (sent as %3F, %23) or a space or control character: the
# policy would judge one route and the service, which gets the path forwarded decoded, would
# route another (".../pools/x%3Fy/members" reaches ".../pools/x" with the query "y/members").
# Likewise a "." or ".." segment, which the forwarding client may resolve away. No route has
# such a path, so it matches none (404).
SMUGGLING = re.compile(r"[?#\x00-\x20\x7f]|(?:^|/)\.\.?(?:/|$)")
REPLACEMENTS = "/v1/summits/{summit_id}/lottery/pools/{pool}/replacements"


@dataclass
class Admission:
    """What the admission steps learnt about one request."""

    match: Match | None
    claims: Claims | None = None
    refusal: Response | None = None  # the 401 a presented but unusable token earns
    verdict: Verdict | None = None


@dataclass
class Pipeline:
    """The gateway's request pipeline and what its steps need (made once per app)."""

    db: Database
    settings: GatewaySettings
    policy: Policy
    verifier: TokenVerifier
    credentials: Credentials
    limiter: RateLimiter
    keys: IdempotencyStore
    directory: SummitDirectory
    metrics: Metrics
    access: logging.Logger
    signer: Signer
    pool: urllib3.PoolManager
    upstreams: dict[str, str]
    timeout: float
    clock: Callable[[], float]

    def __post_init__(self) -> None:
        self.last_cleanup = time.monotonic()

    def admit(self) -> Response | None:
        """Flask's before_request: None lets the view answer, else the answer."""
        start()
        if request.path in EXEMPT_PATHS:
            return None
        if self.on_metrics_listener():
            return problem(404, "Not Found", "the metrics listener answers /metrics, /healthz and /readyz only")
        match = identify(self.policy)
        if g.unlinked and request.headers.get("Authorization") is not None:
            return problem(400, "Bad Request", "a vote is cast, and its receipt fetched, without a token:"
                                               " send no Authorization header")
        state = self.authenticate_and_count(match)
        answer = rate_limited(state.verdict)
        if answer is not None or not request.path.startswith("/v1/"):
            return answer
        for step in (route_problem, refused_token, self.access_decision, self.claim_key):
            answer = step(state)
            if answer is not None:
                return answer
        return None

    def answer(self, rest: str) -> Response:
        """The `/v1/<rest>` view: the owning service's answer, or the gateway's 404/502/504."""
        service = service_for(request.path)
        if service is None or service not in self.upstreams:
            return problem(404, "Not Found", f"no such resource: {request.path}")
        g.upstream = service
        response, outcome = forward(self.pool, self.upstreams[service], self.timeout, self.metrics, self.signer)
        g.upstream_outcome = outcome
        if outcome == "answered" and response.status_code == 201 and request.method == "POST" \
                and g.match is not None and g.match.template == REPLACEMENTS:
            unseat_dropped(self.credentials, g.match.summit_id, response)
        return response

    def finish(self, response: Response) -> Response:
        """Flask's after_request: settle the key, add the headers, record the request."""
        settle_idempotency(self.keys, response)
        response.headers["X-Request-Id"] = request.environ.get("g1000.request_id", "")
        verdict = g.get("verdict")
        if verdict is not None and not g.get("unlinked"):  # a shared counter would tell how many voted
            response.headers.update(verdict.headers())
        self.record(response)
        response.call_on_close(self.cleanup)
        return response

    def abandon(self, error: BaseException | None) -> None:
        """Flask's teardown_request: a view that raised leaves no claimed key behind."""
        scope = g.get("idempotency")
        if error is not None and scope is not None:
            g.idempotency = None
            self.keys.release(*scope)

    def on_metrics_listener(self) -> bool:
        port = self.settings.metrics_port
        return port is not None and request.environ.get("SERVER_PORT") == str(port)

    def authenticate_and_count(self, match: Match | None) -> Admission:
        """The token and one hit on its budget, in one pooled connection and one commit."""
        with self.db.transaction() as conn:
            if g.unlinked:  # no token and no address: the ballot's shared counter (unlinked.py)
                claims, refusal = None, None
                verdict = self.limiter.hit(unlinked_bucket(request.method, match), CAST, self.clock(), conn)
                g.verdict = verdict
                return Admission(match, claims, refusal, verdict)
            claims, chain, refusal = authenticate(self.verifier, self.credentials, self.clock, conn)
            budget = budget_for(request.method, match.template if match else None, claims is not None)
            verdict = self.limiter.hit(bucket_for(budget, claims, chain), budget, self.clock(), conn)
        g.verdict = verdict
        return Admission(match, claims, refusal, verdict)

    def access_decision(self, state: Admission) -> Response | None:
        """The matrix rule for the token's role and the summit's municipality (access.py)."""
        match = state.match
        summit_id = match.summit_id
        tenant = self.directory.tenant(summit_id) if summit_id and match.rule.scope == "summit" else None
        decision = decide(match.rule, state.claims, summit_id, tenant, summit_known=tenant is not None)
        if not decision.allowed:
            headers = {"WWW-Authenticate": 'Bearer realm="g1000"'} if decision.status == 401 else None
            return problem(decision.status, TITLES[decision.status], decision.detail, headers=headers)
        g.claims = state.claims
        g.summit_tenant = tenant
        return None

    def claim_key(self, state: Admission) -> Response | None:
        if g.unlinked:
            return None  # a stored record would keep the caller and the vote's hash (unlinked.py)
        if request.method == "POST" and request.headers.get(IDEMPOTENCY_HEADER) is not None:
            return claim_idempotency(self.keys, request.headers[IDEMPOTENCY_HEADER])
        return None

    def record(self, response: Response) -> None:
        """Metrics and one access-log line, labelled by the route's template."""
        route = route_label()
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        self.metrics.observe(route, request.method, response.status_code, seconds)
        if g.get("unlinked"):
            return  # no line joins a vote or its receipt to a moment (unlinked.py)
        self.access.info(access_line(request_id=request.environ.get("g1000.request_id", ""), method=request.method,
                                     route=route, status=response.status_code, duration_ms=seconds * 1000,
                                     upstream=g.get("upstream")))

    def cleanup(self) -> None:
        """Expired idempotency keys and stale counters go, at most every few minutes per process."""
        if time.monotonic() - self.last_cleanup < CLEANUP_EVERY_SECONDS:
            return
        self.last_cleanup = time.monotonic()
        try:
            self.keys.delete_expired()
            self.limiter.forget_stale(self.clock())
            self.credentials.forget_expired()
        except TransientError as e:
            log.warning("clean-up skipped: %s", e)


def start() -> None:
    """A clean slate for the request's state, its id, and the route's body limit."""
    g.started = time.perf_counter()
    g.upstream = None
    g.verdict = None
    g.claims = None
    g.match = None
    g.unlinked = False
    g.idempotency = None
    request.environ["g1000.request_id"] = request_id(request.headers.get("X-Request-Id"))
    jsonbody.limit_body()  # the route's limit (services/core/bodylimits.py): 413 before anything else


def identify(policy: Policy) -> Match | None:
    """The access matrix's match for a `/v1` path, or None (then it is 404, never forwarded)."""
    match = policy.match(request.method, request.path) \
        if request.path.startswith("/v1/") and not SMUGGLING.search(request.path) else None
    g.match = match
    g.unlinked = is_unlinked(request.method, match)
    return match


def bucket_for(budget: str, claims: Claims | None, chain: str | None) -> str:
    """A token's bucket is its refresh chain: refreshing does not buy a fresh budget. Check-in
    and export have their own counters, not the caller's general budget."""
    bucket = f"token:{chain}" if claims else f"addr:{request.remote_addr or 'unknown'}"
    if budget in (CHECK_IN, EXPORT):
        bucket = f"{budget}:{bucket}"
    return bucket


def rate_limited(verdict: Verdict) -> Response | None:
    if verdict.allowed:
        return None
    return problem(429, "Too Many Requests",
                   f"more than {verdict.limit} requests per {verdict.window_seconds} s;"
                   f" retry in {verdict.reset_seconds} s",
                   headers={"Retry-After": str(verdict.reset_seconds)})


def route_problem(state: Admission) -> Response | None:
    match = state.match
    if match is None:
        return problem(404, "Not Found", f"no such resource: {request.path}")
    if match.rule is None:
        return problem(405, "Method Not Allowed", f"{request.method} is not allowed on {request.path}",
                       headers={"Allow": ", ".join(match.methods)})
    return None


def refused_token(state: Admission) -> Response | None:
    """A token that failed is refused, unless the route is public (then it is simply ignored)."""
    if state.match.rule.scope != "public" and state.refusal is not None:
        return state.refusal
    return None


def authenticate(verifier: TokenVerifier, credentials: Credentials, clock, conn) -> tuple:
    """(claims, chain id, None) for a live token; (None, None, None) without one; (None, None, 401
    problem) otherwise."""
    token = bearer(request.headers.get("Authorization"))
    if token is None:
        return None, None, None
    challenge = {"WWW-Authenticate": 'Bearer realm="g1000", error="invalid_token"'}
    try:
        claims = verifier.verify(token, clock())
    except TokenError as e:
        return None, None, problem(401, "Unauthorized", str(e), headers=challenge)
    chain = credentials.is_live(claims.token_id, conn)
    if chain is None:
        return None, None, problem(401, "Unauthorized", "the token has been revoked", headers=challenge)
    return claims, chain, None


def caller() -> str:
    """Who is asking, for idempotency scopes: the token's id, else the client address."""
    claims = g.get("claims")
    if claims is not None:
        return "token:" + claims.token_id
    return "addr:" + (request.remote_addr or "unknown")


def route_label() -> str:
    """A bounded label for metrics and logs: the declared template, never the raw path."""
    match = g.get("match")
    if match is not None:
        return match.template
    if request.url_rule is not None and not request.path.startswith("/v1/"):
        return request.url_rule.rule
    return "unmatched"


def claim_idempotency(keys: IdempotencyStore, raw_key: str) -> Response | None:
    """Take the POST's Idempotency-Key (None: go on and answer it) or answer from its earlier use."""
    try:
        key = parse_key(raw_key)
    except InvalidKeyError as e:
        return problem(400, "Bad Request", str(e))
    scope = (caller(), request.method, request.path, key)
    fp = fingerprint(request.query_string, request.content_type or "", request.get_data())
    claim = keys.claim(*scope, fp)
    if claim.outcome == "mismatch":
        return problem(422, "Unprocessable Content",
                       f"this {IDEMPOTENCY_HEADER} was used for a different request; use a new key")
    if claim.outcome == "in_flight":
        return problem(409, "Conflict", f"a request with this {IDEMPOTENCY_HEADER} is still being processed",
                       headers={"Retry-After": "1"})
    if claim.outcome == "replay":
        stored = claim.stored
        response = Response(stored.body, status=stored.status, content_type=stored.content_type)
        for name, value in stored.headers.items():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    g.idempotency = scope
    return None


def settle_idempotency(keys: IdempotencyStore, response: Response) -> None:
    """Store the answer to a claimed key, or release the key when there is no answer to replay.

    After a timeout the service may still be doing the work, so the key stays claimed: a retry
    gets 409 (in flight) until the claim's lock runs out, and is forwarded only then.
    """
    scope = g.get("idempotency")
    if scope is None:
        return
    g.idempotency = None
    outcome = g.get("upstream_outcome", "answered")
    if outcome == "timeout":
        return
    if response.status_code < 500 and outcome == "answered":
        keys.complete(*scope, response.status_code, response.content_type, dict(response.headers),
                      response.get_data())
    else:
        keys.release(*scope)


def unseat_dropped(credentials: Credentials, summit_id: str | None, response: Response) -> None:
    """After the lottery recorded a drop-out (201: the panel, its `members` now and its
    `replacements`), the live participant tokens of every member who dropped out of it are
    revoked (issue 10, M3: only the seated act). All of the panel's drop-outs, not only this
    one, so a revocation missed earlier is made up at the next replacement. Best effort: when
    the gateway's database fails here the replacement stands and the failure is logged; revoking
    the member's token (`DELETE /v1/auth/tokens/{id}`) then remains the organiser's task."""
    try:
        panel = json.loads(response.get_data())
        members = set(panel["members"])
        dropped = {r["dropped"] for r in panel["replacements"]} - members
    except (ValueError, TypeError, KeyError, AttributeError):
        log.error("the lottery's answer to a replacement has no panel; no tokens were revoked")
        return
    if summit_id is None:
        return
    try:
        revoked = sum(credentials.unseat(summit_id, p) for p in sorted(dropped) if isinstance(p, str))
    except TransientError as e:
        log.error("a dropped-out member's participant tokens could not be revoked: %s", e)
        return
    if revoked:
        log.info("revoked %d participant token(s) of dropped-out members", revoked)
