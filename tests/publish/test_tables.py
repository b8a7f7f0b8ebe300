"""What catalog.yaml says about the newer tables holds in the demo snapshot.

Each check recomputes a documented claim from other published tables (or from the settings
file), so a description that drifts from what the pipeline builds fails here.
"""

from __future__ import annotations

import json

import pytest
import yaml

from models.metrics.settings import DEFAULT_SETTINGS_PATH

from .conftest import AS_OF, Published, query


def test_every_settings_hash_is_the_one_in_metrics_settings(published: Published):
    settings = query(
        published.snapshot, "SELECT settings_hash, as_of, settings_json FROM metrics.settings"
    )
    assert len(settings) == 1
    settings_hash, as_of, settings_json = settings[0]
    assert as_of == AS_OF
    on_disk = yaml.safe_load(DEFAULT_SETTINGS_PATH.read_text())
    assert json.loads(settings_json)["lasting_days"] == on_disk["lasting_days"]
    info = query(published.snapshot, "SELECT settings_hash FROM meta.snapshot_info")
    assert info == [(settings_hash,)]
    tables = query(
        published.snapshot,
        "SELECT DISTINCT table_name FROM duckdb_columns() "
        "WHERE schema_name = 'metrics' AND column_name = 'settings_hash'",
    )
    assert len(tables) >= 10
    for (table,) in tables:
        hashes = query(published.snapshot, f"SELECT DISTINCT settings_hash FROM metrics.{table}")
        assert hashes == [(settings_hash,)], table


def test_match_dyads_are_core_matches_joined_to_participants(published: Published):
    mismatches = query(
        published.snapshot,
        """
        SELECT count(*) FROM metrics.match_dyads AS d
        JOIN core.matches AS m USING (match_id)
        JOIN core.participants AS mentee ON mentee.participant_id = m.mentee_id
        JOIN core.participants AS mentor ON mentor.participant_id = m.mentor_id
        WHERE d.mentee_id <> m.mentee_id OR d.mentor_id <> m.mentor_id
           OR d.mentee_gender <> coalesce(mentee.gender, 'undisclosed')
           OR d.mentor_race <> coalesce(mentor.race_ethnicity, 'undisclosed')
           OR d.dyad_gender <> CASE
                WHEN mentee.gender IN ('undisclosed', 'self_described')
                  OR mentor.gender IN ('undisclosed', 'self_described') THEN 'unknown'
                WHEN mentee.gender = mentor.gender THEN 'same' ELSE 'cross' END
           OR d.dyad_gender_pair <> mentee.gender || '-' || mentor.gender
           OR d.mentee_gender_race <> mentee.gender || '|' || mentee.race_ethnicity
        """,
    )
    assert mismatches == [(0,)]
    counts = query(
        published.snapshot,
        "SELECT (SELECT count(*) FROM metrics.match_dyads), "
        "(SELECT count(*) FROM metrics.match_steps)",
    )
    assert counts[0][0] == counts[0][1] > 0


def test_program_wide_breakdown_rows_count_mentees(published: Published):
    """dimension 'all', group 'all': every metric, per program and overall, over mentees."""
    rows = query(
        published.snapshot,
        "SELECT program_id, metric, n, value FROM metrics.breakdowns "
        "WHERE dimension = 'all' AND \"group\" = 'all' AND NOT suppressed",
    )
    metrics = {m for _, m, _, _ in rows}
    assert {"s1_self_reflection", "s6_follow_up", "lasting", "retained"} <= metrics
    programs = {p for p, _, _, _ in rows}
    assert None in programs and len(programs) >= 3
    by_key = {(p, m): (n, v) for p, m, n, v in rows}
    for program in programs:
        n, share = query(
            published.snapshot,
            "SELECT count(*), avg(lasting_per_mentee) FROM (SELECT mentee_id, "
            "avg(lasting::INT) AS lasting_per_mentee FROM metrics.match_steps "
            # a mentee counts with the matches whose lasting window closed
            "WHERE lasting_window_closed AND (? IS NULL OR program_id = ?) GROUP BY mentee_id)",
            [program, program],
        )[0]
        assert by_key[(program, "lasting")][0] == n
        assert by_key[(program, "lasting")][1] == pytest.approx(share)


def test_stalled_matches_follow_their_documented_rules(published: Published):
    wrong = query(
        published.snapshot,
        """
        SELECT a.alert, count(*) FROM metrics.stalled_matches AS a
        JOIN metrics.match_steps AS s USING (match_id)
        JOIN core.matches AS m USING (match_id)
        WHERE a.as_of <> ?
           OR a.match_open <> (m.ended_on IS NULL OR m.ended_on > a.as_of)
           OR (a.alert = 'no_first_meeting'
               AND (s.held_meetings > 0 OR a.days_since <> a.as_of - s.matched_on
                    OR a.days_since <= 30))
           OR (a.alert = 'no_recent_interaction'
               AND (NOT a.match_open
                    OR a.days_since <> a.as_of - coalesce(s.last_interaction_on, s.matched_on)
                    OR a.days_since <= 90))
        GROUP BY ALL
        """,
        [AS_OF],
    )
    assert wrong == []
    counted = query(
        published.snapshot,
        "SELECT c.program_id, c.alert, c.alerts, (SELECT count(*) FROM metrics.stalled_matches "
        "AS a WHERE a.program_id = c.program_id AND a.alert = c.alert) FROM metrics.alert_counts c",
    )
    assert counted and all(alerts == recount for _, _, alerts, recount in counted)
    assert sum(alerts for _, _, alerts, _ in counted) > 0


def test_homophily_counts_agree_with_match_dyads(published: Published):
    rows = query(
        published.snapshot,
        "SELECT program_id, attribute, n_matches, n_unknown, same_matches FROM metrics.homophily "
        "WHERE NOT suppressed",
    )
    assert {a for _, a, _, _, _ in rows} == {"gender", "race"}
    for program, attribute, n, unknown, same in rows:
        column = f"dyad_{attribute}"
        recount = query(
            published.snapshot,
            f"SELECT count(*) FILTER (WHERE {column} <> 'unknown'), "
            f"count(*) FILTER (WHERE {column} = 'unknown'), "
            f"count(*) FILTER (WHERE {column} = 'same') FROM metrics.match_dyads "
            "WHERE ? IS NULL OR program_id = ?",
            [program, program],
        )
        assert recount == [(n, unknown, same)], (program, attribute)


def test_construct_reliability_n_counts_complete_responses(published: Published):
    rows = query(
        published.snapshot,
        """
        SELECT r.construct, r.program_id, r.survey, r.n, r.items_total, c.complete
        FROM metrics.construct_reliability AS r
        JOIN (
            SELECT s.construct, p.program_id, s.survey, count(*) AS complete
            FROM core.construct_scores AS s
            JOIN core.participants AS p USING (participant_id)
            WHERE s.items_answered = s.items_total
            GROUP BY ALL
        ) AS c USING (construct, program_id, survey)
        """,
    )
    total = query(published.snapshot, "SELECT count(*) FROM metrics.construct_reliability")
    assert len(rows) == total[0][0] > 0
    assert all(n == complete and items == 3 for _, _, _, n, items, complete in rows)
