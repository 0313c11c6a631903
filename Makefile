# tradedesk developer and CI entry points (GNU make). `make test` is what .ci/run runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Steps of `test` run one after another, stopping at the first failure, even under -j.
.NOTPARALLEL:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

# Services the tests and benchmarks use (started by scripts/ensure-services.sh).
SERVICE_ENV := DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/tradedesk \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/15 \
	DJANGO_ALLOW_ASYNC_UNSAFE=true

.PHONY: help venv dev-venv run run-lean services test lint units typecheck pytest smoke bench screenshots clean flower

help:
	@echo "make run        migrate, seed the demo user, start web (uvicorn: pages and push streams)+worker+beat+ingest watcher (SQLite, filesystem broker, simulator)"
	@echo "make run-lean   the same on real LEAN (docs/lean.md) in var-lean/: no demo user, no demo fills"
	@echo "make test       services, lint, units, typecheck, pytest, smoke (what CI runs)"
	@echo "make lint | units | typecheck | pytest | smoke | bench | screenshots | services | venv | clean"

venv: $(STAMP)
dev-venv: $(DEV_STAMP)

# make run installs what the app needs; make test adds the test, lint and type tools.
$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: venv
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/honcho start -f Procfile

# Real LEAN (docs/lean.md) on a workstation: its own var folder and database, never seed_demo's demo/demo
# login or fake fills. Create a login with `TRADEDESK_VAR_DIR=var-lean .venv/bin/python manage.py createsuperuser`.
LEAN_VAR_DIR ?= var-lean
run-lean: venv
	TRADEDESK_VAR_DIR=$(LEAN_VAR_DIR) TRADEDESK_ENGINE=lean $(BIN)/python manage.py migrate --noinput
	TRADEDESK_VAR_DIR=$(LEAN_VAR_DIR) TRADEDESK_ENGINE=lean $(BIN)/honcho start -f Procfile

services:
	bash scripts/ensure-services.sh

test: dev-venv services lint units typecheck pytest smoke

lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# systemd-analyze verify on deploy/systemd/ (skipped where systemd-analyze is missing).
units:
	bash scripts/verify-units.sh

typecheck: dev-venv
	$(BIN)/mypy

# Extra pytest options: PYTEST_ADDOPTS='-k name -x' make pytest. Exit 5 (no tests collected) is not an error.
pytest: dev-venv
	$(SERVICE_ENV) $(BIN)/pytest -q || { rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; else exit $$rc; fi; }

smoke: dev-venv
	bash scripts/smoke.sh

# Benchmarks use their own databases (tradedesk_bench_*) and Redis db 14, so they never disturb the tests.
BENCH_ENV := $(SERVICE_ENV) CELERY_BROKER_URL=redis://127.0.0.1:6379/14

# Every benchmark runs even when an earlier one misses a target; the exit status says whether all held.
bench: dev-venv
	bash scripts/ensure-services.sh --bench
	rc=0; \
	for script in ingest latency load; do \
		echo "== bench/$$script.py"; \
		$(BENCH_ENV) $(BIN)/python bench/$$script.py || rc=1; \
	done; \
	exit $$rc

# The README's screenshots (docs/live-trade*.png) from a real session in headless Chromium with the simulator.
screenshots: dev-venv services
	$(SERVICE_ENV) $(BIN)/pytest -q -p no:cacheprovider tests/e2e/screenshots.py

# Refuses while an engine runs under var/ or its events are not all ingested (manage.py var_clean --force).
clean:
	if [ -x $(BIN)/python ]; then $(BIN)/python manage.py var_clean; \
	elif compgen -G 'var/execution/engines/*/events.jsonl' >/dev/null; then \
		echo "make clean: var/ holds engine folders and there is no venv to check them; remove var/ by hand"; exit 1; \
	else rm -rf var; fi

# Watch Celery workers and tasks at http://127.0.0.1:5555 (run beside `make run`).
flower: venv
	$(BIN)/celery -A tradedesk flower --address=127.0.0.1 --port=5555
