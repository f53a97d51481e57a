# Two commands matter: `make demo` (the main job) and `make test` (the whole suite).
# Both create .venv themselves and install from the pinned constraints file.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
CONSTRAINTS ?= constraints/constraints-$(PY_VERSION).txt
STAMP := $(VENV)/.installed-$(PY_VERSION)
PYTEST_ARGS ?=

.PHONY: help install demo demo-interactive test test-fast lint typecheck format bench emulator constraints clean

help:
	@echo "make demo         run the onboarding DAG end to end against the Wix emulator (local Airflow)"
	@echo "make test         lint, type-check and run the whole test suite"
	@echo "make test-fast    the same without the slow end-to-end tests"
	@echo "make bench        benchmarks (ratios measured side by side)"
	@echo "make emulator     serve the Wix emulator on http://127.0.0.1:8765"

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -f $(CONSTRAINTS) || { echo "No constraints file for Python $(PY_VERSION): $(CONSTRAINTS)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint $(CONSTRAINTS) -e '.[test,e2e,smtp]'
	@touch $@

demo: $(STAMP)
	$(BIN)/python demo/run_demo.py

demo-interactive: $(STAMP)
	$(BIN)/python demo/run_demo.py --interactive

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: lint typecheck
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Measure, then rewrite README's benchmark table from the results (never written by hand).
bench: $(STAMP)
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.readme

emulator: $(STAMP)
	$(BIN)/python -m airflow_provider_wix.emulator --port 8765

# Refresh the pinned constraints on purpose: resolve anew, then review the diff and run `make test`.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade pip
	.venv-constraints/bin/python -m pip install --quiet '.[test,e2e,smtp]'
	{ echo "# Pinned constraints for airflow-provider-wix on Python $(PY_VERSION)."; \
	  echo "# Refresh on purpose with: make constraints   (then review the diff and run make test)"; \
	  .venv-constraints/bin/pip freeze --exclude-editable | grep -v '^airflow-provider-wix' | sort -f; } > $(CONSTRAINTS)
	rm -rf .venv-constraints

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
