"""Wiring of the ledger service (gunicorn: `services.ledger.app:create_app()`).

The consume worker appends every stream to the summit logs and runs two loops beside it: the
checkpointer (signs checkpoints as logs grow) and the gap filler (asks producers to re-publish).
"""

from __future__ import annotations

import logging
import threading

from services.core.config import SERVICES, load_config
from services.core.errors import CoreError
from services.core.problem import problem
from services.core.runtime import Runtime, ServiceSpec, bootstrap, create_service_app

from .errors import DamagedStoreError

log = logging.getLogger(__name__)


def _blueprints():
    from .api import blp as summits
    from .logs_api import blp as logs

    return [summits, logs]


def _writer(rt: Runtime):
    from .log import LogWriter

    if "log_writer" not in rt.extras:
        rt.extras["log_writer"] = LogWriter()  # one per process: it caches the Merkle frontiers
    return rt.extras["log_writer"]


def _configure(rt: Runtime, app) -> None:
    from .checkpoints import LogKey
    from .settings import load_ledger_settings

    settings = load_ledger_settings(rt.config)
    app.extensions["g1000_log_key"] = LogKey.load(settings.log_key_file, settings.log_host)
    app.extensions["g1000_ledger_settings"] = settings
    _install_lag(rt, app, settings)

    @app.errorhandler(DamagedStoreError)
    def _damaged(e: DamagedStoreError):
        log.error("%s", e)
        return problem(503, "Log Store Damaged", f"{e}; the operator must restore it from a backup"
                       " (auditors' copies and checkpoints show what it held)")


def _install_lag(rt: Runtime, app, settings) -> None:
    """The log's lag behind its producers in /readyz and /metrics (services/ledger/lag.py)."""
    from .gaps import HttpHeads
    from .lag import LogLag

    producers = {s: url for s, url in settings.producer_urls.items() if s != rt.spec.name}  # own: local
    lag = LogLag(rt.db, HttpHeads(producers, _internal_token(rt), timeout=1.0), stream=rt.spec.name)
    app.extensions.setdefault("g1000_metrics_collectors", []).append(lag)
    app.extensions.setdefault("g1000_readiness_extras", []).append(lag.readiness)


def _background(rt: Runtime):
    from .checkpoints import LogKey, checkpoint_due_logs
    from .gaps import HttpHeads, HttpRepublisher, TailReconciler, fill_gaps
    from .settings import load_ledger_settings

    settings = load_ledger_settings(rt.config)
    key = LogKey.load(settings.log_key_file, settings.log_host)
    token = _internal_token(rt)
    republish = HttpRepublisher(settings.producer_urls, token)
    tails = TailReconciler(rt.db, HttpHeads(settings.producer_urls, token))

    def every(seconds: float, step, name: str):
        def loop(stop: threading.Event) -> None:
            while not stop.wait(seconds):
                try:
                    step()
                except CoreError as e:
                    log.warning("%s: %s", name, e)
        return loop

    return [
        every(min(1.0, settings.checkpoint_seconds),
              lambda: checkpoint_due_logs(rt.db, key, settings.checkpoint_entries, settings.checkpoint_seconds),
              "checkpointer"),
        every(1.0, lambda: fill_gaps(rt.db, republish), "gap filler"),
        every(10.0, tails.run_once, "tail reconciler"),
    ]


def _internal_token(rt: Runtime) -> str:
    import os
    from pathlib import Path

    path = os.environ.get("G1000_INTERNAL_TOKEN_FILE")
    return Path(path).read_text().strip() if path else ""


SPEC = ServiceSpec(
    name="ledger", title="Ledger", migrations=("services.core", "services.ledger"),
    blueprints=_blueprints, consumes=SERVICES, background=_background,
    handler=lambda rt: _writer(rt).ingest, batch_handler=lambda rt: _writer(rt).ingest_batch,
    configure_app=_configure,
)


def create_app(config=None):
    return create_service_app(bootstrap(SPEC, config or load_config("ledger")))
