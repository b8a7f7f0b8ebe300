"""metrics.mentee_status: where each mentee stands on the as-of date, and the counts of it.

Statuses (docs/metrics.md): never_matched, rematched (two or more matches), active_lt_12m /
active_12m_plus (one match, still open, open for < or >= 365 days), ended_lt_12m /
ended_12m_plus (one match, ended, lasted < or >= 365 days).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.disclosure.table import LinkedTable
from models.metrics.frames import core_lazy
from models.metrics.settings import MetricSettings, settings_hash
from models.stats.cells import program_blocks
from models.stats.suppression import Equation

YEAR_DAYS = 365
STATUSES: tuple[str, ...] = (
    "never_matched",
    "rematched",
    "active_lt_12m",
    "active_12m_plus",
    "ended_lt_12m",
    "ended_12m_plus",
)
STATUS_COLUMNS = ("participant_id", "program_id", "status", "settings_hash")
COUNT_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "status": pl.String(),
    "n": pl.Int64(),
    "suppressed": pl.Boolean(),
    "settings_hash": pl.String(),
}


def mentee_status(
    participants: pl.DataFrame | pl.LazyFrame,
    matches: pl.DataFrame | pl.LazyFrame,
    settings: MetricSettings,
) -> pl.DataFrame:
    """One row per mentee (participants with role mentee)."""
    as_of = pl.lit(settings.as_of, dtype=pl.Date)
    mentees = (
        core_lazy(participants, "participants", ["participant_id", "program_id", "role"])
        .filter(pl.col("role") == "mentee")
        .select("participant_id", "program_id")
    )
    per_mentee = (
        core_lazy(
            matches, "matches", ["mentee_id", "matched_on", "ended_on"], optional=("ended_on",)
        )
        .filter(pl.col("matched_on") <= as_of)
        .group_by("mentee_id")
        .agg(
            n_matches=pl.len(),
            matched_on=pl.col("matched_on").first(),
            ended_on=pl.col("ended_on").first(),
        )
    )
    ended = pl.col("ended_on").is_not_null() & (pl.col("ended_on") <= as_of)
    open_days = (as_of - pl.col("matched_on")).dt.total_days()
    lasted_days = (pl.col("ended_on") - pl.col("matched_on")).dt.total_days()
    status = (
        pl.when(pl.col("n_matches").is_null())
        .then(pl.lit("never_matched"))
        .when(pl.col("n_matches") >= 2)
        .then(pl.lit("rematched"))
        .when(~ended & (open_days < YEAR_DAYS))
        .then(pl.lit("active_lt_12m"))
        .when(~ended)
        .then(pl.lit("active_12m_plus"))
        .when(lasted_days < YEAR_DAYS)
        .then(pl.lit("ended_lt_12m"))
        .otherwise(pl.lit("ended_12m_plus"))
    )
    return (
        mentees.join(per_mentee, left_on="participant_id", right_on="mentee_id", how="left")
        .with_columns(status=status, settings_hash=pl.lit(settings_hash(settings), dtype=pl.String))
        .select(STATUS_COLUMNS)
        .sort("participant_id")
        .collect()
    )


# Sums of statuses that other tables print (docs/disclosure.md, "One pattern across tables").
SUMS: dict[str, tuple[str, ...]] = {
    "matched": STATUSES[1:],  # the program's mentees in metrics.breakdowns (its `all` row)
    "ended": ("ended_lt_12m", "ended_12m_plus"),  # survival endings, one match per mentee
    "active": ("active_lt_12m", "active_12m_plus"),  # survival n − endings, likewise
}
SUM_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "sum": pl.String(),
    "suppressed": pl.Boolean(),
}


def printed_sums(breakdowns: pl.DataFrame | None, survival: pl.DataFrame | None) -> pl.DataFrame:
    """Which sums of statuses the other tables print or hide, per program (null = all):
    `matched` from the breakdowns' `all` row of a step every match has (mentees with a match),
    `ended` and `active` from the survival table's `all` row (endings; matches − endings)."""
    from models.vocabulary import FUNNEL_STEPS, WINDOW_CLOSED

    parts = [pl.DataFrame(schema=SUM_SCHEMA)]
    if breakdowns is not None and not breakdowns.is_empty():
        every = [m for m in FUNNEL_STEPS if m not in WINDOW_CLOSED]
        present = [m for m in every if m in set(breakdowns["metric"].unique().to_list())]
        if present:
            rows = breakdowns.filter(
                (pl.col("metric") == present[0]) & (pl.col("dimension") == "all")
            )
            parts.append(rows.select("program_id", pl.lit("matched").alias("sum"), "suppressed"))
    if survival is not None and not survival.is_empty():
        rows = survival.filter(pl.col("dimension") == "all").select("program_id", "suppressed")
        rows = rows.unique(subset="program_id", keep="first", maintain_order=True)
        for name in ("ended", "active"):
            parts.append(rows.select("program_id", pl.lit(name).alias("sum"), "suppressed"))
    return pl.concat([part.cast(SUM_SCHEMA) for part in parts])


