"""Row rules in slices over the warehouse give exactly the in-memory outcome.

The demo export carries every kind of bad row the generator plants (types, enumerations,
references, future dates, before-match dates, exact duplicates, duplicate keys), and the
slices are made small so that duplicates and keys span slices.
"""

import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.contract import load_contract
from models.demo.generator import generate
from models.ingest.batched import drop_staging, row_context, stage_checked_rows, write_outcome
from models.ingest.ledger import land_root
from models.warehouse import apply_schema
from tests.reference.row_rules import apply_row_rules

CONTRACT = load_contract()
AS_OF = date(2026, 6, 30)
RUN = "run-1"


OFFSETS = ("+05:30", "Z", "-04:00", "+01:00")
STAMP = re.compile(r",(\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2}:\d{2}))?,")


def _with_offsets(path: Path) -> None:
    """Write every 7th row's first date or timestamp with a UTC offset (one clock: the rules
    convert it to the zone of the row's program)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i in range(7, len(lines), 7):
        offset = OFFSETS[(i // 7) % len(OFFSETS)]
        stamp = lambda m, o=offset: f",{m[1]}T{m[2] or '23:30:00'}{o},"  # noqa: E731
        lines[i] = STAMP.sub(stamp, lines[i], count=1)
    assert sum(any(o in line for o in OFFSETS) for line in lines) >= len(lines) // 8
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    export = tmp_path_factory.mktemp("export")
    generate(export, seed=5, scale=0.3, as_of=AS_OF, bad_rows=True)
    for name in ("meetings_*", "activities", "survey_responses", "matches", "participants"):
        for path in export.glob(f"{name}.csv"):
            _with_offsets(path)
    # An exact duplicate and a duplicate key far apart in the file, across slices.
    meetings = sorted(export.glob("meetings*.csv"))[0]
    lines = meetings.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = lines[5].rstrip("\n").rsplit(",", 1)[0] + ",cancelled\n"
    assert changed != lines[5]
    meetings.write_text("".join([*lines, lines[3], changed]), encoding="utf-8")
    con = duckdb.connect()
    apply_schema(con)
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 1), RUN)
    return con


def _sorted(frame: pl.DataFrame, *by: str) -> list[dict]:
    return frame.sort(list(by)).to_dicts()


def test_sliced_rules_equal_the_in_memory_rules_for_every_table(landed):
    con = landed
    checked_tables = 0
    for table, spec in CONTRACT.items():
        raw = f"raw.{table}"
        ctx = row_context(con, spec, CONTRACT, AS_OF)
        expected = apply_row_rules(con.sql(f"SELECT * FROM {raw}").pl(), spec, ctx)
        rows_read = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
        landing = stage_checked_rows(con, raw, spec, ctx, batch_rows=97)
        outcome = write_outcome(con, spec, landing, RUN, rows_read, batch_rows=89)
        drop_staging(con, spec)

        public = [c for c in expected.kept.columns if c in spec.public_columns]
        public += ["_source_file", "_source_row"]
        core = con.sql(f"SELECT * FROM core.{spec.core_name}").pl()
        assert core.columns == public, table
        assert core.to_dicts() == expected.kept.select(public).to_dicts(), table
        extra = spec.restricted_columns + [c for c in expected.kept.columns if c.endswith("_raw")]
        if extra:
            restricted = con.sql(f"SELECT * FROM restricted.{spec.core_name}").pl()
            assert restricted.to_dicts() == expected.kept.select(spec.key[0], *extra).to_dicts()

        rejected = con.sql(
            "SELECT * EXCLUDE (run_id) FROM quarantine.rejected_rows WHERE table_name = ?",
            params=[table],
        ).pl()
        assert _sorted(rejected, "source_file", "source_row") == _sorted(
            expected.rejected, "source_file", "source_row"
        ), table
        dups = con.sql(
            "SELECT * EXCLUDE (run_id) FROM quarantine.duplicate_rows WHERE table_name = ?",
            params=[table],
        ).pl()
        assert dups.to_dicts() == expected.duplicates.to_dicts(), table

        assert outcome.rows_kept == expected.kept.height
        assert outcome.rows_quarantined == expected.rejected.height
        assert outcome.rows_duplicate == expected.duplicates.height
        assert rows_read == outcome.rows_kept + outcome.rows_quarantined + outcome.rows_duplicate
        checked_tables += 1
    assert checked_tables == len(CONTRACT)
    rules = {
        r[0] for r in con.execute("SELECT DISTINCT rule FROM quarantine.rejected_rows").fetchall()
    }
    # The planted bad rows reach every kind of rule, the sliced duplicate key included.
    assert {"type", "reference", "duplicate_key"} <= rules
    dup = con.execute(
        "SELECT count(*) FROM quarantine.duplicate_rows WHERE table_name = 'meetings'"
    ).fetchall()[0][0]
    assert dup >= 1
