#!/usr/bin/env bash
# Starts (or stops) a single-node Apache Kafka broker on loopback for tests, CI and benchmarks: the
# relay and the consumer-group projectors (docs/distributed.md) need a real broker to be tested.
#
#   scripts/start-kafka.sh [PORT]        start; default port 19092 (the KRaft controller uses PORT+1)
#   scripts/start-kafka.sh stop [PORT]   stop the broker this script started on PORT
#
# No Kafka package exists in Debian or npm, so the broker is Apache Kafka's own jars from Maven
# Central (org.apache.kafka:kafka_2.13, see scripts/kafka/pom.xml), fetched once with Maven into
# ~/.cache/missive-kafka (MISSIVE_KAFKA_CACHE). The broker runs in KRaft mode (no ZooKeeper) as its
# own controller, daemonized, with a small heap (MISSIVE_KAFKA_HEAP, default 512m) and its data and
# log under ${TMPDIR:-/tmp}/missive-kafka-PORT. Returns once the broker has started (bounded wait).
# Idempotent: a broker this script started and that still listens on PORT is left as it is.
# Then: export KAFKA_BROKERS=127.0.0.1:PORT
set -euo pipefail

KAFKA_VERSION=3.9.1 # runs on Java 17; keep in step with scripts/kafka/pom.xml and docker-compose.yml
HERE="$(cd "$(dirname "$0")" && pwd)"

ACTION=start
if [[ "${1:-}" == "stop" || "${1:-}" == "start" ]]; then ACTION="$1"; shift; fi
PORT="${1:-19092}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65534 )); then
  echo "start-kafka: port must be a number in 1..65534, got '$PORT'" >&2
  exit 2
fi
CONTROLLER_PORT=$((PORT + 1))
RUN_DIR="${TMPDIR:-/tmp}/missive-kafka-$PORT"
PID_FILE="$RUN_DIR/kafka.pid"
LOG_FILE="$RUN_DIR/server.log"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
our_pid_alive() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

if [[ "$ACTION" == "stop" ]]; then
  if ! our_pid_alive; then
    echo "== no kafka started by this script on port $PORT"
    exit 0
  fi
  PID="$(cat "$PID_FILE")"
  kill "$PID"
  # Bounded wait: a clean shutdown flushes the log; 30 s, then it is killed.
  for _ in $(seq 1 300); do
    kill -0 "$PID" 2>/dev/null || { rm -f "$PID_FILE"; echo "== kafka on port $PORT stopped"; exit 0; }
    sleep 0.1
  done
  kill -9 "$PID" 2>/dev/null || true
  rm -f "$PID_FILE"
  echo "== kafka on port $PORT did not stop within 30 s: killed"
  exit 0
fi

if our_pid_alive && listening; then
  echo "== kafka already running on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"))"
  echo "KAFKA_BROKERS=127.0.0.1:$PORT"
  exit 0
fi
if listening; then
  echo "start-kafka: something else listens on 127.0.0.1:$PORT; pick another port" >&2
  exit 1
fi

for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "start-kafka: '$tool' is needed (a JDK 17+ and Maven 3)" >&2; exit 1; }
done

# Fetch the jars once. Copied into a temporary folder first, so an interrupted download is never
# mistaken for a complete one.
CACHE="${MISSIVE_KAFKA_CACHE:-$HOME/.cache/missive-kafka}"
LIBS="$CACHE/libs-$KAFKA_VERSION"
if [[ ! -f "$LIBS/.complete" ]]; then
  echo "== fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
  mkdir -p "$CACHE"
  PARTIAL="$(mktemp -d "$CACHE/partial.XXXXXX")"
  mvn -q -B -f "$HERE/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PARTIAL"
  touch "$PARTIAL/.complete"
  rm -rf "$LIBS"
  mv "$PARTIAL" "$LIBS"
fi

mkdir -p "$RUN_DIR/data"
cat >"$RUN_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$RUN_DIR/data
# One broker: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Missive creates its topic itself, with the partition count it wants.
auto.create.topics.enable=false
num.partitions=1
# Tests start and stop consumer-group members often: do not wait 3 s before the first rebalance.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
EOF
cat >"$RUN_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.log=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.storage=WARN
log4j.logger.kafka.coordinator=WARN
EOF

CP="$LIBS/*"
JAVA_OPTS=(-Xmx"${MISSIVE_KAFKA_HEAP:-512m}" -Xms128m -XX:+UseSerialGC -Djava.awt.headless=true
  -Dlog4j.configuration="file:$RUN_DIR/log4j.properties")

# Format the KRaft log directory once (a second format of the same directory is a no-op).
if [[ ! -f "$RUN_DIR/data/meta.properties" ]]; then
  CLUSTER_ID="$(java -cp "$CP" "${JAVA_OPTS[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  java -cp "$CP" "${JAVA_OPTS[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$CLUSTER_ID" -c "$RUN_DIR/server.properties" >"$RUN_DIR/format.log" 2>&1 \
    || { echo "start-kafka: formatting $RUN_DIR/data failed:" >&2; cat "$RUN_DIR/format.log" >&2; exit 1; }
fi

: >"$LOG_FILE"
# setsid + nohup: the broker outlives this shell and the CI step that ran it.
setsid nohup java -cp "$CP" "${JAVA_OPTS[@]}" kafka.Kafka "$RUN_DIR/server.properties" >>"$LOG_FILE" 2>&1 </dev/null &
echo $! >"$PID_FILE"

# Bounded wait: 600 tries, 0.1 s apart (about 60 s; a JVM on a busy 2-core machine is slow to start).
for _ in $(seq 1 600); do
  if ! our_pid_alive; then
    echo "start-kafka: the broker exited during start-up; log follows" >&2
    tail -n 40 "$LOG_FILE" >&2 || true
    exit 1
  fi
  if grep -q "Kafka Server started" "$LOG_FILE" && listening; then
    echo "== kafka $KAFKA_VERSION on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"), log $LOG_FILE)"
    echo "KAFKA_BROKERS=127.0.0.1:$PORT"
    exit 0
  fi
  sleep 0.1
done
echo "start-kafka: the broker did not start within 60 s on 127.0.0.1:$PORT; log follows" >&2
tail -n 40 "$LOG_FILE" >&2 || true
exit 1
