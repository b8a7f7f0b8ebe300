"""Demo exports generated once per test session (scale 1 with bad rows, scale 2 without)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from models.demo import generate

from .independent import clean, read_all, violations

AS_OF = date(2026, 6, 30)


class Export:
    def __init__(self, folder: Path, manifest: dict) -> None:
        self.folder = folder
        self.manifest = manifest
        self.data = read_all(folder)
        self.violations = violations(self.data, AS_OF)
        self.good = clean(self.data, self.violations)
        self.truth = pl.read_parquet(folder / "_truth" / "match_steps.parquet")


@pytest.fixture(scope="session")
def export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    folder = tmp_path_factory.mktemp("demo_scale1")
    return Export(folder, generate(folder, seed=7, scale=1.0))


@pytest.fixture(scope="session")
def export2(tmp_path_factory: pytest.TempPathFactory) -> Export:
    folder = tmp_path_factory.mktemp("demo_scale2")
    return Export(folder, generate(folder, seed=11, scale=2.0, bad_rows=False))
