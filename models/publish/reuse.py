"""Files of the last version that a new version can share: same rows, intact, hard-linked.

A month that adds meetings leaves survey answers, construct scores, participants and outcomes
as they were; their labelled files (labelled.py) and Parquet files (parquet_files.py) are then
linked from the last version instead of written again. Both decide alike: the table's rows as
a multiset (`table_content`), and the last version's file checked against its manifest
(`intact`) before it is passed on to a version whose manifest will vouch for it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import duckdb

from models.publish.versions import MANIFEST


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_content(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str, columns: list[str]
) -> str:
    """The table's rows as a multiset, by two sums of row hashes (one scan). Not their order:
    the snapshot's tables come from joins, whose row order differs between publishes of the
    same rows (measured: every table of the consortium's snapshot)."""
    row = ", ".join(_q(c) for c in columns)
    (sums,) = con.execute(
        f"SELECT count(*), sum(hash({row})), bit_xor(hash({row}, 1)) "
        f"FROM {_q(database)}.{_q(schema)}.{_q(table)}"
    ).fetchall()
    return repr(sums)


def intact(previous: Path, names: tuple[str, ...]) -> bool:
    """Whether the previous version's files still hold what its manifest says (a damaged file
    is written again, not passed on to a new version whose manifest would vouch for it)."""
    files = _json(previous / MANIFEST).get("files")
    if not isinstance(files, dict):
        return False
    for name in names:
        entry, path = files.get(name), previous / name
        if not isinstance(entry, dict) or not path.is_file():
            return False
        if path.stat().st_size != entry.get("bytes"):
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != entry.get("sha256"):
            return False
    return True


def link_intact(previous: Path, targets: Mapping[str, Path]) -> bool:
    """Hard-link each of the previous version's files (name relative to it) to its target;
    False, with nothing linked, if one is damaged or cannot be linked."""
    if not intact(previous, tuple(targets)):
        return False
    made: list[Path] = []
    try:
        for name, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(previous / name, target)
            made.append(target)
    except OSError:
        for path in made:
            path.unlink(missing_ok=True)
        return False
    return True


def previous_fingerprints(previous: Path | None, name: str) -> dict[str, str]:
    """The fingerprints file `name` of the previous version: empty when it has none, or when
    the file is not what the version's manifest says (then every table is written again)."""
    if previous is None or not intact(previous, (name,)):
        return {}
    prints = _json(previous / name)
    return {k: v for k, v in prints.items() if isinstance(k, str) and isinstance(v, str)}


def _json(path: Path) -> dict:
    """A JSON object from `path`; empty if the file is missing, unreadable or not an object
    (a damaged version must not stop a publish: its files are simply not reused)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
