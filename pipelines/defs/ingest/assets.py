"""Ingest stage: land every export file as text rows in ``raw``, with lineage.

Landing is incremental (models/ingest/ledger.py): files whose fingerprint is in the ledger
are not read again, changed files' rows are replaced, removed files' rows deleted. A run of
``refresh_program`` (partitioned by program) touches only that program's folder.
"""

from datetime import datetime

import dagster as dg
from dagster_duckdb import DuckDBResource

from models.adapters.mapping import MappingError
from models.contract import load_contract
from models.ingest.errors import ExportError
from models.ingest.ledger import files_per_table, land
from pipelines.defs.keys import INBOX_PROGRAM, raw_key
from pipelines.resources import RunConfig

PARTITION_TAG = "dagster/partition"


def _listing(pairs: list[tuple[str, str]], table: str) -> list[str]:
    return [name for t, name in pairs if t == table]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key(t),
            group_name="ingest",
            kinds={"duckdb"},
            deps=[INBOX_PROGRAM],
            description=f"Every row of the export's {t} files as landed (text), with "
            "_source_file, _source_row, _file_sha256 and _loaded_at; survey and calendar "
            "exports arrive here through their adapters.",
        )
        for t in load_contract()
    ],
    pool="warehouse",
)
def landed_exports(context: dg.AssetExecutionContext, warehouse: DuckDBResource, export: RunConfig):
    """Read the data root (or, in a program run, one program folder); fail with one clear
    message when it cannot be used."""
    loaded_at = datetime.now().replace(microsecond=0)
    # A refresh_program run carries its program as the run's partition; full_run has none.
    program = context.run.tags.get(PARTITION_TAG)
    with warehouse.get_connection() as con:
        try:
            report = land(
                con,
                export.data_path,
                load_contract(),
                export.as_of_date,
                loaded_at,
                context.run_id,
                program=program,
            )
        except (ExportError, MappingError) as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        per_table = {t: files_per_table(con, t) for t in load_contract()}
    absent = [t for t, files in per_table.items() if not files]
    if absent:
        context.log.info("Optional tables absent from the export: " + ", ".join(absent))
    if report.ignored:
        context.log.warning(
            "Files not read (no table, survey or calendar): " + ", ".join(report.ignored)
        )
    context.log.info(
        f"Landed {len(report.landed)} file(s), {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed" + (f" (program {program})" if program else "")
    )
    for table in load_contract():
        files = per_table[table]
        yield dg.MaterializeResult(
            asset_key=raw_key(table),
            metadata={
                "rows_read": sum(files.values()),
                "files": dg.MetadataValue.json(files),
                "absent": table in absent,
                "landed_this_run": dg.MetadataValue.json(_listing(report.landed, table)),
                "unchanged": len(_listing(report.unchanged, table)),
                "removed": dg.MetadataValue.json(_listing(report.removed, table)),
                "program": program or "(all)",
            },
        )
