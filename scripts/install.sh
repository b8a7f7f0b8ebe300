#!/usr/bin/env bash
# Install Mentorscope into .venv (idempotent). With --browser, also Debian's Chromium for
# the report tests. Everything comes from PyPI and Debian; nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--browser" ]] && ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium not found: install Debian's 'chromium' package to run the browser tests." >&2
  fi
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
if [[ ! -x .venv/bin/uv ]]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check uv
fi
# --compile-bytecode: PYTHONDONTWRITEBYTECODE=1 is set here, so without it every process
# recompiles (importing great_expectations takes 7.5 s instead of 3.5 s).
.venv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode -e ".[dev]"
