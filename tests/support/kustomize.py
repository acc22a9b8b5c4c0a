"""The kustomize subset the deploy tests render deploy/k8s/ with, offline (no kubectl needed)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml


Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.load_all(path.read_text(), Loader=Loader) if d is not None]


KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "patches", "images", "replicas", "namespace"}


class KustomizeError(AssertionError):
    pass


def build(directory: Path) -> list[dict]:
    """The resources `kubectl kustomize directory` prints (order aside)."""
    kustomization = yaml.load((directory / "kustomization.yaml").read_text(), Loader=Loader)
    unknown = set(kustomization) - KUSTOMIZATION_KEYS
    if unknown:
        raise KustomizeError(f"{directory}: keep kustomizations simple; unsupported: {sorted(unknown)}")
    resources: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        resources += build(path) if path.is_dir() else [copy.deepcopy(d) for d in load_docs(path)]
    for patch in kustomization.get("patches", []):
        text = patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text()
        ops = yaml.load(text, Loader=Loader)
        if not isinstance(ops, list) or "target" not in patch:
            raise KustomizeError(f"{directory}: only JSON 6902 patches with a target are supported")
        targets = [r for r in resources if _selected(r, patch["target"])]
        if not targets:
            raise KustomizeError(f"{directory}: patch target {patch['target']} matches nothing")
        for resource in targets:
            json_patch(resource, ops)
    if "namespace" in kustomization:
        for resource in resources:
            resource["metadata"]["namespace"] = kustomization["namespace"]
    for replica in kustomization.get("replicas", []):
        matched = [r for r in resources if r["metadata"]["name"] == replica["name"]
                   and r["kind"] in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")]
        if not matched:
            raise KustomizeError(f"{directory}: replicas for {replica['name']} match nothing")
        for resource in matched:
            resource["spec"]["replicas"] = replica["count"]
    for image in kustomization.get("images", []):
        for resource in resources:
            for container in all_containers(resource):
                if _image_name(container["image"]) == image["name"]:
                    container["image"] = _new_image(container["image"], image)
    return resources


def _selected(resource: dict, target: dict) -> bool:
    group, _, version = resource["apiVersion"].rpartition("/")
    checks = {"kind": resource["kind"], "name": resource["metadata"]["name"], "group": group,
              "version": version, "namespace": resource["metadata"].get("namespace", "")}
    for key, actual in checks.items():
        if key in target and not re.fullmatch(target[key], actual):
            return False
    if "labelSelector" in target:
        labels = resource["metadata"].get("labels", {})
        for term in target["labelSelector"].split(","):
            if "!=" in term:
                key, value = (s.strip() for s in term.split("!="))
                if labels.get(key) == value:
                    return False
            elif "=" in term:
                key, value = (s.strip() for s in term.replace("==", "=").split("="))
                if labels.get(key) != value:
                    return False
            else:
                raise KustomizeError(f"unsupported label selector term {term!r}")
    if "annotationSelector" in target:
        raise KustomizeError("annotationSelector is not supported")
    return True


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"bad JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(document, parts: list[str]):
    node = document
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, parts[-1]


def json_patch(document: dict, ops: list[dict]) -> None:
    """RFC 6902 (add, remove, replace, copy, move, test)."""
    for op in ops:
        kind, parts = op["op"], _pointer(op["path"])
        parent, last = _parent(document, parts)
        if kind in ("add", "replace", "copy", "move"):
            if kind == "copy":
                source_parent, source_last = _parent(document, _pointer(op["from"]))
                value = copy.deepcopy(source_parent[int(source_last)] if isinstance(source_parent, list)
                                      else source_parent[source_last])
            elif kind == "move":
                source_parent, source_last = _parent(document, _pointer(op["from"]))
                value = (source_parent.pop(int(source_last)) if isinstance(source_parent, list)
                         else source_parent.pop(source_last))
            else:
                value = copy.deepcopy(op["value"])
            if isinstance(parent, list):
                if last == "-":
                    parent.append(value)
                elif kind == "replace":
                    parent[int(last)] = value
                else:
                    parent.insert(int(last), value)
            else:
                if kind == "replace" and last not in parent:
                    raise KustomizeError(f"replace of a missing member {op['path']}")
                parent[last] = value
        elif kind == "remove":
            if not isinstance(parent, list) and last not in parent:
                raise KustomizeError(f"remove of a missing member {op['path']}")
            if isinstance(parent, list):
                del parent[int(last)]
            else:
                del parent[last]
        elif kind == "test":
            actual = parent[int(last)] if isinstance(parent, list) else parent[last]
            if actual != op["value"]:
                raise KustomizeError(f"test failed at {op['path']}")
        else:
            raise KustomizeError(f"unsupported op {kind!r}")


def pod_spec(resource: dict) -> dict | None:
    if resource["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return resource["spec"]["template"]["spec"]
    return None


def all_containers(resource: dict) -> list[dict]:
    spec = pod_spec(resource)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _image_name(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def _new_image(image: str, rule: dict) -> str:
    name = rule.get("newName") or _image_name(image)
    if rule.get("digest"):
        return f"{name}@{rule['digest']}"
    rest = image[len(_image_name(image)):]
    if rule.get("newTag"):
        return f"{name}:{rule['newTag']}"
    return name + rest


def resource_key(resource: dict) -> tuple:
    return (resource["apiVersion"], resource["kind"], resource["metadata"].get("namespace"),
            resource["metadata"]["name"])
