"""Metric settings: models/settings.yaml plus the as-of date, and the hash every output carries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl
import yaml

DEFAULT_SETTINGS_PATH = Path(__file__).resolve().parents[1] / "settings.yaml"
PERIODS = ("quarter", "month", "year")


def _as_pair(value: Any, name: str) -> tuple[int, int]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"{name} must be a [low, high] pair of days, got {value!r}")
    return int(value[0]), int(value[1])


# Each setting of settings.yaml → how its YAML value becomes the typed field of MetricSettings.
_CONVERT: dict[str, Callable[[Any, str], Any]] = {
    "network_match_sources": lambda v, _: tuple(str(x) for x in v),
    "thanks_window_days": _as_pair,
    "follow_up_window_days": _as_pair,
    "lasting_days": lambda v, _: int(v),
    "period": lambda v, _: v,
    "suppression_k": lambda v, _: int(v),
    "stall_no_meeting_days": lambda v, _: int(v),
    "stall_no_interaction_days": lambda v, _: int(v),
    "construct_min_answered_share": lambda v, _: float(v),
}


def _read_yaml(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def _typed(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _CONVERT[key](raw[key], key) for key in _CONVERT.keys() & raw.keys()}


def _defaults() -> dict[str, Any]:
    """The typed settings of models/settings.yaml: the one source of every default."""
    defaults = _typed(_read_yaml(DEFAULT_SETTINGS_PATH))
    missing = sorted(_CONVERT.keys() - defaults.keys())
    if missing:
        raise ValueError(
            f"{DEFAULT_SETTINGS_PATH} must set every metric setting; missing {missing}"
        )
    return defaults


_DEFAULT = _defaults()


@dataclass(frozen=True)
class MetricSettings:
    """Everything that changes a metric's value. Defaults are those of models/settings.yaml."""

    as_of: dt.date
    network_match_sources: tuple[str, ...] = _DEFAULT["network_match_sources"]
    thanks_window_days: tuple[int, int] = _DEFAULT["thanks_window_days"]
    follow_up_window_days: tuple[int, int] = _DEFAULT["follow_up_window_days"]
    lasting_days: int = _DEFAULT["lasting_days"]
    period: str = _DEFAULT["period"]
    suppression_k: int = _DEFAULT["suppression_k"]
    stall_no_meeting_days: int = _DEFAULT["stall_no_meeting_days"]
    stall_no_interaction_days: int = _DEFAULT["stall_no_interaction_days"]
    construct_min_answered_share: float = _DEFAULT["construct_min_answered_share"]
    # Keys other parts of the project add to settings.yaml: kept so that they enter the hash.
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.as_of, dt.date) or isinstance(self.as_of, dt.datetime):
            raise TypeError(f"as_of must be a datetime.date, got {self.as_of!r}")
        for name in ("thanks_window_days", "follow_up_window_days"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: lower bound {low} is above upper bound {high}")
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {PERIODS}, got {self.period!r}")
        if not 0 < self.construct_min_answered_share <= 1:
            raise ValueError("construct_min_answered_share must be in (0, 1]")

    def canonical(self) -> dict[str, Any]:
        """Plain JSON-able dict of every setting, including as_of and extra keys."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "as_of":
                value = value.isoformat()
            elif f.name == "extra":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @property
    def hash(self) -> str:
        return settings_hash(self)


# A setting added to the class but not to _CONVERT would never be read from settings.yaml.
if _CONVERT.keys() != {f.name for f in fields(MetricSettings)} - {"as_of", "extra"}:
    raise RuntimeError("MetricSettings fields and _CONVERT must name the same settings")


def canonical_json(settings: MetricSettings) -> str:
    """The settings as canonical JSON: sorted keys, no spaces; what the hash is taken of."""
    return json.dumps(settings.canonical(), sort_keys=True, separators=(",", ":"), default=str)


def settings_hash(settings: MetricSettings) -> str:
    """First 12 hex chars of the sha256 of the settings' canonical JSON."""
    return hashlib.sha256(canonical_json(settings).encode("utf-8")).hexdigest()[:12]


def settings_record(settings: MetricSettings) -> pl.DataFrame:
    """One row for metrics.settings: settings_hash, as_of, settings_json."""
    return pl.DataFrame(
        {
            "settings_hash": [settings_hash(settings)],
            "as_of": [settings.as_of],
            "settings_json": [canonical_json(settings)],
        },
        schema={"settings_hash": pl.String, "as_of": pl.Date, "settings_json": pl.String},
    )


def settings_from_mapping(raw: Mapping[str, Any], *, as_of: dt.date) -> MetricSettings:
    """Build settings from a parsed settings.yaml; unknown keys go to `extra`."""
    extra = {k: v for k, v in raw.items() if k not in _CONVERT}
    return MetricSettings(as_of=as_of, extra=MappingProxyType(extra), **_typed(raw))


def load_settings(path: str | Path | None = None, *, as_of: dt.date) -> MetricSettings:
    """Read settings.yaml (default: models/settings.yaml) for a run as of `as_of`."""
    return settings_from_mapping(_read_yaml(path or DEFAULT_SETTINGS_PATH), as_of=as_of)
