"""Secrets: none committed; what the manifests reference is what make-secrets.py makes, in the
right format, and each private key reaches only its own pods."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.deploy_tree import (
    K8S, OVERLAYS, SERVICES, by_kind, deployments, load_make_secrets, main_container, process_of, rendered,
)
from tests.support.kustomize import all_containers, load_docs, pod_spec


def test_no_secret_material_is_committed():
    """Secrets are referenced by name only; make-secrets.py creates them in the cluster."""
    for path in sorted(p for p in K8S.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        assert "-----BEGIN" not in text, f"{path}: PEM material"
        assert not re.search(r"PRIVATE\+KEY\+", text), f"{path}: a signed-note private key"
        if path.suffix in (".yaml", ".yml"):
            for doc in load_docs(path):
                if doc.get("kind") == "Secret":
                    assert not doc.get("data") and not doc.get("stringData"), f"{path}: Secret with data"
    for overlay in OVERLAYS:
        for resource in rendered(overlay):
            assert resource["kind"] != "Secret", f"{overlay}: Secret {resource['metadata']['name']} in the build"
            if resource["kind"] == "ConfigMap":
                for key, value in resource.get("data", {}).items():
                    assert not re.search(r"(?i)password|secret=|://[^/@\s]+:[^/@\s]+@", f"{key}={value}"), \
                        f"{overlay}: ConfigMap {resource['metadata']['name']} {key} looks secret"


def referenced_secrets(resources: list[dict]) -> dict[str, set[str]]:
    """Secret name -> the keys the build reads from it (empty set: the whole Secret)."""
    refs: dict[str, set[str]] = {}
    for deployment in deployments(resources):
        spec = pod_spec(deployment)
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                keys = {i["key"] for i in volume["secret"].get("items", [])}
                refs.setdefault(volume["secret"]["secretName"], set()).update(keys)
        for container in all_containers(deployment):
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.setdefault(ref["name"], set()).add(ref["key"])
    for cluster in by_kind(resources, "Cluster"):
        initdb = cluster["spec"]["bootstrap"]["initdb"]
        refs.setdefault(initdb["secret"]["name"], set()).update({"username", "password"})
        for role in cluster["spec"].get("managed", {}).get("roles", []):
            refs.setdefault(role["passwordSecret"]["name"], set()).update({"username", "password"})
    for store in by_kind(resources, "ObjectStore"):
        for ref in store["spec"]["configuration"]["s3Credentials"].values():
            refs.setdefault(ref["name"], set()).add(ref["key"])
    return refs


# made by CloudNativePG, by the object store's owner, and by Strimzi (cluster CA, one per KafkaUser)
OPERATOR_SECRETS = {"g1000-pg-ca", "g1000-backup-s3", "g1000-kafka-cluster-ca-cert", *(f"g1000-{s}" for s in SERVICES)}


def test_every_referenced_secret_is_made_by_make_secrets_or_an_operator(generated_secrets):
    make_secrets = load_make_secrets()
    made = {s.name for s in make_secrets.plan()}
    for overlay in OVERLAYS:
        refs = referenced_secrets(rendered(overlay))
        assert set(refs) == made | OPERATOR_SECRETS, overlay
        for name, keys in refs.items():
            assert keys <= set(generated_secrets[name]), f"{name}: {keys - set(generated_secrets[name])}"


def test_private_keys_reach_only_their_own_pods():
    for overlay in OVERLAYS:
        resources = rendered(overlay)
        for deployment in deployments(resources):
            kind, service = process_of(main_container(deployment))
            secrets = {v["secret"]["secretName"] for v in pod_spec(deployment)["volumes"] if "secret" in v}
            secrets |= {var["valueFrom"]["secretKeyRef"]["name"] for c in all_containers(deployment)
                        for var in c.get("env", []) if "secretKeyRef" in var.get("valueFrom", {})}
            signing = {s for s in secrets if s.endswith("-signing-key")}
            own = {f"g1000-{service}-signing-key"} if kind != "gateway" else set()
            assert signing == own, deployment["metadata"]["name"]
            assert ("g1000-log-key" in secrets) == (service == "ledger" and kind in ("web", "consume"))
            assert ("g1000-token-key" in secrets) == (kind == "gateway")
            assert ("g1000-internal-token" in secrets) == (kind == "web" or (service, kind) == ("ledger", "consume"))
            assert {s for s in secrets if s.startswith("g1000-db-")} == {f"g1000-db-{service}"}
            # a service's Kafka password (its KafkaUser's Secret) reaches its own pods only
            assert {s for s in secrets if s in {f"g1000-{x}" for x in SERVICES}} == \
                ({f"g1000-{service}"} if kind != "gateway" else set()), deployment["metadata"]["name"]
            for volume in pod_spec(deployment)["volumes"]:
                if volume.get("secret", {}).get("secretName") in ("g1000-pg-ca", "g1000-kafka-cluster-ca-cert"):
                    assert [i["key"] for i in volume["secret"]["items"]] == ["ca.crt"], "never the CA's key"
                if "secret" in volume:
                    assert volume["secret"].get("defaultMode") == 0o440


def test_make_secrets_writes_the_projects_key_formats(tmp_path):
    from g1000_proofs.note_keys import make_verifier_key
    from services.core.signing import load_signer, read_public_key
    from services.ledger.checkpoints import LogKey

    make_secrets = load_make_secrets()
    out = tmp_path / "secrets"
    ids = make_secrets.generate(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for name in (*SERVICES, "tokens"):
        directory = "keys" if name in SERVICES else "tokens"
        signer = load_signer(out / directory / f"{name}.key")
        assert read_public_key(out / directory / f"{name}.pub") == signer.public_key
        assert ids[name] == signer.key_id
    key = LogKey.load(out / "log" / "checkpoint.key", "g1000.example.org")
    assert read_public_key(out / "log" / "checkpoint.pub") == key.public_key()
    summit = "0b5c3c1e-2f7a-4d53-9b9e-1d2f3a4b5c6d"
    expected = key.verifier_key(summit)
    assert expected == make_verifier_key(f"g1000.example.org/g1000/{summit}", key.public_key())
    assert make_secrets.verifier_key("g1000.example.org", summit, key.public_key()) == expected
    assert len((out / "internal" / "internal.token").read_text().strip()) >= 20
    with pytest.raises(SystemExit):
        make_secrets.generate(out)  # never overwrites
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    with pytest.raises(SystemExit, match="git work tree"):
        make_secrets.generate(tmp_path / "repo" / "deploy" / "secrets")  # keys never land in a repository
    assert not (tmp_path / "repo" / "deploy").exists()
    for command in make_secrets.kubectl_commands(out, "g1000"):
        assert command[:4] == ["kubectl", "create", "secret", "generic"]  # create: fails if it exists
        for arg in command:
            if arg.startswith("--from-file="):
                assert Path(arg.split("=", 2)[2]).is_file(), arg
            assert "PRIVATE KEY" not in arg


def test_make_secrets_command_line(tmp_path):
    import sys

    script = K8S / "make-secrets.py"
    assert os.access(script, os.X_OK)
    out = subprocess.run([sys.executable, str(script), "generate", "--out", str(tmp_path / "s"),
                          "--namespace", "g1000"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("kubectl create secret generic") == len(load_make_secrets().plan()) + 1
    assert "BEGIN" not in out.stdout
    key = subprocess.run([sys.executable, str(script), "verifier-key", "--log-public-key",
                          str(tmp_path / "s" / "log" / "checkpoint.pub"), "--log-host", "g1000.example.org",
                          "--summit", "s1"], capture_output=True, text=True, timeout=60)
    assert key.returncode == 0 and re.fullmatch(r"g1000\.example\.org/g1000/s1\+[0-9a-f]{8}\+\S+\n", key.stdout)
