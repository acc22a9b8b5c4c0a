"""The workloads: which process each Deployment runs, hardening, resources, probes, and the
Services, PodDisruptionBudgets and autoscaler around them."""

from __future__ import annotations

import inspect
import os

import pytest

from tests.support.deploy_tree import (
    BASE, OVERLAYS, REPO, SERVICES, by_kind, configmaps, container_env, deployments, labels_match,
    main_container, one, pod_labels, process_of, rendered, workloads,
)
from tests.support.k8s_validators import quantity
from tests.support.kustomize import build, pod_spec
from tests.support.network_policy import selector_matches


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
            assert quantity(resources["limits"]["memory"]) >= quantity(resources["requests"]["memory"]), where
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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_exactly_one_deployment_by_labels(overlay):
    resources = rendered(overlay)
    for service in by_kind(resources, "Service"):
        selector = service["spec"]["selector"]
        targets = [d for d in deployments(resources) if labels_match(selector, pod_labels(d))]
        assert len(targets) == 1, f"{service['metadata']['name']} selects {len(targets)} Deployments"
        assert labels_match(selector, targets[0]["spec"]["selector"]["matchLabels"])
        kind, name = process_of(main_container(targets[0]))
        assert kind in ("web", "gateway") and service["metadata"]["name"] == f"g1000-{name}"
        ports = {p["name"] for p in main_container(targets[0])["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports
    for deployment in deployments(resources):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert labels_match(selector, pod_labels(deployment))
        others = [d for d in deployments(resources) if d is not deployment and labels_match(selector, pod_labels(d))]
        assert not others, f"{deployment['metadata']['name']}'s selector also matches {others}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budgets_and_autoscaler_target_what_exists(overlay):
    resources = rendered(overlay)
    for pdb in by_kind(resources, "PodDisruptionBudget"):
        targets = [d for d in deployments(resources) if selector_matches(pdb["spec"]["selector"], pod_labels(d))]
        assert len(targets) == 1, pdb["metadata"]["name"]
        assert "maxUnavailable" in pdb["spec"] or pdb["spec"]["minAvailable"] < targets[0]["spec"].get("replicas", 1)
    (hpa,) = by_kind(resources, "HorizontalPodAutoscaler")
    target = one(resources, hpa["spec"]["scaleTargetRef"]["kind"], hpa["spec"]["scaleTargetRef"]["name"])
    assert "replicas" not in target["spec"], "the autoscaler owns the gateway's replica count"
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert main_container(target)["resources"]["requests"]["cpu"]
    pdb_targets = {d["metadata"]["name"] for p in by_kind(resources, "PodDisruptionBudget")
                   for d in deployments(resources) if selector_matches(p["spec"]["selector"], pod_labels(d))}
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
