# Two commands matter: `make run` and `make test`. Both install into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install browser run test fuzz bench clean

$(STAMP): pyproject.toml verifier/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./verifier -e '.[test]'
	touch $(STAMP)

# The benchmarks' reference (sortition-algorithms with cvxpy, scipy, python-mip) is big and only
# `make bench` needs it.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

install: $(STAMP)

# The whole stack on loopback (embedded PostgreSQL, bundled broker, services, gateway); on a fresh
# .g1000/ also a short demo (a restart keeps the state and adds no second demo summit). Ctrl-C
# stops everything. `make run HOST=0.0.0.0 PORT=8080` to choose where the gateway listens.
HOST ?= 127.0.0.1
PORT ?= 0
run: install
	$(BIN)/g1000 up --data-dir .g1000 --host $(HOST) --port $(PORT) $$(test -d .g1000 || echo --demo)

# Headless Chromium for tests/integration/test_gateway_docs_browser.py (the API reference rendered
# in a real browser). Installed with apt-get when missing and we are root (CI: a fresh Debian);
# otherwise it says what to do. G1000_SKIP_BROWSER=1 skips it (and that test) deliberately.
browser:
	@if [ "$${G1000_SKIP_BROWSER:-}" = 1 ]; then \
		echo "make browser: G1000_SKIP_BROWSER=1, the browser test will be skipped"; \
	elif command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make browser: installing Debian's chromium (headless, for the API reference test)"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; \
	else \
		echo "make browser: headless Chromium is missing. Install it (Debian/Ubuntu as root:" \
		     "apt-get install -y chromium), or run with G1000_SKIP_BROWSER=1 to skip the browser test." >&2; \
		exit 1; \
	fi

test: install browser
	$(BIN)/python -m pytest

# Schemathesis against the gateway's served /openapi.json, long: the test `make test` runs short
# (tests/integration/test_gateway_schemathesis.py) with FUZZ_EXAMPLES generated requests per
# operation and caller instead of 5, every unexpected method, and the stateful run (chains of
# calls along inferred links). No 5xx, nothing the document does not declare, every error
# problem+json. E.g. `make fuzz FUZZ_EXAMPLES=2000 FUZZ_SEED=7`; no per-test time limit.
FUZZ_EXAMPLES ?= 500
FUZZ_SEED     ?= 20270314
fuzz: install
	G1000_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) G1000_FUZZ_SEED=$(FUZZ_SEED) \
		$(BIN)/python -m pytest tests/integration/test_gateway_schemathesis.py --timeout=0

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .g1000 .pytest_cache .hypothesis *.egg-info
