"""Fixtures of the deploy tests."""

from __future__ import annotations

import pytest

from tests.support.deploy_tree import SERVICES, load_make_secrets


@pytest.fixture(scope="module")
def generated_secrets(tmp_path_factory):
    """make-secrets.py's output: secret name -> {data key: bytes}."""
    make_secrets = load_make_secrets()
    out = tmp_path_factory.mktemp("secrets") / "out"
    make_secrets.generate(out)
    data = {}
    for spec in make_secrets.plan():
        data[spec.name] = {k: (out / rel).read_bytes() for k, rel in spec.files.items()}
        data[spec.name].update({k: v.encode() for k, v in spec.literals.items()})
    # made by CloudNativePG (the server's CA) and by the operator (object store credentials)
    data["g1000-pg-ca"] = {"ca.crt": b"-----BEGIN CERTIFICATE-----\n(test)\n", "ca.key": b"(never mounted)"}
    data["g1000-backup-s3"] = {"ACCESS_KEY_ID": b"id", "ACCESS_SECRET_KEY": b"secret"}
    # made by Strimzi: the cluster CA's certificate (Cluster Operator), each KafkaUser's password
    data["g1000-kafka-cluster-ca-cert"] = {"ca.crt": b"-----BEGIN CERTIFICATE-----\n(test)\n",
                                           "ca.p12": b"(never mounted)", "ca.password": b"(never mounted)"}
    for service in SERVICES:
        data[f"g1000-{service}"] = {"password": f"scram-{service}".encode(), "sasl.jaas.config": b"(never mounted)"}
    return data
