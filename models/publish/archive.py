"""One publish's share of the version archive (versions.py), in the order the publisher needs it.

`plan` names the version before meta.snapshot_info is written (the id goes into it); `stage`
writes the labelled files and the codebook from the snapshot while it is still attached;
`file` adds the finished research.duckdb and Parquet folder and renames the version into place;
`make_current` and `prune` run once the snapshot is swapped in. A version that already exists
(same inputs, settings, libraries, key, catalog and code) is left untouched at every step.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from models.publish import versions
from models.publish.catalog import Catalog
from models.publish.codebook import write_codebook
from models.publish.labelled import write_labelled
from models.publish.parquet_files import FINGERPRINTS as PARQUET_FINGERPRINTS
from models.publish.swap import remove_stale

ABOUT_FIELDS = (
    "snapshot_id",
    "as_of",
    "pipeline_version",
    "settings_hash",
    "inputs_sha256",
    "key_fingerprint",
    "catalog_sha256",
    "lock_sha256",
    "python_version",
)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


@dataclass
class Archive:
    research_dir: Path
    version: str
    created: dt.datetime
    about: dict[str, Any]
    provenance: dict[str, Any]
    rows: dict[str, int]
    existed: bool
    staging: Path | None = None
    tables: dict[str, int] = field(default_factory=dict)
    # Each Parquet file's fingerprint (parquet_files.py), filed with the version.
    parquet_prints: dict[str, str] = field(default_factory=dict)
    # Each table's rows as a multiset (reuse.table_content), from the Parquet export: the
    # labelled files' fingerprints reuse them instead of scanning every table again.
    contents: dict[tuple[str, str], str] = field(default_factory=dict)
    # The manifest's `created`, to the microsecond: `created` (the snapshot's built_at) has
    # whole seconds, and two publishes within one second must still prune the older version.
    filed: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @classmethod
    def plan(
        cls,
        research_dir: Path,
        info: pl.DataFrame,
        libraries: pl.DataFrame,
        rows: dict[str, int],
    ) -> Archive:
        """Name the version of this publish (info: meta.snapshot_info's row, before version_id
        is added). Removes what a crashed publish left in versions/ (call under the lock)."""
        row = info.row(0, named=True)
        prov = versions.provenance(row, libraries.to_dicts(), rows)
        version = versions.version_id(row["as_of"], prov)
        versions.remove_staging(research_dir)
        remove_stale(research_dir, [f".{versions.CURRENT_LINK}.link-*"], keep=[])
        about = {"version_id": version, **{k: row.get(k) for k in ABOUT_FIELDS}}
        return cls(
            research_dir=research_dir,
            version=version,
            created=row["built_at"],
            about=about,
            provenance=prov,
            rows=rows,
            existed=versions.exists(research_dir, version),
        )

    def stage(self, con: duckdb.DuckDBPyConnection, database: str, catalog: Catalog) -> None:
        """Write stata/, spss/ and codebook/ of the attached snapshot `database` into a staging
        folder (nothing when the version exists)."""
        if self.existed:
            return
        self.staging = versions.start(self.research_dir, self.version)
        exports = write_labelled(
            con, database, catalog, self.staging, self.created, self.previous(), self.contents
        )
        self.tables = {e.qualified: e.rows for e in exports}
        write_codebook(self.staging / "codebook", catalog, exports, self.about)

    def previous(self) -> Path | None:
        """The current version's folder: the files a new version may link from it."""
        last = versions.current_version(self.research_dir)
        folder = versions.version_path(self.research_dir, last) if last else None
        return folder if folder is not None and folder.is_dir() else None

    def file(self, snapshot_db: Path, parquet_dir: Path) -> None:
        """Copy the finished research.duckdb and Parquet folder in, write manifest.json and
        CITATION.cff, and rename the staging folder to versions/<id>."""
        if self.staging is None:
            return
        shutil.copyfile(snapshot_db, self.staging / "research.duckdb")
        # Linked, not copied: the Parquet folder is written once per publish and never again
        # (a later publish writes a new folder), and finish() makes its files read-only.
        shutil.copytree(parquet_dir, self.staging / "parquet", copy_function=_link_or_copy)
        (self.staging / PARQUET_FINGERPRINTS).write_text(
            json.dumps(self.parquet_prints, indent=1) + "\n", encoding="utf-8"
        )
        versions.finish(
            self.staging,
            self.research_dir,
            self.version,
            self.filed,
            self.about,
            self.provenance,
            self.tables,
        )
        self.staging = None

    def make_current(self) -> None:
        versions.point_current(self.research_dir, self.version)

    def prune(self) -> list[str]:
        return versions.prune(self.research_dir)

    def discard(self) -> None:
        """After a failed publish: remove the staging folder (a filed version is whole: stays)."""
        if self.staging is not None:
            versions.remove_staging(self.research_dir, self.staging)
            self.staging = None
