# The two commands a newcomer needs: `make demo` and `make test`.
# Both create the virtual environment and install everything on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sp4n-hub demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sp4n-hub export-schema --check

# Lint, types, the SDL snapshot, then every test against a real PostgreSQL
# (embedded, or DATABASE_URL) and a real Kafka broker the suite starts itself.
test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.reports_page

bench-quick: $(STAMP)
	$(BIN)/python -m bench.reports_page --quick

clean:
	rm -rf $(VENV) .sp4n .mypy_cache .ruff_cache .pytest_cache
