"""Archived, citable versions of the research snapshot: research/versions/<version id>/.

Each publish files the snapshot as a version: research.duckdb, parquet/, stata/, spss/,
codebook/, CITATION.cff and manifest.json (SHA-256 of every file). The id is a hash of what
determines the numbers: the input files' hashes, the metric settings (as-of date included), the
library versions (installed and locked), the pseudonym key's fingerprint, the catalog, the
pipeline's code and the row counts of the published tables. Publishing the same inputs again
gives the same id and leaves the existing version as it is: a version is written once, into a
staging folder renamed into place, and never rewritten.

The newest `MENTORSCOPE_KEEP_VERSIONS` (default 5) are kept, plus the current one and every
version marked as kept (`keep_version`, a marker file `<id>.kept` beside the folder); the others
are removed after a publish.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from models.publish.swap import fsync_path, fsync_tree, publisher_lock

VERSIONS_DIR = "versions"
CURRENT_LINK = "current"
MANIFEST = "manifest.json"
CITATION = "CITATION.cff"
KEPT_SUFFIX = ".kept"
KEEP_ENV = "MENTORSCOPE_KEEP_VERSIONS"
AUTHOR_ENV = "MENTORSCOPE_CITATION_AUTHOR"
DEFAULT_KEEP = 5
DEFAULT_AUTHOR = "Mentorscope research snapshot (data steward)"
# Bump when the files of a version change shape (a new format, other conversions): the same
# inputs then make a new version rather than being taken for the old one.
EXPORT_FORMAT = 1
# Tables whose rows are run bookkeeping, not results: the validation history grows with every
# run of the same inputs, so its row count would give the same data a new id.
UNCOUNTED_TABLES = ("metrics.expectation_results",)
_ID = re.compile(r"^v\d{8}-[0-9a-f]{12}$")
_CODE_ROOT = Path(__file__).resolve().parents[1]  # models/: the science that computes the numbers


class VersionError(ValueError):
    """No such version, or a version whose files no longer match its manifest."""


_CREATED = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class VersionRow:
    """One archived version, as `list_versions` reports it."""

    id: str
    created: dt.datetime  # UTC, when the version was first published
    as_of: str
    tables: int
    kept: bool
    size: int  # bytes on disk
    current: bool  # what research/current points at


def versions_dir(research_dir: Path) -> Path:
    return Path(research_dir) / VERSIONS_DIR


def keep_count(env: Mapping[str, str] | None = None) -> int:
    """How many recent versions to keep (MENTORSCOPE_KEEP_VERSIONS, default 5, at least 1)."""
    env = os.environ if env is None else env
    raw = env.get(KEEP_ENV, "").strip()
    if not raw:
        return DEFAULT_KEEP
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{KEEP_ENV} must be a whole number, got {raw[:20]!r}") from None
    if value < 1:
        raise ValueError(f"{KEEP_ENV} must be at least 1, got {value}")
    return value


@cache
def code_sha256(root: Path = _CODE_ROOT) -> str:
    """SHA-256 over the pipeline's science (models/: Python, SQL and YAML), so that changed code
    with an unchanged package version does not pass for the same version."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".sql", ".yaml"} and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _exporter_version() -> str | None:
    try:
        from importlib.metadata import version  # noqa: PLC0415

        return version("pyreadstat")
    except Exception:  # noqa: BLE001 - provenance only
        return None


def provenance(
    info: Mapping[str, Any], libraries: list[Mapping[str, Any]], rows: Mapping[str, int]
) -> dict[str, Any]:
    """What the version id hashes. `info` is the row of meta.snapshot_info, `libraries` the rows
    of meta.library_versions, `rows` the published tables' row counts."""
    return {
        "export_format": EXPORT_FORMAT,
        "inputs_sha256": info["inputs_sha256"],
        "settings_json": info["settings_json"],
        "key_fingerprint": info["key_fingerprint"],
        "pseudonym_scheme": info["pseudonym_scheme"],
        "catalog_sha256": info["catalog_sha256"],
        "pipeline_version": info["pipeline_version"],
        "code_sha256": code_sha256(),
        "libraries": sorted(
            [str(r["library"]), r["installed_version"], r["locked_version"]] for r in libraries
        ),
        "pyreadstat": _exporter_version(),
        "rows": {t: n for t, n in sorted(rows.items()) if t not in UNCOUNTED_TABLES},
    }


