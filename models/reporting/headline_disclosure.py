"""Disclosure control of the headline cards (docs/disclosure.md, "Headlines").

A card prints, per program and period (quarters, "all"; each program and all programs), the
mentees enrolled, how many of them have a match (`matched_mentees`, and the match rate they
make), the matches made in the period (`matched`) and the matches active at its end
(`active_matches`). Each is a count of people or matches, and each is also printed, or hidden,
by another table of the aggregate tier or is tied to one by a sum:

- enrolled − matched is the group of mentees without a match (the status table's
  `never_matched`); matched mentees for the period "all" are the breakdowns' `all` row. Where
  the breakdowns print that row and the status table hides `never_matched`, printing enrolled
  would give the hidden group back by a subtraction: so enrolled is a count of the audit too.
- `matched` is the step funnel's `matches` of the same program and period: it follows the
  funnel's pattern (printed where the funnel prints it, hidden where it hides it).
- `active_matches` for "all" (and for the quarter holding the data date, which ends on the same
  day) is the survival table's `all` row n − endings: hidden where that row is hidden.

The attacker's cells, per card: the unmatched count u, the matched count m, enrolled e = u + m,
and the active count a; quarters add up to "all" (u, m; e follows), programs to all programs
(u, m, a). A count of 0 is taken as known (hiding it would hide every card where everyone, or
no one, is matched); so is every count another table prints, and every cell the pattern keeps
printed. The same audit and least-people complements as every table of the aggregate tier
(models.disclosure.protection.protect_table).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from models.disclosure.protection import protect_table
from models.disclosure.table import LinkedTable
from models.reporting.frames import ALL_PERIODS
from models.stats.cells import program_blocks
from models.stats.suppression import Equation

SUPPRESSED = "match_rate_suppressed"
ENROLLED_SUPPRESSED = "enrolled_suppressed"
MATCHED_SUPPRESSED = "matched_suppressed"
ACTIVE_SUPPRESSED = "active_matches_suppressed"
# Each card count and the flag that hides it.
HIDDEN_BY: dict[str, str] = {
    "match_rate": SUPPRESSED,
    "matched_mentees": SUPPRESSED,
    "enrolled": ENROLLED_SUPPRESSED,
    "matched": MATCHED_SUPPRESSED,
    "active_matches": ACTIVE_SUPPRESSED,
}
FLAGS = (SUPPRESSED, ENROLLED_SUPPRESSED, MATCHED_SUPPRESSED, ACTIVE_SUPPRESSED)
Key = tuple[str | None, str]  # (program_id, period)


def protect_headlines(
    headlines: pl.DataFrame,
    k: int,
    status_counts: pl.DataFrame | None = None,
    sums: pl.DataFrame | None = None,
    funnel: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The headlines with the flags of HIDDEN_BY added and their counts blanked where true.

    status_counts (metrics.mentee_status_counts): a program's `never_matched` row is its card
    u for "all" (printed: known; hidden: hidden on the card too). sums
    (models.metrics.status.printed_sums): `matched`, the breakdowns' `all` row, is m for
    "all"; `active`, the survival table's `all` row, is a for "all". funnel
    (metrics.step_funnel): hides `matched` where it hides the same program and period.
    Without them, those counts are audited as the cards' own."""
    if headlines.is_empty() or "matched_mentees" not in headlines.columns:
        return headlines.with_columns(pl.lit(False).alias(flag) for flag in FLAGS)
    columns = ["program_id", "period", "enrolled", "matched_mentees"]
    if "active_matches" in headlines.columns:
        columns.append("active_matches")
    rows = headlines.select(columns).to_dicts()
    owners = _Owners.read(status_counts, sums, funnel)
    # Enrolled printed on every card first (as the cards always did); only where that leaves a
    # hidden group unprotectable (a never-matched group whose matched count another table
    # prints) are the enrolled counts cells of the audit, which may hide some of them.
    hidden, exposed = _hidden_counts(rows, k, owners, enrolled_printed=True)
    if exposed:
        hidden, _ = _hidden_counts(rows, k, owners, enrolled_printed=False)
    funnel_hidden = _funnel_hidden(funnel)
    flags = {
        SUPPRESSED: [
            hidden[(i, "u")] or hidden[(i, "m")] or hidden[(i, "e")] for i in range(len(rows))
        ],  # fmt: skip
        ENROLLED_SUPPRESSED: [hidden[(i, "e")] for i in range(len(rows))],
        ACTIVE_SUPPRESSED: [hidden[(i, "a")] for i in range(len(rows))],
        MATCHED_SUPPRESSED: [(r["program_id"], r["period"]) in funnel_hidden for r in rows],
    }
    out = headlines.with_columns(pl.Series(name, values, dtype=pl.Boolean)
                                 for name, values in flags.items())  # fmt: skip
    blank = [c for c in HIDDEN_BY if c in out.columns]
    return out.with_columns(
        pl.when(pl.col(HIDDEN_BY[c])).then(None).otherwise(pl.col(c)).alias(c) for c in blank
    )


