"""The rounds of models.disclosure.protection.protect_table: an audit costs seconds to minutes
on a large table, so no pattern is audited twice the same way."""

from __future__ import annotations

import numpy as np
import pytest

import models.disclosure.protection as protection_module
from models.disclosure.protection import protect_table

from .test_attack import K
from .test_windows import _table, small_windows  # noqa: F401 - a fixture


def test_no_pattern_is_audited_twice_alike(
    small_windows: list[int],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Windowed, so not pruned: the rounds end on an audit of the final pattern, which the
    # closing verdict takes instead of auditing it again.
    table, _ = _table(3, 8)
    seen: list[tuple[bytes, bytes]] = []
    real = protection_module.audit

    def recorded(table, hidden, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if kwargs.get("cells") is None:
            thorough = kwargs.get("thorough")
            thorough = np.zeros(hidden.size, bool) if thorough is None else thorough
            seen.append((np.asarray(hidden).tobytes(), np.asarray(thorough).tobytes()))
        return real(table, hidden, *args, **kwargs)

    monkeypatch.setattr(protection_module, "audit", recorded)
    protect_table(table, K)
    assert small_windows, "the table did not take the windowed path"
    assert len(seen) >= 2  # at least one round of complements, then the final pattern
    assert len(set(seen)) == len(seen)
