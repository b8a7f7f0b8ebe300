"""One real pipeline run (ingest -> core -> quality -> publish) shared by the publish tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.runner import RunReport, run_pipeline
from pipelines.settings import RunSettings

from .export import Export, write_export

KEY = hashlib.sha256(b"mentorscope publish tests").digest()
OTHER_KEY = hashlib.sha256(b"a rotated key").digest()
AS_OF = dt.date(2025, 1, 1)


@dataclass
class Published:
    export: Export
    warehouse: Path
    research: Path
    report: RunReport

    @property
    def snapshot(self) -> Path:
        return self.research / "research.duckdb"


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """A fresh read-only connection per call, closed at once (no cached, stale instance)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    root = tmp_path_factory.mktemp("publish")
    export = write_export(root / "export")
    settings = RunSettings(
        data_dir=export.folder,
        warehouse=root / "warehouse" / "mentorscope.duckdb",
        reports_dir=root / "reports",
        as_of=AS_OF,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MENTORSCOPE_PSEUDONYM_KEY", KEY.hex())
        mp.delenv("MENTORSCOPE_RESEARCH_DIR", raising=False)
        mp.setenv("DAGSTER_TELEMETRY_DISABLED", "1")
        with dg.DagsterInstance.ephemeral() as instance:
            report = run_pipeline(settings, instance=instance)
    assert report.success, report.errors
    return Published(export, settings.warehouse, settings.warehouse.parent / "research", report)
