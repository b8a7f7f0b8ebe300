#!/usr/bin/env bash
# The test command of the README: installs what the tests need, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --browser
export DAGSTER_TELEMETRY_DISABLED=1
.venv/bin/ruff check .
# Two workers on the 2-core CI machine (pytest-xdist): about 10 minutes on a clean clone
# (580-613 s on 2026-12-06 in session 18; docs/performance.md). Pass -n 0 to
# run in one process (a debugger, -x), or -n N for another count.
# --dist loadgroup: tests marked xdist_group share a worker, and with it a session fixture
# (tests/reliability: the reference run); the others are dealt out one by one as with load.
.venv/bin/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder "$@"
