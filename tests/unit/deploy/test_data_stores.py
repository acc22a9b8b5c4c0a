"""Kafka and PostgreSQL against the configuration."""

from __future__ import annotations

import inspect
import re

import pytest

from tests.support.deploy_tree import (
    OVERLAYS, REPO, SERVICES, by_kind, configmaps, container_env, deployments, main_container, process_of,
    rendered,
)
from tests.support.kustomize import pod_spec


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_broker_authenticates_and_each_service_may_publish_only_its_own_stream(overlay):
    """issue 10 L6: without broker authentication anyone who reached the listener could publish
    forged events (quarantined, but filling the public quarantine list). Every listener must
    authenticate, the simple authorizer must be on, and each service's KafkaUser may write only
    its own stream's topic, read only what it consumes, in its own consumer group."""
    from services.core.kafka import topic_for
    from g1000.services import spec_for

    resources = rendered(overlay)
    kafka = by_kind(resources, "Kafka")[0]
    for listener in kafka["spec"]["kafka"]["listeners"]:
        assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512", listener["name"]
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert "userOperator" in kafka["spec"]["entityOperator"]
    users = {u["metadata"]["name"]: u for u in by_kind(resources, "KafkaUser")}
    assert set(users) == {f"g1000-{s}" for s in SERVICES}
    for service in SERVICES:
        user = users[f"g1000-{service}"]
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        grants: dict[tuple[str, str], set[str]] = {}
        for acl in user["spec"]["authorization"]["acls"]:
            assert acl.get("type", "allow") == "allow" and acl["resource"]["patternType"] == "literal", acl
            grants.setdefault((acl["resource"]["type"], acl["resource"]["name"]), set()).update(acl["operations"])
        consumes = set(spec_for(service).consumes)
        expected = {("topic", topic_for(s)): {"Read", "Describe"} for s in consumes}
        expected.setdefault(("topic", topic_for(service)), {"Describe"}).add("Write")
        expected[("group", f"{service}-consumer")] = {"Read", "Describe"}
        assert grants == expected, service
    for deployment in deployments(resources):
        container = main_container(deployment)
        kind, service = process_of(container)
        env = container_env(resources, container)
        if kind == "gateway":
            assert not any(k.startswith("G1000_KAFKA") for k in env), "the gateway never talks to Kafka"
            continue
        assert env["G1000_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["G1000_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["G1000_KAFKA_USERNAME"] == f"g1000-{service}", deployment["metadata"]["name"]
        volume = {v["name"]: v for v in pod_spec(deployment)["volumes"]}[
            next(m["name"] for m in container["volumeMounts"]
                 if env["G1000_KAFKA_PASSWORD_FILE"].startswith(m["mountPath"].rstrip("/") + "/"))]
        assert volume["secret"]["secretName"] == f"g1000-{service}", "Strimzi names the Secret after the user"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_and_replication_fit_the_cluster(overlay):
    from services.core.kafka import STREAMS, topic_for

    resources = rendered(overlay)
    config = configmaps(resources)["g1000-service-config"]
    kafka = by_kind(resources, "Kafka")[0]
    brokers = sum(p["spec"]["replicas"] for p in by_kind(resources, "KafkaNodePool") if "broker" in p["spec"]["roles"])
    topics = by_kind(resources, "KafkaTopic")
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(topic_for(s, config["G1000_TOPIC_PREFIX"])
                                                                    for s in STREAMS)
    for topic in topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert topic["spec"]["partitions"] == int(config["G1000_KAFKA_PARTITIONS"])
        replicas, isr = topic["spec"]["replicas"], topic["spec"]["config"]["min.insync.replicas"]
        assert replicas <= brokers and 1 <= isr <= replicas
        if brokers >= 3:
            assert (replicas, isr) == (3, 2), "acks=all must survive one broker down"
        assert topic["spec"]["config"]["unclean.leader.election.enable"] is False
    settings = kafka["spec"]["kafka"]["config"]
    assert settings["offsets.topic.replication.factor"] <= brokers and settings["min.insync.replicas"] <= brokers
    assert settings["auto.create.topics.enable"] is False
    assert int(config["G1000_MAX_POLL_INTERVAL_MS"]) >= settings.get("group.min.session.timeout.ms", 6000)
    for pool in by_kind(resources, "KafkaNodePool"):
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    if overlay == "small":
        assert brokers == 1 and by_kind(resources, "KafkaNodePool")[0]["spec"]["roles"] == ["controller", "broker"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_postgres_has_every_database_its_role_and_its_password(overlay):
    """Every database exists, owned by the owner role, which only the migration Job uses; each
    service and the gateway connect as a runtime role of their own, unprivileged (docs/database.md)."""
    from psycopg.conninfo import conninfo_to_dict

    from g1000.migrate import NAMES, runtime_url

    resources = rendered(overlay)
    (cluster,) = by_kind(resources, "Cluster")
    spec = cluster["spec"]
    initdb = spec["bootstrap"]["initdb"]
    owner = initdb["owner"]
    owners = {initdb["database"]: owner}
    for statement in initdb.get("postInitSQL", []):
        match = re.fullmatch(r"CREATE DATABASE (\w+) OWNER (\w+)", statement)
        if match:
            owners[match.group(1)] = match.group(2)
    assert set(owners.values()) == {owner} == {"g1000_owner"}, "one owner of every database"
    revoked = {m.group(1) for s in initdb.get("postInitSQL", []) + initdb.get("postInitApplicationSQL", [])
               if (m := re.fullmatch(r"REVOKE ALL ON DATABASE (\w+) FROM PUBLIC", s))}
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    unprivileged = ("superuser", "createdb", "createrole", "replication", "bypassrls")
    assert not any(roles[owner].get(k) for k in unprivileged) and roles[owner]["login"] is True
    assert initdb["secret"]["name"] == roles[owner]["passwordSecret"]["name"]
    connects, users = set(), {}
    for deployment in deployments(resources):
        container = main_container(deployment)
        env = container_env(resources, container)
        url = next(v for k, v in env.items() if k.endswith("_DATABASE_URL") and k != "G1000_DATABASE_URL")
        params = conninfo_to_dict(url)
        database, user = params["dbname"], params["user"]
        connects.add(database)
        assert database in owners, f"{database} must exist"
        assert user != owner, f"{deployment['metadata']['name']} must not run as the owner"
        users.setdefault(database, set()).add(user)
        role = roles[user]
        assert role["login"] is True and role.get("ensure", "present") == "present"
        assert not any(role.get(k) for k in unprivileged)
        (password,) = [v["valueFrom"]["secretKeyRef"] for v in container["env"] if v["name"] == "PGPASSWORD"]
        assert password == {"name": role["passwordSecret"]["name"], "key": "password"}
        assert "G1000_MIGRATION_DATABASE_URL" not in env
    assert all(len(u) == 1 for u in users.values()) and len(set().union(*users.values())) == len(users), \
        "one runtime role per database, used by no other"
    assert connects == set(owners) == revoked, "one database per service and the gateway, closed to others"
    # the migration Job: the owner's URL and password, and every runtime role to grant to
    (job,) = by_kind(resources, "Job")
    (container,) = pod_spec(job)["containers"]
    assert container["args"] == ["migrate"] and not container.get("command")
    env = container_env(resources, container)
    assert conninfo_to_dict(env["G1000_MIGRATION_DATABASE_URL"])["user"] == owner
    assert "password" not in conninfo_to_dict(env["G1000_MIGRATION_DATABASE_URL"])
    (password,) = [v["valueFrom"]["secretKeyRef"] for v in container["env"] if v["name"] == "PGPASSWORD"]
    assert password == {"name": roles[owner]["passwordSecret"]["name"], "key": "password"}
    for name in NAMES:
        params = conninfo_to_dict(runtime_url(env, name))
        assert users[params["dbname"]] == {params["user"]}, name
    for other in [*deployments(resources), *by_kind(resources, "Cluster")]:
        assert roles[owner]["passwordSecret"]["name"] not in str(pod_spec(other) or ""), \
            f"{other['metadata']['name']} must not see the owner's password"
    assert spec.get("enableSuperuserAccess") is False
    assert not by_kind(resources, "Pooler"), "no Pooler: LISTEN/NOTIFY and session advisory locks (postgres.yaml)"
    if spec["instances"] >= 2:
        assert spec["postgresql"]["synchronous"]["dataDurability"] == "required"
        assert spec["postgresql"]["synchronous"]["number"] >= 1
    else:
        assert "synchronous" not in spec["postgresql"] and spec.get("enablePDB") is False
    plugin = [p for p in spec["plugins"] if p.get("isWALArchiver")]
    (store,) = by_kind(resources, "ObjectStore")
    assert plugin and plugin[0]["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    (backup,) = by_kind(resources, "ScheduledBackup")
    assert backup["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert backup["spec"]["method"] == "plugin" and backup["spec"]["pluginConfiguration"]["name"] == plugin[0]["name"]
    assert len(backup["spec"]["schedule"].split()) == 6, "CloudNativePG schedules have a seconds field"
    if overlay == "production":
        assert spec["instances"] == 3


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_connection_budget_fits_max_connections(overlay):
    """Worst case, during a rolling update (maxSurge) with the autoscaler at its maximum."""
    from gateway.database import open_gateway_database
    from services.core.runtime import bootstrap

    web_pool = inspect.signature(bootstrap).parameters["pool_size"].default
    gateway_pool = inspect.signature(open_gateway_database).parameters["pool_size"].default
    worker_pool = int(re.search(r"bootstrap\(spec, config, pool_size=(\d+)\)",
                                (REPO / "g1000" / "worker.py").read_text()).group(1))
    resources = rendered(overlay)
    hpa = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
           for h in by_kind(resources, "HorizontalPodAutoscaler")}
    total = 0
    for deployment in deployments(resources):
        container = main_container(deployment)
        kind, _ = process_of(container)
        env = container_env(resources, container)
        replicas = hpa.get(deployment["metadata"]["name"], deployment["spec"].get("replicas", 1))
        replicas += deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        per_pod = {"web": int(env.get("WEB_CONCURRENCY", 1)) * web_pool,
                   "gateway": int(env.get("WEB_CONCURRENCY", 1)) * gateway_pool,
                   "relay": worker_pool + 1,  # + the LISTEN connection holding the advisory lock
                   "consume": worker_pool}[kind]
        total += replicas * per_pod
    (cluster,) = by_kind(resources, "Cluster")
    max_connections = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    assert total <= max_connections - 10, f"{overlay}: up to {total} connections, max_connections {max_connections}"