def version_id(as_of: dt.date, prov: Mapping[str, Any]) -> str:
    """'v' + as-of date + 12 hex characters of the SHA-256 of the provenance."""
    text = json.dumps(prov, sort_keys=True, separators=(",", ":"), default=str)
    return f"v{as_of:%Y%m%d}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


def _check_id(version: str) -> str:
    if not _ID.match(version):
        example = "v20260630-1a2b3c4d5e6f"
        raise VersionError(f"not a version id: {version[:40]!r} (expected like {example})")
    return version


def version_path(research_dir: Path, version: str) -> Path:
    return versions_dir(research_dir) / _check_id(version)


def exists(research_dir: Path, version: str) -> bool:
    return (version_path(research_dir, version) / MANIFEST).is_file()


def start(research_dir: Path, version: str) -> Path:
    """An empty staging folder for `version`, renamed into place by `finish`."""
    staging = versions_dir(research_dir) / f".staging-{_check_id(version)}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    return staging


def remove_staging(research_dir: Path, staging: Path | None = None) -> None:
    """Remove `staging`, or every staging folder (leftovers of a crash) when None."""
    folder = versions_dir(research_dir)
    targets = [staging] if staging else list(folder.glob(".staging-*")) if folder.is_dir() else []
    for path in targets:
        if path is not None and path.exists():
            _rmtree(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def citation(version: str, created: dt.datetime, about: Mapping[str, Any]) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the version."""
    author = os.environ.get(AUTHOR_ENV, "").strip() or DEFAULT_AUTHOR
    document = {
        "cff-version": "1.2.0",
        "message": "If you use this data, please cite this version of the research snapshot.",
        "type": "dataset",
        "title": f"Mentorscope research snapshot {version}",
        "version": version,
        "date-released": created.date(),
        "authors": [{"name": author}],
        "abstract": (
            "Pseudonymised core and metrics tables of a Mentorscope pipeline run on formal "
            f"mentoring program data, as of {about.get('as_of')}: inputs sha256 "
            f"{about.get('inputs_sha256')}, settings {about.get('settings_hash')}, pipeline "
            f"{about.get('pipeline_version')}. Files and their SHA-256 are in manifest.json."
        ),
        "keywords": ["mentoring", "research snapshot", "mentorscope"],
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def finish(
    staging: Path,
    research_dir: Path,
    version: str,
    created: dt.datetime,
    about: Mapping[str, Any],
    prov: Mapping[str, Any],
    tables: Mapping[str, int],
) -> Path:
    """Write CITATION.cff and manifest.json into `staging`, make every file read-only, and
    rename the folder to versions/<version> (atomic: a version is whole or absent)."""
    created = created.astimezone(dt.UTC) if created.tzinfo else created.replace(tzinfo=dt.UTC)
    (staging / CITATION).write_text(citation(version, created, about), encoding="utf-8")
    manifest = {
        "version_id": version,
        # Microseconds: versions published within one second must still sort newest first.
        "created": created.strftime(_CREATED),
        **{k: v for k, v in about.items() if k != "version_id"},
        "provenance": dict(prov),
        "tables": dict(sorted(tables.items())),
        "files": {
            p.relative_to(staging).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
            for p in _files(staging)
        },
    }
    (staging / MANIFEST).write_text(
        json.dumps(manifest, indent=1, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
    for path in staging.rglob("*"):
        if path.is_file():
            path.chmod(0o444)  # a version is never rewritten: refuse writers that are not root
    fsync_tree(staging)
    target = version_path(research_dir, version)
    os.rename(staging, target)  # fails if it exists: the caller checked under the publisher lock
    fsync_path(target.parent)
    return target


def point_current(research_dir: Path, version: str) -> None:
    """Switch research/current to versions/<version> atomically (a relative symlink)."""
    link = Path(research_dir) / CURRENT_LINK
    temporary = link.with_name(f".{CURRENT_LINK}.link-{uuid.uuid4().hex[:8]}")
    os.symlink(f"{VERSIONS_DIR}/{_check_id(version)}", temporary)
    os.replace(temporary, link)
    fsync_path(link.parent)


def current_version(research_dir: Path) -> str | None:
    link = Path(research_dir) / CURRENT_LINK
    return Path(os.readlink(link)).name if link.is_symlink() else None


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def _created(manifest: Mapping[str, Any]) -> dt.datetime:
    """The manifest's UTC creation time; versions filed before 2026-12-05 carry whole seconds."""
    text = manifest["created"]
    form = _CREATED if "." in text else "%Y-%m-%dT%H:%M:%SZ"
    return dt.datetime.strptime(text, form).replace(tzinfo=dt.UTC)


def _kept_marker(research_dir: Path, version: str) -> Path:
    return versions_dir(research_dir) / f"{_check_id(version)}{KEPT_SUFFIX}"


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def list_versions(research_dir: Path) -> list[VersionRow]:
    """Every archived version under research_dir/versions, newest first."""
    folder = versions_dir(Path(research_dir))
    if not folder.is_dir():
        return []
    current = current_version(research_dir)
    rows = []
    for path in folder.iterdir():
        if not (_ID.match(path.name) and path.is_dir() and (path / MANIFEST).is_file()):
            continue
        manifest = _manifest(path)
        rows.append(
            VersionRow(
                id=path.name,
                created=_created(manifest),
                as_of=str(manifest.get("as_of")),
                tables=len(manifest.get("tables", {})),
                kept=_kept_marker(research_dir, path.name).is_file(),
                size=sum(p.stat().st_size for p in path.rglob("*") if p.is_file()),
                current=path.name == current,
            )
        )
    return sorted(rows, key=lambda r: (r.created, r.id), reverse=True)


def _require(research_dir: Path, version: str) -> Path:
    path = version_path(Path(research_dir), version)
    if not (path / MANIFEST).is_file():
        known = ", ".join(r.id for r in list_versions(research_dir)) or "none"
        raise VersionError(f"no version {version} in {versions_dir(research_dir)} (known: {known})")
    return path


def keep_version(research_dir: Path, version: str, *, reason: str = "") -> Path:
    """Mark `version` as kept: never pruned (and, like every version, never rewritten). Returns
    the marker file. Idempotent; the first marking's time and reason stay."""
    research_dir = Path(research_dir)
    with publisher_lock(research_dir):  # not while a publish is pruning
        _require(research_dir, version)
        marker = _kept_marker(research_dir, version)
        if not marker.exists():
            now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            marker.write_text(json.dumps({"kept_at": now, "reason": reason}) + "\n")
        return marker


def release_version(research_dir: Path, version: str) -> None:
    """Undo `keep_version`: the version is pruned again once it is not among the newest."""
    research_dir = Path(research_dir)
    with publisher_lock(research_dir):
        _require(research_dir, version)
        _kept_marker(research_dir, version).unlink(missing_ok=True)


def prune(research_dir: Path, keep: int | None = None) -> list[str]:
    """Remove versions beyond the newest `keep` (default keep_count()), except kept ones and the
    current one; return the removed ids. Call under the publisher lock."""
    keep = keep_count() if keep is None else keep
    if keep < 1:
        raise ValueError("keep at least one version")
    removed = []
    for i, row in enumerate(list_versions(research_dir)):
        if i < keep or row.kept or row.current:
            continue
        _rmtree(version_path(research_dir, row.id))
        removed.append(row.id)
    return removed


def verify_version(research_dir: Path, version: str) -> list[str]:
    """Files of the version that are missing, extra or differ from manifest.json ([] = intact)."""
    path = _require(Path(research_dir), version)
    listed = _manifest(path)["files"]
    present = {p.relative_to(path).as_posix(): p for p in _files(path)}
    problems = [f"missing: {name}" for name in sorted(set(listed) - set(present))]
    problems += [f"not in the manifest: {name}" for name in sorted(set(present) - set(listed))]
    for name in sorted(set(listed) & set(present)):
        if _sha256(present[name]) != listed[name]["sha256"]:
            problems.append(f"changed: {name}")
    return problems


def export_version(research_dir: Path, version: str, out_dir: Path) -> Path:
    """Write out_dir/mentorscope-<version>.zip: the version's data (research.duckdb, parquet/,
    stata/, spss/), codebook/, manifest.json (SHA-256 of every file) and CITATION.cff, under one
    folder named after the version. The same version always gives the same bytes. Raises
    VersionError for an unknown version or one whose files no longer match its manifest."""
    path = _require(Path(research_dir), version)
    problems = verify_version(research_dir, version)
    if problems:
        raise VersionError(f"version {version} is damaged: {'; '.join(problems[:5])}")
    created = _created(_manifest(path))
    stamp = (max(created.year, 1980), created.month, created.day, created.hour, created.minute, 0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"mentorscope-{version}.zip"
    partial = out_dir / f".{target.name}.{uuid.uuid4().hex[:8]}.partial"
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in [*_files(path), path / MANIFEST]:
                entry = zipfile.ZipInfo(f"{version}/{file.relative_to(path).as_posix()}", stamp)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o444 << 16
                with open(file, "rb") as src, archive.open(entry, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
