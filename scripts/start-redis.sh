#!/usr/bin/env bash
# Starts a throw-away redis-server for tests and CI: the REST API's rate limiter keeps its per-user
# counters in Redis so every API node shares one budget, and that path needs a real server to be tested.
# Usage: scripts/start-redis.sh [PORT]   (default 6390). Installs Debian's redis-server when missing
# (needs root), runs it daemonized on 127.0.0.1 without persistence, and returns once it answers PING.
# Idempotent: a Redis already answering on PORT is left as it is.
set -euo pipefail

PORT="${1:-6390}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65535 )); then
  echo "start-redis: port must be a number in 1..65535, got '$PORT'" >&2
  exit 2
fi

answers_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" == "PONG" ]]; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "== installing redis-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
fi

if answers_ping; then
  echo "== redis already running on 127.0.0.1:$PORT"
  exit 0
fi

RUN_DIR="${TMPDIR:-/tmp}/missive-redis-$PORT"
mkdir -p "$RUN_DIR"
redis-server --bind 127.0.0.1 --port "$PORT" --daemonize yes \
  --save '' --appendonly no --dir "$RUN_DIR" \
  --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log"

# Bounded wait: 100 tries, 0.1 s apart (about 10 s).
for _ in $(seq 1 100); do
  if answers_ping; then
    echo "== redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$PORT (pid $(cat "$RUN_DIR/redis.pid"), log $RUN_DIR/redis.log)"
    exit 0
  fi
  sleep 0.1
done
echo "start-redis: redis-server did not answer PING on 127.0.0.1:$PORT within 10 s; log follows" >&2
tail -n 20 "$RUN_DIR/redis.log" >&2 || true
exit 1
