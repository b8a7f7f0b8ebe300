"""Write the pseudonymised research snapshot: research.duckdb plus the same tables as Parquet.

Only the core and metrics schemas are read; raw, quarantine and restricted never are. What a
column becomes is the catalog's decision (keep, drop, pseudonymise, category: see categories.py);
a table or column the
catalog does not describe is withheld, so a new column cannot leak by default.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from models.publish.archive import Archive
from models.publish.catalog import Catalog, TableDoc, load_catalog
from models.publish.categories import build_codes, code_table, drop_code_tables
from models.publish.environment import library_versions
from models.publish.info import INPUT_FILE_SCHEMA, run_settings, snapshot_info
from models.publish.keys import key_fingerprint
from models.publish.parquet_files import export_parquet
from models.publish.pseudonyms import build_map, drop_temp_tables, load_key_table, map_table
from models.publish.swap import publisher_lock, remove_stale, replace_file, swap_folder

PUBLISHED_SCHEMAS = ("core", "metrics")
SNAPSHOT_FILE = "research.duckdb"
PARQUET_LINK = "parquet"
RESEARCH_DIR_ENV = "MENTORSCOPE_RESEARCH_DIR"
DEFAULT_WAREHOUSE_NAME = "mentorscope.duckdb"
_ALIAS = "__snapshot"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    parquet_dir: Path
    snapshot_id: str
    key_fingerprint: str
    rows: dict[str, int]
    withheld_tables: list[str] = field(default_factory=list)  # present, not in the catalog
    withheld_columns: list[str] = field(default_factory=list)  # present, not in the catalog
    seconds: float = 0.0
    version_id: str = ""  # the archived version (versions/<id>) this snapshot is filed as


@dataclass(frozen=True)
class _Column:
    name: str
    entity: str | None  # pseudonymised as this entity, or copied when None
    vocabulary: str | None = None  # free-text category: rare or personal values coded


@dataclass(frozen=True)
class _Table:
    doc: TableDoc
    columns: list[_Column]


def research_dir(warehouse: Path, env: Mapping[str, str] | None = None) -> Path:
    """Where snapshots go: MENTORSCOPE_RESEARCH_DIR, else beside the warehouse: `research/`
    for the default mentorscope.duckdb, `research-<name>/` for a warehouse named otherwise, so
    two warehouses in one folder never overwrite each other's snapshots."""
    env = os.environ if env is None else env
    if env.get(RESEARCH_DIR_ENV):
        return Path(env[RESEARCH_DIR_ENV]).expanduser().resolve()
    warehouse = Path(warehouse).resolve()
    name = "research" if warehouse.name == DEFAULT_WAREHOUSE_NAME else f"research-{warehouse.stem}"
    return warehouse.parent / name


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _plan(
    con: duckdb.DuckDBPyConnection, source: str, catalog: Catalog
) -> tuple[list[_Table], list[str], list[str]]:
    rows = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema IN (SELECT unnest(?)) "
        "ORDER BY table_schema, table_name, ordinal_position",
        [source, list(PUBLISHED_SCHEMAS)],
    ).fetchall()
    present: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        present.setdefault((schema, table), []).append(column)
    plan, withheld_tables, withheld_columns = [], [], []
    for (schema, table), columns in present.items():
        doc = catalog.table(schema, table)
        if doc is None or doc.generated:
            withheld_tables.append(f"{schema}.{table}")
            continue
        if doc.publish == "drop":
            continue
        chosen = []
        for column in columns:
            if column in catalog.lineage_columns:
                continue
            col_doc = doc.columns.get(column)
            if col_doc is None:
                withheld_columns.append(f"{schema}.{table}.{column}")
            elif col_doc.publish == "keep":
                chosen.append(_Column(column, None))
            elif col_doc.publish == "pseudonymise":
                chosen.append(_Column(column, col_doc.entity))
            elif col_doc.publish == "category":
                chosen.append(_Column(column, None, col_doc.vocabulary))
        if chosen:
            plan.append(_Table(doc, chosen))
    return plan, withheld_tables, withheld_columns


def _select(source: str, table: _Table) -> str:
    exprs, joins = [], []
    for i, column in enumerate(table.columns):
        if column.vocabulary is not None:
            exprs.append(f"coalesce(c{i}.code, t.{_q(column.name)}) AS {_q(column.name)}")
            joins.append(
                f"LEFT JOIN temp.{code_table(column.vocabulary)} AS c{i} "
                f"ON c{i}.value = CAST(t.{_q(column.name)} AS VARCHAR)"
            )
            continue
        if column.entity is None:
            exprs.append(f"t.{_q(column.name)}")
            continue
        exprs.append(f"j{i}.pseudonym AS {_q(column.name)}")
        joins.append(
            f"LEFT JOIN temp.{map_table(column.entity)} AS j{i} "
            f"ON j{i}.raw_id = CAST(t.{_q(column.name)} AS VARCHAR)"
        )
    doc = table.doc
    origin = f"{_q(source)}.{_q(doc.schema)}.{_q(doc.name)}"
    return f"SELECT {', '.join(exprs)} FROM {origin} AS t {' '.join(joins)}"


