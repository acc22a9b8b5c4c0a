"""deploy/k8s/ checked offline: no cluster, no network, no kubectl needed.

Every overlay is built the way kustomize builds it (the kustomizations keep to resources, JSON 6902
patches, images, replicas and namespace, which tests/support/kustomize.py implements; where `kubectl` is on the
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
