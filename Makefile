# Two commands matter: `make demo` (the main job) and `make test` (the whole suite).
# Both create .venv themselves and install from the pinned constraints file of your Python.
#
# Constraints: constraints/constraints-<python>.txt pin the newest supported Airflow (the default);
# constraints/airflow-<minor>/constraints-<python>.txt pin an older supported Airflow minor, used with
# AIRFLOW=<minor> (its own venv, .venv-compat/airflow-<minor>-py<python>) and by `make test-compat`.

PYTHON ?= python3
SUPPORTED_PYTHONS := 3.10 3.11 3.12 3.13
# Airflow minors the test matrix proves; the last one is the default (constraints/constraints-*.txt).
AIRFLOW_MINORS := 3.1 3.2 3.3
NEWEST_AIRFLOW := $(lastword $(AIRFLOW_MINORS))
AIRFLOW ?= $(NEWEST_AIRFLOW)
# `make test-compat` cells, airflow:python: every supported minor, the oldest and newest Python.
COMPAT_MATRIX ?= 3.1:3.10 3.2:3.12 3.3:3.13
PYTEST_ARGS ?=

PY_VERSION := $(shell $(PYTHON) -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null)
ifeq ($(AIRFLOW),$(NEWEST_AIRFLOW))
CONSTRAINTS ?= constraints/constraints-$(PY_VERSION).txt
VENV ?= .venv
else
CONSTRAINTS ?= constraints/airflow-$(AIRFLOW)/constraints-$(PY_VERSION).txt
VENV ?= .venv-compat/airflow-$(AIRFLOW)-py$(PY_VERSION)
endif
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-py$(PY_VERSION)

# One sentence instead of a make error when the interpreter or the Airflow minor cannot be served.
PICK_PYTHON := choose one with PYTHON=, e.g. make $(or $(firstword $(MAKECMDGOALS)),demo) PYTHON=python3.12 (or a path to that interpreter)
ifeq ($(PY_VERSION),)
UNSUPPORTED := "$(PYTHON)" was not found or does not run; airflow-provider-wix supports Python $(SUPPORTED_PYTHONS): $(PICK_PYTHON).
else ifeq ($(filter $(PY_VERSION),$(SUPPORTED_PYTHONS)),)
UNSUPPORTED := Python $(PY_VERSION) ($(PYTHON)) is not supported; airflow-provider-wix supports Python $(SUPPORTED_PYTHONS): $(PICK_PYTHON).
else ifeq ($(filter $(AIRFLOW),$(AIRFLOW_MINORS)),)
UNSUPPORTED := Airflow $(AIRFLOW) is not a tested minor; choose one of $(AIRFLOW_MINORS) with AIRFLOW= (default $(NEWEST_AIRFLOW)).
else ifeq ($(wildcard $(CONSTRAINTS)),)
UNSUPPORTED := There are no pinned constraints for Airflow $(AIRFLOW) on Python $(PY_VERSION) ($(CONSTRAINTS)); $(PICK_PYTHON).
endif

.PHONY: help install demo demo-interactive test test-fast test-compat test-dist lint typecheck format bench \
	emulator constraints clean supported-python compat-cell compat-readme

help:
	@echo "make demo         run the onboarding DAG end to end against the Wix emulator (local Airflow)"
	@echo "make test         lint, type-check and run the whole test suite"
	@echo "make test-fast    the same without the slow end-to-end tests"
	@echo "make test-compat  the fast suite on every supported Airflow minor (cells: $(COMPAT_MATRIX))"
	@echo "make test-dist    build the wheel and sdist, install the wheel per Airflow minor and check it"
	@echo "make bench        benchmarks (ratios measured side by side; BENCH=bulk_onboarding_1000 for the large one)"
	@echo "make emulator     serve the Wix emulator on http://127.0.0.1:8765"
	@echo "Python $(SUPPORTED_PYTHONS) (PYTHON=python3.X), Airflow $(AIRFLOW_MINORS) (AIRFLOW=3.X, default $(NEWEST_AIRFLOW))"

