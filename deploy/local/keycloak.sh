#!/usr/bin/env bash
# A native Keycloak server (dev mode) as the OAuth 2.0 / OpenID Connect identity provider of the
# local stack: it issues the JWT access tokens (RFC 9068, RS256) the APIs' callers present.
#
#   deploy/local/keycloak.sh dist|start|stop|status|url|logs [-f]
#
# The server distribution comes from Maven Central (deploy/keycloak/pom.xml pins the version,
# org.keycloak:keycloak-quarkus-dist) into .cache/keycloak/<version>/keycloak-<version>. Its data
# directory is a link to .local/keycloak/data (the H2 dev-file database and the realm to import);
# pid file in .local/keycloak/, log in .local/logs/keycloak.log. `start` imports the realm
# deploy/keycloak/chs-realm.json (realm `chs`, one confidential client per kind of caller, with
# DEVELOPMENT secrets) and waits until the realm's OpenID discovery document answers. When the
# realm file changes, the next start drops the dev database so the new file is imported.
# `url` prints the realm's issuer, http://127.0.0.1:<port>/realms/chs.
#
# Keycloak needs Java 21+; the system `java` may be older (Kafka keeps using it). The first of
# these that is Java 21+ runs Keycloak: CHS_KEYCLOAK_JAVA_HOME, JAVA_HOME, the newest JDK under
# /usr/lib/jvm, `java` on PATH. The server runs as the calling user, so a repository in a
# directory only root can enter is fine (root runs it; the files stay in the repository).
# Environment: CHS_KEYCLOAK_PORT (18080), CHS_KEYCLOAK_ADMIN / CHS_KEYCLOAK_ADMIN_PASSWORD
# (admin / admin: the master realm's bootstrap administrator, created on the first start only,
# development values), KEYCLOAK_START_TIMEOUT seconds (180), KEYCLOAK_STOP_TIMEOUT seconds (30).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="$REPO/deploy/keycloak/pom.xml"
REALM_FILE="$REPO/deploy/keycloak/chs-realm.json"
REALM=chs

KEYCLOAK_VERSION="$(sed -n 's:.*<keycloak.version>\(.*\)</keycloak.version>.*:\1:p' "$POM" | head -n1)"
[[ -n "$KEYCLOAK_VERSION" ]] || { echo "keycloak: no <keycloak.version> in $POM" >&2; exit 1; }
CACHE="$REPO/.cache/keycloak/$KEYCLOAK_VERSION"
DIST="$CACHE/keycloak-$KEYCLOAK_VERSION"
DIST_STAMP="$CACHE/.resolved"

HOME_DIR="$REPO/.local/keycloak"
DATA_DIR="$HOME_DIR/data"
REALM_STAMP="$DATA_DIR/.realm-imported"
PID_FILE="$HOME_DIR/keycloak.pid"
LOG_DIR="$REPO/.local/logs"
LOG_FILE="$LOG_DIR/keycloak.log"

PORT="${CHS_KEYCLOAK_PORT:-18080}"
BASE_URL="http://127.0.0.1:$PORT"
ISSUER="$BASE_URL/realms/$REALM"
DISCOVERY="$ISSUER/.well-known/openid-configuration"
START_TIMEOUT="${KEYCLOAK_START_TIMEOUT:-180}"
STOP_TIMEOUT="${KEYCLOAK_STOP_TIMEOUT:-30}"

NAME=keycloak SERVER=server STOP_NOTE=""
# shellcheck source=deploy/local/lib.sh
source "$REPO/deploy/local/lib.sh"

# The major Java version of the java binary $1 (e.g. 25), empty when it does not run.
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

