"""The repository's deploy/k8s/ tree, rendered, and accessors to what the tests read in it."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
from pathlib import Path

from tests.support.kustomize import build, pod_spec, resource_key


REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = ("production", "small")
CRDS = REPO / "deploy" / "k8s" / "crds"
NAMESPACE = "g1000"
SERVICES = ("ledger", "lottery", "agenda", "ballot")
# the rendered overlays as they were before deploy/k8s/ had a service template (issue 11 item 7)
GOLDEN = REPO / "tests" / "unit" / "deploy" / "golden"

_BUILDS: dict[str, list[dict]] = {}


def rendered(overlay: str) -> list[dict]:
    if overlay not in _BUILDS:
        _BUILDS[overlay] = build(K8S / "overlays" / overlay)
    return copy.deepcopy(_BUILDS[overlay])


def snapshot(resources: list[dict]) -> str:
    """`resources` as a golden file holds them: sorted by (apiVersion, kind, namespace, name), JSON
    with sorted keys, so that a diff of two snapshots shows only what changed."""
    ordered = sorted(resources, key=lambda r: tuple(str(part) for part in resource_key(r)))
    return json.dumps(ordered, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def by_kind(resources: list[dict], kind: str) -> list[dict]:
    return [r for r in resources if r["kind"] == kind]


def one(resources: list[dict], kind: str, name: str) -> dict:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def yaml_files() -> list[Path]:
    return sorted(K8S.rglob("*.yaml")) + sorted(K8S.rglob("*.yml"))


def pod_template_labels(doc: dict) -> dict | None:
    if pod_spec(doc) is None:
        return None
    return doc["spec"]["template"]["metadata"].get("labels", {})


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


def pod_labels(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["labels"]


def labels_match(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


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


def load_make_secrets():
    import sys

    name = "g1000_deploy_make_secrets"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, K8S / "make-secrets.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


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


if __name__ == "__main__":
    # Re-take the snapshot after an intended change of the rendered objects (review its diff):
    #   PYTHONPATH=. python -m tests.support.deploy_tree
    for name in OVERLAYS:
        (GOLDEN / f"rendered-{name}.json").write_text(snapshot(rendered(name)))