def mentee_status_counts(
    status: pl.DataFrame, k: int, sums: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Mentees per program (null = all programs) and status, with disclosure control.

    Only statuses with at least one mentee get a row (a reader learns that much), except
    where another table hides a sum of statuses (below): then each status of the sum has a
    row, hidden, which may hold 0 (its absence would say the sum is 0). A count
    below k is suppressed, and so are as many others as needed that none can be recovered from
    the margins an attacker may know: each program's total of mentees, each status's total
    over programs (the all-programs row), and the overall total (models/stats/suppression.py).

    sums (printed_sums): sums of statuses that other tables of the aggregate tier print or
    hide. Each becomes a cell of the audit tied to its statuses: known where printed, hidden
    where its owner hides it, so that no status count gives it back (docs/disclosure.md, "One
    pattern across tables"). `ended` and `active` hold only where no mentee has two matches.
    """
    hash_ = status["settings_hash"].first() if status.height else None
    per_program = status.group_by("program_id", "status").agg(n=pl.len().cast(pl.Int64))
    per_program = pl.concat([per_program, _rows_of_hidden_sums(per_program, sums)])
    overall = status.group_by("status").agg(n=pl.len().cast(pl.Int64))
    cells = (
        pl.concat(
            [
                per_program,
                overall.select(pl.lit(None, dtype=pl.String).alias("program_id"), "status", "n"),
            ]
        )
        .with_columns(
            pl.col("status").replace_strict({s: i for i, s in enumerate(STATUSES)}).alias("_order")
        )
        .sort("program_id", "_order", nulls_last=True)
    )
    if cells.is_empty():
        return pl.DataFrame(schema=COUNT_SCHEMA)
    hidden = _pattern(
        cells["n"].to_numpy().astype(float),
        k,
        cells["program_id"].to_list(),
        cells["status"].to_list(),
        sums if sums is not None else pl.DataFrame(),
    )
    return cells.with_columns(
        n=pl.when(pl.Series(hidden)).then(None).otherwise(pl.col("n")),
        suppressed=pl.Series(hidden),
        settings_hash=pl.lit(hash_, dtype=pl.String),
    ).select(list(COUNT_SCHEMA))


def _rows_of_hidden_sums(per_program: pl.DataFrame, sums: pl.DataFrame | None) -> pl.DataFrame:
    """Rows of 0 mentees for the statuses of a program's `ended` or `active` sum that its owner
    (the survival table) hides and that have no mentee: without them the missing rows would
    publish that the program's hidden ending count (or open count) is 0."""
    empty = per_program.clear()
    if sums is None or sums.is_empty():
        return empty
    present = set(per_program.select("program_id", "status").iter_rows())
    rematched = {p for p, s in present if s == "rematched"}
    rows = []
    for program, name, suppressed in sums.select("program_id", "sum", "suppressed").iter_rows():
        if not suppressed or name == "matched" or program is None or program in rematched:
            continue
        rows.extend(
            (program, status, 0) for status in SUMS[name] if (program, status) not in present
        )
    if not rows:
        return empty
    return pl.DataFrame(rows, schema=per_program.schema, orient="row")


def _pattern(
    n: np.ndarray, k: int, program: list[str | None], kind: list[str], sums: pl.DataFrame
) -> np.ndarray:
    """The suppression flags. First with each program's total of mentees known (the cards may
    print it: the cautious reading). A cell that reading leaves unprotectable is often pinned
    only by those totals, and the cards print a total only where the never-matched and
    matched counts they derive from it are protected: so the pattern is sought again with
    the totals as cells of the audit (hidden last, like margins). The never-matched counts it
    then hides, the cards hide too, and with them the totals that would give them back
    (models.reporting.headline_disclosure). A program of 4 mentees beside two large ones had
    its never-matched count pinned to 1-2 otherwise (docs/disclosure.md, "Headlines")."""
    from models.disclosure.protection import protect_table

    table, forced = _status_table(n, program, kind, sums, totals_known=True)
    first = protect_table(table, k, forced=forced)
    hidden = first.suppressed[: n.size]
    if not first.unprotectable[: n.size].any():
        return hidden
    table, forced = _status_table(n, program, kind, sums, totals_known=False)
    forced[: n.size] |= hidden
    return protect_table(table, k, forced=forced).suppressed[: n.size] | hidden


def _status_table(
    n: np.ndarray,
    program: list[str | None],
    kind: list[str],
    sums: pl.DataFrame,
    totals_known: bool,
) -> tuple[LinkedTable, np.ndarray]:
    """The status counts as the attacker sees them, and the cells other tables hide.

    Statuses of a program add up to its total of mentees (known, or a cell of its own, a
    margin); a status's programs add up to its all-programs cell. sums (printed_sums): the
    other tables' sums of statuses as extra cells, each equal to the sum of its statuses; a
    printed one is known, a hidden one is forced hidden (never a complement)."""
    index = np.arange(n.size)
    counts = list(n)
    forced = [False] * len(counts)
    may_be_zero = np.zeros(n.size, dtype=bool)
    owners = list(program)
    margin = [p is None for p in program]
    equations: list[Equation] = []
    for p in dict.fromkeys(program):
        members = [int(i) for i in index if program[i] == p]
        if totals_known:
            equations.append(Equation.of(members))
            continue
        cell = len(counts)
        counts.append(float(sum(n[i] for i in members)))
        forced.append(False)
        owners.append(p)
        margin.append(True)
        equations.append(Equation.of([*members, cell], [1.0] * len(members) + [-1.0]))
    for s in dict.fromkeys(kind):  # the all-programs cell of a status is the sum of its programs
        members = [int(i) for i in index if kind[i] == s and program[i] is not None]
        overall_cell = [int(i) for i in index if kind[i] == s and program[i] is None]
        equations.append(Equation.of(members + overall_cell, [1.0] * len(members) + [-1.0]))
    for p, name, suppressed in sums.iter_rows() if not sums.is_empty() else ():
        own = [i for i, q in enumerate(program) if q == p]
        if not own or (name != "matched" and any(kind[i] == "rematched" for i in own)):
            continue
        members = [i for i in own if kind[i] in SUMS[name]]
        if not members:
            continue
        if suppressed and name != "matched":
            may_be_zero[members] = True
        if not suppressed and len(members) == 1:
            # A printed sum of one status prints that status: known, never a complement (a
            # program's only ended status, hidden, was given back by the survival table).
            equations.append(Equation.of(members))
            continue
        cell = len(counts)
        counts.append(float(sum(n[i] for i in members)))
        forced.append(bool(suppressed))
        owners.append(p)
        margin.append(False)
        equations.append(Equation.of([*members, cell], [1.0] * len(members) + [-1.0]))
        if not suppressed:
            equations.append(Equation.of([cell]))
    extra = len(counts) - n.size
    table = LinkedTable(
        n=np.asarray(counts),
        equations=equations,
        # A printed row has a mentee, except the statuses of a sum hidden by its owner.
        lower=np.concatenate([np.where(may_be_zero, 0.0, 1.0), np.zeros(extra)]),
        margin=np.asarray(margin, dtype=bool),
        # Each cell's program (a sum cell is its program's): at hundreds of programs the
        # audit goes a few programs at a time (models.disclosure.windows).
        blocks=program_blocks(pl.Series(owners, dtype=pl.String)),
    )
    return table, np.asarray(forced, dtype=bool)
