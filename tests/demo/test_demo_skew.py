"""generate()'s skew option: the spread of program sizes (issue 20's skewed consortium)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import pytest

from models.demo import generate
from models.demo.__main__ import main
from models.demo.generator import _rng
from models.demo.params import Planted
from models.demo.programs import plan_programs


def _files(folder) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _sizes(sigma: float, n_programs: int = 300, scale: float = 500.0) -> np.ndarray:
    p = Planted()
    p = replace(p, population=replace(p.population, program_size_sigma=sigma))
    return plan_programs(_rng(11, 0), scale, date(2026, 6, 30), p, n_programs).n_matches


def test_skew_at_the_default_sigma_changes_no_row(tmp_path):
    """The option only replaces the sigma: the default's value gives the default's bytes."""
    generate(tmp_path / "a", seed=3, scale=0.5)
    sigma = Planted().population.program_size_sigma
    manifest = generate(tmp_path / "b", seed=3, scale=0.5, skew=sigma)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == ["demo_manifest.json"]
    assert manifest["shape"] == {"skew": 0.5}


def test_skew_spreads_the_sizes_keeping_total_and_order():
    even, skewed = _sizes(0.5), _sizes(1.5)
    assert even.sum() == skewed.sum() == 1_000_000
    # the same normal draws, a larger sigma: the same programs are large, only more so (the
    # order by size is kept, up to ties from rounding to whole matches)
    order = np.lexsort((skewed, even))
    assert (np.diff(skewed[order]) >= 0).all()
    assert skewed.max() / np.median(skewed) > 3 * even.max() / np.median(even)
    # the consortium shape the option is for: one program with several percent of all
    # matches, and some programs fifty times smaller than the median
    assert skewed.max() > 0.04 * skewed.sum()
    assert skewed.min() * 50 < np.median(skewed)
    assert skewed.min() >= 1


def test_skew_is_a_sigma_and_a_too_wide_spread_is_refused(tmp_path):
    with pytest.raises(ValueError, match="0 or more"):
        generate(tmp_path, seed=1, scale=0.2, skew=-1.0)
    # so wide that a program of a fixed-count consortium gets no match at all
    with pytest.raises(ValueError, match="too few"):
        generate(tmp_path, seed=1, scale=0.5, n_programs=60, skew=4.0)


def test_cli_skew(tmp_path, capsys):
    argv = ["--out", str(tmp_path), "--scale", "2", "--programs", "20", "--skew", "1.5"]
    assert main([*argv, "--no-truth", "--no-bad-rows"]) == 0
    assert "skew 1.5" in capsys.readouterr().out
    matches = pl.read_csv(tmp_path / "matches.csv", infer_schema=False)
    per_program = matches.group_by("program_id").len()["len"].to_numpy()
    assert per_program.sum() == 4000 and per_program.size == 20
    assert per_program.max() > 4 * np.median(per_program)
