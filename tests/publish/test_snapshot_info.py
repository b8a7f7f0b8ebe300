"""meta.snapshot_info says what built the snapshot, from what, and with which key."""

from __future__ import annotations

import hashlib
import hmac
import json
from importlib.metadata import version

import yaml

from models.metrics.settings import DEFAULT_SETTINGS_PATH

from .conftest import AS_OF, KEY, Published, query


def _info(published: Published) -> dict:
    con_rows = query(published.snapshot, "SELECT * FROM meta.snapshot_info")
    names = [r[0] for r in query(published.snapshot, "DESCRIBE meta.snapshot_info")]
    assert len(con_rows) == 1
    return dict(zip(names, con_rows[0], strict=True))


def test_snapshot_info_names_version_run_date_and_key(published: Published):
    info = _info(published)
    assert info["pipeline_version"] == version("mentorscope")
    assert info["as_of"] == AS_OF
    assert info["run_id"] == published.report.run_id
    expected_fp = hmac.new(KEY, b"fingerprint", hashlib.sha256).hexdigest()[:8]
    assert info["key_fingerprint"] == expected_fp
    assert KEY.hex() not in json.dumps(info, default=str)
    assert info["snapshot_id"].startswith(info["built_at"].strftime("%Y%m%dT%H%M%SZ"))


def test_settings_recorded_are_the_settings_file(published: Published):
    info = _info(published)
    settings = json.loads(info["settings_json"])
    on_disk = yaml.safe_load(DEFAULT_SETTINGS_PATH.read_text())
    for name in ("suppression_k", "lasting_days", "period"):
        assert settings[name] == on_disk[name]
    assert settings["as_of"] == AS_OF.isoformat()
    assert len(info["settings_hash"]) == 12


def test_input_files_are_the_export_files_with_their_hashes(published: Published):
    info = _info(published)
    files = query(
        published.snapshot,
        "SELECT table_name, source_file, file_sha256, rows_read FROM meta.input_files",
    )
    # The demo export also holds demo_manifest.json and _truth/: only the CSVs are inputs.
    on_disk = {p.name: p for p in published.export.glob("*.csv")}
    assert len(on_disk) >= 7
    assert {f[1] for f in files} == set(on_disk)
    for table, name, sha, rows in files:
        data = on_disk[name].read_bytes()
        assert sha == hashlib.sha256(data).hexdigest()
        assert rows == data.count(b"\n") - 1  # header line, one line per row
        assert name.startswith(table)
    lines = sorted(f"{t}\t{n}\t{s}" for t, n, s, _ in files)
    assert info["inputs_sha256"] == hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert info["input_files"] == len(files)


def test_parquet_export_carries_the_same_snapshot_info(published: Published):
    path = published.research / "parquet" / "meta" / "snapshot_info.parquet"
    rows = query(published.snapshot, f"SELECT snapshot_id FROM read_parquet('{path}')")
    assert rows == [(_info(published)["snapshot_id"],)]
