"""Validating in batches gives exactly what GX gives on the whole table, failures included.

Tables here are a few thousand rows validated in batches of a few hundred, with failing rows
of every kind planted in different batches (more than the 10 a sample keeps, so samples
must be merged across batches in table order). The reference is ``validate_whole_table``:
every expectation by GX on whole pandas frames, as the stage worked before batches.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from benchmarks.validation_reference import load_inputs, validate_table, validate_whole_table
from models.contract import load_contract
from models.validation import (
    UnsupportedExpectation,
    expectations_for,
    path_of,
    validate_warehouse_table,
)
from models.validation import batches as batches_module
from models.validation.declarations import Declared
from models.validation.inputs import TableInputs, facts_of
from models.validation.outcomes import TableValidation, to_frame

CONTRACT = load_contract()
AS_OF = date(2025, 6, 30)
BATCH = 300  # rows per batch: every table below spans several batches
CHECKED_AT = datetime(2025, 7, 1, 12, 0)
N_MATCHES = 400
N_PEOPLE = 2 * N_MATCHES


def typed(table: str, columns: dict[str, list]) -> pl.DataFrame:
    """A core-shaped frame: the contract's public columns and types (missing ones blank)."""
    from models.ingest.rules import POLARS_TYPES

    n = len(next(iter(columns.values())))
    schema = {c.name: POLARS_TYPES[c.type] for c in CONTRACT[table].columns if not c.restricted}
    return pl.DataFrame({k: columns.get(k, [None] * n) for k in schema}, schema=schema)


def _set(frame: pl.DataFrame, column: str, rows: list[int], value) -> pl.DataFrame:
    """``column`` set to ``value`` on the given row positions (planting failures)."""
    hit = pl.int_range(pl.len()).is_in(rows)
    return frame.with_columns(
        pl.when(hit)
        .then(pl.lit(value, dtype=frame.schema[column]))
        .otherwise(pl.col(column))
        .alias(column)
    )


def people() -> pl.DataFrame:
    genders = ["woman", "man", "non_binary", "undisclosed"]
    frame = typed(
        "participants",
        {
            "participant_id": [f"E{i}" for i in range(N_MATCHES)]
            + [f"R{i}" for i in range(N_MATCHES)],
            "program_id": ["P1"] * N_PEOPLE,
            "role": ["mentee"] * N_MATCHES + ["mentor"] * N_MATCHES,
            "enrolled_on": [date(2024, 1, 2)] * N_PEOPLE,
            # 1 in 4 undisclosed (passes at most 30%), race 1 in 3 (fails): judged over batches
            "gender": [genders[i % 4] for i in range(N_PEOPLE)],
            "race_ethnicity": [
                "undisclosed" if i % 3 == 0 else "white" if i % 2 else None for i in range(N_PEOPLE)
            ],
            "first_generation": [bool(i % 2) if i % 7 else None for i in range(N_PEOPLE)],
        },
    )
    frame = _set(frame, "participant_id", [5, 350, 790], None)  # required
    frame = _set(frame, "participant_id", [20, 420, 610], "E3")  # duplicate_key with row 3
    frame = _set(frame, "role", [44], "coach")  # enum
    frame = _set(frame, "enrolled_on", [77, 700], date(2026, 1, 1))  # future
    return _set(frame, "program_id", [301], "P9")  # reference


