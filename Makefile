# BotAudit. `make demo` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

# The demo: embedded SQLite, audit in-process (no Redis), DEBUG on, local-only. Its loopback ports
# are settable so it runs beside other services: make demo DEMO_AWS_PORT=6055 DEMO_VAULT_PORT=6210 DEMO_WEB_PORT=6000
DEMO_AWS_PORT ?= 5055
DEMO_VAULT_PORT ?= 8210
DEMO_WEB_PORT ?= 8000
DEMO_ENV := DJANGO_DEBUG=1 REDIS_URL= DATABASE_URL= DJANGO_SETTINGS_MODULE=botaudit.settings
DEMO_ENV += DEMO_AWS_PORT=$(DEMO_AWS_PORT) DEMO_VAULT_PORT=$(DEMO_VAULT_PORT) DEMO_WEB_PORT=$(DEMO_WEB_PORT)
DEMO_ENV += BOTAUDIT_BASE_URL=http://127.0.0.1:$(DEMO_WEB_PORT)
# AWS demo: a local moto server and fake credentials (moto accepts any; never real ones).
DEMO_ENV += AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1
# Vault demo: a throwaway OpenBao dev server (devtools.openbao_server.py) with this root token.
DEMO_ENV += VAULT_TOKEN=botaudit-demo-only-root-token
# Tests: real PostgreSQL and Redis on this machine unless DATABASE_URL / REDIS_URL say otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/botaudit
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Debian packages the tests need, as command:package. Chromium drives the browser tests (Playwright
# never downloads a browser); docker-compose validates docker-compose.yml; npm installs axe-core. Installed with apt-get
# when missing and running as root (APT_INSTALL=no: never); otherwise make stops at once naming them.
TEST_SYSTEM_PACKAGES ?= chromium:chromium docker-compose:docker-compose npm:npm
APT_INSTALL ?= auto

.PHONY: demo test lint install install-dev serve clean system-deps axe

# axe-core (npm, exact pin) for the accessibility browser test, installed once into var/axe/ by
# `make test`; the test injects it with Playwright and never downloads anything itself.
AXE_CORE_VERSION := 4.14.1
AXE_STAMP := var/axe/.installed-$(AXE_CORE_VERSION)

$(AXE_STAMP):
	@mkdir -p var/axe
	npm install --prefix var/axe --no-save --no-package-lock --no-audit --no-fund --silent axe-core@$(AXE_CORE_VERSION)
	test -f var/axe/node_modules/axe-core/axe.min.js && touch $@

axe: $(AXE_STAMP)

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-vault.txt
	$(PIP) install -q -r requirements-dev.txt
	$(PIP) install -q --require-hashes --no-deps -r requirements-vault.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed-dev
	$(DEMO_ENV) $(PY) manage.py migrate --noinput -v 0
	@mkdir -p var; if [ -f var/moto.pid ]; then kill $$(cat var/moto.pid) 2>/dev/null || true; sleep 1; fi
	$(PY) -m devtools.moto_server --port $(DEMO_AWS_PORT) > var/moto.log 2>&1 & echo $$! > var/moto.pid
	$(DEMO_ENV) $(PY) -m devtools.openbao_server
	$(DEMO_ENV) $(PY) manage.py demo_setup
	$(DEMO_ENV) $(PY) manage.py demo_history
	$(DEMO_ENV) $(PY) manage.py audit || test $$? -eq 2
	$(DEMO_ENV) $(PY) manage.py demo_setup --print-login
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(DEMO_WEB_PORT)

serve: $(VENV)/.installed
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(DEMO_WEB_PORT)

system-deps:
	@missing=""; for pair in $(TEST_SYSTEM_PACKAGES); do \
		command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$(APT_INSTALL)" != no ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing the Debian package(s) the tests need:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$$missing >/dev/null && exit 0; \
		echo "make test: apt-get could not install:$$missing" >&2; exit 1; \
	fi; \
	echo "make test needs the Debian package(s):$$missing. Install them with: sudo apt-get install$$missing" >&2; \
	exit 1

test: system-deps $(VENV)/.installed-dev $(AXE_STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) tests/preflight.py
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/test_layers.py

clean:
	-test -x $(PY) && $(PY) -m devtools.openbao_server stop
	rm -rf $(VENV) var demo staticfiles

# The fast lane: tests marked `fast` (pure checks and rules), SQLite in memory, no broker, no services.
.PHONY: test-fast
test-fast: $(VENV)/.installed-dev
	$(VENV)/bin/pytest -q -p no:cacheprovider --ds=botaudit.settings_fast -m fast $(PYTEST_ARGS)
