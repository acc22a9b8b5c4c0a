"""Worker processes of a service: the outbox relay and the event consumer.

Run as `g1000 worker relay SERVICE` / `g1000 worker consume SERVICE`; configured by the same
environment as the service's web process; stop cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading

from services.core.config import load_config
from services.core.outbox import OutboxRelay
from services.core.runtime import bootstrap

from .services import spec_for

log = logging.getLogger(__name__)


def run_worker(kind: str, service: str) -> int:
    spec = spec_for(service)
    config = load_config(service)
    rt = bootstrap(spec, config, pool_size=2)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if kind == "relay":
            OutboxRelay(rt.db, spec.name, config.kafka_bootstrap, topic_prefix=config.topic_prefix,
                        security=config.kafka_security).run(stop)
        elif kind == "consume":
            loops = [threading.Thread(target=loop, args=(stop,), name=f"{service}-bg", daemon=True)
                     for loop in spec.background(rt)]
            for thread in loops:
                thread.start()
            consumer = rt.consumer()
            if consumer is None:
                log.info("%s consumes nothing", service)
                stop.wait()
            else:
                consumer.run(config.kafka_bootstrap, rt.consumed_topics(), stop,
                             max_poll_interval_ms=config.max_poll_interval_ms, security=config.kafka_security)
        else:
            raise ValueError(kind)
    finally:
        rt.db.close()
    return 0
