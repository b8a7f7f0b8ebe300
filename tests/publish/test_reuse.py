"""A damaged last version never stops a publish, and nothing in it is reused unchecked
(models/publish/reuse.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from models.publish.reuse import intact, link_intact, previous_fingerprints

PRINTS = "parquet_fingerprints.json"


def _version(folder: Path, files: dict[str, bytes]) -> Path:
    """A filed version: the files and a manifest with each one's SHA-256 and size."""
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    manifest = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        for name, data in files.items()
    }
    (folder / "manifest.json").write_text(json.dumps({"files": manifest}), encoding="utf-8")
    return folder


def test_fingerprints_and_files_are_reused_only_as_the_manifest_has_them(tmp_path):
    prints = {"parquet/core/programs.parquet": "abc"}
    version = _version(
        tmp_path / "v1",
        {PRINTS: json.dumps(prints).encode(), "parquet/core/programs.parquet": b"PAR1 rows"},
    )
    assert previous_fingerprints(version, PRINTS) == prints
    target = tmp_path / "live" / "core" / "programs.parquet"
    assert link_intact(version, {"parquet/core/programs.parquet": target})
    assert target.samefile(version / "parquet/core/programs.parquet")
    # A fingerprint edited after filing is not believed: every table is written again.
    (version / PRINTS).write_text(json.dumps({"parquet/core/programs.parquet": "xyz"}))
    assert previous_fingerprints(version, PRINTS) == {}
    # A file the manifest does not vouch for is not linked, and nothing is left behind.
    (version / "parquet/core/programs.parquet").write_bytes(b"PAR1 other")
    elsewhere = tmp_path / "other" / "programs.parquet"
    assert not link_intact(version, {"parquet/core/programs.parquet": elsewhere})
    assert not elsewhere.exists()


def test_a_malformed_manifest_or_fingerprints_file_means_nothing_is_reused(tmp_path):
    good = json.dumps({"parquet/core/programs.parquet": "abc"}).encode()
    for manifest in (b"{not json", b"[1, 2]", json.dumps({"files": [1]}).encode()):
        version = _version(tmp_path / f"v{len(manifest)}", {PRINTS: good})
        (version / "manifest.json").write_bytes(manifest)
        assert not intact(version, (PRINTS,))
        assert previous_fingerprints(version, PRINTS) == {}
    for prints in (b"{not json", b"[1, 2]", json.dumps({"a": 1, "b": "kept"}).encode()):
        version = _version(tmp_path / f"p{len(prints)}", {PRINTS: prints})
        assert intact(version, (PRINTS,))
        assert previous_fingerprints(version, PRINTS) == (
            {"b": "kept"} if prints.startswith(b'{"a"') else {}
        )
    assert previous_fingerprints(None, PRINTS) == {}
    assert previous_fingerprints(tmp_path / "missing", PRINTS) == {}
