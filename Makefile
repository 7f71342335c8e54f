# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run worker test test-fast reliability lint client bench bench-drain bench-e2e bench-dashboard bench-batch bench-fairness bench-scale-out lock clean

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	NEONHUB_PUBLIC_URL=$${NEONHUB_PUBLIC_URL:-http://$(HOST):$(PORT)} $(PY) manage.py demo
	@# One web server and one worker; Ctrl-C stops both.
	@NEONHUB_PUBLIC_URL=$${NEONHUB_PUBLIC_URL:-http://$(HOST):$(PORT)} \
	  NEONHUB_LOG_FORMAT=$${NEONHUB_LOG_FORMAT:-console} bash -c 'trap "kill 0" EXIT INT TERM; \
	  $(PY) manage.py qcluster & \
	  $(PY) manage.py runserver $(HOST):$(PORT) --noreload & \
	  wait'

worker: install
	$(PY) manage.py qcluster

# Two sessions: the fast suite, then the tests with real worker processes and a browser and the
# short form of the reliability suite, on a fresh test database of their own; coverage adds up
# across both.
test: install
	$(PY) -m pytest -m "not e2e and not browser and not reliability" --cov --cov-report= $(PYTEST_ARGS)
	$(PY) -m pytest -m "e2e or browser or reliability" --cov --cov-append --cov-report=term --cov-fail-under=90 $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not e2e and not browser and not reliability" $(PYTEST_ARGS)

# The long form of the reliability suite (tests/reliability): more runs, kills, faults and
# generated requests.  RELIABILITY_SEED changes the random choices; on PostgreSQL and Redis
# (DATABASE_URL, REDIS_URL) it also drops their connections mid-load.
reliability: install
	RELIABILITY=long $(PY) -m pytest -m reliability $(PYTEST_ARGS)

# Lint, format, and the direction of imports (import-linter contracts in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The OpenAPI contract as a typed client: export the document, generate TypeScript types with
# openapi-typescript and type-check clients/typescript/example.ts (npm ci installs the pinned tools).
client: install
	PYTHON=$(PY) clients/typescript/check.sh

bench: install
	$(PY) bench/run_throughput.py
	$(PY) bench/connector_overhead.py

# Draining a pre-filled queue (runs against bare django-q2 no-ops), and end to end: concurrent
# clients POSTing runs to gunicorn while one qcluster completes them.  Set DATABASE_URL and
# REDIS_URL (a scratch database and Redis db) to measure PostgreSQL with Redis.
bench-drain: install
	$(PY) bench/drain.py

bench-e2e: install
	$(PY) bench/end_to_end.py

bench-dashboard: install
	$(PY) bench/dashboard.py

bench-batch: install
	$(PY) bench/batch.py

# One organization floods 5,000 runs, another starts one: its wait at p50 and p95 (goal: 2 s).
# NEONHUB_ORG_MAX_IN_FLIGHT=0 measures the one first-in, first-out queue for comparison.
bench-fairness: install
	$(PY) bench/fairness.py

# One queue of runs drained by 1, 2 and 4 qcluster processes at once (set DATABASE_URL and
# REDIS_URL: scale-out is for PostgreSQL with Redis).
bench-scale-out: install
	$(PY) bench/scale_out.py

lock:
	$(VENV)/bin/pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .coverage .coverage.*
