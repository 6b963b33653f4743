# The two commands of the README: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

.PHONY: help install system run up test lint bench clean

help:
	@echo "make run    - install what is missing, start the local stack and run the demo on the sample forms"
	@echo "make test   - install what is missing and run the test suite (ruff + pytest)"
	@echo "make bench  - run the benchmarks (numbers go to bench/RESULTS.md by hand)"

install: $(STAMP_PY) $(STAMP_NODE) system

system:
	@scripts/ensure-system-packages.sh

$(STAMP_PY): requirements.txt engine/requirements.txt requirements-dev.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

$(STAMP_NODE): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm (Node 20) not found; install Node.js 20" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: install
	$(BIN)/formloop up --demo

up: install
	$(BIN)/formloop up

lint: $(STAMP_PY)
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf .formloop .pytest_cache .ruff_cache bench/out
