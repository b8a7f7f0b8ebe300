"""A researcher's process: query the snapshot in a loop until told to stop, then report.

  hold:   one read-only connection for the whole loop (keeps the old file open across swaps)
  reopen: a new read-only connection for every query (sees each new snapshot once swapped)

Prints one JSON line: queries run, errors, and the (snapshot_id, meetings) pairs seen.
"""

import json
import sys
import time
from pathlib import Path

import duckdb

QUERY = (
    "SELECT (SELECT snapshot_id FROM meta.snapshot_info), "
    "(SELECT count(*) FROM core.meetings), "
    "(SELECT count(*) FROM core.meetings m JOIN core.matches USING (match_id))"
)


def main(mode: str, snapshot: str, ready: str, stop: str) -> int:
    seen: dict[str, int] = {}
    errors: list[str] = []
    queries = 0
    held = duckdb.connect(snapshot, read_only=True) if mode == "hold" else None
    deadline = time.monotonic() + 120
    while not Path(stop).exists() and time.monotonic() < deadline:
        try:
            con = held or duckdb.connect(snapshot, read_only=True)
            try:
                snapshot_id, meetings, joined = con.execute(QUERY).fetchall()[0]
            finally:
                if held is None:
                    con.close()
            if joined != meetings:
                errors.append(f"inconsistent read: {meetings} meetings, {joined} joined")
            seen[snapshot_id] = meetings
            queries += 1
        except Exception as exc:  # any failure, opening included, is what the test looks for
            errors.append(f"{type(exc).__name__}: {exc}")
        Path(ready).touch()
    if held is not None:
        held.close()
    print(json.dumps({"queries": queries, "errors": errors, "seen": seen}))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
