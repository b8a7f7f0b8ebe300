"""The publish tests read the session's demo run (tests/conftest.py: one real pipeline run on a
generated program, published with a fixed key into its own research folder).

Tests that need snapshots of their own (key rotation, republishing under readers) call
`publish` on that run's warehouse; none runs the pipeline again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import DEMO_AS_OF, DEMO_KEY, DemoRun

KEY = bytes.fromhex(DEMO_KEY)
OTHER_KEY = hashlib.sha256(b"a rotated key").digest()
AS_OF: dt.date = DEMO_AS_OF

# Input columns whose values are identifiers: (file pattern, column, kind).
_ID_COLUMNS = (
    ("participants*.csv", "participant_id", "participant_ids"),
    ("participants*.csv", "name", "names"),
    ("participants*.csv", "email", "emails"),
    ("programs*.csv", "name", "program_names"),
    ("matches*.csv", "match_id", "other_ids"),
    ("meetings*.csv", "meeting_id", "other_ids"),
    ("activities*.csv", "activity_id", "other_ids"),
    ("survey_responses*.csv", "response_id", "other_ids"),
)


@dataclass(frozen=True)
class Needles:
    """Values of the export that must never appear in a research snapshot."""

    names: tuple[str, ...]
    emails: tuple[str, ...]
    participant_ids: tuple[str, ...]
    program_names: tuple[str, ...]
    other_ids: tuple[str, ...]  # match, meeting, activity and response ids

    @property
    def all(self) -> list[str]:
        return sorted(
            {
                *self.names,
                *self.emails,
                *self.participant_ids,
                *self.program_names,
                *self.other_ids,
            }
        )


def read_needles(export: Path) -> Needles:
    """Every identifier of the export files, read from the CSVs (not from the warehouse), bad
    rows included: what was quarantined must not be published either."""
    found: dict[str, set[str]] = {kind: set() for _, _, kind in _ID_COLUMNS}
    for pattern, column, kind in _ID_COLUMNS:
        for path in sorted(export.glob(pattern)):
            values = pl.read_csv(path, infer_schema=False)[column].drop_nulls()
            found[kind] |= {v.strip() for v in values.to_list() if v.strip()}
    return Needles(**{kind: tuple(sorted(values)) for kind, values in found.items()})


@dataclass
class Published:
    demo: DemoRun
    research: Path
    needles: Needles

    @property
    def warehouse(self) -> Path:
        return self.demo.warehouse

    @property
    def snapshot(self) -> Path:
        return self.research / "research.duckdb"

    @property
    def export(self) -> Path:
        return self.demo.export

    @property
    def report(self):
        return self.demo.report


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """A fresh read-only connection per call, closed at once (no cached, stale instance)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def published(demo_run: DemoRun) -> Published:
    # tests/conftest.py points MENTORSCOPE_RESEARCH_DIR at research/ beside the export.
    research = demo_run.export.parent / "research"
    assert (research / "research.duckdb").is_file(), "the demo run published no snapshot"
    return Published(demo_run, research, read_needles(demo_run.export))
