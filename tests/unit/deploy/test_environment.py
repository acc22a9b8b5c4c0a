"""Environment: every variable is read by the code, every process gets what it needs and starts
with its configuration."""

from __future__ import annotations

import inspect
import re
import stat
from pathlib import Path

import pytest

from tests.support.deploy_tree import (
    OVERLAYS, REPO, SERVICES, by_kind, container_env, deployments, labels_match, main_container, pod_labels,
    PodFiles, process_of, rendered, workloads,
)
from tests.support.kustomize import all_containers, pod_spec


ROLES = ("ORGANISER", "FACILITATOR", "PARTICIPANT", "AUDITOR")


def names_read_by_the_code() -> list[re.Pattern]:
    """G1000_* names the code reads, as patterns (f-string parts become service or role names)."""
    placeholder = "(" + "|".join([s.upper() for s in (*SERVICES, "gateway")] + list(ROLES)) + ")"
    patterns = set()
    for root in ("services", "gateway", "g1000"):
        for path in (REPO / root).rglob("*.py"):
            for match in re.finditer(r"G1000_[A-Z0-9_]*(?:\{[^{}]*\}[A-Z0-9_]*)*", path.read_text()):
                patterns.add(re.sub(r"\\\{[^{}]*\\\}", placeholder, re.escape(match.group(0))))
    return [re.compile(p) for p in patterns]


def test_every_variable_a_container_sets_is_read_by_the_code():
    import gunicorn.config
    import prometheus_client.values

    read = names_read_by_the_code()
    others = {
        "PGPASSWORD": "libpq (the PostgreSQL client library under psycopg) reads it",
        "WEB_CONCURRENCY": inspect.getsource(gunicorn.config),
        "PROMETHEUS_MULTIPROC_DIR": inspect.getsource(prometheus_client.values)
                                    + (REPO / "gateway" / "observability.py").read_text(),
    }
    for overlay in OVERLAYS:
        resources = rendered(overlay)
        for deployment in workloads(resources):
            for container in all_containers(deployment):
                for name in container_env(resources, container):
                    where = f"{overlay}: {deployment['metadata']['name']}/{container['name']}: {name}"
                    if name.startswith("G1000_"):
                        assert any(p.fullmatch(name) for p in read), f"{where}: no code reads it"
                    else:
                        assert name in others and (name == "PGPASSWORD" or name in others[name]), where


# What each process needs set on Kubernetes: what its loaders require, plus every path whose
# default lies in G1000_DATA_DIR (there a missing key would be created afresh, or not be found).
def required_env(kind: str, service: str) -> set[str]:
    if kind == "gateway":
        return {"G1000_GATEWAY_DATABASE_URL", "PGPASSWORD", "G1000_TOKEN_KEY_FILE", "PROMETHEUS_MULTIPROC_DIR",
                "WEB_CONCURRENCY", *(f"G1000_{s.upper()}_URL" for s in SERVICES)}
    need = {"G1000_DATA_DIR", "G1000_DATABASE_URL", f"G1000_{service.upper()}_DATABASE_URL", "PGPASSWORD",
            "G1000_KAFKA_BOOTSTRAP", "G1000_KEY_FILE", "G1000_TRUSTED_KEYS_DIR", "G1000_TOKEN_PUBLIC_KEY_FILE",
            "G1000_TOPIC_PREFIX", "G1000_KAFKA_PARTITIONS", "G1000_MAX_POLL_INTERVAL_MS"}
    if kind == "web":
        need |= {"G1000_INTERNAL_TOKEN_FILE", "WEB_CONCURRENCY"}
    if service == "ledger" and kind in ("web", "consume"):
        need |= {"G1000_LOG_HOST", "G1000_LOG_KEY_FILE", "G1000_CHECKPOINT_ENTRIES", "G1000_CHECKPOINT_SECONDS"}
    if service == "ledger" and kind == "consume":
        need |= {"G1000_INTERNAL_TOKEN_FILE", *(f"G1000_{s.upper()}_URL" for s in SERVICES)}
    return need


