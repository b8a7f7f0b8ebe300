"""meta.library_versions: the library versions that computed a snapshot, beside the lock's.

A number published last month can only be recomputed with the libraries that computed it.
The installed versions are what ran; `uv.lock` (beside the package in a clone) is what the
suite passed with. Both go into the snapshot, with whether they agree.
"""

from __future__ import annotations

import hashlib
import platform
import tomllib
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import polars as pl
from packaging.markers import Marker
from packaging.utils import canonicalize_name

# The libraries whose code computes, validates or stores a published number.
COMPUTING_LIBRARIES = (
    "duckdb",
    "polars",
    "pyarrow",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "great-expectations",
    "dagster",
    "plotly",
)

LOCK_FILE = Path(__file__).resolve().parents[2] / "uv.lock"

LIBRARY_SCHEMA: dict[str, pl.DataType] = {
    "library": pl.String(),
    "installed_version": pl.String(),
    "locked_version": pl.String(),
    "matches_lock": pl.Boolean(),
}


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _applies(package: dict) -> bool:
    """A lock entry may hold one of several versions, each for some Pythons (its markers)."""
    markers = package.get("resolution-markers")
    return not markers or any(Marker(m).evaluate() for m in markers)


@cache
def locked_versions(lock: Path = LOCK_FILE) -> dict[str, str]:
    """Package name → the version uv.lock installs on this Python and platform ({} if no lock,
    as in an installed wheel, which carries none)."""
    if not lock.is_file():
        return {}
    packages = tomllib.loads(lock.read_text(encoding="utf-8")).get("package", [])
    return {
        canonicalize_name(p["name"]): p["version"]
        for p in packages
        if "version" in p and _applies(p)
    }


def lock_sha256(lock: Path = LOCK_FILE) -> str | None:
    return hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None


def python_version() -> str:
    return platform.python_version()


def library_versions(lock: Path = LOCK_FILE) -> pl.DataFrame:
    """One row per computing library (and Python): installed, locked, and whether they agree
    (null when there is no lock to compare with)."""
    locked = locked_versions(lock)
    rows = [
        {
            "library": "python",
            "installed_version": python_version(),
            "locked_version": None,
            "matches_lock": None,
        }
    ]
    for name in COMPUTING_LIBRARIES:
        installed = _installed(name)
        pinned = locked.get(canonicalize_name(name))
        rows.append(
            {
                "library": name,
                "installed_version": installed,
                "locked_version": pinned,
                "matches_lock": None if not locked else installed == pinned,
            }
        )
    return pl.DataFrame(rows, schema=LIBRARY_SCHEMA)
