"""Wiring of one service: the only place where adapters (database, keys, Kafka) are built.

A service declares itself as a `ServiceSpec` (its stream, migration packages, blueprints, the
streams it consumes and the handler for them). `bootstrap` turns a spec and a config into a
`Runtime`; the Flask app, the outbox relay and the consumer are thin shells around a Runtime.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import marshmallow as ma
from flask import Blueprint, Flask, current_app, request

from . import jsonbody
from .auth import RUNTIME_EXTENSION, TokenKey
from .config import ServiceConfig
from .consumer import BatchHandler, EventConsumer, Handler
from .db import Database, ensure_database_of
from .errors import TransientError
from .event_catalog import CATALOG, PayloadCatalog
from .heads import heads_blueprint, outbox_backlog
from .kafka import broker_reachable, ensure_topics
from .provision import migrate_and_grant
from .problem import ProblemApi, install_error_handlers, problem
from .signing import DirectoryKeyring, Signer, load_or_create_signer
from .store import EventStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    migrations: tuple[str, ...]
    blueprints: Callable[[], list[Blueprint]] = lambda: []
    consumes: tuple[str, ...] = ()
    handler: Callable[["Runtime"], Handler] | None = None
    # optional: applies a whole verified batch at once (see EventConsumer)
    batch_handler: Callable[["Runtime"], BatchHandler] | None = None
    # loops the consume worker runs beside the consumer, each until its stop event is set
    background: Callable[["Runtime"], list[Callable[[threading.Event], None]]] = lambda rt: []
    # service-specific set-up of the Flask app (extensions, settings)
    configure_app: Callable[["Runtime", Flask], None] = lambda rt, app: None


@dataclass
class Runtime:
    spec: ServiceSpec
    config: ServiceConfig
    db: Database
    signer: Signer
    keyring: DirectoryKeyring
    catalog: PayloadCatalog = CATALOG
    store: EventStore = field(init=False)
    extras: dict = field(default_factory=dict)  # per-process state a service keeps (caches)

    def __post_init__(self) -> None:
        self.store = EventStore(self.db, self.signer, self.spec.name, self.catalog)

    def consumer(self) -> EventConsumer | None:
        if self.spec.handler is None:
            return None
        batch = self.spec.batch_handler(self) if self.spec.batch_handler else None
        return EventConsumer(self.db, f"{self.spec.name}-consumer", self.keyring, self.catalog,
                             self.spec.handler(self), batch)

    def consumed_topics(self) -> list[str]:
        return [self.config.topic_names[s] for s in self.spec.consumes]


def bootstrap(spec: ServiceSpec, config: ServiceConfig, *, pool_size: int = 8) -> Runtime:
    """Create the database if needed, apply migrations (as the owner role where one is configured,
    services/core/provision.py; a process whose schema is current runs none), load (or create)
    the signing key."""
    if config.migration_url:  # as the owner role; the pool below is the service's runtime role
        migrate_and_grant(config.migration_url, spec.migrations, spec.name, config.database_url,
                          config.db_timeouts)
    else:
        ensure_database_of(config.database_url)
    db = Database(config.database_url, max_size=pool_size, name=spec.name, timeouts=config.db_timeouts)
    db.open()
    db.migrate(*spec.migrations)
    signer = load_or_create_signer(config.key_file)
    return Runtime(spec, config, db, signer, DirectoryKeyring(config.trusted_keys_dir))


def prepare_broker(config: ServiceConfig) -> None:
    ensure_topics(config.kafka_bootstrap, list(config.topic_names.values()), config.partitions,
                  config.kafka_security)


def create_service_app(runtime: Runtime) -> Flask:
    """The Flask app of a service: its blueprints, health checks and problem+json errors."""
    spec = runtime.spec
    app = Flask(spec.name)
    app.config.update(
        API_TITLE=f"G1000 {spec.title}", API_VERSION="v1", OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
    )
    jsonbody.install(app)
    app.extensions[RUNTIME_EXTENSION] = runtime
    app.extensions["g1000_token_key"] = TokenKey(runtime.config.token_public_key_file)
    spec.configure_app(runtime, app)
    api = ProblemApi(app)
    for blueprint in spec.blueprints():
        api.register_blueprint(blueprint)
    install_error_handlers(app)
    app.register_blueprint(_health_blueprint(runtime))
    app.register_blueprint(_internal_blueprint())
    app.register_blueprint(heads_blueprint(runtime))
    return app


def _backlog_or_none(rt: Runtime):
    """The outbox backlog, or None when the database cannot say (health never raises)."""
    try:
        with rt.db.transaction() as conn:
            return outbox_backlog(conn)
    except TransientError:
        return None


def runtime() -> Runtime:
    """The Runtime of the service handling the current request."""
    return current_app.extensions[RUNTIME_EXTENSION]


def _health_blueprint(rt: Runtime) -> Blueprint:
    bp = Blueprint("health", __name__)
    broker_cache = {"ok": False, "at": 0.0}

    @bp.get("/healthz")
    def healthz():
        return {"status": "alive", "service": rt.spec.name}

    @bp.get("/readyz")
    def readyz():
        """Ready when the database answers and nothing waits on an unreachable broker.

        The web app only writes to its database (events wait in the outbox until the relay can
        publish), so a broker outage alone does not make it unready. But while the broker is
        unreachable *and* events wait, the log falls behind what this service has recorded
        (issue 10, M5): then the answer is 503 with the backlog, so an orchestrator and the
        gateway's readiness see it. The backlog is reported on every answer."""
        now = time.monotonic()
        if now - broker_cache["at"] > 2.0:
            broker_cache.update(ok=broker_reachable(rt.config.kafka_bootstrap, rt.config.kafka_security), at=now)
        checks = {"database": rt.db.ping(), "broker": broker_cache["ok"]}
        backlog = None
        if checks["database"]:
            backlog = _backlog_or_none(rt)
            checks["database"] = backlog is not None
        if not checks["database"]:
            return problem(503, "Service Unavailable", f"{rt.spec.name}: the database is not reachable",
                           headers={"Retry-After": "1"})
        outbox = backlog.as_dict()
        if not checks["broker"] and backlog.unpublished:
            return problem(503, "Service Unavailable",
                           f"{rt.spec.name}: the broker is not reachable and {backlog.unpublished} events"
                           " wait in the outbox: the log is behind", headers={"Retry-After": "1"},
                           extensions={"checks": checks, "outbox": outbox})
        body = {"status": "ready", "service": rt.spec.name, "checks": checks, "outbox": outbox}
        for extra in current_app.extensions.get("g1000_readiness_extras", []):
            body.update(extra())  # e.g. the ledger's log lag behind its producers (reported only)
        if not checks["broker"]:
            body["warnings"] = ["the broker is not reachable: new events wait in the outbox"]
        return body

    return bp


