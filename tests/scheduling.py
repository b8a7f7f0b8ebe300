"""How the suite's tests are dealt to the two workers of scripts/test.sh (pytest-xdist,
--dist loadgroup). Registered by tests/conftest.py; kept apart from it, without the pipeline's
imports, so that tests/environment/test_test_runner.py can run it in a small suite of its own."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups off the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Heaviest tests first: a two-minute crash test dealt out last would run alone at the end
    while the other worker idles.

    A module whose tests share a module-scoped fixture (a pipeline run, a protected table)
    runs on one worker: dealt out test by test, each worker built the fixture again (the
    month's three runs 45 s twice, measured 2026-12-06)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None and _shares_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(definitions[-1].scope == "module" for definitions in info.name2fixturedefs.values())
