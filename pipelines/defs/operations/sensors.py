"""The inbox sensor: a new or changed program folder triggers a run for that program.

Each tick lists the program folders of the data root and hashes every file's path, size and
modification time (no file is read). A folder whose hash differs from the last run request's
gets its program partition (added when new) and one ``refresh_program`` run; the run's landing
reads only the files whose content changed. A folder modified in the last SETTLE_SECONDS is
left for the next tick, so a file still being copied is not read half-written. A program
folder that disappears loses its partition and triggers one ``full_run``, which removes its
rows.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import date

import dagster as dg

from models.contract import load_contract
from models.ingest.errors import ExportError
from models.ingest.sources import find_programs, folder_signature
from pipelines.defs.jobs import full_run, refresh_program
from pipelines.defs.operations.partitions import PROGRAMS
from pipelines.defs.operations.schedules import as_of_for
from pipelines.recovery import recover_dead_runs
from pipelines.resources import RunConfig

SETTLE_SECONDS = 10.0
INTERVAL_SECONDS = 30


def _cursor(text: str | None) -> dict[str, str]:
    try:
        state = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    programs = state.get("programs", {}) if isinstance(state, dict) else {}
    return {str(k): str(v) for k, v in programs.items()} if isinstance(programs, dict) else {}


@dg.sensor(
    jobs=[refresh_program, full_run],
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Watches the data root's program folders (data/inbox/<program>/): a new or "
    "changed folder adds its program partition and launches refresh_program for it; a "
    "removed folder launches full_run.",
)
def inbox_sensor(
    context: dg.SensorEvaluationContext, export: RunConfig
) -> dg.SensorResult | dg.SkipReason:
    # A run killed since the last tick must not keep its pool slot: the runs this tick asks
    # for would queue behind it forever (pipelines/recovery.py; idempotent, cheap).
    recover_dead_runs(context.instance)
    root = export.data_path
    if not root.is_dir():
        return dg.SkipReason(f"the data root {root} does not exist yet")
    try:
        found = find_programs(root, load_contract())
    except ExportError as exc:
        return dg.SkipReason(str(exc))
    seen = _cursor(context.cursor)
    now = time.time()
    run_config = export.with_as_of(as_of_for(date.today()))
    state: dict[str, str] = {}
    requests: list[dg.RunRequest] = []
    settling: list[str] = []
    for program in found:
        signature, newest = folder_signature(program.folder)
        if signature == seen.get(program.key):
            state[program.key] = signature
            continue
        if now - newest < SETTLE_SECONDS:
            settling.append(program.key)
            if program.key in seen:
                state[program.key] = seen[program.key]
            continue
        state[program.key] = signature
        requests.append(
            dg.RunRequest(
                job_name=refresh_program.name,
                partition_key=program.key,
                run_key=f"{program.key}:{signature[:16]}",
                run_config=run_config,
                tags={"mentorscope/trigger": "inbox", "mentorscope/program": program.key},
            )
        )

    keys = {p.key for p in found}
    existing = set(context.instance.get_dynamic_partitions(PROGRAMS))
    partition_requests: list = []
    if keys - existing:
        partition_requests.append(dg.AddDynamicPartitionsRequest(PROGRAMS, sorted(keys - existing)))
    if existing - keys:
        partition_requests.append(
            dg.DeleteDynamicPartitionsRequest(PROGRAMS, sorted(existing - keys))
        )
    gone = sorted((existing | set(seen)) - keys)
    if gone:
        tag = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
        requests.append(
            dg.RunRequest(
                job_name=full_run.name,
                run_key=f"removed:{','.join(gone)}:{tag}",
                run_config=run_config,
                tags={"mentorscope/trigger": "inbox", "mentorscope/removed": ",".join(gone)},
            )
        )
    skip = None
    if not requests:
        skip = f"no change in {len(found)} program folder(s)" + (
            f"; waiting for {', '.join(settling)} to settle" if settling else ""
        )
    return dg.SensorResult(
        run_requests=requests,
        skip_reason=skip,
        cursor=json.dumps({"programs": state}, sort_keys=True),
        dynamic_partitions_requests=partition_requests,
    )


sensors = [inbox_sensor]
