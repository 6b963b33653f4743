# The two commands of the README: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
STAMP_NODE := node_modules/.installed

.PHONY: help install install-run system system-browser samples run up test lint bench clean reset

help:
	@echo "make run    - install what is missing, start the local stack and run the demo on the sample forms"
	@echo "make test   - install what is missing and run the test suite (ruff + pytest)"
	@echo "make up     - install what is missing and start the local stack; prints the review page's address"
	@echo "make bench  - run the benchmarks (numbers go to bench/RESULTS.md by hand)"
	@echo "make clean  - remove caches (keeps the local stack's data in .formloop/)"
	@echo "make reset  - delete the local stack's data: .formloop/ (forms, labels, tables, models)"

# `make run` installs the local stack only (requirements-local.txt); `make test` adds the test tools
# (requirements-dev.txt: pytest, ruff, Playwright, the official SDKs...) and Chromium.
install-run: $(STAMP_RUN) $(STAMP_NODE) system

install: $(STAMP_DEV) $(STAMP_NODE) system-browser

system:
	@scripts/ensure-system-packages.sh

system-browser:
	@scripts/ensure-system-packages.sh --browser

$(STAMP_RUN): requirements.txt engine/requirements.txt engine/requirements-nodeps.txt requirements-local.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-local.txt
	$(BIN)/python scripts/ocr_models.py
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

$(STAMP_DEV): $(STAMP_RUN) requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The Azure SDKs' own samples (only in their source packages) for tests/engine/samples, fetched by
# `make test` (not `make run`, which needs none of them) into .cache/sdk-samples/
samples: $(STAMP_DEV)
	@$(BIN)/python scripts/fetch_sdk_samples.py

$(STAMP_NODE): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm (Node 20) not found; install Node.js 20" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The installs (pip, npm, apt) are independent: they run side by side (first `make run`: 81 s -> 66 s).
run:
	@$(MAKE) --no-print-directory -j3 install-run
	$(BIN)/formloop up --demo

up:
	@$(MAKE) --no-print-directory -j3 install-run
	$(BIN)/formloop up

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

test:
	@$(MAKE) --no-print-directory -j3 install
	@$(MAKE) --no-print-directory samples lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run_all.py

# Caches only: never the local stack's data (that is `make reset`, which says what it deletes).
clean:
	rm -rf .pytest_cache .ruff_cache bench/out
	find . -name __pycache__ -type d -not -path './.venv/*' -not -path './node_modules/*' -prune -exec rm -rf {} +

reset:
	@echo "make reset: deleting .formloop/ (the local stack's storage: every form, label and table row; the engine's models and results; logs)"
	rm -rf .formloop
