# Keel — the two commands a newcomer needs are `make run` and `make test`.

CARGO ?= cargo
SPEC_TESTS_DIR ?= $(if $(CONSENSUS_SPEC_TESTS_DIR),$(CONSENSUS_SPEC_TESTS_DIR),../shared/spec-tests)

.PHONY: all build test unit-test spec-test api-schema-test bench fmt clippy lint run loadtest

all: build

build:
	$(CARGO) build --release --workspace

## Every test: unit and integration tests, the consensus spec tests, then the Beacon API
## against its OpenAPI document (schemathesis, installed into a venv under target/).
test: unit-test spec-test api-schema-test

unit-test:
	$(CARGO) test --workspace --exclude keel-benches

## The official consensus spec tests (release mode: BLS, KZG and state transitions are heavy).
spec-test:
	$(CARGO) run --release -p keel-spec-tests -- --root $(SPEC_TESTS_DIR)

api-schema-test:
	node/api/schemathesis/run.sh

bench:
	$(CARGO) bench -p keel-benches

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint: clippy
	$(CARGO) fmt --all --check

## A local Fulu devnet: 64 interop validators, an embedded mock execution engine, the Beacon
## API on 127.0.0.1:5052 and metrics on 127.0.0.1:5054. Resumes from ./keel-data if it exists;
## `make run ARGS=--reset` starts a new devnet.
DATADIR ?= keel-data
ARGS ?=
run:
	$(CARGO) run --release -p keel -- dev --datadir $(DATADIR) $(ARGS)

## Mainnet-shaped gossip through the pipeline, in process or over libp2p with
## TRANSPORT=libp2p (see loadtest/README.md).
PROFILE ?= all-subnets
VALIDATORS ?= 16384
SLOTS ?= 4
TRANSPORT ?= in-process
loadtest:
	$(CARGO) run --release -p keel-loadtest -- --profile $(PROFILE) --validators $(VALIDATORS) --slots $(SLOTS) --transport $(TRANSPORT)
