"""Data quality: reconcile every input row per table and file, and check it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from models.contract import load_contract
from models.warehouse import replace_table, sql_file
from pipelines.defs.core.assets import core_key

CONTRACT = load_contract()
DATA_QUALITY = dg.AssetKey(["metrics", "data_quality"])


def data_quality_sql() -> str:
    read = " UNION ALL ".join(
        f"SELECT '{t}' AS table_name, _source_file AS source_file, count(*) AS n "
        f"FROM raw.{t} GROUP BY ALL"
        for t in CONTRACT
    )
    kept = " UNION ALL ".join(
        f"SELECT '{t}' AS table_name, _source_file AS source_file, count(*) AS n "
        f"FROM core.{spec.core_name} GROUP BY ALL"
        for t, spec in CONTRACT.items()
    )
    return sql_file("data_quality.sql").format(read_union=read, kept_union=kept)


@dg.asset(
    key=DATA_QUALITY,
    deps=[core_key(t) for t in CONTRACT],
    group_name="quality",
    kinds={"duckdb"},
    pool="warehouse",
    description="Per table and source file: rows read = kept + quarantined + exact duplicates.",
)
def data_quality(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        frame = con.sql(data_quality_sql()).pl()
        replace_table(con, "metrics.data_quality", frame)
    totals = frame.select("rows_read", "rows_kept", "rows_quarantined", "rows_duplicate").sum()
    return dg.MaterializeResult(
        metadata={
            **{k: int(v) for k, v in totals.row(0, named=True).items()},
            "files": frame.height,
            "all_reconciled": bool(frame["reconciled"].all()),
        }
    )


@dg.asset_check(
    asset=DATA_QUALITY, blocking=True, description="read = kept + quarantined + duplicates"
)
def every_row_accounted_for(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        off = con.sql(
            "SELECT table_name, source_file FROM metrics.data_quality WHERE NOT reconciled"
        ).pl()
    return dg.AssetCheckResult(
        passed=off.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if off.height == 0
        else "Rows unaccounted for in: "
        + ", ".join(f"{r['table_name']}/{r['source_file']}" for r in off.iter_rows(named=True)),
        metadata={"files_not_reconciled": off.height},
    )
