#!/usr/bin/env bash
# A native single-node Apache Kafka broker (KRaft combined mode) for local development and CI.
#
#   deploy/local/kafka.sh start|stop|status|logs [-f]|jars
#
# The broker jars come from Maven Central (deploy/kafka/pom.xml pins the version) into
# .cache/kafka/<version>/libs; configuration, data, pid and log live in .local/kafka/.
# Environment: CHS_KAFKA_PORT (19092), CHS_KAFKA_CONTROLLER_PORT (19093),
# KAFKA_HEAP_OPTS (-Xms256m -Xmx2g), KAFKA_START_TIMEOUT seconds (90), KAFKA_STOP_TIMEOUT seconds (30).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="$REPO/deploy/kafka/pom.xml"
TEMPLATE="$REPO/deploy/kafka/server.properties.template"
LOG4J="$REPO/deploy/kafka/log4j2.yaml"

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)"
[[ -n "$KAFKA_VERSION" ]] || { echo "kafka: no <kafka.version> in $POM" >&2; exit 1; }
LIBS="$REPO/.cache/kafka/$KAFKA_VERSION/libs"
JARS_STAMP="$LIBS/.resolved"

HOME_DIR="$REPO/.local/kafka"
DATA_DIR="$HOME_DIR/data"
PROPS="$HOME_DIR/server.properties"
PID_FILE="$HOME_DIR/kafka.pid"
LOG_FILE="$HOME_DIR/kafka.log"

PORT="${CHS_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${CHS_KAFKA_CONTROLLER_PORT:-19093}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx2g}"

NAME=kafka SERVER=broker STOP_NOTE=", controlled shutdown"
# shellcheck source=deploy/local/lib.sh
source "$REPO/deploy/local/lib.sh"

find_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    JAVA="$(command -v java)"
  else
    die "java not found: install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)"
  fi
}

pom_hash() { sha256sum "$POM" | cut -c1-16; }

# Resolve the broker jars from Maven Central unless the pom has not changed since the last time.
jars_current() { [[ -f "$JARS_STAMP" && "$(cat "$JARS_STAMP")" == "$(pom_hash)" ]]; }

