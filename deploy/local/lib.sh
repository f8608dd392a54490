# shellcheck shell=bash
# The plumbing deploy/local/kafka.sh and keycloak.sh share, sourced by them (not run). The
# script sets NAME (its messages' prefix), SERVER (what it runs: "broker", "server"), REPO,
# PORT, PID_FILE, LOG_FILE, START_TIMEOUT, STOP_TIMEOUT and STOP_NOTE (said when stopping), and
# defines our_pid (the pid of the server it started, if alive: `live_pid <guard>`), probe
# (prints a one-line summary when the server answers) and ready (what to say once it does: $1
# the pid, $2 the summary).

say() { echo "$NAME: $*"; }
die() { echo "$NAME: $*" >&2; exit 1; }
rel() { echo "${1#"$REPO"/}"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid in PID_FILE if that process is alive and its command line names $1: a recycled pid
# does not count.
live_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid; pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$1" || return 1
  echo "$pid"
}

# $1, then the log's last lines, on stderr.
log_tail() {
  echo "$NAME: $1; last lines of $(rel "$LOG_FILE"):" >&2
  tail -n 40 "$LOG_FILE" >&2
}

# Waits until the server started as $1 answers (ready is called), or it exits, or
# START_TIMEOUT passes (it is stopped).
wait_ready() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT)) summary
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail "the $SERVER exited during start-up"
      rm -f "$PID_FILE"
      return 1
    fi
    if port_open "$PORT" && summary="$(probe 2>/dev/null)"; then
      ready "$pid" "$summary"
      return 0
    fi
    sleep 0.5
  done
  log_tail "not ready after ${START_TIMEOUT}s"
  stop
  return 1
}

# Stops the server this script started (its process group: TERM, then KILL after
# STOP_TIMEOUT); one it did not start is left alone.
stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE"
    if port_open "$PORT"; then
      say "not started by this script (a $SERVER on port $PORT belongs to someone else); nothing to stop"
    else
      say "not running"
    fi
    return 0
  fi
  say "stopping (pid $pid$STOP_NOTE)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after ${STOP_TIMEOUT}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  say "stopped"
}

# The log's last lines (LINES_SHOWN, 200), or `-f` to follow it.
logs() {
  [[ -f "$LOG_FILE" ]] || die "no log yet ($(rel "$LOG_FILE"))"
  if [[ "${1:-}" == "-f" ]]; then
    tail -n 50 -F "$LOG_FILE"
  else
    tail -n "${LINES_SHOWN:-200}" "$LOG_FILE"
  fi
}
