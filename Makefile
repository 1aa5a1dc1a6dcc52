# QLVB — the two commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
HOST ?= 127.0.0.1
WORKERS ?= 2
export FLASK_APP := app:create_app

# Debian packages the app and its tests need: WeasyPrint's Pango/HarfBuzz, a Times-metric font with full
# Vietnamese coverage (Liberation 2, not 1.07), poppler for PDF checks, Chromium for browser tests,
# slapd for the LDAP tests, SoftHSM2 as a real PKCS#11 token, clamd for the virus-scan test (the app scans only
# when QLVB_CLAMD is set), redis for the shared login counters, and the headers python-ldap builds against.
SYSTEM_PACKAGES := fonts-liberation2 fonts-dejavu-core poppler-utils chromium slapd ldap-utils softhsm2 opensc clamav-daemon redis-server \
	libldap-dev libsasl2-dev libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
	gcc

.PHONY: run test system venv assets lint init demo serve clean

run: venv assets init demo serve  ## create everything, seed 35 agencies and a demo, serve the app

test: venv assets lint  ## install everything and run the whole suite
	$(PY) -m pytest

system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "Run as root (or install: $$missing)"; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# Node.js may come from Debian or NodeSource (whose nodejs already carries npm): only install if absent.
	@command -v npm >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq nodejs npm >/dev/null; }

$(VENV)/.installed: pyproject.toml requirements.lock | system
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -c requirements.lock -e '.[test]'
	touch $@

venv: system $(VENV)/.installed app/translations/vi/LC_MESSAGES/messages.mo

app/translations/vi/LC_MESSAGES/messages.mo: app/translations/vi/LC_MESSAGES/messages.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d app/translations

assets: app/web/static/dist/.built

app/web/static/dist/.built: $(wildcard package.json package-lock.json app/web/assets/*.js app/web/assets/*.json app/web/assets/*.css)
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --loglevel=error && npm run --silent build; fi
	mkdir -p app/web/static/dist && touch $@

lint: venv
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/lint-imports setup.cfg

init: venv
	$(VENV)/bin/flask qlvb init

demo: init
	$(VENV)/bin/flask qlvb demo --host-port $(PORT)

serve:
	@echo "QLVB chạy tại http://isotttt.localhost:$(PORT)/ (Sở TTTT), http://qlvb.localhost:$(PORT)/ (quản trị tỉnh)"
	$(VENV)/bin/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --threads 8 --timeout 120 \
		--access-logfile - '$(FLASK_APP)()'

clean:
	rm -rf $(VENV) node_modules app/web/static/dist
