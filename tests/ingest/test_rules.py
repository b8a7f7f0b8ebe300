"""Row rules: a bad row of every kind lands in quarantine with a reason naming file and row."""

from datetime import date

import polars as pl
import pytest

from models.contract import load_contract
from models.ingest.rules import RowContext
from tests.reference.row_rules import apply_row_rules

CONTRACT = load_contract()
AS_OF = date(2026, 1, 31)


def _raw(table: str, rows: list[dict[str, str]], file: str = "x.csv") -> pl.DataFrame:
    columns = sorted({k for r in rows for k in r})
    frame = pl.DataFrame(
        [{c: r.get(c) for c in columns} for r in rows],
        schema={c: pl.String for c in columns},
        orient="row",
    )
    return (
        frame.with_columns(pl.lit(file).alias("_source_file"))
        .with_row_index("_source_row", offset=1)
        .with_columns(pl.col("_source_row").cast(pl.Int64))
    )


GOOD_MEETING = {
    "meeting_id": "G1",
    "match_id": "M1",
    "started_at": "2025-05-01 10:00",
    "duration_min": "45",
    "mode": "video",
    "status": "held",
}
CTX = RowContext(
    as_of=AS_OF,
    parent_keys={
        "matches.match_id": pl.Series(["M1"]),
        "participants.participant_id": pl.Series(["A", "B"]),
        "programs.program_id": pl.Series(["P1"]),
    },
    participant_roles=pl.DataFrame({"participant_id": ["A", "B"], "role": ["mentor", "mentee"]}),
    item_scales={"mfq_1": (1.0, 5.0)},
)


@pytest.mark.parametrize(
    ("table", "change", "rule", "words"),
    [
        ("meetings", {"match_id": ""}, "required", "required column match_id is blank"),
        ("meetings", {"started_at": "next tuesday"}, "type", "started_at = 'next tuesday' is not"),
        ("meetings", {"questions_prepared": "two"}, "type", "questions_prepared = 'two'"),
        (
            "meetings",
            {"agenda_shared": "perhaps"},
            "type",
            "agenda_shared = 'perhaps' is not yes/no",
        ),
        ("meetings", {"mode": "carrier pigeon"}, "enum", "mode = 'carrier pigeon' is not one of"),
        ("meetings", {"duration_min": "-30"}, "range", "duration_min = -30 is outside 0–1440"),
        ("meetings", {"duration_min": "2000"}, "range", "duration_min = 2000 is outside 0–1440"),
        (
            "meetings",
            {"started_at": "2026-02-01 09:00"},
            "future",
            "after the as-of date 2026-01-31",
        ),
        ("meetings", {"match_id": "M404"}, "reference", "match_id = 'M404' does not match any"),
    ],
)
def test_a_bad_meeting_of_every_kind(table, change, rule, words):
    raw = _raw(
        table,
        [GOOD_MEETING, {**GOOD_MEETING, "meeting_id": "B1", **change}],
        file="meetings_2025.csv",
    )
    out = apply_row_rules(raw, CONTRACT[table], CTX)
    assert out.kept["meeting_id"].to_list() == ["G1"]
    (bad,) = out.rejected.to_dicts()
    assert bad["rule"] == rule
    assert bad["source_file"] == "meetings_2025.csv" and bad["source_row"] == 2
    assert bad["reason"].startswith("meetings_2025.csv row 2: ")
    assert words in bad["reason"]


def test_match_to_a_mentee_as_mentor_breaks_the_role_rule():
    rows = [
        {
            "match_id": "M1",
            "program_id": "P1",
            "mentor_id": "A",
            "mentee_id": "B",
            "matched_on": "2025-01-01",
        },
        {
            "match_id": "M2",
            "program_id": "P1",
            "mentor_id": "B",
            "mentee_id": "B",
            "matched_on": "2025-01-01",
        },
    ]
    out = apply_row_rules(_raw("matches", rows), CONTRACT["matches"], CTX)
    (bad,) = out.rejected.to_dicts()
    assert bad["rule"] == "role" and "mentor_id = 'B' is a mentee, not a mentor" in bad["reason"]


