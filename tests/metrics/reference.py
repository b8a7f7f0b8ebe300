"""The independent DuckDB computation of match_steps, and the check against the Polars one.

Reusable outside the tests, e.g. on the whole demo warehouse:

    from tests.metrics.reference import assert_matches_reference
    assert_matches_reference({"matches": ..., "meetings": ..., ...}, settings)
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

from models.metrics.frames import empty_core
from models.metrics.settings import MetricSettings, settings_hash
from models.metrics.steps import MATCH_STEPS_COLUMNS, match_steps

REFERENCE_SQL = Path(__file__).with_name("reference_match_steps.sql")
STEP_INPUTS = ("matches", "meetings", "activities", "survey_items")


def _inputs(core_frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    # An absent optional table is compared as an empty one: the null-when-absent rule is
    # pinned by unit tests, this check is about the step rules themselves.
    frames = {name: core_frames.get(name) for name in STEP_INPUTS}
    out = {name: frame if frame is not None else empty_core(name) for name, frame in frames.items()}
    if "ended_on" not in out["matches"].columns:  # optional in the contract
        out["matches"] = out["matches"].with_columns(ended_on=pl.lit(None, dtype=pl.Date))
    return out


def reference_match_steps(
    core_frames: dict[str, pl.DataFrame], settings: MetricSettings
) -> pl.DataFrame:
    """match_steps computed by reference_match_steps.sql in an in-memory DuckDB."""
    con = duckdb.connect()
    try:
        for name, frame in _inputs(core_frames).items():
            con.register(name, frame)
        params = {
            "as_of": settings.as_of,
            "thanks_lo": settings.thanks_window_days[0],
            "thanks_hi": settings.thanks_window_days[1],
            "follow_lo": settings.follow_up_window_days[0],
            "follow_hi": settings.follow_up_window_days[1],
            "lasting_days": settings.lasting_days,
            "network_sources": list(settings.network_match_sources),
        }
        return con.sql(REFERENCE_SQL.read_text(), params=params).pl()
    finally:
        con.close()


def assert_matches_reference(
    core_frames: dict[str, pl.DataFrame], settings: MetricSettings
) -> pl.DataFrame:
    """Assert the Polars match_steps equals the SQL reference row for row; return it."""
    frames = _inputs(core_frames)
    ours = match_steps(
        frames["matches"],
        frames["meetings"],
        frames["activities"],
        frames["survey_items"],
        settings,
    )
    assert ours.columns == list(MATCH_STEPS_COLUMNS)
    assert (ours["settings_hash"] == settings_hash(settings)).all()
    expected = reference_match_steps(core_frames, settings)
    assert_frame_equal(
        ours.drop("settings_hash"),
        expected.select(ours.columns[:-1]),
        abs_tol=1e-9,
    )
    return ours
