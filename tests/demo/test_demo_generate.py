"""generate(): determinism, linear growth with scale, re-runs into a folder, and the CLI."""

from __future__ import annotations

import json
from datetime import date

import polars as pl

from models.demo import generate
from models.demo.__main__ import main


def _files(folder) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path):
    generate(tmp_path / "a", seed=3, scale=0.3)
    generate(tmp_path / "b", seed=3, scale=0.3)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys() and "_truth/match_steps.parquet" in a
    assert all(a[k] == b[k] for k in a)


def test_different_seed_gives_different_data(tmp_path):
    generate(tmp_path / "a", seed=3, scale=0.3)
    generate(tmp_path / "b", seed=4, scale=0.3)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    for name in ("matches.csv", "participants.csv", "meetings_2025.csv", "outcomes.csv"):
        assert a[name] != b[name], name


def test_rows_grow_linearly_with_scale(tmp_path):
    counts = {}
    for scale in (0.5, 1.0, 2.0):
        m = generate(tmp_path / str(scale), seed=5, scale=scale, bad_rows=False, write_truth=False)
        files = m["files"]
        counts[scale] = {
            "matches": files["matches.csv"],
            "participants": files["participants.csv"],
            "meetings": sum(v for k, v in files.items() if k.startswith("meetings")),
            "activities": files["activities.csv"],
            "survey_responses": files["survey_responses.csv"],
            "outcomes": files["outcomes.csv"],
        }
        assert files["programs.csv"] == max(3, round(3 * scale))
    assert [counts[s]["matches"] for s in (0.5, 1.0, 2.0)] == [1000, 2000, 4000]
    for table in counts[1.0]:
        for lo, hi in ((0.5, 1.0), (1.0, 2.0)):
            ratio = counts[hi][table] / counts[lo][table]
            assert 1.8 <= ratio <= 2.2, (table, lo, hi, ratio)


def test_rerun_into_same_folder_leaves_no_stale_files(tmp_path):
    generate(tmp_path, seed=1, scale=0.2, as_of=date(2027, 6, 30))
    assert (tmp_path / "meetings_2027.csv").exists()
    manifest = generate(tmp_path, seed=1, scale=0.2)
    written = {p.name for p in tmp_path.glob("*.csv")}
    assert written == set(manifest["files"])
    assert "meetings_2027.csv" not in written


def test_nothing_after_as_of_at_another_as_of(tmp_path):
    as_of = date(2025, 12, 31)
    m = generate(tmp_path, seed=2, scale=0.3, as_of=as_of, bad_rows=False, write_truth=False)
    assert max(k for k in m["files"] if k.startswith("meetings")) == "meetings_2025.csv"
    acts = pl.read_csv(tmp_path / "activities.csv", infer_schema=False)
    assert acts["occurred_at"].str.slice(0, 10).max() <= as_of.isoformat()


def test_cli_writes_an_export(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--seed", "9", "--scale", "0.05"]) == 0
    manifest = json.loads((tmp_path / "demo_manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 9 and manifest["scale"] == 0.05
    assert manifest["files"]["matches.csv"] == 100 + 6  # 100 good matches, 6 bad ones
    assert len(manifest["bad_rows"]) == 23
    assert "matches.csv" in capsys.readouterr().out
