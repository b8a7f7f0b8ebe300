"""Validate one table in bounded memory: whole-table SQL first, then GX on record batches.

For each validation frame (core rows, rows read, meetings per match):

1. Expectations on the ``sql`` path (``paths.py``) are computed in DuckDB over the whole
   frame (``sql_checks.py``) — before streaming, since a streaming result holds the
   connection.
2. The frame is streamed from DuckDB in Arrow record batches of about ``batch_rows`` rows;
   each batch is sorted by ``__row``, converted to pandas with the whole column's date
   units, and validated by the frame's GX suite (built once). Counts and samples are
   combined exactly (``gx_engine.BatchSuite``).

Memory is one batch in pandas plus what DuckDB holds under its lowered memory limit
(:func:`memory_cap`; it spills to disk beyond it); time is linear in rows. At least one
batch is always validated (an empty one for an empty table), so GX reports on empty tables
exactly as before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

import duckdb
import polars as pl

from models.validation import sql_checks
from models.validation.dataset_rules import DatasetRule, expectations_for
from models.validation.declarations import CORE_FRAME, Declared
from models.validation.frames import to_pandas
from models.validation.gx_engine import SAMPLE_SIZE, BatchSuite, RawResult, run_expectations
from models.validation.inputs import Frame
from models.validation.outcomes import Outcome, TableValidation, outcome, skipped
from models.validation.paths import UnsupportedExpectation, path_of
from models.validation.source import ROW, FrameQuery, TableSource, q, units_of

# A batch's size in Arrow bytes. Rows per batch follow from each frame's width: ~440,000
# meetings, ~550,000 survey items, ~370,000 participants. GX pays a fixed cost per batch
# (~0.1 s: its metric graph, rebuilt for every batch), so fewer, larger batches cost less.
# Measured on the consortium's warehouse (docs/performance.md, session 22), each table alone
# at 10 / 40 / 80 MB: meetings (10.7 M) 23.2 / 18.0 / 18.1 s and 1,180 / 1,501 / 1,384 MB
# peak RSS; activities 8.4 / 5.8 / 5.5 s; survey responses 9.0 / 6.8 / 6.4 s; the same
# outcomes at every size. 40 MB is the knee; the validation steps stay far below the run's
# peak (core, 3.4 GB). Earlier figures, under the former fixed DuckDB cap: docs/validation.md.
BATCH_BYTES = 40 * 1024**2
MIN_BATCH_ROWS, MAX_BATCH_ROWS = 10_000, 1_000_000
SIZE_SAMPLE_ROWS = 10_000
FETCH_ROWS = 65_536  # rows per chunk fetched from DuckDB (regrouped into batches)
# DuckDB's memory while validating: the run's own limit (the connection's ``memory_limit``:
# MENTORSCOPE_DUCKDB_MEMORY_LIMIT, 2 GB by default; DuckDB's default, 80 % of RAM, elsewhere)
# lowered to DUCKDB_MEMORY_SHARE of it, never below DUCKDB_MEMORY_PER_THREAD per DuckDB
# thread, never above the limit itself. Lowered at all because, uncapped, a streamed scan
# keeps every block it read cached (up to the limit) and the uniqueness of 21 M compound keys
# took 1.4 GB; capped, DuckDB evicts and spills to its temp directory. Not a fixed figure
# because the need depends on the data: the core frame of matches holds four hash tables over
# the participant ids while it streams, and the smallest cap that let validate_matches finish
# on 2 threads was 49-64 MB at 160,000 participants, 129-160 MB at 650,000 and 129-192 MB at
# 1.6 M (docs/validation.md); the former 64 MB per thread (128 MB) failed at the last two
# (issue 20). Half the default limit (about 1 GB) finished the 1.6 M in 11.4 s and 967 MB
# peak RSS (GX included), against 14.2 s at 256 MB, spilling; the other half of the limit is
# left for DuckDB's allocator overhead, GX and the batch. The floor per thread (each thread
# needs its own working blocks: the compound uniqueness failed at 32 MB per thread, passed at
# 64 MB) matters only for a run limit under 1 GB on 2 threads. Only ever lowered, then
# restored, and not when DuckDB has no temp directory to spill to.
DUCKDB_MEMORY_SHARE = 0.5
DUCKDB_MEMORY_PER_THREAD = 256 * 1024**2

_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_UNITS |= {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def _size(text: str) -> float | None:
    """DuckDB's memory_limit text (e.g. '18.8 GiB') in bytes; None if unreadable."""
    found = re.fullmatch(r"\s*([\d.]+)\s*([a-zA-Z]*)\s*", text)
    if not found or found.group(2).lower() not in _UNITS:
        return None
    return float(found.group(1)) * _UNITS[found.group(2).lower()]


