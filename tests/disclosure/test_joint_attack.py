"""Everything the aggregate tier publishes, attacked together (issue 15, "Open 2"): the
breakdowns, the survival table, the step funnel and the status counts share counts of the same
matches and mentees; the independent attacker (joint_attack.py) reads them as one system."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from models.metrics.tables import _survival_frame
from models.stats.breakdowns import DIMENSIONS
from models.stats.survival import survival_table

from .consortium import consortium, groups
from .cross_metric_attack import BASE, pinned_counts
from .joint_attack import attack, build, problems, timing

K = 10


def _published(
    con: duckdb.DuckDBPyConnection,
    survival: pl.DataFrame | None = None,
    enrolled: dict[str | None, int] | None = None,
):
    """The attacker's model of a warehouse. enrolled: the enrolled counts the cards print
    (default: every program's, as if all were printed)."""
    breakdowns = con.sql("SELECT * FROM metrics.breakdowns WHERE metric = 's3_calendar'").pl()
    if survival is None:
        survival = con.sql("SELECT * FROM metrics.survival").pl()
    groups = survival.select(
        "program_id", "dimension", "group", "n", "events", "suppressed"
    ).unique(maintain_order=True)
    funnel = con.sql("SELECT * FROM metrics.step_funnel").pl()
    status = con.sql("SELECT * FROM metrics.mentee_status_counts").pl()
    # What the dashboards print: mentees enrolled per program, and mentors per program.
    per_program = con.sql(
        "SELECT program_id, count(*) AS n FROM metrics.mentee_status GROUP BY ALL"
    ).pl()
    if enrolled is None:
        enrolled = dict(zip(per_program["program_id"], per_program["n"], strict=True))
        enrolled[None] = int(per_program["n"].sum())
    return build(breakdowns, groups, funnel, status, enrolled)


@pytest.mark.slow
def test_nothing_is_recoverable_from_the_demo_tables_together(demo_run) -> None:
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        model = _published(con)
    finally:
        con.close()
    findings = attack(model)
    assert len(findings) > 100  # the demo hides many groups in every table: all attacked
    assert problems(model, findings) == []


@pytest.mark.slow
def test_per_table_patterns_were_recoverable_on_the_demo(demo_run) -> None:
    # The survival table suppressed on its own (shared=()), as before one pattern: the same
    # attacker pins hidden mentee groups (breakdowns and survival) to a one-person interval.
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        alone = survival_table(_survival_frame(con), list(DIMENSIONS), K, shared=())
        model = _published(con, alone)
    finally:
        con.close()
    found = problems(model, attack(model))
    pinned = [f for f in found if f.key[0] == "mentees" and f.high - f.low < 2]
    assert pinned, found


# (seed, programs, mentees per program): consortia with gender x race cells of 1-5 mentees.
CONSORTIA = [(4, 3, (60, 250)), (2, 4, (40, 160))]


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "programs", "size"), CONSORTIA)
def test_nothing_is_recoverable_from_a_generated_consortium(
    seed: int, programs: int, size: tuple[int, int]
) -> None:
    c = consortium(seed, programs, size, k=K)
    assert c.survival["suppressed"].sum() > 50 and c.status["suppressed"].any()
    model = build(c.breakdowns, c.survival, c.funnel, c.status, c.enrolled)
    findings = attack(model)
    assert len(findings) > 300
    assert problems(model, findings) == []


# (seed, mentees of P0): a program with 2 to 8 matches beside two large ones. (2, 3) gave 54
# numbers back before the funnel's periods were cells of the breakdowns' audit; (0, 5),
# (4, 9), (7, 5), (7, 7) and (8, 7) 36 to 56 (some exact) while the cards printed a program's
# enrolled total under k; (4, 7) 16 while the survival table printed the endings next to the
# groups the breakdowns hide, (5, 4) 2 while the status table took every program's total as
# known, (8, 3) 2 while the survival table left a hidden row's open matches unprotected.
# Found by scanning seeds 0-11 with P0 of 2, 3, 4, 5, 7 and 9 mentees.
SMALL_PROGRAM = [
    (2, 3), (2, 5), (2, 6), (4, 6), (7, 6), (2, 8), (7, 2), (7, 3), (4, 3), (12, 7),
    (0, 5), (4, 9), (7, 5), (7, 7), (8, 7), (4, 7), (5, 4), (8, 3),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "first"), SMALL_PROGRAM)
def test_nothing_is_recoverable_with_a_program_of_fewer_than_k_matches(
    seed: int, first: int
) -> None:
    c = consortium(seed, 3, (60, 250), k=K, first=first)
    p0 = c.funnel.filter(pl.col("program_id") == "P0", pl.col("period") == "all")
    assert p0["suppressed"].item()  # the funnel hides P0's matches
    model = build(c.breakdowns, c.survival, c.funnel, c.status, c.enrolled)
    assert problems(model, attack(model)) == []


