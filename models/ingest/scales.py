"""Item scales from the instrument codebooks, for the survey range rule."""

from __future__ import annotations

from pathlib import Path

import yaml

INSTRUMENT_DIR = Path(__file__).resolve().parents[1] / "instruments"


def item_scales(folder: Path = INSTRUMENT_DIR) -> dict[str, tuple[float, float]]:
    scales: dict[str, tuple[float, float]] = {}
    for path in sorted(folder.glob("*.yaml")):
        book = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if "scale" not in book:
            continue
        bounds = (float(book["scale"]["min"]), float(book["scale"]["max"]))
        items = set(book.get("items", {}) or {})
        for members in (book.get("constructs") or {}).values():
            items.update(members)
        scales.update(dict.fromkeys(items, bounds))
    return scales
