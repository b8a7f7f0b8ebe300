from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest

from models.adapters.mapping import INSTRUMENTS
from models.adapters.survey_formats import (
    SurveyFormatError,
    detect_survey_format,
    read_survey,
)
from models.adapters.surveys import (
    SurveyMapping,
    SurveyMappingError,
    labels_from_codebook,
    survey_to_long,
)

MFQ9 = INSTRUMENTS / "mfq9.yaml"


def _values(frame: pl.DataFrame, response_id: str) -> dict[str, str]:
    rows = frame.filter(pl.col("response_id") == response_id)
    return dict(zip(rows["item_id"], rows["value"], strict=True))


# --- synthetic exports --------------------------------------------------------------------------


def _qualtrics_csv(path: Path) -> Path:
    rows = [
        ["StartDate", "EndDate", "Status", "RecordedDate", "ResponseId", "ExternalReference",
         "Q1_1", "Q1_2", "Q1_3", "Q2"],
        ["Start Date", "End Date", "Response Type", "Recorded Date", "Response ID",
         "External Data Reference", "My mentor - takes a personal interest in my career.",
         "My mentor - helps me coordinate professional goals.",
         "My mentor - has devoted special time and consideration to my career.", "Comments"],
        ['{"ImportId":"startDate"}', '{"ImportId":"endDate"}', '{"ImportId":"status"}',
         '{"ImportId":"recordedDate"}', '{"ImportId":"_recordId"}',
         '{"ImportId":"externalDataReference"}', '{"ImportId":"QID4_1"}', '{"ImportId":"QID4_2"}',
         '{"ImportId":"QID4_3"}', '{"ImportId":"QID5_TEXT"}'],
        ["2025-01-01 09:00:00", "2025-01-01 09:05:00", "Survey Preview", "2025-01-01 09:05:01",
         "R_preview", "", "Agree", "Agree", "Agree", "testing"],
        ["2025-02-03 10:00:00", "2025-02-03 10:04:00", "IP Address", "2025-02-03 10:04:30",
         "R_a", "P-001", "Strongly agree", "  agree ", "NEUTRAL", "Great, thanks"],
        ["2025-02-04 11:00:00", "2025-02-04 11:02:00", "IP Address", "2025-02-04 11:02:10",
         "R_b", "P-002", "Strongly Disagree", "", "n/a", ""],
    ]  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_qualtrics_export_with_preview_labels_and_free_text(tmp_path: Path) -> None:
    path = _qualtrics_csv(tmp_path / "mfq.csv")
    assert detect_survey_format(path) == "qualtrics"
    mapping = SurveyMapping(
        survey="midpoint",
        # by export name, by ImportId and by question text: all three resolve
        items={"Q1_1": "mfq_1", "QID4_2": "mfq_2", "my mentor - has devoted special time and "
               "consideration to my career.": "mfq_3", "Q2": "comment"},
        labels=labels_from_codebook(MFQ9),
        recode={"n/a": ""},
    )  # fmt: skip
    frame, rejections = survey_to_long(path, mapping)
    assert [(r.rule, r.source_row) for r in rejections] == [("excluded", 1)]
    assert "Survey Preview" in rejections[0].reason
    assert _values(frame, "R_a") == {
        "mfq_1": "5",
        "mfq_2": "4",
        "mfq_3": "3",
        "comment": "Great, thanks",
    }
    # blank and recoded-to-blank answers are unanswered: no row
    assert _values(frame, "R_b") == {"mfq_1": "1"}
    first = frame.filter(pl.col("response_id") == "R_a").row(0, named=True)
    assert first["participant_id"] == "P-001"
    assert first["submitted_at"] == "2025-02-03T10:04:30"  # RecordedDate, ISO
    assert first["survey"] == "midpoint"
    assert set(frame.columns) >= {"response_id", "participant_id", "survey", "submitted_at",
                                  "item_id", "value"}  # fmt: skip


