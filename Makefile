# Developer entry points. Everything runs natively, no Docker engine needed:
# deploy/local/kafka.sh and deploy/local/postgres.sh manage the broker and the database server,
# honcho runs the platform's processes from the Procfile. `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
LOCAL := .local
PLATFORM_LOG := $(LOCAL)/logs/platform.log
PLATFORM_PID := $(LOCAL)/platform.pid
UP_TIMEOUT ?= 120
PYTEST_ARGS ?=

KAFKA_PORT := $(or $(CHS_KAFKA_PORT),19092)
PG_PORT := $(or $(CHS_PG_PORT),15432)
# Every API of the Procfile, on its port (CHS_<SERVICE>_HTTP_PORT overrides the default).
READY_URLS = $(addsuffix /readyz,$(shell python3 deploy/local/apis.py urls))

# The environment of the platform's processes. CHS_DATABASE_URL is passed only to them, never
# exported to deploy/local/postgres.sh (which leaves the database alone when it is set).
PLATFORM_ENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	CHS_KAFKA_BOOTSTRAP="$(or $(CHS_KAFKA_BOOTSTRAP),127.0.0.1:$(KAFKA_PORT))" \
	CHS_DATABASE_URL="$(or $(CHS_DATABASE_URL),postgresql://chs@127.0.0.1:$(PG_PORT)/postgres)"

# $(call http_ok,URL): succeeds when URL answers 200 (no proxy, 2 s timeout).
http_ok = $(PY) -c 'import sys, urllib.request as u; \
	sys.exit(u.build_opener(u.ProxyHandler({})).open(sys.argv[1], timeout=2).status != 200)' $(1) >/dev/null 2>&1
# Succeeds when the honcho started by `make up` is alive.
platform_alive = [[ -f $(PLATFORM_PID) ]] && kill -0 "$$(cat $(PLATFORM_PID))" 2>/dev/null \
	&& grep -q honcho "/proc/$$(cat $(PLATFORM_PID))/cmdline" 2>/dev/null

.PHONY: help setup lint up down demo test test-unit bench bench-pipeline bench-day bench-fraud bench-push logs clean

help:
	@echo "make setup      prepare .venv, Python deps, Kafka jars, Keycloak, PostgreSQL binaries (idempotent)"
	@echo "make up         start Kafka, PostgreSQL, Keycloak, topics and every process in the Procfile"
	@echo "make down       stop the processes, then Keycloak, Kafka, PostgreSQL"
	@echo "make demo       run scripts/demo.py against the running platform (starts it if needed)"
	@echo "make lint       ruff (lint and format check) and mypy over libs, services, scripts, bench, tests"
	@echo "make test       make lint, then all tests (the fixtures start the stack they need)"
	@echo "make test-unit  unit tests only (no Kafka, no PostgreSQL)"
	@echo "make bench      benchmarks on the local stack: hot paths, relay, consumer runner, credit hop, notification, processors, contribution API, memory at rest"
	@echo "make bench-pipeline  the account-notice pipeline end to end on the running platform (make up)"
	@echo "make bench-day  a synthetic province day through the running platform (BENCH_ARGS=--factor 0.01)"
	@echo "make bench-fraud  10,000 deaths against a year of benefits through the fraud processor (BENCH_ARGS=--factor 0.02)"
	@echo "make bench-push   segment matching over 200,000 push profiles, and the SQL preview (BENCH_ARGS=--profiles 200000)"
	@echo "make logs       follow the platform's log ($(PLATFORM_LOG))"
	@echo "make clean      make down, then remove $(LOCAL)/ (broker and database data, logs)"

setup:
	@deploy/local/setup.sh

up: setup
	@deploy/local/kafka.sh start
	@deploy/local/postgres.sh start
	@deploy/local/keycloak.sh start
	@$(PLATFORM_ENV) $(PY) -m chs_events.topics create
	@mkdir -p $(dir $(PLATFORM_LOG))
	@if $(platform_alive); then \
		echo "platform: already running (honcho pid $$(cat $(PLATFORM_PID)))"; \
	else \
		echo "=== $$(date -Is) make up" >>$(PLATFORM_LOG); \
		$(PLATFORM_ENV) setsid nohup $(VENV)/bin/honcho --no-colour -f Procfile start \
			</dev/null >>$(PLATFORM_LOG) 2>&1 & \
		echo $$! >$(PLATFORM_PID); \
		echo "platform: started the Procfile's processes (honcho pid $$(cat $(PLATFORM_PID)), log $(PLATFORM_LOG))"; \
	fi
	@deadline=$$((SECONDS + $(UP_TIMEOUT))); \
	for url in $(READY_URLS); do \
		until $(call http_ok,$$url); do \
			if ! $(platform_alive); then \
				echo "platform: the processes stopped during start-up; last lines of $(PLATFORM_LOG):" >&2; \
				tail -n 60 $(PLATFORM_LOG) >&2; exit 1; \
			fi; \
			if ((SECONDS > deadline)); then \
				echo "platform: $$url not ready after $(UP_TIMEOUT)s; last lines of $(PLATFORM_LOG):" >&2; \
				tail -n 60 $(PLATFORM_LOG) >&2; \
				echo "platform: the processes are left running (make logs, make down)" >&2; exit 1; \
			fi; \
			sleep 1; \
		done; \
		echo "platform: ready $$url"; \
	done
	@echo
	@python3 deploy/local/apis.py table
	@echo "  Kafka              127.0.0.1:$(KAFKA_PORT)"
	@echo "  PostgreSQL         $$(deploy/local/postgres.sh url | sed -E 's#//[^@/]*@#//…@#')"
	@echo "  Keycloak issuer    $$(deploy/local/keycloak.sh url)   (realm chs, tokens by client credentials)"
	@echo "  worker metrics     http://127.0.0.1:9101-9129/metrics   (service workers, dispatcher, processors)"
	@echo "  log                $(PLATFORM_LOG)   (make logs)"