def _bearer_matches(expected_sha256: bytes | None) -> bool:
    if expected_sha256 is None:
        return False
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(hashlib.sha256(token.strip().encode()).digest(), expected_sha256)


def require_internal():
    """None for calls from the platform itself (relay control, quarantine), else 401."""
    rt = runtime()
    if _bearer_matches(rt.config.internal_token_sha256):
        return None
    return problem(401, "Unauthorized", "this endpoint is for operators of the platform",
                   headers={"WWW-Authenticate": 'Bearer realm="g1000-internal"'})


def _internal_blueprint() -> Blueprint:
    """Operator endpoints: not routed by the gateway, not part of the public API."""
    from .consumer import quarantined
    from .outbox import republish

    bp = Blueprint("internal", __name__, url_prefix="/internal")

    @bp.post("/outbox/republish")
    def republish_view():
        denied = require_internal()
        if denied:
            return denied
        body = request.get_json(silent=True)
        errors = _republish_errors(body)
        if errors:
            return problem(422, "Unprocessable Content", "invalid republish request", errors=errors)
        rt = runtime()
        count = republish(rt.db, rt.spec.name, str(body["summit_id"]).lower(), body["from_seq"])
        return {"stream": rt.spec.name, "summit_id": body["summit_id"], "from_seq": body["from_seq"],
                "queued": count}, 202

    @bp.get("/outbox/heads")
    def heads_view():
        """The last seq of every summit stream this service has recorded (for the ledger's
        reconciliation: a tail lost in transit shows as a producer ahead of the log)."""
        denied = require_internal()
        if denied:
            return denied
        rt = runtime()
        with rt.db.transaction() as conn:
            rows = conn.execute("SELECT stream, summit_id, last_seq FROM stream_heads WHERE stream = %s"
                                " ORDER BY summit_id", (rt.spec.name,)).fetchall()
        return {"heads": [{"stream": r[0], "summit_id": str(r[1]), "last_seq": r[2]} for r in rows]}

    @bp.get("/quarantine")
    def quarantine_view():
        denied = require_internal()
        if denied:
            return denied
        rt = runtime()
        return {"quarantine": quarantined(rt.db)}

    return bp


class RepublishSchema(ma.Schema):
    summit_id = ma.fields.UUID(required=True)
    from_seq = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1))


def _republish_errors(body) -> dict:
    if not isinstance(body, dict):
        return {"_schema": ["a JSON object is required"]}
    return RepublishSchema().validate(body)