def matches() -> pl.DataFrame:
    frame = typed(
        "matches",
        {
            "match_id": [f"M{i}" for i in range(N_MATCHES)],
            "program_id": ["P1"] * N_MATCHES,
            "mentor_id": [f"R{i}" for i in range(N_MATCHES)],
            "mentee_id": [f"E{i}" for i in range(N_MATCHES)],
            "matched_on": [date(2024, 2, 1) + timedelta(days=i % 90) for i in range(N_MATCHES)],
            "match_source": ["assigned", "self_matched"] * (N_MATCHES // 2),
        },
    )
    frame = _set(frame, "mentor_id", list(range(10, 400, 31)), "E1")  # role: 13 rows
    frame = _set(frame, "mentee_id", [399], "E9999")  # reference (and no role known)
    return _set(frame, "match_source", [0, 333], "arranged")  # enum


def meetings(n: int = 3_000) -> pl.DataFrame:
    frame = typed(
        "meetings",
        {
            "meeting_id": [f"X{i}" for i in range(n)],
            "match_id": [f"M{i % N_MATCHES}" for i in range(n)],
            "started_at": [datetime(2024, 3, 1, 10) + timedelta(hours=5 * i) for i in range(n)],
            "duration_min": [15.0 + (i * 7) % 120 for i in range(n)],
            "mode": ["video"] * n,
            "agenda_shared": [i % 3 == 0 if i % 5 else None for i in range(n)],
            "questions_prepared": [i % 6 for i in range(n)],
            "status": ["held"] * n,
        },
    )
    frame = _set(frame, "match_id", [7, 1_500, 2_999], None)  # required
    frame = _set(frame, "match_id", [8, 2_001], "M999")  # reference
    frame = _set(frame, "mode", list(range(11, n, 97)), "zoom")  # enum: 31 rows, 10 batches
    frame = _set(frame, "duration_min", [12, 1_212], -30.0)  # range
    frame = _set(frame, "duration_min", [13, 14, 2_500], None)  # blanks: ignored by range
    frame = _set(frame, "duration_min", [15, 2_600], float("nan"))  # NaN: missing for pandas
    frame = _set(frame, "questions_prepared", [600, 2_400], -2)  # range
    # blanks in a few batches only: integers reach GX as int64 in some, float64 in others
    frame = _set(frame, "questions_prepared", [101, 2_450], None)
    frame = _set(frame, "started_at", [9, 2_800], datetime(2025, 7, 1, 0, 0))  # future
    # duplicate keys across batches, more than a sample holds
    return _set(frame, "meeting_id", [*range(1_000, 1_012), 2_950], "X0")


def outcomes() -> pl.DataFrame:
    n = 1_000
    frame = typed(
        "outcomes",
        {
            "participant_id": [f"E{i % N_MATCHES}" for i in range(n)],
            "measure": ["retained"] * n,
            "value": [float(i % 5) for i in range(n)],
            "observed_on": [date(2025, 1, 1) + timedelta(days=i // N_MATCHES) for i in range(n)],
        },
    )
    frame = _set(frame, "observed_on", [0, 600], date(2025, 1, 1))  # duplicate with row 0
    # a key with one blank column repeats (pandas pairs blanks); all-blank keys are ignored
    frame = _set(frame, "observed_on", [50, 850], None)
    frame = _set(frame, "participant_id", [50, 850], "E50")
    for column in ("participant_id", "measure", "observed_on"):
        frame = _set(frame, column, [990, 995], None)
    return frame


def read_rows(n: int, failed_every: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_source_file": [f"part_{i // 700}.csv" for i in range(n)],
            "_source_row": list(range(n)),
            "reference_failed": [i % failed_every == 3 for i in range(n)],
        }
    )


def inputs(table: str, core: pl.DataFrame | None = None, **extra) -> TableInputs:
    cores = {"participants": people, "matches": matches, "meetings": meetings, "outcomes": outcomes}
    frame = cores[table]() if core is None else core
    base = {
        "spec": CONTRACT[table],
        "core": frame,
        "parent_keys": {
            "programs.program_id": pl.Series(["P1", "P2"]),
            "participants.participant_id": people()["participant_id"],
            "matches.match_id": matches()["match_id"],
        },
        "participant_roles": people().select("participant_id", "role"),
        "read_rows": read_rows(frame.height, 12),  # 8% quarantined: fails
        "match_ids": matches()["match_id"] if table == "meetings" else None,
        "previous_row_count": frame.height * 3,  # row_count_drop fails
    }
    base.update(extra)
    return TableInputs(**base)


def _rows(validation: TableValidation) -> list[dict]:
    return to_frame(list(validation.outcomes), "run", validation.row_count, CHECKED_AT).to_dicts()


@pytest.fixture
def batch_count(monkeypatch):
    """How many batches the batch path validated (to prove there were several)."""
    seen: list[int] = []
    real = batches_module.stream

    def counting(con, sql, batch_rows):
        for batch in real(con, sql, batch_rows):
            seen.append(batch.height)
            yield batch

    monkeypatch.setattr(batches_module, "stream", counting)
    return seen


def _same(table_inputs: TableInputs, batch_count: list[int]) -> TableValidation:
    whole = validate_whole_table(table_inputs, AS_OF)
    batched = validate_table(table_inputs, AS_OF, batch_rows=BATCH)
    assert len(batch_count) >= 3, batch_count
    assert max(batch_count) <= BATCH
    assert _rows(batched) == _rows(whole)
    return batched


@pytest.mark.parametrize("table", ["participants", "matches", "meetings", "outcomes"])
def test_batches_give_the_whole_table_results(table, batch_count):
    result = _same(inputs(table), batch_count)
    failed = {o.rule for o in result.failures()}
    # the planted failures are seen, so the comparison is not between two clean reports
    assert {"row_count_drop", "reference_failure_share", "duplicate_key"} - failed <= (
        {"duplicate_key"} if table == "matches" else set()
    )
    assert len(failed) >= 4
    assert any(len(o.sample) == 10 for o in result.failures()), "samples span batches"


def test_planted_meeting_failures_are_counted_over_every_batch(batch_count):
    result = _same(inputs("meetings"), batch_count)
    by = {(o.rule, o.column): o for o in result.failures()}
    assert by[("enum", "mode")].unexpected_count == 31
    assert by[("duplicate_key", "meeting_id")].unexpected_count == 14
    assert [s["meeting_id"] for s in by[("duplicate_key", "meeting_id")].sample] == ["X0"] * 10
    assert by[("reference_failure_share", None)].unexpected_count == 250


def test_shares_with_mostly_are_judged_on_the_whole_table(batch_count):
    result = _same(inputs("participants"), batch_count)
    shares = {o.column: o for o in result.outcomes if o.rule == "undisclosed_share"}
    assert shares["gender"].success and not shares["race_ethnicity"].success


def test_medians_and_means_are_exact(batch_count):
    # odd and even numbers of durations, NaN and blanks among them; meetings per match
    for n in (2_999, 3_000):
        _same(inputs("meetings", meetings(n)), batch_count)
    sparse = meetings(900)  # about 2 meetings per match: not a round mean
    result = _same(inputs("meetings", sparse, match_ids=matches()["match_id"]), batch_count)
    mean = next(o for o in result.outcomes if o.rule == "meetings_per_match")
    assert mean.observed == "2.245"  # 898 meetings name a match (2 do not), 400 matches


def test_dates_outside_the_nanosecond_range_get_one_dtype_for_every_batch(batch_count):
    frame = _set(people(), "enrolled_on", [790], date(24, 1, 1))  # only the last batch
    result = _same(inputs("participants", frame), batch_count)
    assert next(
        o for o in result.outcomes if o.rule == "type" and o.column == "enrolled_on"
    ).success


def test_a_wrong_type_and_a_missing_column_fail_as_on_the_whole_table(batch_count):
    as_text = meetings().with_columns(pl.col("duration_min").cast(pl.String))
    result = _same(inputs("meetings", as_text), batch_count)
    median = next(o for o in result.outcomes if o.rule == "duration_median")
    assert not median.success and "could not be checked" in median.message
    batch_count.clear()
    _same(inputs("meetings", meetings().drop("mode")), batch_count)


def test_an_empty_table_is_reported_as_on_the_whole_table():
    empty = inputs("outcomes", outcomes().clear())
    assert _rows(validate_table(empty, AS_OF, batch_rows=BATCH)) == _rows(
        validate_whole_table(empty, AS_OF)
    )


def test_the_warehouse_is_validated_in_batches_like_the_whole_table(tmp_path: Path, batch_count):
    """store.py's relations (rowid order, rows read from raw and the quarantine)."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    for schema in ("core", "raw", "quarantine"):
        con.execute(f"CREATE SCHEMA {schema}")
    programs = typed(
        "programs",
        {
            "program_id": ["P1"],
            "name": ["One"],
            "setting": ["corporate"],
            "start_date": [date(2024, 1, 1)],
        },
    )
    for name, frame in {
        "programs": programs,
        "participants": people(),
        "matches": matches(),
        "meetings": meetings(),
    }.items():
        lineage = frame.with_columns(
            pl.lit(f"{name}.csv").alias("_source_file"),
            (pl.int_range(pl.len()) + 2).alias("_source_row"),
        )
        con.register("frame", lineage.to_arrow())
        con.execute(f"CREATE TABLE core.{name} AS SELECT * FROM frame")
        con.execute(
            f"CREATE TABLE raw.{name} AS SELECT _source_file, _source_row FROM frame UNION ALL "
            "SELECT _source_file, _source_row + 100000 FROM frame WHERE _source_row % 9 = 0"
        )
        con.unregister("frame")
    con.execute(
        "CREATE TABLE quarantine.rejected_rows AS SELECT 'meetings' AS table_name, "
        "_source_file AS source_file, _source_row AS source_row, 'reference' AS rule "
        "FROM raw.meetings WHERE _source_row > 100000"
    )
    for table in ("participants", "matches", "meetings"):
        batch_count.clear()
        whole = validate_whole_table(load_inputs(con, table, "run"), AS_OF)
        batched = validate_warehouse_table(con, table, "run", AS_OF, batch_rows=BATCH)
        assert len(batch_count) >= 3
        assert _rows(batched) == _rows(whole), table
        assert batched.failures()
    con.close()


def test_the_duckdb_settings_are_restored():
    con = duckdb.connect()
    con.execute("SET memory_limit = '3GiB'")
    con.execute("SET threads = 2")
    con.execute("SET enable_progress_bar = true")
    settings = "SELECT current_setting('memory_limit'), current_setting('enable_progress_bar')"
    before = con.sql(settings).fetchall()[0]
    with batches_module.memory_cap(con):
        inside = con.sql(settings).fetchall()[0]
    assert inside == ("1.5 GiB", False)  # half the connection's limit
    assert con.sql(settings).fetchall()[0] == before == ("3.0 GiB", True)
    with batches_module.memory_cap(con, 4 * 1024**3):  # never raised
        assert con.sql(settings).fetchall()[0][0] == "3.0 GiB"
    con.close()


def _declared(expectation: str, **kwargs) -> Declared:
    return Declared("probe", "meetings", expectation, kwargs, None, "warn", "probe")


@pytest.mark.parametrize(
    "declared",
    [
        _declared("expect_column_stdev_to_be_between", column="duration_min", min_value=1),
        _declared("expect_column_values_to_be_unique", column="meeting_id", ignore_row_if="x"),
        _declared(
            "expect_column_values_to_be_in_set",
            column="mode",
            value_set=["video"],
            row_condition='status=="held"',
        ),
    ],
)
def test_an_expectation_without_an_exact_path_is_refused(declared):
    with pytest.raises(UnsupportedExpectation):
        path_of(declared)


@pytest.mark.parametrize(
    "declared",
    [
        # a float mean depends on the order of additions: no exact aggregation
        _declared("expect_column_mean_to_be_between", column="duration_min", min_value=1),
        _declared("expect_column_stdev_to_be_between", column="duration_min", min_value=1),
    ],
)
def test_validation_fails_loudly_rather_than_approximating(declared, monkeypatch, batch_count):
    real = batches_module.expectations_for
    monkeypatch.setattr(
        batches_module, "expectations_for", lambda *a, **k: [*real(*a, **k), declared]
    )
    with pytest.raises(UnsupportedExpectation):
        validate_table(inputs("meetings"), AS_OF, batch_rows=BATCH)
    assert batch_count == [], "refused before any batch was read"


def test_every_declared_expectation_has_a_path():
    """The contract and dataset rules only use expectation types with an exact path."""
    for table, spec in CONTRACT.items():
        frame = typed(table, {c.name: [None] for c in spec.columns if not c.restricted})
        facts = facts_of(
            TableInputs(spec, frame, read_rows=read_rows(60, 2), match_ids=pl.Series(["M1"]))
        )
        for d in expectations_for(facts, AS_OF):
            path_of(d)
