"""`mentorscope`: generate a demo program, run the pipeline, open the UI.

Heavy libraries (dagster, statsmodels, ...) are imported inside the commands so that
`mentorscope --help` stays instant.
"""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pipelines.settings import PROJECT_ROOT, RunSettings

app = typer.Typer(
    help="Mentorscope: a research-grade analytics pipeline for formal mentoring programs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEMO_DIR = PROJECT_ROOT / "data" / "demo"
DEMO_AS_OF = date(2026, 6, 30)  # the demo generator's default: runs are reproducible
WAIT_HELP = "When another run is writing the warehouse, wait for it instead of refusing."


def _settings(data: Path, warehouse: Path | None, reports: Path | None, as_of: date) -> RunSettings:
    defaults = RunSettings.from_env()
    return RunSettings(
        data_dir=data.resolve(),
        warehouse=(warehouse or defaults.warehouse).resolve(),
        reports_dir=(reports or defaults.reports_dir).resolve(),
        as_of=as_of,
    )


def _print_summary(settings: RunSettings) -> None:
    import duckdb
    from rich.console import Console
    from rich.table import Table

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.sql(
            "SELECT table_name, sum(rows_read), sum(rows_kept), sum(rows_quarantined), "
            "sum(rows_duplicate), bool_and(reconciled) FROM metrics.data_quality "
            "GROUP BY table_name ORDER BY table_name"
        ).fetchall()
    finally:
        con.close()
    table = Table(title="Rows per table (read = kept + quarantined + duplicates)")
    for header in ("table", "read", "kept", "quarantined", "duplicates", "reconciled"):
        table.add_column(header, justify="left" if header == "table" else "right")
    for name, read, kept, quarantined, dupes, ok in rows:
        table.add_row(
            name, str(read), str(kept), str(quarantined), str(dupes), "yes" if ok else "NO"
        )
    console = Console()
    console.print(table)
    from models.publish.snapshot import research_dir

    console.print(f"Warehouse: {settings.warehouse}")
    console.print(f"Reports:   {settings.reports_dir / 'index.html'}")
    console.print(f"Research snapshot (pseudonymised): {research_dir(settings.warehouse)}")
    console.print(
        "Quarantine: SELECT * FROM quarantine.rejected_rows  (reasons name file, row, rule)"
    )


EXIT_BUSY = 3  # another run holds the warehouse; nothing was changed


def _execute(settings: RunSettings, wait: bool = False) -> int:
    from pipelines.run_lock import WarehouseBusy, interrupted, warehouse_lock

    with contextlib.ExitStack() as stack:
        try:
            previous = stack.enter_context(warehouse_lock(settings.warehouse, wait=0))
        except WarehouseBusy as busy:
            if not wait:
                typer.echo(str(busy), err=True)
                return EXIT_BUSY
            typer.echo("Another run is writing this warehouse; waiting for it to end...", err=True)
            previous = stack.enter_context(warehouse_lock(settings.warehouse, wait=None))
        if interrupted(previous):
            typer.echo(
                f"Note: the previous run ({previous.describe()}) was interrupted; this run "
                "recomputes every table from the export.",
                err=True,
            )
        return _run_and_report(settings)


def _run_and_report(settings: RunSettings) -> int:
    """Run and print the summary, both under the run lock the caller holds."""
    from pipelines.runner import run_pipeline

    report = run_pipeline(settings)
    if not report.success:
        typer.echo("Run failed:", err=True)
        for message in report.errors + report.failed_checks:
            typer.echo(f"  {message}", err=True)
        typer.echo(f"(Dagster run {report.run_id}; `mentorscope ui` shows its log.)", err=True)
        return 1
    for message in report.failed_checks:
        typer.echo(f"Warning: {message}", err=True)
    _print_summary(settings)
    return 0


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the export files into.")] = DEMO_DIR,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
    scale: Annotated[float, typer.Option(help="1.0 is about 2,000 matches; linear.")] = 1.0,
    as_of: Annotated[str, typer.Option(help="Last date of the generated program.")] = (
        DEMO_AS_OF.isoformat()
    ),
    clean: Annotated[bool, typer.Option(help="Leave out the deliberately bad rows.")] = False,
) -> None:
    """Write a realistic demo program export (canonical CSV) with planted effects."""
    from models.demo.generator import generate as generate_program

    out.mkdir(parents=True, exist_ok=True)
    generate_program(
        out, seed=seed, scale=scale, as_of=date.fromisoformat(as_of), bad_rows=not clean
    )
    typer.echo(f"Demo program written to {out}")


