"""Load an instrument codebook (items, constructs, scale, reverse scoring, labels)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl
import yaml

MFQ9_PATH = Path(__file__).resolve().parent / "mfq9.yaml"


@dataclass(frozen=True)
class Codebook:
    """One instrument: which items measure which construct, on what scale."""

    instrument: str
    title: str
    scale_min: float
    scale_max: float
    min_answered_share: float
    constructs: Mapping[str, tuple[str, ...]]
    reverse_scored: frozenset[str]
    items: Mapping[str, str]
    labels: Mapping[str, float]

    def __post_init__(self) -> None:
        if self.scale_min >= self.scale_max:
            raise ValueError(f"{self.instrument}: scale min must be below max")
        if not 0 < self.min_answered_share <= 1:
            raise ValueError(f"{self.instrument}: min_answered_share must be in (0, 1]")
        seen: dict[str, str] = {}
        for construct, item_ids in self.constructs.items():
            if not item_ids:
                raise ValueError(f"{self.instrument}: construct {construct} has no items")
            for item in item_ids:
                if item in seen:
                    raise ValueError(
                        f"{self.instrument}: item {item} is in {seen[item]} and {construct}"
                    )
                seen[item] = construct
        if self.items and set(seen) - set(self.items):
            raise ValueError(
                f"{self.instrument}: items without text: {sorted(set(seen) - set(self.items))}"
            )
        unknown_reverse = self.reverse_scored - set(seen)
        if unknown_reverse:
            raise ValueError(
                f"{self.instrument}: reverse_scored names unknown items {sorted(unknown_reverse)}"
            )

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item for items in self.constructs.values() for item in items)

    def item_frame(self) -> pl.DataFrame:
        """item_id, construct, reverse: one row per scored item."""
        rows = [
            {"item_id": item, "construct": construct, "reverse": item in self.reverse_scored}
            for construct, items in self.constructs.items()
            for item in items
        ]
        return pl.DataFrame(
            rows, schema={"item_id": pl.String, "construct": pl.String, "reverse": pl.Boolean}
        )

    def label_value(self, text: str) -> float | None:
        """Numeric value of a Likert label as an export may write it (case and spaces ignored)."""
        return self.labels.get(" ".join(text.strip().lower().split()))


def codebook_from_mapping(
    raw: Mapping[str, Any], *, default_min_answered_share: float | None = None
) -> Codebook:
    scale = raw.get("scale") or {}
    share = raw.get("min_answered_share", default_min_answered_share)
    if share is None:
        raise ValueError(f"{raw.get('instrument')}: no min_answered_share in codebook or default")
    labels = {
        " ".join(str(k).lower().split()): float(v) for k, v in (raw.get("labels") or {}).items()
    }
    return Codebook(
        instrument=str(raw["instrument"]),
        title=str(raw.get("title", raw["instrument"])),
        scale_min=float(scale["min"]),
        scale_max=float(scale["max"]),
        min_answered_share=float(share),
        constructs=MappingProxyType(
            {str(c): tuple(str(i) for i in items) for c, items in raw["constructs"].items()}
        ),
        reverse_scored=frozenset(str(i) for i in raw.get("reverse_scored") or []),
        items=MappingProxyType({str(k): str(v) for k, v in (raw.get("items") or {}).items()}),
        labels=MappingProxyType(labels),
    )


def load_codebook(
    path: str | Path = MFQ9_PATH, *, default_min_answered_share: float | None = None
) -> Codebook:
    """Read a codebook YAML; `default_min_answered_share` applies when the file names none."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return codebook_from_mapping(raw, default_min_answered_share=default_min_answered_share)
