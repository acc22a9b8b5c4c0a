"""NetworkPolicies: default deny, and exactly the connections the design needs."""

from __future__ import annotations

import pytest

from tests.support.deploy_tree import (
    NAMESPACE, OVERLAYS, SERVICES, by_kind, main_container, one, process_of, rendered,
)
from tests.support.network_policy import (
    OUTSIDE, namespace_pods, peer_matches, Pod, reachable, selector_matches,
)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_cover_every_pod(overlay):
    resources = rendered(overlay)
    policies = by_kind(resources, "NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {}
            and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny, "a default-deny policy for the whole namespace"
    for pod in namespace_pods(resources).values():
        allowing = [p for p in policies if p not in deny and selector_matches(p["spec"]["podSelector"], pod.labels)]
        assert any("Egress" in p["spec"]["policyTypes"] for p in allowing), f"{pod}: no egress rule"
        assert any(p["spec"]["podSelector"] != {} for p in allowing), f"{pod}: no policy of its own"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_exactly_the_designed_connections(overlay):
    resources = rendered(overlay)
    policies = by_kind(resources, "NetworkPolicy")
    pods = namespace_pods(resources)
    migrate = pods.pop("g1000-migrate")
    app = {n: p for n, p in pods.items() if n.startswith("g1000-")}
    web = {s: pods[f"g1000-{s}"] for s in SERVICES}
    gateway, postgres = pods["g1000-gateway"], pods["postgres"]
    brokers = [p for n, p in pods.items() if n.startswith("kafka-") and p.labels["strimzi.io/broker-role"] == "true"]
    kafka_port = by_kind(resources, "Kafka")[0]["spec"]["kafka"]["listeners"][0]["port"]
    dns = Pod("kube-dns", {"k8s-app": "kube-dns"}, namespace="kube-system")
    operator = Pod("cnpg-operator", {"app.kubernetes.io/name": "cloudnative-pg"}, namespace="cnpg-system")
    internet = Pod("internet", {}, namespace=None, ns_labels={})

    assert reachable(policies, OUTSIDE, gateway, 8000)
    for pod in pods.values():
        if pod is not gateway:
            for port in (80, 5432, 8000, kafka_port):
                assert not reachable(policies, OUTSIDE, pod, port), f"outside -> {pod}:{port}"
    for name, pod in app.items():
        kind, service = process_of(main_container(one(resources, "Deployment", name)))
        assert reachable(policies, pod, dns, 53, "UDP") and reachable(policies, pod, dns, 53, "TCP"), name
        assert reachable(policies, pod, postgres, 5432), f"{name} -> PostgreSQL"
        assert not reachable(policies, pod, internet, 443), f"{name} -> the internet"
        for broker in brokers:
            assert reachable(policies, pod, broker, kafka_port) == (kind != "gateway"), f"{name} -> Kafka"
        for target_service, target in web.items():
            may = kind == "gateway" or (service, kind) == ("ledger", "consume")
            assert reachable(policies, pod, target, 8000) == may, f"{name} -> {target_service} web app"
        for other_name, other in app.items():
            if other_name not in {f"g1000-{s}" for s in SERVICES}:
                assert not reachable(policies, pod, other, 8000), f"{name} -> {other_name}"
    # the migration Job reaches PostgreSQL and DNS only, and nothing reaches it
    assert reachable(policies, migrate, postgres, 5432) and reachable(policies, migrate, dns, 53, "UDP")
    assert not reachable(policies, migrate, internet, 443)
    for target in [*brokers, *web.values(), gateway]:
        for port in (8000, 9092):
            assert not reachable(policies, migrate, target, port), f"migrate -> {target}:{port}"
    for source in [OUTSIDE, *app.values(), postgres]:
        assert not reachable(policies, source, migrate, 8000), f"{source} -> migrate"
    # the operators' pods keep what they need
    assert reachable(policies, postgres, postgres, 5432) and reachable(policies, operator, postgres, 8000)
    assert reachable(policies, postgres, internet, 443), "backups to the object store, the Kubernetes API"
    for broker in brokers:
        assert reachable(policies, broker, broker, 9091) and reachable(policies, broker, broker, 9090)
        assert reachable(policies, pods["entity-operator"], broker, 9091)
        assert not reachable(policies, broker, internet, kafka_port)
    # Strimzi's own policy for the listener admits the same clients
    peers = by_kind(resources, "Kafka")[0]["spec"]["kafka"]["listeners"][0]["networkPolicyPeers"]
    for name, pod in app.items():
        kind, _ = process_of(main_container(one(resources, "Deployment", name)))
        assert any(peer_matches(p, pod, NAMESPACE) for p in peers) == (kind != "gateway"), name
