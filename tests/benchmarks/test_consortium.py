"""The consortium presets: scales, cache folders and the generated shape (nothing timed)."""

from __future__ import annotations

import json

import pytest

from benchmarks import runner
from benchmarks.__main__ import main
from benchmarks.runner import CONSORTIUM, Shape, consortium_scale, ensure_program, program_summary


def test_consortium_is_issue_9s_program() -> None:
    assert consortium_scale() * runner.MATCHES_PER_SCALE == 1_000_000
    assert consortium_scale(0.01) == pytest.approx(5.0)
    assert CONSORTIUM.programs == 300 and CONSORTIUM.meetings_per_match == 10.0


def test_plain_demo_keeps_its_cache_folder() -> None:
    """Programs cached before the shape options existed are found under the same name."""
    assert runner.program_dir(10.0, 7).name == "scale-10-seed-7"
    assert runner.program_dir(5.0, 7, CONSORTIUM).name == "scale-5-programs-300-mpm-10-seed-7"


def test_generated_program_has_the_shape(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(runner, "CACHE", tmp_path)
    folder, files = ensure_program(0.25, 3, shape=Shape(programs=8, meetings_per_match=7.0))
    summary = program_summary(folder)
    assert summary["matches"] == 500 and summary["programs"] == 8
    assert summary["meetings"] / summary["matches"] == pytest.approx(7.0, abs=0.6)
    assert summary["rows"] == files
    assert summary["bytes"]["matches.csv"] == (folder / "matches.csv").stat().st_size


def test_cli_generate_only_and_refuses_mixed_options(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(runner, "CACHE", tmp_path)
    assert main(["--scales", "0.1", "--programs", "4", "--generate-only"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["programs"] == 4 and printed["matches"] == 200
    with pytest.raises(SystemExit):
        main(["--consortium", "0.01", "--programs", "4", "--generate-only"])
