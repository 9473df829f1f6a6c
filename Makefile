# The README's commands. Everything installs into .venv; nothing global is needed.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 5000
# E-mailed links point where `make run` serves, unless PORTAL_BASE_URL says otherwise.
BASE_URL := $(or $(PORTAL_BASE_URL),http://$(HOST):$(PORT))
# Without Stripe keys the demo takes card payments against a local Stripe emulator on
# 127.0.0.1 (portal/demo_stripe.py; no real money). The app ignores it in production.
STRIPE_DEMO_PORT ?= 8420
STRIPE_DEMO_URL := $(if $(PORTAL_STRIPE_SECRET_KEY),,http://127.0.0.1:$(STRIPE_DEMO_PORT))
WEBHOOK_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
RUN_ENV := PORTAL_BASE_URL=$(BASE_URL) $(if $(STRIPE_DEMO_URL),PORTAL_STRIPE_DEMO_URL=$(STRIPE_DEMO_URL))

# The date-sensitive modules, and the awkward moments `make test-clock` runs them at (UTC):
# 00:30 on New Year's Day in Copenhagen, 1 July at 00:30 (summer time), the night summer time
# ends, a leap day, and the real moment; then New Year's again on machines far from Copenhagen.
CLOCK_TESTS := tests/invoices/test_invoicing.py tests/invoices/test_reminders.py \
  tests/invoices/test_write_offs.py tests/invoices/test_payroll.py \
  tests/invoices/test_business_dates.py tests/invoices/test_receivables.py \
  tests/invoices/test_journal.py tests/invoices/test_payments.py \
  tests/portal/test_planned_shifts.py tests/portal/test_outcomes.py \
  tests/portal/test_two_factor.py tests/portal/test_auth.py tests/portal/test_hours.py \
  tests/portal/test_hours_auto.py tests/portal/test_hours_signoff.py tests/portal/test_privacy.py
CLOCK_MOMENTS := 2026-12-31T23:30:00Z 2027-06-30T22:30:00Z 2027-10-31T23:30:00Z \
  2028-02-29T12:00:00Z real
CLOCK_ZONES := Pacific/Kiritimati America/Los_Angeles

.PHONY: run test test-clock chromium bench serve install install-test translations messages migrate demo lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

# The demo's Stripe emulator (portal/demo_stripe.py); the test extras include it too.
$(VENV)/.installed-demo: | $(VENV)/.installed
	$(BIN)/pip install -q 'localstripe>=1.15'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -D "messages wtforms" --statistics

# After adding or changing UI text: extract it and merge into the Danish catalogue, then fill
# in every empty msgstr in translations/da/LC_MESSAGES/messages.po (a test checks none is left).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output -w 100 .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l da --no-fuzzy-matching --ignore-obsolete -w 100

migrate: install translations
	$(BIN)/alembic upgrade head

demo: migrate
	$(RUN_ENV) $(BIN)/flask --app wsgi demo

# The Stripe emulator (when no keys are set) runs beside the dev server and stops with it.
run: demo $(if $(STRIPE_DEMO_URL),$(VENV)/.installed-demo)
	@echo "Serving on http://$(HOST):$(PORT); e-mailed links point to $(BASE_URL)"
	if [ -n "$(STRIPE_DEMO_URL)" ]; then \
	  $(BIN)/python -m portal.demo_stripe --port $(STRIPE_DEMO_PORT) --state-dir instance/demo-stripe \
	    --webhook http://$(WEBHOOK_HOST):$(PORT)/stripe/webhook & stripe=$$!; \
	  trap 'kill $$stripe 2>/dev/null; wait $$stripe' EXIT; trap 'exit 143' INT TERM; \
	fi; \
	$(RUN_ENV) $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check .

test: install-test translations lint chromium
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite's clock is TEST_NOW (tests/helpers.py): each run moves it, or the machine's zone.
test-clock: install-test translations
	@set -e; for moment in $(CLOCK_MOMENTS); do \
	  echo "make test-clock: TEST_NOW=$$moment"; \
	  TEST_NOW=$$moment $(BIN)/pytest -q -p no:cacheprovider $(CLOCK_TESTS); \
	done; \
	for zone in $(CLOCK_ZONES); do \
	  echo "make test-clock: TZ=$$zone TEST_NOW=2026-12-31T23:30:00Z"; \
	  TZ=$$zone TEST_NOW=2026-12-31T23:30:00Z $(BIN)/pytest -q -p no:cacheprovider $(CLOCK_TESTS); \
	done

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else \
	    echo "make test: /usr/bin/chromium is missing; install it with: sudo apt-get install chromium"; \
	    echo "make test: the browser tests skip now (with CI=true they fail)."; \
	  fi; \
	fi

bench: install-test translations
	$(BIN)/python -m bench

# Production shape on one machine: migrations, then gunicorn, one RQ worker and the outbox
# sender under supervisord (deploy/supervisord.conf), which restarts any that dies. Configured
# only from the environment: PORTAL_DATABASE_URL (PostgreSQL), REDIS_URL, PORTAL_SECRET_KEY
# (README "Production"). WEB_CONCURRENCY sets gunicorn's worker processes. Stopping make
# stops them all.
serve: install translations
	@test -n "$$PORTAL_DATABASE_URL" || { echo "make serve: set PORTAL_DATABASE_URL (PostgreSQL)"; exit 2; }
	@test -n "$$REDIS_URL$$PORTAL_REDIS_URL" || { echo "make serve: set REDIS_URL"; exit 2; }
	@test -n "$$PORTAL_SECRET_KEY" || { echo "make serve: set PORTAL_SECRET_KEY"; exit 2; }
	PORTAL_ENV=production $(BIN)/alembic upgrade head
	@serve_dir=$$(mktemp -d); trap 'rm -rf "$$serve_dir"' EXIT; \
	PORTAL_ENV=production BIN=$(abspath $(BIN)) HOST=$(HOST) PORT=$(PORT) \
	  WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2} SERVE_DIR=$$serve_dir \
	  $(BIN)/supervisord -c deploy/supervisord.conf

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
