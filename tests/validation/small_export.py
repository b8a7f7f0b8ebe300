"""A small export of one program: 40 matches of three meetings each, every rule passing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

AS_OF = date(2025, 6, 30)
N_MATCHES = 40


def write_export(folder: Path, meetings_kept: float = 1.0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "program_id": ["P1"],
            "name": ["One"],
            "setting": ["corporate"],
            "start_date": ["2024-01-01"],
        }
    ).write_csv(folder / "programs.csv")
    ids = [f"E{i}" for i in range(N_MATCHES)] + [f"R{i}" for i in range(N_MATCHES)]
    pl.DataFrame(
        {
            "participant_id": ids,
            "program_id": ["P1"] * len(ids),
            "role": ["mentee"] * N_MATCHES + ["mentor"] * N_MATCHES,
            "enrolled_on": ["2024-01-02"] * len(ids),
            "gender": ["woman", "man"] * N_MATCHES,
            "race_ethnicity": ["Black", "White"] * N_MATCHES,
        }
    ).write_csv(folder / "participants.csv")
    pl.DataFrame(
        {
            "match_id": [f"M{i}" for i in range(N_MATCHES)],
            "program_id": ["P1"] * N_MATCHES,
            "mentor_id": [f"R{i}" for i in range(N_MATCHES)],
            "mentee_id": [f"E{i}" for i in range(N_MATCHES)],
            "matched_on": ["2024-02-01"] * N_MATCHES,
        }
    ).write_csv(folder / "matches.csv")
    rows = [
        {
            "meeting_id": f"X{m}_{k}",
            "match_id": f"M{m}",
            "started_at": (date(2024, 3, 1) + timedelta(days=7 * k)).isoformat() + " 10:00",
            "duration_min": 45,
        }
        for m in range(N_MATCHES)
        for k in range(3)
    ]
    pl.DataFrame(rows[: int(len(rows) * meetings_kept)]).write_csv(folder / "meetings.csv")