@app.command()
def demo(
    scale: Annotated[float, typer.Option(help="Demo size; 1.0 is about 2,000 matches.")] = 1.0,
    wait: Annotated[bool, typer.Option(help=WAIT_HELP)] = False,
) -> None:
    """Generate the demo program if absent, run the whole pipeline, print a summary."""
    if not (DEMO_DIR / "programs.csv").exists():
        generate(out=DEMO_DIR, seed=7, scale=scale, as_of=DEMO_AS_OF.isoformat(), clean=False)
    raise typer.Exit(_execute(_settings(DEMO_DIR, None, None, DEMO_AS_OF), wait))


@app.command()
def run(
    data: Annotated[Path, typer.Option(help="The program export folder.")],
    warehouse: Annotated[Path | None, typer.Option(help="DuckDB file to write.")] = None,
    reports: Annotated[Path | None, typer.Option(help="Folder for the HTML reports.")] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today.")] = None,
    wait: Annotated[bool, typer.Option(help=WAIT_HELP)] = False,
) -> None:
    """Run the pipeline on an export folder. Exit 0 on success, even with quarantined rows;
    1 when the run failed, 2 when the folder or options cannot be used, 3 when another run
    holds the warehouse (nothing changed)."""
    try:
        as_of_date = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        typer.echo(f"--as-of must be YYYY-MM-DD, got {as_of!r}", err=True)
        raise typer.Exit(2) from None
    if not data.is_dir():
        typer.echo(f"{data}: export folder does not exist or is not a folder", err=True)
        raise typer.Exit(2)
    raise typer.Exit(_execute(_settings(data, warehouse, reports, as_of_date), wait))


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Bind address; loopback unless you mean it.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option()] = 3000,
    data: Annotated[Path | None, typer.Option(help="Export folder the UI's runs read.")] = None,
) -> None:
    """Start the Dagster UI for the same definitions and run history as the CLI."""
    from pipelines.instance import instance_env, use_project_instance

    use_project_instance()
    env = {**os.environ, **instance_env()}
    if data is not None:
        env["MENTORSCOPE_DATA"] = str(data.resolve())
    elif "MENTORSCOPE_DATA" not in env:
        env["MENTORSCOPE_DATA"] = str(DEMO_DIR)
        env.setdefault("MENTORSCOPE_AS_OF", DEMO_AS_OF.isoformat())
    args = ["dagster", "dev", "-m", "pipelines.definitions", "-h", host, "-p", str(port)]
    exe = Path(sys.executable).with_name("dagster")
    os.execvpe(str(exe), args, env)


@app.command()
def sql(
    query: Annotated[
        str | None, typer.Argument(help="SQL to run; without it, an interactive shell.")
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(help="Snapshot to open; default research/research.duckdb by the warehouse."),
    ] = None,
    csv: Annotated[bool, typer.Option(help="Print CSV instead of a table.")] = False,
) -> None:
    """Query the research snapshot read-only (safe while the pipeline runs)."""
    import duckdb

    from models.publish.shell import open_snapshot, repl, run_query
    from models.publish.snapshot import SNAPSHOT_FILE, research_dir

    path = snapshot or research_dir(RunSettings.from_env().warehouse) / SNAPSHOT_FILE
    try:
        con = open_snapshot(path)
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        if query is None:
            repl(con)
        else:
            run_query(con, query, csv=csv)
    except duckdb.Error as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        con.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
