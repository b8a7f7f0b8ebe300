"""Polars to pandas in the shape Great Expectations 1.24 handles fast and correctly.

Measured on 1M rows (docs/validation.md): GX's between-check takes 0.06 s on a
``datetime64[ns]`` column and 5.8 s on ``datetime64[us]`` (what Polars hands pandas 3), and
pyarrow-backed columns are 2–8x slower for every expectation and cannot compare a date
column with a datetime bound. So dates and timestamps become ``datetime64[ns]``; integers
and booleans become pandas' nullable ``Int64`` / ``boolean`` so a missing value does not
turn them into floats or objects; strings are pandas 3's ``str``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import pandas as pd

# datetime64[ns] holds 1677-09-21 .. 2262-04-11; outside it a column stays microseconds.
NS_RANGE = (datetime(1677, 9, 22), datetime(2262, 4, 11))


def _ns_safe(frame: pl.DataFrame, column: str) -> bool:
    as_us = pl.col(column).cast(pl.Datetime("us")).dt.replace_time_zone(None)
    lo, hi = frame.select(as_us.min().alias("lo"), as_us.max().alias("hi")).row(0)
    return lo is None or (lo >= NS_RANGE[0] and hi <= NS_RANGE[1])


def datetime_units(frame: pl.DataFrame) -> dict[str, str]:
    """Per date/timestamp column, the pandas unit: ``ns`` unless a value lies outside its range.

    Decided from the column's minimum and maximum only, so a frame of a whole column's
    min and max (one SQL aggregate) decides the same unit as the whole column.
    """
    return {
        name: "ns" if _ns_safe(frame, name) else "us"
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Date | pl.Datetime)
    }


def to_pandas(frame: pl.DataFrame, units: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A pandas copy of ``frame`` with the dtypes listed in the module docstring.

    ``units`` fixes the unit of date/timestamp columns (from :func:`datetime_units` of the
    whole column): a batch must get the dtype the whole table would get, or the type check
    and the between-checks would judge batches differently.
    """
    import pandas as pd
    import pyarrow as pa

    if units is None:
        units = datetime_units(frame)
    casts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Date | pl.Datetime):
            # A typo like year 0024 must still be seen (and fail), not overflow: keep µs.
            unit = units.get(name) or ("ns" if _ns_safe(frame, name) else "us")
            time_zone = dtype.time_zone if isinstance(dtype, pl.Datetime) else None
            casts.append(pl.col(name).cast(pl.Datetime(unit, time_zone)))
    if casts:
        frame = frame.with_columns(casts)
    nullable = {
        pa.int8(): pd.Int64Dtype(),
        pa.int16(): pd.Int64Dtype(),
        pa.int32(): pd.Int64Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.Int64Dtype(),
        pa.uint16(): pd.Int64Dtype(),
        pa.uint32(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    return frame.to_pandas(types_mapper=nullable.get)
