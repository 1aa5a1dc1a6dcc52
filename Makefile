# QLVB — the two commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
HOST ?= 127.0.0.1
WORKERS ?= 2
export FLASK_APP := app:create_app

# Debian packages a serving host needs: WeasyPrint's Pango/HarfBuzz, a Times-metric font with full Vietnamese
# coverage (Liberation 2, not 1.07), and the PostgreSQL client for `flask qlvb backup`. Nothing else: no browser,
# no directory server, no compiler.
RUNTIME_PACKAGES := fonts-liberation2 fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
	libharfbuzz-subset0 libfontconfig1 postgresql-client
# python-ldap has no binary wheel: building it needs a compiler and headers (only with QLVB_AUTH=ldap*, or use
# PIP_FIND_LINKS=<folder of wheels built by `make wheels` on a build host>).
LDAP_BUILD_PACKAGES := gcc libldap-dev libsasl2-dev
# What the tests add: poppler for PDF checks, Chromium for browser tests, slapd for LDAP, SoftHSM2 as a real
# PKCS#11 token, nginx and pgbouncer for the cluster tests, Redis for Celery and shared rate limits, clamd for the
# virus-scan test (the app scans only when QLVB_CLAMD is set), dovecot for the mail-intake tests (run from a config in tmp).
TEST_PACKAGES := $(LDAP_BUILD_PACKAGES) poppler-utils chromium slapd ldap-utils softhsm2 opensc nginx pgbouncer \
	redis-server clamav-daemon dovecot-imapd
RUN_EXTRAS := $(if $(filter ldap ldap_then_db,$(QLVB_AUTH)),[ldap],)
RUN_PACKAGES := $(RUNTIME_PACKAGES) $(if $(RUN_EXTRAS),$(LDAP_BUILD_PACKAGES),)

.PHONY: run test system system-run system-test venv venv-run wheels assets lint init demo serve clean

run: venv-run assets init demo serve  ## runtime packages only; seed 35 agencies and a demo, serve the app

test: venv assets lint  ## runtime + test packages, lint, the whole suite
	$(PY) -m pytest

# $(call apt_install,packages): install those not installed yet (as root; prints what to install otherwise).
define apt_install
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "Run as root (or install: $$missing)"; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

system-run:
	$(call apt_install,$(RUN_PACKAGES))
	@# Node.js (to build the page assets) may come from Debian or NodeSource: only install if absent.
	@command -v npm >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq nodejs npm >/dev/null; }

system-test: system-run
	$(call apt_install,$(TEST_PACKAGES))

system: system-test

$(VENV)/.installed-run: pyproject.toml requirements.lock | system-run
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -c requirements.lock -e '.$(RUN_EXTRAS)'
	touch $@

$(VENV)/.installed: pyproject.toml requirements.lock | system-test
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -c requirements.lock -e '.[test,ldap]'
	touch $@ $(VENV)/.installed-run

venv-run: system-run $(VENV)/.installed-run app/translations/vi/LC_MESSAGES/messages.mo

wheels: venv  ## on a build host: wheels of what has none on PyPI, for PIP_FIND_LINKS on serving hosts
	$(PY) -m pip wheel -q -c requirements.lock --no-deps -w wheelhouse python-ldap

venv: system-test $(VENV)/.installed app/translations/vi/LC_MESSAGES/messages.mo

app/translations/vi/LC_MESSAGES/messages.mo: app/translations/vi/LC_MESSAGES/messages.po | $(VENV)/.installed-run
	$(VENV)/bin/pybabel compile -d app/translations

assets: app/web/static/dist/.built

app/web/static/dist/.built: $(wildcard package.json package-lock.json app/web/assets/*.js app/web/assets/*.json app/web/assets/*.css)
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --loglevel=error && npm run --silent build; fi
	mkdir -p app/web/static/dist && touch $@

lint: venv
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/lint-imports setup.cfg

init: venv-run
	$(VENV)/bin/flask qlvb init

demo: init
	$(VENV)/bin/flask qlvb demo --host-port $(PORT)

serve:
	@echo "QLVB chạy tại http://isotttt.localhost:$(PORT)/ (Sở TTTT), http://qlvb.localhost:$(PORT)/ (quản trị tỉnh)"
	$(VENV)/bin/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --threads 8 --timeout 120 \
		--access-logfile - '$(FLASK_APP)()'

clean:
	rm -rf $(VENV) node_modules app/web/static/dist wheelhouse
