#!/usr/bin/env bash
# Install Mentorscope into .venv exactly as locked in uv.lock (idempotent): the versions the
# suite passed with, checked against the lock's hashes. With --browser, also Debian's Chromium
# for the report tests. Everything comes from PyPI and Debian; nothing is downloaded at run time.
# To move the lock forward: scripts/upgrade-lock.sh (docs/operations.md, "Upgrading").
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

# The uv release that wrote uv.lock (pyproject's [tool.uv] required-version) bootstraps the
# environment; the lock then installs that same uv into .venv, so the sync keeps it.
UV_VERSION=$(sed -n 's/^required-version = "==\(.*\)"$/\1/p' pyproject.toml)
PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
if [[ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
# --locked: install what uv.lock says (hashes checked), and refuse a lock that pyproject.toml
# has moved away from. Syncs are exact: packages not in the lock are removed.
# --compile-bytecode: PYTHONDONTWRITEBYTECODE=1 is set here, so without it every process
# recompiles (importing great_expectations takes 7.5 s instead of 3.5 s).
.venv/bin/uv sync -q --locked --extra dev --compile-bytecode --python .venv/bin/python
