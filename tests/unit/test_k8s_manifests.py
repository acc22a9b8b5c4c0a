"""deploy/k8s/ checked offline: no cluster, no network, no kubectl needed.

Every overlay is built the way kustomize builds it (the kustomizations keep to resources, JSON 6902
patches, images, replicas and namespace, which `build` below implements; where `kubectl` is on the
machine its `kubectl kustomize` output must be identical). Then, for each overlay:

- every custom resource validates against its operator's CRD schema (deploy/k8s/crds/, with
  their origin and licence in its README.md), with unknown fields refused (the API server would drop them silently);
- every pod is hardened, every container has resources, every web app its probes;
- every process that `g1000 up` runs (g1000/stack.py) has a Deployment, and starts with its
  configuration: the project's own loaders (load_config, load_ledger_settings,
  load_gateway_settings, load_upstreams) accept the environment the pod gets, and every key file
  it names is there, with mode 0600, in the format services/core/signing.py reads, made by
  deploy/k8s/make-secrets.py;
- every variable a container sets is one the code reads; no Secret with data is committed;
- NetworkPolicies: default deny, and exactly the connections the design needs;
- Services, PodDisruptionBudgets and the HorizontalPodAutoscaler select what exists; Kafka topics,
  PostgreSQL databases, roles and the connection budget agree with the configuration.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = ("production", "small")
CRDS = REPO / "deploy" / "k8s" / "crds"
NAMESPACE = "g1000"
SERVICES = ("ledger", "lottery", "agenda", "ballot")
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.load_all(path.read_text(), Loader=Loader) if d is not None]


# ================================================================================================
# kustomize, the part of it these kustomizations use
# ================================================================================================

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
            _json_patch(resource, ops)
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
            for container in _all_containers(resource):
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


def _json_patch(document: dict, ops: list[dict]) -> None:
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


def _all_containers(resource: dict) -> list[dict]:
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


def pod_spec(resource: dict) -> dict | None:
    if resource["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return resource["spec"]["template"]["spec"]
    return None


def _key(resource: dict) -> tuple:
    return (resource["apiVersion"], resource["kind"], resource["metadata"].get("namespace"),
            resource["metadata"]["name"])


_BUILDS: dict[str, list[dict]] = {}


def rendered(overlay: str) -> list[dict]:
    if overlay not in _BUILDS:
        _BUILDS[overlay] = build(K8S / "overlays" / overlay)
    return copy.deepcopy(_BUILDS[overlay])


def by_kind(resources: list[dict], kind: str) -> list[dict]:
    return [r for r in resources if r["kind"] == kind]


def one(resources: list[dict], kind: str, name: str) -> dict:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


# ================================================================================================
# the files themselves
# ================================================================================================

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                       r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def yaml_files() -> list[Path]:
    return sorted(K8S.rglob("*.yaml")) + sorted(K8S.rglob("*.yml"))


def test_every_yaml_file_parses_and_every_object_has_a_valid_shape():
    files = yaml_files()
    assert len(files) >= 10
    for path in files:
        docs = load_docs(path)
        assert docs, f"{path} is empty"
        for doc in docs:
            where = f"{path.relative_to(REPO)}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            assert isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str), where
            if doc["kind"] == "Kustomization":
                assert path.name == "kustomization.yaml", where
                continue
            name = doc.get("metadata", {}).get("name")
            assert isinstance(name, str) and len(name) <= 253 and DNS_SUBDOMAIN.match(name), where
            assert "namespace" not in doc["metadata"], f"{where}: the base is namespace-agnostic"
            if doc["kind"] in ("Service", "Deployment"):
                assert DNS_LABEL.match(name) and len(name) <= 63, where
            for key, value in {**doc["metadata"].get("labels", {}),
                               **(pod_template_labels(doc) or {})}.items():
                assert LABEL_KEY.match(key) and isinstance(value, str) and LABEL_VALUE.match(value) \
                    and len(value) <= 63, f"{where}: label {key}={value!r}"


def pod_template_labels(doc: dict) -> dict | None:
    if pod_spec(doc) is None:
        return None
    return doc["spec"]["template"]["metadata"].get("labels", {})


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


# ================================================================================================
# building the overlays
# ================================================================================================

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_into_one_namespace_without_duplicates(overlay):
    resources = rendered(overlay)
    keys = [_key(r) for r in resources]
    assert len(keys) == len(set(keys))
    assert {r["metadata"]["namespace"] for r in resources} == {NAMESPACE}
    kinds = {r["kind"] for r in resources}
    assert {"Deployment", "Service", "ConfigMap", "ServiceAccount", "NetworkPolicy", "PodDisruptionBudget",
            "HorizontalPodAutoscaler", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster",
            "ObjectStore", "ScheduledBackup"} <= kinds


def test_the_kustomize_subset_refuses_what_it_does_not_implement(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: []\ncommonLabels: {a: b}\n")
    with pytest.raises(KustomizeError):
        build(tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [r.yaml]\npatches:\n  - target: {kind: ConfigMap}\n    patch: |-\n"
        "      - {op: replace, path: /data/missing, value: x}\n")
    (tmp_path / "r.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    with pytest.raises(KustomizeError):
        build(tmp_path)


def _kubectl() -> str | None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    probe = subprocess.run([kubectl, "kustomize", "--help"], capture_output=True, timeout=60)
    return kubectl if probe.returncode == 0 else None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_build_matches_kubectl_kustomize(overlay):
    """Where kubectl is installed, its kustomize must print exactly what `build` computes."""
    kubectl = _kubectl()
    if kubectl is None:
        pytest.skip("kubectl is not installed: the offline build above is what is checked")
    out = subprocess.run([kubectl, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    theirs = {_key(d): d for d in yaml.load_all(out.stdout, Loader=Loader) if d}
    ours = {_key(d): d for d in rendered(overlay)}
    assert sorted(theirs) == sorted(ours)
    for key in ours:
        assert theirs[key] == ours[key], f"{overlay}: {key} differs from kubectl kustomize"


# ================================================================================================
# custom resources against the operators' CRD schemas
# ================================================================================================

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


# ================================================================================================
# the workloads: which process each Deployment runs, hardening, resources, probes
# ================================================================================================

def deployments(resources: list[dict]) -> list[dict]:
    return by_kind(resources, "Deployment")


def workloads(resources: list[dict]) -> list[dict]:
    """Everything that runs a G1000 pod: the Deployments and the migration Job."""
    return deployments(resources) + by_kind(resources, "Job")


def process_of(container: dict) -> tuple[str, str]:
    """(kind, service) of a main container: ("web", svc), ("relay", svc), ("consume", svc) or
    ("gateway", "gateway"), from its command line."""
    command, args = container.get("command", []), container.get("args", [])
    if command == ["gunicorn"]:
        target = args[-1]
        if target == "gateway.app:create_app()":
            return "gateway", "gateway"
        match = re.fullmatch(r"services\.(\w+)\.app:create_app\(\)", target)
        assert match, f"unexpected gunicorn target {target!r}"
        return "web", match.group(1)
    assert not command, f"worker containers use the image's entrypoint (g1000), not {command}"
    assert len(args) == 3 and args[0] == "worker", args
    return args[1], args[2]


def main_container(deployment: dict) -> dict:
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]


def test_every_process_of_the_local_stack_has_exactly_one_deployment():
    from g1000.services import SERVICE_MODULES

    stack = (REPO / "g1000" / "stack.py").read_text()
    assert '"gateway.app:create_app()"' in stack and '"worker", kind, name' in stack
    assert 'for kind in ("relay", "consume")' in stack
    expected = {("gateway", "gateway")} | {(k, s) for s in SERVICE_MODULES for k in ("web", "relay", "consume")}
    for overlay in OVERLAYS:
        found = [process_of(main_container(d)) for d in deployments(rendered(overlay))]
        assert sorted(found) == sorted(expected), overlay
        for d in deployments(rendered(overlay)):
            kind, service = process_of(main_container(d))
            if kind == "web":
                assert main_container(d)["args"][-1] == f"{SERVICE_MODULES[service]}:create_app()"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_hardened(overlay):
    assert by_kind(rendered(overlay), "Job"), "the migration Job is checked too"
    for deployment in workloads(rendered(overlay)):
        name = deployment["metadata"]["name"]
        spec = pod_spec(deployment)
        pod = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, name
        assert spec.get("enableServiceLinks") is False, name
        assert spec.get("hostNetwork") is not True and spec.get("hostPID") is not True \
            and spec.get("hostIPC") is not True, name
        sa = one(rendered(overlay), "ServiceAccount", spec["serviceAccountName"])
        assert sa.get("automountServiceAccountToken") is False, name
        assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        assert pod.get("runAsNonRoot") is True and pod.get("runAsUser", 0) > 0 and pod.get("runAsGroup", 0) > 0, name
        if any("secret" in v for v in spec.get("volumes", [])):
            # Secret files are root-owned: only their group (fsGroup) lets uid 10001 read them
            assert pod.get("fsGroup") == pod["runAsGroup"], name
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            where = f"{name}/{container['name']}"
            sc = container.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("capabilities", {}).get("add"), where
            assert sc.get("privileged") is not True, where
            assert sc.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, where
            assert sc.get("runAsUser", pod.get("runAsUser")) == 10001, f"{where}: the image's user is 10001"
            if "seccompProfile" in sc:
                assert sc["seccompProfile"]["type"] in ("RuntimeDefault", "Localhost"), where
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounts = {m["mountPath"]: m["name"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
        assert "emptyDir" in volumes[mounts["/tmp"]], f"{name}: /tmp must be a writable emptyDir"
        for volume in volumes.values():
            assert "hostPath" not in volume, name
            if "emptyDir" in volume:
                assert volume["emptyDir"].get("sizeLimit"), f"{name}: emptyDir {volume['name']} without sizeLimit"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_resources_and_every_web_app_probes(overlay):
    for job in by_kind(rendered(overlay), "Job"):
        for container in pod_spec(job)["containers"]:
            assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
            assert container.get("imagePullPolicy") == "IfNotPresent" and "ports" not in container
    for deployment in deployments(rendered(overlay)):
        spec = pod_spec(deployment)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            where = f"{deployment['metadata']['name']}/{container['name']}"
            resources = container.get("resources", {})
            for key in ("cpu", "memory"):
                assert resources.get("requests", {}).get(key), f"{where}: requests.{key}"
            assert resources.get("limits", {}).get("memory"), f"{where}: limits.memory"
            assert _quantity(resources["limits"]["memory"]) >= _quantity(resources["requests"]["memory"]), where
            assert container.get("imagePullPolicy") == "IfNotPresent", where
        container = main_container(deployment)
        kind, _ = process_of(container)
        where = deployment["metadata"]["name"]
        if kind in ("web", "gateway"):
            port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
            # the gateway's internal metrics listener (G1000_METRICS_PORT) is its second port
            metrics = {"metrics": int(container_env(rendered(overlay), container)["G1000_METRICS_PORT"])} \
                if kind == "gateway" else {}
            assert port_names == {"http": 8000, **metrics}, where
            for probe, path in (("livenessProbe", "/healthz"), ("startupProbe", "/healthz"),
                                ("readinessProbe", "/readyz" if kind == "web" else "/healthz")):
                assert container[probe]["httpGet"] == {"path": path, "port": "http"}, f"{where}: {probe}"
            assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep", where
            grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
            assert grace >= int(container["lifecycle"]["preStop"]["exec"]["command"][1]) + 15, where
        else:
            assert "ports" not in container, f"{where}: a worker listens on nothing"


def _quantity(value) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert match, value
    return float(match.group(1)) * units.get(match.group(2), 1)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_consistent_and_pinned(overlay):
    resources = rendered(overlay)
    images = {c["image"] for d in deployments(resources) for c in _all_containers(d)}
    assert len(images) == 1, f"{overlay}: every G1000 container runs the one image: {images}"
    (image,) = images
    assert "/" in image.split("@")[0] and not image.endswith(":latest"), image
    if overlay == "production":
        assert re.fullmatch(r"[^@:]+(:\d+)?/[^@]+@sha256:[0-9a-f]{64}", image), f"production pins a digest: {image}"
    else:
        assert "@sha256:" in image or re.search(r":[\w][\w.-]*$", image.split("/")[-1]), image
    base_images = {c["image"] for d in deployments(build(BASE)) for c in _all_containers(d)}
    assert base_images == {"g1000"}, "the base names the image `g1000`; overlays set registry and version"


# ================================================================================================
# environment: every variable is read by the code, every process gets what it needs
# ================================================================================================

def configmaps(resources: list[dict]) -> dict[str, dict]:
    return {r["metadata"]["name"]: r.get("data", {}) for r in by_kind(resources, "ConfigMap")}


def container_env(resources: list[dict], container: dict, secret_value=None) -> dict[str, str]:
    """The environment a container gets (envFrom ConfigMaps, then env; later wins)."""
    cms = configmaps(resources)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, f"envFrom only from ConfigMaps: {source}"
        name = source["configMapRef"]["name"]
        assert name in cms, f"ConfigMap {name} does not exist"
        env.update(cms[name])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        elif "configMapKeyRef" in var["valueFrom"]:
            ref = var["valueFrom"]["configMapKeyRef"]
            env[var["name"]] = cms[ref["name"]][ref["key"]]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            placeholder = f"<{ref['name']}/{ref['key']}>"
            env[var["name"]] = secret_value(ref["name"], ref["key"]) if secret_value else placeholder
    return env


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
            for container in _all_containers(deployment):
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

    child = Stack(tmp_path, env={})._child_env("postgresql://u@localhost/postgres", "localhost:9092")
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


# ---- the processes start with their configuration ------------------------------------------------

def _load_make_secrets():
    import sys

    name = "g1000_deploy_make_secrets"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, K8S / "make-secrets.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def generated_secrets(tmp_path_factory):
    """make-secrets.py's output: secret name -> {data key: bytes}."""
    make_secrets = _load_make_secrets()
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


