"""meta.snapshot_info and meta.input_files: what a snapshot is, so that it can be cited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import polars as pl

from models.metrics.settings import MetricSettings, load_settings, settings_from_mapping
from models.publish.environment import lock_sha256, python_version
from models.publish.pseudonyms import SCHEME

INPUT_FILE_SCHEMA: dict[str, pl.DataType] = {
    "table_name": pl.String(),
    "source_file": pl.String(),
    "file_sha256": pl.String(),
    "rows_read": pl.Int64(),
    "loaded_at": pl.Datetime("us"),
}


def pipeline_version() -> str:
    try:
        return version("mentorscope")
    except PackageNotFoundError:
        return "unknown"


def _as_of(run_info: Mapping[str, Any]) -> dt.date:
    # One form of the as-of date everywhere (issue 19): a date, never a string or datetime.
    value = run_info.get("as_of")
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"run_info['as_of'] must be a datetime.date, got {value!r}")
    return value


def run_settings(run_info: Mapping[str, Any]) -> MetricSettings:
    """The metric settings a run used (run_info['settings'], else settings.yaml)."""
    return _settings(run_info, _as_of(run_info))


def _settings(run_info: Mapping[str, Any], as_of: dt.date) -> MetricSettings:
    given = run_info.get("settings")
    if isinstance(given, MetricSettings):
        return given
    if isinstance(given, Mapping):
        return settings_from_mapping(given, as_of=as_of)
    return load_settings(as_of=as_of)


def inputs_sha256(files: pl.DataFrame) -> str:
    lines = sorted(
        f"{r['table_name']}\t{r['source_file']}\t{r['file_sha256']}"
        for r in files.iter_rows(named=True)
    )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


# What the snapshot says of itself (docs/security.md, "Two publication tiers").
TIER = (
    "row-level research tier: one row per person, match and meeting, pseudonymised; for "
    "approved researchers under a data-use agreement only. Never give it to HR or the public: "
    "`mentorscope aggregate` writes the aggregate tier, under disclosure control, for them."
)


def snapshot_info(
    *,
    snapshot_id: str,
    built_at: dt.datetime,
    run_info: Mapping[str, Any],
    key_fingerprint: str,
    catalog_sha256: str,
    input_files: pl.DataFrame,
) -> pl.DataFrame:
    """One row. run_info: as_of (required), run_id, settings, pipeline_version (optional)."""
    as_of = _as_of(run_info)
    settings = _settings(run_info, as_of)
    row = {
        "snapshot_id": snapshot_id,
        "built_at": built_at.replace(tzinfo=None),
        "as_of": as_of,
        "pipeline_version": str(run_info.get("pipeline_version") or pipeline_version()),
        "run_id": run_info.get("run_id"),
        "settings_hash": settings.hash,
        "settings_json": json.dumps(settings.canonical(), sort_keys=True, default=str),
        "inputs_sha256": inputs_sha256(input_files),
        "input_files": input_files.height,
        "key_fingerprint": key_fingerprint,
        "pseudonym_scheme": SCHEME,
        "catalog_sha256": catalog_sha256,
        "python_version": python_version(),
        "lock_sha256": lock_sha256(),
        "tier": TIER,
    }
    return pl.DataFrame(
        [row],
        schema={
            "snapshot_id": pl.String(),
            "built_at": pl.Datetime("us"),
            "as_of": pl.Date(),
            "pipeline_version": pl.String(),
            "run_id": pl.String(),
            "settings_hash": pl.String(),
            "settings_json": pl.String(),
            "inputs_sha256": pl.String(),
            "input_files": pl.Int64(),
            "key_fingerprint": pl.String(),
            "pseudonym_scheme": pl.String(),
            "catalog_sha256": pl.String(),
            "python_version": pl.String(),
            "lock_sha256": pl.String(),
            "tier": pl.String(),
        },
    )
