"""Stalled-match alerts: how many matches each alert flags, never which ones."""

from __future__ import annotations

import polars as pl

from models.reporting import labels
from models.reporting.markup import esc, fmt_number


def alert_totals(alert_counts: pl.DataFrame, program_id: str | None) -> list[tuple[str, int]]:
    """(alert, n) sorted by alert; for all programs, null-program rows or else the sum."""
    frame = alert_counts
    if program_id is not None:
        frame = frame.filter(pl.col("program_id") == program_id)
    elif frame.get_column("program_id").is_null().any():
        frame = frame.filter(pl.col("program_id").is_null())
    totals = frame.group_by("alert").agg(pl.col("alerts").sum()).sort("alert")
    return [(r["alert"], int(r["alerts"])) for r in totals.to_dicts()]


def alert_cards(totals: list[tuple[str, int]]) -> str:
    items = "".join(
        '<li class="card">'
        f'<p class="label">{esc(labels.alert_label(alert))}</p>'
        f'<p class="value">{esc(fmt_number(n))}</p>'
        f'<p class="change">matches flagged (<code>{esc(alert)}</code>)</p></li>'
        for alert, n in totals
    )
    return f'<ul class="cards">{items}</ul>'
