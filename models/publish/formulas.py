"""Keep text that looks like a spreadsheet formula from running when a CSV is opened.

A survey answer such as ``=HYPERLINK("http://evil.example", "click")`` is data to the
pipeline, but Excel, LibreOffice and Google Sheets evaluate a cell that starts with ``=``,
``+``, ``-`` or ``@`` (and some also after a leading tab or carriage return). Every CSV the
project writes passes through ``neutralise_formulas``: such text gets a leading apostrophe,
which spreadsheets show as text and never evaluate. Numbers stay numbers; a text cell that
is just a number ("-3", "+1.5") is left alone because a spreadsheet reads it as that number.
DuckDB and Parquet files keep values verbatim: nothing evaluates them.
"""

from __future__ import annotations

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def neutralise_text(value: str | None) -> str | None:
    """One value: prefixed with an apostrophe when a spreadsheet would evaluate it."""
    if value is None or not value.startswith(FORMULA_STARTS):
        return value
    frame = pl.DataFrame({"v": [value]})
    return neutralise_formulas(frame)["v"][0]


def neutralise_expr(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String)
    risky = text.str.contains(_TRIGGER) & ~text.str.contains(_PLAIN_NUMBER)
    return pl.when(risky).then(pl.lit("'") + text).otherwise(text)


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text column neutralised; other columns untouched."""
    text_columns = [c for c, t in frame.schema.items() if t == pl.String]
    if not text_columns:
        return frame
    return frame.with_columns(neutralise_expr(pl.col(c)).alias(c) for c in text_columns)


def safe_csv(frame: pl.DataFrame) -> str:
    """CSV text of `frame` that is safe to open in a spreadsheet."""
    return neutralise_formulas(frame).write_csv()
