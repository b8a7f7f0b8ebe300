"""Metrics of the same subjects, protected together (issue 15; docs/disclosure.md, "Metrics of
the same subjects").

Each breakdown metric is protected as its own linked table (models.stats.cells), but a metric's
n in a group counts the group's subjects with a value for it, so it is at most the step flags'
n in the same group (every matched subject has those). A reader who sees a metric's n of 12
knows the hidden step count there is at least 12, and a metric's hidden count is at most the
step count: through that inequality an attacker reading two tables pinned hidden counts that
each table alone protects, groups of one among them.

Here the step flags' family and the families of the tied metrics become one linked table:
every family's cells and equations, and per group that the step flags and a metric both have
a slack cell (step n − metric n − slack = 0, slack ≥ 0: the group's subjects without a value
for the metric), never printed and never judged (it needs no protection, only room to move).
Starting from each family's own pattern, which stays hidden, complements are chosen in that
table until its audit passes, a few programs at a time as in one family's (windows).

Counts only: the audit applies a table's equations to each outcome's successes too, which
would be wrong for the slack equations. A family that hides more here has its shares audited
again on its own table afterwards (models.stats.cells.suppress_cells); what that hides in
turn can only widen what the joint audit proved (hiding a cell never narrows another's
interval).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray

from models.stats.suppression import Equation, protect
from models.vocabulary import FUNNEL_STEPS, WINDOW_CLOSED

if TYPE_CHECKING:
    from models.disclosure.memo import PatternMemo

# The metrics an attacker pinned hidden step counts through (tests/disclosure/cross_metric_attack.py
# on the demo, 2026-12-05): the timed outcomes and windows, whose n falls short of the step
# flags' by the matches too early to judge or without a record. The survey and construct
# metrics gave nothing back read with the step flags; adding them here is a matter of cost
# (docs/disclosure.md).
TIED_METRICS = (
    "retained",
    "promoted",
    "s5_thanks",
    "s6_follow_up",
    "lasting",
    "days_to_first_meeting",
)
# Largest joint table (the tied families' cells, before the slack cells) protected together.
# The joint audit's windows hold every tied family's cells of a few programs, about seven
# times one family's, and their integer programs grow faster than that: on the tenth of the
# consortium (300 programs, 214,715 cells with the slack) its first audit had not finished
# after 690 s, where the whole breakdowns step takes about 150 s (docs/disclosure.md,
# "Metrics of the same subjects"). Above this size each family keeps its own pattern and the
# run says so (the gap stays open there).
TIED_CELLS = 3_000
# Partner programs of the windows the joint table's complements are first sought in (then
# WIDE_PARTNERS, then the whole table: models.disclosure.protection). The joint table spans
# every tied family, so a window with the default 8 partners holds most of it and each change
# is a linear program over thousands of cells. Measured (breakdowns step, rows hidden) with
# 8 / 2 / 1 / 0 partners: on the demo 11.5 / 11.5 / 7.9 / 6.9 s, 2,934 / 2,934 / 2,941 /
# 3,046 of 5,132 rows; on the skewed consortium of tests/disclosure/test_joint_attack.py
# 44.8 / 25.8 / 27.3 / 21.2 s, 4,967 / 5,083 / 5,109 / 5,069 (docs/disclosure.md).
TIE_PARTNERS = 1
# Joint tables (with their slack cells) up to this size are audited whole and not pruned
# (protect_same_subjects); larger ones in program windows with TIE_PARTNERS.
TIE_WHOLE_CELLS = 2_500
# The steps every match has a value for: their family holds every matched subject.
EVERY_MATCH = tuple(m for m in FUNNEL_STEPS if m not in WINDOW_CLOSED)
KEYS = ("program_id", "dimension", "group")
_log = logging.getLogger(__name__)


def _tied_cells(cells: pl.DataFrame, tied: Sequence[str]) -> int:
    """Cells of the step flags' family and the tied metrics' (an upper bound of the joint
    table's, which counts metrics with the same counts once)."""
    metrics = [EVERY_MATCH[0], *tied]
    return cells.filter(pl.col("metric").is_in(metrics)).height


def ties_fit(cells: pl.DataFrame, tied: Sequence[str] = TIED_METRICS) -> bool:
    """Whether the breakdown cells' tied families are small enough to protect together."""
    return _tied_cells(cells, tied) <= TIED_CELLS


def protected_together(breakdowns: pl.DataFrame, tied: Sequence[str] = TIED_METRICS) -> bool:
    """Whether a metrics.breakdowns table's step flags and tied metrics were protected together.
    Its rows are the cells the gate counted (a row per group, hidden or printed; both gates,
    protect_breakdowns' and protect_same_subjects', count them alike), so the published table
    alone says which side of TIED_CELLS its run was on (as this code counts: a warehouse built
    with another limit is judged by this one)."""
    return ties_fit(breakdowns, tied)


def tied_size(breakdowns: pl.DataFrame, tied: Sequence[str] = TIED_METRICS) -> int:
    """The cells the gate counted in a metrics.breakdowns table (see protected_together)."""
    return _tied_cells(breakdowns, tied)


def same_subjects_gap(breakdowns: pl.DataFrame, tied: Sequence[str] = TIED_METRICS) -> int | None:
    """The cells of metrics of the same subjects in a metrics.breakdowns table when they were
    too many to protect together (the known gap applies to it), else None."""
    return None if protected_together(breakdowns, tied) else tied_size(breakdowns, tied)


def warn_untied(cells: pl.DataFrame, tied: Sequence[str] = TIED_METRICS) -> None:
    _warn(_tied_cells(cells, tied))


def _warn(size: int) -> None:
    _log.warning(
        "breakdowns: %d cells of metrics of the same subjects, more than %d: each metric "
        "keeps its own suppression pattern, and one metric's n may narrow another's "
        "hidden count (docs/disclosure.md, 'Metrics of the same subjects')",
        size,
        TIED_CELLS,
    )


def _metrics(parts: Sequence[pl.DataFrame]) -> set[str]:
    return {str(part["metric"][0]) for part in parts}


def tied_families(
    families: Sequence[Sequence[pl.DataFrame]], tied: Sequence[str] = TIED_METRICS
) -> list[int]:
    """The step flags' family, then the families of the tied metrics (none without the
    step flags' family)."""
    step = next((i for i, f in enumerate(families) if _metrics(f) & set(EVERY_MATCH)), None)
    if step is None:
        return []
    return [step] + [i for i, f in enumerate(families) if i != step and _metrics(f) & set(tied)]


def _published_size(
    families: Sequence[Sequence[pl.DataFrame]], chosen: Sequence[int], tied: Sequence[str]
) -> int:
    """The gate's count over the families as metrics.breakdowns will print them: the step
    flags' groups once and each tied metric's, without the audit's own cells (program totals
    and funnel periods, whose dimensions start with "_": models.stats.breakdowns.MATCHES and
    PERIOD). The same count as ties_fit on the published cells, so that the published table
    tells whether its families were tied (protected_together)."""

    def printed(part: pl.DataFrame) -> int:
        return part.filter(~pl.col("dimension").str.starts_with("_")).height

    size = printed(families[chosen[0]][0])
    for i in chosen:
        size += sum(printed(part) for part in families[i] if _metrics([part]) & set(tied))
    return size


def protect_same_subjects(
    families: Sequence[Sequence[pl.DataFrame]],
    patterns: Sequence[NDArray[np.bool_]],
    k: int,
    facts: Sequence[
        tuple[Sequence[Equation], NDArray[np.bool_], NDArray[np.int64], NDArray[np.bool_] | None]
    ],
    tied: Sequence[str] = TIED_METRICS,
    memo: PatternMemo | None = None,
) -> list[NDArray[np.bool_]]:
    """Each family's pattern after the step flags' family and the tied metrics' families are
    protected together. `families`: per family its metrics' cells (each sorted by program,
    dimension, group, the same keys and counts); `patterns`: each family's own pattern;
    `facts`: per family its equations, margin flags, program blocks and the cells that need
    protection (None: all). Families not tied keep their pattern."""
    out = [np.asarray(p, dtype=bool).copy() for p in patterns]
    chosen = tied_families(families, tied)
    if len(chosen) < 2:
        return out
    size = _published_size(families, chosen, tied)
    if size > TIED_CELLS:
        _warn(size)
        return out
    counts: list[NDArray[np.float64]] = []
    margins: list[NDArray[np.bool_]] = []
    blocks: list[NDArray[np.int64]] = []
    judged: list[NDArray[np.bool_]] = []
    equations: list[Equation] = []
    offsets: list[int] = []
    keys: list[list[tuple]] = []
    offset = 0
    for i in chosen:
        first = families[i][0]
        found, margin, block, needs = facts[i]
        equations += [Equation(e.cells + offset, e.coefs) for e in found]
        counts.append(first["n"].to_numpy().astype(float))
        judged.append(np.ones(first.height, dtype=bool) if needs is None else needs)
        margins.append(np.asarray(margin, dtype=bool))
        blocks.append(np.asarray(block, dtype=np.int64))
        keys.append(list(first.select(KEYS).iter_rows()))
        offsets.append(offset)
        offset += first.height
    n = np.concatenate(counts)
    slack_n: list[float] = []
    slack_block: list[int] = []
    at_step = {key: offsets[0] + j for j, key in enumerate(keys[0])}
    block = np.concatenate(blocks)
    for position, rows in zip(offsets[1:], keys[1:], strict=True):
        for j, key in enumerate(rows):
            base = at_step.get(key)
            # Where a metric counts more subjects than the step flags (not expected), the
            # inequality does not hold and a reader cannot use it.
            if base is None or n[base] < n[position + j]:
                continue
            slack = offset + len(slack_n)
            equations.append(Equation.of([base, position + j, slack], [1.0, -1.0, -1.0]))
            slack_n.append(float(n[base] - n[position + j]))
            slack_block.append(int(block[base]))
    if not slack_n:
        return out
    hidden = np.concatenate([out[i] for i in chosen] + [np.ones(len(slack_n), dtype=bool)])
    # A small joint table is audited whole, not in program windows, whose first audits call
    # exposed hundreds of cells a whole audit proves; not pruned then (whole audits of every
    # release cost more than the tie). A tenth of the demo (2,317 cells with the slack):
    # 8.8 s -> 6.2 s, 2,898 -> 2,877 rows hidden; the demo (3,289): 7.9 s -> 13.3 s.
    small = offset + len(slack_n) <= TIE_WHOLE_CELLS
    result = protect(
        np.concatenate([n, slack_n]),
        k,
        equations,
        # A printed row has a member; a slack may be empty.
        lower=np.concatenate([np.ones(offset), np.zeros(len(slack_n))]),
        margin=np.concatenate([*margins, np.zeros(len(slack_n), dtype=bool)]),
        blocks=None if small else np.concatenate([block, np.asarray(slack_block, np.int64)]),
        memo=memo,
        forced=hidden,
        judged=np.concatenate([*judged, np.zeros(len(slack_n), dtype=bool)]),
        # The families' own linear steps have run; here the linear step would protect the
        # slack cells like counts and hide a cell of every group.
        linear=False,
        partners=TIE_PARTNERS,
        prune=not small,
    )
    for i, position in zip(chosen, offsets, strict=True):
        out[i] = out[i] | result.suppressed[position : position + out[i].size]
    return out


def printable_alone(breakdowns: pl.DataFrame) -> pl.DataFrame:
    """The rows of a metrics.breakdowns table (or of its part for some programs) that a
    release may print without review when its metrics of the same subjects were too many to
    protect together (same_subjects_gap is not None): every row of the step flags' family,
    whose pattern holds on its own, and of every other metric its whole-program rows only
    (dimension 'all', a program's or all programs'), so that no second metric's groups sit
    beside the step flags' hidden groups. Checked with the independent pairwise attacker on a
    consortium above the limit (tests/disclosure/test_cross_metric.py)."""
    return breakdowns.filter(
        pl.col("metric").is_in(list(EVERY_MATCH)) | (pl.col("dimension") == "all")
    )
