#!/usr/bin/env bash
# Prepares a machine to run and test the platform natively. Idempotent: a second run only checks
# stamps under .cache/setup (keyed on hashes of requirements.lock, the packages' pyproject.toml
# files, deploy/kafka/pom.xml and deploy/keycloak/pom.xml) and returns in about a second.
#
#   1. .venv from Python 3.11+ (PYTHON overrides the interpreter)
#   2. pip install -r requirements.lock
#   3. editable installs (--no-deps) of every package under libs/ and services/
#   4. the Kafka broker jars from Maven Central (deploy/local/kafka.sh jars)
#   5. the Keycloak server distribution from Maven Central (deploy/local/keycloak.sh dist)
#   6. PostgreSQL server binaries, installed with apt-get when missing and run as root
#      (skipped when CHS_DATABASE_URL points at a server)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
VENV="$REPO/.venv"
STAMPS="$REPO/.cache/setup"
mkdir -p "$STAMPS"
T0=$SECONDS

say() { echo "setup: $*"; }
die() { echo "setup: $*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# 1. Interpreter and virtual environment -------------------------------------------------------
pick_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

PY_BASE="$(pick_python)" || die "Python 3.11+ not found (set PYTHON=/path/to/python3.11)"
PY_VERSION="$("$PY_BASE" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"

if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  say "venv: .venv exists ($("$VENV/bin/python" --version))"
else
  rm -rf "$VENV"
  "$PY_BASE" -m venv "$VENV" || die "python -m venv failed (Debian/Ubuntu: apt-get install python3-venv)"
  rm -f "$STAMPS"/deps.stamp "$STAMPS"/packages.stamp
  say "venv: created .venv with $PY_BASE ($PY_VERSION)"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)

# 2. Pinned dependencies -----------------------------------------------------------------------
deps_key="$(hash_of requirements.lock)-$PY_VERSION"
if [[ "$(cat "$STAMPS/deps.stamp" 2>/dev/null)" == "$deps_key" ]]; then
  say "python deps: up to date (requirements.lock $deps_key)"
else
  t=$SECONDS
  "${PIP[@]}" install -r requirements.lock || die "pip install -r requirements.lock failed"
  echo "$deps_key" >"$STAMPS/deps.stamp"
  say "python deps: installed requirements.lock ($(grep -c '==' requirements.lock) pins) in $((SECONDS - t))s"
fi

# 3. The platform's own packages, editable ------------------------------------------------------
mapfile -t PACKAGES < <(ls -d libs/*/pyproject.toml services/*/pyproject.toml 2>/dev/null | xargs -r -n1 dirname)
((${#PACKAGES[@]})) || die "no packages under libs/ or services/"
pkg_key="$(hash_of "${PACKAGES[@]/%//pyproject.toml}")-$deps_key-$(printf '%s,' "${PACKAGES[@]}" | sha256sum | cut -c1-8)"
if [[ "$(cat "$STAMPS/packages.stamp" 2>/dev/null)" == "$pkg_key" ]]; then
  say "packages: up to date (${PACKAGES[*]})"
else
  t=$SECONDS
  editable=()
  for p in "${PACKAGES[@]}"; do editable+=(-e "$p"); done
  "${PIP[@]}" install --no-deps "${editable[@]}" || die "editable install failed"
  echo "$pkg_key" >"$STAMPS/packages.stamp"
  say "packages: installed editable ${PACKAGES[*]} in $((SECONDS - t))s"
fi

# 4. Kafka broker jars --------------------------------------------------------------------------
command -v java >/dev/null 2>&1 || [[ -x "${JAVA_HOME:-/nonexistent}/bin/java" ]] \
  || die "java not found: the Kafka broker needs a Java 17+ runtime (apt-get install openjdk-17-jre-headless)"
"$REPO/deploy/local/kafka.sh" jars | sed 's/^/setup: /'

# 5. Keycloak server distribution (runs on Java 21+, which keycloak.sh start looks for) ---------
"$REPO/deploy/local/keycloak.sh" dist | sed 's/^/setup: /'

# 6. PostgreSQL server binaries -----------------------------------------------------------------
"$REPO/deploy/local/postgres.sh" binaries | sed 's/^/setup: /'

say "done in $((SECONDS - T0))s. Next: make up (run the platform) or make test."
