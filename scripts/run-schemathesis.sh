#!/usr/bin/env bash
# Runs schemathesis (property-based API testing from PyPI) against the OpenAPI document of a real,
# freshly started Missive: `missive serve` in embedded mode (its own PostgreSQL from the npm package,
# data in a temp dir, dev login on) on free loopback ports, with a dev token (admin claim on, so the admin route is reached too) as the bearer header.
# Bounded: SCHEMATHESIS_MAX_EXAMPLES examples per operation and phase (default 15), under a hard time
# limit (SCHEMATHESIS_MAX_TIME seconds, default 300; schemathesis' own --max-time would keep fuzzing
# until the budget is spent, so the bound is the example count and `timeout` is only a safety net).
# Fails when schemathesis finds a failure (5xx, an answer the OpenAPI does not document, a body or
# content type that does not match it, bad input accepted, ...).
# One check is left out, on purpose:
# - positive_data_acceptance: a request can match the schema and still be refused by a domain rule the
#   schema cannot state (a text body needs `text`, a group name has no control characters after
#   trimming, a pagination cursor or sync token must be one we issued, `before` > `after`): 400 with a
#   stable code, as documented.
# Usage: scripts/run-schemathesis.sh [extra schemathesis args]
# schemathesis is installed once into a venv under the cache dir (MISSIVE_CACHE_DIR, default ~/.cache).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="4.32.5"
CACHE_DIR="${MISSIVE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}}"
VENV="$CACHE_DIR/missive-schemathesis"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-15}"
MAX_TIME="${SCHEMATHESIS_MAX_TIME:-300}"

if [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != *"$SCHEMATHESIS_VERSION"* ]]; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
[[ -f dist/cli/main.js ]] || npm run build

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PORT="$(free_port)"
PG_PORT="$(free_port)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/missive-schemathesis-XXXXXX")"
chmod 777 "$WORK" # the embedded PostgreSQL runs as a `postgres` user when we are root
BASE="http://127.0.0.1:$PORT"

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting missive serve on $BASE (data in $WORK)"
env -u DATABASE_URL -u EVENTSTORE_URL -u REDIS_URL -u KAFKA_BROKERS \
  MISSIVE_DATA_DIR="$WORK/data" PORT="$PORT" HOST=127.0.0.1 MISSIVE_EMBEDDED_PG_PORT="$PG_PORT" \
  MISSIVE_DEV_AUTH=true MISSIVE_LOG_LEVEL=warn \
  node bin/missive.js serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 600); do
  if curl -fsS "$BASE/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "missive serve exited:"; cat "$WORK/serve.log"; exit 1; fi
  sleep 0.1
done
curl -fsS "$BASE/readyz" >/dev/null || { echo "missive serve did not become ready:"; cat "$WORK/serve.log"; exit 1; }

TOKEN="$(curl -fsS -X POST "$BASE/v1/dev/token" -H 'content-type: application/json' -d '{"userId":"schemathesis","admin":true,"ttlSeconds":3600}' |
  node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).token))")"

echo "== schemathesis $SCHEMATHESIS_VERSION: $BASE/openapi.json, at most $MAX_EXAMPLES examples per operation and phase (time limit $MAX_TIME s)"
status=0
# From the temp dir: schemathesis keeps a .schemathesis cache in its working directory.
(cd "$WORK" && timeout --kill-after=10 "$MAX_TIME" "$VENV/bin/schemathesis" run "$BASE/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --max-examples "$MAX_EXAMPLES" \
  --generation-database none \
  --workers 1 \
  --seed "${SCHEMATHESIS_SEED:-20261123}" \
  --request-timeout 10 \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --no-color \
  "$@") || status=$?

if grep -q '"level":50' "$WORK/serve.log"; then
  echo "== the server logged errors during the run:"
  grep '"level":50' "$WORK/serve.log" | head -20
  status=1
fi
exit "$status"
