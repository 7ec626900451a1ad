# Keel — the two commands a newcomer needs are `make run` and `make test`.

CARGO ?= cargo
SPEC_TESTS_DIR ?= $(if $(CONSENSUS_SPEC_TESTS_DIR),$(CONSENSUS_SPEC_TESTS_DIR),../shared/spec-tests)

.PHONY: all build test unit-test spec-test bench fmt clippy lint run clean-cache

all: build

build:
	$(CARGO) build --release --workspace

## Every test: unit and integration tests, then the consensus spec tests.
test: unit-test spec-test

unit-test:
	$(CARGO) test --workspace --exclude keel-benches

## The official consensus spec tests (release mode: BLS, KZG and state transitions are heavy).
spec-test:
	$(CARGO) run --release -p keel-spec-tests -- --root $(SPEC_TESTS_DIR)

bench:
	$(CARGO) bench -p keel-benches

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint: clippy
	$(CARGO) fmt --all --check
