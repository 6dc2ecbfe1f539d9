# TMR Clinic: `make run` serves the demo app with its background worker, `make test` runs the
# everyday checks (lint and the everyday test tier, in about a minute), `make test-all` every
# check, as CI does.
# Needs only Python 3.11+ and make; everything else goes into .venv.

PYTHON ?= python3
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-slow test-all lint clean messages

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "TMR Clinic needs Python 3.11 or newer; this is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py schedule_tasks
	@# The background worker (exports, reminders, clean-up) beside the server, stopped with it;
	@# links in exports and reminders lead to this server unless CLINIC_BASE_URL says otherwise.
	export CLINIC_BASE_URL="$${CLINIC_BASE_URL:-http://$(HOST):$(PORT)}"; \
	$(BIN)/python manage.py db_worker --no-reload --verbosity 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# The everyday tier: every test but the slow tier's (marked `slow`: browser, deployment,
# backup/restore, two-server, outage and benchmark tests, the longest walks of hostile values),
# hypothesis with few examples, spread over every core (pytest-xdist; TEST_WORKERS=0 for one
# process).
TEST_WORKERS ?= auto
test: lint
	$(BIN)/pytest -m "not slow" -n $(TEST_WORKERS)

# The slow tier alone. pytest exits with 5 when it selects no test at all: not a failure.
test-slow: $(VENV)/.dev-installed
	$(BIN)/pytest -m slow || [ $$? -eq 5 ]

# Both tiers, hypothesis with its thorough profile: what CI runs. The everyday tier over every
# core, as in `make test`; the slow tier (browsers, servers, benchmarks) in one process.
test-all: lint
	$(BIN)/pytest -m "not slow" -n $(TEST_WORKERS) --hypothesis-profile=thorough
	$(BIN)/pytest -m slow --hypothesis-profile=thorough

# After marking or changing a string: update the catalogues (locale/*/LC_MESSAGES/django.po),
# translate what is new, then run it again to compile them. Needs GNU gettext (apt-get install
# gettext); tests/test_translations.py passes the same arguments.
messages: $(VENV)/.dev-installed
	$(BIN)/python manage.py makemessages --all --add-location=file --no-obsolete \
		--ignore='.venv/*' --ignore='staticfiles/*' --ignore='tests/*' --ignore='bench/*'
	$(BIN)/python manage.py compilemessages --ignore='.venv/*'

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
