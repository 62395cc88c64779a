#!/usr/bin/env bash
# Sourced by scripts/demo.sh and scripts/test.sh: create .venv and install kpibot when needed.
# Env: KPIBOT_FORCE_INSTALL=1 (re-run pip), PYTHON (interpreter used to create .venv).

command -v say >/dev/null 2>&1 || say() { printf '==> %s\n' "$*" >&2; }

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
