"""Benchmark: validate a synthetic core.meetings table (default 1,000,000 rows) with GX.

``python -m benchmarks.validation [--rows N] [--repeat R] [--dtypes] [--path P]`` prints one
line per measurement. ``--path batches`` (default) is what the pipeline runs: record batches
from DuckDB, whole-table expectations in SQL; ``--path whole`` is the whole-table reference
(every expectation by GX on whole pandas frames).

``--warehouse FILE --table T`` validates ``core.<T>`` of an existing warehouse instead (opened
read-only: copy a warehouse another process uses first) once, including the reads.

Each figure is the median of R runs in this process; peak memory is the process's maximum
resident set size (ru_maxrss), so run one measurement per fresh process.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

AS_OF = date(2025, 6, 30)


@dataclass(frozen=True)
class Figures:
    rows: int
    gx_import_s: float
    validate_s: float
    expectations: int
    failed: int
    peak_rss_mb: float


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def meetings_inputs(rows: int, seed: int = 1):
    """A core.meetings-shaped table: ~20 meetings per match, contract types, no bad rows."""
    from models.contract import load_contract
    from models.validation.inputs import TableInputs

    rng = np.random.default_rng(seed)
    n_matches = max(rows // 20, 1)
    match_ids = pl.Series("match_id", [f"M{i}" for i in range(n_matches)])
    start = datetime(2022, 1, 1)
    frame = pl.DataFrame(
        {
            "meeting_id": [f"X{i}" for i in range(rows)],
            "match_id": match_ids.gather(rng.integers(0, n_matches, rows)),
            "started_at": [
                start + timedelta(minutes=int(m)) for m in rng.integers(0, 1_500_000, rows)
            ],
            "duration_min": rng.gamma(4.0, 12.0, rows),
            "mode": rng.choice(["in_person", "video", "phone", "chat", "email"], rows),
            "initiated_by": rng.choice(["mentor", "mentee", "admin"], rows),
            "agenda_shared": rng.integers(0, 2, rows).astype(bool),
            "questions_prepared": rng.integers(0, 6, rows),
            "status": rng.choice(["held", "cancelled", "no_show"], rows, p=[0.85, 0.1, 0.05]),
        }
    ).with_columns(pl.col("started_at").cast(pl.Datetime("us")))
    read = pl.DataFrame(
        {
            "_source_file": ["meetings.csv"] * rows,
            "_source_row": np.arange(1, rows + 1),
            "reference_failed": np.zeros(rows, dtype=bool),
        }
    )
    return TableInputs(
        spec=load_contract()["meetings"],
        core=frame,
        parent_keys={"matches.match_id": match_ids},
        previous_row_count=rows,
        read_rows=read,
        match_ids=match_ids,
    )


def _median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def benchmark_validation(
    rows: int = 1_000_000, repeat: int = 3, path: str = "batches", batch_rows: int | None = None
) -> Figures:
    """Time GX's import and the whole validation of one meetings table (all its rules)."""
    t0 = time.perf_counter()
    from models.validation.gx_engine import context

    context()
    gx_import = time.perf_counter() - t0
    from benchmarks.validation_reference import validate_table, validate_whole_table

    inputs = meetings_inputs(rows)

    def run():
        if path == "whole":
            return validate_whole_table(inputs, AS_OF)
        return validate_table(inputs, AS_OF, **({"batch_rows": batch_rows} if batch_rows else {}))

    result = run()
    validate_s = _median_time(run, repeat)
    return Figures(
        rows=rows,
        gx_import_s=gx_import,
        validate_s=validate_s,
        expectations=len(result.outcomes),
        failed=len(result.failures()),
        peak_rss_mb=peak_rss_mb(),
    )


def benchmark_warehouse(
    warehouse: str, table: str, path: str = "batches", batch_rows: int | None = None
) -> Figures:
    """Validate ``core.<table>`` of a warehouse once, reads included (read-only)."""
    import duckdb

    t0 = time.perf_counter()
    from models.validation.gx_engine import context

    context()
    gx_import = time.perf_counter() - t0
    from benchmarks.validation_reference import load_inputs, validate_whole_table
    from models.validation import validate_warehouse_table

    con = duckdb.connect(warehouse, read_only=True)
    try:
        t1 = time.perf_counter()
        if path == "whole":
            result = validate_whole_table(load_inputs(con, table, "benchmark"), AS_OF)
        else:
            extra = {"batch_rows": batch_rows} if batch_rows else {}
            result = validate_warehouse_table(con, table, "benchmark", AS_OF, **extra)
        validate_s = time.perf_counter() - t1
    finally:
        con.close()
    return Figures(
        rows=result.row_count,
        gx_import_s=gx_import,
        validate_s=validate_s,
        expectations=len(result.outcomes),
        failed=len(result.failures()),
        peak_rss_mb=peak_rss_mb(),
    )


def compare_date_dtypes(rows: int = 1_000_000, repeat: int = 3) -> dict[str, float]:
    """GX's 'not after the as-of date' check on one timestamp column, per pandas dtype."""
    from models.validation.declarations import last_moment
    from models.validation.gx_engine import context

    context()
    import great_expectations.expectations as gxe

    source = context().data_sources.get("mentorscope")
    asset = source.add_dataframe_asset("dtype_benchmark")
    definition = asset.add_batch_definition_whole_dataframe("whole")
    stamps = pl.DataFrame({"started_at": meetings_inputs(rows).core["started_at"]})
    variants = {
        "datetime64[ns]": stamps.with_columns(
            pl.col("started_at").cast(pl.Datetime("ns"))
        ).to_pandas(),
        "datetime64[us]": stamps.to_pandas(),
        "timestamp[us][pyarrow]": stamps.to_pandas(use_pyarrow_extension_array=True),
    }
    expectation = gxe.ExpectColumnValuesToBeBetween(
        column="started_at", max_value=last_moment(AS_OF)
    )
    out = {}
    for name, frame in variants.items():
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        out[name] = _median_time(lambda b=batch: b.validate(expectation), repeat)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dtypes", action="store_true", help="also compare date dtypes")
    parser.add_argument("--path", choices=["batches", "whole"], default="batches")
    parser.add_argument("--batch-rows", type=int, default=None)
    parser.add_argument("--warehouse", help="validate core.<--table> of this DuckDB file")
    parser.add_argument("--table", default="meetings")
    args = parser.parse_args()
    if args.warehouse:
        figures = benchmark_warehouse(args.warehouse, args.table, args.path, args.batch_rows)
        what, repeat = f"core.{args.table} ({args.path})", "one run, reads included"
    else:
        figures = benchmark_validation(args.rows, args.repeat, args.path, args.batch_rows)
        what, repeat = f"core.meetings ({args.path})", f"median of {args.repeat}"
    print(
        f"validate {what}: {figures.rows:,} rows, {figures.expectations} expectations "
        f"({figures.failed} failed): {figures.validate_s:.2f} s ({repeat}); "
        f"GX import + context {figures.gx_import_s:.2f} s; peak RSS {figures.peak_rss_mb:,.0f} MB"
    )
    if args.dtypes:
        for name, seconds in compare_date_dtypes(args.rows, args.repeat).items():
            print(f"  between-check on started_at as {name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
