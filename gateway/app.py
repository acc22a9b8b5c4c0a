"""The gateway's Flask app: health, readiness of the whole stack, and routing of `/v1/...`.

Every `/v1` request goes through the same steps, in this order: match the declared access matrix
(access.py; a path it does not declare is 404 and never forwarded), authenticate the bearer
token (signature and expiry, then the record of issued tokens for revocation), count it against
one rate-limit budget (ratelimit.py: check-in, export, else the token's chain or the client
address), decide the matrix rule for the token's role and the path's summit, then claim its
Idempotency-Key (POST), and only then answer it: the gateway's own endpoints (tokens and check-in
codes, auth_api.py) or the owning service, with a timeout; only idempotent reads are retried.
HEAD is answered wherever GET is. A request id (`X-Request-Id`, kept only when short and plain,
else generated) travels to the service and back. Every error the gateway itself produces is
RFC 9457 problem+json. Also here: the public OpenAPI document and its HTML page (openapi.py,
docs_page.py), metrics (internal only) and access logs (observability.py). Its state lives in its
own database (database.py).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from typing import Callable

import requests
import urllib3
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from services.core.db import Database
from services.core import jsonbody
from services.core.errors import ConfigError, TransientError
from services.core.problem import http_problem, problem
from services.core.signing import load_or_create_signer, write_public_key
from services.core.tokens import TokenError, TokenVerifier, bearer
from services.core.vouch import HEADER as VOUCH_HEADER
from services.core.vouch import sign_vouch, target_of

from . import docs_page
from .access import Policy, decide
from .auth_api import auth as auth_blueprint
from .auth_api import summit_credentials as credentials_blueprint
from .credentials import Credentials
from .heads import heads as heads_blueprint
from .heads import reported_backlog
from .database import open_gateway_database
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import IdempotencyStore, InvalidKeyError, fingerprint, parse_key
from .observability import Metrics, TimedCache, access_line, access_logger, metrics_allowed, request_id
from .openapi import SpecCache, SpecConflictError, SpecUnavailableError
from .problems_page import GatewayProblemApi as ProblemApi  # also serves the /problems/<kind> pages
from .ratelimit import CHECK_IN, EXPORT, RateLimiter, budget_for
from .routes import EXEMPT_PATHS, service_for
from .seats import Seats
from .settings import GatewaySettings, load_gateway_settings
from .summits import SummitDirectory

log = logging.getLogger(__name__)

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length", "host"}
SERVICE_NAMES = ("ledger", "lottery", "agenda", "ballot")
CLEANUP_EVERY_SECONDS = 300.0


def load_upstreams(env: dict | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    upstreams = {}
    for name in SERVICE_NAMES:
        url = env.get(f"G1000_{name.upper()}_URL", "").rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"G1000_{name.upper()}_URL must be the http(s) URL of the {name} service")
        upstreams[name] = url
    return upstreams


def create_app(upstreams: dict[str, str] | None = None, *, timeout: float = 10.0, env: dict | None = None,
               settings: GatewaySettings | None = None, database: Database | None = None,
               clock: Callable[[], float] = time.time) -> Flask:
    """The gateway. `env` defaults to os.environ; `database` (opened and migrated) to the one the
    settings name; `clock` (seconds since the epoch) drives the rate-limit windows."""
    upstreams = upstreams or load_upstreams(env)
    settings = settings or load_gateway_settings(env)
    db = database or open_gateway_database(settings.database_url, timeouts=settings.db_timeouts,
                                           migration_url=settings.migration_url)
    app = Flask("gateway")
    app.config.update(API_TITLE="G1000 gateway", API_VERSION="v1", OPENAPI_VERSION="3.1.0",
                      OPENAPI_URL_PREFIX=None)  # the assembled document is served by openapi_view
    jsonbody.install(app, limit=False)
    app.extensions["g1000_gateway_db"] = db
    session = requests.Session()
    session.trust_env = False  # no proxy/.netrc lookups per request: upstreams are given explicitly
    forwarding = urllib3.PoolManager(num_pools=8, maxsize=16)  # keep-alive connections per service
    limiter = RateLimiter(db, per_token=settings.rate_limit_per_token,
                          per_address=settings.rate_limit_per_address, window_seconds=settings.rate_window_seconds,
                          per_check_in=settings.rate_limit_check_in, per_export=settings.rate_limit_export)
    keys = IdempotencyStore(db, settings.idempotency_ttl_seconds)
    signer = token_signer(settings)
    credentials = Credentials(db, signer, ttl_seconds=settings.token_ttl_seconds,
                              chain_seconds=settings.token_chain_seconds, clock=clock)
    app.extensions["g1000_credentials"] = credentials
    app.extensions["g1000_seats"] = Seats(session, upstreams["lottery"])
    verifier = TokenVerifier(signer.public_key)
    policy = Policy()
    directory = SummitDirectory(session, upstreams["ledger"])
    app.extensions["g1000_summits"] = directory
    app.extensions["g1000_heads_upstreams"] = (session, upstreams)
    api = ProblemApi(app)
    api.register_blueprint(auth_blueprint)
    api.register_blueprint(credentials_blueprint)
    api.register_blueprint(heads_blueprint)
    specs = SpecCache(upstreams, session, local=api.spec.to_dict())
    metrics = Metrics()
    access = access_logger()
    last_cleanup = [time.monotonic()]

    def cleanup() -> None:
        """Expired idempotency keys and stale counters go, at most every few minutes per process."""
        if time.monotonic() - last_cleanup[0] < CLEANUP_EVERY_SECONDS:
            return
        last_cleanup[0] = time.monotonic()
        try:
            keys.delete_expired()
            limiter.forget_stale(clock())
            credentials.forget_expired()
        except TransientError as e:
            log.warning("clean-up skipped: %s", e)

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        g.upstream = None
        g.verdict = None
        g.claims = None
        g.match = None
        g.idempotency = None
        request.environ["g1000.request_id"] = request_id(request.headers.get("X-Request-Id"))
        jsonbody.limit_body()  # the route's limit (services/core/bodylimits.py): 413 before anything else
        if request.path in EXEMPT_PATHS:
            return None
        if settings.metrics_port is not None and request.environ.get("SERVER_PORT") == str(settings.metrics_port):
            return problem(404, "Not Found", "the metrics listener answers /metrics, /healthz and /readyz only")
        match = policy.match(request.method, request.path) \
            if request.path.startswith("/v1/") and not _SMUGGLING.search(request.path) else None
        g.match = match
        with db.transaction() as conn:  # one pooled connection and one commit for both
            claims, chain, refusal = _authenticate(verifier, credentials, clock, conn)
            # a token's bucket is its refresh chain: refreshing does not buy a fresh budget
            budget = budget_for(request.method, match.template if match else None, claims is not None)
            bucket = f"token:{chain}" if claims else f"addr:{request.remote_addr or 'unknown'}"
            if budget in (CHECK_IN, EXPORT):  # their own counters, not the caller's general budget
                bucket = f"{budget}:{bucket}"
            verdict = limiter.hit(bucket, budget, clock(), conn)
        g.verdict = verdict
        if not verdict.allowed:
            return problem(429, "Too Many Requests",
                           f"more than {verdict.limit} requests per {verdict.window_seconds} s;"
                           f" retry in {verdict.reset_seconds} s",
                           headers={"Retry-After": str(verdict.reset_seconds)})
        if not request.path.startswith("/v1/"):
            return None
        if match is None:
            return problem(404, "Not Found", f"no such resource: {request.path}")
        if match.rule is None:
            return problem(405, "Method Not Allowed", f"{request.method} is not allowed on {request.path}",
                           headers={"Allow": ", ".join(match.methods)})
        if match.rule.scope != "public" and refusal is not None:
            return refusal
        summit_id = match.summit_id
        tenant = directory.tenant(summit_id) if summit_id and match.rule.scope == "summit" else None
        decision = decide(match.rule, claims, summit_id, tenant, summit_known=tenant is not None)
        if not decision.allowed:
            headers = {"WWW-Authenticate": 'Bearer realm="g1000"'} if decision.status == 401 else None
            return problem(decision.status, _TITLES[decision.status], decision.detail, headers=headers)
        g.claims = claims
        g.summit_tenant = tenant
        if request.method == "POST" and request.headers.get(IDEMPOTENCY_HEADER) is not None:
            return _claim_idempotency(keys, request.headers[IDEMPOTENCY_HEADER])
        return None

    @app.after_request
    def _finish(response: Response):
        _settle_idempotency(keys, response)
        response.headers["X-Request-Id"] = request.environ.get("g1000.request_id", "")
        verdict = g.get("verdict")
        if verdict is not None:
            response.headers.update(verdict.headers())
        route = _route_label()
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.observe(route, request.method, response.status_code, seconds)
        access.info(access_line(request_id=request.environ.get("g1000.request_id", ""), method=request.method,
                                route=route, status=response.status_code, duration_ms=seconds * 1000,
                                upstream=g.get("upstream")))
        response.call_on_close(cleanup)
        return response

    @app.teardown_request
    def _abandoned(error):
        scope = g.get("idempotency")
        if error is not None and scope is not None:
            g.idempotency = None
            keys.release(*scope)

    @app.get("/healthz")
    def healthz():
        return {"status": "alive", "service": "gateway"}

    def probe() -> dict:
        checks = {"gateway-database": db.ping()}
        outbox = {}  # each service's outbox backlog, as its /readyz reports it (issue 10, M5)
        for name, url in upstreams.items():
            try:
                answer = session.get(f"{url}/readyz", timeout=3)
                checks[name] = answer.status_code == 200
                outbox[name] = reported_backlog(answer)
            except requests.RequestException:
                checks[name] = False
                outbox[name] = None
        return checks, outbox

    readiness = TimedCache(settings.readiness_cache_seconds, clock)

    @app.get("/readyz")
    def readyz():
        checks, outbox = readiness.get(probe)  # at most one fan-out per worker every few seconds
        if all(checks.values()):
            return {"status": "ready", "checks": checks, "outbox": outbox}
        failing = ", ".join(n for n, ok in checks.items() if not ok)
        return problem(503, "Service Unavailable", f"not ready: {failing}", headers={"Retry-After": "1"},
                       extensions={"checks": checks, "outbox": outbox})

    @app.get("/metrics")
    def metrics_view():
        if not metrics_allowed(request.environ, settings.metrics_port):
            return problem(404, "Not Found", f"no such resource: {request.path}")
        body, content_type = metrics.exposition()
        return Response(body, mimetype=None, content_type=content_type)

    @app.get("/openapi.json")
    def openapi_view():
        return specs.document()

    @app.get("/docs")
    def docs_view():
        return Response(docs_page.render(specs.document()), content_type="text/html; charset=utf-8")

    @app.route("/v1/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    def forward(rest):
        service = service_for(request.path)
        if service is None or service not in upstreams:
            return problem(404, "Not Found", f"no such resource: {request.path}")
        g.upstream = service
        response, outcome = _forward(forwarding, upstreams[service], timeout, metrics, signer)
        g.upstream_outcome = outcome
        if outcome == "answered" and response.status_code == 201 and request.method == "POST" \
                and g.match is not None and g.match.template == REPLACEMENTS:
            _unseat_dropped(credentials, g.match.summit_id, response)
        return response

    @app.errorhandler(SpecUnavailableError)
    def _spec_unavailable(e):
        return problem(503, "Service Unavailable", str(e), headers={"Retry-After": "5"})

    @app.errorhandler(SpecConflictError)
    def _spec_conflict(e):
        log.error("cannot assemble the OpenAPI document: %s", e)
        return problem(500, "Internal Server Error", f"the services' OpenAPI documents conflict: {e}")

    @app.errorhandler(TransientError)
    def _transient(e):
        log.warning("unavailable: %s", e)
        return problem(503, "Service Unavailable", "a dependency of the gateway is briefly unavailable; retry",
                       headers={"Retry-After": "2"})

    @app.errorhandler(Exception)
    def _unexpected(e):
        if isinstance(e, HTTPException):  # a view's own message survives (services/core/problem.py)
            return http_problem(e)
        log.exception("gateway error")
        return problem(500, "Internal Server Error", "the error has been logged")

    if settings.proxy_hops:
        # behind an ingress, the client's address is what the trusted proxies put in X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)
    return app


_TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
# A decoded path holding "?" or "#" (sent as %3F, %23) or a space or control character: the
# policy would judge one route and the service, which gets the path forwarded decoded, would
# route another (".../pools/x%3Fy/members" reaches ".../pools/x" with the query "y/members").
# Likewise a "." or ".." segment, which the forwarding client may resolve away. No route has
# such a path, so it matches none (404).
_SMUGGLING = re.compile(r"[?#\x00-\x20\x7f]|(?:^|/)\.\.?(?:/|$)")
REPLACEMENTS = "/v1/summits/{summit_id}/lottery/pools/{pool}/replacements"


def _unseat_dropped(credentials: Credentials, summit_id: str | None, response: Response) -> None:
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


def token_signer(settings: GatewaySettings):
    """The token-signing key (created with mode 0600 on first start) and its public half beside
    it, which the services read (G1000_TOKEN_PUBLIC_KEY_FILE)."""
    signer = load_or_create_signer(settings.token_key_file)  # made once, even by racing workers
    public = settings.token_key_file.with_suffix(".pub")
    if not public.exists():
        write_public_key(public, signer.public_key)
    return signer


def _authenticate(verifier: TokenVerifier, credentials: Credentials, clock, conn) -> tuple:
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


def _caller() -> str:
    """Who is asking, for idempotency scopes: the token's id, else the client address."""
    claims = g.get("claims")
    if claims is not None:
        return "token:" + claims.token_id
    return "addr:" + (request.remote_addr or "unknown")