class _Owners:
    """What other tables print (known) or hide (forced) of the cards' "all" counts."""

    def __init__(self) -> None:
        self.facts: dict[tuple[str | None, str], bool] = {}  # (program, kind) -> hidden
        # (program, kind) of an "all" count another table shows a row for, printed or hidden:
        # the row says the count is at least 1 (a status row exists only with a mentee).
        self.present: set[tuple[str | None, str]] = set()

    @classmethod
    def read(
        cls,
        status_counts: pl.DataFrame | None,
        sums: pl.DataFrame | None,
        funnel: pl.DataFrame | None = None,
    ) -> _Owners:
        owners = cls()
        if status_counts is not None and not status_counts.is_empty():
            never = status_counts.filter(pl.col("status") == "never_matched")
            for program, suppressed in never.select("program_id", "suppressed").iter_rows():
                owners.facts[(program, "u")] = bool(suppressed)
                owners.present.add((program, "u"))
        if sums is not None and not sums.is_empty():
            for program, name, suppressed in sums.select("program_id", "sum", "suppressed").rows():
                kind = {"matched": "m", "active": "a"}.get(name)
                if kind is not None:
                    owners.facts[(program, kind)] = bool(suppressed)
        # Where no mentee has two matches (the status table has no `rematched` row), the
        # program's matched mentees are its matches, which the funnel may print.
        if status_counts is not None and funnel is not None and not funnel.is_empty():
            rematched = set(
                status_counts.filter(pl.col("status") == "rematched")["program_id"].to_list()
            )
            printed = funnel.filter(
                (pl.col("period") == ALL_PERIODS) & ~pl.col("suppressed").fill_null(False)
            )["program_id"].to_list()
            for program in printed:
                if program not in rematched and not (program is None and rematched):
                    owners.facts[(program, "m")] = False
        return owners

    def hidden(self, program: str | None, kind: str) -> bool | None:
        """True: hidden by its owner; False: printed there; None: the cards' own count."""
        return self.facts.get((program, kind))


def _funnel_hidden(funnel: pl.DataFrame | None) -> set[Key]:
    if funnel is None or funnel.is_empty() or "suppressed" not in funnel.columns:
        return set()
    hidden = funnel.filter(pl.col("suppressed").fill_null(False))
    return set(hidden.select("program_id", "period").iter_rows())


