"""One program folder as received, partitioned by program: what the evaluator dropped.

Materialising a partition checks the folder before anything lands: mapping.yaml loads and fits
(a bad key fails here, naming the file and the key), and every file is assigned to a table,
a survey, a calendar, or listed as not read. It writes nothing to the warehouse; the landing
step that follows in the same ``refresh_program`` run does.
"""

import dagster as dg

from models.adapters.mapping import MappingError
from models.contract import load_contract
from models.ingest.errors import ExportError
from models.ingest.sources import find_programs, plan_program
from pipelines.defs.keys import INBOX_PROGRAM
from pipelines.defs.operations.partitions import programs
from pipelines.resources import RunConfig


def _files_table(plan) -> str:
    lines = ["| file | becomes | as |", "|---|---|---|"]
    for f in plan.files:
        how = {
            "table": "table file",
            "survey": "survey export",
            "calendar": "calendar",
            "unmapped_survey": f"{f.source} export without a surveys entry (rejected)",
        }[f.kind]
        lines.append(f"| {f.name} | {f.table} | {how} |")
    lines += [f"| {name} | (not read) | |" for name in plan.ignored]
    return "\n".join(lines)


@dg.asset(
    key=INBOX_PROGRAM,
    partitions_def=programs,
    group_name="inbox",
    kinds={"python"},
    description="A program folder of the inbox as received: its mapping.yaml checked and each "
    "file assigned to a table, survey or calendar. Partitioned by program.",
)
def inbox_program(context: dg.AssetExecutionContext, export: RunConfig) -> dg.MaterializeResult:
    key = context.partition_key
    try:
        found = [p for p in find_programs(export.data_path, load_contract()) if p.key == key]
        if not found:
            return dg.MaterializeResult(
                metadata={"folder": "(gone: this run removes the program's rows)", "files": 0}
            )
        plan = plan_program(found[0], load_contract())
    except (ExportError, MappingError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    by_table: dict[str, int] = {}
    for f in plan.files:
        by_table[f.table] = by_table.get(f.table, 0) + 1
    return dg.MaterializeResult(
        metadata={
            "folder": str(found[0].folder),
            "mapping": str(plan.mapping.source) if plan.mapping else "(none)",
            "files": len(plan.files),
            "files_by_table": dg.MetadataValue.json(by_table),
            "not_read": dg.MetadataValue.json(plan.ignored),
            "plan": dg.MetadataValue.md(_files_table(plan)),
        }
    )
