"""Dates and times as exports write them, parsed by trying formats in order and coalescing.

Ambiguous numeric dates (`05/04/2024`) are read month-first, as US-made survey tools write them.
A program whose export is day-first declares its format in mapping.yaml (`date_format`), and
then only the declared formats are tried.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

# Unambiguous or month-first date formats, most common first. `%d.%m.%Y` is day-first because
# nobody writes dotted dates month-first.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%y",  # before %Y, which would read "18" as the year 18
    "%m/%d/%Y",
    "%d %B, %Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%d %b %Y",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%b %d, %Y",
    "%d.%m.%Y",
    "%Y%m%d",
)

_CLOCKS: tuple[str, ...] = (
    "%H:%M:%S%.f",
    "%H:%M:%S",
    "%H:%M",
    "%I:%M:%S %p",
    "%I:%M %p",
    "%I:%M:%S%p",
    "%I:%M%p",
)

# Offsets or a trailing Z: converted to the program's zone, then made naive.
AWARE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%#z",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%#z",
    "%Y-%m-%d %H:%M:%S %#z",
)

TIMESTAMP_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    *(f"{date} {clock}" for date in ("%m/%d/%y", "%m/%d/%Y", "%Y/%m/%d") for clock in _CLOCKS),
    *(f"{date} {clock}" for date in ("%d %B, %Y", "%B %d, %Y", "%d.%m.%Y") for clock in _CLOCKS),
    "%Y%m%dT%H%M%S",
)

TIME_FORMATS: tuple[str, ...] = _CLOCKS


def _as_series(values: pl.Series | Sequence[str | None] | str | None) -> tuple[pl.Series, bool]:
    if isinstance(values, pl.Series):
        series = values if values.dtype == pl.String else values.cast(pl.String, strict=False)
        return series, False
    if values is None or isinstance(values, str):
        return pl.Series("value", [values], dtype=pl.String), True
    return pl.Series("value", list(values), dtype=pl.String), False


def _clean(series: pl.Series) -> pl.Series:
    # Exports pad cells ("60 "), and some write "a.m."/"p.m."; chrono wants AM/PM.
    return (
        series.str.strip_chars()
        .str.replace_all(r"(?i)\b([ap])\.m\.", "${1}M")
        .str.replace_all(r"\s+", " ")
    )


def _plausible(part: pl.Series, fmt: str) -> pl.Series:
    """chrono's %Y accepts one or two digits, so "1/2/24" fits "%Y/%m/%d" as the year 1; such a
    fit is dropped so the next format can read it."""
    if "%Y" not in fmt:
        return part
    return pl.select(pl.when(part.dt.year() >= 1000).then(part)).to_series().alias(part.name)


def _coalesce(series: pl.Series, formats: Sequence[str], kind: str) -> pl.Series:
    parsed = []
    for fmt in formats:
        try:
            if kind == "date":
                part = series.str.to_date(fmt, strict=False)
            elif kind == "time":
                part = series.str.to_time(fmt, strict=False)
            else:
                part = series.str.to_datetime(fmt, strict=False, time_unit="us")
        except pl.exceptions.PolarsError:
            # A format polars rejects outright (bad directive) parses nothing.
            continue
        parsed.append(_plausible(part, fmt))
    if not parsed:
        dtype = {"date": pl.Date, "time": pl.Time}.get(kind, pl.Datetime("us"))
        return pl.Series(series.name, [None] * len(series), dtype=dtype)
    return pl.select(pl.coalesce(parsed)).to_series().alias(series.name)


def parse_date_any(
    values: pl.Series | Sequence[str | None] | str | None,
    formats: Sequence[str] | None = None,
) -> pl.Series | dt.date | None:
    """Dates from text; null where no format fits. Never raises on bad input.

    A timestamp-looking value yields its date part. Pass a Series (vectorised) or one string.
    """
    series, scalar = _as_series(values)
    clean = _clean(series)
    result = _coalesce(clean, formats or DATE_FORMATS, "date")
    if formats is None:
        stamps = _parse_timestamps(clean, TIMESTAMP_FORMATS, None)
        result = pl.select(pl.coalesce(result, stamps.dt.date())).to_series().alias(series.name)
    return result[0] if scalar else result


def _aware(clean: pl.Series) -> pl.Series:
    """UTC instants of the values written with an offset or `Z` (null elsewhere)."""
    aware_parts = []
    for fmt in AWARE_FORMATS:
        try:
            part = clean.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
        except pl.exceptions.PolarsError:
            continue
        aware_parts.append(_plausible(part, fmt))
    return pl.select(pl.coalesce(aware_parts)).to_series()


def _parse_timestamps(clean: pl.Series, formats: Sequence[str], tz: str | None) -> pl.Series:
    naive = _coalesce(clean, formats, "datetime")
    aware = _aware(clean)
    if tz:
        local = aware.dt.convert_time_zone(tz).dt.replace_time_zone(None)
    else:
        local = aware.dt.replace_time_zone(None)  # no zone given: keep UTC wall time
    return pl.select(pl.coalesce(naive, local)).to_series().alias(clean.name)


def parse_timestamp_any(
    values: pl.Series | Sequence[str | None] | str | None,
    formats: Sequence[str] | None = None,
    tz: str | None = None,
) -> pl.Series | dt.datetime | None:
    """Naive local timestamps from text; null where no format fits. Never raises on bad input.

    Values with an offset or `Z` are converted to `tz` (IANA name) and made naive; values without
    one are taken as already local. Date-only values become midnight. With `formats`, only those
    are tried (plus the offset-carrying ISO forms, which cannot be misread).
    """
    series, scalar = _as_series(values)
    clean = _clean(series)
    stamps = _parse_timestamps(clean, formats or TIMESTAMP_FORMATS, tz)
    dates = _coalesce(clean, DATE_FORMATS if formats is None else formats, "date")
    result = pl.select(pl.coalesce(stamps, dates.cast(pl.Datetime("us")))).to_series()
    result = result.alias(series.name)
    return result[0] if scalar else result


def offset_utc_text(values: pl.Series) -> pl.Series:
    """`2024-11-06T00:30:00+01:00` -> `2024-11-05T23:30:00Z`: the instant of a value written with
    an offset or `Z`, as ISO UTC text the row rules read (null for values without an offset).

    Used where no zone is known yet, so that the offset survives landing and the row rules can
    convert the instant to the program's zone (docs/data-contract.md, "one clock")."""
    series, _ = _as_series(values)
    clean = _clean(series)
    naive = _coalesce(clean, TIMESTAMP_FORMATS, "datetime")
    aware = _aware(clean)
    text = pl.select(pl.when(naive.is_null()).then(aware)).to_series()
    return text.dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ").alias(series.name)


def parse_time_any(
    values: pl.Series | Sequence[str | None] | str | None,
    formats: Sequence[str] | None = None,
) -> pl.Series | dt.time | None:
    """Times of day ("4:00:00 PM", "16:00"); null where no format fits."""
    series, scalar = _as_series(values)
    result = _coalesce(_clean(series), formats or TIME_FORMATS, "time")
    return result[0] if scalar else result


def parse_number_any(values: pl.Series | Sequence[str | None] | str | None) -> pl.Series | float:
    """Floats from padded text ("60 " -> 60.0); null where it is not a number."""
    series, scalar = _as_series(values)
    result = series.str.strip_chars().cast(pl.Float64, strict=False)
    return result[0] if scalar else result


def combine_date_time(dates: pl.Series, times: pl.Series) -> pl.Series:
    """Naive timestamps from a date column and a time-of-day column (null if either is)."""
    return pl.select(pl.lit(dates).dt.combine(pl.lit(times))).to_series().alias(dates.name)


def iso_text(stamps: pl.Series) -> pl.Series:
    """Canonical text for naive timestamps (`2024-03-01T09:30:00`), as adapters hand them on."""
    return stamps.dt.strftime("%Y-%m-%dT%H:%M:%S")
