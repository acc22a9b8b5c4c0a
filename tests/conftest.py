"""Session fixtures: the real PostgreSQL and Kafka-protocol broker every integration test uses.

`G1000_DATABASE_URL` / `G1000_KAFKA_BOOTSTRAP` point the suite at external servers; otherwise it
starts the embedded PostgreSQL and the bundled broker on free loopback ports and stops them (by
pid) at the end. Each test gets its own databases and topic prefix, so tests never see each
other's rows or messages.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_server_url():
    external = os.environ.get("G1000_DATABASE_URL")
    if external:
        yield external
        return
    from g1000.embedded import EmbeddedPostgres

    root = Path(tempfile.mkdtemp(prefix="g1000-test-pg-"))
    server = EmbeddedPostgres(root / "pg", fast_unsafe=True).start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def database_roles(database_server_url):
    """The owner role and the runtime roles (g1000/dbroles.py), made once per session with the
    administrator's URL. On an outside server (G1000_DATABASE_URL, which needs CREATEROLE) their
    names carry a per-session prefix, so that concurrent sessions never reset each other's."""
    from g1000.dbroles import provision_local_roles

    prefix = f"t{uuid.uuid4().hex[:6]}_" if os.environ.get("G1000_DATABASE_URL") else ""
    return provision_local_roles(database_server_url, None, prefix)


@pytest.fixture(scope="session")
def kafka_bootstrap():
    external = os.environ.get("G1000_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    from g1000.embedded import EmbeddedBroker

    root = Path(tempfile.mkdtemp(prefix="g1000-test-broker-"))
    broker = EmbeddedBroker().start(root / "broker.log")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def service_env(database_server_url, database_roles, kafka_bootstrap, tmp_path):
    """Environment for services of one test: own databases, own topics, own keys and tokens.

    As on a real stack, each service (and the gateway) connects as its own least-privileged role
    and the migrations run as the owner role (G1000_MIGRATION_DATABASE_URL). G1000_DATABASE_URL
    stays the administrator's: tests that act below the services (damage a store) use it."""
    from services.core.db import database_url
    from services.core.signing import load_or_create_signer

    tag = uuid.uuid4().hex[:10]
    data_dir = tmp_path / "data"
    (data_dir / "keys").mkdir(parents=True)
    (data_dir / "secrets").mkdir()
    internal = data_dir / "secrets" / "internal.token"
    internal.write_text("test-internal-token-" + uuid.uuid4().hex)
    load_or_create_signer(data_dir / "secrets" / "tokens.key")  # and tokens.pub, which services read
    env = {
        "G1000_DATA_DIR": str(data_dir),
        "G1000_DATABASE_URL": database_server_url,
        "G1000_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "G1000_TOPIC_PREFIX": f"t{tag}",
        "G1000_KAFKA_PARTITIONS": "2",
        "G1000_MAX_POLL_INTERVAL_MS": "2000",
        "G1000_INTERNAL_TOKEN_FILE": str(internal),
    }
    env["G1000_MIGRATION_DATABASE_URL"] = database_roles.owner_url
    for service in ("ledger", "lottery", "agenda", "ballot", "gateway"):
        env[f"G1000_{service.upper()}_DATABASE_URL"] = database_url(database_roles.runtime_urls[service],
                                                                   f"t{tag}_{service}")
    return env
