#!/usr/bin/env bash
# A private native PostgreSQL server for local development and CI.
#
#   deploy/local/postgres.sh start|stop|status|logs|url|binaries
#
# If CHS_DATABASE_URL is set, a server is provided from outside and this script does nothing.
# Otherwise: data in .local/postgres/data, socket in .local/postgres/run, log in
# .local/postgres/postgres.log, listening on 127.0.0.1:CHS_PG_PORT (15432) only, superuser `chs`
# with trust authentication (a dev server: fsync and synchronous_commit are off).
# Other environment: CHS_PG_HOME (.local/postgres), PG_START_TIMEOUT seconds (60).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_HOME="${CHS_PG_HOME:-$REPO/.local/postgres}"
DATA="$PG_HOME/data"
RUN="$PG_HOME/run"
LOG_FILE="$PG_HOME/postgres.log"
PORT="${CHS_PG_PORT:-15432}"
URL="postgresql://chs@127.0.0.1:$PORT/postgres"
START_TIMEOUT="${PG_START_TIMEOUT:-60}"

say() { echo "postgres: $*"; }
die() { echo "postgres: $*" >&2; exit 1; }
rel() { echo "${1#"$REPO"/}"; }

external() {
  if [[ -n "${CHS_DATABASE_URL:-}" ]]; then
    say "CHS_DATABASE_URL is set (…@${CHS_DATABASE_URL#*@}): using that server, not managing a local one"
    return 0
  fi
  return 1
}

# PG_BIN: directory holding initdb, pg_ctl and postgres (PATH first, then the highest
# /usr/lib/postgresql/<version>/bin).
find_binaries() {
  local dir
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dir="$(dirname "$(readlink -f "$(command -v initdb)")")"   # follow symlinks to the real bin dir
    if [[ -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then PG_BIN="$dir"; return 0; fi
  fi
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
    PG_BIN="$dir"; return 0
  fi
  return 1
}

binaries() {
  if find_binaries; then
    say "server binaries: $PG_BIN ($("$PG_BIN/postgres" --version))"
    return 0
  fi
  if ((EUID == 0)) && command -v apt-get >/dev/null 2>&1; then
    say "no PostgreSQL server binaries found; installing the distribution's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null \
      || die "apt-get install postgresql failed"
    find_binaries || die "postgresql installed but initdb/pg_ctl not found"
    say "installed: $PG_BIN ($("$PG_BIN/postgres" --version))"
    return 0
  fi
  die "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in /usr/lib/postgresql/*/bin.
  Install them (Debian/Ubuntu: sudo apt-get install postgresql), or point CHS_DATABASE_URL at a
  server where the role may create databases."
}

# PostgreSQL refuses to run as root: as root, run the server as the `postgres` OS user.
setup_run_user() {
  AS=()
  ((EUID == 0)) || return 0
  if ! id -u postgres >/dev/null 2>&1; then
    local group_opt=(--user-group)
    getent group postgres >/dev/null 2>&1 && group_opt=(-g postgres)
    useradd --system "${group_opt[@]}" --no-create-home --shell /usr/sbin/nologin postgres
    say "created the system user postgres"
  fi
  AS=(runuser -u postgres --)
}

as_owner() { (cd "$PG_HOME" && "${AS[@]}" "$@"); }

prepare_dirs() {
  mkdir -p "$DATA" "$RUN"
  touch "$LOG_FILE"
  if ((EUID == 0)); then chown -R postgres: "$PG_HOME"; fi
  chmod 700 "$DATA"
  as_owner test -w "$DATA" 2>/dev/null \
    || die "the server user cannot write $(rel "$DATA") (a parent directory is not searchable?);
  set CHS_PG_HOME to a directory it can use"
}

running() { as_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

init_cluster() {
  if [[ -f "$DATA/PG_VERSION" ]]; then
    local have want
    have="$(cat "$DATA/PG_VERSION")"
    want="$("$PG_BIN/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')"
    [[ "$have" == "$want" ]] || die "$(rel "$DATA") was created by PostgreSQL $have but the binaries are $want;
  remove it (make clean) to start afresh"
    return 0
  fi
  say "initialising a cluster in $(rel "$DATA") (superuser chs, trust auth)"
  as_owner "$PG_BIN/initdb" -D "$DATA" -U chs --auth=trust --encoding=UTF8 --no-locale \
    >>"$LOG_FILE" 2>&1 || { tail -n 20 "$LOG_FILE" >&2; die "initdb failed"; }
  echo "include_if_exists = 'chs_local.conf'" >>"$DATA/postgresql.conf"
}

write_config() {
  cat >"$DATA/chs_local.conf" <<EOF
# Written by deploy/local/postgres.sh on every start: a private development server.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
  if ((EUID == 0)); then chown postgres: "$DATA/chs_local.conf"; fi
}

psql_chs() { "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U chs -d postgres -At "$@"; }

check_superuser() {
  local su
  su="$(psql_chs -c "select rolsuper from pg_roles where rolname = current_user" 2>&1)" \
    || die "cannot connect as chs: $su"
  [[ "$su" == "t" ]] || die "role chs is not a superuser on 127.0.0.1:$PORT"
}

start() {
  external && return 0
  find_binaries || binaries
  setup_run_user
  if [[ -d "$DATA" ]] && running; then
    check_superuser
    say "already running on 127.0.0.1:$PORT ($URL)"
    return 0
  fi
  if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; then
    say "a PostgreSQL server not started by this script already answers on 127.0.0.1:$PORT; nothing to do"
    return 0
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is in use by something that is not PostgreSQL"
  fi
  prepare_dirs
  init_cluster
  write_config
  echo "=== $(date -Is) starting" >>"$LOG_FILE"
  say "starting PostgreSQL $(cat "$DATA/PG_VERSION") on 127.0.0.1:$PORT, log $(rel "$LOG_FILE")"
  if ! as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG_FILE" -w -t "$START_TIMEOUT" start >/dev/null; then
    echo "postgres: the server did not start; last lines of $(rel "$LOG_FILE"):" >&2
    tail -n 30 "$LOG_FILE" >&2
    exit 1
  fi
  check_superuser
  say "ready: $URL"
}

stop() {
  external && return 0
  if ! find_binaries || [[ ! -d "$DATA" ]]; then say "not running"; return 0; fi
  setup_run_user
  if ! running; then
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; then
      say "not started by this script (a server on port $PORT belongs to someone else); nothing to stop"
    else
      say "not running"
    fi
    return 0
  fi
  say "stopping"
  as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
  say "stopped"
}

status() {
  external && return 0
  if find_binaries && [[ -d "$DATA" ]]; then
    setup_run_user
    if running; then say "running on 127.0.0.1:$PORT ($URL)"; return 0; fi
  fi
  if find_binaries && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; then
    say "a server not started by this script answers on 127.0.0.1:$PORT"
    return 0
  fi
  say "not running"
  return 1
}

logs() {
  [[ -f "$LOG_FILE" ]] || die "no log yet ($(rel "$LOG_FILE"))"
  if [[ "${1:-}" == "-f" ]]; then tail -n 50 -F "$LOG_FILE"; else tail -n 200 "$LOG_FILE"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) logs "${2:-}" ;;
  url) echo "${CHS_DATABASE_URL:-$URL}" ;;
  binaries) external || binaries ;;
  *) echo "usage: $0 start|stop|status|logs [-f]|url|binaries" >&2; exit 2 ;;
esac
