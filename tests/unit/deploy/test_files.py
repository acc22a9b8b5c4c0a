"""The files of deploy/k8s/ and the image they deploy."""

from __future__ import annotations

import re

from tests.support.deploy_tree import BASE, K8S, REPO, SERVICES, pod_template_labels, yaml_files
from tests.support.k8s_validators import DNS_LABEL, DNS_SUBDOMAIN, LABEL_KEY, LABEL_VALUE
from tests.support.kustomize import load_docs


def test_every_yaml_file_parses_and_every_object_has_a_valid_shape():
    files = yaml_files()
    assert len(files) >= 10
    for path in files:
        docs = load_docs(path)
        assert docs, f"{path} is empty"
        for doc in docs:
            where = f"{path.relative_to(REPO)}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            assert isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str), where
            if doc["kind"] in ("Kustomization", "Component"):
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


def test_the_services_are_one_template_and_a_small_kustomization_each():
    """issue 11 item 7: the ledger, the lottery, the agenda and the ballot are rendered from one
    template (deploy/k8s/components/service); a service's own directory holds what it does
    differently, not a copy. Only the template and the gateway write a Deployment by hand."""
    template = K8S / "components" / "service"
    assert load_docs(template / "kustomization.yaml")[0]["kind"] == "Component"
    for service in SERVICES:
        directory = BASE / service
        (kustomization,) = load_docs(directory / "kustomization.yaml")
        assert kustomization["components"] == ["../../components/service"], service
        assert kustomization["resources"] == ["values.yaml"], service
        (values,) = load_docs(directory / "values.yaml")
        assert values["metadata"]["annotations"] == {"config.kubernetes.io/local-config": "true"}
        assert values["data"] == {"service": service, "signing-key": f"{service}.key"}
        assert len((directory / "kustomization.yaml").read_text().splitlines()) <= 100, service
    written = sorted(str(path.relative_to(K8S)) for path in yaml_files()
                     if any(d.get("kind") == "Deployment" for d in load_docs(path)))
    assert written == ["base/gateway.yaml", "components/service/service.yaml"]