@pytest.mark.slow
def test_a_small_program_s_mentors_were_recoverable_when_taken_as_known(monkeypatch) -> None:
    # The breakdowns' audit taking each program's mentors as known (as before): P0 has one
    # mentor gender, whose cell the audit then counted as pinned anyway and sought no
    # complement for; the attacker, without that total, reads it off the all-programs row.
    import importlib

    module = importlib.import_module("models.stats.breakdowns")
    monkeypatch.setattr(module, "SAME_MENTORS", ())
    c = consortium(4, 3, (60, 250), k=K, first=6)
    model = build(c.breakdowns, c.survival, c.funnel, c.status, c.enrolled)
    found = problems(model, attack(model))
    assert any(f.key[0] == "mentors" and f.key[1] == "P0" for f in found), found


@pytest.mark.slow
def test_a_small_program_s_endings_were_forced_when_absent_status_rows_said_zero(
    monkeypatch,
) -> None:
    # P0's 3 matches have not ended; the survival table hides its `all` row. Without the
    # hidden rows of 0 mentees, the status table had no `ended_*` row for P0: none ended.
    import importlib

    status = importlib.import_module("models.metrics.status")
    monkeypatch.setattr(status, "_rows_of_hidden_sums", lambda rows, sums: rows.clear())
    c = consortium(4, 3, (60, 250), k=K, first=3)
    model = build(c.breakdowns, c.survival, c.funnel, c.status, c.enrolled)
    found = problems(model, attack(model))
    assert any(f.key[:2] == ("ended", "P0") and f.forced == "0 %" for f in found), found


@pytest.mark.slow
def test_a_small_program_was_recoverable_when_the_breakdowns_took_its_matches_as_known() -> None:
    # The breakdowns as before (no funnel: every program's dyad total known). The funnel hides
    # P0's matches and another program's as its complement; the breakdowns print that
    # program's dyad groups, whose sum gives its matches back, and P0's with them.
    for seed in (2, 7):
        c = consortium(seed, 3, (60, 250), k=K, first=6)
        before = _breakdowns_without_funnel(seed, 6)
        model = build(before, c.survival, c.funnel, c.status, c.enrolled)
        found = problems(model, attack(model))
        assert any(f.key[0] == "matches" and f.key[1] == "P0" for f in found), (seed, found)


@pytest.mark.slow
def test_a_small_program_was_narrowed_to_one_person_without_the_funnel_s_periods() -> None:
    # The breakdowns' audit knowing the funnel's pattern for each program's matches but not
    # its periods: P0's 3 matches fall in two quarters the funnel hides, each quarter's
    # all-programs total printed, and the breakdowns' groups of the complement program bound
    # it from below; together they pinned P0's matches to 2-3 and its groups with them.
    c = consortium(2, 3, (60, 250), k=K, first=3, periods=False)
    model = build(c.breakdowns, c.survival, c.funnel, c.status, c.enrolled)
    found = problems(model, attack(model))
    assert any(f.key[:2] == ("matches", "P0") and f.high - f.low <= 1 for f in found), found
    assert any(f.key[:2] == ("fmatches", "P0") for f in found), found


def _breakdowns_without_funnel(seed: int, first: int) -> pl.DataFrame:
    import numpy as np

    from models.stats.breakdowns import breakdowns
    from models.stats.dyads import dyad_composition

    from .consortium import _people

    participants, matches = _people(np.random.default_rng(seed), 3, (60, 250), first)
    steps = matches.select(
        "match_id", "program_id", "mentor_id", "mentee_id", "s3_calendar",
        pl.lit("h").alias("settings_hash"),
    )  # fmt: skip
    published = breakdowns(steps, dyad_composition(steps, participants), None, k=K)
    return published.filter(pl.col("metric") == "s3_calendar")


def test_enrolled_on_the_cards_gave_back_never_matched_counts() -> None:
    # The cards printing every enrolled count (as before): enrolled − the breakdowns' `all`
    # row is the never-matched group the status table hides.
    c = consortium(*CONSORTIA[0], k=K)
    assert c.cards["enrolled"].is_null().any()  # the protected cards hide some
    every = dict(zip(c.cards["program_id"], c.cards["enrolled_truth"], strict=True))
    model = build(c.breakdowns, c.survival, c.funnel, c.status, every)
    found = problems(model, attack(model))
    assert any(f.key[0] == "status" and f.key[2] == "never_matched" for f in found), found


@pytest.mark.slow
def test_per_table_patterns_were_recoverable_on_a_generated_consortium() -> None:
    c = consortium(*CONSORTIA[0], k=K)
    alone = groups(survival_table(c.survival_frame, list(DIMENSIONS), K, shared=()))
    model = build(c.breakdowns, alone, c.funnel, c.status)
    found = problems(model, attack(model))
    # A hidden gender x race cell of a few mentees, recovered exactly through the survival
    # table's own pattern.
    assert any(f.key[0] == "mentees" and f.high == f.low < K for f in found), found


