# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PROTO_SRC := protos/customercenter/v2
PROTO_OUT := protos/gen
PROTOS := $(wildcard $(PROTO_SRC)/*.proto)
# The packages of this repository (each with its pyproject.toml), installed editable into the venv:
# no PYTHONPATH anywhere, `python -m identity_service` works from any directory.
LOCAL_PACKAGES := common protos gateway identity-service contract-service package-service merge-service
GATEWAY_PORT ?= 8000

.PHONY: run test venv protos clean lint openapi env-docs contract lock

# Third-party packages exactly as requirements.lock pins them, each checked against its hashes
# (the lock is complete, so --no-deps: nothing is resolved at install time). `make lock` writes it.
$(VENV)/.locked: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --require-hashes --no-deps -r requirements.lock
	touch $@

# Then the local packages, editable, after the stubs they package (protos/pyproject.toml). Their
# dependencies are already there (--no-deps) and setuptools comes from the lock (--no-build-isolation).
$(VENV)/.installed: $(VENV)/.locked $(PROTO_OUT)/.stamp $(LOCAL_PACKAGES:%=%/pyproject.toml)
	$(PIP) install -q --no-deps --no-build-isolation $(LOCAL_PACKAGES:%=-e ./%)
	touch $@

venv: $(VENV)/.installed

# Stubs and .pyi files from the protos (not committed; made on every run and test). The .pyi
# files come from mypy-protobuf (messages and the grpc / grpc.aio stubs and servicers), for mypy.
$(PROTO_OUT)/.stamp: $(PROTOS) $(VENV)/.locked
	rm -rf $(PROTO_OUT) && mkdir -p $(PROTO_OUT)
	$(PY) -m grpc_tools.protoc -I protos --python_out=$(PROTO_OUT) --grpc_python_out=$(PROTO_OUT) \
		--plugin=protoc-gen-mypy=$(VENV)/bin/protoc-gen-mypy --mypy_out=quiet:$(PROTO_OUT) \
		--plugin=protoc-gen-mypy_grpc=$(VENV)/bin/protoc-gen-mypy_grpc --mypy_grpc_out=quiet:$(PROTO_OUT) $(PROTOS)
	touch $@

protos: $(PROTO_OUT)/.stamp

# requirements.lock (the dev venv) and deploy/locks/*.txt (one per image, and the image build
# stage) from requirements.txt, requirements-dev.txt and the pyproject.toml files, with hashes,
# for CPython 3.11 on Linux (scripts/lock.py; uv is pinned in requirements-dev.txt). Run it after
# changing any of them; tests/test_packaging.py fails while a lock is behind.
lock: $(VENV)/.locked
	$(PY) scripts/lock.py

# buf (protos: lint and breaking changes) from the npm registry, pinned in tools/buf with its lock
# file; needs Node.js and npm. Installed again when the lock file changes. Run it by hand as
# tools/buf/node_modules/.bin/buf (e.g. `buf lint`, `buf breaking --against protos/releases/v2.binpb`).
BUF_DIR := tools/buf
$(BUF_DIR)/node_modules/.installed: $(BUF_DIR)/package.json $(BUF_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "buf is installed with npm: install Node.js and npm (https://nodejs.org)"; exit 1; }
	npm ci --prefix $(BUF_DIR) --ignore-scripts --no-audit --no-fund
	touch $@

buf: $(BUF_DIR)/node_modules/.installed

# ruff check and ruff format --check over all Python code (pyproject.toml excludes the generated
# stubs and migrations), mypy
# (strict; [tool.mypy] in pyproject.toml, on the stubs `make protos` generates), then
# buf lint (the full STANDARD set) and buf breaking against the released protos
# (scripts/buf_check.py; protos/releases/README.md).
lint: venv buf protos
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) scripts/buf_check.py

# The OpenAPI document the gateway serves at /api/openapi.json, committed as docs/openapi.json
# (tests/unit/test_gateway_openapi.py fails when the two differ: run `make openapi`), and
# docs/api-index.md, where each operation's view, models and clients are (scripts/api_index.py).
openapi: venv protos
	$(PY) -c 'from gateway_app.api import main; main()' > docs/openapi.json
	$(PY) scripts/api_index.py > docs/api-index.md

# The README's table of environment variables, generated from common/cc_common/settings.py
# (tests/test_settings_docs.py fails when the two differ: run `make env-docs`).
env-docs: venv
	$(PY) -m cc_common.settings --readme README.md

# --- make run ------------------------------------------------------------------------------
# State (SQLite databases, keys) lives under var/. The staff account comes from
# STAFF_USERNAME / STAFF_PASSWORD; the defaults below are for a local demo only.
STAFF_USERNAME ?= staff
STAFF_PASSWORD ?= staff-demo-password
VAR_DIR ?= $(CURDIR)/var
export VAR_DIR

keys: venv
	$(PY) -c "from cc_common.config import TokenSettings; from cc_common.tokens import ensure_all_keys; ensure_all_keys(TokenSettings.from_env())"

run demo-data: export STAFF_USERNAME := $(STAFF_USERNAME)
run demo-data: export STAFF_PASSWORD := $(STAFF_PASSWORD)
run demo-data: export GATEWAY_PORT := $(GATEWAY_PORT)
run demo-data: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(GATEWAY_PORT)
# Readable log lines in the terminal (the processes write JSON lines by default; docs/observability.md).
run demo-data: export LOG_FORMAT ?= text

demo-data: venv protos keys
	@if [ -f scripts/load_demo_data.py ]; then \
		$(PY) scripts/load_demo_data.py; \
	else echo "scripts/load_demo_data.py does not exist yet: starting without demo data"; fi

# The services run their Alembic migrations when they start; honcho runs the Procfile.
run: venv protos keys demo-data
	@echo "Customer center: http://127.0.0.1:$(GATEWAY_PORT)/  (staff login: $(STAFF_USERNAME))"
	exec $(VENV)/bin/honcho start -f Procfile

# --- make test -----------------------------------------------------------------------------
# System tools some tests need: docker-compose (validates docker-compose.yml), chromium and
# its driver (browser tests). Installed with apt-get where they are missing and apt-get can
# run; a failure here is reported, and the tests that need the tool then skip (or fail
# under CI=true), so nothing is hidden.
APT_PACKAGES := docker-compose:docker-compose chromium:chromium chromium-driver:chromedriver haproxy:haproxy prometheus:prometheus

system-deps:
	@missing=""; for pair in $(APT_PACKAGES); do \
		pkg=$${pair%%:*}; bin=$${pair##*:}; \
		command -v $$bin >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "WARNING: missing$$missing and no apt-get here: the tests that need them will skip (fail under CI=true)"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else \
		echo "WARNING: missing$$missing and not root: install them with apt-get"; exit 0; fi; \
	echo "Installing$$missing with apt-get"; \
	( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing ) >/dev/null 2>&1 \
		|| echo "WARNING: apt-get install$$missing failed: the tests that need them will skip (fail under CI=true)"

# PostgreSQL for the database tests (127.0.0.1:5432, user postgres, trust auth). Started if it
# is down; the tests skip (fail under CI=true) when it still cannot be reached.
postgres:
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		echo "Starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql 2>/dev/null | tail -1) main start 2>&1 || true; \
		for i in $$(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done; \
	fi
	@if command -v psql >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" 2>/dev/null | grep -q 1 \
		|| psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test' 2>&1 || true; \
	fi

PYTEST_ARGS ?=
# buf is installed before the tests start (where npm exists; tests/test_protos_buf.py skips
# without it unless CI=true): installed by a test, the fresh binary was refused with "Text
# file busy" while the other test worker kept forking service processes.
test: venv protos system-deps postgres
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory buf; fi
	$(VENV)/bin/pytest -n 2 --dist loadgroup -p no:cacheprovider $(PYTEST_ARGS)

# The HTTP contract checked from outside (docs/http.md): schemathesis over every operation of
# the served OpenAPI document, against the five real processes. Also part of `make test`.
contract: venv protos
	$(VENV)/bin/pytest -p no:cacheprovider tests/contract $(PYTEST_ARGS)

# --- make cluster (see README, "Running several copies") ------------------------------------
# Two copies of every service and of the gateway on PostgreSQL (127.0.0.1:5432; databases
# cc_cluster_*), under supervisord, behind haproxy on GATEWAY_PORT. State under var/cluster/.
cluster: export STAFF_USERNAME := $(STAFF_USERNAME)
cluster: export STAFF_PASSWORD := $(STAFF_PASSWORD)
cluster: export GATEWAY_PORT := $(GATEWAY_PORT)
cluster: venv protos keys postgres
	@$(MAKE) -s system-deps APT_PACKAGES=haproxy:haproxy
	@command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || { echo "make cluster needs haproxy (apt-get install haproxy)"; exit 1; }
	$(PY) scripts/cluster.py up --demo-data

rolling-restart: venv
	$(PY) scripts/cluster.py rolling-restart

cluster-status: venv
	$(PY) scripts/cluster.py status

cluster-stop: venv
	$(PY) scripts/cluster.py down

# --- the benchmark (see README) -----------------------------------------------------------
BENCH_ARGS ?=
bench: venv protos
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1; } \
		|| echo "wrk is not installed: the benchmark uses its Python load generator"
	$(PY) bench/gateway.py $(BENCH_ARGS)

clean:
	rm -rf $(PROTO_OUT) .pytest_cache .ruff_cache

.PHONY: buf keys demo-data system-deps postgres bench cluster rolling-restart cluster-status cluster-stop
