"""Where the report builder gets its rows: frames in memory, or the warehouse one program at a time.

Both give the builder the same things (ReportInputs):

- `shared`: the frames read whole. All are small: per program and period at most (headlines,
  step_funnel, meetings_monthly, alert_counts), or for the one-off pages (research and data
  quality). Person-level `match_steps` is never among them.
- `steps_completed(periods)`: matches per program, period and number of steps completed, counted
  in one pass (steps_by_period) instead of one filter of the person-level rows per page.
- `breakdowns(order)`: each program's rows of metrics.breakdowns, one program at a time, in page
  order. It is the one large input (about 1,300 rows per program, 18 metrics), so the warehouse
  source streams it sorted by program and memory stays flat however many programs there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

import duckdb
import polars as pl

from models.reporting.breakdowns import DASHBOARD_METRICS
from models.reporting.frames import by_program, get, program_ids
from models.reporting.headline_disclosure import protect_headlines
from models.reporting.outcomes import OVERALL_DIMENSIONS
from models.reporting.steps_completed import steps_by_period
from models.stats.same_subjects import same_subjects_gap
from models.warehouse import read_table, sql_file, table_exists

Bounds = tuple[dt.date, dt.date] | None

# Warehouse tables read whole, by the name models.reporting expects.
TABLE_FRAMES = {
    "step_funnel": "metrics.step_funnel",
    "model_estimates": "metrics.model_estimates",
    "homophily": "metrics.homophily",
    "construct_reliability": "metrics.construct_reliability",
    "alert_counts": "metrics.alert_counts",
    "data_quality": "metrics.data_quality",
    "survival_tests": "metrics.survival_tests",
    "survival_by_period": "metrics.survival_by_period",
    "mentee_status_counts": "metrics.mentee_status_counts",
}
# Queries in models/sql (models.warehouse.sql_file), by frame name.
SQL_FRAMES = {
    "meetings_monthly": "reports/meetings_monthly.sql",
    "rejected_rows": "reports/rejected_summary.sql",
    "headlines": "reports/headlines.sql",
    "closure_types": "reports/closure_types.sql",
    "survival": "reports/survival.sql",
    "programs": "reports/programs.sql",
}
# Queries over tables an older warehouse may not have: skipped (the page says so) without them.
SQL_REQUIRES = {
    "closure_types": "metrics.match_duration",
    "survival": "metrics.survival",
}
# Rows per Arrow batch of the breakdowns stream: a few MB, whatever the number of programs.
BATCH_ROWS = 50_000


def dashboard_breakdowns(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows a dashboard can show: its six metrics by group, and the program-wide rows."""
    return frame.filter(
        pl.col("metric").is_in(list(DASHBOARD_METRICS))
        | pl.col("dimension").is_in(list(OVERALL_DIMENSIONS))
    )


class ReportInputs(Protocol):
    shared: Mapping[str, pl.DataFrame]

    def program_ids(self) -> list[str]: ...

    def has_breakdowns(self) -> bool: ...

    def steps_completed(self, periods: Mapping[str, Bounds]) -> pl.DataFrame | None: ...

    def breakdowns(
        self, order: Sequence[str | None]
    ) -> Iterator[tuple[str | None, pl.DataFrame | None]]: ...

    def same_subjects_gap(self) -> int | None: ...


class FrameInputs:
    """Report inputs already in memory (tests, notebooks): build_reports(frames, ...)."""

    def __init__(self, frames: Mapping[str, pl.DataFrame]) -> None:
        self._frames = frames
        self.shared = {
            name: frame
            for name, frame in frames.items()
            if name not in ("match_steps", "breakdowns")
        }

    def program_ids(self) -> list[str]:
        names = ("step_funnel", "headlines", "match_steps", "breakdowns", "meetings_monthly")
        return program_ids(*(get(self._frames, n) for n in names))

    def has_breakdowns(self) -> bool:
        return get(self._frames, "breakdowns") is not None

    def steps_completed(self, periods: Mapping[str, Bounds]) -> pl.DataFrame | None:
        match_steps = get(self._frames, "match_steps")
        return None if match_steps is None else steps_by_period(match_steps, periods)

    def same_subjects_gap(self) -> int | None:
        frame = get(self._frames, "breakdowns")
        return None if frame is None else same_subjects_gap(frame)

    def breakdowns(
        self, order: Sequence[str | None]
    ) -> Iterator[tuple[str | None, pl.DataFrame | None]]:
        frame = get(self._frames, "breakdowns")
        if frame is None:
            yield from ((p, None) for p in order)
            return
        rows = dashboard_breakdowns(frame)
        parts = by_program(rows)
        empty = rows.clear()
        for program_id in order:
            yield program_id, parts.get(program_id, empty)


