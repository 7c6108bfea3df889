# Portico: `make run` serves the demo, `make test` runs the suite. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: install run test lint schema persisted bench bench-fanout bench-pressure clean

install: $(VENV)/.installed node_modules/.installed clients/node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# the client libraries tests/clients drives against a live server (Apollo, urql, graphql-ws, Codegen, Relay)
clients/node_modules/.installed: clients/package.json clients/package-lock.json
	npm ci --prefix clients --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(PY) app.py migrate
	$(PY) app.py seed-demo
	$(PY) app.py serve

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

schema: install
	$(PY) -m services.schema_file --write

persisted: install
	$(PY) -m services.persisted_manifest --write

clean:
	rm -rf $(VENV) node_modules clients/node_modules clients/generated .pytest_cache .ruff_cache

# BENCH_SIZE=small|large, BENCH_DURATION=seconds per run (default 10), BENCH_PEERS=postgraphile (PostGraphile v4
# beside Q1; `npm ci --prefix bench` when missing); installs wrk when missing (needs root)
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run

# subscription fan-out beside a graphql-ws + ws reference server (Node, pinned in bench/package.json; npm ci when
# missing), same box, same Python client: N subscribers of one organization (FANOUT_SUBSCRIBERS, default
# 1,1000,5000) all delivered, server CPU per delivery, memory per idle connection, connect time; a SaaS-shaped case
# (FANOUT_SAAS_ORGANIZATIONS x 10 sockets, 200 events/s); targets met/missed, machine-readable last lines
FANOUT_SUBSCRIBERS ?= 1,1000,5000
FANOUT_SAAS_ORGANIZATIONS ?= 1000
bench-fanout: install
	$(PY) -m bench.fanout --subscribers $(FANOUT_SUBSCRIBERS) --saas-organizations $(FANOUT_SAAS_ORGANIZATIONS)

# a normal portal query's p50 while 8 sessions send the worst query the limits allow (target: within 3x idle)
bench-pressure: install
	$(PY) -m bench.pressure
