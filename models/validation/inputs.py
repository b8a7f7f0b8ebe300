"""What validating one table needs, as Polars frames: its core rows plus a few lookups.

Kept apart from the warehouse so tests can build bad frames directly. The pipeline does not
hold these frames: it validates the warehouse in batches (``source.py``, ``batches.py``);
:class:`TableInputs` is what tests and the whole-table reference path
(``benchmarks/validation_reference.py``) work from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from models.contract import TableSpec
from models.validation.declarations import CORE_FRAME, reference_flag, role_column


@dataclass
class TableInputs:
    spec: TableSpec
    core: pl.DataFrame  # the core table (public contract columns; lineage may be present)
    parent_keys: dict[str, pl.Series] = field(default_factory=dict)  # "matches.match_id"
    participant_roles: pl.DataFrame | None = None  # participant_id, role
    previous_row_count: int | None = None  # last accepted run's count (row_count_drop)
    read_rows: pl.DataFrame | None = None  # _source_file, _source_row, reference_failed
    match_ids: pl.Series | None = None  # core.matches.match_id (meetings_per_match)


@dataclass(frozen=True)
class TableFacts:
    """What deciding which dataset rules apply needs to know about a table: counts, not rows."""

    spec: TableSpec
    columns: tuple[str, ...]  # core columns present
    row_count: int
    non_null: Mapping[str, int]  # non-null values per core column present
    previous_row_count: int | None = None
    read_rows: int | None = None  # rows read (None: not available)
    matches: int | None = None  # core.matches rows (None: not available)


def facts_of(inputs: TableInputs) -> TableFacts:
    """The facts of in-memory inputs (the batch path gets them from one SQL aggregate)."""
    core = inputs.core
    return TableFacts(
        spec=inputs.spec,
        columns=tuple(core.columns),
        row_count=core.height,
        non_null={c: core.height - core[c].null_count() for c in core.columns},
        previous_row_count=inputs.previous_row_count,
        read_rows=None if inputs.read_rows is None else inputs.read_rows.height,
        matches=None if inputs.match_ids is None else inputs.match_ids.len(),
    )


@dataclass(frozen=True)
class Frame:
    """One frame GX validates, with the columns that identify a failing row."""

    frame: pl.DataFrame
    keys: tuple[str, ...]


def core_frame(inputs: TableInputs) -> Frame:
    """The core rows plus derived columns for the reference and role expectations."""
    spec = inputs.spec
    frame = inputs.core.select([c for c in spec.public_columns if c in inputs.core.columns])
    derived: list[pl.Expr] = []
    for col in spec.columns:
        if col.restricted or col.name not in frame.columns:
            continue
        if col.references:
            keys = inputs.parent_keys.get(".".join(col.references))
            if keys is not None:
                derived.append(
                    (pl.col(col.name).is_null() | pl.col(col.name).is_in(keys.implode())).alias(
                        reference_flag(col.name)
                    )
                )
    if derived:
        frame = frame.with_columns(derived)
    for col in spec.columns:
        if col.role and inputs.participant_roles is not None and col.name in frame.columns:
            roles = (
                inputs.participant_roles.select("participant_id", "role")
                .unique("participant_id", keep="first")
                .rename({"participant_id": col.name, "role": role_column(col.name)})
            )
            frame = frame.join(roles, on=col.name, how="left", maintain_order="left")
    # Failing rows are shown by their key and the ids they refer to.
    shown = [*spec.key, *[c.name for c in spec.columns if c.references]]
    return Frame(frame, tuple(k for k in dict.fromkeys(shown) if k in frame.columns))


def frames_for(inputs: TableInputs) -> dict[str, Frame]:
    """Every frame the table's expectations run on, by name."""
    frames = {CORE_FRAME: core_frame(inputs)}
    if inputs.read_rows is not None:
        frames["read_rows"] = Frame(
            inputs.read_rows.select(
                "_source_file",
                "_source_row",
                (~pl.col("reference_failed").fill_null(False)).alias("reference_ok"),
            ),
            ("_source_file", "_source_row"),
        )
    if inputs.match_ids is not None and "match_id" in inputs.core.columns:
        per_match = inputs.core.group_by("match_id").len("meetings")
        counts = (
            pl.DataFrame({"match_id": inputs.match_ids})
            .join(per_match, on="match_id", how="left")
            .select("match_id", pl.col("meetings").fill_null(0).cast(pl.Int64))
        )
        frames["meetings_per_match"] = Frame(counts, ("match_id",))
    return frames
