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
from typer.core import TyperCommand

from pipelines.settings import PROJECT_ROOT, RunSettings, parse_as_of

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
    from pipelines.runner import SlotWaitTimeout, run_pipeline

    try:
        report = run_pipeline(settings)
    except SlotWaitTimeout as timeout:
        typer.echo(str(timeout), err=True)
        return EXIT_BUSY
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
    holds the warehouse (nothing changed) or holds the warehouse pool slot for longer than
    MENTORSCOPE_SLOT_WAIT_SECONDS (default 600)."""
    try:
        as_of_date = parse_as_of(as_of)
    except ValueError as error:
        typer.echo(f"--{error}", err=True)
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


def _is_query(arg: str, option_names: set[str]) -> bool:
    """An argument that starts like an option but is SQL: it starts with `-` (a `-- comment`
    heading a query file), is not one of the command's options, and holds a line break or has
    whitespace before any `=` (an option name never does; `--snapshot=/my dir/x.duckdb` is still
    the option, and a mistyped `--cvs` is still reported as an unknown option)."""
    if not arg.startswith("-") or arg == "--" or len(arg) < 2:
        return False
    name = arg.split("=", 1)[0]
    if name in option_names or arg[:2] in option_names:  # `--csv`, `-fquery.sql`
        return False
    return "\n" in arg or "\r" in arg or any(c.isspace() for c in name)


class SqlCommand(TyperCommand):
    """`mentorscope sql` takes SQL that starts with a `--` comment as its query argument.

    Click reads every argument that starts with `-` as an option, so
    `mentorscope sql "$(cat docs/examples/01_follow_up_by_dyad_race.sql)"` failed with "No such
    option". Before parsing, such an argument moves behind a `--` (the end of options), where
    click takes it as the positional query. `ignore_unknown_options` would also let it through,
    but would silently run a mistyped option such as `--cvs` as a comment-only query.
    """

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        takes_value: set[str] = set()
        names: set[str] = set()
        for param in self.get_params(ctx):
            if param.param_type_name != "option":
                continue
            opts = {*param.opts, *param.secondary_opts}
            names |= opts
            if not (getattr(param, "is_flag", False) or getattr(param, "count", False)):
                takes_value |= opts
        head: list[str] = []
        queries: list[str] = []
        rest = list(args)
        while rest:
            arg = rest.pop(0)
            if arg == "--":
                rest.insert(0, arg)
                break
            if _is_query(arg, names):
                queries.append(arg)
                continue
            head.append(arg)
            if arg in takes_value and rest:  # `--snapshot PATH`, `-f FILE`: the next is a value
                head.append(rest.pop(0))
        if queries:
            tail = rest[1:] if rest else []
            args = [*head, "--", *queries, *tail]
        return super().parse_args(ctx, args)


def _read_query_file(file: Path) -> str:
    """The query in `file` (`-` is standard input); exit 2 with one line when it cannot be read."""
    try:
        if str(file) == "-":
            return sys.stdin.read()
        return file.read_text(encoding="utf-8-sig")  # a BOM from a Windows editor is not SQL
    except FileNotFoundError:
        reason = "no such file"
    except IsADirectoryError:
        reason = "it is a folder, not a file"
    except PermissionError:
        reason = "permission denied"
    except UnicodeDecodeError:
        reason = "not UTF-8 text"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    typer.echo(f"{file}: cannot read the query file ({reason})", err=True)
    raise typer.Exit(2)


def _truncation_hint(what: str) -> str:
    return (
        f"Not all {what} shown: add --csv or --json to print every row and column "
        "(e.g. mentorscope sql --csv -f query.sql > result.csv)."
    )


@app.command(cls=SqlCommand)
def sql(
    query: Annotated[
        str | None,
        typer.Argument(
            help="SQL to run (it may start with a -- comment); without it and without --file, "
            "an interactive shell."
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Read the SQL from this file (- for standard input)."),
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(help="Snapshot to open; default research/research.duckdb by the warehouse."),
    ] = None,
    csv: Annotated[
        bool, typer.Option(help="Print every row as CSV instead of a table (spreadsheet-safe).")
    ] = False,
    json: Annotated[
        bool, typer.Option(help="Print every row as a JSON array of records instead of a table.")
    ] = False,
) -> None:
    """Query the research snapshot read-only (safe while the pipeline runs).

    Exit 0 on success, 1 when the SQL fails, 2 for unusable options, query file or snapshot.

    A table fits the terminal and shows a long result's first and last 20 rows (it says so).

    --csv and --json print every row and column.
    """
    if query is not None and file is not None:
        typer.echo("Give the SQL either as an argument or with -f/--file, not both.", err=True)
        raise typer.Exit(2)
    if csv and json:
        typer.echo("Choose one of --csv and --json.", err=True)
        raise typer.Exit(2)
    if file is not None:
        query = _read_query_file(file)
    if query is not None and not query.strip():
        typer.echo(f"{file}: the query file is empty" if file else "The query is empty.", err=True)
        raise typer.Exit(2)
    if query is None and (csv or json):
        typer.echo("--csv and --json need a query (an argument or -f FILE).", err=True)
        raise typer.Exit(2)

    import shutil

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
            return
        # Wide enough for the terminal; 200 when the output is not a terminal (COLUMNS wins).
        width = shutil.get_terminal_size((200, 24)).columns
        cut = run_query(con, query, csv=csv, json=json, max_width=max(width, 40))
    except duckdb.Error as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        con.close()
    if cut is not None:
        sys.stdout.flush()
        typer.echo(_truncation_hint(cut.what), err=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
