from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.adapters.dates import (
    combine_date_time,
    parse_date_any,
    parse_number_any,
    parse_time_any,
    parse_timestamp_any,
)
from models.adapters.text_table import read_text_table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/10/18 4:01", dt.datetime(2018, 5, 10, 4, 1)),
        ("31 July, 2022", dt.datetime(2022, 7, 31)),
        ("07/31/2022 2:00 PM", dt.datetime(2022, 7, 31, 14, 0)),
        ("7/31/2022 2:00 p.m.", dt.datetime(2022, 7, 31, 14, 0)),
        ("2017-07-18 08:28:09", dt.datetime(2017, 7, 18, 8, 28, 9)),
        ("2022-07-31T14:00:00.250", dt.datetime(2022, 7, 31, 14, 0, 0, 250000)),
        ("  2022-07-31  ", dt.datetime(2022, 7, 31)),
        ("August 1, 2022", dt.datetime(2022, 8, 1)),
    ],
)
def test_timestamp_formats(text: str, expected: dt.datetime) -> None:
    assert parse_timestamp_any(text) == expected


def test_offsets_convert_to_the_program_zone() -> None:
    # 14:00 UTC in late July is 15:00 in London (BST) and 07:00 in Los Angeles (PDT).
    assert parse_timestamp_any("2022-07-31T14:00:00Z", tz="Europe/London") == dt.datetime(
        2022, 7, 31, 15, 0
    )
    assert parse_timestamp_any("2022-07-31T16:00:00+02:00", tz="America/Los_Angeles") == (
        dt.datetime(2022, 7, 31, 7, 0)
    )
    # A value without offset is already local: left alone.
    assert parse_timestamp_any("2022-07-31T14:00:00", tz="America/Los_Angeles") == dt.datetime(
        2022, 7, 31, 14, 0
    )


def test_ambiguous_dates_are_month_first_unless_declared() -> None:
    assert parse_date_any("05/04/2024") == dt.date(2024, 5, 4)
    assert parse_date_any("05/04/2024", formats=["%d/%m/%Y"]) == dt.date(2024, 4, 5)
    # Only declared formats are tried: a month-first value that does not fit stays null.
    assert parse_date_any("12/31/2024", formats=["%d/%m/%Y"]) is None
    assert parse_date_any("31.12.2024") == dt.date(2024, 12, 31)


def test_series_in_series_out_with_nulls() -> None:
    values = pl.Series("d", ["2024-01-02", None, "not a date", "", "1/2/24"])
    out = parse_date_any(values)
    assert isinstance(out, pl.Series) and out.name == "d"
    assert out.to_list() == [dt.date(2024, 1, 2), None, None, None, dt.date(2024, 1, 2)]


def test_times_and_numbers() -> None:
    times = parse_time_any(pl.Series(["4:00:00 PM", "12:15:00 AM", "16:05", "nope"]))
    assert times.to_list() == [dt.time(16, 0), dt.time(0, 15), dt.time(16, 5), None]
    assert parse_number_any(pl.Series(["60 ", " 45", "x", None])).to_list() == [
        60.0,
        45.0,
        None,
        None,
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), min_size=1, max_size=40))
def test_parsers_never_raise(texts: list[str | None]) -> None:
    values = pl.Series("v", texts, dtype=pl.String)
    assert len(parse_date_any(values)) == len(texts)
    assert len(parse_timestamp_any(values, tz="Europe/Berlin")) == len(texts)
    assert len(parse_time_any(values)) == len(texts)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)),
                min_size=1, max_size=50))  # fmt: skip
def test_iso_dates_round_trip(days: list[dt.date]) -> None:
    text = pl.Series([d.isoformat() for d in days])
    assert parse_date_any(text).to_list() == days
    midnight = [dt.datetime.combine(d, dt.time()) for d in days]
    assert parse_timestamp_any(text).to_list() == midnight


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
            lambda d: d.replace(microsecond=0)
        ),
        min_size=1,
        max_size=50,
    )
)
def test_iso_timestamps_round_trip(stamps: list[dt.datetime]) -> None:
    for render in (
        dt.datetime.isoformat,
        lambda d: d.isoformat(sep=" "),
        lambda d: d.strftime("%m/%d/%Y %I:%M:%S %p"),
    ):
        assert parse_timestamp_any(pl.Series([render(d) for d in stamps])).to_list() == stamps
    assert parse_timestamp_any(stamps[0].isoformat()) == stamps[0]  # scalar in, scalar out


@pytest.mark.external
def test_carpentrycon_session_log(external: Path) -> None:
    """A real messy log: '31 July, 2022' dates, AM/PM clocks, '60 ' minutes. The UTC start must
    be the Pacific start plus 7 hours (PDT) on every row, including rows whose UTC day rolled over.
    """
    path = external / "carpentries_cc-by" / "carpentrycon2022_zoom_session-metadata.csv"
    _, log = read_text_table(path)
    assert log.height == 72
    days = parse_date_any(log["Start Day UTC"])
    utc_clock = parse_time_any(log["Start time UTC"])
    pacific_clock = parse_time_any(log["Start time Pacific"])
    minutes = parse_number_any(log["Minutes"])
    assert days.null_count() == utc_clock.null_count() == pacific_clock.null_count() == 0
    assert minutes.null_count() == 0
    assert days.min() == dt.date(2022, 7, 31) and days.max() == dt.date(2022, 8, 12)
    assert "60 " in log["Minutes"].to_list()  # the padded value really is there, and parsed
    utc = combine_date_time(days, utc_clock)
    assert utc[0] == dt.datetime(2022, 7, 31, 23, 0)
    pacific = utc - dt.timedelta(hours=7)
    assert (pacific.dt.time() == pacific_clock).all()
    # Sessions whose Pacific start is the previous evening: the UTC day rolled over.
    assert (pacific.dt.date() < days).sum() > 0
