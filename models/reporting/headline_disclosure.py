"""Disclosure control of the headline cards' match rate (docs/disclosure.md, "Headlines").

A card prints, per program and period, the mentees enrolled and how many of them have a match
(`matched_mentees`, and the match rate they make). Enrolled minus matched is a group too: the
mentees without a match, which the status table hides when it is under k. So where either
group, matched or not, has 1 to k − 1 mentees, the card hides its matched count and rate; and
because the quarters add up to the period "all" and the programs to all programs, more cards
are hidden until no hidden count can be recovered (the same audit and least-people complements
as every table of the aggregate tier: models.stats.suppression.protect).

The attacker's cells: per card, the unmatched count u and the matched count m, with
u + m = enrolled (printed). A count of 0 is taken as known (it is not hidden, and hiding it
would hide every card where everyone, or no one, is matched); so is every cell of a card the
pattern keeps printed.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.disclosure.protection import protect_table
from models.disclosure.table import LinkedTable
from models.reporting.frames import ALL_PERIODS
from models.stats.cells import program_blocks
from models.stats.suppression import Equation

SUPPRESSED = "match_rate_suppressed"


def protect_headlines(
    headlines: pl.DataFrame, k: int, status_counts: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The headlines with `match_rate_suppressed` added, and matched_mentees and match_rate
    blanked where it is true. `status_counts` (metrics.mentee_status_counts): where it hides
    a program's never_matched count, that program's card for the period "all" is hidden too
    (its enrolled − matched is that count; one pattern for both tables)."""
    if headlines.is_empty() or "matched_mentees" not in headlines.columns:
        return headlines.with_columns(pl.lit(False).alias(SUPPRESSED))
    rows = headlines.select("program_id", "period", "enrolled", "matched_mentees").to_dicts()
    owned: set[object] = set()
    if status_counts is not None and not status_counts.is_empty():
        hidden_status = status_counts.filter(
            (pl.col("status") == "never_matched") & pl.col("suppressed")
        )
        owned = set(hidden_status["program_id"].to_list())
    hidden_rows = _hidden_rows(rows, k, owned)
    flags = pl.Series(SUPPRESSED, hidden_rows)
    blank = [c for c in ("matched_mentees", "match_rate") if c in headlines.columns]
    return headlines.with_columns(flags).with_columns(
        pl.when(pl.col(SUPPRESSED)).then(None).otherwise(pl.col(c)).alias(c) for c in blank
    )


def _hidden_rows(rows: list[dict], k: int, owned: set[object] | None = None) -> list[bool]:
    owned = owned or set()
    counts: list[float] = []
    # (row, "u" or "m") -> cell; a zero count has no cell (known to be 0).
    cell_of: dict[tuple[int, str], int] = {}
    for i, row in enumerate(rows):
        enrolled = int(row["enrolled"] or 0)
        matched = int(row["matched_mentees"] or 0)
        for kind, value in (("u", enrolled - matched), ("m", matched)):
            if value > 0:
                cell_of[(i, kind)] = len(counts)
                counts.append(float(value))
    if not counts:
        return [False] * len(rows)
    equations: list[Equation] = []
    for i in range(len(rows)):
        present = [cell_of[(i, kind)] for kind in ("u", "m") if (i, kind) in cell_of]
        equations.append(Equation.of(present))  # u + m = enrolled, which is printed
    for kind in ("u", "m"):
        _sums(equations, rows, kind, cell_of, key="program_id", total=ALL_PERIODS)
        _sums(equations, rows, kind, cell_of, key="period", total=None)
    n = np.asarray(counts)
    small = np.array([r["period"] == ALL_PERIODS and r["program_id"] in owned for r in rows])
    for (i, _kind), cell in cell_of.items():
        small[i] |= n[cell] < k
    # Both counts of a card with a small group are hidden together (printed, one gives the
    # other away); protect_table treats them as primary cells.
    forced = np.zeros(n.size, dtype=bool)
    for (i, _kind), cell in cell_of.items():
        forced[cell] = small[i]
    # Each cell's program: at hundreds of programs the audit goes a few programs at a time
    # (models.disclosure.windows).
    owner = [None] * n.size
    for (i, _kind), cell in cell_of.items():
        owner[cell] = rows[i]["program_id"]
    blocks = program_blocks(pl.Series(owner, dtype=pl.String))
    table = LinkedTable(n=n, equations=equations, lower=np.zeros(n.size), blocks=blocks)
    hidden = protect_table(table, k, forced=forced).suppressed
    out = [False] * len(rows)
    for (i, _kind), cell in cell_of.items():
        out[i] = out[i] or bool(hidden[cell])
    return out


def _sums(
    equations: list[Equation],
    rows: list[dict],
    kind: str,
    cell_of: dict[tuple[int, str], int],
    key: str,
    total: str | None,
) -> None:
    """Quarters add up to the period "all" (key program_id), programs to all programs (key
    period). A whole whose parts are all zero, or parts whose whole is zero, add no equation
    beyond the cells' being known."""
    groups: dict[object, dict[object, int]] = {}
    for i, row in enumerate(rows):
        if (i, kind) not in cell_of:
            continue
        outer = row[key]
        inner = row["period"] if key == "program_id" else row["program_id"]
        groups.setdefault(outer, {})[inner] = cell_of[(i, kind)]
    for members in groups.values():
        whole = members.get(total)
        parts = [cell for inner, cell in members.items() if inner != total]
        if whole is None and not parts:
            continue
        if whole is None:
            equations.append(Equation.of(parts))  # the whole is 0: the parts sum to 0
        else:
            equations.append(Equation.of([whole, *parts], [-1.0] + [1.0] * len(parts)))