supported-python:
	$(if $(UNSUPPORTED),@echo '$(subst ','"'"',$(UNSUPPORTED))' >&2; exit 2)

install: $(STAMP)

# The stamp names the Python version and lives inside the venv: another interpreter finds no stamp,
# and `venv --clear` starts from an empty directory, so a venv is never reused across versions.
$(STAMP): | supported-python
$(STAMP): pyproject.toml $(wildcard $(CONSTRAINTS))
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint $(CONSTRAINTS) -e '.[test,e2e,smtp]'
	@touch $@

demo: supported-python $(STAMP)
	$(BIN)/python demo/run_demo.py

demo-interactive: supported-python $(STAMP)
	$(BIN)/python demo/run_demo.py --interactive

lint: supported-python $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: supported-python $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: lint typecheck
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# One venv per cell (reused while its constraints are unchanged), cells one after another (CPU is shared).
# .compat/results.txt keeps one line per cell (a rerun replaces its cell's line): the cell, the date,
# the versions, pytest's summary and the cell's wall time including the venv; README's matrix is
# generated from it (`make compat-readme`).
test-compat:
	@mkdir -p .compat && touch .compat/results.txt
	@status=0; for cell in $(COMPAT_MATRIX); do \
	  airflow=$${cell%%:*}; py=$${cell##*:}; \
	  interp=$$(constraints/find-python $$py) || { echo "Python $$py not found for cell $$cell" >&2; status=1; continue; }; \
	  echo "== Airflow $$airflow on Python $$py ($$interp)"; \
	  $(MAKE) --no-print-directory compat-cell AIRFLOW=$$airflow PYTHON=$$interp CELL_START=$$(date +%s) \
	    VENV=.venv-compat/airflow-$$airflow-py$$py || status=1; \
	done; \
	echo "== test-compat results"; cat .compat/results.txt; \
	$(PYTHON) constraints/readme.py || status=1; exit $$status

# README's tested-matrix table from .compat/results.txt (test-compat does this after every run).
compat-readme:
	$(PYTHON) constraints/readme.py

compat-cell: supported-python $(STAMP)
	@mkdir -p .compat; log=.compat/airflow-$(AIRFLOW)-py$(PY_VERSION).log; cell=$(AIRFLOW):$(PY_VERSION); \
	venv_s=$$(( $$(date +%s) - $(or $(CELL_START),$$(date +%s)) )); \
	$(BIN)/python -m pytest -m "not slow" -p no:cacheprovider $(PYTEST_ARGS) > $$log 2>&1; rc=$$?; \
	tail -n 3 $$log; \
	versions=$$($(BIN)/python -c "import sys, importlib.metadata as m; print('Airflow', m.version('apache-airflow'), '| Python', sys.version.split()[0])"); \
	summary=$$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' $$log | tail -n 1 | sed -E 's/^=+ //; s/ =+$$//'); \
	if grep -q -E '^!+ (KeyboardInterrupt|Interrupted)' $$log; then summary="interrupted after $$summary"; fi; \
	cell_s=$$(( $$(date +%s) - $(or $(CELL_START),$$(date +%s)) )); \
	load=$$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?); \
	grep -v "^$$cell |" .compat/results.txt > .compat/results.tmp 2>/dev/null; \
	echo "$$cell | $$(date -u +%Y-%m-%d) | $$versions | $${summary:-no summary, see $$log} | cell $${cell_s} s (venv $${venv_s} s), load $$load" \
	  >> .compat/results.tmp; \
	sort .compat/results.tmp > .compat/results.txt; rm -f .compat/results.tmp; \
	exit $$rc

# Cells airflow:python whose fresh venv gets the built wheel (default: the compat matrix).
DIST_MATRIX ?= $(COMPAT_MATRIX)
test-dist: supported-python $(STAMP)
	$(BIN)/python tests/dist/check_dist.py --cells "$(DIST_MATRIX)"

format: supported-python $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Measure, then rewrite README's benchmark table from the results (never written by hand).
# BENCH="name ..." runs only those, e.g. BENCH=bulk_onboarding_1000, which the default run leaves out.
BENCH ?=
bench: supported-python $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH)
	$(BIN)/python -m benchmarks.readme

emulator: supported-python $(STAMP)
	$(BIN)/python -m airflow_provider_wix.emulator --port 8765

# Refresh the pinned constraints on purpose: resolve anew for this Python (and AIRFLOW minor), then
# review the diff and run the tests. The release pinned per minor is its newest patch.
AIRFLOW_RELEASE_3.1 := 3.1.8
AIRFLOW_RELEASE_3.2 := 3.2.2
AIRFLOW_RELEASE_3.3 := 3.3.2
constraints:
	$(if $(filter $(PY_VERSION),$(SUPPORTED_PYTHONS)),,@echo 'Python "$(PY_VERSION)" ($(PYTHON)) is not one of $(SUPPORTED_PYTHONS).' >&2; exit 2)
	$(PYTHON) constraints/resolve.py --airflow $(AIRFLOW_RELEASE_$(AIRFLOW)) --output $(CONSTRAINTS) \
	  --prefer $(CONSTRAINTS)

clean:
	rm -rf .venv .venv-compat .compat .demo .pytest_cache .mypy_cache .ruff_cache dist
