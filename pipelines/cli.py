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
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperCommand

from pipelines.aggregate_cli import aggregate
from pipelines.settings import PROJECT_ROOT, RunSettings, parse_as_of
from pipelines.snapshot_cli import snapshot_app

if TYPE_CHECKING:
    from pipelines.runner import PipelineRun

app = typer.Typer(
    help="Mentorscope: a research-grade analytics pipeline for formal mentoring programs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEMO_DIR = PROJECT_ROOT / "data" / "demo"
DEMO_AS_OF = date(2026, 6, 30)  # the demo generator's default: runs are reproducible
WAIT_HELP = "When another run is writing the warehouse, wait for it instead of refusing."

# Exit codes of `run` and `demo`: one table, shown by `run --help` and copied in README.md and
# docs/operations.md (tests/pipeline/test_exit_codes.py keeps the three the same).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNUSABLE = 2
EXIT_BUSY = 3
EXIT_CODES = (
    (EXIT_OK, "the run succeeded (rows may have been quarantined: see data_quality.html)"),
    (EXIT_FAILED, "the run failed: a step failed, or a blocking data-quality check stopped it "
     "(data_quality.html is still written)"),
    (EXIT_UNUSABLE, "unusable options or export folder (a missing table or column, an "
     "unreadable file, a bad --as-of, a missing pseudonym key beside a published snapshot), "
     "usually found before Dagster starts; nothing is changed"),
    (EXIT_BUSY, "another run holds the warehouse (nothing is changed; --wait queues behind it), "
     "or this run waited longer than MENTORSCOPE_SLOT_WAIT_SECONDS for the warehouse slot"),
)  # fmt: skip
EXIT_TABLE = "\n".join(f"{code}  {meaning}" for code, meaning in EXIT_CODES)
# The environment variables a run reads (pipelines/settings.py, run_lock.py, recovery.py,
# resources.py, runner.py, models/publish/).
RUN_ENV = (
    ("MENTORSCOPE_DATA", "export folder (default data/demo)"),
    ("MENTORSCOPE_WAREHOUSE", "DuckDB file (default data/warehouse/mentorscope.duckdb)"),
    ("MENTORSCOPE_REPORTS", "report folder (default reports/out)"),
    ("MENTORSCOPE_AS_OF", "as-of date YYYY-MM-DD (default today)"),
    ("MENTORSCOPE_RESEARCH_DIR", "research snapshot folder (default research/ by the warehouse)"),
    ("MENTORSCOPE_PSEUDONYM_KEY, MENTORSCOPE_PSEUDONYM_KEY_FILE", "snapshot pseudonym key"),
    ("MENTORSCOPE_NEW_PSEUDONYM_KEY", "1: a new key may replace the published snapshot's"),
    ("MENTORSCOPE_TARGETS", "YAML of the dashboards' targets (default models/reporting)"),
    (
        "MENTORSCOPE_SHOW_UNTIED_BREAKDOWNS",
        "1: pages show every metric's groups above the disclosure limit (reviewed releases)",
    ),
    ("MENTORSCOPE_KEEP_VERSIONS", "snapshot versions kept (default 5)"),
    ("MENTORSCOPE_CITATION_AUTHOR", "author in the snapshot's citation"),
    ("MENTORSCOPE_DUCKDB_MEMORY_LIMIT", "DuckDB memory limit"),
    ("MENTORSCOPE_DISCLOSURE_THREADS", "breakdown families and audit passes at once (default 2)"),
    ("MENTORSCOPE_SLOT_WAIT_SECONDS", "longest wait for the warehouse slot (default 600)"),
    ("MENTORSCOPE_STALE_RUN_SECONDS", "when a silent run counts as dead"),
    ("MENTORSCOPE_LOCK_WAIT", "seconds a UI, sensor or schedule run waits for the warehouse"),
    ("MENTORSCOPE_LOG_LEVEL", "Dagster console log level (default CRITICAL)"),
)
ENV_TABLE = "\n".join(f"{name}: {meaning}" for name, meaning in RUN_ENV)


def _print_summary(settings: RunSettings) -> None:
    import duckdb
    from rich.console import Console
    from rich.table import Table

    from models.stats.same_subjects import same_subjects_gap
    from models.warehouse import table_exists

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.sql(
            "SELECT table_name, sum(rows_read), sum(rows_kept), sum(rows_quarantined), "
            "sum(rows_duplicate), bool_and(reconciled) FROM metrics.data_quality "
            "GROUP BY table_name ORDER BY table_name"
        ).fetchall()
        gap = (
            same_subjects_gap(con.sql("SELECT metric FROM metrics.breakdowns").pl())
            if table_exists(con, "metrics", "breakdowns")
            else None
        )
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
    from models.publish.keys import published_fingerprint
    from models.publish.snapshot import SNAPSHOT_FILE, research_dir

    research = research_dir(settings.warehouse)
    # Short labelled lines: a path is never wrapped by us (the terminal may fold it, but no
    # phrase is cut in two at 80 columns), and the quarantine hint is two short lines.
    for label, value in (
        ("Warehouse:", settings.warehouse),
        ("Reports:", settings.reports_dir / "index.html"),
        ("Research snapshot (pseudonymised):", research),
    ):
        console.print(f"{label} {value}", soft_wrap=True, highlight=False)
    # Researchers link snapshots by this: a changed fingerprint means every pseudonym changed.
    fingerprint = published_fingerprint(research / SNAPSHOT_FILE)
    if fingerprint:
        console.print(f"Pseudonym key fingerprint: {fingerprint}", highlight=False)
    console.print("Quarantined rows: SELECT * FROM quarantine.rejected_rows", highlight=False)
    console.print("  (each row's reason names its file, row and rule)", highlight=False)
    if gap is not None:
        console.print(
            f"Disclosure: the breakdowns hold {gap:,} cells of metrics of the same subjects, "
            "too many to protect together: the dashboards and `mentorscope aggregate` show the "
            "steps' groups and every metric's whole-program rows only, unless a reviewed "
            "release asks (MENTORSCOPE_SHOW_UNTIED_BREAKDOWNS=1, --include-untied-breakdowns). "
            "docs/disclosure.md, 'Metrics of the same subjects'.",
            highlight=False,
        )


def _version_text() -> str:
    """The installed package version and a short hash of uv.lock (the tested environment)."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = f"mentorscope {version('mentorscope')}"
    except PackageNotFoundError:
        text = "mentorscope (not installed)"
    lock = PROJECT_ROOT / "uv.lock"
    if lock.is_file():
        text += f" (uv.lock sha256 {hashlib.sha256(lock.read_bytes()).hexdigest()[:12]})"
    return text


def _show_version(value: bool) -> None:
    if value:
        typer.echo(_version_text())
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_show_version,
            help="Print the version and the uv.lock hash, then exit.",
        ),
    ] = False,
) -> None:
    """Mentorscope: a research-grade analytics pipeline for formal mentoring programs."""


def _check_folder(settings: RunSettings) -> int | None:
    """EXIT_UNUSABLE with the ingest step's own message when the export folder cannot be
    used, before Dagster is imported (pipelines/preflight.py); None when it can."""
    from models.publish.keys import continuity_problem
    from models.publish.snapshot import SNAPSHOT_FILE, research_dir
    from pipelines.preflight import export_problem

    key = continuity_problem(research_dir(settings.warehouse) / SNAPSHOT_FILE)
    if key is not None:
        typer.echo(f"Nothing was run or changed: {key}", err=True)
        return EXIT_UNUSABLE
    problem = export_problem(settings.data_dir, settings.as_of)
    if problem is None:
        return None
    typer.echo("The export folder cannot be used (nothing was run or changed):", err=True)
    typer.echo(f"  {problem}", err=True)
    return EXIT_UNUSABLE


def _check_and_execute(settings: RunSettings, wait: bool) -> int:
    unusable = _check_folder(settings)
    if unusable is not None:
        return unusable
    typer.echo("Export folder checked; starting Dagster...", err=True)
    return _execute(settings, wait)


def _execute(settings: RunSettings, wait: bool = False) -> int:
    """Open the run (its lock: refused, or waited for with --wait), then run and report."""
    from pipelines.run_lock import WarehouseBusy
    from pipelines.runner import open_run

    with contextlib.ExitStack() as stack:
        try:
            run = stack.enter_context(open_run(settings, wait=0))
        except WarehouseBusy as busy:
            if not wait:
                typer.echo(str(busy), err=True)
                return EXIT_BUSY
            typer.echo("Another run is writing this warehouse; waiting for it to end...", err=True)
            run = stack.enter_context(open_run(settings, wait=None))
        if run.lifecycle.interrupted:
            typer.echo(
                f"Note: the previous run ({run.lifecycle.previous.describe()}) was interrupted; "
                "this run recomputes every table from the export.",
                err=True,
            )
        return _run_and_report(run)


def _run_and_report(run: PipelineRun) -> int:
    """Execute the run and print the summary, both under the run's lock."""
    from pipelines.progress import RunProgress
    from pipelines.slot_wait import SlotWaitTimeout

    try:
        report = run.execute(progress=RunProgress)
    except SlotWaitTimeout as timeout:
        typer.echo(str(timeout), err=True)
        return EXIT_BUSY
    if not report.success:
        typer.echo("Run failed:", err=True)
        for message in report.errors + report.failed_checks:
            typer.echo(f"  {message}", err=True)
        typer.echo(f"(Dagster run {report.run_id}; `mentorscope ui` shows its log.)", err=True)
        # The folder became unusable after the check (or is too large to be read twice).
        return EXIT_UNUSABLE if report.unusable_input else EXIT_FAILED
    for message in report.failed_checks:
        typer.echo(f"Warning: {message}", err=True)
    _print_summary(run.settings)
    return EXIT_OK


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
    settings = RunSettings.from_env(data_dir=DEMO_DIR, as_of=DEMO_AS_OF)
    raise typer.Exit(_check_and_execute(settings, wait))


RUN_HELP = f"""Run the pipeline on an export folder; progress per stage, then a summary.

The folder is checked before Dagster starts: a missing table or column is reported in about
a second.

Exit codes:
{EXIT_TABLE}

Environment (a flag wins over its variable):
{ENV_TABLE}
"""


@app.command(help=RUN_HELP)
def run(
    data: Annotated[Path, typer.Option(help="The program export folder.")],
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="DuckDB file to write.",
            show_default="MENTORSCOPE_WAREHOUSE, else data/warehouse/mentorscope.duckdb",
        ),
    ] = None,
    reports: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the HTML reports.",
            show_default="MENTORSCOPE_REPORTS, else reports/out",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="The date the data describe, YYYY-MM-DD.",
            show_default="MENTORSCOPE_AS_OF, else today",
        ),
    ] = None,
    wait: Annotated[bool, typer.Option(help=WAIT_HELP)] = False,
) -> None:
    try:
        as_of_date = parse_as_of(as_of)
    except ValueError as error:
        typer.echo(f"--{error}", err=True)
        raise typer.Exit(EXIT_UNUSABLE) from None
    if not data.is_dir():
        typer.echo(f"{data}: export folder does not exist or is not a folder", err=True)
        raise typer.Exit(EXIT_UNUSABLE)
    settings = RunSettings.from_env(
        data_dir=data, warehouse=warehouse, reports_dir=reports, as_of=as_of_date
    )
    raise typer.Exit(_check_and_execute(settings, wait))


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Bind address; loopback unless you mean it.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option()] = 3000,
    data: Annotated[Path | None, typer.Option(help="Export folder the UI's runs read.")] = None,
) -> None:
    """Start the Dagster UI for the same definitions and run history as the CLI.

    Ctrl-C or SIGTERM stops the webserver and the daemon."""
    from pipelines.settings import AS_OF_ENV, instance_env, use_project_instance

    use_project_instance()
    _recover_before_ui()
    env = {**os.environ, **instance_env()}
    if data is not None:
        env["MENTORSCOPE_DATA"] = str(data.resolve())
    elif "MENTORSCOPE_DATA" not in env:
        env["MENTORSCOPE_DATA"] = str(DEMO_DIR)
        env.setdefault(AS_OF_ENV, DEMO_AS_OF.isoformat())
    # `dg dev` with a module target is Dagster's current command (`dagster dev` is superseded
    # and warns); it reads telemetry off from dagster.yaml like the instance does.
    exe = Path(sys.executable).with_name("dg")
    args = [str(exe), "dev", "-m", "pipelines.definitions", "--host", host, "--port", str(port)]
    raise typer.Exit(_supervise(args, env))


