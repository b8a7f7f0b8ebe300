"""Resources: the warehouse connection and the run's export folder and as-of date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.locked_warehouse import LockedDuckDBResource
from pipelines.settings import RunSettings


class ExportFolder(dg.ConfigurableResource):
    """The program export folder a run reads, the reports folder and the as-of date."""

    data_dir: str
    reports_dir: str
    as_of: str  # ISO date: nothing dated after it is accepted

    @property
    def path(self) -> Path:
        return Path(self.data_dir)

    @property
    def reports_path(self) -> Path:
        return Path(self.reports_dir)

    @property
    def as_of_date(self) -> date:
        return date.fromisoformat(self.as_of)


def build_resources(settings: RunSettings) -> dict[str, dg.ConfigurableResource]:
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return {
        # Holds the run lock for the whole run: no two runs interleave their writes.
        "warehouse": LockedDuckDBResource(database=str(settings.warehouse)),
        "export": ExportFolder(
            data_dir=str(settings.data_dir),
            reports_dir=str(settings.reports_dir),
            as_of=settings.as_of.isoformat(),
        ),
    }
