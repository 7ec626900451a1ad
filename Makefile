# Keel — the two commands a newcomer needs are `make run` and `make test`.

CARGO ?= cargo
SPEC_TESTS_DIR ?= $(if $(CONSENSUS_SPEC_TESTS_DIR),$(CONSENSUS_SPEC_TESTS_DIR),../shared/spec-tests)

.PHONY: all build test unit-test spec-test bench fmt clippy lint run

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

## The runnable node (`keel dev`) is not built yet: say so plainly rather than start something
## that is not a beacon node.
run:
	@echo "make run: the keel binary (keel dev: a local Fulu devnet) is not implemented yet;" >&2
	@echo "          see README.md for what works today (make test, make spec-test, make bench)." >&2
	@exit 2
