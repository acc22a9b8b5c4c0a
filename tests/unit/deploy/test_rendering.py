"""Rendering the overlays: the kustomize subset, kubectl's kustomize, the snapshot taken before the
service template, the images."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.support.deploy_tree import BASE, GOLDEN, K8S, NAMESPACE, OVERLAYS, deployments, rendered
from tests.support.kustomize import all_containers, build, KustomizeError, Loader, resource_key


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_into_one_namespace_without_duplicates(overlay):
    resources = rendered(overlay)
    keys = [resource_key(r) for r in resources]
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


def test_the_kustomize_subset_applies_components_and_replacements_as_kustomize_does(tmp_path):
    """What deploy/k8s/components/service relies on: a Component's resources join its parent's and
    its replacements run over both; a part of a delimited value is replaced; local configuration
    reaches the parents' replacements and is dropped only from the final output; a missing field
    or an ambiguous source is an error, not a silent no-op (as in kubectl's kustomize v5.5; an
    index beyond the value's parts, which kustomize would append, is refused too)."""
    (tmp_path / "component").mkdir()
    (tmp_path / "component" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [d.yaml]\n"
        "replacements:\n  - source: {kind: ConfigMap, fieldPath: data.name}\n    targets:\n"
        "      - select: {kind: Deployment}\n        fieldPaths:\n          - metadata.name\n"
        "          - metadata.labels.[a.b/c]\n"
        "        options: {delimiter: '-', index: 1}\n"
        "      - select: {kind: Deployment, labelSelector: p=web}\n"
        "        fieldPaths:\n          - spec.template.spec.containers.[name=web].args.0\n")
    (tmp_path / "component" / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: g-x-relay, labels: {a.b/c: x-relay, p: web}}\n"
        "spec: {template: {spec: {containers: [{name: web, args: [x]}]}}}\n")
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "kustomization.yaml").write_text("resources: [v.yaml]\ncomponents: [../component]\n")
        (tmp_path / name / "v.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: v-{name}, annotations: "
            f"{{config.kubernetes.io/local-config: 'true'}}}}\ndata: {{name: {name}}}\n")
    (tmp_path / "kustomization.yaml").write_text("resources: [one, two]\nnamespace: ns\n")
    built = {r["metadata"]["name"]: r for r in build(tmp_path)}
    assert sorted(built) == ["g-one-relay", "g-two-relay"], "the local ConfigMaps are not in the output"
    assert built["g-two-relay"]["metadata"]["labels"] == {"a.b/c": "x-two", "p": "web"}
    assert built["g-two-relay"]["spec"]["template"]["spec"]["containers"][0]["args"] == ["two"]
    assert built["g-one-relay"]["metadata"]["namespace"] == "ns"
    (tmp_path / "kustomization.yaml").write_text("resources: [one, two]\ncomponents: [component]\n")
    with pytest.raises(KustomizeError, match="matches 2 resources"):
        build(tmp_path)  # two ConfigMaps: which name?
    (tmp_path / "kustomization.yaml").write_text("resources: [component]\n")
    with pytest.raises(KustomizeError, match="Component"):
        build(tmp_path)  # a Component is not a resource
    text = (tmp_path / "component" / "kustomization.yaml").read_text()
    (tmp_path / "component" / "kustomization.yaml").write_text(text.replace("[name=web]", "[name=relay]"))
    with pytest.raises(KustomizeError, match="unable to find field"):
        build(tmp_path / "one")
    (tmp_path / "component" / "kustomization.yaml").write_text(text.replace("index: 1", "index: 3"))
    with pytest.raises(KustomizeError, match="outside"):
        build(tmp_path / "one")


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
    theirs = {resource_key(d): d for d in yaml.load_all(out.stdout, Loader=Loader) if d}
    ours = {resource_key(d): d for d in rendered(overlay)}
    assert sorted(theirs) == sorted(ours)
    for key in ours:
        assert theirs[key] == ours[key], f"{overlay}: {key} differs from kubectl kustomize"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_consistent_and_pinned(overlay):
    resources = rendered(overlay)
    images = {c["image"] for d in deployments(resources) for c in all_containers(d)}
    assert len(images) == 1, f"{overlay}: every G1000 container runs the one image: {images}"
    (image,) = images
    assert "/" in image.split("@")[0] and not image.endswith(":latest"), image
    if overlay == "production":
        assert re.fullmatch(r"[^@:]+(:\d+)?/[^@]+@sha256:[0-9a-f]{64}", image), f"production pins a digest: {image}"
    else:
        assert "@sha256:" in image or re.search(r":[\w][\w.-]*$", image.split("/")[-1]), image
    base_images = {c["image"] for d in deployments(build(BASE)) for c in all_containers(d)}
    assert base_images == {"g1000"}, "the base names the image `g1000`; overlays set registry and version"


# What the rendered overlays may differ in from the snapshot of the tree before the service
# template (tests/unit/deploy/golden/, taken at 1c10ff5): (overlay, kind, name) -> the JSON
# pointers that changed on purpose, each with its reason. None: the template changes how the
# manifests are written, not what is deployed.
INTENDED_DIFFERENCES: dict[tuple[str, str, str], dict[str, str]] = {}


def differences(before, after, pointer: str = "") -> list[str]:
    """The JSON pointers (RFC 6901) at which `after` differs from `before`: a member or item added,
    removed or changed (a changed list length is reported at the list)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after)):
            where = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
            if key not in before or key not in after:
                out.append(where)
            else:
                out += differences(before[key], after[key], where)
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after)) for d in differences(b, a, f"{pointer}/{i}")]
    return [] if before == after and type(before) is type(after) else [pointer or "/"]


def test_differences_finds_every_change():
    before = {"a": {"b": [1, {"c": "x"}], "d/e": True}, "f": 1}
    assert differences(before, json.loads(json.dumps(before))) == []
    after = {"a": {"b": [1, {"c": "y"}], "d/e": 1}, "g": 1}
    assert differences(before, after) == ["/a/b/1/c", "/a/d~1e", "/f", "/g"]
    assert differences([1, 2], [1, 2, 3]) == ["/"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_the_objects_and_settings_of_the_snapshot(overlay):
    """issue 11 item 7: one service template plus a small patch per service renders exactly what
    the four hand-written service manifests rendered: the same objects (apiVersion, kind,
    namespace, name) with the same settings, field by field, list order included."""
    golden = {resource_key(r): r for r in json.loads((GOLDEN / f"rendered-{overlay}.json").read_text())}
    ours = {resource_key(r): r for r in json.loads(json.dumps(rendered(overlay)))}
    assert sorted(ours, key=str) == sorted(golden, key=str), \
        f"{overlay}: objects added {sorted(set(ours) - set(golden), key=str)}, " \
        f"removed {sorted(set(golden) - set(ours), key=str)}"
    for key, before in golden.items():
        _, kind, _, name = key
        changed = differences(before, ours[key])
        assert changed == sorted(INTENDED_DIFFERENCES.get((overlay, kind, name), {})), \
            f"{overlay}: {kind}/{name} differs from the snapshot at {changed}"