def test_unknown_item_column_names_mapping_key_and_columns(tmp_path: Path) -> None:
    path = _qualtrics_csv(tmp_path / "mfq.csv")
    mapping = SurveyMapping(survey="s", items={"Q9": "mfq_9"})
    with pytest.raises(SurveyMappingError, match=r"'Q9'.*columns are .*'Q1_1'"):
        survey_to_long(path, mapping)


def test_microsoft_forms_xlsx_with_participant_lookup(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "Mentoring check-in(1-3).xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    when = book.add_format({"num_format": "m/d/yy h:mm:ss"})
    questions = [
        "I share personal problems with my mentor.",
        "I consider my mentor to be a friend.",
    ]
    sheet.write_row(0, 0, ["ID", "Start time", "Completion time", "Email", "Name", *questions])
    people = [
        (1, "Ann.Lee@Example.org", "Ann", "Agree", "Strongly agree"),
        (2, "bo@example.org", "Bo", "Disagree", 3),
        (3, "stranger@example.org", "X", "Agree", "Agree"),
    ]
    for row, (rid, email, name, a, b) in enumerate(people, start=1):
        sheet.write_number(row, 0, rid)
        sheet.write_datetime(row, 1, dt.datetime(2025, 3, row, 9, 0), when)
        sheet.write_datetime(row, 2, dt.datetime(2025, 3, row, 9, 7, 30), when)
        sheet.write_row(row, 3, [email, name, a, b])
    book.close()

    assert detect_survey_format(path) == "microsoft_forms"
    mapping = SurveyMapping(
        survey="pulse",
        items={questions[0]: "mfq_4", questions[1]: "mfq_6"},
        labels=labels_from_codebook(MFQ9),
    )
    ids = {"ann.lee@example.org": "P-1", "BO@example.org": "P-2"}
    frame, rejections = survey_to_long(path, mapping, participant_ids=ids)
    assert [(r.rule, r.source_row) for r in rejections] == [("unknown_participant", 3)]
    assert sorted(frame["participant_id"].unique()) == ["P-1", "P-2"]
    assert _values(frame, "1") == {"mfq_4": "4", "mfq_6": "5"}
    assert _values(frame, "2") == {"mfq_4": "2", "mfq_6": "3"}
    assert frame.filter(pl.col("response_id") == "2")["submitted_at"][0] == "2025-03-02T09:07:30"


def test_surveymonkey_xlsx_two_row_header(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "monkey.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Respondent ID", "Collector ID", "Start Date", "End Date",
                           "Email Address", "My mentor...", "", "Anything else?"])  # fmt: skip
    sheet.write_row(1, 0, ["", "", "", "", "", "is a friend", "helps me set goals", "Response"])
    sheet.write_row(2, 0, ["1101", "77", "04/01/2025 09:00:00 AM", "04/01/2025 09:12:00 AM",
                           "m1@example.org", "Agree", "Strongly agree", "More time"])  # fmt: skip
    book.close()
    assert detect_survey_format(path) == "surveymonkey"
    survey = read_survey(path)
    assert "My mentor... | helps me set goals" in survey.frame.columns
    assert "Anything else?" in survey.frame.columns
    mapping = SurveyMapping(
        survey="exit",
        items={"My mentor... | is a friend": "mfq_6", "My mentor... | helps me set goals": "mfq_2"},
        labels=labels_from_codebook(MFQ9),
    )
    frame, rejections = survey_to_long(path, mapping)
    assert rejections == []
    assert _values(frame, "1101") == {"mfq_6": "4", "mfq_2": "5"}
    row = frame.row(0, named=True)
    assert row["participant_id"] == "m1@example.org"
    assert row["submitted_at"] == "2025-04-01T09:12:00"


def test_canonical_long_file_passes_through_with_labels(tmp_path: Path) -> None:
    path = tmp_path / "survey_responses.csv"
    path.write_text(
        "response_id,participant_id,survey,submitted_at,item_id,value\n"
        "r1,P1,intake,03/04/2025 14:00,q1,Agree\n"
        "r1,P1,intake,03/04/2025 14:00,q2,2\n"
    )
    assert detect_survey_format(path) == "canonical_long"
    mapping = SurveyMapping(survey="intake", items={"q1": "mfq_1"}, labels={"agree": 4})
    frame, _ = survey_to_long(path, mapping)
    assert frame["item_id"].to_list() == ["mfq_1", "q2"]
    assert frame["value"].to_list() == ["4", "2"]
    assert frame["submitted_at"].to_list() == ["2025-03-04T14:00:00"] * 2


