# The two set-up commands: `make run` starts the hub, `make test` checks it.
# Both create .venv and install the project on first use; only Python 3.11 is needed.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
RECEIVER_PORT ?= 9000

.PHONY: run test lint format install migrate seed worker serve clean bench

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo --once
	$(BIN)/python manage.py ensure_demo_steward
	$(BIN)/python manage.py ensure_demo_subscriptions --receiver http://127.0.0.1:$(RECEIVER_PORT)

# The web app on $(HOST):$(PORT) with one Celery worker that also runs beat (the only scheduler).
run: seed
	@echo "Starting the hub on http://$(HOST):$(PORT)/ (API docs at /api/docs/, admin at /admin/)"
	@echo "Reference receiver for the demo subscriptions erp-demo and ecom-demo on http://127.0.0.1:$(RECEIVER_PORT)/"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python manage.py webhook_receiver --port $(RECEIVER_PORT) --secret "$$(cat var/demo-webhook-secret)" \
		--store var/demo-receiver.sqlite3 & \
	$(BIN)/celery -A mdm worker --beat --loglevel=INFO --concurrency=2 \
		--schedule=var/celerybeat-schedule & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT) --noreload

# Production-style web server (see README): gunicorn, 2 worker processes with 4 threads each
# (bench/xref.py measures this setting). On more cores: WORKERS = cores, e.g. `make serve WORKERS=8`.
WORKERS ?= 2
THREADS ?= 4
serve: migrate
	$(BIN)/gunicorn mdm.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) --threads $(THREADS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var
