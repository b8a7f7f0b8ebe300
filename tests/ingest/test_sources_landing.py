"""Incremental landing with mapping.yaml, survey exports and calendars (models/ingest/ledger)."""

import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.adapters.mapping import MappingError
from models.contract import load_contract
from models.ingest.errors import ExportError
from models.ingest.ledger import land_root
from tests.operations.programs import AS_OF, canonical_program, read, write_tool_exports

CONTRACT = load_contract()
TABLES = list(CONTRACT)


@pytest.fixture(scope="module")
def canon(tmp_path_factory) -> Path:
    return canonical_program(tmp_path_factory.mktemp("canon"))


@pytest.fixture
def inbox(tmp_path, canon) -> Path:
    write_tool_exports(canon, tmp_path / "inbox" / "acme")
    return tmp_path / "inbox"


def _land(con, root: Path, run: str, program: str | None = None):
    con.execute("BEGIN TRANSACTION")
    report = land_root(con, root, CONTRACT, AS_OF, datetime(2026, 7, int(run[-1])), run, program)
    con.execute("COMMIT")
    return report


def _raw(con, table: str, lineage: bool = True) -> pl.DataFrame:
    frame = con.sql(f"SELECT * FROM raw.{table}").pl()
    drop = [] if lineage else ["_loaded_at"]
    return frame.drop(drop).sort(pl.all(), nulls_last=True)


def _state(con, lineage: bool = True) -> dict[str, pl.DataFrame]:
    state = {t: _raw(con, t, lineage) for t in TABLES}
    ledger = con.sql("SELECT * FROM raw.file_ledger").pl()
    state["ledger"] = (ledger if lineage else ledger.drop("loaded_at", "run_id")).sort(
        "table_name", "source_file"
    )
    return state


def _equal(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        left, right = a[name], b[name].select(a[name].columns)
        assert left.equals(right), name


def _rebuild(root: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect()
    _land(con, root, "run9")
    return _state(con, lineage=False)


def test_mapped_exports_land_as_the_canonical_rows(inbox, canon):
    con = duckdb.connect()
    report = _land(con, inbox, "run1")
    assert report.ignored == [] and report.removed == []
    people = _raw(con, "participants").filter(pl.col("_reject_rule").is_null())
    expected = read(canon / "participants.csv")
    got = people.select(expected.columns).sort("participant_id")
    # Renamed, recoded (Protégé -> mentee, from cp1252 bytes) and day-first dates rewritten.
    assert got.equals(expected.sort("participant_id"))
    # Survey rows come back with the canonical ids, values and numbers for Likert labels.
    long = _raw(con, "survey_responses").filter(pl.col("_reject_rule").is_null())
    # An unanswered item is a blank cell in a survey tool's export: no row (docs/mapping.md).
    canonical = (
        read(canon / "survey_responses.csv")
        .drop_nulls("value")
        .with_columns(pl.col("submitted_at").str.replace(" ", "T"))
    )
    cols = ["response_id", "participant_id", "survey", "submitted_at", "item_id", "value"]
    assert long.select(cols).sort(cols).equals(canonical.select(cols).sort(cols))
    # Each Qualtrics preview row is one rejection row, with its rule and a reason.
    rejected = _raw(con, "survey_responses").filter(pl.col("_reject_rule").is_not_null())
    assert rejected["_reject_rule"].to_list() == ["excluded"] * rejected.height
    assert rejected.height == len(list((inbox / "acme" / "qualtrics").glob("*.csv")))
    assert all("Survey Preview" in r for r in rejected["_reject_reason"])


def test_mapping_naming_a_missing_column_names_both(inbox):
    mapping = inbox / "acme" / "mapping.yaml"
    mapping.write_text(mapping.read_text().replace("Employee ID:", "Employee Number:"))
    with pytest.raises(MappingError) as error:
        _land(duckdb.connect(), inbox, "run1")
    text = str(error.value)
    assert "tables.participants.rename.Employee Number" in text
    assert "'Employee Number' is not in acme/people.csv" in text
    assert "employee_id" in text  # the columns the file does have


def test_loading_the_same_files_twice_changes_nothing(inbox):
    con = duckdb.connect()
    first = _land(con, inbox, "run1")
    before = _state(con)
    os.utime(inbox / "acme" / "people.csv")  # touched, same bytes
    second = _land(con, inbox, "run2")
    assert second.landed == [] and len(second.unchanged) == len(first.landed)
    _equal(before, _state(con))  # lineage (_loaded_at, run ids) included


def test_corrected_new_and_removed_files(inbox):
    con = duckdb.connect()
    acme = inbox / "acme"
    parked = inbox.parent / "parked.ics"
    shutil.move(acme / "outlook" / "mentoring_2026.ics", parked)
    _land(con, inbox, "run1")
    meetings_before = _raw(con, "meetings")

    # A new month's calendar adds only its rows; the other files' rows stay as landed.
    shutil.move(parked, acme / "outlook" / "mentoring_2026.ics")
    report = _land(con, inbox, "run2")
    assert report.landed == [("meetings", "acme/outlook/mentoring_2026.ics")]
    after = _raw(con, "meetings")
    new = after.filter(pl.col("_source_file") == "acme/outlook/mentoring_2026.ics")
    assert new.height > 0 and set(new["_loaded_at"]) == {datetime(2026, 7, 2)}
    assert after.filter(pl.col("_source_file") != "acme/outlook/mentoring_2026.ics").equals(
        meetings_before
    )

    # A corrected re-export replaces that file's rows and nothing else is read again.
    activities = read(acme / "activities.csv")
    corrected = activities.head(activities.height - 5).with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("thank_you"))
        .otherwise(pl.col("kind"))
        .alias("kind")
    )
    corrected.write_csv(acme / "activities.csv")
    report = _land(con, inbox, "run3")
    assert report.landed == [("activities", "acme/activities.csv")]
    landed = _raw(con, "activities")
    assert landed.height == corrected.height
    assert landed.sort("_source_row")["kind"][0] == "thank_you"

    # A changed email changes who a respondent or attendee is: surveys and calendars re-read.
    mentor = read(acme / "pairs.csv")["Mentor ID"][0].lower().encode()
    people = (acme / "people.csv").read_bytes()
    assert mentor + b"@" in people
    (acme / "people.csv").write_bytes(people.replace(mentor + b"@", b"renamed@", 1))
    report = _land(con, inbox, "run4")
    kinds = {table for table, _ in report.landed}
    assert kinds == {"participants", "survey_responses", "meetings"}

    # A removed file's rows go.
    (acme / "outcomes.csv").unlink()
    report = _land(con, inbox, "run5")
    assert report.removed == [("outcomes", "acme/outcomes.csv")]
    assert _raw(con, "outcomes").height == 0

    # After all that, raw is what a full rebuild of the same folder lands.
    _equal(
        _state(con, lineage=False).copy() | {"ledger": _state(con, False)["ledger"]},
        _rebuild(inbox),
    )


