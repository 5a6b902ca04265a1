# softquery: `make run` starts the app with demo data, `make test` runs every check.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest system-deps bench clean

$(STAMP): pyproject.toml src/softquery/web/frontend/package-lock.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -e '.[dev]'
	bash scripts/build-assets.sh
	@touch $(STAMP)

install: $(STAMP)

# Server packages the integration tests need (PostgreSQL); installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

run: install
	$(BIN)/softquery init --if-needed
	$(BIN)/softquery demo --if-needed
	$(BIN)/softquery serve

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy src

# The browser tests run in their own pytest process: Playwright keeps threads alive, and
# the sandbox tests need a single-threaded process to test plain fork().
pytest: install system-deps
	$(BIN)/pytest -q --ignore=tests/e2e
	$(BIN)/pytest -q tests/e2e

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/batch.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
