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
source scripts/venv.sh

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
