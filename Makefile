# Linkilike: `make run` starts the platform with demo data; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# Tests always run on PostgreSQL and Redis (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/linkilike
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# The suite runs on TEST_WORKERS parallel pytest-xdist workers (0: one process). Each worker keeps its own
# test database, test_linkilike_gw<n>, which the next `make test` reuses (--reuse-db: only new migrations
# run); `make test PYTEST_ARGS=--create-db` builds them anew. Tests that share one fixed-port server (the
# local Bluesky network) or a whole stack (the browser journey) stay on one worker (xdist_group, conftest.py;
# --dist loadgroup in pyproject.toml).
TEST_WORKERS ?= 2
TEST_DB_NAME ?= test_linkilike
PYTEST_ARGS ?=

.PHONY: install install-dev run web worker beat migrate demo totp test bluesky-devenv lint typecheck templates-lint pytest messages clean bench bench-tools drills

# Two stamps: what the platform runs (requirements.txt; `make run`) and the test and development tools on top
# (requirements-dev.txt; `make test` and the checks). The Docker image installs requirements.txt only.
$(VENV)/.installed: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Embedded defaults (SQLite, file-system broker) unless DATABASE_URL / CELERY_BROKER_URL are set.
run: export DJANGO_DEBUG ?= 1
run: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_seed
	@echo ""
	@echo "Linkilike is starting at http://127.0.0.1:8000/ (web, worker and scheduler; Ctrl-C stops all)."
	$(BIN)/honcho start -f Procfile.dev

migrate: export DJANGO_DEBUG ?= 1
migrate: install
	$(PY) manage.py migrate --noinput

demo: export DJANGO_DEBUG ?= 1
demo: install
	$(PY) manage.py demo_seed

totp: export DJANGO_DEBUG ?= 1
totp: install
	@$(PY) manage.py demo_totp

test: export LINKILIKE_TESTING = 1
test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: export REDIS_URL = $(TEST_REDIS_URL)
test: export CELERY_BROKER_URL = $(TEST_REDIS_URL)
test: export LINKILIKE_TEST_DB_NAME = $(TEST_DB_NAME)
test: install-dev bluesky-devenv lint typecheck templates-lint
	DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) --reuse-db $(PYTEST_ARGS)

# The local AT Protocol network (PLC, PDS, AppView) the Bluesky tests run against; about a second when installed.
bluesky-devenv:
	networks/devenv/install.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: export LINKILIKE_TESTING = 1
typecheck: install-dev
	$(BIN)/mypy .

templates-lint: install-dev
	$(BIN)/djlint templates --lint

messages: export DJANGO_DEBUG ?= 1
messages: install
	$(PY) manage.py makemessages -l de --no-obsolete --ignore=.venv --ignore=var --ignore=node_modules --ignore="networks/devenv/*" --ignore="tests/*" --ignore="*/tests/*"
	$(PY) manage.py compilemessages --ignore=.venv

# Benchmarks (docs/SCALING.md): each prints its figures beside its target and exits non-zero on a miss;
# `make bench` runs them all and writes the figures to docs/BENCHMARKS.md. One alone: `make bench-p2_results`.
BENCHES := p1_redirect p2_results p3_metrics p4_earnings p5_matching p6_load
bench-tools: install-dev
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	$(BIN)/pip install --quiet -r bench/requirements.txt

bench: install-dev bench-tools
	@status=0; for b in $(BENCHES); do $(PY) -m bench.$$b || status=1; done; \
	$(PY) -m bench.summary || status=1; exit $$status

bench-%: install-dev bench-tools
	$(PY) -m bench.$*

# Reliability drills (docs/RELIABILITY.md): faults injected into real processes; each prints its figures.
DRILLS := t1_sigkill t5_restarts q1_queues m1_ledger_long
drills: install-dev
	@status=0; for d in $(DRILLS); do $(PY) -m tests.drills.$$d || status=1; done; exit $$status

drill-%: install-dev
	$(PY) -m tests.drills.$*

clean:
	rm -rf var/broker var/cache
