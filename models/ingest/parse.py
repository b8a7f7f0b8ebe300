"""Vectorised parsers for the value spellings people put in exports.

Each parser takes a string expression (already trimmed, blank as null) and returns a typed
expression that is null where the text cannot be read; the row rules compare the two to
tell a blank from a value that failed to parse.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import polars as pl
import yaml

LOOKUP_DIR = Path(__file__).with_name("lookups")

TRUE_SPELLINGS = ("true", "t", "yes", "y", "1", "1.0")
FALSE_SPELLINGS = ("false", "f", "no", "n", "0", "0.0")

# Month-first for slashed dates, the common US export default; a mapping.yaml can declare
# another format for a table's column when a program writes day-first.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d.%m.%Y",
    "%d %B %Y",
    "%d %B, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%b %d, %Y",
)
NAIVE_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%y %H:%M",
    "%d.%m.%Y %H:%M",
)
AWARE_TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%#z",
    "%Y-%m-%d %H:%M:%S%#z",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M%#z",
)


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Trim, and treat empty strings as missing."""
    stripped = expr.cast(pl.String).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def parse_bool(expr: pl.Expr) -> pl.Expr:
    low = expr.str.to_lowercase()
    return (
        pl.when(low.is_in(TRUE_SPELLINGS))
        .then(True)
        .when(low.is_in(FALSE_SPELLINGS))
        .then(False)
        .otherwise(None)
        .cast(pl.Boolean)
    )


def parse_float(expr: pl.Expr) -> pl.Expr:
    number = expr.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)
    # "nan" and "inf" parse as floats but are not values anyone measured.
    return pl.when(number.is_finite()).then(number).otherwise(None)


def parse_int(expr: pl.Expr) -> pl.Expr:
    as_float = parse_float(expr)
    # "3.0" is an integer; "2.5" is not and must fail the type rule; nor does a number too
    # large to hold exactly (a value like 1e30 is a typo, not a count).
    whole = (as_float == as_float.floor()) & (as_float.abs() <= 2**53)
    return pl.when(whole).then(as_float).otherwise(None).cast(pl.Int64, strict=False)


def _first_parse(values: pl.Series, parsers: list[Callable[[pl.Series], pl.Series]]) -> pl.Series:
    """What ``pl.coalesce`` of every parser gives (the first format that reads a value wins),
    without running a parser on the values an earlier one read: nearly every value of an
    export parses with the first format, so one pass usually does (20 passes before)."""
    out = parsers[0](values)
    for parse in parsers[1:]:
        todo = (out.is_null() & values.is_not_null()).arg_true()
        if todo.len() == 0:
            break
        out = out.scatter(todo, parse(values.gather(todo)))
    return out


def _strptime(dtype: pl.DataType, fmt: str) -> Callable[[pl.Series], pl.Series]:
    return lambda s: s.str.strptime(dtype, fmt, strict=False)


def _aware(fmt: str) -> Callable[[pl.Series], pl.Series]:
    # Offsets are honoured by converting to UTC; naive times are taken as the program's
    # local time, which is what exports write.
    parse = _strptime(pl.Datetime("us", "UTC"), fmt)
    return lambda s: parse(s).dt.replace_time_zone(None)


def _midnight(fmt: str) -> Callable[[pl.Series], pl.Series]:
    parse = _strptime(pl.Date(), fmt)
    return lambda s: parse(s).cast(pl.Datetime("us"))


def _timestamp_parsers(formats: tuple[str, ...]) -> list[Callable[[pl.Series], pl.Series]]:
    naive = [_strptime(pl.Datetime("us"), f) for f in formats]
    aware = [_aware(f) for f in AWARE_TIMESTAMP_FORMATS]
    return [*naive, *aware, *[_midnight(f) for f in DATE_FORMATS[:4]]]


def parse_date(expr: pl.Expr, formats: tuple[str, ...] = DATE_FORMATS) -> pl.Expr:
    timestamps = _timestamp_parsers(NAIVE_TIMESTAMP_FORMATS)
    # A timestamp where a date is expected keeps its calendar date.
    parsers = [_strptime(pl.Date(), f) for f in formats]
    parsers.append(lambda s: _first_parse(s, timestamps).dt.date())
    return expr.map_batches(lambda s: _first_parse(s, parsers), return_dtype=pl.Date())


def parse_timestamp(expr: pl.Expr, formats: tuple[str, ...] = NAIVE_TIMESTAMP_FORMATS) -> pl.Expr:
    parsers = _timestamp_parsers(formats)
    return expr.map_batches(lambda s: _first_parse(s, parsers), return_dtype=pl.Datetime("us"))


def enum_key(expr: pl.Expr) -> pl.Expr:
    """Spelling-insensitive form of an enumeration value: 'In-person' -> 'in_person'."""
    return expr.str.to_lowercase().str.replace_all(r"[\s\-/]+", "_").str.strip_chars("_")


@cache
def load_lookup(name: str) -> dict[str, str]:
    raw = yaml.safe_load((LOOKUP_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return {str(k).strip().lower(): str(v) for k, v in raw.items()}


def lookup_key(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.strip_chars(" .;:!?'\"").str.replace_all(r"\s+", " ")


def normalise_demographic(expr: pl.Expr, lookup: str) -> pl.Expr:
    """Map free-text answers onto the contract's categories; never guess.

    Blank becomes ``undisclosed``; an answer not in the documented lookup becomes
    ``self_described`` (its raw text is kept only in the restricted schema).
    """
    table = load_lookup(lookup)
    key = lookup_key(expr)
    mapped = key.replace_strict(table, default=None, return_dtype=pl.String)
    return (
        pl.when(expr.is_null())
        .then(pl.lit("undisclosed"))
        .otherwise(pl.coalesce(mapped, pl.lit("self_described")))
    )
