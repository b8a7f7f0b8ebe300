#!/usr/bin/env bash
# The test command of the README: installs what the tests need, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --browser
export DAGSTER_TELEMETRY_DISABLED=1
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