def test_survey_value_outside_the_instrument_scale():
    base = {
        "response_id": "R1",
        "participant_id": "B",
        "survey": "exit",
        "submitted_at": "2025-06-01",
        "item_id": "mfq_1",
        "value": "4",
    }
    rows = [base, {**base, "item_id": "mfq_2"}, {**base, "response_id": "R2", "value": "9"}]
    scales = RowContext(**{**CTX.__dict__, "item_scales": {"mfq_1": (1.0, 5.0)}})
    out = apply_row_rules(_raw("survey_responses", rows), CONTRACT["survey_responses"], scales)
    assert out.kept.height == 2
    (bad,) = out.rejected.to_dicts()
    assert bad["rule"] == "range" and "outside the instrument scale 1–5" in bad["reason"]


def test_exact_duplicates_are_dropped_and_duplicate_keys_quarantined():
    changed = {**GOOD_MEETING, "duration_min": "90"}
    raw = pl.concat(
        [
            _raw("meetings", [GOOD_MEETING, GOOD_MEETING], file="meetings_a.csv"),
            _raw("meetings", [changed], file="meetings_b.csv"),
        ]
    )
    out = apply_row_rules(raw, CONTRACT["meetings"], CTX)
    assert out.kept.select("duration_min", "_source_file").rows() == [(45.0, "meetings_a.csv")]
    assert out.duplicates.select("source_file", "source_row").rows() == [("meetings_a.csv", 2)]
    (bad,) = out.rejected.to_dicts()
    assert bad["rule"] == "duplicate_key" and bad["source_file"] == "meetings_b.csv"


def test_every_row_ends_in_exactly_one_place():
    rows = [
        GOOD_MEETING,
        GOOD_MEETING,
        {**GOOD_MEETING, "meeting_id": "B", "mode": "x"},
        {**GOOD_MEETING, "meeting_id": "C"},
        {**GOOD_MEETING, "meeting_id": ""},
    ]
    out = apply_row_rules(_raw("meetings", rows), CONTRACT["meetings"], CTX)
    placed = sorted(
        out.kept["_source_row"].to_list()
        + out.rejected["source_row"].to_list()
        + out.duplicates["source_row"].to_list()
    )
    assert placed == [1, 2, 3, 4, 5]


def test_status_defaults_to_held_and_demographics_normalise():
    raw = _raw("meetings", [{**GOOD_MEETING, "status": ""}])
    assert apply_row_rules(raw, CONTRACT["meetings"], CTX).kept["status"].to_list() == ["held"]
    people = _raw(
        "participants",
        [
            {
                "participant_id": "A",
                "program_id": "P1",
                "role": "Mentor",
                "enrolled_on": "2025-01-01",
                "gender": "Female",
                "race_ethnicity": "Cape Verdean",
                "name": "Ann",
                "email": "a@x.org",
                "first_generation": "Y",
            },
        ],
    )
    out = apply_row_rules(people, CONTRACT["participants"], CTX)
    row = out.kept.row(0, named=True)
    assert (row["role"], row["gender"], row["race_ethnicity"]) == (
        "mentor",
        "woman",
        "self_described",
    )
    assert row["race_ethnicity_raw"] == "Cape Verdean" and row["first_generation"] is True


def test_quarantined_row_json_never_carries_names_or_emails():
    people = _raw(
        "participants",
        [
            {
                "participant_id": "A",
                "program_id": "P404",
                "role": "mentor",
                "enrolled_on": "2025-01-01",
                "name": "Secret Name",
                "email": "secret@x.org",
            }
        ],
    )
    out = apply_row_rules(people, CONTRACT["participants"], CTX)
    (bad,) = out.rejected.to_dicts()
    assert bad["rule"] == "reference"
    assert "Secret" not in bad["row_json"] and "secret@" not in bad["row_json"]


@pytest.mark.parametrize(("started", "kept"), [("2025-01-01 09:00", False), ("2025-01-02", True)])
def test_meeting_long_before_its_match_is_quarantined(started, kept):
    ctx = RowContext(
        **{
            **CTX.__dict__,
            "match_dates": pl.DataFrame({"match_id": ["M1"], "matched_on": [date(2025, 2, 1)]}),
        }
    )
    raw = _raw("meetings", [{**GOOD_MEETING, "started_at": started}])
    out = apply_row_rules(raw, CONTRACT["meetings"], ctx)
    assert out.kept.height == int(kept)
    if not kept:
        (bad,) = out.rejected.to_dicts()
        assert bad["rule"] == "before_match" and "31 days before the match" in bad["reason"]