INIT_SCRIPT = 'set -eu; for f in "$@"; do install -m 0600 "$f" /run/g1000/keys/; done'


class PodFiles:
    """A pod's volumes laid out under a temporary root, its init container run, as the kubelet
    and the init container would (Secret files 0440, the copies 0600)."""

    def __init__(self, root: Path, resources: list[dict], deployment: dict, secrets: dict):
        self.root, self.spec = root, pod_spec(deployment)
        cms = configmaps(resources)
        self.volumes: dict[str, Path] = {}
        for volume in self.spec["volumes"]:
            path = root / "volumes" / volume["name"]
            path.mkdir(parents=True)
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                assert name in secrets, f"Secret {name} is neither made by make-secrets.py nor by an operator"
                items = volume["secret"].get("items") or [{"key": k, "path": k} for k in secrets[name]]
                for item in items:
                    assert item["key"] in secrets[name], f"Secret {name} has no key {item['key']}"
                    (path / item["path"]).write_bytes(secrets[name][item["key"]])
                    (path / item["path"]).chmod(volume["secret"].get("defaultMode", 0o644))
            elif "configMap" in volume:
                for key, value in cms[volume["configMap"]["name"]].items():
                    (path / key).write_text(value)
            else:
                assert set(volume) == {"name", "emptyDir"}, volume
            self.volumes[volume["name"]] = path
        for init in self.spec.get("initContainers", []):
            assert init["command"] == ["sh", "-c", INIT_SCRIPT, "copy-keys"], init["command"]
            for source in init["args"]:
                target = self.resolve(init, "/run/g1000/keys/" + Path(source).name)
                shutil.copyfile(self.resolve(init, source), target)
                target.chmod(0o600)

    def resolve(self, container: dict, path: str) -> Path:
        """The file `path` in `container`'s view (AssertionError if no volume holds it)."""
        best = None
        for mount in container.get("volumeMounts", []):
            prefix = mount["mountPath"].rstrip("/") + "/"
            if (path + "/").startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, mount)
        assert best is not None, f"{container['name']}: nothing is mounted at {path}"
        return self.volumes[best[1]["name"]] / path[len(best[0]):]

    def mount_of(self, container: dict, path: str) -> dict:
        for mount in container.get("volumeMounts", []):
            if (path.rstrip("/") + "/").startswith(mount["mountPath"].rstrip("/") + "/"):
                return mount
        raise AssertionError(f"{container['name']}: nothing is mounted at {path}")

    def localise(self, container: dict, env: dict) -> dict:
        """`env` with every absolute path rewritten to where this test laid the file out."""
        out = {}
        for key, value in env.items():
            if value.startswith("/"):
                value = str(self.resolve(container, value))
            out[key] = re.sub(r"sslrootcert=(/[^&\s]+)",
                              lambda m: "sslrootcert=" + str(self.resolve(container, m.group(1))), value)
        return out


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
        targets = [d for d in deployments(resources) if _matches(service["spec"]["selector"], _labels(d))]
        assert len(targets) == 1 and process_of(main_container(targets[0])) == ("web", name), url
        assert entry["targetPort"] in {p["name"] for p in main_container(targets[0])["ports"]}


