# syntax=docker/dockerfile:1
# The G1000 backend image: every service web app (gunicorn), the outbox relays and consumers
# (`g1000 worker ...`), the gateway, the operator's `g1000 admin`, and the auditor's
# `g1000-verify`. Kubernetes manifests: deploy/k8s/ (the pods override the command per process).
#
#   docker build -t registry.example.org/g1000/backend:0.1.0 .
#
# Pin the base image by digest for reproducible builds (python:3.11-slim@sha256:...).
ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: wheels of the verifier, the project and every dependency ---------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# the verifier is a distribution of its own that the project depends on (g1000-verify==0.1.0);
# building both in one pip call resolves it from here, never from an index
COPY verifier/ verifier/
COPY pyproject.toml README.md ./
COPY services/ services/
COPY gateway/ gateway/
COPY g1000/ g1000/
RUN python -m pip wheel --wheel-dir /wheels ./verifier .

# ---- runtime: the wheels installed without an index, no compilers, no source tree ---------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="g1000-backend" \
      org.opencontainers.image.description="G1000 citizens' summit backend: services, workers, gateway, verifier" \
      org.opencontainers.image.licenses="EUPL-1.2"
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# one unprivileged user; the Kubernetes pods run as the same uid/gid (runAsUser/runAsGroup 10001)
RUN groupadd --system --gid 10001 g1000 \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin g1000
# --no-index: only the wheels built above; pip precompiles the bytecode, so a read-only root
# filesystem costs nothing at start. pip itself is removed afterwards: nothing installs at run time.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-index --find-links /wheels g1000 g1000-verify \
 && python -m pip uninstall --yes pip \
 && g1000 --help >/dev/null && g1000-verify --help >/dev/null && gunicorn --version >/dev/null
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["g1000"]
CMD ["--help"]