jars() {
  if jars_current; then
    say "jars for Kafka $KAFKA_VERSION already in ${LIBS#"$REPO"/}"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven (apt-get install maven) to fetch the broker jars"
  say "resolving Kafka $KAFKA_VERSION jars from Maven Central into ${LIBS#"$REPO"/}"
  mkdir -p "$LIBS"
  local mvn_log="$REPO/.cache/kafka/mvn.log"
  if ! (cd "$REPO/deploy/kafka" && mvn -q -B dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS") >"$mvn_log" 2>&1; then
    tail -n 30 "$mvn_log" >&2
    die "mvn failed to resolve the broker jars (full output in ${mvn_log#"$REPO"/})"
  fi
  ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
  pom_hash >"$JARS_STAMP"
  say "resolved $(ls "$LIBS"/*.jar | wc -l) jars"
}

# Ask the broker for cluster metadata over the Kafka wire protocol (ApiVersions, then Metadata).
# Exits 0 and prints a one-line summary when a broker is registered and a controller is known.
probe() {
  python3 - "127.0.0.1" "$PORT" <<'PY'
import socket, struct, sys

host, port = sys.argv[1], int(sys.argv[2])

def rpc(sock, api_key, version, corr, body):
    client = b"chs-probe"
    msg = struct.pack(">hhih", api_key, version, corr, len(client)) + client + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    def read(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by peer")
            buf += chunk
        return buf
    size, = struct.unpack(">i", read(4))
    data = read(size)
    if struct.unpack_from(">i", data)[0] != corr:
        raise ValueError("unexpected correlation id: not a Kafka broker?")
    return data, 4

try:
    with socket.create_connection((host, port), timeout=3) as s:
        s.settimeout(3)
        data, o = rpc(s, 18, 0, 1, b"")                      # ApiVersions v0
        err, n = struct.unpack_from(">hi", data, o); o += 6
        if err:
            raise ValueError(f"ApiVersions error code {err}")
        apis = {}
        for _ in range(n):
            key, lo, hi = struct.unpack_from(">hhh", data, o); o += 6
            apis[key] = (lo, hi)
        if 3 not in apis:
            raise ValueError("the listener does not serve Metadata (a controller port?)")
        lo, hi = apis[3]
        version = max(lo, 4)                                  # v4..v7 share the request layout
        if version > min(hi, 7):
            raise ValueError(f"Metadata versions {lo}-{hi} not supported by this probe")
        data, o = rpc(s, 3, version, 2, struct.pack(">ib", -1, 0))
        o += 4                                                # throttle_time_ms
        count, = struct.unpack_from(">i", data, o); o += 4
        brokers = []
        for _ in range(count):
            node, hl = struct.unpack_from(">ih", data, o); o += 6
            bhost = data[o:o + hl].decode(); o += hl
            bport, rl = struct.unpack_from(">ih", data, o); o += 6 + max(rl, 0)
            brokers.append(f"{node}@{bhost}:{bport}")
        cl, = struct.unpack_from(">h", data, o); o += 2
        cluster = data[o:o + cl].decode() if cl >= 0 else "?"; o += max(cl, 0)
        controller, = struct.unpack_from(">i", data, o)
        if not brokers or controller < 0:
            raise ValueError("no registered broker or controller in the metadata yet")
        print(f"cluster {cluster}, brokers {','.join(brokers)}, controller {controller}")
except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

# The pid of the broker this script started (the leader of its own process group), if it is
# still alive; it must be a JVM running our server.properties.
our_pid() { live_pid "$PROPS"; }

render_config() {
  mkdir -p "$DATA_DIR"
  sed -e "s|@KAFKA_PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$DATA_DIR|g" "$TEMPLATE" >"$PROPS"
}

format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    return 0
  fi
  local cluster_id
  cluster_id="$("$JAVA" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)"
  say "formatting storage in ${DATA_DIR#"$REPO"/} (cluster id $cluster_id)"
  "$JAVA" -cp "$LIBS/*" -Dlog4j2.configurationFile="$LOG4J" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" >>"$LOG_FILE" 2>&1 \
    || { tail -n 20 "$LOG_FILE" >&2; die "storage format failed"; }
}

# Once the broker answers (wait_ready).
ready() { say "ready on 127.0.0.1:$PORT ($2)"; }

start() {
  local pid summary
  if pid="$(our_pid)"; then
    if summary="$(probe 2>/dev/null)"; then
      say "already running (pid $pid) on 127.0.0.1:$PORT ($summary)"
      return 0
    fi
    say "already started (pid $pid) but not ready yet; waiting"
    wait_ready "$pid"
    return
  fi
  if port_open "$PORT"; then
    if summary="$(probe 2>&1)"; then
      say "a broker already answers on 127.0.0.1:$PORT ($summary); nothing to do"
      return 0
    fi
    die "port $PORT is in use by something that is not a ready Kafka broker ($summary)"
  fi
  find_java
  jars_current || jars
  mkdir -p "$HOME_DIR"
  render_config
  format_storage
  echo "=== $(date -Is) starting Kafka $KAFKA_VERSION" >>"$LOG_FILE"
  say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (controller $CONTROLLER_PORT), log ${LOG_FILE#"$REPO"/}"
  # shellcheck disable=SC2086  # HEAP_OPTS holds several JVM options
  setsid nohup "$JAVA" $HEAP_OPTS -cp "$LIBS/*" \
    -Dlog4j2.configurationFile="$LOG4J" \
    kafka.Kafka "$PROPS" </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_ready "$pid"
}

status() {
  local pid summary
  if pid="$(our_pid)"; then
    if summary="$(probe 2>&1)"; then
      say "running (pid $pid) on 127.0.0.1:$PORT: $summary"
      return 0
    fi
    say "process $pid is up but the broker does not answer yet ($summary)"
    return 1
  fi
  if port_open "$PORT" && summary="$(probe 2>/dev/null)"; then
    say "a broker not started by this script answers on 127.0.0.1:$PORT: $summary"
    return 0
  fi
  say "not running"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) logs "${2:-}" ;;
  jars) jars ;;
  *) echo "usage: $0 start|stop|status|logs [-f]|jars" >&2; exit 2 ;;
esac
