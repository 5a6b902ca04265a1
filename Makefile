# softquery: `make run` starts the app with demo data, `make test` runs every check.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest system-deps bench clean

# The browser libraries first: the package build (setup.py) then finds them current and
# needs no second npm run.
$(STAMP): pyproject.toml setup.py scripts/build-assets.sh src/softquery/web/frontend/package-lock.json
	@echo "==> Setting up softquery in $(VENV); the first time takes a few minutes (later runs skip this)."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> Fetching the web pages' browser libraries with npm (htmx, CodeMirror, Chart.js, Swagger UI)..."
	bash scripts/build-assets.sh
	@echo "==> Installing softquery and its Python packages with pip (quiet; 2-5 minutes the first time)..."
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -e '.[dev,test]'
	@echo "==> Installed."
	@touch $(STAMP)

install: $(STAMP)

# Server packages the integration tests need (PostgreSQL); installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

run: install
	@echo "==> Preparing the home (metadata DB, secret key, first admin) and the demo data..."
	$(BIN)/softquery init --if-needed
	$(BIN)/softquery demo --if-needed
	@echo "==> Starting the server (Ctrl-C stops it)..."
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
