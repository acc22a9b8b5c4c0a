"""Validators for rendered objects: names and labels as the API server checks them, custom
resources against their operators' CRD schemas (deploy/k8s/crds/), resource quantities."""

from __future__ import annotations

import re

import jsonschema

from tests.support.deploy_tree import CRDS
from tests.support.kustomize import load_docs


DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                       r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def quantity(value) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert match, value
    return float(match.group(1)) * units.get(match.group(2), 1)


_CRD_CACHE: dict[tuple[str, str], dict] = {}


def _crds() -> dict[tuple[str, str], dict]:
    if _CRD_CACHE:
        return _CRD_CACHE
    out = _CRD_CACHE
    for path in sorted(CRDS.glob("*.yaml")):
        for doc in load_docs(path):
            if doc.get("kind") == "CustomResourceDefinition":
                out[(doc["spec"]["group"], doc["spec"]["names"]["kind"])] = doc
    return out


def _strict(schema):
    """The schema with unknown fields refused wherever the CRD does not preserve them."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            out[key] = _strict(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            out[key] = [_strict(s) for s in schema[key]]
    if "properties" in schema:
        out["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        if (schema.get("type") == "object" and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
    return out


_VALIDATORS: dict = {}


def crd_validator(group: str, version: str, kind: str):
    crds = _crds()
    assert (group, kind) in crds, f"{group}/{kind}: no such CRD in {CRDS} (only kinds present there may be used)"
    versions = {v["name"]: v for v in crds[(group, kind)]["spec"]["versions"]}
    assert version in versions and versions[version].get("served"), f"{group}/{version} {kind} is not served"
    if (group, version, kind) not in _VALIDATORS:
        schema = _strict(versions[version]["schema"]["openAPIV3Schema"])
        _VALIDATORS[(group, version, kind)] = jsonschema.Draft4Validator(schema)
    return _VALIDATORS[(group, version, kind)]


CORE_GROUPS = {"", "apps", "policy", "autoscaling", "networking.k8s.io", "batch", "rbac.authorization.k8s.io"}


def custom_resources(resources: list[dict]) -> list[dict]:
    return [r for r in resources if r["apiVersion"].rpartition("/")[0] not in CORE_GROUPS]
