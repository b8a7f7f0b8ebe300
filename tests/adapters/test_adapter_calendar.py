"""iCalendar adapter. Expected occurrences below are counted by hand from the files' RRULE,
EXDATE and UNTIL values (the comments show the counting), not from the code's output."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from models.adapters.calendar import (
    EventInfo,
    ics_to_meetings,
    meetings_to_ics,
    pair_resolver,
    summary_pattern_resolver,
)


def anyone(info: EventInfo) -> str:
    return "M-1"


def _ics(external: Path, name: str) -> Path:
    return external / "ics_icalendar" / name


def _starts(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["started_at"].to_list())


FAR = dt.date(2030, 1, 1)


# --- the 11 real files --------------------------------------------------------------------------


@pytest.mark.external
def test_google_utc_event_with_alarms(external: Path) -> None:
    frame, rejections = ics_to_meetings(
        _ics(external, "alarm_google_future.ics"), anyone, FAR, "Europe/London"
    )
    assert rejections == []
    # 18:15Z on 4 Oct 2024 is 19:15 BST; DTEND 19:00Z gives 45 minutes.
    assert frame.select("meeting_id", "started_at", "duration_min", "status").rows() == [
        ("79fs7pkqvht9m5igs0vjv1sfra@google.com", "2024-10-04T19:15:00", "45", "held")
    ]


@pytest.mark.external
def test_custom_vtimezone(external: Path) -> None:
    frame, rejections = ics_to_meetings(_ics(external, "america_new_york.ics"), anyone, FAR, "UTC")
    assert rejections == []
    # 08:00 in the file's custom New York zone (EDT in August, -4h) is 12:00 UTC.
    assert frame.select("meeting_id", "started_at", "duration_min").rows() == [
        ("noend123", "2014-08-29T12:00:00", "120")
    ]


@pytest.mark.external
def test_big_bad_calendar_is_rejected(external: Path) -> None:
    frame, rejections = ics_to_meetings(_ics(external, "big_bad_calendar.ics"), anyone, FAR, "UTC")
    assert frame.height == 0
    assert [(r.rule, r.where) for r in rejections] == [("ics_parse", "")]
    assert "END:VCALENDAR" in rejections[0].reason


@pytest.mark.external
def test_bare_vevent_with_exdates_on_separate_lines(external: Path) -> None:
    frame, rejections = ics_to_meetings(
        _ics(external, "event_with_recurrence_exdates_on_different_lines.ics"),
        anyone,
        FAR,
        "Europe/Vienna",
    )
    assert rejections == []
    # Tuesdays 27 Mar .. 3 Jul 2012 (UNTIL 08:00Z = 10:00 CEST, inclusive) = 15, minus the
    # five EXDATEs (3, 10, 17 Apr; 1, 29 May) = 10.
    days = ["03-27", "04-24", "05-08", "05-15", "05-22", "06-05", "06-12", "06-19", "06-26",
            "07-03"]  # fmt: skip
    assert _starts(frame) == [f"2012-{d}T10:00:00" for d in days]
    assert set(frame["duration_min"]) == {"480"}
    # No UID in the file: ids are a content hash plus the occurrence start, and stable.
    assert frame["meeting_id"].n_unique() == 10
    assert all(m.startswith("ics-") for m in frame["meeting_id"])
    again, _ = ics_to_meetings(
        _ics(external, "event_with_recurrence_exdates_on_different_lines.ics"),
        anyone,
        FAR,
        "Europe/Vienna",
    )
    assert again["meeting_id"].to_list() == frame["meeting_id"].to_list()


@pytest.mark.external
def test_bare_vevent_exdate_with_tzid(external: Path) -> None:
    frame, rejections = ics_to_meetings(
        _ics(external, "issue_112_missing_tzinfo_on_exdate.ics"), anyone, FAR, "America/New_York"
    )
    assert rejections == []
    # Fri+Sat from Sat 7 Sep 2013; UNTIL 25 Oct 03:59:59Z is 24 Oct 23:59 EDT, so the last pair is
    # 18/19 Oct: 1 + 6*2 = 13, minus EXDATE 11 and 12 Oct = 11.
    days = ["09-07", "09-13", "09-14", "09-20", "09-21", "09-27", "09-28", "10-04", "10-05",
            "10-18", "10-19"]  # fmt: skip
    assert _starts(frame) == [f"2013-{d}T12:00:00" for d in days]
    uid = "ak30b02u7858q1oo6ji9dm4mgg@google.com"
    assert f"{uid}/20130907T160000Z" in frame["meeting_id"].to_list()


@pytest.mark.external
def test_exchange_rrule_with_spaces_is_repaired(external: Path) -> None:
    frame, rejections = ics_to_meetings(
        _ics(external, "issue_165_missing_event.ics"), anyone, FAR, "Europe/Amsterdam"
    )
    assert rejections == []
    # Weekdays from Fri 3 Jul 2015 to Wed 22 Jul (UNTIL 08:00Z = 10:00 local, inclusive):
    # 3; 6-10; 13-17; 20-22 = 1 + 5 + 5 + 3 = 14.
    days = [3, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 20, 21, 22]
    assert _starts(frame) == [f"2015-07-{d:02d}T10:00:00" for d in days]
    assert set(frame["duration_min"]) == {"30"}


@pytest.mark.external
def test_windows_zone_name_unquoted(external: Path) -> None:
    frame, _ = ics_to_meetings(
        _ics(external, "issue_836_do_not_quote_tzid.ics"), anyone, FAR, "UTC"
    )
    # 17:00 "Eastern Standard Time" on 28 Oct 2024 is still daylight time (-4h): 21:00 UTC.
    assert frame.select("started_at", "duration_min").rows() == [("2024-10-28T21:00:00", "60")]


@pytest.mark.external
def test_windows_zone_name_quoted(external: Path) -> None:
    frame, _ = ics_to_meetings(_ics(external, "timezone_same_start.ics"), anyone, FAR, "UTC")
    # 12:00 "Pacific Standard Time" in February (-8h) is 20:00 UTC.
    assert frame.select("started_at", "duration_min").rows() == [("2017-02-24T20:00:00", "30")]


@pytest.mark.external
def test_malformed_exdate_rejects_only_its_event(external: Path) -> None:
    frame, rejections = ics_to_meetings(_ics(external, "parsing_error.ics"), anyone, FAR, "UTC")
    assert [(r.rule, r.source_row) for r in rejections] == [("ics_event", 2)]
    assert "EXDATE" in rejections[0].reason
    # The good event: daily all-day 3..23 Mar 2008 = 21 days, minus EXDATE 11 Mar = 20.
    expected = [f"2008-03-{d:02d}T00:00:00" for d in range(3, 24) if d != 11]
    assert _starts(frame) == expected
    assert frame["duration_min"].null_count() == 20  # all-day: no meeting length


@pytest.mark.external
def test_attendees_resolve_the_match(external: Path) -> None:
    path = _ics(external, "property_params.ics")
    pairs = pair_resolver(
        {"M-7": ["Rembrand@DaxLab.com", "rembrand@xs4all.nl"], "M-8": ["a@x.org", "b@x.org"]}
    )
    frame, rejections = ics_to_meetings(path, pairs, FAR, "Europe/Amsterdam")
    assert rejections == []
    assert frame.select("meeting_id", "match_id", "started_at", "duration_min").rows() == [
        ("XRIMCAL-628059586-522954492-9750559", "M-7", "2012-08-14T00:00:00", None)
    ]
    # Two pairs both present on the invitation: ambiguous, not guessed.
    both = pair_resolver({"M-7": ["rembrand@daxlab.com"], "M-9": ["rembspam@xs4all.nl"]})
    frame, rejections = ics_to_meetings(path, both, FAR, "Europe/Amsterdam")
    assert frame.height == 0
    assert rejections[0].rule == "ambiguous_match" and "M-9" in rejections[0].reason
    frame, rejections = ics_to_meetings(path, {frozenset({"z@z.org"}): "M-0"}, FAR, "UTC")
    assert [r.rule for r in rejections] == ["no_match"]


@pytest.mark.external
def test_open_ended_weekly_series_stops_at_as_of(external: Path) -> None:
    path = _ics(external, "x_location.ics")
    # Mon-Fri from Fri 28 Oct 2016, 14:00 Zurich. Through 11 Nov: 28 Oct + 5 + 5 = 11.
    frame, _ = ics_to_meetings(path, anyone, dt.date(2016, 11, 11), "Europe/Zurich")
    assert frame.height == 11
    assert max(frame["started_at"]) == "2016-11-11T14:00:00"
    # A datetime bound is exclusive: the 11 Nov 14:00 occurrence is not before it.
    frame, _ = ics_to_meetings(path, anyone, dt.datetime(2016, 11, 11, 14, 0), "Europe/Zurich")
    assert frame.height == 10
    # 28 Oct is CEST (UTC+2), 31 Oct CET (UTC+1): ids use the UTC instant.
    ids = sorted(frame["meeting_id"])[:2]
    uid = "BFE33ADD-5553-48B5-B5A5-F9DA5CA4C393"
    assert ids == [f"{uid}/20161028T120000Z", f"{uid}/20161031T130000Z"]


@pytest.mark.external
def test_every_file_reads_or_rejects_without_crashing(external: Path) -> None:
    files = sorted((external / "ics_icalendar").glob("*.ics"))
    assert len(files) == 11
    for path in files:
        frame, rejections = ics_to_meetings(path, anyone, FAR, "UTC")
        assert frame.height + len(rejections) > 0, path.name


# --- synthetic calendars ------------------------------------------------------------------------


def _write(tmp_path: Path, body: str, name: str = "c.ics") -> Path:
    path = tmp_path / name
    path.write_text("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\n" + body + "END:VCALENDAR\n")
    return path


def test_windows_zone_without_vtimezone(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'BEGIN:VEVENT\nUID:w1\nDTSTART;TZID="Pacific Standard Time":20250110T090000\n'
        "DTEND;TZID=W. Europe Standard Time:20250110T190000\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:w2\nDTSTART;TZID=Mars/Olympus_Mons:20250110T090000\nEND:VEVENT\n",
    )
    frame, rejections = ics_to_meetings(path, anyone, FAR, "America/New_York")
    # 09:00 PST = 12:00 EST; ends 19:00 CET = 13:00 EST: 60 minutes.
    assert frame.select("meeting_id", "started_at", "duration_min").rows() == [
        ("w1", "2025-01-10T12:00:00", "60")
    ]
    assert [(r.rule, r.source_row) for r in rejections] == [("ics_event", 2)]
    assert "Mars/Olympus_Mons" in rejections[0].reason


def test_overrides_cancellations_floating_and_bad_events(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        # Weekly Monday 17:00 floating time, 4 times from 6 Jan 2025. The 13 Jan instance is moved
        # to Tue 14 Jan 18:00, the 20 Jan one cancelled; 27 Jan is excluded.
        "BEGIN:VEVENT\nUID:s1\nSUMMARY:[M-42] check-in\nDTSTART:20250106T170000\n"
        "DURATION:PT45M\nRRULE:FREQ=WEEKLY;COUNT=4\nEXDATE:20250127T170000\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:s1\nSUMMARY:[M-42] moved\nRECURRENCE-ID:20250113T170000\n"
        "DTSTART:20250114T180000\nDTEND:20250114T183000\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:s1\nSUMMARY:[M-42] off\nRECURRENCE-ID:20250120T170000\n"
        "DTSTART:20250120T170000\nDURATION:PT45M\nSTATUS:CANCELLED\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:bad1\nSUMMARY:[M-42] x\nDTSTART:20250101T100000\n"
        "DTEND:20250101T090000\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:bad2\nSUMMARY:[M-42] no start\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:other\nSUMMARY:lunch\nDTSTART:20250102T120000\nEND:VEVENT\n",
    )
    resolver = summary_pattern_resolver(r"\[(?P<match_id>M-\d+)\]")
    frame, rejections = ics_to_meetings(path, resolver, FAR, "Europe/Berlin")
    rows = frame.sort("started_at").select("meeting_id", "started_at", "duration_min", "status")
    assert rows.rows() == [
        ("s1/20250106T170000", "2025-01-06T17:00:00", "45", "held"),
        ("s1/20250113T170000", "2025-01-14T18:00:00", "30", "held"),  # id keeps original slot
        ("s1/20250120T170000", "2025-01-20T17:00:00", "45", "cancelled"),
    ]
    assert set(frame["match_id"]) == {"M-42"}
    assert sorted((r.rule, r.where.split(" (")[0]) for r in rejections) == [
        ("ics_event", "event 4"),
        ("ics_event", "event 5"),
        ("no_match", "event 6"),
    ]
    reasons = " ".join(r.reason for r in rejections)
    assert "ends before it starts" in reasons and "no DTSTART" in reasons


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "x.ics"
    path.write_bytes(b"\x00\xffnot a calendar at all")
    frame, rejections = ics_to_meetings(path, anyone, FAR, "UTC")
    assert frame.height == 0
    assert rejections[0].rule == "ics_parse"


@pytest.mark.parametrize("tz", ["America/New_York", None])
def test_round_trip(tmp_path: Path, tz: str | None) -> None:
    meetings = pl.DataFrame(
        {
            "meeting_id": ["m1", "m2", "m3", "m4"],
            "match_id": ["A", "A", "B", "B"],
            "started_at": [
                dt.datetime(2025, 3, 8, 23, 30),  # the evening before the spring-forward night
                dt.datetime(2025, 3, 10, 9, 0),
                dt.datetime(2025, 6, 1, 0, 0),
                dt.datetime(2025, 11, 2, 12, 15),
            ],
            "duration_min": [45.0, 30.0, None, 90.5],
            "status": ["held", "cancelled", "no_show", "held"],
        }
    )
    emails = {"A": ["mentor.a@x.org", "mentee.a@x.org"], "B": ["mentor.b@x.org", "mentee.b@x.org"]}
    text = meetings_to_ics(meetings, emails, tz=tz)
    path = tmp_path / "round.ics"
    path.write_text(text)
    frame, rejections = ics_to_meetings(path, pair_resolver(emails), FAR, "America/New_York")
    assert rejections == []
    back = frame.sort("meeting_id").select(
        "meeting_id",
        "match_id",
        pl.col("started_at").str.to_datetime("%Y-%m-%dT%H:%M:%S"),
        pl.col("duration_min").cast(pl.Float64),
        "status",
    )
    assert back.rows() == meetings.rows()
