"""The kustomize subset the deploy tests render deploy/k8s/ with, offline (no kubectl needed)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml


Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.load_all(path.read_text(), Loader=Loader) if d is not None]


KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "components", "patches", "replacements", "images",
                      "replicas", "namespace"}
COMPONENT_KEYS = {"apiVersion", "kind", "resources", "patches", "replacements"}
LOCAL_CONFIG = "config.kubernetes.io/local-config"


class KustomizeError(AssertionError):
    pass


def build(directory: Path) -> list[dict]:
    """The resources `kubectl kustomize directory` prints (order aside): local configuration
    (annotated config.kubernetes.io/local-config: "true") is dropped only here, at the top, as
    kustomize does; nested kustomizations keep it for their parents' replacements."""
    return [r for r in _accumulate(directory, []) if
            r["metadata"].get("annotations", {}).get(LOCAL_CONFIG) != "true"]


def _accumulate(directory: Path, resources: list[dict], component: bool = False) -> list[dict]:
    """A kustomization's resources, then its components (each adds its resources to the list and
    transforms all of it), then its own transformers in kustomize's order: patches, namespace,
    replicas, images, replacements (api/internal/target: configureBuiltinTransformers)."""
    kustomization = yaml.load((directory / "kustomization.yaml").read_text(), Loader=Loader)
    kind = kustomization.get("kind", "Kustomization")
    if kind != ("Component" if component else "Kustomization"):
        raise KustomizeError(f"{directory}: a {kind} where a {'Component' if component else 'Kustomization'} belongs")
    unknown = set(kustomization) - (COMPONENT_KEYS if component else KUSTOMIZATION_KEYS)
    if unknown:
        raise KustomizeError(f"{directory}: keep kustomizations simple; unsupported: {sorted(unknown)}")
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        resources += _accumulate(path, []) if path.is_dir() else [copy.deepcopy(d) for d in load_docs(path)]
    for entry in kustomization.get("components", []):
        resources = _accumulate((directory / entry).resolve(), resources, component=True)
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
    for replacement in kustomization.get("replacements", []):
        try:
            _replace(resources, replacement)
        except KustomizeError as error:
            raise KustomizeError(f"{directory}: {error}") from None
    return resources


SOURCE_KEYS = {"kind", "name", "namespace", "group", "version", "fieldPath"}
TARGET_KEYS = {"select", "fieldPaths", "options"}
OPTION_KEYS = {"delimiter", "index"}


def _replace(resources: list[dict], replacement: dict) -> None:
    """One kustomize replacement: the value at the source's fieldPath copied into every target
    field, or, with options.delimiter, into part options.index of the target's value split at the
    delimiter. A missing field is an error, as in kustomize ("unable to find field"); so is an
    index beyond the value's parts, where kustomize would append (stricter: no template relies on it)."""
    if set(replacement) != {"source", "targets"}:
        raise KustomizeError(f"replacements: only source and targets are supported: {sorted(replacement)}")
    source = replacement["source"]
    if set(source) - SOURCE_KEYS:
        raise KustomizeError(f"replacement source: unsupported {sorted(set(source) - SOURCE_KEYS)}")
    selector = {k: v for k, v in source.items() if k != "fieldPath"}
    found = [r for r in resources if _identified(r, selector)]
    if len(found) != 1:
        raise KustomizeError(f"replacement source {selector} matches {len(found)} resources, not one")
    value = _field(found[0], source.get("fieldPath", "metadata.name"))
    for target in replacement["targets"]:
        if set(target) - TARGET_KEYS or set(target.get("options", {})) - OPTION_KEYS:
            raise KustomizeError(f"replacement target: only select, fieldPaths and options "
                                 f"{sorted(OPTION_KEYS)} are supported: {target}")
        if set(target["select"]) - {"kind", "name", "namespace", "group", "version", "labelSelector"}:
            raise KustomizeError(f"replacement select: unsupported {target['select']}")
        options = target.get("options", {})
        for resource in resources:
            if not (_identified(resource, target["select"]) and _selected(resource, target["select"])):
                continue
            for path in target["fieldPaths"]:
                parent, last = _field_parent(resource, path)
                if "delimiter" in options:
                    parts = str(parent[last]).split(options["delimiter"])
                    index = options.get("index", 0)
                    if not 0 <= index < len(parts):
                        raise KustomizeError(f"{path}: options.index {index} is outside {parent[last]!r}")
                    parts[index] = str(value)
                    parent[last] = options["delimiter"].join(parts)
                else:
                    parent[last] = copy.deepcopy(value)


def _identified(resource: dict, selector: dict) -> bool:
    """kustomize's ResId selection: each of kind, name, namespace, group, version given is equal."""
    group, _, version = resource["apiVersion"].rpartition("/")
    actual = {"kind": resource["kind"], "name": resource["metadata"]["name"], "group": group,
              "version": version, "namespace": resource["metadata"].get("namespace", "")}
    return all(selector[k] == actual[k] for k in actual if k in selector)


def _field_parts(path: str) -> list[str]:
    """A kustomize fieldPath split at its dots, except inside [...]: `a.[name=web].b`,
    `labels.[app.kubernetes.io/name]`, `containers.0`."""
    parts = re.findall(r"\[[^\]]*\]|[^.\[\]]+", path)
    if ".".join(parts) != path:
        raise KustomizeError(f"unsupported fieldPath {path!r}")
    return parts


def _step(node, part: str, path: str):
    """(container, key) of `part` in `node`, or KustomizeError where there is no such field."""
    if isinstance(node, list):
        if re.fullmatch(r"\d+", part) and int(part) < len(node):
            return node, int(part)
        match = re.fullmatch(r"\[([^=\]]+)=([^\]]*)\]", part)
        if match:
            for i, item in enumerate(node):
                if isinstance(item, dict) and str(item.get(match.group(1))) == match.group(2):
                    return node, i
    elif isinstance(node, dict):
        key = part[1:-1] if part.startswith("[") and "=" not in part and "." in part else part
        if not key.startswith("[") and key in node:
            return node, key
    raise KustomizeError(f"unable to find field {path!r}")


def _field_parent(resource: dict, path: str):
    node, parts = resource, _field_parts(path)
    for part in parts[:-1]:
        container, key = _step(node, part, path)
        node = container[key]
    return _step(node, parts[-1], path)


def _field(resource: dict, path: str):
    container, key = _field_parent(resource, path)
    return container[key]


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
