"""One clock: every timestamp in core is the program's local wall time (naive).

A value written with an offset or ``Z`` is converted to the program's zone (the mapping's, else
``programs.timezone`` of the row's program, else UTC); a naive value is kept as written.
"""

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from models.adapters.mapping import Mapping, TableMapping, apply_date_formats
from models.contract import load_contract
from models.ingest.parse import parse_date, parse_timestamp
from models.ingest.rules import RowContext
from tests.operations.conftest import failures, query, run_slice, settings_for
from tests.reference.row_rules import apply_row_rules

CONTRACT = load_contract()
BERLIN, NEW_YORK, KOLKATA = "Europe/Berlin", "America/New_York", "Asia/Kolkata"


def _stamps(values: list[str | None], zones: list[str | None] | None) -> list[datetime | None]:
    frame = pl.DataFrame(
        {"v": values, "z": zones or [None] * len(values)},
        schema=[("v", pl.String), ("z", pl.String)],
    )
    zone = pl.col("z") if zones is not None else None
    return frame.select(parse_timestamp(pl.col("v"), zone=zone))["v"].to_list()


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2024-11-06 00:30:00+01:00", BERLIN, datetime(2024, 11, 6, 0, 30)),
        ("2024-11-06 00:30:00+01:00", NEW_YORK, datetime(2024, 11, 5, 18, 30)),
        ("2024-11-06T00:30:00Z", BERLIN, datetime(2024, 11, 6, 1, 30)),
        ("2024-11-06T00:30:00Z", NEW_YORK, datetime(2024, 11, 5, 19, 30)),
        ("2024-11-06T05:00:00+05:30", KOLKATA, datetime(2024, 11, 6, 5, 0)),
        ("2024-11-06T05:00:00+05:30", BERLIN, datetime(2024, 11, 6, 0, 30)),
        ("2024-11-06T05:00:00+05:30", "UTC", datetime(2024, 11, 5, 23, 30)),
        # Berlin springs forward at 01:00 UTC on 2024-03-31: 02:xx local does not exist.
        ("2024-03-31T00:59:00Z", BERLIN, datetime(2024, 3, 31, 1, 59)),
        ("2024-03-31T01:00:00Z", BERLIN, datetime(2024, 3, 31, 3, 0)),
        # New York falls back on 2024-11-03: 01:30 local happens twice, each instant is one.
        ("2024-11-03T05:30:00Z", NEW_YORK, datetime(2024, 11, 3, 1, 30)),
        ("2024-11-03T06:30:00Z", NEW_YORK, datetime(2024, 11, 3, 1, 30)),
        ("2024-11-03T01:30:00-04:00", NEW_YORK, datetime(2024, 11, 3, 1, 30)),
        ("2024-11-03T01:30:00-05:00", NEW_YORK, datetime(2024, 11, 3, 1, 30)),
        ("2024-11-03T01:30:00-05:00", BERLIN, datetime(2024, 11, 3, 7, 30)),
    ],
)
def test_an_offset_becomes_the_programs_wall_time(value, zone, expected):
    assert _stamps([value], [zone]) == [expected]


@pytest.mark.parametrize(
    "value",
    [
        "2024-11-06 00:30:00",
        "2024-11-06T00:30",
        "2024-03-31 02:30",  # does not exist in Berlin: naive stays naive, not shifted
        "2024-11-03 01:30",  # happens twice in New York: naive stays naive
        "11/06/2024 12:30 AM",
    ],
)
@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, None])
def test_a_naive_time_is_kept_as_written(value, zone):
    written = _stamps([value], None)[0]
    assert written is not None
    assert _stamps([value], [zone]) == [written]


def test_without_a_zone_an_offset_is_utc_wall_time():
    assert _stamps(["2024-11-06 00:30:00+01:00", "2024-11-06T00:30:00Z"], None) == [
        datetime(2024, 11, 5, 23, 30),
        datetime(2024, 11, 6, 0, 30),
    ]
    assert _stamps(["2024-11-06 00:30:00+01:00"], [None]) == [datetime(2024, 11, 5, 23, 30)]


def test_each_row_uses_its_own_zone():
    values = ["2024-11-06 00:30:00+01:00"] * 4 + ["2024-11-06 00:30:00", None]
    zones = [NEW_YORK, BERLIN, None, "Mars/Olympus", NEW_YORK, BERLIN]
    assert _stamps(values, zones) == [
        datetime(2024, 11, 5, 18, 30),
        datetime(2024, 11, 6, 0, 30),
        datetime(2024, 11, 5, 23, 30),
        datetime(2024, 11, 5, 23, 30),  # an unknown zone never reaches here (quarantined)
        datetime(2024, 11, 6, 0, 30),
        None,
    ]


def test_a_date_column_takes_the_local_calendar_date():
    frame = pl.DataFrame(
        {
            "v": ["2024-11-06T00:30:00+01:00", "2024-11-06T00:30:00+01:00", "2024-11-06"],
            "z": [NEW_YORK, BERLIN, NEW_YORK],
        }
    )
    got = frame.select(parse_date(pl.col("v"), zone=pl.col("z")))["v"].to_list()
    assert got == [date(2024, 11, 5), date(2024, 11, 6), date(2024, 11, 6)]


