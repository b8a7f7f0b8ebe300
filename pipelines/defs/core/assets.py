"""Core stage: typed, validated, de-duplicated tables; everything else to quarantine."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from models.contract import load_contract
from models.ingest.builds import build_core_table
from pipelines.defs.keys import core_key, raw_key
from pipelines.resources import RunConfig


def build_core_asset(table: str) -> dg.AssetsDefinition:
    spec = load_contract()[table]

    @dg.asset(
        key=core_key(table),
        deps=[raw_key(table), *[core_key(p) for p in spec.parents]],
        group_name="core",
        kinds={"duckdb", "polars"},
        pool="warehouse",
        description=f"{spec.core_name}: typed and validated rows of the export's {table}, "
        "without direct identifiers. Rows breaking a rule go to quarantine.rejected_rows.",
    )
    def _core(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, export: RunConfig
    ) -> dg.MaterializeResult:
        with warehouse.get_connection() as con:
            outcome = build_core_table(
                con, spec, load_contract(), export.as_of_date, context.run_id
            )
        if outcome.kept_from_last_run:
            context.log.info(f"{table}: nothing it is built from changed; the table is kept")
        elif outcome.appended_from:
            context.log.info(f"{table}: only rows were added; the new rows were checked")
        elif outcome.append_refused:
            context.log.info(f"{table}: every row checked again ({outcome.append_refused})")
        return dg.MaterializeResult(
            metadata={
                "rows_read": outcome.rows_read,
                "rows_kept": outcome.rows_kept,
                "rows_quarantined": outcome.rows_quarantined,
                "rows_duplicate": outcome.rows_duplicate,
                "quarantined_by_rule": dg.MetadataValue.json(outcome.by_rule),
                "quarantine_preview": dg.MetadataValue.md(
                    "\n".join(f"- {r}" for r in outcome.preview) or "(none)"
                ),
                "dagster/row_count": outcome.rows_kept,
                "rebuilt": not outcome.kept_from_last_run,
                "grown_from_run": outcome.appended_from or "",
            }
        )

    return _core


core_assets = [build_core_asset(t) for t in load_contract()]
