"""`mentorscope snapshot ...`: the archived, citable versions of the research snapshot.

Every publish files an immutable version (models/publish/versions.py); these commands list
them, export one as a zip to cite or share, and keep one from being pruned. Exit 0 on success,
2 for an unknown or damaged version or an unusable folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.settings import RunSettings

snapshot_app = typer.Typer(
    help="The research snapshot's archived versions: list, export (zip with data, codebook, "
    "manifest and CITATION.cff), keep, release.",
    no_args_is_help=True,
)

ResearchOption = Annotated[
    Path | None,
    typer.Option(
        "--research",
        help="Research folder; default: MENTORSCOPE_RESEARCH_DIR, else the one beside the "
        "warehouse (research/ for mentorscope.duckdb).",
    ),
]


def _folder(research: Path | None) -> Path:
    from models.publish.snapshot import research_dir

    return research or research_dir(RunSettings.from_env().warehouse)


def _size(n: int) -> str:
    return f"{n / 1024**2:,.1f} MB"


@snapshot_app.command("list")
def list_(research: ResearchOption = None) -> None:
    """Every archived version, newest first: id, created (UTC), as-of, tables, size, marks."""
    from models.publish.versions import list_versions

    folder = _folder(research)
    rows = list_versions(folder)
    if not rows:
        typer.echo(f"No archived versions in {folder} (run the pipeline to publish one).")
        return
    for row in rows:
        marks = ", ".join(m for m, on in (("current", row.current), ("kept", row.kept)) if on)
        typer.echo(
            f"{row.id}  created {row.created:%Y-%m-%d %H:%M}Z  as of {row.as_of}  "
            f"{row.tables} tables  {_size(row.size)}" + (f"  [{marks}]" if marks else "")
        )


@snapshot_app.command()
def export(
    version: Annotated[str, typer.Argument(help="Version id, as `snapshot list` shows it.")],
    out_dir: Annotated[Path, typer.Argument(help="Folder to write mentorscope-<id>.zip into.")],
    research: ResearchOption = None,
) -> None:
    """Write one version as a zip: data (DuckDB, Parquet, Stata, SPSS), codebook, manifest with
    SHA-256 of every file, and CITATION.cff. The same version always gives the same bytes."""
    from models.publish.versions import VersionError, export_version

    try:
        path = export_version(_folder(research), version, out_dir)
    except VersionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(str(path))


@snapshot_app.command()
def keep(
    version: Annotated[str, typer.Argument(help="Version id to keep.")],
    reason: Annotated[str, typer.Option(help="Why (a paper, a preregistration).")] = "",
    research: ResearchOption = None,
) -> None:
    """Keep a version: it is never pruned or rewritten (cite only kept versions)."""
    from models.publish.versions import VersionError, keep_version

    try:
        keep_version(_folder(research), version, reason=reason)
    except VersionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Kept {version}.")


@snapshot_app.command()
def release(
    version: Annotated[str, typer.Argument(help="Version id to release.")],
    research: ResearchOption = None,
) -> None:
    """Stop keeping a version: later publishes may prune it."""
    from models.publish.versions import VersionError, release_version

    try:
        release_version(_folder(research), version)
    except VersionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Released {version}.")
