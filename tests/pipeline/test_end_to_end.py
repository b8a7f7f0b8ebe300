"""The whole graph on a generated program with injected bad rows: exact reconciliation."""

from collections import Counter


def test_every_injected_bad_row_is_quarantined_with_its_rule(demo_run):
    expected = sorted(
        (b["table"], b["file"], b["row"], b["rule"]) for b in demo_run.manifest["bad_rows"]
    )
    got = sorted(
        demo_run.query(
            "SELECT table_name, source_file, source_row, rule FROM quarantine.rejected_rows"
        )
    )
    assert got == expected
    assert len({rule for *_, rule in expected}) >= 7  # the demo injects every kind


def test_exact_duplicates_are_counted_not_kept(demo_run):
    expected = sorted(
        (d["table"], d["file"], d["row"]) for d in demo_run.manifest["exact_duplicates"]
    )
    got = sorted(
        demo_run.query("SELECT table_name, source_file, source_row FROM quarantine.duplicate_rows")
    )
    assert got == expected and got


def test_reconciliation_per_table_and_file_is_exact(demo_run):
    rows = demo_run.query(
        "SELECT table_name, source_file, rows_read, rows_kept, rows_quarantined, rows_duplicate, "
        "reconciled FROM metrics.data_quality"
    )
    by_file = {r[1]: r for r in rows}
    # Rows read per file, against the generator's own count of rows written.
    assert {f: r[2] for f, r in by_file.items()} == demo_run.manifest["files"]
    bad = Counter(b["file"] for b in demo_run.manifest["bad_rows"])
    dupes = Counter(d["file"] for d in demo_run.manifest["exact_duplicates"])
    for name, (_, _, read, kept, quarantined, duplicate, ok) in by_file.items():
        assert (quarantined, duplicate) == (bad[name], dupes[name]), name
        assert read == kept + quarantined + duplicate and ok, name
    # And kept rows really are in core, file by file.
    core_total = sum(
        demo_run.query(f"SELECT count(*) FROM core.{t}")[0][0]
        for t in (
            "programs",
            "participants",
            "matches",
            "meetings",
            "activities",
            "survey_items",
            "outcomes",
        )
    )
    assert core_total == sum(r[3] for r in rows)


def test_core_has_no_direct_identifiers_and_restricted_has_them(demo_run):
    columns = {
        r[0]
        for r in demo_run.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'core' "
            "AND table_name <> 'programs'"
        )
    }  # a program's name is not a person's
    assert not columns & {"name", "email", "gender_raw", "race_ethnicity_raw"}
    names = demo_run.query("SELECT count(*) FROM restricted.participants WHERE email LIKE '%@%'")
    assert names[0][0] > 0


def test_demographic_spellings_land_on_canonical_categories(demo_run):
    genders = {r[0] for r in demo_run.query("SELECT DISTINCT gender FROM core.participants")}
    assert genders <= {"woman", "man", "non_binary", "self_described", "undisclosed"}
    assert {"woman", "man", "undisclosed", "self_described"} <= genders
