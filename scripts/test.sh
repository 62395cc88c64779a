#!/usr/bin/env bash
# The test command:  bash scripts/test.sh [PYTEST ARGS...]
#
# 1. creates .venv (Python >= 3.11) and installs kpibot with the dev extras when needed
# 2. ruff check, ruff format --check, mypy
# 3. pytest "$@" against PostgreSQL:
#    - KPIBOT_TEST_DATABASE_URL if set, else
#    - a throwaway cluster started by scripts/pg.sh when PostgreSQL server binaries exist, else
#    - a loud warning: the PostgreSQL tests are skipped (an error if KPIBOT_REQUIRE_POSTGRES=1).
# Exits with the first failing step's status (pytest's own exit code for the test run).
#
# Env: KPIBOT_TEST_DATABASE_URL, KPIBOT_REQUIRE_POSTGRES=1, KPIBOT_FORCE_INSTALL=1 (re-run pip),
#      PYTHON (interpreter used to create .venv).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n==> %s\n' "$*" >&2; }

# --- virtualenv ------------------------------------------------------------------------------
ensure_venv() { # $1: extras ("" or "dev")
    local extras=$1 py= cand
    if [ ! -x .venv/bin/python ]; then
        for cand in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
            if command -v "$cand" >/dev/null 2>&1 &&
                "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
                py=$cand
                break
            fi
        done
        if [ -z "$py" ]; then
            echo "error: kpibot needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2
            exit 1
        fi
        say "creating .venv with $("$py" --version 2>&1)"
        "$py" -m venv .venv
    fi
    local want have=
    want="$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())') ${extras:-base}"
    [ -f .venv/.kpibot-installed ] && have=$(cat .venv/.kpibot-installed)
    local tools_ok=1 t
    for t in kpibot ${extras:+ruff mypy pytest}; do
        [ -x ".venv/bin/$t" ] || tools_ok=0
    done
    # "dev" installs cover "base"; anything else (or a changed pyproject.toml) re-runs pip.
    if [ "${KPIBOT_FORCE_INSTALL:-}" = 1 ] || [ "$tools_ok" != 1 ] ||
        { [ "$have" != "$want" ] && [ "$have" != "${want% *} dev" ]; }; then
        say "pip install -e '.${extras:+[$extras]}'"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check \
            -e ".${extras:+[$extras]}"
        printf '%s\n' "$want" >.venv/.kpibot-installed
    fi
}

ensure_venv dev

# Fail fast, before linting, when PostgreSQL is required but cannot be had.
source scripts/pg.sh
if [ -z "${KPIBOT_TEST_DATABASE_URL:-}" ] && [ "${KPIBOT_REQUIRE_POSTGRES:-}" = 1 ] &&
    ! pg_find_bindir >/dev/null; then
    echo "error: KPIBOT_REQUIRE_POSTGRES=1 but KPIBOT_TEST_DATABASE_URL is unset and no" \
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were found" >&2
    exit 1
fi

# --- static checks ---------------------------------------------------------------------------
say "ruff check ."
.venv/bin/ruff check .
say "ruff format --check ."
.venv/bin/ruff format --check .
say "mypy"
.venv/bin/mypy

# --- PostgreSQL ------------------------------------------------------------------------------
warn_box() {
    {
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        printf '!!  %s\n' "$@"
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo
    } >&2
}

if [ -n "${KPIBOT_TEST_DATABASE_URL:-}" ]; then
    say "PostgreSQL: using KPIBOT_TEST_DATABASE_URL from the environment"
elif pg_find_bindir >/dev/null; then
    say "PostgreSQL: starting a throwaway cluster"
    if ! pg_start; then
        if [ "${KPIBOT_REQUIRE_POSTGRES:-}" = 1 ]; then
            echo "error: could not start the throwaway PostgreSQL cluster" >&2
            exit 1
        fi
        warn_box "WARNING: could not start a throwaway PostgreSQL (see messages above)." \
            "The PostgreSQL tests WILL BE SKIPPED."
    fi
else
    warn_box "WARNING: no PostgreSQL server binaries (initdb, pg_ctl, postgres) found." \
        "The PostgreSQL tests WILL BE SKIPPED." \
        "Install them (Debian/Ubuntu: apt-get install postgresql) or set" \
        "KPIBOT_TEST_DATABASE_URL=postgresql+psycopg://USER@HOST:PORT/DB"
fi

# --- tests -----------------------------------------------------------------------------------
say "pytest $*"
set +e
.venv/bin/pytest "$@"
rc=$?
set -e
exit "$rc" # the EXIT trap from scripts/pg.sh stops and deletes the cluster
