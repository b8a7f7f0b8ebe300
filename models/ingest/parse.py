"""Vectorised parsers for the value spellings people put in exports.

Each parser takes a string expression (already trimmed, blank as null) and returns a typed
expression that is null where the text cannot be read; the row rules compare the two to
tell a blank from a value that failed to parse.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from zoneinfo import available_timezones

import polars as pl
import yaml

from models.vocabulary import SELF_DESCRIBED, UNDISCLOSED

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
    # An offset is honoured by converting to UTC; the caller turns that into the program's
    # local wall time (``_local``). Naive times are already the program's local time.
    return _strptime(pl.Datetime("us", "UTC"), fmt)


def _midnight(fmt: str) -> Callable[[pl.Series], pl.Series]:
    parse = _strptime(pl.Date(), fmt)
    return lambda s: parse(s).cast(pl.Datetime("us"))


@cache
def known_zones() -> frozenset[str]:
    """The IANA zone names a program's ``timezone`` may hold."""
    return frozenset(available_timezones())


def _local(aware: pl.Series, zones: pl.Series | None) -> pl.Series:
    """Naive wall time of UTC instants in each row's zone.

    A null, unknown or unusable zone gives UTC wall time (the documented default). Converting
    an instant into a zone is always well defined, DST changes included.
    """
    out = aware.dt.replace_time_zone(None)
    if zones is None:
        return out
    for zone in zones.drop_nulls().unique().to_list():
        if zone == "UTC" or zone not in known_zones():
            continue
        rows = ((zones == zone) & aware.is_not_null()).arg_true()
        if rows.len() == 0:
            continue
        try:
            moved = aware.gather(rows).dt.convert_time_zone(zone).dt.replace_time_zone(None)
        except pl.exceptions.PolarsError:
            continue  # a name Python knows but Polars does not: stays UTC wall time
        out = out.scatter(rows, moved)
    return out


def _timestamps(values: pl.Series, zones: pl.Series | None, formats: tuple[str, ...]) -> pl.Series:
    """Naive local timestamps: naive formats first (the value is already local wall time),
    then offset-carrying ISO (converted to the row's zone), then a bare date (midnight)."""
    out = _first_parse(values, [_strptime(pl.Datetime("us"), f) for f in formats])
    todo = (out.is_null() & values.is_not_null()).arg_true()
    if todo.len() == 0:
        return out
    rest = values.gather(todo)
    aware = _local(
        _first_parse(rest, [_aware(f) for f in AWARE_TIMESTAMP_FORMATS]),
        None if zones is None else zones.gather(todo),
    )
    midnight = _first_parse(rest, [_midnight(f) for f in DATE_FORMATS[:4]])
    return out.scatter(todo, aware.fill_null(midnight))


def _with_zone(
    expr: pl.Expr,
    zone: pl.Expr | None,
    parse: Callable[[pl.Series, pl.Series | None], pl.Series],
    dtype: pl.DataType,
) -> pl.Expr:
    if zone is None:
        return expr.map_batches(lambda s: parse(s, None), return_dtype=dtype)
    return pl.map_batches(
        [expr, zone.cast(pl.String)], lambda s: parse(s[0], s[1]), return_dtype=dtype
    )


def parse_date(
    expr: pl.Expr, formats: tuple[str, ...] = DATE_FORMATS, zone: pl.Expr | None = None
) -> pl.Expr:
    """Dates; a timestamp where a date is expected keeps its local calendar date (an offset
    is first converted to ``zone``, the row's program zone; UTC without one)."""

    def parse(values: pl.Series, zones: pl.Series | None) -> pl.Series:
        out = _first_parse(values, [_strptime(pl.Date(), f) for f in formats])
        todo = (out.is_null() & values.is_not_null()).arg_true()
        if todo.len() == 0:
            return out
        rest = None if zones is None else zones.gather(todo)
        stamps = _timestamps(values.gather(todo), rest, NAIVE_TIMESTAMP_FORMATS)
        return out.scatter(todo, stamps.dt.date())

    return _with_zone(expr, zone, parse, pl.Date())


def parse_timestamp(
    expr: pl.Expr, formats: tuple[str, ...] = NAIVE_TIMESTAMP_FORMATS, zone: pl.Expr | None = None
) -> pl.Expr:
    """Naive local timestamps ("one clock"): a naive value is kept as written; a value with an
    offset or ``Z`` is converted to ``zone`` (the row's program zone, an IANA name per row)
    and made naive; without a zone it stays UTC wall time."""
    return _with_zone(expr, zone, lambda v, z: _timestamps(v, z, formats), pl.Datetime("us"))


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
        .then(pl.lit(UNDISCLOSED))
        .otherwise(pl.coalesce(mapped, pl.lit(SELF_DESCRIBED)))
    )
