# Two commands matter: `make run` and `make test`. Both install into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test bench clean

$(STAMP): pyproject.toml verifier/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./verifier -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

# The whole stack on loopback (embedded PostgreSQL, bundled broker, services, gateway) plus a
# short demo; state in .g1000/, Ctrl-C stops everything.
run: install
	$(BIN)/g1000 up --data-dir .g1000 --demo

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .g1000 .pytest_cache .hypothesis *.egg-info