def _hidden_counts(
    rows: list[dict], k: int, owners: _Owners, enrolled_printed: bool
) -> tuple[dict[tuple[int, str], bool], bool]:
    """Each card count's flag, and whether a hidden count is left unprotected. With
    enrolled_printed every enrolled count of k or more is known to the attacker. An enrolled
    count under k (a program's total or a quarter's intake) is a primary cell either way."""
    counts: list[float] = []
    # (row, kind) -> cell; a zero count has no cell (known to be 0), except where another
    # table hides the program's count of that kind: a printed 0 would give it back (0 active
    # matches: every match ended, which the survival table hides).
    cell_of: dict[tuple[int, str], int] = {}
    owned_hidden = {(row["program_id"], kind) for row in rows for kind in "umea"
                    if owners.hidden(row["program_id"], kind)}  # fmt: skip
    for i, row in enumerate(rows):
        enrolled = int(row["enrolled"] or 0)
        matched = int(row["matched_mentees"] or 0)
        values = {"u": enrolled - matched, "m": matched, "e": enrolled}
        if "active_matches" in row:
            values["a"] = int(row["active_matches"] or 0)
        for kind, value in values.items():
            if value > 0 or (row["program_id"], kind) in owned_hidden:
                cell_of[(i, kind)] = len(counts)
                counts.append(float(value))
    out = {(i, kind): False for i in range(len(rows)) for kind in "umea"}
    if not counts:
        return out, False
    n = np.asarray(counts)
    equations: list[Equation] = []
    for i in range(len(rows)):  # e = u + m
        if (i, "e") in cell_of:
            parts = [cell_of[(i, kind)] for kind in "um" if (i, kind) in cell_of]
            equations.append(Equation.of([cell_of[(i, "e")], *parts], [-1.0] + [1.0] * len(parts)))
    for kind in "um":
        _sums(equations, rows, kind, cell_of, key="program_id", total=ALL_PERIODS)
    for kind in "uma":
        _sums(equations, rows, kind, cell_of, key="period", total=None)
    equations.extend(_same_active(rows, cell_of))
    forced = np.zeros(n.size, dtype=bool)
    known = np.zeros(n.size, dtype=bool)
    for (i, kind), cell in cell_of.items():
        program, period = rows[i]["program_id"], rows[i]["period"]
        owned = owners.hidden(program, kind) if period == ALL_PERIODS else None
        # No enrolled count under k is printed: not a program's total (printed, it pinned a
        # small program's matches and mentees with the breakdowns' groups: docs/disclosure.md,
        # "Headlines"), nor its quarters (no more than it), nor a quarter's intake of 1 to
        # k - 1 mentees in a larger program (a small group like any other).
        printed = enrolled_printed and n[cell] >= k
        if owned:
            forced[cell] = True
        elif owned is False or (kind == "e" and printed):
            known[cell] = True
            equations.append(Equation.of([cell]))  # printed by its owner, or enrolled
    # Both counts of a card with a small group are hidden together (printed, one gives the
    # other away), unless another table prints one: then enrolled must go instead, which the
    # audit finds. protect_table treats them as primary cells.
    for i in range(len(rows)):
        u, m = cell_of.get((i, "u")), cell_of.get((i, "m"))
        small = any(c is not None and (n[c] < k or forced[c]) for c in (u, m))
        for c in (u, m):
            if small and c is not None and not known[c]:
                forced[c] = True
    margin = np.zeros(n.size, dtype=bool)
    owner: list[str | None] = [None] * n.size
    for (i, kind), cell in cell_of.items():
        # Enrolled is the card a reader needs most: hidden last, like a margin.
        margin[cell] = rows[i]["period"] == ALL_PERIODS or rows[i]["program_id"] is None
        margin[cell] |= kind == "e"
        owner[cell] = rows[i]["program_id"]
    # Each cell's program: at hundreds of programs the audit goes a few programs at a time
    # (models.disclosure.windows).
    blocks = program_blocks(pl.Series(owner, dtype=pl.String))
    # A never-matched row of the status table, even hidden, says its program has such a
    # mentee: with the cards' sums it bounded two hidden programs' counts to 1-2 people.
    lower = np.zeros(n.size)
    for (i, kind), cell in cell_of.items():
        if rows[i]["period"] == ALL_PERIODS and (rows[i]["program_id"], kind) in owners.present:
            lower[cell] = min(1.0, n[cell])
    table = LinkedTable(n=n, equations=equations, lower=lower, margin=margin, blocks=blocks)
    result = protect_table(table, k, forced=forced)
    for key, cell in cell_of.items():
        # A known count is never hidden: the attacker has it (hiding an enrolled count under
        # k would only look like protection).
        out[key] = bool(result.suppressed[cell] and not known[cell])
    return out, bool((result.unprotectable & ~known).any())


def _same_active(rows: list[dict], cell_of: dict[tuple[int, str], int]) -> Iterable[Equation]:
    """The quarter holding the data date ends on it: its active count is the "all" count."""
    quarters = sorted({r["period"] for r in rows if r["period"] != ALL_PERIODS})
    if not quarters:
        return
    index = {(r["program_id"], r["period"]): i for i, r in enumerate(rows)}
    for program in {r["program_id"] for r in rows}:
        last, whole = index.get((program, quarters[-1])), index.get((program, ALL_PERIODS))
        if last is None or whole is None:
            continue
        a, b = cell_of.get((last, "a")), cell_of.get((whole, "a"))
        if a is not None and b is not None:
            yield Equation.of([a, b], [1.0, -1.0])
        elif (a is None) != (b is None):
            yield Equation.of([a if a is not None else b])  # the other is a printed 0


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
    groups: dict[object, dict[object, int | None]] = {}
    for i, row in enumerate(rows):
        outer = row[key]
        inner = row["period"] if key == "program_id" else row["program_id"]
        groups.setdefault(outer, {})[inner] = cell_of.get((i, kind))  # None: a printed 0
    for members in groups.values():
        if total not in members or len(members) < 2:
            continue  # no whole, or no parts printed: no sum to read
        whole = members[total]
        parts = [cell for inner, cell in members.items() if inner != total and cell is not None]
        if whole is None and not parts:
            continue
        if whole is None:
            equations.append(Equation.of(parts))  # the whole is 0: the parts sum to 0
        else:
            equations.append(Equation.of([whole, *parts], [-1.0] + [1.0] * len(parts)))
