"""`mentorscope sql` as docs/researchers.md shows it, run as a real process on the snapshot of
the session's pipeline run: every example query as a quoted argument (they start with a `--`
comment) and from a file, JSON records, one-line errors for unusable query files, and the hint
printed when a table leaves rows or columns out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from .conftest import Published, query

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((PROJECT / "docs" / "examples").glob("*.sql"))
TIMEOUT = 120


def _env(columns: int = 200) -> dict[str, str]:
    """The terminal width the command sees (no terminal here: COLUMNS decides)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["COLUMNS"] = str(columns)
    return env


def mentorscope_sql(
    published: Published, *args: str, columns: int = 200, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipelines.cli", "sql", "--snapshot", str(published.snapshot)]
    return subprocess.run(
        [*command, *args],
        cwd=PROJECT,
        env=_env(columns),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _as_documented(published: Published, example: Path) -> subprocess.CompletedProcess[str]:
    """Exactly the documented form, through a real shell: mentorscope sql "$(cat FILE)"."""
    script = 'exec "$0" -m pipelines.cli sql --snapshot "$1" "$(cat "$2")"'
    return subprocess.run(
        ["bash", "-c", script, sys.executable, str(published.snapshot), str(example)],
        cwd=PROJECT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _columns(published: Published, sql: str) -> list[str]:
    con = duckdb.connect(str(published.snapshot), read_only=True)
    try:
        return [d[0] for d in con.execute(sql).description]
    finally:
        con.close()


def _hinted(run: subprocess.CompletedProcess[str]) -> bool:
    return "--csv" in run.stderr and "--json" in run.stderr


def test_there_are_examples_and_they_start_with_a_comment():
    assert len(EXAMPLES) >= 10
    # The case the CLI must handle: a query whose first characters read like an option.
    assert any(p.read_text(encoding="utf-8").startswith("--") for p in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_as_a_quoted_argument_and_from_a_file(example: Path, published: Published):
    quoted = _as_documented(published, example)
    assert quoted.returncode == 0, quoted.stderr
    from_file = mentorscope_sql(published, "-f", str(example))
    assert from_file.returncode == 0, from_file.stderr

    first_column = _columns(published, example.read_text(encoding="utf-8"))[0]
    assert quoted.stdout.strip() and first_column in quoted.stdout
    assert from_file.stdout == quoted.stdout


def test_the_long_form_of_the_file_option_reads_the_same_query(published: Published):
    # One example is enough: the option's spelling is the parser's, not the query's.
    example = next(p for p in EXAMPLES if p.read_text(encoding="utf-8").startswith("--"))
    short = mentorscope_sql(published, "-f", str(example))
    long_form = mentorscope_sql(published, f"--file={example}")
    assert short.returncode == long_form.returncode == 0, short.stderr + long_form.stderr
    assert short.stdout.strip() and long_form.stdout == short.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_prints_json_records(example: Path, published: Published):
    sql = example.read_text(encoding="utf-8")
    run = mentorscope_sql(published, "--json", "-f", str(example))
    assert run.returncode == 0, run.stderr
    records = json.loads(run.stdout)
    assert isinstance(records, list)
    assert len(records) == len(query(published.snapshot, sql)) > 0
    assert all(list(r) == _columns(published, sql) for r in records)


def test_json_is_as_spreadsheet_safe_as_csv(published: Published):
    sql = "SELECT '=HYPERLINK(\"x\")' AS f, '@SUM(A1)' AS a, '-3' AS t, -3 AS n, 'plain' AS p"
    as_json = mentorscope_sql(published, "--json", sql)
    as_csv = mentorscope_sql(published, "--csv", sql)
    assert as_json.returncode == as_csv.returncode == 0, as_json.stderr + as_csv.stderr
    (record,) = json.loads(as_json.stdout)
    csv_row = pl.read_csv(as_csv.stdout.encode(), infer_schema=False).row(0, named=True)
    raw = query(published.snapshot, sql)[0]
    assert record["f"] != raw[0] and record["a"] != raw[1]  # formulas neutralised
    assert {k: str(v) for k, v in record.items()} == csv_row
    assert record["n"] == raw[3]  # a number stays a number


def test_a_missing_query_file_is_one_clear_line(published: Published, tmp_path: Path):
    missing = tmp_path / "no_such_query.sql"
    for target in (missing, tmp_path):
        run = mentorscope_sql(published, "-f", str(target))
        assert run.returncode == 2
        assert str(target) in run.stderr
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
        assert run.stdout == ""


def test_a_query_and_a_file_together_are_refused(published: Published):
    example = EXAMPLES[0]
    run = mentorscope_sql(published, "-f", str(example), "SELECT 1")
    assert run.returncode == 2
    assert "--file" in run.stderr and "not both" in run.stderr
    assert run.stdout == ""


def test_an_empty_query_file_is_refused(published: Published, tmp_path: Path):
    empty = tmp_path / "empty.sql"
    empty.write_text("\n  \n", encoding="utf-8")
    run = mentorscope_sql(published, "-f", str(empty))
    assert run.returncode == 2 and str(empty) in run.stderr


def test_a_query_file_can_come_from_standard_input(published: Published):
    example = EXAMPLES[0]
    piped = mentorscope_sql(published, "--csv", "-f", "-", stdin=example.read_text("utf-8"))
    from_file = mentorscope_sql(published, "--csv", "-f", str(example))
    assert piped.returncode == from_file.returncode == 0, piped.stderr
    assert piped.stdout == from_file.stdout and piped.stdout.strip()


def test_a_mistyped_option_is_still_an_error(published: Published):
    """Only SQL moves out of the way of the option parser, not anything starting with `-`."""
    run = mentorscope_sql(published, "--cvs", "SELECT 1")
    assert run.returncode == 2 and "--cvs" in run.stderr


def test_options_after_a_commented_query_still_apply(published: Published):
    sql = "-- a comment first\nSELECT participant_id FROM core.participants"
    run = mentorscope_sql(published, sql, "--csv")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    n = query(published.snapshot, "SELECT count(*) FROM core.participants")[0][0]
    assert lines[0] == "participant_id" and len(lines) == n + 1


def _match_ids(published: Published, limit: int | None) -> tuple[str, list[str]]:
    sql = "SELECT match_id FROM core.matches ORDER BY match_id"
    if limit is not None:
        sql += f" LIMIT {limit}"
    return sql, [row[0] for row in query(published.snapshot, sql)]


@pytest.mark.parametrize("limit", [5, 40, None], ids=["5", "40", "all"])
def test_hint_when_rows_are_left_out_and_only_then(published: Published, limit: int | None):
    sql, ids = _match_ids(published, limit)
    run = mentorscope_sql(published, sql)
    assert run.returncode == 0, run.stderr
    left_out = [i for i in ids if i not in run.stdout]
    assert _hinted(run) == bool(left_out), (len(left_out), run.stderr)
    if limit is None:
        assert left_out  # the whole table is far more than a screen
        assert "rows" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    if limit == 5:
        assert not left_out
    assert mentorscope_sql(published, "--csv", sql).stdout.splitlines()[1:] == ids


def _header(table: str) -> set[str]:
    line = next(line for line in table.splitlines() if line.startswith("│"))
    return {cell.strip() for cell in line.strip("│").split("│")}


@pytest.mark.parametrize("columns", [80, 1000])
def test_hint_when_columns_are_left_out_and_only_then(published: Published, columns: int):
    sql = "SELECT * FROM metrics.match_steps LIMIT 3"
    names = _columns(published, sql)
    run = mentorscope_sql(published, sql, columns=columns)
    assert run.returncode == 0, run.stderr
    left_out = set(names) - _header(run.stdout)
    assert _hinted(run) == bool(left_out), (left_out, run.stderr)
    if columns == 80:
        assert left_out and "columns" in run.stderr  # far wider than 80 characters
    if columns == 1000:
        assert not left_out
    records = json.loads(mentorscope_sql(published, "--json", sql, columns=columns).stdout)
    assert [list(r) for r in records] == [names] * len(records)
    assert len(records) == len(query(published.snapshot, sql))


# What a query needs is the snapshot and DuckDB; the pipeline's science and orchestration are
# about a second of imports that a researcher's every query would otherwise pay.
NOT_FOR_A_QUERY = ("dagster", "scipy.stats", "statsmodels", "models.stats", "models.metrics.funnel")


def test_a_query_loads_neither_the_pipeline_nor_its_statistics(published: Published):
    command = [sys.executable, "-X", "importtime", "-m", "pipelines.cli", "sql"]
    run = subprocess.run(
        [*command, "--snapshot", str(published.snapshot), "SELECT 1 AS one"],
        cwd=PROJECT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stderr
    loaded = {
        line.rsplit("|", 1)[-1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "duckdb" in loaded  # the import log was read
    heavy = [m for m in loaded for p in NOT_FOR_A_QUERY if m == p or m.startswith(p + ".")]
    assert not heavy, sorted(heavy)[:10]
