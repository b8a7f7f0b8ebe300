"""Tidy up after a run that was killed (SIGKILL, power loss) before it could tidy up itself.

The warehouse needs nothing: every step commits in one DuckDB transaction, and the next run
recomputes every table from the export. Dagster's instance does: the dead run still holds
its slot in the "warehouse" concurrency pool, so every later run would wait for it forever,
and its record says STARTED. The run lock tells who died: when a run gets the lock and the
note left in it says "running", its writer is gone (the kernel released its flock).
"""

from __future__ import annotations

import dagster as dg

from pipelines.run_lock import LockNote, interrupted


def recover_interrupted(instance: dg.DagsterInstance, previous: LockNote) -> str | None:
    """Free the dead run's pool slots and mark it failed; return its id (None if nothing to do).

    Idempotent: the CLI, the runner and the warehouse resource may each call it.
    """
    if not interrupted(previous) or not previous.run:
        return None
    instance.event_log_storage.free_concurrency_slots_for_run(previous.run)
    run = instance.get_run_by_id(previous.run)
    if run is not None and not run.is_finished:
        instance.report_run_failed(
            run,
            "Interrupted: the process running it died (killed or the machine stopped). "
            "The next run on this warehouse recomputed everything from the export.",
        )
    return previous.run
