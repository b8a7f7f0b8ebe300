"""Write the aggregate tier alone: the tables HR or the public may receive, under disclosure
control, as one DuckDB file or a folder of Parquet files, each with a README saying what it is.

The aggregate tier is every published count, share and estimate built from groups (never a row
per person or match): metrics.breakdowns, step_funnel, survival (and its tests), mentee status
counts and same-group wishes. Each was suppressed where built (docs/disclosure.md); this module
copies them, checks that no suppressed row still carries a number, and writes nothing else. The
row-level research tier (research.duckdb) is for approved researchers under a data-use
agreement and is never written here (docs/researchers.md).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from models.stats import same_subjects

# table -> columns that must be null on a suppressed row (the rest are keys and flags)
AGGREGATE_TABLES: dict[str, tuple[str, ...]] = {
    "metrics.breakdowns": ("n", "value", "ci_low", "ci_high", "gap"),
    "metrics.step_funnel": ("matches",),
    "metrics.survival": ("n", "events", "value", "ci_low", "ci_high"),
    "metrics.survival_tests": (),
    "metrics.survival_by_period": ("n", "events", "value", "ci_low", "ci_high"),
    "metrics.mentee_status_counts": ("n",),
    "metrics.same_group_wish": ("n", "value", "ci_low", "ci_high", "gap"),
    "metrics.settings": (),
}
README = """# Mentorscope aggregate tier

Tier: AGGREGATE, under disclosure control. Generated {generated} by Mentorscope.

These tables hold only counts, shares, means and estimates of groups, never a row per person
or per match. A group of fewer than {k} people is suppressed (its numbers are empty and
`suppressed` is true), and further groups are suppressed with it, so that no suppressed number
can be worked out from everything in these tables together: not exactly, not to within one
person, and no suppressed group can be shown to be all-yes or all-no on an outcome. Empty is
not zero: a suppressed cell may hold any number the published ones allow.

{same_subjects}

What is here may be given to HR and, where the programs agree, published. The row-level
research tier (per-match and per-person tables) is a different product, for approved
researchers under a data-use agreement only; it is not part of this folder.

