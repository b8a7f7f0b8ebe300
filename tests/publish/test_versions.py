"""Archived versions: ids from what determines the data, immutable, kept or pruned, exported as
a zip whose manifest and CITATION.cff describe it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
import yaml

import models.publish.archive as archive_module
import models.publish.snapshot as snapshot_module
from models.publish import publish, versions
from models.publish.versions import (
    VersionError,
    export_version,
    keep_count,
    keep_version,
    list_versions,
    release_version,
    verify_version,
)

from .conftest import AS_OF, KEY, Published, query


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _changed(published: Published, folder: Path, modulus: int) -> Path:
    """The warehouse with some meetings removed: other row counts, so another version."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"changed-{modulus}.duckdb"
    shutil.copy(published.warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(f"DELETE FROM core.meetings WHERE hash(meeting_id) % {modulus} = 0")
    finally:
        con.close()
    return copy


def test_the_demo_snapshot_is_filed_as_its_version(published: Published):
    (version,) = query(published.snapshot, "SELECT version_id FROM meta.snapshot_info")[0]
    assert (published.research / "current").resolve().name == version
    assert verify_version(published.research, version) == []
    rows = list_versions(published.research)
    assert [r.id for r in rows if r.current] == [version]
    filed = versions.version_path(published.research, version) / "research.duckdb"
    assert query(filed, "SELECT version_id FROM meta.snapshot_info") == [(version,)]


def test_same_inputs_same_version_written_once(published: Published, tmp_path):
    out = tmp_path / "research"
    first = publish(published.warehouse, out, KEY, {"as_of": AS_OF})
    folder = versions.version_path(out, first.version_id)
    before = _tree(folder)
    second = publish(published.warehouse, out, KEY, {"as_of": AS_OF})
    assert second.version_id == first.version_id
    assert second.snapshot_id != first.snapshot_id  # a new snapshot, the same version
    assert [r.id for r in list_versions(out)] == [first.version_id]
    assert _tree(folder) == before
    # Other settings (a later as-of date) make another version.
    third = publish(published.warehouse, out, KEY, {"as_of": AS_OF + dt.timedelta(days=1)})
    assert third.version_id != first.version_id
    assert third.version_id.startswith("v" + (AS_OF + dt.timedelta(days=1)).strftime("%Y%m%d"))


def test_kept_version_survives_later_publishes_byte_for_byte(
    published: Published, tmp_path, monkeypatch
):
    monkeypatch.setenv(versions.KEEP_ENV, "1")
    # Every snapshot built in the same second (its built_at has whole seconds), as when CI's
    # publishes were fast: the versions must still be filed and pruned in order.
    second = dt.datetime(2026, 7, 1, 12, 0, 0, tzinfo=dt.UTC)

    class _SameSecond(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return second

    monkeypatch.setattr(snapshot_module, "dt", SimpleNamespace(datetime=_SameSecond, UTC=dt.UTC))
    out = tmp_path / "research"
    kept = publish(published.warehouse, out, KEY, {"as_of": AS_OF}).version_id
    keep_version(out, kept, reason="cited in a preregistration")
    before = _tree(versions.version_path(out, kept))
    later = [
        publish(_changed(published, tmp_path / "w", m), out, KEY, {"as_of": AS_OF}).version_id
        for m in (3, 5)
    ]
    assert len({kept, *later}) == 3
    rows = {r.id: r for r in list_versions(out)}
    # Keep 1: the newest (current) and the kept one stay; the one in between is pruned.
    assert set(rows) == {kept, later[-1]}
    assert rows[kept].kept and not rows[kept].current and rows[later[-1]].current
    assert rows[kept].created < rows[later[-1]].created  # filed in order, to the microsecond
    assert _tree(versions.version_path(out, kept)) == before
    assert verify_version(out, kept) == []
    # Released, it is pruned by the next publish like any other.
    release_version(out, kept)
    publish(_changed(published, tmp_path / "w", 7), out, KEY, {"as_of": AS_OF})
    assert kept not in {r.id for r in list_versions(out)}


def test_export_zip_holds_data_codebook_manifest_and_citation(published: Published, tmp_path):
    version = (published.research / "current").resolve().name
    zipped = export_version(published.research, version, tmp_path / "out")
    assert zipped.name == f"mentorscope-{version}.zip"
    again = export_version(published.research, version, tmp_path / "again")
    assert zipped.read_bytes() == again.read_bytes()  # the same version, the same bytes
    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read(f"{version}/manifest.json"))
        for name, entry in manifest["files"].items():
            data = archive.read(f"{version}/{name}")
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert names == {f"{version}/{n}" for n in [*manifest["files"], "manifest.json"]}
        for needed in ("research.duckdb", "CITATION.cff", "codebook/codebook.csv"):
            assert f"{version}/{needed}" in names
        for kind in ("parquet/core/matches.parquet", "stata/core/matches.dta"):
            assert f"{version}/{kind}" in names
        assert f"{version}/spss/metrics/match_steps.sav" in names
        citation = yaml.safe_load(archive.read(f"{version}/CITATION.cff"))
        archive.extract(f"{version}/research.duckdb", tmp_path / "x")
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == version and version in citation["title"]
    assert isinstance(citation["date-released"], dt.date)
    assert citation["authors"] and citation["message"]
    assert manifest["version_id"] == version
    assert (
        manifest["tables"]["core.matches"]
        == query(published.snapshot, "SELECT count(*) FROM core.matches")[0][0]
    )
    inside = tmp_path / "x" / version / "research.duckdb"
    assert query(inside, "SELECT version_id FROM meta.snapshot_info") == [(version,)]


def test_a_damaged_version_is_not_exported(published: Published, tmp_path):
    out = tmp_path / "research"
    version = publish(published.warehouse, out, KEY, {"as_of": AS_OF}).version_id
    codebook = versions.version_path(out, version) / "codebook" / "codebook.md"
    codebook.chmod(0o644)
    codebook.write_text(codebook.read_text() + "edited\n")
    assert verify_version(out, version) == ["changed: codebook/codebook.md"]
    with pytest.raises(VersionError, match="damaged"):
        export_version(out, version, tmp_path / "zip")
    with pytest.raises(VersionError, match="no version"):
        export_version(out, "v20260630-000000000000", tmp_path / "zip")
    with pytest.raises(VersionError, match="not a version id"):
        keep_version(out, "../../etc")


@pytest.mark.parametrize("stage", ["_export_parquet", "file", "replace_file"])
def test_a_failed_publish_leaves_the_previous_version_whole(
    published: Published, tmp_path, monkeypatch, stage
):
    out = tmp_path / "research"
    first = publish(published.warehouse, out, KEY, {"as_of": AS_OF})
    before = _tree(versions.version_path(out, first.version_id))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    if stage == "file":
        monkeypatch.setattr(archive_module.versions, "finish", broken)
    else:
        monkeypatch.setattr(snapshot_module, stage, broken)
    changed = _changed(published, tmp_path / "w", 3)
    with pytest.raises(OSError, match="disk full"):
        publish(changed, out, KEY, {"as_of": AS_OF})
    assert query(out / "research.duckdb", "SELECT version_id FROM meta.snapshot_info") == [
        (first.version_id,)
    ]
    assert (out / "current").resolve().name == first.version_id
    assert _tree(versions.version_path(out, first.version_id)) == before
    assert list((out / "versions").glob(".staging-*")) == []
    # What a crash leaves behind never reads as a version, and the next publish goes through.
    monkeypatch.undo()
    again = publish(changed, out, KEY, {"as_of": AS_OF})
    assert verify_version(out, again.version_id) == []


def test_keep_count_reads_the_environment():
    assert keep_count({}) == versions.DEFAULT_KEEP
    assert keep_count({versions.KEEP_ENV: "3"}) == 3
    for bad in ("0", "many"):
        with pytest.raises(ValueError, match=versions.KEEP_ENV):
            keep_count({versions.KEEP_ENV: bad})


def test_a_new_version_links_the_labelled_files_of_unchanged_tables(
    published: Published, tmp_path, monkeypatch
):
    monkeypatch.setenv(versions.KEEP_ENV, "2")
    out = tmp_path / "research"
    first = publish(published.warehouse, out, KEY, {"as_of": AS_OF}).version_id
    second = publish(_changed(published, tmp_path / "w", 3), out, KEY, {"as_of": AS_OF})
    old, new = (versions.version_path(out, v) for v in (first, second.version_id))
    # Fewer meetings: their files are written again; the programs' are the first version's.
    for name in ("stata/core/meetings.dta", "spss/core/meetings.sav"):
        assert not (new / name).samefile(old / name)
    for name in ("stata/core/programs.dta", "spss/core/programs.sav"):
        assert (new / name).samefile(old / name)
    assert verify_version(out, first) == [] and verify_version(out, second.version_id) == []
    # The version's Parquet files are the published folder's, read-only.
    live = out / "parquet" / "core" / "meetings.parquet"
    assert (new / "parquet" / "core" / "meetings.parquet").samefile(live)
    assert not live.stat().st_mode & 0o222


def test_a_new_version_links_the_parquet_files_of_unchanged_tables(
    published: Published, tmp_path, monkeypatch
):
    monkeypatch.setenv(versions.KEEP_ENV, "3")
    out = tmp_path / "research"
    first = publish(published.warehouse, out, KEY, {"as_of": AS_OF}).version_id
    second = publish(_changed(published, tmp_path / "w", 3), out, KEY, {"as_of": AS_OF})
    old, new = (versions.version_path(out, v) for v in (first, second.version_id))
    # Fewer meetings: their file and the snapshot's own meta tables are written again.
    for name in ("parquet/core/meetings.parquet", "parquet/meta/snapshot_info.parquet"):
        assert not (new / name).samefile(old / name), name
    linked = [
        path.relative_to(new).as_posix()
        for path in sorted((new / "parquet").rglob("*.parquet"))
        if path.samefile(old / path.relative_to(new))
    ]
    assert "parquet/core/programs.parquet" in linked and "parquet/core/matches.parquet" in linked
    # Every Parquet file of the new version holds the rows of its table in the new snapshot.
    con = duckdb.connect(str(new / "research.duckdb"), read_only=True)
    try:
        for path in sorted((new / "parquet").rglob("*.parquet")):
            table = f"{path.parent.name}.{path.stem}"
            differ = con.execute(
                f"SELECT count(*) FROM ((SELECT * FROM {table} EXCEPT ALL "
                f"SELECT * FROM read_parquet('{path}')) UNION ALL (SELECT * FROM "
                f"read_parquet('{path}') EXCEPT ALL SELECT * FROM {table}))"
            ).fetchall()[0][0]
            assert differ == 0, table
    finally:
        con.close()
    assert verify_version(out, second.version_id) == []
    # A damaged file of the last version is not passed on: written again, and the new version
    # verifies.
    damaged = new / "parquet" / "core" / "programs.parquet"
    damaged.chmod(0o644)
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"x")
    third = publish(_changed(published, tmp_path / "w", 5), out, KEY, {"as_of": AS_OF})
    newest = versions.version_path(out, third.version_id)
    assert not (newest / "parquet/core/programs.parquet").samefile(damaged)
    assert verify_version(out, third.version_id) == []
    assert (newest / "parquet/core/matches.parquet").samefile(new / "parquet/core/matches.parquet")


def _filed(research: Path, version: str, created: dt.datetime) -> None:
    staging = versions.start(research, version)
    (staging / "research.duckdb").write_bytes(b"x")
    versions.finish(staging, research, version, created, {"as_of": str(AS_OF)}, {}, {})


def test_versions_published_within_one_second_prune_the_older(tmp_path):
    """Two versions filed within one second: the newer stays (the manifest's time had whole
    seconds, and the ids broke the tie)."""
    research = tmp_path / "research"
    second = dt.datetime(2026, 6, 30, 12, 0, 0, tzinfo=dt.UTC)
    ids = ["v20260630-ffffffffffff", "v20260630-000000000000"]  # the newer sorts first by id
    for i, version in enumerate(ids):
        _filed(research, version, second + dt.timedelta(microseconds=10 * (i + 1)))
    assert [r.id for r in list_versions(research)] == ids[::-1]
    assert versions.prune(research, keep=1) == [ids[0]]