def test_not_a_survey(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("just one column\nvalue\n")
    with pytest.raises(SurveyFormatError, match="fewer than two named columns"):
        detect_survey_format(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SurveyFormatError, match="no header row"):
        detect_survey_format(empty)


# --- real exports -------------------------------------------------------------------------------


@pytest.mark.external
@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("qualtrics_qualtRics/sample.csv", "qualtrics"),
        ("qualtrics_qualtRics/sample_legacy.csv", "qualtrics_legacy"),
        ("surveymonkey_fivethirtyeight/StarWars.csv", "surveymonkey"),
        ("surveymonkey_fivethirtyeight/steak-risk-survey.csv", "surveymonkey"),
        ("surveymonkey_fivethirtyeight/masculinity-raw-responses.csv", "wide"),
        ("googleforms_ols/ols5_mentor_postcohort_survey.csv", "google_forms"),
        ("carpentries_cc-by/longterm_October2017.csv", "wide"),
    ],
)
def test_real_formats_detected(external: Path, relative: str, expected: str) -> None:
    assert detect_survey_format(external / relative) == expected


@pytest.mark.external
@pytest.mark.parametrize("name", ["sample.csv", "sample_legacy.csv"])
def test_qualtrics_samples(external: Path, name: str) -> None:
    path = external / "qualtrics_qualtRics" / name
    survey = read_survey(path)
    assert survey.frame.height == 1
    # Its ExternalReference is blank: with the default respondent key the response is rejected.
    items = {"This is a multiple choice question.": "q1", "This is a free text question.": "q2"}
    frame, rejections = survey_to_long(path, SurveyMapping(survey="demo", items=items))
    assert frame.height == 0
    assert [r.rule for r in rejections] == ["required"]
    assert "participant key" in rejections[0].reason
    # Keyed on another column it yields the one response (Status 0 is a real response).
    mapping = SurveyMapping(survey="demo", items=items, participant_column="IPAddress")
    frame, rejections = survey_to_long(path, mapping)
    assert rejections == []
    assert frame["response_id"].unique().to_list() == ["R_2YPOQ602ER1jkf1"]
    assert _values(frame, "R_2YPOQ602ER1jkf1") == {"q1": "2", "q2": "Hello World!"}
    assert frame["submitted_at"][0] == "2017-07-18T08:28:48"


@pytest.mark.external
def test_qualtrics_import_id_alias(external: Path) -> None:
    path = external / "qualtrics_qualtRics" / "sample.csv"
    mapping = SurveyMapping(survey="d", items={"QID1": "q1"}, participant_column="IPAddress")
    frame, _ = survey_to_long(path, mapping)
    assert frame["value"].to_list() == ["2"]


def _raw_column(path: Path, header_index: int) -> list[str]:
    text = path.read_bytes().decode("cp1252")
    rows = list(csv.reader(io.StringIO(text)))[2:]
    return [r[header_index] for r in rows]


@pytest.mark.external
def test_starwars_likert_matrix(external: Path) -> None:
    path = external / "surveymonkey_fivethirtyeight" / "StarWars.csv"
    stem = (
        "Please state whether you view the following characters favorably, unfavorably, "
        "or are unfamiliar with him/her. | "
    )
    labels = {
        "Very favorably": 5,
        "Somewhat favorably": 4,
        "Neither favorably nor unfavorably (neutral)": 3,
        "Somewhat unfavorably": 2,
        "Very unfavorably": 1,
    }
    mapping = SurveyMapping(
        survey="starwars",
        items={stem + "Han Solo": "han", stem + "Jar Jar Binks": "jarjar"},
        participant_column="RespondentID",
        submitted_at_column="RespondentID",  # the export has no time; the ingest will reject it
        labels=labels,
        recode={"Unfamiliar (N/A)": ""},
    )
    frame, rejections = survey_to_long(path, mapping)
    assert rejections == []
    # Independent count from the raw file (column 16 is Han Solo, 27 is Jar Jar Binks).
    for column, item in ((15, "han"), (26, "jarjar")):
        raw = _raw_column(path, column)
        for label, number in labels.items():
            got = frame.filter((pl.col("item_id") == item) & (pl.col("value") == str(number)))
            assert got.height == raw.count(label), (item, label)
        assert frame.filter(pl.col("item_id") == item).height == sum(1 for v in raw if v in labels)


