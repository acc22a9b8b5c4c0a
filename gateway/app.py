"""The gateway's Flask app: health, readiness of the whole stack, and routing of `/v1/...`.

This module assembles the parts; each lives in its own: the request pipeline (pipeline.py: every
`/v1` request is matched against the declared access matrix, authenticated, counted against one
rate-limit budget, judged by the matrix rule for the token's role and the path's summit, has its
Idempotency-Key claimed, and is only then answered), the forwarding to the owning service
(forwarding.py: urllib3, a timeout, retries for idempotent reads only, 502/504), the gateway's
own endpoints (tokens and check-in codes, auth_api.py; stream heads, heads.py), the token key and
the record of issued tokens (credentials.py), the public OpenAPI document and its HTML page
(openapi.py, docs_page.py), metrics (internal only) and access logs (observability.py). Every
error the gateway itself produces is RFC 9457 problem+json. Its state lives in its own database
(database.py).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Callable

import requests
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from services.core.db import Database
from services.core import jsonbody
from services.core.errors import ConfigError, TransientError
from services.core.problem import http_problem, problem
from services.core.registry import REGISTRY
from services.core.tokens import TokenVerifier

from . import docs_page
from .access import Policy
from .auth_api import auth as auth_blueprint
from .auth_api import summit_credentials as credentials_blueprint
from .arrivals import Arrivals
from .credentials import Credentials, token_signer
from .forwarding import connection_pool
from .heads import heads as heads_blueprint
from .heads import reported_backlog
from .database import open_gateway_database
from .idempotency import IdempotencyStore
from .observability import Metrics, TimedCache, access_logger, metrics_allowed
from .openapi import SpecCache, SpecConflictError, SpecUnavailableError
from .pipeline import Pipeline
from .ratelimit import RateLimiter
from .problems_page import GatewayProblemApi as ProblemApi  # also serves the /problems/<kind> pages
from .seats import Seats
from .settings import GatewaySettings, load_gateway_settings
from .summits import SummitDirectory

__all__ = ["create_app", "load_upstreams", "token_signer"]  # token_signer: for callers of gateway.app

log = logging.getLogger(__name__)

FORWARDED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def load_upstreams(env: dict | None = None) -> dict[str, str]:
    """Every registered service's base URL (services/core/registry.py), each required."""
    env = os.environ if env is None else env
    upstreams = {}
    for service in REGISTRY:
        url = env.get(service.url_env, "").rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{service.url_env} must be the http(s) URL of the {service.name} service")
        upstreams[service.name] = url
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
    session = requests.Session()
    session.trust_env = False  # no proxy/.netrc lookups per request: upstreams are given explicitly
    pipeline = _pipeline(db, settings, upstreams, session, timeout, clock)
    app.extensions.update({
        "g1000_gateway_db": db, "g1000_credentials": pipeline.credentials,
        "g1000_seats": Seats(session, upstreams["lottery"]), "g1000_summits": pipeline.directory,
        "g1000_arrivals": Arrivals(session, upstreams["ballot"], pipeline.signer),
        "g1000_heads_upstreams": (session, upstreams),
    })
    api = ProblemApi(app)
    for blueprint in (auth_blueprint, credentials_blueprint, heads_blueprint):
        api.register_blueprint(blueprint)
    app.before_request(pipeline.admit)
    app.after_request(pipeline.finish)
    app.teardown_request(pipeline.abandon)
    _status_views(app, db, session, upstreams, settings, clock, pipeline.metrics)
    _document_views(app, SpecCache(upstreams, session, local=api.spec.to_dict()))
    app.add_url_rule("/v1/<path:rest>", "forward", pipeline.answer, methods=FORWARDED_METHODS)
    _error_handlers(app)
    if settings.proxy_hops:
        # behind an ingress, the client's address is what the trusted proxies put in X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)
    return app


def _pipeline(db: Database, settings: GatewaySettings, upstreams: dict[str, str], session: requests.Session,
              timeout: float, clock: Callable[[], float]) -> Pipeline:
    """The request pipeline and everything its steps use, made once per app."""
    signer = token_signer(settings)
    credentials = Credentials(db, signer, ttl_seconds=settings.token_ttl_seconds,
                              chain_seconds=settings.token_chain_seconds, clock=clock)
    limiter = RateLimiter(db, per_token=settings.rate_limit_per_token,
                          per_address=settings.rate_limit_per_address, window_seconds=settings.rate_window_seconds,
                          per_check_in=settings.rate_limit_check_in, per_export=settings.rate_limit_export,
                          per_cast=settings.rate_limit_ballot)
    return Pipeline(
        db=db, settings=settings, policy=Policy(), verifier=TokenVerifier(signer.public_key),
        credentials=credentials, limiter=limiter, keys=IdempotencyStore(db, settings.idempotency_ttl_seconds),
        directory=SummitDirectory(session, upstreams["ledger"]), metrics=Metrics(), access=access_logger(),
        signer=signer, pool=connection_pool(), upstreams=upstreams, timeout=timeout, clock=clock,
    )


def _status_views(app: Flask, db: Database, session: requests.Session, upstreams: dict[str, str],
                  settings: GatewaySettings, clock: Callable[[], float], metrics: Metrics) -> None:
    """/healthz (this process), /readyz (the whole stack) and /metrics (internal only)."""

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


def _document_views(app: Flask, specs: SpecCache) -> None:
    """The public OpenAPI document, assembled from the services' (openapi.py), and its page."""

    @app.get("/openapi.json")
    def openapi_view():
        return specs.document()

    docs_page.install(app, specs.document)  # /docs (Swagger UI) and /docs/table


def _error_handlers(app: Flask) -> None:
    """What the gateway answers when something below it fails: always problem+json."""

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
