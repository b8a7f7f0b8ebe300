"""`mentorscope aggregate TARGET`: the aggregate tier alone, for HR or the public.

Writes the disclosure-controlled tables (breakdowns, step funnel, survival, status counts,
same-group wishes) as one DuckDB file (TARGET ends in .duckdb) or a folder of Parquet files,
each with a README and manifest saying what it is. Nothing row-level is ever written.
Exit 0 on success, 2 when the warehouse is missing or busy, 1 when a suppressed row still
carries a number (then nothing is written).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.settings import RunSettings

if TYPE_CHECKING:  # duckdb is imported by the command: `mentorscope --help` stays instant
    import duckdb


def aggregate(
    target: Annotated[
        Path, typer.Argument(help="A .duckdb file to write, or a folder for Parquet files.")
    ],
    warehouse: Annotated[
        Path | None,
        typer.Option(help="Warehouse to read; default MENTORSCOPE_WAREHOUSE or the project's."),
    ] = None,
    include_untied_breakdowns: Annotated[
        bool,
        typer.Option(
            help="Write every row of metrics.breakdowns even when its metrics of the same "
            "subjects were too many to protect together (a reviewed release; the README then "
            "names the gap)."
        ),
    ] = False,
) -> None:
    """Publish the aggregate tier alone (under disclosure control) as a file or folder.

    On a consortium too large for its metrics of the same subjects to be protected together,
    metrics.breakdowns keeps the step flags' groups and every metric's whole-program rows only
    (the README and manifest say why) unless --include-untied-breakdowns."""
    import duckdb

    from models.publish.aggregate_tier import DisclosureError, write_aggregate_tier

    path = warehouse or RunSettings.from_env().warehouse
    if not Path(path).is_file():
        typer.echo(f"No warehouse at {path}: run the pipeline first.", err=True)
        raise typer.Exit(2)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        typer.echo(f"Cannot open {path} ({exc}); is a run writing it?", err=True)
        raise typer.Exit(2) from None
    try:
        written = write_aggregate_tier(
            con, target, k=_k(con), include_untied_breakdowns=include_untied_breakdowns
        )
    except DisclosureError as exc:
        typer.echo(f"Not written: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        con.close()
    typer.echo(f"Aggregate tier written to {written.path}")
    for table, why in written.withheld.items():
        typer.echo(
            f"Left out of {table}: {why}. See the README; --include-untied-breakdowns writes "
            "every row for a reviewed release.",
            err=True,
        )


def _k(con: duckdb.DuckDBPyConnection) -> int:
    """The k the warehouse's metrics were suppressed with (metrics.settings), else 10."""
    import duckdb

    try:
        rows = con.sql("SELECT settings_json FROM metrics.settings").fetchall()
    except duckdb.Error:  # no settings table: the default applies
        return 10
    for (text,) in rows:
        value = json.loads(text).get("suppression_k")
        if isinstance(value, int):
            return value
    return 10
