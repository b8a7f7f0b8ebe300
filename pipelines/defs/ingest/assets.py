"""Ingest stage: land every export file as text rows in ``raw``, with lineage."""

from datetime import datetime

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from models.contract import load_contract
from models.ingest.discover import discover
from models.ingest.errors import ExportError
from models.ingest.land import land_table
from models.warehouse import apply_schema, replace_rows, replace_table
from pipelines.resources import ExportFolder

CONTRACT = load_contract()


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key(t),
            group_name="ingest",
            kinds={"duckdb"},
            description=f"Every row of the export's {t} files as landed (text), with "
            "_source_file, _source_row, _file_sha256 and _loaded_at.",
        )
        for t in CONTRACT
    ],
    pool="warehouse",
)
def landed_exports(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, export: ExportFolder
):
    """Read the export folder; fail with one clear message when it cannot be used."""
    loaded_at = datetime.now().replace(microsecond=0)
    try:
        files = discover(export.path, CONTRACT)
    except ExportError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    absent = [t for t, found in files.items() if not found]
    counts: dict[str, pl.DataFrame] = {}
    with warehouse.get_connection() as con:
        apply_schema(con)
        con.execute("BEGIN TRANSACTION")
        try:
            for table, spec in CONTRACT.items():
                frame = land_table(files[table], spec, loaded_at)
                replace_table(con, f"raw.{table}", frame)
                counts[table] = frame.group_by("_source_file", "_file_sha256").len()
                ledger = counts[table].select(
                    pl.lit(table).alias("table_name"),
                    pl.col("_source_file").alias("source_file"),
                    pl.col("_file_sha256").alias("file_sha256"),
                    pl.col("len").cast(pl.Int64).alias("rows_read"),
                    pl.lit(loaded_at).cast(pl.Datetime("us")).alias("loaded_at"),
                    pl.lit(context.run_id).alias("run_id"),
                )
                replace_rows(con, "raw.file_ledger", ledger, "table_name = ?", [table])
                del frame
            con.execute("COMMIT")
        except ExportError as exc:
            con.execute("ROLLBACK")
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except BaseException:
            con.execute("ROLLBACK")
            raise
    if absent:
        context.log.info("Optional tables absent from the export: " + ", ".join(absent))
    for table in CONTRACT:
        per_file = counts[table]
        yield dg.MaterializeResult(
            asset_key=raw_key(table),
            metadata={
                "rows_read": int(per_file["len"].sum()) if per_file.height else 0,
                "files": dg.MetadataValue.json(
                    {r["_source_file"]: r["len"] for r in per_file.iter_rows(named=True)}
                ),
                "absent": table in absent,
            },
        )