def test_a_mapping_change_reads_the_program_again(inbox):
    con = duckdb.connect()
    _land(con, inbox, "run1")
    mapping = inbox / "acme" / "mapping.yaml"
    mapping.write_text(mapping.read_text() + "\n# reviewed\n")
    report = _land(con, inbox, "run2")
    assert report.unchanged == [] and len(report.landed) > 5


def _tiny(folder: Path, tag: str, role_typo: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "programs.csv").write_text(
        f"program_id,name,setting,start_date\n{tag},Program {tag},corporate,2024-01-01\n"
    )
    role = "mentorr" if role_typo else "mentor"
    (folder / "participants.csv").write_text(
        "participant_id,program_id,role,enrolled_on,email\n"
        f"{tag}-1,{tag},{role},2024-01-02,a@{tag}.org\n{tag}-2,{tag},mentee,2024-01-02,b@{tag}.org\n"
    )
    (folder / "matches.csv").write_text(
        "match_id,program_id,mentor_id,mentee_id,matched_on\n"
        f"{tag}-M1,{tag},{tag}-1,{tag}-2,2024-02-01\n"
    )


def test_a_program_run_touches_only_its_folder(tmp_path):
    root = tmp_path / "inbox"
    _tiny(root / "acme", "A")
    _tiny(root / "beta", "B")
    con = duckdb.connect()
    _land(con, root, "run1")
    acme_before = _raw(con, "participants").filter(pl.col("_source_file").str.starts_with("acme/"))
    _tiny(root / "acme", "A", role_typo=True)  # changed, but not this run's program
    _tiny(root / "beta", "B", role_typo=True)
    report = _land(con, root, "run2", program="beta")
    assert report.programs == ["beta"]
    assert report.landed == [("participants", "beta/participants.csv")]
    people = _raw(con, "participants")
    assert people.filter(pl.col("_source_file").str.starts_with("acme/")).equals(acme_before)
    assert "mentorr" in people.filter(pl.col("_source_file") == "beta/participants.csv")["role"]
    # A program folder that is gone: its program run removes its rows.
    shutil.rmtree(root / "beta")
    report = _land(con, root, "run3", program="beta")
    assert not any(f.startswith("beta/") for f in _raw(con, "participants")["_source_file"])
    assert len(report.removed) == 3


def test_missing_required_tables_across_the_inbox(tmp_path):
    root = tmp_path / "inbox"
    (root / "acme").mkdir(parents=True)
    (root / "acme" / "programs.csv").write_text("program_id,name,setting,start_date\n")
    with pytest.raises(ExportError, match="required table\\(s\\) missing: participants, matches"):
        _land(duckdb.connect(), root, "run1")


def test_rejection_rows_carry_no_email(tmp_path):
    folder = tmp_path / "acme"
    _tiny(folder, "A")
    (folder / "mfq.csv").write_text(
        "ResponseId,ExternalReference,RecordedDate,Q1\n"
        "Response ID,External Reference,Recorded Date,Q one\n"
        '"{""ImportId"":""_recordId""}","{""ImportId"":""externalDataReference""}",'
        '"{""ImportId"":""recordedDate""}","{""ImportId"":""QID1""}"\n'
        "R_1,a@A.org,2025-01-02 10:00:00,Agree\n"
        "R_2,stranger@elsewhere.org,2025-01-02 11:00:00,Agree\n"
    )
    (folder / "mapping.yaml").write_text(
        "surveys:\n  - file: mfq.csv\n    survey: midpoint\n    instrument: mfq9\n"
        "    items: {QID1: mfq_1}\n"
    )
    con = duckdb.connect()
    _land(con, folder, "run1")
    rows = _raw(con, "survey_responses")
    kept = rows.filter(pl.col("_reject_rule").is_null())
    assert kept.select("response_id", "participant_id", "value").rows() == [("R_1", "A-1", "4")]
    rejected = rows.filter(pl.col("_reject_rule").is_not_null())
    assert rejected["_reject_rule"].to_list() == ["unknown_participant"]
    assert rejected["_reject_column"].to_list() == ["participant_id"]
    assert rejected["_source_row"].to_list() == [2]
    text = " ".join(str(v) for v in rejected.row(0))
    assert "@" not in text and "stranger" not in text