def _input_files(con: duckdb.DuckDBPyConnection, source: str) -> pl.DataFrame:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_schema = 'raw' AND table_name = 'file_ledger'",
        [source],
    ).fetchall()[0][0]
    if not exists:
        return pl.DataFrame(schema=INPUT_FILE_SCHEMA)
    # Only names, hashes and counts: the ledger's run_id and paths stay behind.
    return (
        con.sql(
            f"SELECT table_name, source_file, file_sha256, rows_read, loaded_at "
            f"FROM {_q(source)}.raw.file_ledger ORDER BY table_name, source_file"
        )
        .pl()
        .cast(INPUT_FILE_SCHEMA)
    )


def _catalog_rows(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> pl.DataFrame:
    published = con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? ORDER BY schema_name, table_name, column_index",
        [_ALIAS],
    ).fetchall()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for schema, table, column, data_type in published:
        doc = catalog.table(schema, table)
        if doc is None:
            continue
        if doc.qualified not in seen:
            seen.add(doc.qualified)
            rows.append(
                {
                    "schema_name": schema,
                    "table_name": table,
                    "column_name": None,
                    "data_type": None,
                    "publish": None,
                    "description": doc.comment(),
                    "unit": None,
                    "source": None,
                    "suppression": doc.suppression,
                }
            )
        col = doc.columns.get(column)
        if col is None:
            continue
        rows.append(
            {
                "schema_name": schema,
                "table_name": table,
                "column_name": column,
                "data_type": data_type,
                "publish": col.publish,
                "description": col.description,
                "unit": col.unit,
                "source": col.source,
                "suppression": col.suppression,
            }
        )
    names = [
        "schema_name",
        "table_name",
        "column_name",
        "data_type",
        "publish",
        "description",
        "unit",
        "source",
        "suppression",
    ]
    return pl.DataFrame(rows, schema={n: pl.String() for n in names})


def _write_meta(con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame]) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ALIAS}.meta")
    for name, frame in frames.items():
        con.register("__meta_frame", frame.to_arrow())
        try:
            con.execute(f"CREATE TABLE {_ALIAS}.meta.{_q(name)} AS SELECT * FROM __meta_frame")
        finally:
            con.unregister("__meta_frame")


def _comment_all(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> None:
    published = con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = ? ORDER BY schema_name, table_name, column_index",
        [_ALIAS],
    ).fetchall()
    commented: set[str] = set()
    for schema, table, column in published:
        doc = catalog.table(schema, table)
        col = doc.columns.get(column) if doc else None
        if doc is None or col is None:  # cannot happen: only catalogued columns are written
            raise RuntimeError(f"{schema}.{table}.{column} has no description")
        target = f"{_ALIAS}.{_q(schema)}.{_q(table)}"
        if doc.qualified not in commented:
            commented.add(doc.qualified)
            con.execute(f"COMMENT ON TABLE {target} IS {_text(doc.comment())}")
        con.execute(f"COMMENT ON COLUMN {target}.{_q(column)} IS {_text(col.comment())}")


def _export_parquet(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    previous: Path | None,
    contents: dict[tuple[str, str], str],
) -> dict[str, str]:
    return export_parquet(con, _ALIAS, folder, previous, contents)


