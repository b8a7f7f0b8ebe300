"""Readers in other processes keep working while the snapshot is republished."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import models.publish.snapshot as snapshot_module
from models.publish import publish

from .conftest import AS_OF, KEY, Published, query

READER = Path(__file__).with_name("reader.py")


def _changed_copy(published: Published, folder: Path) -> Path:
    """The working warehouse with a third of the meetings removed: a visibly new snapshot."""
    folder.mkdir()
    copy = folder / "changed.duckdb"
    shutil.copy(published.warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute("DELETE FROM core.meetings WHERE hash(meeting_id) % 3 = 0")
    finally:
        con.close()
    return copy


def _wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)


def _snapshot_id(path: Path) -> str:
    return query(path, "SELECT snapshot_id FROM meta.snapshot_info")[0][0]


def test_readers_in_other_processes_survive_republishing(published: Published, tmp_path):
    out = tmp_path / "research"
    first = publish(published.warehouse, out, KEY, {"as_of": AS_OF})
    old_meetings = query(first.path, "SELECT count(*) FROM core.meetings")[0][0]
    changed = _changed_copy(published, tmp_path / "changed")
    stop = tmp_path / "stop"
    readers = {}
    for mode in ("hold", "reopen"):
        ready = tmp_path / f"ready-{mode}"
        readers[mode] = subprocess.Popen(
            [sys.executable, str(READER), mode, str(first.path), str(ready), str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for(ready)
    try:
        second = publish(changed, out, KEY, {"as_of": AS_OF})
        third = publish(changed, out, KEY, {"as_of": AS_OF})
        time.sleep(1.0)  # let the reopening reader query the newest snapshot a few times
    finally:
        stop.touch()
        results = {m: p.communicate(timeout=60) for m, p in readers.items()}
    reports = {}
    for mode, (stdout, stderr) in results.items():
        assert readers[mode].returncode == 0, f"{mode} reader failed: {stdout} {stderr}"
        reports[mode] = json.loads(stdout)
        assert reports[mode]["errors"] == []
        assert reports[mode]["queries"] > 3
    # The held connection reads the file it opened, whole, to the end.
    assert reports["hold"]["seen"] == {first.snapshot_id: old_meetings}
    # A reader opening afresh got the new data once it was swapped in, never a broken file.
    assert reports["reopen"]["seen"].get(third.snapshot_id) is not None
    assert set(reports["reopen"]["seen"]) <= {
        first.snapshot_id,
        second.snapshot_id,
        third.snapshot_id,
    }
    new_meetings = query(first.path, "SELECT count(*) FROM core.meetings")[0][0]
    assert _snapshot_id(first.path) == third.snapshot_id
    assert new_meetings == query(changed, "SELECT count(*) FROM core.meetings")[0][0]
    assert new_meetings < old_meetings
    # Parquet: the link points at the newest version; one previous version is kept.
    parquet = query(
        first.path,
        f"SELECT snapshot_id FROM read_parquet('{out}/parquet/meta/snapshot_info.parquet')",
    )
    assert parquet == [(third.snapshot_id,)]
    versions = sorted(p.name for p in out.glob(".parquet-*"))
    assert versions == sorted([f".parquet-{second.snapshot_id}", f".parquet-{third.snapshot_id}"])


def test_a_failed_publish_leaves_the_previous_snapshot_whole(
    published: Published, tmp_path, monkeypatch
):
    out = tmp_path / "research"
    first = publish(published.warehouse, out, KEY, {"as_of": AS_OF})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(snapshot_module, "_export_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        publish(published.warehouse, out, KEY, {"as_of": AS_OF})
    assert _snapshot_id(first.path) == first.snapshot_id
    leftovers = [p.name for p in out.iterdir() if ".tmp" in p.name or ".link-" in p.name]
    assert leftovers == []
    assert sorted(p.name for p in out.glob(".parquet-*")) == [f".parquet-{first.snapshot_id}"]


def test_two_warehouses_in_one_folder_get_their_own_research_folders(tmp_path):
    from models.publish import research_dir

    assert research_dir(tmp_path / "mentorscope.duckdb", {}) == tmp_path / "research"
    assert research_dir(tmp_path / "pilot.duckdb", {}) == tmp_path / "research-pilot"
    assert research_dir(tmp_path / "x.duckdb", {"MENTORSCOPE_RESEARCH_DIR": "/r"}) == Path("/r")
