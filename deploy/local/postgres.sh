#!/usr/bin/env bash
# A private native PostgreSQL server for local development and CI.
#
#   deploy/local/postgres.sh start|stop|status|logs [-f]|url|binaries|clean
#
# If CHS_DATABASE_URL is set, a server is provided from outside and this script does nothing.
# Otherwise: data in PG_HOME/data, socket in PG_HOME/run, log in PG_HOME/postgres.log, listening
# on 127.0.0.1:CHS_PG_PORT (15432) only, superuser `chs` with trust authentication (a dev server:
# fsync and synchronous_commit are off). `clean` stops the server and removes its directory.
#
# PG_HOME is CHS_PG_HOME when set, else .local/postgres. As root the server runs as the `postgres`
# OS user; when that user cannot enter the repository (a clone in /root, mode 0700, or any other
# ancestor without search permission for it), PG_HOME is /var/tmp/chs-postgres-<hash of the
# repository's path> instead (owned by postgres, mode 0700): the same path for every command, and
# recorded in .local/postgres-home, which `start` writes and `start`, `stop`, `status`, `logs`
# and `clean` read first. `make clean` runs `postgres.sh clean` before removing .local, so that
# directory goes too; after a bare `rm -rf .local` it stays and the next start uses it again
# (remove it with `rm -rf /var/tmp/chs-postgres-*` once the server is stopped).
# Other environment: PG_START_TIMEOUT seconds (60).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IN_REPO_HOME="$REPO/.local/postgres"
HOME_RECORD="$REPO/.local/postgres-home"
PORT="${CHS_PG_PORT:-15432}"
URL="postgresql://chs@127.0.0.1:$PORT/postgres"
START_TIMEOUT="${PG_START_TIMEOUT:-60}"
SERVER_USER=postgres

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

# The directory the script chooses itself when the server user cannot enter the repository:
# deterministic per repository (a hash of its physical path), so every command finds it again.
outside_home() {
  local real
  real="$(cd "$REPO" && pwd -P)"
  echo "/var/tmp/chs-postgres-$(printf '%s' "$real" | sha256sum | cut -c1-16)"
}

# Succeeds when the server user can search every directory down to DIR (and DIR itself).
server_user_reaches() { runuser -u "$SERVER_USER" -- test -x "$1" 2>/dev/null; }

# The first directory from / down to DIR that the server user cannot search.
first_blocked() {
  local dir="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${1#/}"
  for part in "${parts[@]}"; do
    dir="$dir/$part"
    server_user_reaches "$dir" || { echo "$dir"; return 0; }
  done
  echo "$1"
}

# PG_HOME and the paths in it. CHS_PG_HOME wins, then the directory a previous `start` recorded,
# then .local/postgres when the server user can reach it (always when not root: the server then
# runs as the caller), else outside_home. With mkdir (start only) .local is created first, so
# that a restrictive umask on it is seen too.
resolve_home() {
  PG_HOME_CHOSEN=""
  if [[ -n "${CHS_PG_HOME:-}" ]]; then
    PG_HOME="$CHS_PG_HOME"
  elif [[ -s "$HOME_RECORD" ]]; then
    PG_HOME="$(<"$HOME_RECORD")"
  elif ((EUID != 0)) || ! id -u "$SERVER_USER" >/dev/null 2>&1; then
    PG_HOME="$IN_REPO_HOME"     # not root, or no postgres user yet: the server runs as the caller
  else
    [[ "${1:-}" == mkdir ]] && mkdir -p "$REPO/.local"
    local probe="$REPO/.local"
    [[ -d "$probe" ]] || probe="$REPO"
    if server_user_reaches "$probe"; then
      PG_HOME="$IN_REPO_HOME"
    else
      PG_HOME="$(outside_home)"
      PG_HOME_CHOSEN="$(first_blocked "$probe")"
    fi
  fi
  DATA="$PG_HOME/data"
  RUN="$PG_HOME/run"
  LOG_FILE="$PG_HOME/postgres.log"
}

# " (data in DIR)" when PG_HOME is not .local/postgres, for the messages of start and status.
where() { [[ "$PG_HOME" == "$IN_REPO_HOME" ]] || echo " (data in $PG_HOME)"; }

