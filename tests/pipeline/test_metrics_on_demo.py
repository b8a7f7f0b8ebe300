"""On a whole generated program, the warehouse's metrics agree with two independent
computations: the generator's own step reference and a plain-SQL reference."""

import polars as pl
from polars.testing import assert_frame_equal

from models.metrics.settings import load_settings

STEP_COLUMNS = [
    "match_id",
    "program_id",
    "mentor_id",
    "mentee_id",
    "matched_on",
    "first_meeting_on",
    "s1_self_reflection",
    "s2_network",
    "s3_calendar",
    "days_to_first_meeting",
    "first_meeting_in_person",
    "s4_inquiry",
    "inquiry_share",
    "s5_thanks",
    "thanks_share",
    "s6_follow_up",
    "cycles",
    "held_meetings",
    "total_meeting_minutes",
    "last_interaction_on",
    "lasting",
    "steps_completed",
]


def test_match_steps_equal_the_generators_truth_row_for_row(demo_run):
    ours = demo_run.frame("SELECT * FROM metrics.match_steps").select(STEP_COLUMNS)
    truth = pl.read_parquet(demo_run.export / "_truth" / "match_steps.parquet")
    truth = truth.select(STEP_COLUMNS).cast(dict(ours.schema))
    assert ours.height == truth.height == demo_run.manifest["realised"].get("matches", ours.height)
    assert_frame_equal(
        ours.sort("match_id"), truth.sort("match_id"), check_exact=False, abs_tol=1e-9
    )


def test_match_steps_equal_the_sql_reference(demo_run):
    from tests.metrics.reference import assert_matches_reference

    core = {
        t: demo_run.frame(f"SELECT * FROM core.{t}")
        for t in ("matches", "meetings", "activities", "survey_items")
    }
    assert_matches_reference(core, load_settings(as_of=demo_run.settings.as_of))


def test_every_metrics_table_records_the_settings_that_produced_it(demo_run):
    (settings_hash,) = demo_run.query("SELECT settings_hash FROM metrics.settings")[0]
    for table in ("match_steps", "step_funnel", "outcomes_by_match", "breakdowns"):
        hashes = demo_run.query(f"SELECT DISTINCT settings_hash FROM metrics.{table}")
        assert hashes == [(settings_hash,)], table


def test_funnel_all_time_row_counts_match_steps(demo_run):
    steps = demo_run.frame("SELECT * FROM metrics.match_steps")
    funnel = demo_run.frame(
        "SELECT * FROM metrics.step_funnel WHERE program_id IS NULL AND period = 'all'"
    )
    row = funnel.row(0, named=True)
    assert row["matches"] == steps.height
    for step in ("s1_self_reflection", "s3_calendar"):
        assert row[f"{step}_n"] == steps[step].sum()
    # timed steps count over the matches whose window closed (a follow-up already seen in an
    # open window is not counted either: the window's outcome is not known for the others)
    timed = (("s6_follow_up", "s6_window_closed"), ("lasting", "lasting_window_closed"))
    for step, closed in timed:
        judged = steps.filter(pl.col(closed))
        assert row[f"{step}_n"] == judged[step].sum()
        assert row[f"{step}_judged"] == judged.height
        assert row[f"{step}_too_early"] == steps.height - judged.height > 0
