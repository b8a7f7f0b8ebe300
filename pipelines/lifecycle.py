"""One run on one warehouse, from taking its lock to releasing it: the run's lifecycle.

Every run goes through ``WarehouseRun.open`` exactly once, whoever launched it:

- the CLI (``pipelines.runner.open_run``) opens it before Dagster creates the run, so a
  refusal is one line and exit code 3, and hands Dagster a warehouse resource that does not
  lock (``pipelines.resources.WarehouseResource``);
- a run Dagster launched itself (the UI, a sensor, a schedule) opens it in its warehouse
  resource (``pipelines.resources.RunWarehouseResource``) when the run starts, before any step.

``start`` then makes the Dagster instance usable for the run: it frees the "warehouse" pool
slots of the run the lock note says died and of every other dead run (pipelines/recovery.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from models.validation.store import forget_run
from pipelines.recovery import Holder, recover_dead_runs, recover_interrupted
from pipelines.run_lock import LockNote, interrupted, warehouse_lock


@dataclass(frozen=True)
class WarehouseRun:
    """A run holding its warehouse's lock; `previous` is the note the last holder left."""

    warehouse: Path
    run_id: str | None
    previous: LockNote

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, warehouse: Path, *, run_id: str | None, wait: float | None
    ) -> Iterator[WarehouseRun]:
        """Take the run lock (the only place it is taken); WarehouseBusy when another run
        holds it for longer than `wait` seconds (None: as long as it takes)."""
        with warehouse_lock(Path(warehouse), wait=wait, run=run_id) as previous:
            yield cls(Path(warehouse), run_id, previous)

    @property
    def interrupted(self) -> bool:
        """The previous run on this warehouse died: this one recomputes what it materialises."""
        return interrupted(self.previous)

    def start(self, instance: dg.DagsterInstance) -> list[Holder]:
        """Free the pool slots of dead runs of `instance` and mark them failed; return them.

        The checks the interrupted run recorded are deleted: they may cover only some tables,
        and would otherwise be published with the next snapshot as if they were a run's."""
        dead = recover_interrupted(instance, self.previous)
        if dead:
            forget_run(self.warehouse, dead)
        return recover_dead_runs(instance, current=self.run_id)
