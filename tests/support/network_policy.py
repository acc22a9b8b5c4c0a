"""A NetworkPolicy evaluator: which connections the policies of the namespace admit."""

from __future__ import annotations

from tests.support.deploy_tree import NAMESPACE, by_kind, pod_labels, workloads


def selector_matches(selector: dict, labels: dict) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Pod:
    def __init__(self, name: str, labels: dict, namespace: str | None = NAMESPACE, ns_labels: dict | None = None):
        self.name, self.labels, self.namespace = name, labels, namespace
        self.ns_labels = ns_labels if ns_labels is not None else {"kubernetes.io/metadata.name": namespace}

    def __repr__(self):
        return self.name


OUTSIDE = Pod("outside", {}, namespace=None, ns_labels={})  # a client beyond the cluster


def peer_matches(peer: dict, pod: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return pod.namespace is None and peer["ipBlock"]["cidr"] in ("0.0.0.0/0", "::/0")
    if pod.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], pod.ns_labels):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return selector_matches(peer.get("podSelector", {}), pod.labels)


def _port_matches(ports: list[dict] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def _allows(rules: list[dict], direction: str, peer: Pod, port: int, protocol: str, namespace: str) -> bool:
    for rule in rules:
        peers = rule.get("from" if direction == "ingress" else "to")
        if not _port_matches(rule.get("ports"), port, protocol):
            continue
        if not peers or any(peer_matches(p, peer, namespace) for p in peers):
            return True
    return False


def reachable(policies: list[dict], source: Pod, target: Pod, port: int, protocol: str = "TCP") -> bool:
    """Whether the NetworkPolicies of the namespace let `source` open `target`:`port`."""
    if source.namespace == NAMESPACE:
        selecting = [p for p in policies if selector_matches(p["spec"]["podSelector"], source.labels)
                     and "Egress" in p["spec"]["policyTypes"]]
        if selecting and not any(_allows(p["spec"].get("egress", []), "egress", target, port, protocol,
                                         NAMESPACE) for p in selecting):
            return False
    if target.namespace == NAMESPACE:
        selecting = [p for p in policies if selector_matches(p["spec"]["podSelector"], target.labels)
                     and "Ingress" in p["spec"]["policyTypes"]]
        if selecting and not any(_allows(p["spec"].get("ingress", []), "ingress", source, port, protocol,
                                         NAMESPACE) for p in selecting):
            return False
    return True


def namespace_pods(resources: list[dict]) -> dict[str, Pod]:
    """The G1000 pods and, with the labels their operators give them, the Kafka and PostgreSQL pods."""
    pods = {d["metadata"]["name"]: Pod(d["metadata"]["name"], pod_labels(d)) for d in workloads(resources)}
    kafka = by_kind(resources, "Kafka")[0]["metadata"]["name"]
    for pool in by_kind(resources, "KafkaNodePool"):
        roles = pool["spec"]["roles"]
        pods[f"kafka-{pool['metadata']['name']}"] = Pod("kafka", {
            "strimzi.io/cluster": kafka, "strimzi.io/kind": "Kafka", "strimzi.io/name": f"{kafka}-kafka",
            "strimzi.io/pool-name": pool["metadata"]["name"],
            "strimzi.io/broker-role": str("broker" in roles).lower(),
            "strimzi.io/controller-role": str("controller" in roles).lower()})
    pods["entity-operator"] = Pod("entity-operator", {
        "strimzi.io/cluster": kafka, "strimzi.io/kind": "Kafka", "strimzi.io/name": f"{kafka}-entity-operator"})
    cluster = by_kind(resources, "Cluster")[0]["metadata"]["name"]
    pods["postgres"] = Pod("postgres", {"cnpg.io/cluster": cluster, "cnpg.io/instanceRole": "primary",
                                        "cnpg.io/podRole": "instance"})
    return pods