def _new_snapshot_id(now: dt.datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def publish_with_connection(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    key: bytes,
    run_info: Mapping[str, Any],
    *,
    source: str | None = None,
    catalog: Catalog | None = None,
) -> PublishResult:
    """Publish from an open connection to the working warehouse (database `source`, default
    the connection's own). The connection may be read-write: only temp tables are created in it.
    """
    started = time.perf_counter()
    catalog = catalog or load_catalog()
    source = source or con.sql("SELECT current_database()").fetchall()[0][0]
    out_dir = Path(out_dir).resolve()
    built_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    snapshot_id = _new_snapshot_id(built_at)
    fingerprint = key_fingerprint(key)
    with publisher_lock(out_dir):
        # Leftovers of a publish that crashed (we hold the lock, so none is in progress).
        link = out_dir / PARQUET_LINK
        current = (out_dir / os.readlink(link)) if link.is_symlink() else None
        remove_stale(
            out_dir, [".research-*.tmp", ".research-*.tmp.wal", ".parquet.link-*"], keep=[]
        )
        remove_stale(out_dir, [".parquet-*"], keep=[current] if current else [])
        tmp_db = out_dir / f".research-{snapshot_id}.duckdb.tmp"
        parquet_dir = out_dir / f".parquet-{snapshot_id}"
        plan, withheld_tables, withheld_columns = _plan(con, source, catalog)
        entities = sorted({c.entity for t in plan for c in t.columns if c.entity})
        vocabularies = sorted({c.vocabulary for t in plan for c in t.columns if c.vocabulary})
        rows: dict[str, int] = {}
        attached = False
        archive: Archive | None = None
        try:
            load_key_table(con, key)
            for entity in entities:
                sources = [
                    (f"{_q(source)}.{_q(t.doc.schema)}.{_q(t.doc.name)}", c.name)
                    for t in plan
                    for c in t.columns
                    if c.entity == entity
                ]
                build_map(con, catalog.pseudonyms[entity], sources)
            k = run_settings(run_info).suppression_k
            for vocabulary in vocabularies:
                build_codes(con, source, catalog.categories[vocabulary], min_holders=k)
            con.execute(f"ATTACH {_text(str(tmp_db))} AS {_ALIAS}")
            attached = True
            for table in plan:
                doc = table.doc
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ALIAS}.{_q(doc.schema)}")
                con.execute(
                    f"CREATE TABLE {_ALIAS}.{_q(doc.schema)}.{_q(doc.name)} AS "
                    + _select(source, table)
                )
                rows[doc.qualified] = con.sql(
                    f"SELECT count(*) FROM {_ALIAS}.{_q(doc.schema)}.{_q(doc.name)}"
                ).fetchall()[0][0]
            drop_temp_tables(con, entities)
            drop_code_tables(con, vocabularies)
            files = _input_files(con, source)
            info = snapshot_info(
                snapshot_id=snapshot_id,
                built_at=built_at,
                run_info=run_info,
                key_fingerprint=fingerprint,
                catalog_sha256=catalog.sha256,
                input_files=files,
            )
            libraries = library_versions()
            archive = Archive.plan(out_dir, info, libraries, rows)
            info = info.with_columns(version_id=pl.lit(archive.version, pl.String()))
            _write_meta(
                con,
                {
                    "snapshot_info": info,
                    "input_files": files,
                    "library_versions": libraries,
                },
            )
            _write_meta(con, {"columns": _catalog_rows(con, catalog)})
            _comment_all(con, catalog)
            archive.parquet_prints = _export_parquet(
                con, parquet_dir, archive.previous(), archive.contents
            )
            archive.stage(con, _ALIAS, catalog)  # .dta, .sav, codebook (unless the version exists)
            con.execute(f"CHECKPOINT {_ALIAS}")
            con.execute(f"DETACH {_ALIAS}")
            attached = False
            wal = tmp_db.with_name(tmp_db.name + ".wal")
            if wal.exists():
                raise RuntimeError(f"{wal} survived the checkpoint; snapshot not published")
            archive.file(tmp_db, parquet_dir)  # versions/<id>, whole or absent
            target = out_dir / SNAPSHOT_FILE
            replace_file(tmp_db, target)
            previous = swap_folder(parquet_dir, link)
            archive.make_current()
        except BaseException:
            if archive is not None:
                archive.discard()
            drop_temp_tables(con, entities)
            drop_code_tables(con, vocabularies)
            drop_code_tables(con, vocabularies)
            if attached:
                con.execute(f"DETACH {_ALIAS}")
            remove_stale(out_dir, [tmp_db.name, tmp_db.name + ".wal", parquet_dir.name], keep=[])
            raise
        # Keep the previous Parquet version: a reader may have listed it just before the swap.
        remove_stale(out_dir, [".parquet-*"], keep=[p for p in (parquet_dir, previous) if p])
        archive.prune()
    return PublishResult(
        path=target,
        parquet_dir=link,
        snapshot_id=snapshot_id,
        key_fingerprint=fingerprint,
        rows=rows,
        withheld_tables=withheld_tables,
        withheld_columns=withheld_columns,
        seconds=time.perf_counter() - started,
        version_id=archive.version,
    )


def publish(
    working_db: Path, out_dir: Path, key: bytes, run_info: Mapping[str, Any]
) -> PublishResult:
    """Publish from the warehouse file `working_db`, opened read-only for the duration."""
    con = duckdb.connect()
    # Id maps that spill under memory pressure hold raw ids: keep them out of the working
    # directory (often the repository) and delete them with the connection.
    spill = tempfile.mkdtemp(prefix="mentorscope-publish-")
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET temp_directory = {_text(spill)}")
        con.execute(f"ATTACH {_text(str(Path(working_db).resolve()))} AS working (READ_ONLY)")
        return publish_with_connection(con, out_dir, key, run_info, source="working")
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def publish_snapshot(
    working_db: Path, out_dir: Path, key: bytes, run_info: Mapping[str, Any]
) -> Path:
    """Write out_dir/research.duckdb and out_dir/parquet/<schema>/<table>.parquet; return the
    snapshot's path. Readers holding the previous snapshot open keep reading it undisturbed."""
    return publish(working_db, out_dir, key, run_info).path
