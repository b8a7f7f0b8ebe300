"""Land a table's export files as text rows with their lineage, checking the folder is usable."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from models.contract import TableSpec
from models.ingest.discover import ExportFile
from models.ingest.errors import ExportError
from models.ingest.read import read_export_file

LINEAGE_COLUMNS = ("_source_file", "_source_row", "_file_sha256", "_loaded_at")


def empty_raw(spec: TableSpec) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {c: pl.String() for c in spec.column_names}
    schema |= {
        "_source_file": pl.String(),
        "_source_row": pl.Int64(),
        "_file_sha256": pl.String(),
        "_loaded_at": pl.Datetime("us"),
    }
    return pl.DataFrame(schema=schema)


def land_file(file: ExportFile, spec: TableSpec, loaded_at: datetime) -> pl.DataFrame:
    frame = read_export_file(file.path)
    missing = [c for c in spec.required_columns if c not in frame.columns]
    if missing:
        raise ExportError(
            f"required column(s) {', '.join(missing)} of table {spec.name} not found "
            f"(columns present: {', '.join(c for c in frame.columns if c != '_source_row')})",
            file.name,
        )
    return frame.with_columns(
        pl.lit(file.name).alias("_source_file"),
        pl.lit(file.sha256).alias("_file_sha256"),
        pl.lit(loaded_at).cast(pl.Datetime("us")).alias("_loaded_at"),
    )


def land_table(files: list[ExportFile], spec: TableSpec, loaded_at: datetime) -> pl.DataFrame:
    """Every row of every file of one table; columns are the union over the files."""
    frames = [land_file(f, spec, loaded_at) for f in files]
    if not frames:
        return empty_raw(spec)
    landed = pl.concat([empty_raw(spec), *frames], how="diagonal")
    ordered = [c for c in landed.columns if c not in LINEAGE_COLUMNS] + list(LINEAGE_COLUMNS)
    return landed.select(ordered)