def _route_label() -> str:
    """A bounded label for metrics and logs: the declared template, never the raw path."""
    match = g.get("match")
    if match is not None:
        return match.template
    if request.url_rule is not None and not request.path.startswith("/v1/"):
        return request.url_rule.rule
    return "unmatched"


def _claim_idempotency(keys: IdempotencyStore, raw_key: str) -> Response | None:
    """Take the POST's Idempotency-Key (None: go on and answer it) or answer from its earlier use."""
    try:
        key = parse_key(raw_key)
    except InvalidKeyError as e:
        return problem(400, "Bad Request", str(e))
    scope = (_caller(), request.method, request.path, key)
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


def _settle_idempotency(keys: IdempotencyStore, response: Response) -> None:
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


def _forward(pool: urllib3.PoolManager, base: str, timeout: float, metrics: Metrics,
             signer) -> tuple[Response, str]:
    """The service's answer and "answered", or the gateway's 504 / 502 problem and "timeout" /
    "unreachable".

    urllib3 directly, not requests: forwarding was the largest share of the gateway's CPU (bench:
    gateway profile), and a forwarded request needs none of requests' sessions, cookies, hooks or
    redirects.

    Every forwarded request carries the gateway's vouch (services/core/vouch.py) for exactly this
    method, path, body and token: the services act on nothing else."""
    headers = {k: v for k, v in request.headers.items()
               if k.lower() not in HOP_BY_HOP and k.lower() != VOUCH_HEADER.lower()}
    headers["X-Request-Id"] = request.environ["g1000.request_id"]
    claims = g.get("claims")
    target = target_of(request.path, request.query_string)
    headers["X-Forwarded-For"] = request.remote_addr or ""
    service = g.get("upstream") or "unknown"
    attempts = 3 if request.method in ("GET", "HEAD") else 1
    for attempt in range(attempts):
        # a fresh vouch per attempt: a GET retried after a timeout may have reached the service
        headers[VOUCH_HEADER] = sign_vouch(signer, method=request.method, target=target, body=request.get_data(),
                                           token_id=claims.token_id if claims else None, now=time.time())
        try:
            upstream = pool.request(
                request.method, base + request.full_path.rstrip("?"), headers=headers,
                body=request.get_data() or None, timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=False, redirect=False,
            )
            break
        except urllib3.exceptions.NewConnectionError:  # refused: a subclass of ConnectTimeoutError
            metrics.upstream_errors.labels(service, "unreachable").inc()
            if attempt == attempts - 1:
                return problem(502, "Bad Gateway", "the service is not reachable"), "unreachable"
        except urllib3.exceptions.TimeoutError:
            metrics.upstream_errors.labels(service, "timeout").inc()
            if attempt == attempts - 1:
                return problem(504, "Gateway Timeout", "the service did not answer in time"), "timeout"
        except urllib3.exceptions.HTTPError:
            metrics.upstream_errors.labels(service, "unreachable").inc()
            if attempt == attempts - 1:
                return problem(502, "Bad Gateway", "the service is not reachable"), "unreachable"
    if upstream.status >= 500:
        metrics.upstream_errors.labels(service, "status_5xx").inc()
    out = Response(upstream.data, status=upstream.status)
    if request.method == "HEAD" and "Content-Length" in upstream.headers:
        out.headers["Content-Length"] = upstream.headers["Content-Length"]  # of the GET it stands for
    copied: set[str] = set()
    for key, value in upstream.headers.items():  # a repeated header comes once per value
        lower = key.lower()
        if lower in HOP_BY_HOP or lower == "content-encoding":
            continue
        if lower in copied:
            out.headers.add(key, value)
        else:
            out.headers[key] = value
            copied.add(lower)
    return out, "answered"
