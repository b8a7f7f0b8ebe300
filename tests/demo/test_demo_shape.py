"""generate()'s shape options: a fixed number of programs and a mean of meetings per match."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from models.demo import generate
from models.demo.__main__ import main
from models.demo.calibrate import meetings_mu_for
from models.demo.generator import _rng
from models.demo.params import Planted
from models.demo.programs import plan_programs


def _files(folder) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _meetings(folder) -> pl.DataFrame:
    return pl.read_csv(sorted(folder.glob("meetings_*.csv")), infer_schema=False)


def test_programs_option_at_the_default_count_changes_no_row(tmp_path):
    """The option only replaces the count: the same count gives the same draws and rows."""
    generate(tmp_path / "a", seed=3, scale=0.5)
    manifest = generate(tmp_path / "b", seed=3, scale=0.5, n_programs=3)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == ["demo_manifest.json"]
    assert manifest["shape"] == {"programs": 3}


def test_programs_option_fixes_the_count_and_keeps_the_matches(tmp_path):
    m = generate(tmp_path, seed=4, scale=1.0, n_programs=40, bad_rows=False, write_truth=False)
    programs = pl.read_csv(tmp_path / "programs.csv", infer_schema=False)
    matches = pl.read_csv(tmp_path / "matches.csv", infer_schema=False)
    assert programs.height == 40 and programs["program_id"].n_unique() == 40
    assert matches.height == 2000
    # every program is a member with matches, not an empty programs.csv row
    assert set(matches["program_id"]) == set(programs["program_id"])
    assert "meetings_mu" not in m["shape"]


def test_meetings_per_match_option_gives_that_mean(tmp_path):
    m = generate(
        tmp_path, seed=5, scale=2.0, n_programs=30, meetings_per_match=9.0, write_truth=False
    )
    matches = pl.read_csv(tmp_path / "matches.csv", infer_schema=False)
    n_bad = sum(r["table"] == "matches" for r in m["bad_rows"])
    written = _meetings(tmp_path).filter(pl.col("match_id").is_in(matches["match_id"].implode()))
    # a handful of bad meeting rows name good matches: noise far below the tolerance
    per_match = written.height / (matches.height - n_bad)
    # 4,000 matches: the sample mean's standard error is about 0.12 at this mean
    assert per_match == pytest.approx(9.0, abs=0.4)
    assert m["shape"]["meetings_per_match"] == 9.0
    assert m["shape"]["meetings_mu"] > Planted().process.meetings_mu
    assert m["realised"]["meetings_per_match"] == pytest.approx(per_match, abs=0.01)


def test_calibration_matches_the_default_process():
    """At the default's own realised mean the solved mu is the default's (about 6)."""
    p = Planted()
    programs = plan_programs(_rng(7, 0), 50.0, date(2026, 6, 30), p)
    mu = meetings_mu_for(5.05, programs, p, seed=7)
    assert mu == pytest.approx(p.process.meetings_mu, rel=0.1)
    assert meetings_mu_for(8.0, programs, p, seed=7) > mu


def test_unreachable_mean_and_too_many_programs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot be reached"):
        generate(tmp_path, seed=1, scale=0.2, meetings_per_match=40.0)
    with pytest.raises(ValueError, match="too few"):
        generate(tmp_path, seed=1, scale=0.01, n_programs=50)
    with pytest.raises(ValueError, match="at least 3"):
        generate(tmp_path, seed=1, scale=0.2, n_programs=2)


def test_cli_options(tmp_path, capsys):
    argv = ["--out", str(tmp_path), "--scale", "0.5", "--programs", "12"]
    assert main([*argv, "--meetings-per-match", "7", "--no-truth"]) == 0
    out = capsys.readouterr().out
    assert "programs 12" in out and "meetings_per_match 7" in out
    programs = pl.read_csv(tmp_path / "programs.csv", infer_schema=False)
    assert programs.filter(pl.col("setting") != "startup").height == 12
    assert np.isfinite(float(out.split("meetings_mu ")[1].split(";")[0]))
