"""Group a run's Dagster steps into the pipeline's stages, and time each stage.

A stage is an asset group (ingest, core, quality, metrics, models, reports, publish); the
validation checks (Great Expectations suites) are steps of their own and form the
`validation` stage. Step windows come from the run's event log (STEP_START to
STEP_SUCCESS or STEP_FAILURE timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass

# Pipeline order, for the table. `startup` is the process start (imports, definitions) up
# to the first step; `teardown` is the last step's end to the process's exit.
STAGES = (
    "startup",
    "ingest",
    "core",
    "validation",
    "quality",
    "metrics",
    "models",
    "reports",
    "publish",
    "teardown",
)


@dataclass(frozen=True)
class StepWindow:
    step: str
    stage: str
    start: float
    end: float | None  # None: still running when the log was read (the worker died)
    success: bool


def step_stages(defs) -> dict[str, str]:
    """Step key (op name) -> stage, from the Definitions the run executed."""
    import dagster as dg

    out: dict[str, str] = {}
    for asset in defs.assets or []:
        if isinstance(asset, dg.AssetsDefinition):
            groups = set(asset.group_names_by_key.values())
            if asset.op.name and groups:
                out[asset.op.name] = sorted(groups)[0]
    for check in defs.asset_checks or []:
        out[check.op.name] = "validation"
    return out


def step_windows(
    instance, run_id: str, stages: dict[str, str], *, unfinished: bool = False
) -> list[StepWindow]:
    """One window per step of the run, from its event log; with `unfinished`, also the
    steps that started and never ended (end None)."""
    starts: dict[str, float] = {}
    windows: list[StepWindow] = []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or record.step_key is None:
            continue
        kind = event.event_type_value
        if kind == "STEP_START":
            starts[record.step_key] = record.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and record.step_key in starts:
            windows.append(
                StepWindow(
                    step=record.step_key,
                    stage=stages.get(record.step_key, "other"),
                    start=starts[record.step_key],
                    end=record.timestamp,
                    success=kind == "STEP_SUCCESS",
                )
            )
            del starts[record.step_key]
    if unfinished:
        for step, start in starts.items():
            windows.append(StepWindow(step, stages.get(step, "other"), start, None, False))
    return windows
