#!/usr/bin/env bash
# Runs schemathesis against the Beacon API serving the test fixture chain (keel-api's
# `api_fixture` example), restricted to the operations Keel implements.
#
# Two runs: valid requests (positive data) checked for no 5xx, documented status codes and
# content types, and responses matching the schemas; then invalid requests (negative data)
# checked for no 5xx only — several operations (node/peers, debug/fork_choice, ...) document no
# 400, so invalid input has no status the document would call conforming there.
#
# Environment:
#   BEACON_API_SPEC_DIR   folder holding beacon-node-oapi.v4.0.0.json
#                         (default: ../shared/apis/ relative to the repository root)
#   SCHEMATHESIS_PORT     port for the fixture server (default 5099)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation (default 25)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"

SPEC_DIR="${BEACON_API_SPEC_DIR:-$ROOT/../shared/apis}"
SPEC="$SPEC_DIR/beacon-node-oapi.v4.0.0.json"
PORT="${SCHEMATHESIS_PORT:-5099}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-10}"
SCHEMATHESIS_VERSION="4.32.5"
VENV="$ROOT/target/schemathesis-venv"

if [[ ! -f "$SPEC" ]]; then
    echo "schemathesis: OpenAPI document not found at $SPEC (set BEACON_API_SPEC_DIR)" >&2
    exit 1
fi
SPEC="$(cd "$(dirname "$SPEC")" && pwd)/$(basename "$SPEC")"

# The virtualenv is created once and re-used; a different pinned version is re-installed.
if [[ ! -x "$VENV/bin/schemathesis" ]] \
    || [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != *"$SCHEMATHESIS_VERSION"* ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet -p keel-api --example api_fixture
SERVER_LOG="$ROOT/target/schemathesis-server.log"
"$ROOT/target/debug/examples/api_fixture" "127.0.0.1:$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
    if grep -q "listening on" "$SERVER_LOG" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "schemathesis: the fixture server exited:" >&2
        cat "$SERVER_LOG" >&2
        exit 1
    fi
    sleep 0.2
done
grep -q "listening on" "$SERVER_LOG" || { echo "schemathesis: server did not start" >&2; exit 1; }

# The implemented operations. `eventstream` is left out: an SSE response never ends, which a
# request/response fuzzer cannot judge (the Rust tests cover it).
OPERATIONS=(
    getNetworkIdentity getNodeVersion getSyncingStatus getHealth getPeers getPeer getPeerCount
    getGenesis getStateRoot getStateFork getStateFinalityCheckpoints getStateValidators
    postStateValidators getStateValidator getStateValidatorBalances postStateValidatorBalances
    getEpochCommittees getEpochSyncCommittees getStateRandao getBlockHeaders getBlockHeader
    getBlockV2 getBlockRoot getStateV2 getDebugChainHeadsV2 getDebugForkChoice getSpec
    getForkSchedule getDepositContract
)
REGEX="^($(IFS='|'; echo "${OPERATIONS[*]}"))\$"

# schemathesis keeps its example database in the working directory: keep it under target/.
mkdir -p "$ROOT/target/schemathesis-work"
cd "$ROOT/target/schemathesis-work"
exec_start=$(date +%s)
common=(
    "$SPEC" --url "http://127.0.0.1:$PORT"
    --include-operation-id-regex "$REGEX"
    --max-examples "$MAX_EXAMPLES" --seed 1 --workers 2 --request-timeout 20
    --suppress-health-check all --warnings off
)
set +e
# 1. Valid requests: every documented property of the responses.
"$VENV/bin/schemathesis" run "${common[@]}" \
    --mode positive \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-time 90
positive=$?
# 2. Invalid requests: whatever the answer, never a 5xx.
"$VENV/bin/schemathesis" run "${common[@]}" \
    --mode negative \
    --checks not_a_server_error \
    --max-time 30
negative=$?
set -e
echo "schemathesis: finished in $(( $(date +%s) - exec_start )) s; positive run exit $positive, negative run exit $negative"
[[ $positive -eq 0 && $negative -eq 0 ]]
