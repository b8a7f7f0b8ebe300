"""`mentorscope sql`: one query, or a small shell; always read-only."""

from __future__ import annotations

import io

import duckdb
import pytest
from typer.testing import CliRunner

from models.publish.shell import open_snapshot, repl, run_query
from pipelines.cli import app

from .conftest import Published, query


def test_sql_command_prints_the_query_result(published: Published):
    result = CliRunner().invoke(
        app,
        [
            "sql",
            "--snapshot",
            str(published.snapshot),
            "--csv",
            "SELECT role, count(*) AS n FROM core.participants GROUP BY role ORDER BY role",
        ],
    )
    assert result.exit_code == 0, result.output
    expected = query(
        published.warehouse,
        "SELECT role, count(*) FROM core.participants GROUP BY role ORDER BY role",
    )
    lines = result.output.strip().splitlines()
    assert lines[0] == "role,n"
    assert lines[1:] == [f"{role},{n}" for role, n in expected]


def test_sql_command_reports_a_missing_snapshot_and_bad_sql(published: Published, tmp_path):
    missing = CliRunner().invoke(app, ["sql", "--snapshot", str(tmp_path / "no.duckdb"), "x"])
    assert missing.exit_code == 2
    bad = CliRunner().invoke(app, ["sql", "--snapshot", str(published.snapshot), "SELEC 1"])
    assert bad.exit_code == 1 and "Error" in bad.output


def test_snapshot_is_opened_read_only(published: Published):
    con = open_snapshot(published.snapshot)
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("CREATE TABLE core.scratch AS SELECT 1")
    finally:
        con.close()


def test_shell_runs_statements_across_lines_and_commands(published: Published, capsys):
    lines = iter(
        [
            ".describe core.matches",
            "SELECT count(*) AS n",
            "FROM core.matches;",
            ".quit",
            "SELECT 'never';",
        ]
    )
    con = open_snapshot(published.snapshot)
    try:
        repl(con, read=lambda prompt: next(lines))
        out = io.StringIO()
        run_query(con, "SELECT count(*) AS n FROM core.matches", csv=True, out=out)
    finally:
        con.close()
    printed = capsys.readouterr().out
    assert "mentee_id" in printed and "joins core.participants" in printed
    n = query(published.warehouse, "SELECT count(*) FROM core.matches")[0][0]
    assert out.getvalue() == f"n\n{n}\n"
    assert f"{n}" in printed and "never" not in printed


def test_csv_writes_nested_and_interval_values_as_text_not_a_traceback():
    # Polars cannot import INTERVAL and a CSV cell cannot hold a list or a struct.
    con = duckdb.connect()
    try:
        out = io.StringIO()
        run_query(
            con,
            "SELECT INTERVAL 3 DAY AS i, [1, 2] AS l, {'a': 1} AS s, MAP {'k': 1} AS m, "
            "'=HYPERLINK(1)' AS f, 7 AS n",
            csv=True,
            out=out,
        )
        header, row = out.getvalue().splitlines()
        assert header == "i,l,s,m,f,n"
        assert row == "3 days,\"[1, 2]\",{'a': 1},{k=1},'=HYPERLINK(1),7"
    finally:
        con.close()
