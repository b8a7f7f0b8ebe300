#!/usr/bin/env bash
# Move uv.lock forward, keeping it only if the whole suite passes with the new versions.
#
#   bash scripts/upgrade-lock.sh                         # every package to its newest allowed
#   bash scripts/upgrade-lock.sh --upgrade-package numpy # one package (repeatable)
#
# Re-resolves within pyproject.toml's ranges, installs the result into .venv, runs the README's
# test command (ruff and the whole suite). Green: the new uv.lock stays, ready to commit, and
# the changed versions are printed. Red: the previous lock is restored and reinstalled.
# After editing pyproject.toml's dependencies: `.venv/bin/uv lock` (re-resolves only what the
# edit needs), then `bash scripts/test.sh`; scripts/install.sh refuses a lock that disagrees.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
previous=$(mktemp)
cp uv.lock "$previous"
trap 'rm -f "$previous"' EXIT

if [[ $# -eq 0 ]]; then set -- --upgrade; fi
.venv/bin/uv lock "$@"

if cmp -s uv.lock "$previous"; then
  echo "uv.lock unchanged: nothing newer within pyproject.toml's ranges."
  exit 0
fi
if bash scripts/test.sh; then
  echo "Suite green with the new lock. Changed versions:"
  .venv/bin/python - "$previous" uv.lock <<'PY'
import sys, tomllib
def pins(path):
    lock = tomllib.load(open(path, "rb"))
    return {(p["name"], p["version"]) for p in lock["package"] if "version" in p}
old, new = pins(sys.argv[1]), pins(sys.argv[2])
for name in sorted({n for n, _ in old ^ new}):
    was = sorted(v for n, v in old - new if n == name) or ["(new)"]
    now = sorted(v for n, v in new - old if n == name) or ["(removed)"]
    print(f"  {name}: {', '.join(was)} -> {', '.join(now)}")
PY
  echo "Commit uv.lock (and note notable upgrades in CHANGELOG.md)."
else
  echo "Suite red with the new lock: restoring the previous uv.lock." >&2
  cp "$previous" uv.lock
  bash scripts/install.sh
  exit 1
fi