def _recover_before_ui() -> None:
    """Free the pool slots of runs killed while no UI was up: a run launched from the UI would
    otherwise wait behind them (pipelines/recovery.py)."""
    import dagster as dg

    from pipelines.recovery import recover_dead_runs

    with dg.DagsterInstance.get() as instance:
        for holder in recover_dead_runs(instance):
            typer.echo(f"Freed the slot of a dead run: {holder.describe()}", err=True)


UI_STOP_SECONDS = 20.0  # dg dev gives its webserver and daemon 10 s each to stop; then kill


def _supervise(args: list[str], env: dict[str, str]) -> int:
    """Run `args` in a process group of its own; Ctrl-C and SIGTERM stop the whole group.

    `dg dev` shuts its webserver and daemon down cleanly on SIGINT (KeyboardInterrupt) but not
    on SIGTERM, which killed it alone and left both children running. Here either signal
    becomes one SIGINT to `dg dev`; what is still alive in its group after UI_STOP_SECONDS
    (or after it exits) is killed, so nothing outlives `mentorscope ui`.
    """
    import signal
    import subprocess
    import time

    child = subprocess.Popen(args, env=env, start_new_session=True)
    stopping: list[float] = []

    def stop(signum: int, frame: object) -> None:
        if not stopping:
            stopping.append(time.monotonic())
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGINT)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while child.poll() is None:
            if stopping and time.monotonic() - stopping[0] > UI_STOP_SECONDS:
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.2)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # stragglers only: dg dev stopped its own
        child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else (child.returncode or 0)


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


app.add_typer(snapshot_app, name="snapshot")
app.command("aggregate")(aggregate)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