# Where `g1000 up` gives a process a variable that the Kubernetes pod sets differently.
STACK_SUBSTITUTES = {
    ("gateway", "G1000_DATA_DIR"): "G1000_TOKEN_KEY_FILE",  # the only path the gateway takes from it
    ("gateway", "G1000_DATABASE_URL"): "G1000_GATEWAY_DATABASE_URL",
    ("gateway", "G1000_KAFKA_BOOTSTRAP"): None,  # the gateway never talks to Kafka
    ("gateway", "G1000_INTERNAL_TOKEN_FILE"): None,  # nor to /internal
    ("gateway", "G1000_MAX_POLL_INTERVAL_MS"): None,
    ("gateway", "G1000_CHECKPOINT_SECONDS"): None,
    ("service", "G1000_TOKEN_KEY_FILE"): "G1000_TOKEN_PUBLIC_KEY_FILE",  # services verify, never sign
    ("relay", "G1000_INTERNAL_TOKEN_FILE"): None,  # relays serve and call no /internal endpoint
    ("consume", "G1000_INTERNAL_TOKEN_FILE"): None,  # only the ledger's consumer calls producers
    ("service", "G1000_URLS"): None,  # only the ledger's consumer calls other services
    ("service", "G1000_CHECKPOINT_SECONDS"): None,  # the ledger's setting
}


