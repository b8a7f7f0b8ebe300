"""Small Polars helpers the report builders share: scoping rows to a program and a period."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import polars as pl

ALL_PERIODS = "all"


def get(frames: Mapping[str, pl.DataFrame], name: str) -> pl.DataFrame | None:
    """A frame by name, or None when the producer did not supply it (optional tables)."""
    frame = frames.get(name)
    return frame if frame is not None and frame.height > 0 else None


def for_program(frame: pl.DataFrame, program_id: str | None) -> pl.DataFrame:
    """Rows of one program; None selects the all-programs rows (program_id null)."""
    if program_id is None:
        return frame.filter(pl.col("program_id").is_null())
    return frame.filter(pl.col("program_id") == program_id)


def by_program(frame: pl.DataFrame | None) -> dict[str | None, pl.DataFrame]:
    """One frame per program (None: the all-programs rows), in one pass over the rows rather
    than one filter of the whole frame per page."""
    if frame is None:
        return {}
    return {key[0]: part for key, part in frame.partition_by("program_id", as_dict=True).items()}


def program_ids(*frames: pl.DataFrame | None) -> list[str]:
    ids: set[str] = set()
    for frame in frames:
        if frame is not None and "program_id" in frame.columns:
            values = frame.get_column("program_id").unique().to_list()
            ids.update(v for v in values if v is not None)
    return sorted(ids)


def period_bounds(period: str) -> tuple[dt.date, dt.date] | None:
    """[start, end) of a period label: '2025Q3', '2025-07', '2025'; None for 'all'."""
    if period == ALL_PERIODS:
        return None
    if m := re.fullmatch(r"(\d{4})Q([1-4])", period):
        year, quarter = int(m[1]), int(m[2])
        start = dt.date(year, 3 * quarter - 2, 1)
        end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
        return start, end
    if m := re.fullmatch(r"(\d{4})-(\d{2})", period):
        year, month = int(m[1]), int(m[2])
        start = dt.date(year, month, 1)
        end = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
        return start, end
    if m := re.fullmatch(r"(\d{4})", period):
        return dt.date(int(m[1]), 1, 1), dt.date(int(m[1]) + 1, 1, 1)
    raise ValueError(f"unrecognised period label {period!r}")


def previous_period(periods: list[str], period: str) -> str | None:
    """The period just before `period` among those present; labels of one kind sort in time."""
    dated = sorted(p for p in set(periods) if p != ALL_PERIODS)
    if period not in dated:
        return None
    i = dated.index(period)
    return dated[i - 1] if i > 0 else None


def suppression_k(run_info: Mapping[str, object]) -> int:
    """The k used by the producer: run_info['suppression_k'] or run_info['settings'][...]."""
    if isinstance(run_info.get("suppression_k"), int):
        return int(run_info["suppression_k"])  # type: ignore[arg-type]
    settings = run_info.get("settings")
    if isinstance(settings, Mapping) and isinstance(settings.get("suppression_k"), int):
        return int(settings["suppression_k"])
    return 10