class WarehouseInputs:
    """Report inputs read from the warehouse; `con` must stay open while pages are built."""

    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: dt.date, k: int) -> None:
        self._con = con
        shared = {
            name: read_table(con, table)
            for name, table in TABLE_FRAMES.items()
            if table_exists(con, *table.split("."))
        }
        params = {"as_of": as_of, "k": k}
        queries = {
            name: sql_file(path)
            for name, path in SQL_FRAMES.items()
            if name not in SQL_REQUIRES or table_exists(con, *SQL_REQUIRES[name].split("."))
        }
        for name, sql in queries.items():
            used = {p: v for p, v in params.items() if f"${p}" in sql}
            shared[name] = con.sql(sql, params=used).pl()
        if "headlines" in shared:
            # Aggregate tier: the cards' matched counts under disclosure control.
            shared["headlines"] = protect_headlines(
                shared["headlines"],
                k,
                shared.get("mentee_status_counts"),
                _printed_sums(con),
                shared.get("step_funnel"),
            )
        if table_exists(con, "metrics", "expectation_results"):
            from models.validation.store import latest_results

            shared["expectation_results"] = latest_results(con)
        self.shared = shared
        self._has_steps = table_exists(con, "metrics", "match_steps")
        self._has_breakdowns = table_exists(con, "metrics", "breakdowns") and bool(
            con.sql("SELECT count(*) FROM metrics.breakdowns").fetchall()[0][0]
        )

    def program_ids(self) -> list[str]:
        ids = set(program_ids(*(get(self.shared, n) for n in ("step_funnel", "headlines"))))
        ids.update(program_ids(get(self.shared, "meetings_monthly")))
        for table in ("metrics.match_steps", "metrics.breakdowns"):
            if table_exists(self._con, *table.split(".")):
                rows = self._con.sql(
                    f"SELECT DISTINCT program_id FROM {table} WHERE program_id IS NOT NULL"
                ).fetchall()
                ids.update(r[0] for r in rows)
        return sorted(ids)

    def has_breakdowns(self) -> bool:
        return self._has_breakdowns

    def steps_completed(self, periods: Mapping[str, Bounds]) -> pl.DataFrame | None:
        """One GROUP BY per period over metrics.match_steps: counts leave DuckDB, people do not."""
        if not self._has_steps:
            return None
        parts = []
        for label, bounds in periods.items():
            where = "" if bounds is None else "WHERE matched_on >= $start AND matched_on < $end"
            params = {"period": label} | (
                {} if bounds is None else {"start": bounds[0], "end": bounds[1]}
            )
            parts.append(
                self._con.sql(
                    # a match still inside its follow-up window cannot have all six steps
                    # yet: counted apart (steps_completed null), not as fewer steps
                    "SELECT program_id, $period AS period, "
                    "CASE WHEN s6_window_closed THEN steps_completed END AS steps_completed, "
                    f"count(*)::BIGINT AS matches FROM metrics.match_steps {where} "
                    "GROUP BY ALL",
                    params=params,
                ).pl()
            )
        columns = ["program_id", "period", "steps_completed"]
        return pl.concat(parts).sort(columns, nulls_last=True)

    def same_subjects_gap(self) -> int | None:
        if not self._has_breakdowns:
            return None
        # Only the column the gate counts by: a row per group and metric.
        metrics = self._con.sql("SELECT metric, dimension FROM metrics.breakdowns").pl()
        return same_subjects_gap(metrics)

    def breakdowns(
        self, order: Sequence[str | None]
    ) -> Iterator[tuple[str | None, pl.DataFrame | None]]:
        if not self._has_breakdowns:
            yield from ((p, None) for p in order)
            return
        # Sorted by program in DuckDB, which spills to disk if it must; the secondary keys make
        # the row order, and so each page's input fingerprint, the same from run to run.
        relation = self._con.sql(
            # settings_hash is the same on every row (and in the page fingerprint already):
            # 64 characters a row that the sort would otherwise carry.
            "SELECT COLUMNS(lambda c: c <> 'settings_hash') FROM metrics.breakdowns "
            "WHERE metric IN (SELECT unnest($metrics)) "
            "OR dimension IN (SELECT unnest($overall)) "
            'ORDER BY program_id NULLS FIRST, dimension, "group", metric',
            params={"metrics": list(DASHBOARD_METRICS), "overall": list(OVERALL_DIMENSIONS)},
        )
        reader = relation.to_arrow_reader(BATCH_ROWS)
        empty = pl.from_arrow(reader.schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        batches = (pl.from_arrow(batch) for batch in reader)
        yield from align(grouped(batches), order, empty)  # type: ignore[arg-type]


def grouped(batches: Iterator[pl.DataFrame]) -> Iterator[tuple[str | None, pl.DataFrame]]:
    """Consecutive rows of one program as one frame; a program may span several batches."""
    current: str | None = None
    parts: list[pl.DataFrame] = []
    for batch in batches:
        for part in batch.partition_by("program_id", maintain_order=True):
            program_id = part.item(0, "program_id")
            if parts and program_id != current:
                yield current, pl.concat(parts)
                parts = []
            current = program_id
            parts.append(part)
    if parts:
        yield current, pl.concat(parts)


def align(
    groups: Iterator[tuple[str | None, pl.DataFrame]],
    order: Sequence[str | None],
    empty: pl.DataFrame,
) -> Iterator[tuple[str | None, pl.DataFrame]]:
    """Hand out each program's group in page order (an empty frame for a program without rows).

    The stream must come in the same order as the pages (None first, then ids sorted as Python
    sorts them: DuckDB's default binary collation agrees). A group that arrives out of that order
    would otherwise be skipped silently, so it stops the build instead.
    """
    head = next(groups, None)
    for program_id in order:
        if head is not None and head[0] == program_id:
            yield program_id, head[1]
            head = next(groups, None)
        else:
            yield program_id, empty
    if head is not None:
        raise ValueError(
            f"breakdowns rows for program {head[0]!r} came out of page order; "
            "the rows must be sorted by program_id as the pages are"
        )


def _printed_sums(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """Which of the cards' counts for the period "all" the breakdowns (matched mentees) and
    the survival table (active matches) print or hide (models.metrics.status.printed_sums)."""
    from models.metrics.status import printed_sums

    frames = {}
    for name, where in (("breakdowns", "dimension = 'all'"), ("survival", "dimension = 'all'")):
        if table_exists(con, "metrics", name):
            frames[name] = con.sql(f"SELECT * FROM metrics.{name} WHERE {where}").pl()
    if not frames:
        return None
    return printed_sums(frames.get("breakdowns"), frames.get("survival"))
