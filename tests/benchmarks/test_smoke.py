"""Smoke benchmark: the runner measures every stage of a real run at a tiny scale.

It catches crashes in the benchmark and the pipeline at scale, not slowness: nothing here
asserts a time.
"""

from __future__ import annotations

import os
import time

import pytest

from benchmarks import runner
from benchmarks.report import render
from benchmarks.sampler import Sample, TreeSampler, window
from benchmarks.stages import STAGES

pytestmark = pytest.mark.slow  # a real pipeline run under the sampler

# Every stage of the pipeline must show up with its own row (startup and teardown are the
# process around the steps).
PIPELINE_STAGES = set(STAGES)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("bench-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "CACHE", cache)
        yield runner.run_benchmark([0.05])


def test_every_stage_is_measured_and_the_run_succeeded(results) -> None:
    run = results.runs[0]
    assert run.success, run.errors
    assert {m.stage for m in run.stages} >= PIPELINE_STAGES
    for m in run.stages:
        if m.stage != "between steps":
            assert m.wall_s > 0, m
            assert m.peak_rss > 0, m
    assert run.floor.rows == sum(run.program.values())
    # Rows landed equal the rows DuckDB alone read from the same files.
    assert run.stage("ingest").rows == run.floor.rows
    assert run.total.wall_s >= sum(m.wall_s for m in run.stages) - 1e-6


def test_table_lists_every_stage(results) -> None:
    text = render(results)
    for stage in PIPELINE_STAGES | {"floor", "end to end"}:
        assert f"| {stage} |" in text or f"| **{stage}** |" in text, stage
    assert "Targets:" in text


def test_sampler_sees_this_process_memory_and_cpu() -> None:
    sampler = TreeSampler(os.getpid(), interval=0.05).start()
    time.sleep(0.2)
    baseline = max(s.rss for s in sampler.samples)
    blob = bytearray(b"x" * (96 * 2**20))  # resident: every page written
    cpu_start = time.process_time()
    while time.process_time() - cpu_start < 0.4:  # CPU time, whatever the machine's load
        sum(range(10_000))
    time.sleep(0.2)
    samples = sampler.stop()
    cpu, peak = window(samples, samples[0].t, samples[-1].t)
    assert peak >= baseline + 80 * 2**20
    assert cpu >= 0.3
    del blob


def test_window_interpolates_cpu_between_samples() -> None:
    samples = [Sample(0.0, 0.0, 10), Sample(1.0, 1.0, 30), Sample(2.0, 3.0, 20)]
    cpu, peak = window(samples, 0.5, 1.5)
    assert cpu == pytest.approx(1.5)  # 0.5 -> 2.0 by linear interpolation
    assert peak == 30
