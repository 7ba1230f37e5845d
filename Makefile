# driftloop — one command per job. `make test` is what CI runs (via .ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, or the one `make uv` installs with pip for this Python.
UV := $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)
RUN := $(UV) run --frozen
PYTEST := $(RUN) pytest
TYPED := contracts/src $(wildcard libs/*/src) $(wildcard services/*/src)

.PHONY: help uv install lint typecheck contracts-check schemas test test-unit test-component \
        test-integration test-e2e bench bench-scoring bench-offline bench-drift bench-soak demo local-up local-down local-status up down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

uv: ## install uv with pip if it is missing
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet uv

install: uv ## sync the locked environment (.venv) with every workspace member
	$(UV) sync --frozen --all-packages

lint: install ## ruff: lint and formatting
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install ## mypy: strict on contracts/ and libs/
	$(RUN) mypy $(TYPED) tests bench

contracts-check: install ## checked-in schemas are fresh, and no breaking change to a published version
	$(RUN) driftloop-contracts generate --check
	$(RUN) driftloop-contracts compat

schemas: install ## regenerate the JSON Schemas and the AsyncAPI document
	$(RUN) driftloop-contracts generate

test: lint typecheck contracts-check ## everything CI runs: lint, types, contracts, all test tiers
	$(PYTEST) tests

test-unit: install ## pure logic
	$(PYTEST) -m unit tests

test-component: install ## handlers through FastStream's in-memory broker
	$(PYTEST) -m component tests

test-integration: install ## on the embedded broker and store (started and stopped by the tests)
	$(PYTEST) -m integration tests

test-e2e: install ## the whole loop through public topics
	$(PYTEST) -m e2e tests

bench: install ## relay, ingestion + feature, then the scorer, each vs a bare aiokafka loop, then the offline store, then drift recovery, then the soak (EVENTS=20000 ROUNDS=3 PIPELINE_EVENTS=100000 SCORING_EVENTS=100000 OFFLINE_ROWS=1000000 DRIFT_EVENTS=30000 SOAK_EVENTS=1000000)
	$(RUN) python -m bench.runtime_relay $(if $(EVENTS),--events $(EVENTS)) $(if $(ROUNDS),--rounds $(ROUNDS))
	$(RUN) python -m bench.pipeline $(if $(PIPELINE_EVENTS),--events $(PIPELINE_EVENTS))
	$(MAKE) --no-print-directory bench-scoring
	$(MAKE) --no-print-directory bench-offline
	$(MAKE) --no-print-directory bench-drift
	$(MAKE) --no-print-directory bench-soak

bench-scoring: install ## the scorer: throughput vs the bare loop, publish → prediction latency, swap latency (SCORING_EVENTS=100000; QUICK=1: a short run)
	$(RUN) python -m bench.scoring $(if $(SCORING_EVENTS),--events $(SCORING_EVENTS)) $(if $(QUICK),--quick)

bench-offline: install ## the offline store from 0 to 1,000,000 rows: rows/s and labels/s per 100,000, training-window read time (OFFLINE_ROWS=1000000; QUICK=1: 100,000 rows)
	$(RUN) python -m bench.offline_store $(if $(OFFLINE_ROWS),--rows $(OFFLINE_ROWS)) $(if $(QUICK),--quick)

bench-drift: install ## drift recovery of the loop vs never-retrained and online-ARF baselines, redeploy latency, false alarms (DRIFT_EVENTS=30000; QUICK=1: a short run)
	$(RUN) python -m bench.drift_recovery $(if $(DRIFT_EVENTS),--events $(DRIFT_EVENTS)) $(if $(QUICK),--quick)

bench-soak: install ## ingestion → feature → scorer through N events, each service's RSS every second: peak, midpoint, end, second-half slope, flat (SOAK_EVENTS=1000000; QUICK=1: 50,000 events)
	$(RUN) python -m bench.soak $(if $(SOAK_EVENTS),--events $(SOAK_EVENTS)) $(if $(QUICK),--quick)

demo: install ## the closed loop on a stream whose fraud pattern changes: live progress, summary, plot (EVENTS=40000 DRIFT_AT=half RATE=250; state in .driftloop/demo/)
	$(RUN) driftloop demo $(if $(EVENTS),--events $(EVENTS)) $(if $(DRIFT_AT),--drift-at $(DRIFT_AT)) $(if $(RATE),--rate $(RATE))

local-up: install ## start the embedded broker, store and services (state in .driftloop/)
	$(RUN) driftloop local up

local-status: install ## show what the local stack runs
	$(RUN) driftloop local status

local-down: install ## stop what local-up started
	$(RUN) driftloop local down

up: ## docker compose: Kafka, MongoDB, telemetry stack and the services
	docker compose up -d --build

down: ## stop docker compose
	docker compose down

clean: ## remove caches (not .driftloop/, which may hold a running stack's state)
	rm -rf .mypy_cache .ruff_cache .pytest_cache
