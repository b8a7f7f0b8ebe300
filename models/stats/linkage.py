"""The equations that tie the cells of a breakdown-shaped table together.

A breakdown table has one cell per (program_id, dimension, group) for one metric; program_id
null is all programs together. The groups of a dimension partition its people, so for a metric:
  - within a program (or all programs) and dimension, the groups sum to the total;
  - for a dimension and group, the all-programs cell is the sum of the program cells;
  - for a crossed dimension such as mentee_gender_race ("woman|black"), the cells that share a
    part sum to the cell of the parent dimension (mentee_gender "woman", mentee_race "black").
Both counts and value sums (value × n, and sums of squares behind a standard deviation) obey the
same equations, so one suppression pattern protects all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from models.stats.suppression import Equation

# crossed dimension -> (parent dimension, position of the parent's part in the group label)
CROSSED_DIMENSIONS: dict[str, tuple[tuple[str, int], ...]] = {
    "mentee_gender_race": (("mentee_gender", 0), ("mentee_race", 1)),
}
GROUP_SEPARATOR = "|"


def linked_equations(
    cells: pl.DataFrame,
    crossed: Mapping[str, Sequence[tuple[str, int]]] = CROSSED_DIMENSIONS,
    total_of: Mapping[str, str] | None = None,
    same_total: Sequence[Sequence[str]] = (),
) -> list[Equation]:
    """Equations over the rows of `cells` (columns program_id, dimension, group; one metric).

    Cell i is row i of `cells`. total_of: dimension -> the one-group dimension that holds its
    total (e.g. every mentee dimension -> "all"): where a program has that row, its groups sum
    to that cell, which is published or hidden like any other (a program under k people has
    its total hidden); every other dimension's total is taken as known, except in
    same_total: dimensions that count the same subjects (e.g. mentors by gender and by race)
    whose total nobody prints; their groups add up to the same unknown number in each program.
    """
    indexed = cells.select("program_id", "dimension", "group").with_row_index("cell")
    equations: list[Equation] = []
    total_of = total_of or {}
    total_cells: dict[tuple[str | None, str], int] = {}
    wholes = set(total_of.values())
    for program, dimension, cell in (
        indexed.filter(pl.col("dimension").is_in(sorted(wholes)))
        .select("program_id", "dimension", "cell")
        .iter_rows()
    ):
        total_cells[(program, dimension)] = cell

    grouped = indexed.group_by(["program_id", "dimension"]).agg(pl.col("cell"))
    unknown = {d: tuple(dims) for dims in same_total for d in dims}
    for program, dimension, members in grouped.iter_rows():
        if dimension in wholes:
            continue  # a total's own row: tied through the dimensions it totals
        total = total_cells.get((program, total_of.get(dimension, "")))
        if dimension in unknown:
            continue  # below: equal to the other dimensions of the same subjects
        if total is None:
            equations.append(Equation.of(members))
        else:
            equations.append(Equation.of([total, *members], [-1.0] + [1.0] * len(members)))
    by_scope = {(p, d): m for p, d, m in grouped.iter_rows()}
    for dims in same_total:
        for program in indexed["program_id"].unique().to_list():
            present = [by_scope[(program, d)] for d in dims if (program, d) in by_scope]
            for first, other in zip(present, present[1:], strict=False):
                equations.append(
                    Equation.of([*first, *other], [1.0] * len(first) + [-1.0] * len(other))
                )
    for (_program, dimension), cell in total_cells.items():
        if not any(total_of.get(d) == dimension for d in grouped["dimension"].unique()):
            equations.append(Equation.of([cell]))  # totals nothing here: known as before

    totals = indexed.filter(pl.col("program_id").is_null()).select(
        "dimension", "group", pl.col("cell").alias("total_cell")
    )
    parts = (
        indexed.filter(pl.col("program_id").is_not_null())
        .group_by(["dimension", "group"])
        .agg(pl.col("cell"))
        .join(totals, on=["dimension", "group"], how="inner")
    )
    for members, total in zip(parts["cell"], parts["total_cell"], strict=True):
        ids = members.to_list()
        equations.append(Equation.of([total, *ids], [-1.0] + [1.0] * len(ids)))

    for child, parents in crossed.items():
        child_cells = indexed.filter(pl.col("dimension") == child)
        if child_cells.is_empty():
            continue
        split = child_cells.with_columns(pl.col("group").str.split(GROUP_SEPARATOR).alias("parts"))
        for parent, position in parents:
            keyed = split.with_columns(pl.col("parts").list.get(position).alias("parent_group"))
            parent_cells = indexed.filter(pl.col("dimension") == parent).select(
                "program_id",
                pl.col("group").alias("parent_group"),
                pl.col("cell").alias("parent_cell"),
            )
            linked = (
                keyed.group_by(["program_id", "parent_group"])
                .agg(pl.col("cell"))
                .join(
                    parent_cells, on=["program_id", "parent_group"], how="inner", nulls_equal=True
                )
            )
            for members, parent_cell in zip(linked["cell"], linked["parent_cell"], strict=True):
                ids = members.to_list()
                equations.append(Equation.of([parent_cell, *ids], [-1.0] + [1.0] * len(ids)))
    return equations