def validation_limit(current: float, threads: int, limit_bytes: int = 0) -> int:
    """DuckDB's memory limit while validating, from the connection's limit (bytes) and threads.

    :data:`DUCKDB_MEMORY_SHARE` of ``current``, at least ``limit_bytes`` and
    :data:`DUCKDB_MEMORY_PER_THREAD` per thread, never above ``current``.
    """
    floor = max(limit_bytes, threads * DUCKDB_MEMORY_PER_THREAD)
    return int(min(current, max(floor, DUCKDB_MEMORY_SHARE * current)))


@contextmanager
def memory_cap(con: duckdb.DuckDBPyConnection, limit_bytes: int = 0) -> Iterator[None]:
    """Lower DuckDB's memory limit for the block (:func:`validation_limit`), then restore it.

    Left as it is when it cannot be read, or when DuckDB has no temp directory: a lower
    limit only helps if DuckDB can spill what does not fit.

    The limit is the database's, not the connection's: validation runs under the
    ``warehouse`` pool, one step at a time, so nothing else uses it meanwhile. The progress
    bar is turned off too (a connection setting): whole-table queries take seconds and
    would print bars into the run's log.
    """
    (current, bar, threads, temp) = con.sql(
        "SELECT current_setting('memory_limit'), current_setting('enable_progress_bar'), "
        "current_setting('threads'), current_setting('temp_directory')"
    ).fetchall()[0]
    size = _size(str(current))
    limit = None if size is None else validation_limit(size, int(threads), limit_bytes)
    lower = limit is not None and size is not None and limit < size and bool(temp)
    if lower:
        con.execute(f"SET memory_limit = '{limit}B'")
    con.execute("SET enable_progress_bar = false")
    try:
        yield
    finally:
        con.execute(f"SET enable_progress_bar = {'true' if bar else 'false'}")
        if lower:
            con.execute(f"SET memory_limit = '{current}'")


def stream(con: duckdb.DuckDBPyConnection, sql: str, batch_rows: int) -> Iterator[pl.DataFrame]:
    """``sql``'s rows in Polars batches of about ``batch_rows``, each sorted by ``__row``.

    A join's output comes in no fixed order (parallel probes); samples are merged by
    ``__row``, so only each batch needs to be in order. An empty result gives one empty
    batch with the result's columns.
    """
    import pyarrow as pa

    # DuckDB buffers what it hands over: asking a join for 600,000-row chunks took 150 MB more
    # than 75,000-row ones. So fetch small chunks and regroup them here.
    reader = con.sql(sql).to_arrow_reader(min(batch_rows, FETCH_ROWS))

    def frame(table: pa.Table) -> pl.DataFrame:
        batch = pl.from_arrow(table)
        assert isinstance(batch, pl.DataFrame)
        return batch if batch[ROW].is_sorted() else batch.sort(ROW)

    # GX's fixed cost is paid per batch: regroup chunks (slices of Arrow data are not copies).
    pending: list[pa.RecordBatch] = []
    rows = 0
    yielded = False
    for record_batch in reader:
        pending.append(record_batch)
        rows += record_batch.num_rows
        while rows >= batch_rows:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            yield frame(table.slice(0, batch_rows))
            yielded = True
            rest = table.slice(batch_rows)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows or not yielded:
        yield frame(pa.Table.from_batches(pending, schema=reader.schema))


def rows_per_batch(con: duckdb.DuckDBPyConnection, frame: FrameQuery) -> int:
    """Rows of ``frame`` that make about :data:`BATCH_BYTES` of Arrow data.

    Measured on the first rows of the frame's plain relation (no joins: cheap); a derived
    column (a flag or a role) is counted as 8 bytes.
    """
    cols = ", ".join([*(q(c) for c in frame.plain_columns), ROW])
    sample = con.sql(f"SELECT {cols} FROM {frame.plain} LIMIT {SIZE_SAMPLE_ROWS}").to_arrow_table()
    if sample.num_rows == 0:
        return MAX_BATCH_ROWS
    per_row = sample.nbytes / sample.num_rows + 8 * (len(frame.columns) - len(frame.plain_columns))
    return max(MIN_BATCH_ROWS, min(MAX_BATCH_ROWS, int(BATCH_BYTES / per_row)))


def unavailable(d: Declared, columns: tuple[str, ...]) -> str | None:
    """A derived column is absent when its lookup was not provided: not checkable."""
    column = d.kwargs.get("column")
    if isinstance(column, str) and column.startswith("__") and column not in columns:
        return "the table it refers to is not available"
    return None


def skip_reason(d: Declared, columns: Mapping[str, tuple[str, ...]]) -> str | None:
    """Why ``d`` cannot be checked on the frames at hand (their columns by name), or None."""
    if d.skip_reason is not None:
        return d.skip_reason
    if d.frame not in columns:
        return "its input is not available"
    return unavailable(d, columns[d.frame])


