"""Incremental program runs leave the warehouse exactly as a full rebuild of the same inbox."""

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
from polars.testing import assert_frame_equal

from tests.operations.conftest import failures, query, run_slice, settings_for
from tests.operations.programs import canonical_program, read, write_tool_exports

# Columns that record when or by which run something happened, not what it is.
RUN_COLUMNS = {"run_id", "_loaded_at", "loaded_at"}


def _tables(warehouse: Path) -> dict[str, pl.DataFrame]:
    names = query(
        warehouse,
        "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables "
        "WHERE table_schema IN ('core', 'metrics', 'quarantine', 'restricted')",
    )["name"]
    out = {}
    for name in names:
        frame = query(warehouse, f"SELECT * FROM {name}")
        frame = frame.drop([c for c in frame.columns if c in RUN_COLUMNS])
        out[name] = frame.sort(pl.all(), nulls_last=True)
    return out


def _tiny(folder: Path, tag: str, mentee_role: str = "mentee") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "programs.csv").write_text(
        f"program_id,name,setting,start_date,timezone\n{tag},Program {tag},other,2024-01-01,UTC\n"
    )
    (folder / "participants.csv").write_text(
        "participant_id,program_id,role,enrolled_on,email\n"
        f"{tag}-1,{tag},mentor,2024-01-02,a@{tag}.org\n"
        f"{tag}-2,{tag},{mentee_role},2024-01-02,b@{tag}.org\n"
    )
    (folder / "matches.csv").write_text(
        "match_id,program_id,mentor_id,mentee_id,matched_on\n"
        f"{tag}-M1,{tag},{tag}-1,{tag}-2,2024-02-01\n"
    )


def test_program_runs_equal_a_full_rebuild(tmp_path):
    inbox = tmp_path / "inbox"
    canon = canonical_program(tmp_path / "canon")
    write_tool_exports(canon, inbox / "acme")
    _tiny(inbox / "beta", "BETA")
    acme = inbox / "acme"
    parked = tmp_path / "mentoring_2026.ics"
    shutil.move(acme / "outlook" / "mentoring_2026.ics", parked)
    warehouse = tmp_path / "incremental" / "w.duckdb"

    with dg.DagsterInstance.ephemeral() as instance:
        first = run_slice(settings_for(inbox, warehouse), instance)
        assert first.success, failures(first)

        # A month later: a new calendar, a corrected activities export, and beta's fix.
        shutil.move(parked, acme / "outlook" / "mentoring_2026.ics")
        activities = read(acme / "activities.csv")
        activities.head(activities.height - 3).write_csv(acme / "activities.csv")
        _tiny(inbox / "beta", "BETA", mentee_role="Mentee ")
        second = run_slice(settings_for(inbox, warehouse), instance, program="acme")
        assert second.success, failures(second)
        ledger = query(warehouse, "SELECT source_file, run_id FROM raw.file_ledger")
        reread = set(ledger.filter(pl.col("run_id") == second.run_id)["source_file"])
        assert reread == {"acme/outlook/mentoring_2026.ics", "acme/activities.csv"}
        # beta's change waits for beta's own run.
        assert set(ledger.filter(pl.col("run_id") == first.run_id)["source_file"]) >= {
            "beta/participants.csv"
        }
        third = run_slice(settings_for(inbox, warehouse), instance, program="beta")
        assert third.success, failures(third)

        rebuilt = tmp_path / "rebuild" / "w.duckdb"
        full = run_slice(settings_for(inbox, rebuilt), instance)
        assert full.success, failures(full)

    incremental, rebuild = _tables(warehouse), _tables(rebuilt)
    assert incremental.keys() == rebuild.keys()
    assert {
        "core.meetings",
        "core.construct_scores",
        "metrics.match_steps",
        "metrics.data_quality",
    } <= incremental.keys()
    for name, frame in rebuild.items():
        # Floats compared to 1e-9: parallel group-bys may sum in another order, run to run.
        assert_frame_equal(incremental[name].select(frame.columns), frame, rel_tol=1e-9)
    assert query(warehouse, "SELECT bool_and(reconciled) AS ok FROM metrics.data_quality")["ok"][0]


def test_a_bad_mapping_fails_the_program_run_before_anything_lands(tmp_path):
    inbox = tmp_path / "inbox"
    _tiny(inbox / "acme", "ACME")
    (inbox / "acme" / "mapping.yaml").write_text("tabels:\n  participants: {}\n")
    warehouse = tmp_path / "w.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_slice(
            settings_for(inbox, warehouse), instance, program="acme", groups=("ingest",)
        )
    assert not result.success
    (message,) = failures(result)
    assert "acme/mapping.yaml: (top level): unknown key(s) ['tabels']" in message
    assert (
        not warehouse.exists()
        or query(
            warehouse,
            "SELECT count(*) AS n FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'participants'",
        )["n"][0]
        == 0
    )
