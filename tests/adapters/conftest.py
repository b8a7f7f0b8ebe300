"""Shared fixtures: the real third-party exports in ../shared/external (see its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

EXTERNAL = Path(__file__).resolve().parents[2].parent / "shared" / "external"


@pytest.fixture(scope="session")
def external() -> Path:
    """The external data folder; tests that need it skip cleanly when it is absent."""
    if not EXTERNAL.is_dir():
        pytest.skip(f"external test data not present at {EXTERNAL}")
    return EXTERNAL
