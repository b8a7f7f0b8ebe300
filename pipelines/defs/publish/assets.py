"""Publish stage: the pseudonymised research snapshot researchers query while runs go on."""

import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from models.publish import load_key, publish_with_connection, research_dir
from models.publish.keys import NewPseudonymKeyWarning, PseudonymKeyWarning
from models.publish.snapshot import SNAPSHOT_FILE
from pipelines.defs.keys import RESEARCH_SNAPSHOT
from pipelines.resources import RunConfig

# The snapshot waits for every asset of these groups, so a new metrics asset becomes a
# dependency (and its blocking checks a gate) without editing this file.
UPSTREAM_GROUPS = ("core", "metrics", "quality", "models")


def upstream_keys(assets: Iterable[dg.AssetsDefinition | dg.AssetSpec]) -> list[dg.AssetKey]:
    keys: list[dg.AssetKey] = []
    for asset in assets:
        specs = asset.specs if isinstance(asset, dg.AssetsDefinition) else [asset]
        keys += [s.key for s in specs if s.group_name in UPSTREAM_GROUPS and s.key not in keys]
    return keys


def _load_key_and_tell(context: dg.AssetExecutionContext, out_dir: Path) -> tuple[bytes, bool]:
    """(the key, whether it was just created). The key's warnings (a new key, a key file others
    can read) go to stderr, where the CLI's user sees them, and to the run's event log."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PseudonymKeyWarning)
        # The snapshot this run replaces: no new key may silently replace the one it used.
        key = load_key(forbidden_dirs=[out_dir], published=out_dir / SNAPSHOT_FILE)
    created = False
    for warning in caught:
        if not issubclass(warning.category, PseudonymKeyWarning):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
            continue
        created = created or issubclass(warning.category, NewPseudonymKeyWarning)
        context.log.warning(str(warning.message))
        print(f"Warning: {warning.message}", file=sys.stderr, flush=True)
    return key, created


def build_research_snapshot(
    upstream: Iterable[dg.AssetsDefinition | dg.AssetSpec],
) -> dg.AssetsDefinition:
    """The publish asset, depending on every asset of `upstream` in the core, metrics and
    quality groups. Dagster skips it when a blocking check of any of them failed."""

    @dg.asset(
        key=RESEARCH_SNAPSHOT,
        deps=upstream_keys(upstream),
        group_name="publish",
        kinds={"duckdb", "parquet"},
        pool="warehouse",
        description="research.duckdb and parquet/ beside the warehouse (research/): core and "
        "metrics without names, emails or free text, participant and record ids replaced by "
        "keyed pseudonyms, every table and column documented. Swapped in atomically.",
    )
    def research_snapshot(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, export: RunConfig
    ) -> dg.MaterializeResult:
        out_dir = research_dir(Path(warehouse.database))
        key, key_created = _load_key_and_tell(context, out_dir)
        run_info = {"as_of": export.as_of_date, "run_id": context.run_id}
        with warehouse.get_connection() as con:
            result = publish_with_connection(con, out_dir, key, run_info)
        withheld = result.withheld_tables + result.withheld_columns
        if withheld:
            context.log.warning(
                "Not published because models/publish/catalog.yaml does not describe them: "
                + ", ".join(withheld)
            )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "parquet": dg.MetadataValue.path(str(result.parquet_dir)),
                "snapshot_id": result.snapshot_id,
                "key_fingerprint": result.key_fingerprint,
                "key_created": key_created,
                "rows": dg.MetadataValue.json(result.rows),
                "withheld": dg.MetadataValue.json(withheld),
                "seconds": round(result.seconds, 2),
            }
        )

    return research_snapshot