down:
	@if $(platform_alive); then \
		pid=$$(cat $(PLATFORM_PID)); echo "platform: stopping (honcho pid $$pid)"; \
		kill -TERM $$pid; \
		for _ in $$(seq 40); do kill -0 $$pid 2>/dev/null || break; sleep 0.5; done; \
		if kill -0 $$pid 2>/dev/null; then kill -KILL $$pid; fi; \
		echo "platform: stopped"; \
	else \
		echo "platform: not running"; \
	fi
	@rm -f $(PLATFORM_PID)
	@deploy/local/keycloak.sh stop
	@deploy/local/kafka.sh stop
	@deploy/local/postgres.sh stop

# The demo scenarios (scripts/demo.py, then every scripts/demo_*.py) talk HTTP to the APIs on
# this stack's ports (CHS_<SERVICE>_HTTP_PORT), or to CHS_<SERVICE>_URL when given.
demo:
	@for url in $(READY_URLS); do \
		$(call http_ok,$$url) || { $(MAKE) --no-print-directory up; break; }; \
	done
	@set -a; eval "$$(python3 deploy/local/apis.py env | sed 's/^\(CHS_[A-Z_]*_URL\)=\(.*\)$$/\1="$${\1:-\2}"/')"; set +a; \
	for scenario in scripts/demo.py $$(ls scripts/demo_*.py | grep -v demo_support | sort); do \
		$(PLATFORM_ENV) $(PY) $$scenario || exit 1; \
	done

LINTED := libs services scripts bench tests

lint: setup
	@$(VENV)/bin/ruff check $(LINTED)
	@$(VENV)/bin/ruff format --check $(LINTED)
	@$(VENV)/bin/mypy $(LINTED)

test: lint
	@$(PY) -m pytest $(PYTEST_ARGS)

test-unit: setup
	@$(PY) -m pytest -m unit $(PYTEST_ARGS)

bench: setup
	@$(PLATFORM_ENV) $(PY) bench/run.py
	@deploy/local/kafka.sh start
	@deploy/local/postgres.sh start
	@$(PLATFORM_ENV) $(PY) bench/relay.py
	@$(PLATFORM_ENV) $(PY) bench/consumer.py
	@$(PLATFORM_ENV) $(PY) bench/credits.py
	@$(PLATFORM_ENV) $(PY) bench/notification.py
	@$(PLATFORM_ENV) $(PY) bench/streams.py
	@$(PLATFORM_ENV) $(PY) bench/push.py
	@deploy/local/keycloak.sh start
	@$(PLATFORM_ENV) $(PY) bench/contributions.py
	@$(PLATFORM_ENV) $(PY) bench/memory.py

bench-pipeline: up
	@$(PLATFORM_ENV) $(PY) bench/pipeline.py $(BENCH_ARGS)

bench-day: up
	@$(PLATFORM_ENV) $(PY) bench/province_day.py $(BENCH_ARGS)

bench-fraud: setup
	@deploy/local/kafka.sh start
	@$(PLATFORM_ENV) $(PY) bench/fraud.py $(BENCH_ARGS)

bench-push: setup
	@deploy/local/postgres.sh start
	@$(PLATFORM_ENV) $(PY) bench/push.py $(BENCH_ARGS)

logs:
	@test -f $(PLATFORM_LOG) || { echo "no log yet: $(PLATFORM_LOG) (make up)"; exit 1; }
	@tail -n 200 -F $(PLATFORM_LOG)

# postgres.sh clean also removes the data directory it chose outside the repository when the
# server user could not enter it (/var/tmp/chs-postgres-<hash>, recorded in .local/postgres-home).
clean: down
	@deploy/local/postgres.sh clean
	rm -rf $(LOCAL)
