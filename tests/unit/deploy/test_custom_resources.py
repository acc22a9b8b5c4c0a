"""Custom resources against the operators' CRD schemas, core kinds against the API schemas."""

from __future__ import annotations

import copy
import os
import re

import pytest
import yaml

from tests.support.deploy_tree import K8S, OVERLAYS, by_kind, one, rendered
from tests.support.k8s_validators import CORE_GROUPS, crd_validator, custom_resources
from tests.support.kustomize import json_patch, Loader


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_validate_against_their_crds(overlay):
    customs = custom_resources(rendered(overlay))
    assert {r["kind"] for r in customs} == {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster",
                                            "ObjectStore", "ScheduledBackup"}
    for resource in customs:
        group, _, version = resource["apiVersion"].rpartition("/")
        errors = sorted(crd_validator(group, version, resource["kind"]).iter_errors(resource), key=str)
        assert not errors, (f"{overlay}: {resource['kind']}/{resource['metadata']['name']}: "
                            + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]))


def test_the_crd_check_refuses_unknown_and_misspelt_fields():
    cluster = copy.deepcopy(one(rendered("small"), "Cluster", "g1000-pg"))
    validator = crd_validator("postgresql.cnpg.io", "v1", "Cluster")
    assert not list(validator.iter_errors(cluster))
    cluster["spec"]["postgresql"]["synchronus"] = {"method": "any", "number": 1}
    assert list(validator.iter_errors(cluster))
    topic = copy.deepcopy(by_kind(rendered("small"), "KafkaTopic")[0])
    topic["spec"]["partitions"] = 0
    assert list(crd_validator("kafka.strimzi.io", "v1", "KafkaTopic").iter_errors(topic))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_kinds_validate_with_kubernetes_validate_when_installed(overlay):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    version = os.environ.get("G1000_K8S_VERSION", "1.32.0")
    for resource in rendered(overlay):
        if resource["apiVersion"].rpartition("/")[0] in CORE_GROUPS:
            kubernetes_validate.validate(resource, version, strict=True)


def test_the_restore_recipe_in_the_readme_validates():
    """deploy/k8s/README.md's restore patch, applied to the Cluster, is a valid Cluster."""
    readme = (K8S / "README.md").read_text()
    block = re.search(r"```yaml\n(  - target:\n      kind: Cluster\n.*?)```", readme, re.S)
    assert block, "the restore patch is in the README"
    (patch,) = yaml.load(block.group(1), Loader=Loader)
    for overlay in OVERLAYS:
        cluster = one(rendered(overlay), "Cluster", patch["target"]["name"])
        json_patch(cluster, yaml.load(patch["patch"], Loader=Loader))
        errors = list(crd_validator("postgresql.cnpg.io", "v1", "Cluster").iter_errors(cluster))
        assert not errors, [e.message for e in errors]
        source = cluster["spec"]["bootstrap"]["recovery"]["source"]
        (origin,) = [c for c in cluster["spec"]["externalClusters"] if c["name"] == source]
        (store,) = by_kind(rendered(overlay), "ObjectStore")
        assert origin["plugin"]["parameters"]["barmanObjectName"] == store["metadata"]["name"]
        assert origin["plugin"]["parameters"]["serverName"] != cluster["spec"]["plugins"][0]["parameters"]["serverName"]
