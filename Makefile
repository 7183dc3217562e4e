# The two commands: `make run` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch comes first and pinned: a CPU build of 2.13.0 is what the project uses; letting
# sentence-transformers pick torch would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
# Test processes for `make test` (pytest-xdist; each file runs whole in one of them).
TEST_WORKERS ?= 2

.PHONY: run test install install-dev lint contract pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(TORCH)
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.installed

run: install
	$(BIN)/jobunivers run

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

contract: install-dev
	$(BIN)/jobunivers export-schema --check

pytest: install-dev
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test: lint contract pytest

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