def test_an_unknown_program_zone_is_quarantined():
    raw = pl.DataFrame(
        {
            "program_id": ["P1", "P2", "P3"],
            "name": ["One", "Two", "Three"],
            "setting": ["other"] * 3,
            "start_date": ["2024-01-01T00:30:00+01:00"] * 3,
            "timezone": [NEW_YORK, "Mars/Olympus", None],
            "_source_file": ["programs.csv"] * 3,
            "_source_row": [1, 2, 3],
        }
    )
    outcome = apply_row_rules(raw, CONTRACT["programs"], RowContext(as_of=date(2026, 6, 30)))
    assert outcome.kept["program_id"].to_list() == ["P1", "P3"]
    # Each program's own zone: New York's calendar date, UTC's without a zone.
    assert outcome.kept["start_date"].to_list() == [date(2023, 12, 31), date(2023, 12, 31)]
    bad = outcome.rejected.row(0, named=True)
    assert (bad["rule"], bad["column_name"]) == ("type", "timezone")
    assert "Mars/Olympus" in bad["reason"] and "IANA time zone" in bad["reason"]


def test_a_mapping_without_a_zone_keeps_the_instant_for_the_row_rules(tmp_path):
    frame = pl.DataFrame(
        {
            "meeting_id": ["a", "b", "c"],
            "started_at": [
                "2024-11-06 00:30:00+01:00",
                "06/11/2024 00:30",
                "2024-11-06 00:30:00 +01:00",
            ],
        }
    )
    plain = Mapping(
        tmp_path / "mapping.yaml",
        tmp_path,
        tables={"meetings": TableMapping(date_formats={"started_at": "%d/%m/%Y %H:%M"})},
    )
    got = apply_date_formats(frame, "meetings", plain)["started_at"].to_list()
    assert got == ["2024-11-05T23:30:00Z", "2024-11-06T00:30:00", "2024-11-05T23:30:00Z"]
    # ... which the row rules then read in the program's zone.
    assert _stamps(got, [NEW_YORK] * 3) == [
        datetime(2024, 11, 5, 18, 30),
        datetime(2024, 11, 6, 0, 30),
        datetime(2024, 11, 5, 18, 30),
    ]
    zoned = Mapping(plain.source, tmp_path, timezone=BERLIN, tables=plain.tables)
    got = apply_date_formats(frame, "meetings", zoned)["started_at"].to_list()
    assert got == ["2024-11-06T00:30:00", "2024-11-06T00:30:00", "2024-11-06T00:30:00"]


def _export(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "programs.csv").write_text(
        "program_id,name,setting,start_date,timezone\n"
        f"NY,New York,other,2024-01-01,{NEW_YORK}\n"
        f"BER,Berlin,other,2024-01-01,{BERLIN}\n"
        "NOZ,No zone,other,2024-01-01,\n"
    )
    people = ["participant_id,program_id,role,enrolled_on,email"]
    matches = ["match_id,program_id,mentor_id,mentee_id,matched_on"]
    for p in ("NY", "BER", "NOZ"):
        people += [
            f"{p}-1,{p},mentor,2024-01-02,a@{p}.org",
            f"{p}-2,{p},mentee,2024-01-02,b@{p}.org",
        ]
        matches.append(f"{p}-M,{p},{p}-1,{p}-2,2024-02-01")
    (folder / "participants.csv").write_text("\n".join(people) + "\n")
    (folder / "matches.csv").write_text("\n".join(matches) + "\n")
    (folder / "meetings.csv").write_text(
        "meeting_id,match_id,started_at,duration_min\n"
        "ny-offset,NY-M,2024-11-06 00:30:00+01:00,60\n"
        "ny-naive,NY-M,2024-11-06 00:30:00,60\n"
        "ber-offset,BER-M,2024-11-06 00:30:00+01:00,60\n"
        "ber-z,BER-M,2024-11-05T23:30:00Z,60\n"
        "noz-offset,NOZ-M,2024-11-06 00:30:00+01:00,60\n"
    )


def test_the_pipeline_stores_each_programs_wall_time(tmp_path):
    inbox = tmp_path / "inbox"
    _export(inbox / "zones")
    warehouse = tmp_path / "w" / "w.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_slice(settings_for(inbox, warehouse), instance, groups=("ingest", "core"))
        assert result.success, failures(result)
    meetings = query(warehouse, "SELECT meeting_id, started_at FROM core.meetings")
    assert dict(meetings.iter_rows()) == {
        "ny-offset": datetime(2024, 11, 5, 18, 30),
        "ny-naive": datetime(2024, 11, 6, 0, 30),
        "ber-offset": datetime(2024, 11, 6, 0, 30),
        "ber-z": datetime(2024, 11, 6, 0, 30),
        "noz-offset": datetime(2024, 11, 5, 23, 30),  # no program zone: UTC
    }
