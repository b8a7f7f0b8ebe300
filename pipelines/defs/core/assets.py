"""Core stage: typed, validated, de-duplicated tables; everything else to quarantine."""

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from models.contract import TableSpec, load_contract
from models.ingest.rules import RowContext, apply_row_rules
from models.ingest.scales import item_scales
from models.warehouse import read_table, replace_rows, replace_table
from pipelines.defs.ingest.assets import raw_key
from pipelines.resources import ExportFolder

CONTRACT = load_contract()


def core_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["core", CONTRACT[table].core_name])


def _context(con: duckdb.DuckDBPyConnection, spec: TableSpec, export: ExportFolder) -> RowContext:
    ctx = RowContext(as_of=export.as_of_date, item_scales=item_scales())
    for col in spec.columns:
        if col.references:
            parent, key = col.references
            ctx.parent_keys[f"{parent}.{key}"] = con.sql(
                f"SELECT {key} FROM core.{CONTRACT[parent].core_name}"
            ).pl()[key]
        if col.not_before_match_days is not None:
            ctx.match_dates = con.sql("SELECT match_id, matched_on FROM core.matches").pl()
        if col.role:
            ctx.participant_roles = con.sql(
                "SELECT participant_id, role FROM core.participants"
            ).pl()
    return ctx


def _restricted(kept: pl.DataFrame, spec: TableSpec) -> pl.DataFrame | None:
    extra = spec.restricted_columns + [c for c in kept.columns if c.endswith("_raw")]
    if not extra:
        return None
    return kept.select(spec.key[0], *extra)


def build_core_asset(table: str) -> dg.AssetsDefinition:
    spec = CONTRACT[table]

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
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, export: ExportFolder
    ) -> dg.MaterializeResult:
        with warehouse.get_connection() as con:
            raw = read_table(con, f"raw.{table}")
            outcome = apply_row_rules(raw, spec, _context(con, spec, export))
            public = [
                c
                for c in outcome.kept.columns
                if c not in spec.restricted_columns and not c.endswith("_raw")
            ]
            con.execute("BEGIN TRANSACTION")
            replace_table(con, f"core.{spec.core_name}", outcome.kept.select(public))
            restricted = _restricted(outcome.kept, spec)
            if restricted is not None:
                replace_table(con, f"restricted.{spec.core_name}", restricted)
            run = pl.lit(context.run_id).alias("run_id")
            replace_rows(
                con,
                "quarantine.rejected_rows",
                outcome.rejected.with_columns(run),
                "table_name = ?",
                [table],
            )
            replace_rows(
                con,
                "quarantine.duplicate_rows",
                outcome.duplicates.with_columns(run),
                "table_name = ?",
                [table],
            )
            con.execute("COMMIT")
        by_rule = outcome.rejected.group_by("rule").len().sort("len", descending=True)
        return dg.MaterializeResult(
            metadata={
                "rows_read": raw.height,
                "rows_kept": outcome.kept.height,
                "rows_quarantined": outcome.rejected.height,
                "rows_duplicate": outcome.duplicates.height,
                "quarantined_by_rule": dg.MetadataValue.json(
                    {r["rule"]: r["len"] for r in by_rule.iter_rows(named=True)}
                ),
                "quarantine_preview": dg.MetadataValue.md(
                    "\n".join(f"- {r}" for r in outcome.rejected["reason"].head(10)) or "(none)"
                ),
                "dagster/row_count": outcome.kept.height,
            }
        )

    return _core


core_assets = [build_core_asset(t) for t in CONTRACT]
