"""Shared fixtures: one GX context per test session, and small good core frames."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import polars as pl
import pytest

from models.contract import load_contract
from models.validation.inputs import TableInputs

CONTRACT = load_contract()
AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="session", autouse=True)
def gx_context():
    """Importing GX and building its context takes seconds: do it once per session."""
    from models.validation.gx_engine import context

    return context()


def typed(table: str, rows: list[dict]) -> pl.DataFrame:
    """A core-shaped frame: every public contract column, with the contract's types."""
    from models.ingest.rules import POLARS_TYPES

    spec = CONTRACT[table]
    schema = {c.name: POLARS_TYPES[c.type] for c in spec.columns if not c.restricted}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def programs() -> pl.DataFrame:
    return typed(
        "programs",
        [
            {
                "program_id": "P1",
                "name": "One",
                "setting": "corporate",
                "start_date": date(2024, 1, 1),
            }
        ],
    )


def participants(n_mentees: int = 30, n_mentors: int = 30) -> pl.DataFrame:
    genders = ["woman", "man", "non_binary"]
    rows = [
        {
            "participant_id": f"E{i}",
            "program_id": "P1",
            "role": "mentee",
            "enrolled_on": date(2024, 1, 2),
            "gender": genders[i % 3],
            "race_ethnicity": "asian" if i % 2 else "white",
            "first_generation": bool(i % 2),
        }
        for i in range(n_mentees)
    ] + [
        {
            "participant_id": f"R{i}",
            "program_id": "P1",
            "role": "mentor",
            "enrolled_on": date(2024, 1, 2),
            "gender": genders[(i + 1) % 3],
            "race_ethnicity": "black",
        }
        for i in range(n_mentors)
    ]
    return typed("participants", rows)


def matches(n: int = 10) -> pl.DataFrame:
    return typed(
        "matches",
        [
            {
                "match_id": f"M{i}",
                "program_id": "P1",
                "mentor_id": f"R{i}",
                "mentee_id": f"E{i}",
                "matched_on": date(2024, 2, 1),
                "match_source": "assigned",
            }
            for i in range(n)
        ],
    )


def meetings(per_match: int = 3, n_matches: int = 10) -> pl.DataFrame:
    return typed(
        "meetings",
        [
            {
                "meeting_id": f"X{m}_{k}",
                "match_id": f"M{m}",
                "started_at": datetime(2024, 3, 1 + k, 10, 0),
                "duration_min": 30.0 + 10 * k,
                "mode": "video",
                "questions_prepared": k,
                "agenda_shared": k % 2 == 0,
                "status": "held",
            }
            for m in range(n_matches)
            for k in range(per_match)
        ],
    )


def outcomes() -> pl.DataFrame:
    return typed(
        "outcomes",
        [
            {
                "participant_id": f"E{i}",
                "measure": "retained",
                "value": 1.0,
                "observed_on": date(2025, 1, 1),
            }
            for i in range(5)
        ],
    )


def inputs_for(table: str, core: pl.DataFrame | None = None, **extra) -> TableInputs:
    """Good inputs for ``table`` (parents, roles, rows read, match ids), ``core`` replaced."""
    people = participants()
    keys = {
        "programs.program_id": programs()["program_id"],
        "participants.participant_id": people["participant_id"],
        "matches.match_id": matches()["match_id"],
    }
    default_core = {
        "programs": programs,
        "participants": participants,
        "matches": matches,
        "meetings": meetings,
        "outcomes": outcomes,
    }[table]()
    frame = default_core if core is None else core
    read = pl.DataFrame(
        {
            "_source_file": ["f.csv"] * frame.height,
            "_source_row": list(range(1, frame.height + 1)),
            "reference_failed": [False] * frame.height,
        }
    )
    base = {
        "spec": CONTRACT[table],
        "core": frame,
        "parent_keys": keys,
        "participant_roles": people.select("participant_id", "role"),
        "read_rows": read,
        "match_ids": matches()["match_id"] if table == "meetings" else None,
    }
    base.update(extra)
    return TableInputs(**base)


@pytest.fixture
def good() -> SimpleNamespace:
    """Builders of good core frames and inputs (fixtures, so test files need no imports)."""
    return SimpleNamespace(
        typed=typed,
        programs=programs,
        participants=participants,
        matches=matches,
        meetings=meetings,
        outcomes=outcomes,
        inputs_for=inputs_for,
        as_of=AS_OF,
    )