def _labels(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["labels"]


def _matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# ================================================================================================
# Secrets: what the manifests reference is what make-secrets.py makes, in the right format
# ================================================================================================

def referenced_secrets(resources: list[dict]) -> dict[str, set[str]]:
    """Secret name -> the keys the build reads from it (empty set: the whole Secret)."""
    refs: dict[str, set[str]] = {}
    for deployment in deployments(resources):
        spec = pod_spec(deployment)
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                keys = {i["key"] for i in volume["secret"].get("items", [])}
                refs.setdefault(volume["secret"]["secretName"], set()).update(keys)
        for container in _all_containers(deployment):
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
    make_secrets = _load_make_secrets()
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
            secrets |= {var["valueFrom"]["secretKeyRef"]["name"] for c in _all_containers(deployment)
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

    make_secrets = _load_make_secrets()
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
    assert out.stdout.count("kubectl create secret generic") == len(_load_make_secrets().plan()) + 1
    assert "BEGIN" not in out.stdout
    key = subprocess.run([sys.executable, str(script), "verifier-key", "--log-public-key",
                          str(tmp_path / "s" / "log" / "checkpoint.pub"), "--log-host", "g1000.example.org",
                          "--summit", "s1"], capture_output=True, text=True, timeout=60)
    assert key.returncode == 0 and re.fullmatch(r"g1000\.example\.org/g1000/s1\+[0-9a-f]{8}\+\S+\n", key.stdout)


# ================================================================================================
# NetworkPolicies
# ================================================================================================

def _selector_matches(selector: dict, labels: dict) -> bool:
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


def _peer_matches(peer: dict, pod: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return pod.namespace is None and peer["ipBlock"]["cidr"] in ("0.0.0.0/0", "::/0")
    if pod.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not _selector_matches(peer["namespaceSelector"], pod.ns_labels):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return _selector_matches(peer.get("podSelector", {}), pod.labels)


def _port_matches(ports: list[dict] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def _allows(rules: list[dict], direction: str, peer: Pod, port: int, protocol: str, namespace: str) -> bool:
    for rule in rules:
        peers = rule.get("from" if direction == "ingress" else "to")
        if not _port_matches(rule.get("ports"), port, protocol):
            continue
        if not peers or any(_peer_matches(p, peer, namespace) for p in peers):
            return True
    return False


def reachable(policies: list[dict], source: Pod, target: Pod, port: int, protocol: str = "TCP") -> bool:
    """Whether the NetworkPolicies of the namespace let `source` open `target`:`port`."""
    if source.namespace == NAMESPACE:
        selecting = [p for p in policies if _selector_matches(p["spec"]["podSelector"], source.labels)
                     and "Egress" in p["spec"]["policyTypes"]]
        if selecting and not any(_allows(p["spec"].get("egress", []), "egress", target, port, protocol,
                                         NAMESPACE) for p in selecting):
            return False
    if target.namespace == NAMESPACE:
        selecting = [p for p in policies if _selector_matches(p["spec"]["podSelector"], target.labels)
                     and "Ingress" in p["spec"]["policyTypes"]]
        if selecting and not any(_allows(p["spec"].get("ingress", []), "ingress", source, port, protocol,
                                         NAMESPACE) for p in selecting):
            return False
    return True


def namespace_pods(resources: list[dict]) -> dict[str, Pod]:
    """The G1000 pods and, with the labels their operators give them, the Kafka and PostgreSQL pods."""
    pods = {d["metadata"]["name"]: Pod(d["metadata"]["name"], _labels(d)) for d in workloads(resources)}
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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_cover_every_pod(overlay):
    resources = rendered(overlay)
    policies = by_kind(resources, "NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {}
            and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny, "a default-deny policy for the whole namespace"
    for pod in namespace_pods(resources).values():
        allowing = [p for p in policies if p not in deny and _selector_matches(p["spec"]["podSelector"], pod.labels)]
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
        assert any(_peer_matches(p, pod, NAMESPACE) for p in peers) == (kind != "gateway"), name


# ================================================================================================
# Services, PodDisruptionBudgets, the autoscaler
# ================================================================================================

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_exactly_one_deployment_by_labels(overlay):
    resources = rendered(overlay)
    for service in by_kind(resources, "Service"):
        selector = service["spec"]["selector"]
        targets = [d for d in deployments(resources) if _matches(selector, _labels(d))]
        assert len(targets) == 1, f"{service['metadata']['name']} selects {len(targets)} Deployments"
        assert _matches(selector, targets[0]["spec"]["selector"]["matchLabels"])
        kind, name = process_of(main_container(targets[0]))
        assert kind in ("web", "gateway") and service["metadata"]["name"] == f"g1000-{name}"
        ports = {p["name"] for p in main_container(targets[0])["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports
    for deployment in deployments(resources):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert _matches(selector, _labels(deployment))
        others = [d for d in deployments(resources) if d is not deployment and _matches(selector, _labels(d))]
        assert not others, f"{deployment['metadata']['name']}'s selector also matches {others}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budgets_and_autoscaler_target_what_exists(overlay):
    resources = rendered(overlay)
    for pdb in by_kind(resources, "PodDisruptionBudget"):
        targets = [d for d in deployments(resources) if _selector_matches(pdb["spec"]["selector"], _labels(d))]
        assert len(targets) == 1, pdb["metadata"]["name"]
        assert "maxUnavailable" in pdb["spec"] or pdb["spec"]["minAvailable"] < targets[0]["spec"].get("replicas", 1)
    (hpa,) = by_kind(resources, "HorizontalPodAutoscaler")
    target = one(resources, hpa["spec"]["scaleTargetRef"]["kind"], hpa["spec"]["scaleTargetRef"]["name"])
    assert "replicas" not in target["spec"], "the autoscaler owns the gateway's replica count"
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert main_container(target)["resources"]["requests"]["cpu"]
    pdb_targets = {d["metadata"]["name"] for p in by_kind(resources, "PodDisruptionBudget")
                   for d in deployments(resources) if _selector_matches(p["spec"]["selector"], _labels(d))}
    assert "g1000-gateway" in pdb_targets
    if overlay == "production":
        assert {f"g1000-{s}" for s in SERVICES} <= pdb_targets
        for deployment in deployments(resources):
            if deployment is not target:
                assert deployment["spec"]["replicas"] >= 2, deployment["metadata"]["name"]
    if overlay == "small":
        assert all(d["spec"].get("replicas", 1) == 1 for d in deployments(resources) if d is not target)
        assert hpa["spec"]["minReplicas"] == 1


def test_gunicorn_settings_are_gunicorn_settings():
    from gunicorn.config import Config

    from g1000.stack import web_command

    cm = configmaps(build(BASE))["g1000-gunicorn"]
    namespace: dict = {}
    saved = os.environ.pop("G1000_METRICS_PORT", None)
    try:
        exec(compile(cm["gunicorn.conf.py"], "gunicorn.conf.py", "exec"), namespace)
        os.environ["G1000_METRICS_PORT"] = "9102"  # the gateway's pods: the metrics listener too
        with_metrics: dict = {}
        exec(compile(cm["gunicorn.conf.py"], "gunicorn.conf.py", "exec"), with_metrics)
    finally:
        os.environ.pop("G1000_METRICS_PORT", None)
        if saved is not None:
            os.environ["G1000_METRICS_PORT"] = saved
    assert with_metrics["bind"] == ["0.0.0.0:8000", "0.0.0.0:9102"]
    known = Config().settings
    for name, value in namespace.items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        assert name in known, f"gunicorn.conf.py: {name} is not a gunicorn setting (gunicorn ignores it)"
    assert namespace["bind"] == ["0.0.0.0:8000"] and namespace["control_socket_disable"] is True
    assert callable(namespace["on_starting"]) and callable(namespace["child_exit"])
    command = web_command("app:create_app()", 8000, 2)  # what `g1000 up` runs
    for flag, setting in (("--worker-class", "worker_class"), ("--timeout", "timeout"),
                          ("--access-logformat", "access_log_format")):
        assert str(namespace[setting]) == command[command.index(flag) + 1], f"{setting}: not as `g1000 up`"
    assert "--no-control-socket" in command


# ================================================================================================
# Kafka and PostgreSQL against the configuration
# ================================================================================================

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


# ================================================================================================
# the image
# ================================================================================================

def test_dockerfile_builds_a_small_non_root_image():
    text = (REPO / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.M | re.I)
    assert len(stages) >= 2, "multi-stage"
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    final = text[text.rindex("\nFROM "):]
    assert re.search(r"^USER 10001:10001$", final, re.M)
    assert 'ENTRYPOINT ["g1000"]' in final
    assert "--no-index" in final and "g1000-verify" in final
    assert not re.search(r"apt-get|build-essential|gcc|COPY \. ", final), "no build tools or source in the final image"
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] == "*", "the build context is an allow-list"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "services", "gateway", "g1000", "verifier"}
    for path in re.findall(r"^COPY\s+(?!--)(\S+)", text, re.M):
        assert path.rstrip("/") in allowed, f"COPY {path} is not in the build context"


def test_the_restore_recipe_in_the_readme_validates():
    """deploy/k8s/README.md's restore patch, applied to the Cluster, is a valid Cluster."""
    readme = (K8S / "README.md").read_text()
    block = re.search(r"```yaml\n(  - target:\n      kind: Cluster\n.*?)```", readme, re.S)
    assert block, "the restore patch is in the README"
    (patch,) = yaml.load(block.group(1), Loader=Loader)
    for overlay in OVERLAYS:
        cluster = one(rendered(overlay), "Cluster", patch["target"]["name"])
        _json_patch(cluster, yaml.load(patch["patch"], Loader=Loader))
        errors = list(crd_validator("postgresql.cnpg.io", "v1", "Cluster").iter_errors(cluster))
        assert not errors, [e.message for e in errors]
        source = cluster["spec"]["bootstrap"]["recovery"]["source"]
        (origin,) = [c for c in cluster["spec"]["externalClusters"] if c["name"] == source]
        (store,) = by_kind(rendered(overlay), "ObjectStore")
        assert origin["plugin"]["parameters"]["barmanObjectName"] == store["metadata"]["name"]
        assert origin["plugin"]["parameters"]["serverName"] != cluster["spec"]["plugins"][0]["parameters"]["serverName"]
