"""Progress of a CLI run per stage, driven by the Dagster run's own events.

``PipelineRun.execute`` registers ``RunProgress.on_event`` with the instance
(``DagsterInstance.add_event_listener``): the in-process executor stores every event through
the instance, which calls its listeners synchronously, so the display follows the run step by
step without polling. On a terminal it is a rich progress display (one bar per stage with
steps done/total); otherwise (CI logs, a pipe) one plain line per finished step. It writes to
standard error, so standard output holds only the summary.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# The stages in the order a run reaches them (docs/architecture.md); the asset group names.
STAGES = ("ingest", "core", "quality", "metrics", "models", "reports", "publish")
CHECKS_STAGE = "quality"  # an op with only asset checks (validate_<table>) validates data
DONE = {"STEP_SUCCESS": "ok", "STEP_FAILURE": "FAILED", "STEP_SKIPPED": "skipped"}


def stage_of(groups: Iterable[str]) -> str:
    """The stage of an op from the asset groups it materialises (none: checks only)."""
    found = sorted(set(groups), key=lambda g: STAGES.index(g) if g in STAGES else len(STAGES))
    return found[0] if found else CHECKS_STAGE


def step_stages(defs: Any, job: Any) -> dict[str, str]:
    """Stage per step of `job` (a step key is its op's name: the job's ops are top-level)."""
    by_op = {
        assets_def.node_def.name: stage_of(assets_def.group_names_by_key.values())
        for assets_def in defs.resolve_asset_graph().assets_defs
    }
    return {node.name: by_op.get(node.name, CHECKS_STAGE) for node in job.nodes}


class RunProgress:
    """Steps done/total per stage while a run executes; `live` None: rich when a terminal."""

    def __init__(
        self, stages: Mapping[str, str], *, live: bool | None = None, file: IO[str] | None = None
    ) -> None:
        self.stages = dict(stages)
        self.file = file or sys.stderr
        self.console = Console(file=self.file)
        self.live = self.console.is_terminal if live is None else live
        self.total = len(self.stages)
        self.order = [s for s in STAGES if s in self.stages.values()]
        self.order += sorted(set(self.stages.values()) - set(self.order))
        self.per_stage = {s: sum(1 for v in self.stages.values() if v == s) for s in self.order}
        self.done: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> RunProgress:
        if self.live:
            self._progress = Progress(
                TextColumn("{task.fields[stage]:<8}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.description}", style="dim"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            for stage in self.order:
                self._tasks[stage] = self._progress.add_task(
                    "", total=self.per_stage[stage], stage=stage, start=False
                )
        else:
            self._line(f"Running {self.total} steps in {len(self.order)} stages: "
                       + ", ".join(self.order))  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            for stage in self.order:
                left = self.per_stage[stage] - self._done_in(stage)
                if left:
                    self._progress.update(self._tasks[stage], description=f"{left} not run")
            self._progress.stop()
        elif len(self.done) < self.total:
            self._line(f"{self.total - len(self.done)} step(s) not run")

    def _done_in(self, stage: str) -> int:
        return sum(1 for key in self.done if self.stages.get(key) == stage)

    def _line(self, text: str) -> None:
        print(text, file=self.file, flush=True)

    def on_event(self, entry: Any) -> None:
        """An instance event listener: counts STEP_START and the step's end."""
        event = entry.dagster_event
        key = entry.step_key
        if event is None or key is None or key not in self.stages:
            return
        kind = event.event_type_value
        stage = self.stages[key]
        if kind == "STEP_START":
            self.started[key] = time.monotonic()
            if self._progress is not None:
                self._progress.start_task(self._tasks[stage])
                self._progress.update(self._tasks[stage], description=key)
            return
        if kind not in DONE or key in self.done:
            return
        self.done[key] = DONE[kind]
        seconds = time.monotonic() - self.started.get(key, time.monotonic())
        if self._progress is not None:
            finished = self._done_in(stage) == self.per_stage[stage]
            ok = finished and kind == "STEP_SUCCESS"
            self._progress.start_task(self._tasks[stage])
            self._progress.update(
                self._tasks[stage], advance=1, description="done" if ok else f"{key} {DONE[kind]}"
            )
            if finished:
                self._progress.stop_task(self._tasks[stage])
        else:
            width = len(str(self.total))
            self._line(
                f"[{len(self.done):>{width}}/{self.total}] {stage:<8} {key} "
                f"{DONE[kind]} ({seconds:.1f} s)"
            )
