# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PROTO_SRC := protos/customercenter/v1
PROTO_OUT := protos/gen
PROTOS := $(wildcard $(PROTO_SRC)/*.proto)
export PYTHONPATH := $(CURDIR)/common:$(CURDIR)/protos/gen:$(CURDIR)/gateway:$(CURDIR)/identity-service:$(CURDIR)/contract-service:$(CURDIR)/package-service:$(CURDIR)/merge-service
GATEWAY_PORT ?= 8000

.PHONY: run test venv protos clean lint

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# Stubs and .pyi files from the protos (not committed; made on every run and test).
$(PROTO_OUT)/.stamp: $(PROTOS) $(VENV)/.installed
	rm -rf $(PROTO_OUT) && mkdir -p $(PROTO_OUT)
	$(PY) -m grpc_tools.protoc -I protos --python_out=$(PROTO_OUT) --pyi_out=$(PROTO_OUT) --grpc_python_out=$(PROTO_OUT) $(PROTOS)
	touch $@

protos: $(PROTO_OUT)/.stamp

lint: venv
	$(VENV)/bin/ruff check common gateway identity-service contract-service package-service merge-service tests bench