def test_status_counts_do_not_give_back_an_ending_total_survival_hides() -> None:
    from models.metrics.status import mentee_status_counts

    sizes = {
        "P1": {"never_matched": 40, "active_lt_12m": 50, "ended_lt_12m": 3, "ended_12m_plus": 4},
        "P2": {"never_matched": 30, "active_lt_12m": 60, "ended_lt_12m": 25, "ended_12m_plus": 20},
    }
    rows = [
        {"participant_id": f"{p}{s}{i}", "program_id": p, "status": s, "settings_hash": "h"}
        for p, counts in sizes.items()
        for s, n in counts.items()
        for i in range(n)
    ]
    status = pl.DataFrame(rows)
    # Survival hides P1's 'all' row (7 endings) and, as its complement, the all-programs row.
    sums = pl.DataFrame(
        {
            "program_id": ["P1", "P1", "P2", "P2", None, None],
            "sum": ["ended", "active", "ended", "active", "ended", "active"],
            "suppressed": [True, True, False, False, True, True],
        },
        schema={"program_id": pl.String, "sum": pl.String, "suppressed": pl.Boolean},
    )

    def p1_endings_printed(counts: pl.DataFrame) -> bool:
        # The program's mentees are known; if never matched and active are printed, the
        # hidden ended statuses add up to what is left: survival's hidden endings.
        p1 = counts.filter(pl.col("program_id") == "P1")
        shown = set(p1.filter(~pl.col("suppressed"))["status"].to_list())
        return {"never_matched", "active_lt_12m"} <= shown

    assert p1_endings_printed(mentee_status_counts(status, K))  # each table on its own
    assert not p1_endings_printed(mentee_status_counts(status, K, sums))


@pytest.mark.slow
def test_a_skewed_consortium_run_end_to_end_gives_nothing_back(tmp_path, monkeypatch) -> None:
    # The real pipeline on programs of 1, 1, 16, 21, 42, 56, 66 and 1,003 matches; the attacker
    # reads the warehouse and the enrolled counts the protected cards print for "all".
    # Before this attack was run the same export gave back 107 hidden numbers, and 7 status
    # counts until the survival table protected a hidden row's open matches
    # (docs/disclosure.md, "End to end: a skewed consortium").
    import datetime as dt

    import dagster as dg

    from models.demo.generator import generate
    from models.reporting.headline_disclosure import ENROLLED_SUPPRESSED
    from models.reporting.sources import WarehouseInputs
    from pipelines.runner import run_pipeline
    from pipelines.settings import RunSettings
    from tests.conftest import DEMO_AS_OF, DEMO_KEY

    export = tmp_path / "export"
    generate(export, seed=5, scale=0.6, as_of=DEMO_AS_OF, n_programs=8, skew=1.8)
    settings = RunSettings(
        data_dir=export,
        warehouse=tmp_path / "w" / "mentorscope.duckdb",
        reports_dir=tmp_path / "reports",
        as_of=DEMO_AS_OF,
    )
    monkeypatch.setenv("MENTORSCOPE_PSEUDONYM_KEY", DEMO_KEY)
    monkeypatch.setenv("MENTORSCOPE_RESEARCH_DIR", str(tmp_path / "research"))
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_pipeline(settings, instance=instance).success
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        funnel = con.sql("SELECT * FROM metrics.step_funnel").pl()
        cards = WarehouseInputs(con, dt.date.fromisoformat(str(DEMO_AS_OF)), K).shared["headlines"]
        printed = cards.filter(pl.col("period") == "all", ~pl.col(ENROLLED_SUPPRESSED))
        enrolled = dict(zip(printed["program_id"], printed["enrolled"], strict=True))
        model = _published(con, enrolled=enrolled)
        breakdowns = con.sql("SELECT * FROM metrics.breakdowns").pl()
    finally:
        con.close()
    # Each metric read with the step flags (cross_metric_attack.py): a metric's n in a group is
    # at most the step flags' n there.
    metrics = sorted(set(breakdowns["metric"].to_list()) - {BASE})
    assert {"retained", "s5_thanks", "lasting"} < set(metrics)
    assert {m: pins for m in metrics if (pins := pinned_counts(breakdowns, m))} == {}
    small = funnel.filter(pl.col("period") == "all", pl.col("suppressed"))
    assert small.height >= 2  # the programs of one match are hidden by the funnel
    findings = attack(model)
    assert len(findings) > 100  # every table hides groups of the small programs: all attacked
    assert any(timing(f) for f in findings)  # the too-early counts are in the attack
    assert problems(model, findings) == []
