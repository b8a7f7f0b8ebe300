"""SIGKILL real `mentorscope run` processes at several points; nothing is lost or half-published.

After every kill: the warehouse opens, the run lock is free, the published snapshot and the
reports are still the previous version (whole), and the next run completes with exactly the
results of an uninterrupted run of the same export.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from .cli import (
    Workspace,
    file_appeared,
    folder_digest,
    kill_when,
    rounded,
    rows_not_accounted_for,
    snapshot_id,
    step_started,
    tables,
    wait_until,
)

# One worker runs this module and test_no_exposure.py (scripts/test.sh: --dist loadgroup), so
# their shared `reference` run is made once, not once per worker (about 25 s).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability_reference")]

WAREHOUSE_SCHEMAS = ("core", "metrics", "quarantine", "restricted")
SNAPSHOT_SCHEMAS = ("core", "metrics", "meta")
GENERATED_AT = re.compile(r"generated (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PAGE_INPUTS = re.compile(r'<meta name="mentorscope-page-inputs" content="[0-9a-f]+">')
FLOAT = re.compile(r"-?\d+\.\d{6,}(?:e-?\d+)?")


def _comparable(path: Path, schemas: tuple[str, ...]) -> dict[str, list[tuple]]:
    out = tables(path, schemas)
    # Validation results accumulate run after run (it is a history); compare the last run's.
    out.pop("metrics.expectation_results", None)
    out.pop("meta.snapshot_info", None)  # the snapshot's own id and build time
    return out


def _last_expectations(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.sql(
            "SELECT * EXCLUDE (run_id, checked_at) FROM metrics.expectation_results "
            "WHERE run_id = (SELECT arg_max(run_id, checked_at) FROM metrics.expectation_results)"
        ).fetchall()
    finally:
        con.close()
    return sorted((rounded(r) for r in rows), key=repr)


def _warehouse_opens_read_write(path: Path) -> None:
    # A killed writer leaves a WAL; DuckDB must replay or discard it and open cleanly.
    con = duckdb.connect(str(path))
    try:
        con.execute("CHECKPOINT")
        assert con.sql("SELECT count(*) FROM information_schema.schemata").fetchall()[0][0] > 0
    finally:
        con.close()


def _published_whole(folder: Path, before: dict[str, str]) -> None:
    """The folder holds the previous run's set, or the new run's whole set: never a mixture.

    The index, research and data-quality pages are rewritten by every run (dashboards only
    when their inputs change), and the index is swapped in last: if any page changed, all
    three did, and every changed page carries one generation time.
    """
    now = folder_digest(folder)
    changed = {name for name, digest in now.items() if before.get(name) != digest}
    if not changed:
        return
    assert {"index.html", "research.html", "data_quality.html"} <= changed, sorted(changed)
    stamps = {
        stamp
        for name in changed
        for stamp in GENERATED_AT.findall((folder / name).read_text(encoding="utf-8"))
    }
    assert len(stamps) == 1, f"pages from different runs: {sorted(stamps)}"


def _pages(folder: Path) -> dict[str, str]:
    """Every page without what differs between two runs on the same data: the generation
    time (a page kept from an earlier run carries that run's), the run id, and the last digits
    of floats (parallel sums round differently from run to run)."""
    pages = {}
    for page in folder.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert GENERATED_AT.search(text), f"{page.name} carries no generation time"
        text = TIMESTAMP.sub("<time>", text)
        text = RUN_ID.sub("<run id>", text)
        text = PAGE_INPUTS.sub("", text)
        pages[page.name] = FLOAT.sub(lambda m: f"{float(m.group()):.9g}", text)
    return pages


def _table_differences(got: dict[str, list[tuple]], want: dict[str, list[tuple]]) -> list[str]:
    """A short account of every table that differs: a few rows each way, never whole tables
    (a failure message that prints the restricted schema is both useless and unsafe)."""
    out = [f"{name}: missing" for name in sorted(want.keys() - got.keys())]
    out += [f"{name}: unexpected" for name in sorted(got.keys() - want.keys())]
    for name in sorted(want.keys() & got.keys()):
        if got[name] != want[name] and name.startswith("restricted."):
            out.append(f"{name}: {len(got[name])} rows vs {len(want[name])}; rows differ")
        elif got[name] != want[name]:
            extra = sorted(set(got[name]) - set(want[name]), key=repr)[:2]
            lacking = sorted(set(want[name]) - set(got[name]), key=repr)[:2]
            out.append(
                f"{name}: {len(got[name])} rows vs {len(want[name])}; "
                f"only here {extra}; only in reference {lacking}"
            )
    return out


def _assert_same_results(ws: Workspace, reference: Workspace) -> None:
    assert not any(rows_not_accounted_for(ws.warehouse).values())
    differences = _table_differences(
        _comparable(ws.warehouse, WAREHOUSE_SCHEMAS),
        _comparable(reference.warehouse, WAREHOUSE_SCHEMAS),
    )
    assert not differences, "\n".join(differences)
    assert _last_expectations(ws.warehouse) == _last_expectations(reference.warehouse)
    differences = _table_differences(
        _comparable(ws.snapshot, SNAPSHOT_SCHEMAS),
        _comparable(reference.snapshot, SNAPSHOT_SCHEMAS),
    )
    assert not differences, "\n".join(differences)
    assert sorted(p.name for p in ws.reports.glob("*.html")) == sorted(
        p.name for p in reference.reports.glob("*.html")
    )
    assert _pages(ws.reports) == _pages(reference.reports)


def test_runs_killed_at_four_points_lose_nothing_and_publish_nothing_half(reference, tmp_path):
    ws = Workspace(tmp_path, reference.export)

    # 1. The very first run, killed while core tables are being written.
    proc = ws.start()
    assert kill_when(proc, step_started(ws, "core__meetings"), delay=0.1), "run ended first"
    _warehouse_opens_read_write(ws.warehouse)
    assert snapshot_id(ws) is None and not any(ws.reports.glob("*.html"))

    resumed = ws.run()
    assert resumed.returncode == 0, resumed.stderr
    assert "previous run" in resumed.stderr and "interrupted" in resumed.stderr
    _assert_same_results(ws, reference)
    published, pages = snapshot_id(ws), folder_digest(ws.reports)

    # 2. Killed mid-publish: the new snapshot is being written beside the published one.
    ws.clear_event_logs()
    proc = ws.start()
    assert kill_when(proc, file_appeared(ws.research, ".research-*.tmp")), "run ended first"
    _warehouse_opens_read_write(ws.warehouse)
    assert not any(rows_not_accounted_for(ws.warehouse).values())
    assert snapshot_id(ws) == published
    assert folder_digest(ws.reports) == pages

    # 3. Killed mid-reports: pages are being built in a folder beside the published ones.
    ws.clear_event_logs()
    proc = ws.start()
    building = file_appeared(ws.reports.parent, f".{ws.reports.name}.building-*")
    assert kill_when(proc, building), "run ended first"
    _warehouse_opens_read_write(ws.warehouse)
    assert snapshot_id(ws) is not None  # the previous or this run's, whole: it opens
    _published_whole(ws.reports, pages)

    # 4. The next run completes while a reader holds the snapshot open and a second
    # `mentorscope run` on the same warehouse is refused, changing nothing.
    reader = subprocess.Popen(
        [sys.executable, "-c", HOLD_SNAPSHOT, str(ws.snapshot)],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        held = reader.stdout.readline().strip()
        ws.clear_event_logs()
        final = ws.start()
        assert wait_until(final, step_started(ws, "landed_exports"))
        second = ws.run()
        out, err = final.communicate(timeout=240)
        assert final.returncode == 0, err
        reader.stdin.write("again\n")
        reader.stdin.flush()
        # The held connection still reads the version it opened, whole.
        assert reader.stdout.readline().strip() == held
    finally:
        reader.kill()
        reader.wait()
    assert second.returncode == 3, second.stderr
    assert "is being written by another Mentorscope run" in second.stderr
    assert "This run changed nothing" in second.stderr
    assert snapshot_id(ws) not in (None, held)
    _assert_same_results(ws, reference)
    # Only the two runs that finished left checks behind: the killed runs' were forgotten.
    con = duckdb.connect(str(ws.snapshot), read_only=True)
    try:
        runs = con.sql("SELECT count(DISTINCT run_id) FROM metrics.expectation_results")
        assert runs.fetchall()[0][0] == 2
    finally:
        con.close()


HOLD_SNAPSHOT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "SELECT snapshot_id FROM meta.snapshot_info"
print(con.sql(query).fetchall()[0][0], flush=True)
sys.stdin.readline()
print(con.sql(query).fetchall()[0][0], flush=True)
sys.stdin.readline()
"""