# start: make outside_home safely (a world-writable parent: refuse one made by someone else) and
# record it, and say why.
claim_outside_home() {
  [[ -n "$PG_HOME_CHOSEN" ]] || return 0
  say "the server user $SERVER_USER cannot enter $PG_HOME_CHOSEN, so data, socket and log are in
  $PG_HOME (recorded in $(rel "$HOME_RECORD"); set CHS_PG_HOME to choose another directory)"
  if ! mkdir -m 700 "$PG_HOME" 2>/dev/null; then
    local owner
    owner="$(stat -c %U "$PG_HOME" 2>/dev/null || true)"
    [[ -d "$PG_HOME" && ! -L "$PG_HOME" && ("$owner" == "$SERVER_USER" || "$owner" == root) ]] \
      || die "$PG_HOME exists but is not a directory of $SERVER_USER or root; remove it or set CHS_PG_HOME"
  fi
  chown -h "$SERVER_USER": "$PG_HOME"
  chmod 700 "$PG_HOME"
  echo "$PG_HOME" >"$HOME_RECORD"
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
  AS=(runuser -u "$SERVER_USER" --)
}

as_owner() { (cd "$PG_HOME" && "${AS[@]}" "$@"); }

prepare_dirs() {
  claim_outside_home
  mkdir -p "$DATA" "$RUN"
  touch "$LOG_FILE"
  if ((EUID == 0)); then chown -R "$SERVER_USER": "$PG_HOME"; fi
  chmod 700 "$DATA"
  "${AS[@]}" test -w "$DATA" 2>/dev/null \
    || die "the server user cannot write $(rel "$DATA") (a parent directory is not searchable?);
  set CHS_PG_HOME to a directory it can use"
  "${AS[@]}" test -x "$PG_BIN/postgres" 2>/dev/null \
    || die "the server user cannot run $PG_BIN/postgres; install the binaries where it can"
}

running() { as_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

init_cluster() {
  if [[ -f "$DATA/PG_VERSION" ]]; then
    local have want
    have="$(cat "$DATA/PG_VERSION")"
    want="$("$PG_BIN/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')"
    [[ "$have" == "$want" ]] || die "$(rel "$DATA") was created by PostgreSQL $have but the binaries are $want;
  remove it (make clean, or deploy/local/postgres.sh clean) to start afresh"
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
  if ((EUID == 0)); then chown "$SERVER_USER": "$DATA/chs_local.conf"; fi
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
  resolve_home mkdir
  if [[ -d "$DATA" ]] && running; then
    check_superuser
    say "already running on 127.0.0.1:$PORT ($URL)$(where)"
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
  resolve_home
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
  resolve_home
  if find_binaries && [[ -d "$DATA" ]]; then
    setup_run_user
    if running; then say "running on 127.0.0.1:$PORT ($URL)$(where)"; return 0; fi
  fi
  if find_binaries && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; then
    say "a server not started by this script answers on 127.0.0.1:$PORT"
    return 0
  fi
  say "not running"
  return 1
}

logs() {
  resolve_home
  [[ -f "$LOG_FILE" ]] || die "no log yet ($(rel "$LOG_FILE"))"
  if [[ "${1:-}" == "-f" ]]; then tail -n 50 -F "$LOG_FILE"; else tail -n 200 "$LOG_FILE"; fi
}

# Stop, then remove PG_HOME (and the record) unless it is CHS_PG_HOME, which is the caller's.
clean() {
  external && return 0
  stop
  if [[ -n "${CHS_PG_HOME:-}" ]]; then
    say "CHS_PG_HOME ($CHS_PG_HOME) is yours: left in place"
    return 0
  fi
  if [[ "$PG_HOME" != "$IN_REPO_HOME" && "$PG_HOME" != "$(outside_home)" ]]; then
    say "$(rel "$HOME_RECORD") names $PG_HOME, not a directory this script chooses: left in place"
  elif [[ -e "$PG_HOME" ]]; then
    rm -rf "$PG_HOME"
    say "removed $(rel "$PG_HOME")"
  fi
  rm -f "$HOME_RECORD"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) logs "${2:-}" ;;
  url) echo "${CHS_DATABASE_URL:-$URL}" ;;
  binaries) external || binaries ;;
  clean) clean ;;
  *) echo "usage: $0 start|stop|status|logs [-f]|url|binaries|clean" >&2; exit 2 ;;
esac