find_java() {
  local candidate major best="" best_major=0
  local -a candidates=()
  [[ -n "${CHS_KEYCLOAK_JAVA_HOME:-}" ]] && candidates+=("$CHS_KEYCLOAK_JAVA_HOME/bin/java")
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  for candidate in "${candidates[@]}"; do
    [[ -x "$candidate" ]] || continue
    major="$(java_major "$candidate")"
    if [[ -n "$major" ]] && ((major >= 21)); then best="$candidate"; best_major="$major"; break; fi
  done
  if [[ -z "$best" ]]; then
    for candidate in /usr/lib/jvm/*/bin/java $(command -v java 2>/dev/null || true); do
      [[ -x "$candidate" ]] || continue
      major="$(java_major "$candidate")"
      if [[ -n "$major" ]] && ((major >= 21 && major > best_major)); then
        best="$candidate"; best_major="$major"
      fi
    done
  fi
  [[ -n "$best" ]] || die "no Java 21+ found (looked at CHS_KEYCLOAK_JAVA_HOME, JAVA_HOME, /usr/lib/jvm/*, PATH): Keycloak $KEYCLOAK_VERSION needs one (e.g. apt-get install openjdk-21-jre-headless)"
  KC_JAVA_HOME="$(cd "$(dirname "$best")/.." && pwd)"
  KC_JAVA_MAJOR="$best_major"
}

pom_hash() { sha256sum "$POM" | cut -c1-16; }
realm_hash() { sha256sum "$REALM_FILE" | cut -c1-16; }

# Download and unpack the distribution unless the pom has not changed since the last time.
dist_current() { [[ -f "$DIST_STAMP" && "$(cat "$DIST_STAMP")" == "$(pom_hash)" && -x "$DIST/bin/kc.sh" ]]; }

dist() {
  if dist_current; then
    say "distribution of Keycloak $KEYCLOAK_VERSION already in $(rel "$DIST")"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven (apt-get install maven) to fetch the Keycloak distribution"
  say "fetching Keycloak $KEYCLOAK_VERSION (org.keycloak:keycloak-quarkus-dist zip) from Maven Central into $(rel "$CACHE")"
  local t=$SECONDS mvn_log="$REPO/.cache/keycloak/mvn.log"
  rm -rf "$DIST"
  mkdir -p "$CACHE"
  if ! (cd "$REPO/deploy/keycloak" && mvn -q -B dependency:unpack -DoutputDirectory="$CACHE") >"$mvn_log" 2>&1; then
    tail -n 30 "$mvn_log" >&2
    die "mvn failed to fetch the distribution (full output in $(rel "$mvn_log"))"
  fi
  [[ -x "$DIST/bin/kc.sh" ]] || die "$(rel "$DIST")/bin/kc.sh missing after mvn"
  pom_hash >"$DIST_STAMP"
  say "unpacked Keycloak $KEYCLOAK_VERSION ($(du -sh "$DIST" | cut -f1)) in $((SECONDS - t))s"
}

# Succeeds (and prints the issuer) when the realm's discovery document answers 200 on PORT.
probe() {
  local body
  body="$(curl -fsS --noproxy '*' --max-time 3 "$DISCOVERY" 2>&1)" || { echo "$body" >&2; return 1; }
  sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p' <<<"$body"
}

# The pid of the server this script started (kc.sh, the leader of its own process group), if it
# is still alive; its command line must name our distribution.
our_pid() { live_pid "$DIST/"; }

# The JVM of the server: kc.sh's child, or kc.sh itself after it exec'd java.
jvm_pid() {
  local pid="$1" child
  child="$(pgrep -P "$pid" java 2>/dev/null | head -n1 || true)"
  echo "${child:-$pid}"
}

rss() { awk '/^VmRSS/ {printf "%d MiB", $2 / 1024}' "/proc/$(jvm_pid "$1")/status" 2>/dev/null || echo "?"; }

# The distribution's data directory is a link to .local/keycloak/data; the realm goes into its
# import folder. A changed realm file drops the dev database, so that --import-realm (which skips
# a realm that already exists) imports the new one.
prepare_data() {
  mkdir -p "$DATA_DIR/import" "$LOG_DIR"
  if [[ ! -L "$DIST/data" || "$(readlink "$DIST/data")" != "$DATA_DIR" ]]; then
    rm -rf "$DIST/data"
    ln -s "$DATA_DIR" "$DIST/data"
  fi
  if [[ -d "$DATA_DIR/h2" && "$(cat "$REALM_STAMP" 2>/dev/null)" != "$(realm_hash)" ]]; then
    say "$(rel "$REALM_FILE") changed since the last import: dropping the dev database"
    rm -rf "$DATA_DIR/h2"
  fi
  cp "$REALM_FILE" "$DATA_DIR/import/$REALM-realm.json"
}

# Once the realm answers (wait_ready): the realm imported, the time since T0 (start's).
ready() {
  realm_hash >"$REALM_STAMP"
  say "ready in $(awk -v s="$(date +%s.%N)" -v t="$T0" 'BEGIN {printf "%.1f", s - t}')s: issuer $2 (pid $1, resident $(rss "$1"))"
}

start() {
  local pid issuer
  T0="$(date +%s.%N)"
  if pid="$(our_pid)"; then
    if issuer="$(probe 2>/dev/null)"; then
      say "already running (pid $pid): issuer $issuer"
      return 0
    fi
    say "already started (pid $pid) but not ready yet; waiting"
    wait_ready "$pid"
    return
  fi
  if port_open "$PORT"; then
    if issuer="$(probe 2>&1)"; then
      say "a Keycloak with realm $REALM already answers on $BASE_URL (issuer $issuer); nothing to do"
      return 0
    fi
    die "port $PORT is in use by something that does not serve realm $REALM ($issuer)"
  fi
  find_java
  dist_current || dist
  prepare_data
  echo "=== $(date -Is) starting Keycloak $KEYCLOAK_VERSION (Java $KC_JAVA_MAJOR)" >>"$LOG_FILE"
  say "starting Keycloak $KEYCLOAK_VERSION (dev mode, Java $KC_JAVA_MAJOR from $KC_JAVA_HOME) on $BASE_URL, log $(rel "$LOG_FILE")"
  # JAVA_OPTS_KC_HEAP, JAVA_OPTS etc. pass through to kc.sh; JAVA_HOME is set for Keycloak only.
  KC_BOOTSTRAP_ADMIN_USERNAME="${CHS_KEYCLOAK_ADMIN:-admin}" \
  KC_BOOTSTRAP_ADMIN_PASSWORD="${CHS_KEYCLOAK_ADMIN_PASSWORD:-admin}" \
  JAVA_HOME="$KC_JAVA_HOME" JAVA="$KC_JAVA_HOME/bin/java" \
    setsid nohup "$DIST/bin/kc.sh" start-dev \
      --http-host=127.0.0.1 --http-port="$PORT" --hostname="$BASE_URL" \
      --import-realm --db=dev-file --log=console --log-console-color=false \
      </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_ready "$pid"
}

status() {
  local pid issuer
  if pid="$(our_pid)"; then
    if issuer="$(probe 2>&1)"; then
      say "running (pid $pid, resident $(rss "$pid")) on $BASE_URL: issuer $issuer"
      return 0
    fi
    say "process $pid is up but realm $REALM does not answer yet ($issuer)"
    return 1
  fi
  if port_open "$PORT" && issuer="$(probe 2>/dev/null)"; then
    say "a Keycloak not started by this script answers on $BASE_URL: issuer $issuer"
    return 0
  fi
  say "not running"
  return 1
}

case "${1:-}" in
  dist) dist ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) echo "$ISSUER" ;;
  logs) logs "${2:-}" ;;
  *) echo "usage: $0 dist|start|stop|status|url|logs [-f]" >&2; exit 2 ;;
esac
