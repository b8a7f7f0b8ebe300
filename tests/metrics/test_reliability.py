"""Cronbach's alpha against an independent numpy computation and planted structure."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from models.instruments.codebook import load_codebook
from models.metrics.reliability import construct_reliability

from .synthetic import frame, random_core

MFQ = load_codebook()


def _alpha_from_covariances(data: np.ndarray) -> float:
    """alpha = k·c̄ / (v̄ + (k−1)·c̄): mean item variance v̄, mean inter-item covariance c̄."""
    k = data.shape[1]
    cov = np.cov(data, rowvar=False)
    v_bar = np.trace(cov) / k
    c_bar = (cov.sum() - np.trace(cov)) / (k * (k - 1))
    return k * c_bar / (v_bar + (k - 1) * c_bar)


def test_alpha_matches_the_covariance_formula() -> None:
    world = random_core(2500, seed=11, as_of=dt.date(2025, 6, 30))
    got = construct_reliability(world["survey_items"], MFQ, world["participants"])
    program = dict(world["participants"].select("participant_id", "program_id").iter_rows())
    answers: dict[tuple, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in world["survey_items"].iter_rows(named=True):
        if r["value"] is not None:
            answers[(program[r["participant_id"]], r["survey"])][r["response_id"]][r["item_id"]] = (
                r["value"]
            )
    checked = 0
    for row in got.iter_rows(named=True):
        items = MFQ.constructs[row["construct"]]
        responses = answers[(row["program_id"], row["survey"])].values()
        data = np.array([[a[i] for i in items] for a in responses if all(i in a for i in items)])
        assert row["n"] == len(data)
        assert row["alpha"] == pytest.approx(_alpha_from_covariances(data), rel=1e-9)
        checked += 1
    programs = world["participants"]["program_id"].n_unique()
    assert checked == programs * 2 * len(MFQ.constructs)  # intake and exit waves


def _wave(values: np.ndarray) -> pl.DataFrame:
    rows = []
    for r, response in enumerate(values):
        for j, v in enumerate(response):
            rows.append(
                {
                    "response_id": f"R{r}",
                    "participant_id": f"E{r}",
                    "survey": "exit",
                    "submitted_at": dt.datetime(2025, 1, 1),
                    "item_id": f"mfq_{j + 1}",
                    "value": None if np.isnan(v) else float(v),
                }
            )
    return frame("survey_items", rows)


def _people(n: int) -> pl.DataFrame:
    return frame(
        "participants", [{"participant_id": f"E{r}", "program_id": "P1"} for r in range(n)]
    )


def test_planted_structure() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    same = np.repeat(rng.integers(1, 6, (n, 1)), 3, axis=1)  # identical items: alpha 1
    noise = rng.integers(1, 6, (n, 3))  # independent items: alpha near 0
    values = np.hstack([same, noise, noise]).astype(float)
    values[0, 0] = np.nan  # one incomplete case for career_support only
    got = construct_reliability(_wave(values), MFQ, _people(n))
    alpha = dict(got.select("construct", "alpha").iter_rows())
    n_by = dict(got.select("construct", "n").iter_rows())
    assert alpha["career_support"] == pytest.approx(1.0)
    assert abs(alpha["psychosocial_support"]) < 0.1
    assert n_by == {"career_support": n - 1, "psychosocial_support": n, "role_modeling": n}


def test_alpha_is_null_without_variance_or_cases() -> None:
    constant = np.full((5, 9), 3.0)
    got = construct_reliability(_wave(constant), MFQ, _people(5))
    assert got["alpha"].null_count() == 3
    one_case = construct_reliability(_wave(constant[:1]), MFQ, _people(1))
    assert one_case["n"].to_list() == [1, 1, 1]
    assert one_case["alpha"].null_count() == 3
