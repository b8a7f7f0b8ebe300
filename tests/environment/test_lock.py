"""The installed environment is the locked one, and the lock agrees with pyproject.toml.

CI installs with `uv sync --locked`, which already refuses a lock that disagrees with
pyproject.toml; these tests keep that true for any other way of installing, and show the
check can fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from models.publish.environment import COMPUTING_LIBRARIES, library_versions, locked_versions

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")

pytestmark = pytest.mark.skipif(not UV.exists(), reason="uv is installed by scripts/install.sh")


def _uv(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(UV), *args, "--offline", "--no-progress"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_lock_agrees_with_pyproject() -> None:
    done = _uv("lock", "--check")
    assert done.returncode == 0, done.stderr


def test_the_check_fails_when_pyproject_moves_without_the_lock(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    # A dependency dropped from pyproject but still in the lock (a dependency added or moved
    # fails the same way, but needs the index to say so, and tests run offline).
    line = next(x for x in text.splitlines() if x.strip().startswith('"xlsxwriter'))
    pyproject.write_text(text.replace(line + "\n", ""), encoding="utf-8")
    done = _uv("lock", "--check", cwd=tmp_path)
    assert done.returncode != 0
    # uv re-resolves only when the lock no longer satisfies pyproject: with its cache it then
    # says so; with an empty cache (a fresh CI machine, offline) it fails to reach the index.
    assert "needs to be updated" in done.stderr or "network was disabled" in done.stderr, (
        done.stderr
    )


def _locked_requirements() -> dict[str, str]:
    """name → version uv.lock installs here (with dev extras), markers evaluated."""
    done = _uv(
        "export", "--frozen", "--extra", "dev", "--no-hashes", "--no-emit-project",
        "--no-header", "--no-annotate",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pinned = {}
    for line in done.stdout.splitlines():
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            (spec,) = requirement.specifier
            pinned[canonicalize_name(requirement.name)] = spec.version
    return pinned


def test_the_environment_is_exactly_the_lock() -> None:
    # What scripts/install.sh's exact sync promises, read from the installed distributions
    # themselves (uv's own `sync --check` also depends on its cache's record of the project).
    pinned = _locked_requirements()
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    installed.pop("mentorscope")
    # The venv's own installer (python -m venv seeds it; install.sh uses it once to bootstrap
    # uv); uv's exact sync deliberately leaves it. It computes nothing.
    installed.pop("pip", None)
    assert {"numpy", "duckdb", "pytest-xdist", "uv"} <= set(pinned)
    differ = {n: (installed.get(n), v) for n, v in pinned.items() if installed.get(n) != v}
    assert differ == {}, "installed vs locked"
    assert sorted(set(installed) - set(pinned)) == [], "installed but not in the lock"


def test_the_snapshot_records_the_locked_versions_that_ran() -> None:
    frame = library_versions()
    locked = locked_versions()
    assert {"numpy", "duckdb", "statsmodels"} <= set(locked)
    by_name = {r["library"]: r for r in frame.iter_rows(named=True)}
    assert set(by_name) == {"python", *COMPUTING_LIBRARIES}
    for name in COMPUTING_LIBRARIES:
        row = by_name[name]
        assert row["locked_version"] == locked[name], name
        assert row["matches_lock"] is True, row


def test_a_version_the_lock_does_not_name_is_flagged(tmp_path: Path) -> None:
    text = (ROOT / "uv.lock").read_text(encoding="utf-8")
    installed = {r["library"]: r["installed_version"] for r in library_versions().to_dicts()}
    old = f'name = "duckdb"\nversion = "{installed["duckdb"]}"'
    assert old in text
    lock = tmp_path / "uv.lock"
    lock.write_text(text.replace(old, 'name = "duckdb"\nversion = "0.0.1"'), encoding="utf-8")
    rows = {r["library"]: r for r in library_versions(lock).to_dicts()}
    assert rows["duckdb"]["locked_version"] == "0.0.1"
    assert rows["duckdb"]["matches_lock"] is False
    assert rows["numpy"]["matches_lock"] is True
