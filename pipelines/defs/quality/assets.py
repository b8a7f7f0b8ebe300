"""Data quality: reconcile every input row per table and file (models/quality), and check it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from models.contract import load_contract
from models.quality.reconciliation import totals, unreconciled_files, write_data_quality
from pipelines.defs.keys import DATA_QUALITY, core_key


@dg.asset(
    key=DATA_QUALITY,
    deps=[core_key(t) for t in load_contract()],
    group_name="quality",
    kinds={"duckdb"},
    pool="warehouse",
    description="Per table and source file: rows read = kept + quarantined + exact duplicates.",
)
def data_quality(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        frame = write_data_quality(con)
    return dg.MaterializeResult(
        metadata={
            **totals(frame),
            "files": frame.height,
            "all_reconciled": bool(frame["reconciled"].all()),
        }
    )


@dg.asset_check(
    asset=DATA_QUALITY, blocking=True, description="read = kept + quarantined + duplicates"
)
def every_row_accounted_for(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        off = unreconciled_files(con)
    return dg.AssetCheckResult(
        passed=not off,
        severity=dg.AssetCheckSeverity.ERROR,
        description="Rows unaccounted for in: " + ", ".join(off) if off else None,
        metadata={"files_not_reconciled": len(off)},
    )
