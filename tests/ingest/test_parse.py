"""Value spellings people put in exports, parsed or refused."""

from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.ingest.parse import (
    clean_text,
    enum_key,
    normalise_demographic,
    parse_bool,
    parse_date,
    parse_int,
    parse_timestamp,
)


def _apply(expr_fn, values: list[str | None]) -> list:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(expr_fn(clean_text(pl.col("v"))).alias("out"))["out"].to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("Yes", True),
        ("no", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        (" t ", True),
        ("maybe", None),
        ("", None),
        (None, None),
    ],
)
def test_booleans_in_the_spellings_people_use(text, expected):
    assert _apply(parse_bool, [text]) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-04",
        "2025/03/04",
        "03/04/2025",
        "3/4/2025",
        "4 March 2025",
        "March 4, 2025",
        "04.03.2025",
        "2025-03-04 10:30",
        "2025-03-04T23:30:00Z",
    ],
)
def test_dates_in_iso_and_common_export_formats(text):
    assert _apply(parse_date, [text]) == [date(2025, 3, 4)]


def test_unreadable_date_is_null_not_a_guess():
    assert _apply(parse_date, ["31/31/2025", "soon", "2025-13-01"]) == [None, None, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04 14:30:00", datetime(2025, 3, 4, 14, 30)),
        ("2025-03-04T14:30", datetime(2025, 3, 4, 14, 30)),
        ("03/04/2025 2:30 PM", datetime(2025, 3, 4, 14, 30)),
        ("2025-03-04T14:30:00+02:00", datetime(2025, 3, 4, 12, 30)),  # offsets honoured as UTC
        ("2025-03-04", datetime(2025, 3, 4)),
    ],
)
def test_timestamps(text, expected):
    assert _apply(parse_timestamp, [text]) == [expected]


def test_integers_refuse_fractions():
    assert _apply(parse_int, ["3", "3.0", "2.5", "x"]) == [3, 3, None, None]


def test_enum_spellings_fold_to_canonical_keys():
    out = _apply(enum_key, ["In person", "in-person", "NO_SHOW", " Video "])
    assert out == ["in_person", "in_person", "no_show", "video"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Female", "woman"),
        ("F", "woman"),
        ("man", "man"),
        ("Non-binary", "non_binary"),
        ("Prefer not to say", "undisclosed"),
        (None, "undisclosed"),
        ("", "undisclosed"),
        ("Two-Spirit", "self_described"),
    ],
)
def test_gender_normalisation_never_guesses(text, expected):
    assert _apply(lambda e: normalise_demographic(e, "gender"), [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Black or African American", "black"),
        ("Latina", "hispanic_latino"),
        ("Two or more races", "multiracial"),
        ("Cape Verdean", "self_described"),
        ("prefer not to answer", "undisclosed"),
    ],
)
def test_race_normalisation(text, expected):
    assert _apply(lambda e: normalise_demographic(e, "race_ethnicity"), [text]) == [expected]


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)))
def test_iso_dates_round_trip(day):
    assert _apply(parse_date, [day.isoformat()]) == [day]


@given(st.text(max_size=40))
def test_parsers_never_raise_on_arbitrary_text(text):
    expected_types = {parse_bool: bool, parse_date: date, parse_timestamp: datetime, parse_int: int}
    for fn, kind in expected_types.items():
        (value,) = _apply(fn, [text])
        assert value is None or isinstance(value, kind)
    (category,) = _apply(lambda e: normalise_demographic(e, "gender"), [text])
    assert category in {"woman", "man", "non_binary", "self_described", "undisclosed"}
