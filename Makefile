# One-command set-up on a fresh machine: `make demo` and `make test` create .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint types docs bench mutation clean

# The compiled passes (presetctl/_speedups.c) are built by the install (hatch_build.py): a change rebuilds them.
$(STAMP): pyproject.toml hatch_build.py presetctl/_speedups.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/presetctl validate sample_presets/ ; test $$? -le 1
	$(BIN)/presetctl validate --profile marketplace sample_presets/ ; test $$? -le 1

lint: $(STAMP)
	$(BIN)/ruff check presetctl tests benchmarks tools hatch_build.py

types: $(STAMP)
	$(BIN)/mypy

check: lint types

test: $(STAMP) lint types
	$(BIN)/python -m pytest

docs: $(STAMP)
	$(BIN)/python -m presetctl.docgen

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/compare.py --count 20000 --params 400

# Mutation testing of the modules that guard data and contracts (docs/testing.md); not part of `make test`.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet 'mutmut>=3.8,<4'
	$(BIN)/python tools/mutation.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache mutants
