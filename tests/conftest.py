"""Session-wide fixtures: one real pipeline run over a generated demo program.

Many tests (reconciliation, metrics agreement, model recovery, reports in a browser)
read the same materialised warehouse, so the graph runs once per test session.
"""

from __future__ import annotations

import os

# As pipelines/__init__.py does for real runs: one BLAS thread, set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from hypothesis import settings as hypothesis_settings

from models.demo.generator import generate
from pipelines.runner import RunReport, run_pipeline
from pipelines.settings import RunSettings

# The order and grouping of tests across the two workers (scripts/test.sh).
pytest_plugins = ["tests.scheduling"]

DEMO_AS_OF = date(2026, 6, 30)
DEMO_KEY = hashlib.sha256(b"mentorscope test suite key").hexdigest()

# Property tests check behaviour, not speed: a shared 2-core CI machine must not fail them.
# In CI the examples are the same in every run (a change, not a lucky draw, turns CI red);
# on a developer's machine every run draws new ones, which is how the mixed-encoding case of
# test_parser_properties was found.
hypothesis_settings.register_profile(
    "mentorscope", deadline=None, derandomize=os.environ.get("CI", "").lower() == "true"
)
hypothesis_settings.load_profile("mentorscope")

os.environ.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@dataclass
class DemoRun:
    export: Path
    manifest: dict
    settings: RunSettings
    report: RunReport

    @property
    def warehouse(self) -> Path:
        return self.settings.warehouse

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def frame(self, sql: str):
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.sql(sql).pl()
        finally:
            con.close()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    root = tmp_path_factory.mktemp("demo")
    export = root / "export"
    generate(export, seed=11, scale=1.0, as_of=DEMO_AS_OF, bad_rows=True)
    manifest = json.loads((export / "demo_manifest.json").read_text())
    settings = RunSettings(
        data_dir=export,
        warehouse=root / "warehouse" / "mentorscope.duckdb",
        reports_dir=root / "reports",
        as_of=DEMO_AS_OF,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MENTORSCOPE_PSEUDONYM_KEY", DEMO_KEY)
        mp.setenv("MENTORSCOPE_RESEARCH_DIR", str(root / "research"))
        with dg.DagsterInstance.ephemeral() as instance:
            report = run_pipeline(settings, instance=instance)
    assert report.success, report.errors + report.failed_checks
    return DemoRun(export, manifest, settings, report)
