"""Pieces every page carries: navigation, the provenance footer, and scope wording."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from models.reporting.frames import ALL_PERIODS
from models.reporting.markup import esc

NAV_LINKS: tuple[tuple[str, str], ...] = (
    ("index.html", "All reports"),
    ("research.html", "Research report"),
    ("data_quality.html", "Data quality"),
)


def nav(current: str) -> str:
    current_attr = ' aria-current="page"'
    items = "".join(
        f'<li><a href="{href}"{current_attr if href == current else ""}>{esc(text)}</a></li>'
        for href, text in NAV_LINKS
    )
    return f'<nav class="page-nav" aria-label="Reports"><ul>{items}</ul></nav>'


def program_label(program_id: str | None, name: str | None = None) -> str:
    """'Ascend Leadership (PRG001)' when the program's name is known, else 'Program PRG001'."""
    if program_id is None:
        return "All programs"
    return f"{name} ({program_id})" if name else f"Program {program_id}"


def program_names(programs: pl.DataFrame | None) -> dict[str, str]:
    """program_id -> name from the programs frame (empty when not provided)."""
    if programs is None or "name" not in programs.columns:
        return {}
    return {
        str(r["program_id"]): str(r["name"])
        for r in programs.select("program_id", "name").iter_rows(named=True)
        if r["name"]
    }


def period_label(period: str) -> str:
    return "all periods" if period == ALL_PERIODS else period


def scope_text(program_id: str | None, period: str) -> str:
    who = "all programs" if program_id is None else f"program {program_id}"
    when = "all periods" if period == ALL_PERIODS else f"matches made in {period}"
    return f"{who}, {when}"


# run_info fields the footer shows, with their labels. 'generated' is when the page itself was
# written: a dashboard whose inputs did not change keeps its file, and so its time (build.py).
FOOTER_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Data as of", ("as_of",)),
    ("generated", ("generated_at",)),
    ("settings", ("settings_hash",)),
    ("pipeline", ("pipeline_version", "version")),
)


def footer(run_info: Mapping[str, Any]) -> str:
    """Provenance in one line: which data and settings produced this page."""
    parts = [
        (label, next((run_info[k] for k in keys if run_info.get(k)), None))
        for label, keys in FOOTER_FIELDS
    ]
    text = " · ".join(f"{label} {esc(value)}" for label, value in parts if value is not None)
    return (
        f"<p>{text}</p><p>Aggregates only: no names, e-mail addresses, participant or match "
        "identifiers, and no free text. Self-contained page: works offline.</p>"
    )