@pytest.mark.external
def test_steak_question_text_with_html(external: Path) -> None:
    path = external / "surveymonkey_fivethirtyeight" / "steak-risk-survey.csv"
    survey = read_survey(path)
    assert survey.frame.height == 550
    lottery = (
        "Consider the following hypothetical situations: In Lottery A, you have a 50% chance of "
        "success, with a payout of $100. In Lottery B, you have a 90% chance of success, with a "
        "payout of $20. Assuming you have $10 to bet, would you play Lottery A or Lottery B?"
    )
    mapping = SurveyMapping(
        survey="steak",
        items={lottery: "lottery", "Do you eat steak?": "steak"},
        participant_column="RespondentID",
        submitted_at_column="RespondentID",
    )
    frame, _ = survey_to_long(path, mapping)
    assert set(frame.filter(pl.col("item_id") == "lottery")["value"]) == {"Lottery A", "Lottery B"}


@pytest.mark.external
def test_masculinity_wide_export(external: Path) -> None:
    path = external / "surveymonkey_fivethirtyeight" / "masculinity-raw-responses.csv"
    mapping = SurveyMapping(
        survey="masculinity",
        items={"q0001": "q0001", "q0005": "q0005", "q0008_0001": "q0008_0001"},
        participant_column="_col1",  # the unnamed index column
        submitted_at_column="EndDate",
        na_values=("NA",),
    )
    frame, rejections = survey_to_long(path, mapping)
    assert rejections == []
    assert frame["response_id"].n_unique() == 1615  # synthesised ids are unique
    first = frame.filter(pl.col("participant_id") == "1")
    assert first["submitted_at"].unique().to_list() == ["2018-05-10T04:06:00"]
    assert _values(frame, first["response_id"][0])["q0001"] == "Somewhat masculine"
    assert "NA" not in frame["value"].to_list()
    # Ids are stable: a second read gives the same ones.
    again, _ = survey_to_long(path, mapping)
    assert again["response_id"].to_list() == frame["response_id"].to_list()


@pytest.mark.external
def test_google_forms_ols_rows_rejected_for_blanked_keys(external: Path) -> None:
    path = external / "googleforms_ols" / "ols5_mentor_postcohort_survey.csv"
    survey = read_survey(path)
    assert survey.frame.height == 21
    calls = "How was your overall experience with the mentoring calls with your mentee?"
    counts = survey.frame[calls].value_counts()
    assert counts["count"].sum() == 21
    checkbox = survey.frame[
        "How were your overall mentorship training and support experience in OLS? "
        "(multiple checks are possible)"
    ]
    assert any(", " in v for v in checkbox.drop_nulls())  # joined checkbox answers stay one cell
    frame, rejections = survey_to_long(path, SurveyMapping(survey="post", items={calls: "calls"}))
    assert frame.height == 0
    assert len(rejections) == 21
    assert {r.rule for r in rejections} == {"required"}
    assert "'Email address'" in rejections[0].reason


@pytest.mark.external
def test_longterm_without_keys_is_a_clear_mapping_error(external: Path) -> None:
    path = external / "carpentries_cc-by" / "longterm_October2017.csv"
    mapping = SurveyMapping(survey="lt", items={"Likely-To-Recommend": "nps"})
    with pytest.raises(SurveyMappingError, match="declare participant_column"):
        survey_to_long(path, mapping)
