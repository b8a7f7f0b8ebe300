#!/usr/bin/env bash
# The test command of the README: installs what the tests need, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --browser
export DAGSTER_TELEMETRY_DISABLED=1
.venv/bin/ruff check .
# Two workers on the 2-core CI machine (pytest-xdist): 544-603 s on 2026-12-06
# (session 19; docs/performance.md). Pass -n 0 to run in one process (a debugger, -x), or -n N
# for another count.
# --dist loadgroup: tests marked xdist_group share a worker, and with it their fixtures: the
# explicit groups, and every module with a module-scoped fixture (tests/scheduling.py).
# --no-loadscope-reorder: keep tests/scheduling.py's order (heaviest first) instead of
# dealing out the groups with the most tests first.
.venv/bin/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder "$@"
