# Two commands for a new user (see README.md):
#   make demo   set everything up, then run `crackle demo`
#   make test   set everything up, then run lint, types and the whole test suite
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench

$(VENV)/.crackle-installed: pyproject.toml setup.py src/crackle/sim/_normal.c scripts/setup.sh
	bash scripts/setup.sh

setup: $(VENV)/.crackle-installed

demo: setup
	$(BIN)/crackle demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: setup
	$(BIN)/python benchmarks/run_all.py