def _gx_on_empty_frame(
    con: duckdb.DuckDBPyConnection, name: str, frame: FrameQuery, declared: list[Declared]
) -> list[RawResult]:
    """GX on zero rows of the frame, for SQL-path expectations whose columns SQL cannot use.

    A missing column, or a text column asked for a median, makes GX fail whatever the
    values: its error here is its error on the whole table. An expectation GX does not
    fail on here would be judged on values, which SQL cannot do exactly: refused.
    """
    empty = con.sql(f"SELECT * FROM ({frame.sql}) LIMIT 0").pl().drop(ROW)
    raws = run_expectations(f"{name}__empty", Frame(empty, frame.keys), declared)
    for d, raw in zip(declared, raws, strict=True):
        if raw.error is None:
            raise UnsupportedExpectation(
                f"{d.table} / {d.rule}: {d.expectation} on {d.kwargs} cannot be computed "
                "exactly in SQL for this column type"
            )
    return raws


def _validate_frame(
    con: duckdb.DuckDBPyConnection,
    name: str,
    frame: FrameQuery,
    declared: list[Declared],
    units: dict[str, str],
    batch_rows: int | None,
    sample_size: int,
    found: dict[int, RawResult],
) -> list[RawResult]:
    """Results of ``declared`` on one frame, in declared order (``found``: already known)."""
    found = dict(found)
    on_batches: list[int] = []
    for j, d in enumerate(declared):
        if j in found:
            continue
        if path_of(d) == "sql":
            found[j] = sql_checks.evaluate(con, frame, d, units, sample_size)
        else:
            on_batches.append(j)
    if on_batches:
        suite = BatchSuite(
            name,
            [declared[j] for j in on_batches],
            [path_of(declared[j]) for j in on_batches],
            frame.keys,
            sample_size,
        )
        rows = batch_rows or rows_per_batch(con, frame)
        for batch in stream(con, frame.sql, rows):
            pdf = to_pandas(batch, units)
            del batch  # one batch in memory at a time: the pandas copy only
            suite.run(pdf)
            del pdf
        found.update(zip(on_batches, suite.results(), strict=True))
    return [found[j] for j in range(len(declared))]


def _refuse_or_ask_gx(
    con: duckdb.DuckDBPyConnection, name: str, frame: FrameQuery, declared: list[Declared]
) -> dict[int, RawResult]:
    """Before any work: refuse what has no exact path; GX's own error where SQL cannot judge.

    Types and columns are known without reading rows, so a refusal comes before any batch.
    """
    ask_gx = [
        j for j, d in enumerate(declared) if path_of(d) == "sql" and not sql_checks.usable(frame, d)
    ]
    if not ask_gx:
        return {}
    raws = _gx_on_empty_frame(con, name, frame, [declared[j] for j in ask_gx])
    return dict(zip(ask_gx, raws, strict=True))


def validate_source(
    source: TableSource,
    as_of: date,
    rules: tuple[DatasetRule, ...] | None = None,
    batch_rows: int | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> TableValidation:
    """Every expectation of ``source.spec``: whole-table ones in SQL, row-wise ones per batch.

    ``batch_rows`` fixes the rows per batch (tests); by default each frame's follows from
    :data:`BATCH_BYTES`. Raises :class:`UnsupportedExpectation`, before any row is read, if
    an expectation has no exact path (its type, an argument, or a column type such as a
    float mean).
    """
    con = source.con
    with memory_cap(con):
        facts, core_units = source.facts()
        declared = expectations_for(facts, as_of, rules)
        frames = source.frames()
        results: dict[int, Outcome] = {}
        by_frame: dict[str, list[int]] = defaultdict(list)
        columns = {f: frame.columns for f, frame in frames.items()}
        for i, d in enumerate(declared):
            reason = skip_reason(d, columns)
            if reason is not None:
                results[i] = skipped(replace(d, skip_reason=reason))
            else:
                path_of(d)  # refuse an expectation type without an exact path first
                by_frame[d.frame].append(i)
        name = {f: f"{source.spec.name}__{f}" for f in by_frame}
        known = {
            f: _refuse_or_ask_gx(con, name[f], frames[f], [declared[i] for i in indices])
            for f, indices in by_frame.items()
        }
        for frame_name, indices in by_frame.items():
            frame = frames[frame_name]
            units = (
                core_units
                if frame_name == CORE_FRAME
                else units_of(con, f"({frame.sql})", frame.types)
            )
            raws = _validate_frame(
                con,
                name[frame_name],
                frame,
                [declared[i] for i in indices],
                units,
                batch_rows,
                sample_size,
                known[frame_name],
            )
            for i, raw in zip(indices, raws, strict=True):
                results[i] = outcome(declared[i], raw, facts.row_count)
    return TableValidation(
        source.spec.name, facts.row_count, tuple(results[i] for i in range(len(declared)))
    )
