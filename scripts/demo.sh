#!/usr/bin/env bash
# The demo command:  bash scripts/demo.sh [ARGS...]
# Creates .venv (Python >= 3.11) and installs kpibot when needed, then runs `kpibot demo ARGS...`.
# Env: KPIBOT_FORCE_INSTALL=1 (re-run pip), PYTHON (interpreter used to create .venv).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '==> %s\n' "$*" >&2; }

source scripts/venv.sh

ensure_venv ""

exec .venv/bin/kpibot demo "$@"
