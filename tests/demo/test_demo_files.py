"""The demo export's files: format, contract columns, realistic values, and its bad rows."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import polars as pl

from .independent import BOOLS, SPELLINGS, TABLES

BOM = b"\xef\xbb\xbf"


def _manifest_rows(export, key: str) -> pl.DataFrame:
    return pl.DataFrame(export.manifest[key]).rename({"file": "_file", "row": "_row"})


def test_every_file_parses_with_contract_columns(export):
    files = export.manifest["files"]
    assert {"programs.csv", "participants.csv", "matches.csv", "activities.csv"} <= set(files)
    assert {"survey_responses.csv", "outcomes.csv"} <= set(files)
    for name, rows in files.items():
        table = next(t for t in TABLES if name.startswith(t))
        frame = pl.read_csv(export.folder / name, infer_schema=False)
        assert frame.height == rows, name
        assert frame.columns == list(TABLES[table]["columns"]), name


def test_only_participants_has_a_bom(export):
    for name in export.manifest["files"]:
        head = (export.folder / name).read_bytes()[:3]
        assert (head == BOM) == (name == "participants.csv"), name


def test_meetings_split_by_year_of_started_at(export):
    names = [n for n in export.manifest["files"] if n.startswith("meetings")]
    assert names == ["meetings_2024.csv", "meetings_2025.csv", "meetings_2026.csv"]
    good = export.good["meetings"]
    assert (good["_file"].str.slice(9, 4) == good["started_at"].str.slice(0, 4)).all()


def test_every_canonical_value_appears(export):
    good = export.good
    spec = TABLES
    for table, col in (
        ("matches", "match_source"),
        ("meetings", "status"),
        ("meetings", "mode"),
        ("meetings", "initiated_by"),
        ("activities", "kind"),
        ("activities", "from_role"),
        ("participants", "role"),
    ):
        seen = set(good[table][col].drop_nulls().to_list())
        assert seen == set(spec[table]["columns"][col]["values"]), (table, col)
    assert {"corporate", "education", "nonprofit"} <= set(good["programs"]["setting"])
    # some programs leave status blank for held meetings (the contract's default)
    assert good["meetings"]["status"].null_count() > 0
    assert good["programs"]["end_date"].null_count() >= 1
    assert good["programs"]["timezone"].str.contains("/").all()


def test_demographics_use_messy_known_spellings(export):
    people = export.good["participants"]
    for col in ("gender", "race_ethnicity"):
        known = {raw for table in SPELLINGS[col].values() for raw in table}
        values = set(people[col].to_list())
        assert values <= known, values - known
    genders = set(people["gender"].to_list())
    assert {"Female", "F", "woman", "Male", "M", "Non-binary", "nonbinary", "Two-Spirit"} <= genders
    assert {None, "Prefer not to say"} <= genders
    races = set(people["race_ethnicity"].to_list())
    assert {
        "Black or African American",
        "Black",
        "Latina",
        "Cape Verdean",
        "Middle Eastern",
    } <= races
    assert {"Two or more races", None, "Prefer not to say"} <= races
    for col in ("first_generation", "wants_same_gender_mentor", "wants_same_race_mentor"):
        spellings = set(people[col].drop_nulls().to_list())
        assert {s.lower() for s in spellings} <= BOOLS
        assert len(spellings) >= 8, (col, spellings)
    # mentors are not asked about their own mentor preferences
    mentors = people.filter(pl.col("role") == "mentor")
    assert mentors["wants_same_gender_mentor"].null_count() == mentors.height


def test_identifiers_are_obviously_synthetic(export):
    people = export.good["participants"]
    pid = people["participant_id"]
    assert (people["name"] == "Participant " + pid).all()
    assert (people["email"] == pid.str.to_lowercase() + "@example.org").all()


def test_dates_and_times_are_realistic(export):
    good = export.good
    as_of = date(2026, 6, 30)
    matches = good["matches"].with_columns(
        pl.col("matched_on", "requested_on", "ended_on").str.to_date()
    )
    assert matches["matched_on"].min() >= as_of - timedelta(days=int(2.6 * 365))
    assert (matches["matched_on"].max() - matches["matched_on"].min()).days > 2 * 365
    assert (matches["requested_on"] <= matches["matched_on"]).all()
    assert (matches["ended_on"] >= matches["matched_on"]).all()
    assert matches["ended_on"].null_count() > 0  # some relationships are still running
    people = good["participants"].select("participant_id", pl.col("enrolled_on").str.to_date())
    joined = matches.join(people, left_on="mentee_id", right_on="participant_id")
    assert (joined["enrolled_on"] <= joined["matched_on"]).all()
    meetings = good["meetings"].join(matches.select("match_id", "matched_on"), on="match_id")
    started = meetings["started_at"].str.to_datetime("%Y-%m-%d %H:%M:%S")
    assert (started.dt.date() > meetings["matched_on"]).all()
    for frame, col in ((good["meetings"], "started_at"), (good["activities"], "occurred_at")):
        hour = frame[col].str.slice(11, 2).cast(pl.Int64)
        assert hour.min() >= 10 and hour.max() <= 21, col  # same local date in any zone used
    per_match = good["meetings"].height / good["matches"].height
    assert 4.0 <= per_match <= 6.0


def test_manifest_bad_rows_break_exactly_their_rule(export):
    bad = _manifest_rows(export, "bad_rows")
    found = bad.join(export.violations, on=["table", "_file", "_row"], how="left")
    assert found.height == bad.height
    for row in found.iter_rows(named=True):
        assert row["rules"] == [row["rule"]], row


def test_exact_duplicates_are_copies_of_earlier_rows(export):
    exact = _manifest_rows(export, "exact_duplicates")
    assert 2 <= exact.height <= 3
    found = exact.join(export.violations, on=["table", "_file", "_row"], how="left")
    assert all(r == ["exact"] for r in found["rules"].to_list())


def test_rows_not_in_manifest_break_no_rule(export):
    listed = pl.concat(
        [
            _manifest_rows(export, "bad_rows").select("table", "_file", "_row"),
            _manifest_rows(export, "exact_duplicates").select("table", "_file", "_row"),
        ]
    )
    rest = export.violations.join(listed, on=["table", "_file", "_row"], how="anti")
    dirty = rest.filter(pl.col("rules").list.len() > 0)
    assert dirty.is_empty(), dirty.head()
    total = sum(export.manifest["files"].values())
    assert export.violations.height == total


def test_bad_rows_cover_every_rule_and_several_tables(export):
    bad = export.manifest["bad_rows"]
    counts = Counter(b["rule"] for b in bad)
    rules = ("required", "type", "enum", "range", "reference", "role", "future", "duplicate_key")
    assert set(counts) == set(rules)
    assert all(2 <= counts[r] <= 3 for r in rules), counts
    assert len({b["table"] for b in bad}) >= 6
    for b in bad:
        assert b["note"] and b["column"] in TABLES[b["table"]]["columns"]


def test_duplicate_keys_come_after_their_original(export):
    for b in export.manifest["bad_rows"]:
        if b["rule"] != "duplicate_key":
            continue
        frame = export.data[b["table"]]
        key = TABLES[b["table"]]["key"]
        row = frame.filter((pl.col("_file") == b["file"]) & (pl.col("_row") == b["row"]))
        same = frame.join(row.select(key), on=key).sort("_file", "_row")
        assert same.height == 2
        assert (same["_file"][0], same["_row"][0]) < (b["file"], b["row"])


def test_good_rows_never_refer_to_bad_rows(export):
    data, bad = export.data, export.manifest["bad_rows"]

    def ids_of(table: str, col: str) -> set[str]:
        rows = {(b["file"], b["row"]) for b in bad if b["table"] == table}
        frame = data[table]
        keep = [(f, r) in rows for f, r in zip(frame["_file"], frame["_row"], strict=True)]
        return set(frame.filter(pl.Series(keep))[col].drop_nulls().to_list())

    bad_matches = ids_of("matches", "match_id") - set(export.good["matches"]["match_id"])
    assert bad_matches and not bad_matches & set(data["meetings"]["match_id"])
    assert not bad_matches & set(data["activities"]["match_id"])
    bad_people = ids_of("participants", "participant_id") - set(
        export.good["participants"]["participant_id"]
    )
    assert len(bad_people) == 3
    for table, col in (
        ("matches", "mentor_id"),
        ("matches", "mentee_id"),
        ("survey_responses", "participant_id"),
        ("outcomes", "participant_id"),
    ):
        assert not bad_people & set(data[table][col].drop_nulls()), (table, col)


def test_without_bad_rows_everything_is_clean(export2):
    assert export2.manifest["bad_rows"] == [] and export2.manifest["exact_duplicates"] == []
    assert (export2.violations["rules"].list.len() == 0).all()


def test_survey_items_and_outcomes_look_like_the_instruments(export):
    sv = export.good["survey_responses"]
    items = set(sv["item_id"])
    assert items == {f"mfq_{i}" for i in range(1, 10)} | {"satisfaction"}
    assert set(sv["survey"]) == {"intake", "exit"}
    assert set(sv.filter(pl.col("item_id") == "satisfaction")["survey"]) == {"exit"}
    assert set(sv["value"].drop_nulls()) == {"1", "2", "3", "4", "5"}
    assert sv["value"].null_count() > 0  # some items left blank
    per_response = sv.group_by("response_id").len()["len"]
    assert per_response.min() < 9 <= per_response.max()  # some items missing entirely
    out = export.good["outcomes"]
    assert set(out["measure"]) == {"retained", "promoted", "goal_attained"}
    assert set(out["value"]) == {"0", "1"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", out["observed_on"][0])
