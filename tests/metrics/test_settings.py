"""MetricSettings: read from models/settings.yaml, hashed stably, validated."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from types import MappingProxyType

import pytest
import yaml

from models.metrics.settings import (
    DEFAULT_SETTINGS_PATH,
    MetricSettings,
    load_settings,
    settings_from_mapping,
    settings_hash,
    settings_record,
)

AS_OF = dt.date(2025, 12, 31)


def test_loads_the_project_settings_file() -> None:
    raw = yaml.safe_load(DEFAULT_SETTINGS_PATH.read_text())
    settings = load_settings(as_of=AS_OF)
    assert settings.as_of == AS_OF
    assert list(settings.thanks_window_days) == raw["thanks_window_days"]
    assert list(settings.follow_up_window_days) == raw["follow_up_window_days"]
    assert settings.lasting_days == raw["lasting_days"]
    assert list(settings.network_match_sources) == raw["network_match_sources"]
    assert settings.stall_no_meeting_days == raw["stall_no_meeting_days"]
    assert settings.construct_min_answered_share == raw["construct_min_answered_share"]


def test_hash_is_short_hex_and_stable() -> None:
    a = load_settings(as_of=AS_OF)
    b = load_settings(as_of=dt.date(2025, 12, 31))
    assert re.fullmatch(r"[0-9a-f]{12}", settings_hash(a))
    assert settings_hash(a) == settings_hash(b) == a.hash


def test_hash_ignores_key_order_in_the_file() -> None:
    raw = yaml.safe_load(DEFAULT_SETTINGS_PATH.read_text())
    reordered = dict(reversed(list(raw.items())))
    assert settings_hash(settings_from_mapping(raw, as_of=AS_OF)) == settings_hash(
        settings_from_mapping(reordered, as_of=AS_OF)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"as_of": dt.date(2026, 1, 1)},
        {"thanks_window_days": (0, 8)},
        {"follow_up_window_days": (14, 121)},
        {"lasting_days": 181},
        {"network_match_sources": ("self_matched",)},
        {"suppression_k": 5},
        {"extra": MappingProxyType({"breakdown_min": 3})},
    ],
)
def test_every_setting_changes_the_hash(change: dict) -> None:
    base = MetricSettings(as_of=AS_OF)
    assert settings_hash(dataclasses.replace(base, **change)) != settings_hash(base)


def test_unknown_keys_are_kept_in_extra() -> None:
    settings = settings_from_mapping({"lasting_days": 90, "new_knob": [1, 2]}, as_of=AS_OF)
    assert settings.lasting_days == 90
    assert dict(settings.extra) == {"new_knob": [1, 2]}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"thanks_window_days": (8, 7)},
        {"period": "week"},
        {"construct_min_answered_share": 0.0},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        MetricSettings(as_of=AS_OF, **kwargs)


def test_as_of_must_be_a_date() -> None:
    with pytest.raises(TypeError):
        MetricSettings(as_of=dt.datetime(2025, 1, 1))  # type: ignore[arg-type]


def test_settings_record_holds_what_the_hash_is_taken_of() -> None:
    settings = MetricSettings(as_of=AS_OF, lasting_days=90)
    record = settings_record(settings).row(0, named=True)
    assert record["settings_hash"] == settings.hash
    assert record["as_of"] == AS_OF
    restored = json.loads(record["settings_json"])
    assert restored["lasting_days"] == 90 and restored["as_of"] == AS_OF.isoformat()
    digest = hashlib.sha256(record["settings_json"].encode()).hexdigest()
    assert digest.startswith(record["settings_hash"])


def test_class_defaults_are_the_settings_file(tmp_path) -> None:
    # One source: the defaults of MetricSettings are read from settings.yaml, so a bare
    # MetricSettings equals the loaded file, and a file that sets one key changes only it.
    assert MetricSettings(as_of=AS_OF) == load_settings(as_of=AS_OF)
    partial = tmp_path / "settings.yaml"
    partial.write_text("lasting_days: 91\n", encoding="utf-8")
    loaded = load_settings(partial, as_of=AS_OF)
    assert loaded == dataclasses.replace(load_settings(as_of=AS_OF), lasting_days=91)