Tables: {tables}
Rule and method: docs/disclosure.md in the Mentorscope repository.
"""


BREAKDOWNS = "metrics.breakdowns"
# What the README says of the metrics of the same subjects (docs/disclosure.md, "Metrics of the
# same subjects"): one metric's count in a group bounds another's, since the mentees with an
# outcome recorded are some of the group's mentees.
TOGETHER = (
    "Metrics of the same subjects: one metric's count in a group bounds another's (the mentees "
    "with an outcome recorded are some of the group's mentees). In this release the step flags "
    "and the timed outcomes of `metrics.breakdowns` were protected together against that bound "
    "({size:,} cells; up to {limit:,} are)."
)
UNTIED_INCLUDED = (
    "KNOWN GAP IN THIS RELEASE. One metric's count in a group bounds another's (the mentees "
    "with an outcome recorded are some of the group's mentees). `metrics.breakdowns` holds "
    "{size:,} cells of metrics of the same subjects, more than the {limit:,} that are protected "
    "together, so each metric was protected as its own table: read together with that bound, "
    "some suppressed counts can be narrowed to within one person. It was included on request "
    "(`mentorscope aggregate --include-untied-breakdowns`): share it beyond the evaluation team "
    'only after review; see "Metrics of the same subjects" in docs/disclosure.md.'
)
UNTIED_WITHHELD = (
    "`metrics.breakdowns` in this release holds the step flags' groups and every metric's "
    "whole-program rows (dimension `all`) only: {left:,} rows of the other metrics' groups were "
    "left out. The table holds {size:,} cells of metrics of the same subjects, more than the "
    "{limit:,} that are protected together, so each metric was protected as its own table, and "
    "read together (one metric's count in a group bounds another's) some suppressed counts "
    "could be narrowed to within one person; the rows kept gave an independent attacker no "
    "hidden count (docs/disclosure.md). The dashboards show the "
    "same rows. `mentorscope aggregate --include-untied-breakdowns` writes every row, for a "
    'reviewed release; see "Metrics of the same subjects" in docs/disclosure.md.'
)


@dataclass(frozen=True)
class AggregateTier:
    path: Path
    tables: dict[str, int]  # table -> rows written
    absent: list[str]
    withheld: dict[str, str]  # table -> why it was left out


class DisclosureError(RuntimeError):
    """A suppressed row still carries a number: the tier is not written."""


def _present(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables"
    ).fetchall()
    return {r[0] for r in rows}


def _checked(con: duckdb.DuckDBPyConnection, table: str, blanked: tuple[str, ...]) -> pl.DataFrame:
    frame = con.sql(f"SELECT * FROM {table}").pl()  # names from AGGREGATE_TABLES
    if "suppressed" in frame.columns:
        hidden = frame.filter(pl.col("suppressed").fill_null(False))
        for column in (c for c in blanked if c in frame.columns):
            if hidden[column].is_not_null().any():
                raise DisclosureError(f"{table}: suppressed rows carry a value in {column}")
    return frame


def write_aggregate_tier(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    k: int = 10,
    include_untied_breakdowns: bool = False,
) -> AggregateTier:
    """Write the aggregate tier to `target`: a DuckDB file when it ends in .duckdb, else a
    folder of Parquet files. Written beside the target and moved into place, so a reader never
    sees half a tier. Tables absent from the warehouse are listed in the manifest.

    A metrics.breakdowns whose metrics of the same subjects were too many to protect together
    (models.stats.same_subjects.TIED_CELLS) is written with the rows that hold alone
    (same_subjects.printable_alone), and the manifest (`withheld`: what was left out of which
    table) and README say why, unless `include_untied_breakdowns`: then every row is written
    and the README names the gap."""
    target = Path(target)
    present = _present(con)
    frames = {t: _checked(con, t, b) for t, b in AGGREGATE_TABLES.items() if t in present}
    absent = [t for t in AGGREGATE_TABLES if t not in present]
    withheld: dict[str, str] = {}
    paragraph = ""
    together: bool | None = None
    breakdowns = frames.get(BREAKDOWNS)
    # Only a table holding a metric tied to the step flags can carry the gap.
    if breakdowns is not None and breakdowns["metric"].is_in(same_subjects.TIED_METRICS).any():
        size = same_subjects.tied_size(breakdowns)
        together = same_subjects.protected_together(breakdowns)
        limit = same_subjects.TIED_CELLS
        if together:
            paragraph = TOGETHER.format(size=size, limit=limit)
        elif include_untied_breakdowns:
            paragraph = UNTIED_INCLUDED.format(size=size, limit=limit)
        else:
            kept = same_subjects.printable_alone(breakdowns)
            left = breakdowns.height - kept.height
            paragraph = UNTIED_WITHHELD.format(size=size, limit=limit, left=left)
            withheld[BREAKDOWNS] = (
                f"{left:,} of {breakdowns.height:,} rows, the groups of metrics other than the "
                f"step flags: {size:,} cells of metrics of the same subjects, more than the "
                f"{limit:,} protected together, and read together some suppressed counts could "
                "be narrowed"
            )
            frames[BREAKDOWNS] = kept
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    readme = README.format(
        generated=generated, k=k, tables=", ".join(frames) or "none", same_subjects=paragraph
    )
    manifest = {
        "tier": "aggregate",
        "disclosure_control": True,
        "suppression_k": k,
        "generated": generated,
        "tables": {t: f.height for t, f in frames.items()},
        "absent": absent,
        "withheld": withheld,
        "same_subjects_protected_together": together,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".aggregate-", dir=target.parent))
    try:
        if target.suffix == ".duckdb":
            built = staging / target.name
            out = duckdb.connect(str(built))
            try:
                for table, frame in frames.items():
                    schema, name = table.split(".")
                    out.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                    out.register("_frame", frame)
                    out.execute(f"CREATE TABLE {schema}.{name} AS SELECT * FROM _frame")
                    out.unregister("_frame")
                out.execute("CREATE SCHEMA IF NOT EXISTS meta")
                out.execute("CREATE TABLE meta.tier (key VARCHAR, value VARCHAR)")
                out.executemany(
                    "INSERT INTO meta.tier VALUES (?, ?)",
                    [("readme", readme), ("manifest", json.dumps(manifest, sort_keys=True))],
                )
            finally:
                out.close()
            built.replace(target)
        else:
            built = staging / "tier"
            built.mkdir()
            for table, frame in frames.items():
                frame.write_parquet(built / f"{table}.parquet")
            (built / "README.md").write_text(readme, encoding="utf-8")
            (built / "manifest.json").write_text(
                json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
            )
            if target.exists():
                shutil.rmtree(target)
            built.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return AggregateTier(path=target, tables=manifest["tables"], absent=absent, withheld=withheld)