def test_the_pods_set_what_the_local_stack_sets_or_a_documented_substitute(tmp_path):
    from g1000.stack import Stack

    child = Stack(tmp_path, env={}).child_env("postgresql://u@localhost/postgres", "localhost:9092")
    child = {k for k in child if k.startswith("G1000_")}
    child |= {f"G1000_{s.upper()}_URL" for s in SERVICES}
    assert {"G1000_DATA_DIR", "G1000_DATABASE_URL", "G1000_KAFKA_BOOTSTRAP", "G1000_TOKEN_KEY_FILE",
            "G1000_INTERNAL_TOKEN_FILE"} <= child
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "PYTHONUNBUFFERED=1" in dockerfile  # the stack's other setting lives in the image
    for kind, service in [("gateway", "gateway")] + [(k, s) for s in SERVICES for k in ("web", "relay", "consume")]:
        need = required_env(kind, service)
        for name in child:
            if name in need:
                continue
            url = name.endswith("_URL") and name != "G1000_DATABASE_URL"
            keys = [(kind, name), ("gateway" if kind == "gateway" else "service", "G1000_URLS" if url else name)]
            if kind == "consume" and service == "ledger" and name == "G1000_INTERNAL_TOKEN_FILE":
                keys = []
            documented = [STACK_SUBSTITUTES[k] for k in keys if k in STACK_SUBSTITUTES]
            assert documented, f"{kind} {service}: `g1000 up` sets {name}; the pod neither sets it nor a substitute"
            assert documented[0] is None or documented[0] in need, (kind, service, name)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_gets_the_variables_it_needs(overlay):
    resources = rendered(overlay)
    for deployment in deployments(resources):
        container = main_container(deployment)
        kind, service = process_of(container)
        env = container_env(resources, container)
        missing = required_env(kind, service) - set(env)
        assert not missing, f"{overlay}: {deployment['metadata']['name']} lacks {sorted(missing)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_starts_with_its_configuration(overlay, tmp_path, generated_secrets):
    """The project's own loaders accept each pod's environment, and every key they name is there
    (copied 0600 by the init container, in the format services/core/signing.py reads): none
    would be created afresh."""
    from psycopg.conninfo import conninfo_to_dict

    from gateway.app import load_upstreams
    from gateway.settings import load_gateway_settings
    from services.core.config import load_config
    from services.core.signing import DirectoryKeyring, load_signer, read_public_key
    from services.ledger.checkpoints import LogKey
    from services.ledger.settings import load_ledger_settings

    resources = rendered(overlay)
    services = {s["metadata"]["name"]: s for s in by_kind(resources, "Service")}
    kafka = by_kind(resources, "Kafka")[0]
    listener = kafka["spec"]["kafka"]["listeners"][0]
    topics = {t["spec"]["topicName"]: t for t in by_kind(resources, "KafkaTopic")}
    cluster = by_kind(resources, "Cluster")[0]["metadata"]["name"]
    public = {s: bytes.fromhex(generated_secrets["g1000-trusted-keys"][f"{s}.pub"].decode()) for s in SERVICES}
    tokens_pub = bytes.fromhex(generated_secrets["g1000-token-key"]["tokens.pub"].decode())

    def secret_value(name, key):
        return generated_secrets[name][key].decode()

    def check_database(url: str, name: str, files: PodFiles, container: dict) -> None:
        params = conninfo_to_dict(url)
        assert params["host"] == f"{cluster}-rw" and params["dbname"] == f"g1000_{name}", url
        assert params["user"] == f"g1000_svc_{name}" and "password" not in params, url
        assert params["sslmode"] == "verify-full" and Path(params["sslrootcert"]).is_file(), url

    for deployment in deployments(resources):
        container = main_container(deployment)
        kind, service = process_of(container)
        files = PodFiles(tmp_path / overlay / deployment["metadata"]["name"], resources, deployment,
                         generated_secrets)
        before = sorted(p for p in files.root.rglob("*"))
        env = files.localise(container, container_env(resources, container, secret_value))
        for key, value in container_env(resources, container).items():
            if key.endswith(("_FILE", "_DIR")) and value.startswith("/"):
                read_only = files.mount_of(container, value).get("readOnly", False)
                assert read_only or key in ("G1000_DATA_DIR", "PROMETHEUS_MULTIPROC_DIR"), \
                    f"{deployment['metadata']['name']}: {key} should be on a read-only mount"
        if kind == "gateway":
            settings = load_gateway_settings(env)
            upstreams = load_upstreams(env)
            assert settings.token_key_file.is_file()
            signer = load_signer(settings.token_key_file)  # refuses a file others can read
            assert signer.public_key == tokens_pub
            assert settings.token_key_file.with_suffix(".pub").is_file()  # else the gateway writes it
            check_database(settings.database_url, "gateway", files, container)
            assert settings.migration_url is None, "the owner's URL reaches the migration Job only"
            metrics = files.mount_of(container, container_env(resources, container)["PROMETHEUS_MULTIPROC_DIR"])
            assert any(v["name"] == metrics["name"] and "emptyDir" in v for v in pod_spec(deployment)["volumes"])
            _check_upstreams(upstreams, services, resources)
        else:
            config = load_config(service, env)
            assert config.migration_url is None, "the owner's URL reaches the migration Job only"
            assert config.key_file.is_file(), f"{service} {kind}: no signing key at {config.key_file}"
            assert stat.S_IMODE(config.key_file.stat().st_mode) == 0o600
            signer = load_signer(config.key_file)
            assert signer.public_key == public[service]
            keyring = DirectoryKeyring(config.trusted_keys_dir)
            assert {(k.stream, k.public_key) for k in keyring.keys()} == {(s, public[s]) for s in SERVICES}
            assert read_public_key(config.token_public_key_file) == tokens_pub
            check_database(config.database_url, service, files, container)
            host, port = config.kafka_bootstrap.rsplit(":", 1)
            assert (host, int(port)) == (f"{kafka['metadata']['name']}-kafka-bootstrap", listener["port"])
            assert set(config.topic_names.values()) == set(topics)
            assert {t["spec"]["partitions"] for t in topics.values()} == {config.partitions}
            assert config.max_poll_interval_ms >= 6000, "Kafka refuses sessions under 6 s by default"
            internal = kind == "web" or (service, kind) == ("ledger", "consume")
            assert (config.internal_token_sha256 is not None) == internal, (service, kind)
            if service == "ledger" and kind in ("web", "consume"):
                settings = load_ledger_settings(config, env)
                assert settings.log_key_file.is_file(), "the log key would be created afresh"
                LogKey.load(settings.log_key_file, settings.log_host)
                if kind == "consume":
                    assert set(settings.producer_urls) == set(SERVICES)
                    _check_upstreams(settings.producer_urls, services, resources)
        after = sorted(p for p in files.root.rglob("*"))
        assert after == before, f"{deployment['metadata']['name']}: loading the configuration created files"


def _check_upstreams(urls: dict, services: dict, resources: list[dict]) -> None:
    """Every service URL names a Service whose port leads to that service's web app."""
    for name, url in urls.items():
        match = re.fullmatch(r"http://([a-z0-9-]+)(?::(\d+))?", url)
        assert match, url
        service = services[match.group(1)]
        port = int(match.group(2) or 80)
        (entry,) = [p for p in service["spec"]["ports"] if p["port"] == port]
        targets = [d for d in deployments(resources) if labels_match(service["spec"]["selector"], pod_labels(d))]
        assert len(targets) == 1 and process_of(main_container(targets[0])) == ("web", name), url
        assert entry["targetPort"] in {p["name"] for p in main_container(targets[0])["ports"]}
