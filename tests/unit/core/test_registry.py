"""The services are declared once (issue 11, item 6): services/core/registry.py.

Everyone who needs the list reads it from there: the service configuration and its topics, the
Kafka adapter's streams, the ledger (what it consumes, whose producers it asks), the gateway's
upstreams, the processes `g1000 up` starts and the CLI's worker choices. So adding a service is
one new entry. The last tests read the tree's source (ast) and fail on any other literal that
lists every service: a second declaration that would drift from the first.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from services.core import registry
from services.core.registry import BY_NAME, REGISTRY, SERVICES, Service

REPO = Path(__file__).resolve().parents[3]
SCANNED = ("services", "gateway", "g1000", "bench", "deploy", "verifier")
NAMES = set(SERVICES)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir()
    env = {"G1000_DATA_DIR": str(data), "G1000_DATABASE_URL": "postgresql://g1000@db.example.org/postgres",
           "G1000_KAFKA_BOOTSTRAP": "kafka:9092", "G1000_TOPIC_PREFIX": "t9"}
    env.update({s.url_env: f"http://{s.name}.internal:8000/" for s in REGISTRY})
    return env


def test_the_registry_names_each_service_once_with_its_conventions():
    assert len(SERVICES) == len(NAMES) >= 4
    assert set(BY_NAME) == NAMES
    lottery = BY_NAME["lottery"]
    assert (lottery.stream, lottery.topic(), lottery.topic("t9")) == ("lottery", "g1000.lottery", "t9.lottery")
    assert (lottery.url_env, lottery.database_env, lottery.database) == (
        "G1000_LOTTERY_URL", "G1000_LOTTERY_DATABASE_URL", "g1000_lottery")


def test_each_entry_names_the_module_of_that_service():
    for service in REGISTRY:
        spec = importlib.import_module(service.app_module).SPEC
        assert spec.name == service.name
        assert callable(importlib.import_module(service.app_module).create_app)


def test_the_configuration_and_the_topics_come_from_the_registry(env):
    from services.core import config, kafka

    assert config.SERVICES == SERVICES
    assert kafka.STREAMS == registry.STREAMS == SERVICES
    for service in REGISTRY:
        loaded = config.load_config(service.name, env)
        assert loaded.topic_names == {s.stream: s.topic("t9") for s in REGISTRY}
        assert conninfo_to_dict(loaded.database_url)["dbname"] == service.database
        assert kafka.topic_for(service.stream, "t9") == service.topic("t9")


def test_the_ledger_consumes_every_stream_and_knows_every_producer(env):
    from services.core.config import load_config
    from services.ledger.app import SPEC
    from services.ledger.settings import load_ledger_settings

    assert tuple(SPEC.consumes) == registry.STREAMS
    settings = load_ledger_settings(load_config("ledger", env), env)
    assert settings.producer_urls == {s.name: f"http://{s.name}.internal:8000" for s in REGISTRY}


def test_the_gateway_routes_only_to_registered_services(env):
    from gateway.app import load_upstreams
    from gateway.routes import ROUTES

    assert set(load_upstreams(env)) == NAMES
    routed = {service for _, service in ROUTES} - {"gateway"}
    assert routed and routed <= NAMES
    missing = dict(env)
    del missing[BY_NAME["ballot"].url_env]
    from services.core.errors import ConfigError

    with pytest.raises(ConfigError, match="G1000_BALLOT_URL"):
        load_upstreams(missing)


def test_the_stack_starts_and_the_cli_offers_every_registered_service():
    from g1000.cli import _parser as build_parser
    from g1000.services import SERVICE_MODULES

    assert SERVICE_MODULES == {s.name: s.app_module for s in REGISTRY}
    for name in SERVICES:
        assert build_parser().parse_args(["worker", "relay", name]).service == name
    with pytest.raises(SystemExit):
        build_parser().parse_args(["worker", "relay", "gateway"])


def test_the_standalone_secrets_script_lists_the_registered_services():
    """deploy/k8s/make-secrets.py runs with Python and `cryptography` only, outside the project's
    environment, so it keeps its own tuple; it must equal the registry."""
    name = "g1000_make_secrets_registry"
    spec = importlib.util.spec_from_file_location(name, REPO / "deploy/k8s/make-secrets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    assert module.SERVICES == SERVICES


def test_every_registered_service_has_its_database_grants():
    """services/core/privileges.py states each service's own tables (and the gateway's): data per
    service, not a list of names, so it is checked against the registry rather than derived."""
    from services.core.privileges import PRIVILEGES, SEQUENCES

    assert set(PRIVILEGES) == set(SEQUENCES) == NAMES | {"gateway"}


def full_lists(source: str, names: set[str]) -> list[int]:
    """Lines of tuple, list or set literals, or of dict literals mapping names to constants (a
    table of names: modules, ports), that name every one of `names`. A dict whose values are
    per-service data (privileges.py's grants) is not a list of the services."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict) and all(isinstance(v, ast.Constant) for v in node.values):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        named = {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        if names <= named:
            found.append(node.lineno)
    return found


def test_no_other_module_lists_every_service():
    allowed = {REPO / "services/core/registry.py", REPO / "deploy/k8s/make-secrets.py"}  # the latter: above
    sources = [p for top in SCANNED for p in sorted((REPO / top).rglob("*.py")) if ".venv" not in p.parts]
    assert len(sources) > 100  # the scan read the tree
    offenders = {str(p.relative_to(REPO)): lines for p in sources if p not in allowed
                 for lines in [full_lists(p.read_text(), NAMES)] if lines}
    assert offenders == {}


def test_the_scan_catches_a_second_declaration():
    assert full_lists('S = ("ledger", "lottery", "agenda", "ballot")\n', NAMES) == [1]
    assert full_lists('M = {"ledger": 1, "lottery": 2,\n "agenda": 3, "ballot": 4}\n', NAMES) == [1]
    assert full_lists('G = {"ledger": A, "lottery": B, "agenda": C, "ballot": D}\n', NAMES) == []
    assert full_lists('if name in ("ledger", "agenda"):\n    pass\n', NAMES) == []
    assert full_lists(f"R = ({', '.join(repr(s.name) for s in REGISTRY)},)\n", NAMES) == [1]
    assert isinstance(REGISTRY[0], Service)
