# repflow: `make run` loads the bundled inbox; `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types pytest quick bench soak clean

# uv installs the lockfile in 20 s where pip takes over a minute of CI's ten. It compiles the
# bytecode as pip does: with PYTHONDONTWRITEBYTECODE set (as on these machines), nothing else
# would, and every process would compile Prefect and the rest again (tests ran 1.6x slower).
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/repflow run --inbox data/inbox

test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadgroup

# Benchmarks against their baselines (docs/performance.md); not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m bench.run

# The quick loop: everything but the slow end-to-end tests.
quick: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadgroup -m "not slow"

# A year of nightly runs over a generated gym of 30 athletes, kills included
# (docs/reliability.md); `make test` plays 30 nights of 12 athletes.
soak: $(STAMP)
	$(BIN)/pytest -q -s tests/reliability/test_soak.py --soak-nights 365 --soak-athletes 30

clean:
	rm -rf $(VENV) .prefect warehouse.duckdb analytics.duckdb warehouse.duckdb.run.lock
