# Escale: `make run` starts the whole system with a demo site, `make test`
# runs the whole suite. Both install what they need first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
REPLICAS ?= 1
PYTEST_ARGS ?=

export PATH := $(BIN):$(PATH)

.PHONY: install system-deps servers web-deps run test test-unit bench lock clean

$(STAMP): requirements/lock.txt libs/escale-common/pyproject.toml services/booking/pyproject.toml gateway/pyproject.toml cli/pyproject.toml \
		services/notify/pyproject.toml services/presence/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements/lock.txt
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps \
		-e libs/escale-common -e services/booking -e gateway -e cli -e services/notify -e services/presence
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need (a real browser for page tests).
system-deps:
	scripts/install-system-deps.sh

# Start PostgreSQL, Redis and RabbitMQ where one is down.
servers:
	scripts/ensure-servers.sh

run: install servers
	REPLICAS=$(REPLICAS) scripts/run.sh

# The web app needs no build (plain ES modules served by the gateway); npm
# brings only the browser tests' axe-core, pinned by web/package-lock.json.
WEB_STAMP := web/node_modules/.installed

$(WEB_STAMP): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

web-deps: $(WEB_STAMP)

test: install system-deps servers web-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: install
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

bench: install servers
	$(BIN)/python bench/run_all.py

lock:
	$(BIN)/uv pip compile -q --python $(BIN)/python --python-version 3.11 \
		--generate-hashes requirements/escale.in -o requirements/lock.txt

clean:
	rm -rf $(VENV) .run test-artifacts web/node_modules
