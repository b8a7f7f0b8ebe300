"""Run declared expectations with Great Expectations 1.24 on pandas copies of Polars frames.

GX is imported here, inside functions, and only here: importing it takes ~3 s, and the
Dagster definitions and the CLI must load without it. One ephemeral context per process
(no files, no Data Docs), analytics off, progress bars off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from models.validation.declarations import Declared
from models.validation.frames import to_pandas
from models.validation.inputs import Frame

DATASOURCE = "mentorscope"
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class RawResult:
    """What GX said about one expectation (or why it could not say)."""

    success: bool
    result: dict[str, Any]
    error: str | None = None


@cache
def context() -> Any:
    """The process's ephemeral GX context: in memory only, never phones home."""
    # Read by GX when the context is built: no usage statistics leave the machine.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        # No Data Docs site at all: nothing is ever rendered (offline, they load CDN assets).
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    ctx = gx.get_context(mode="ephemeral", project_config=config)
    ctx.data_sources.add_pandas(DATASOURCE)
    return ctx


def _batch_definition(name: str) -> Any:
    source = context().data_sources.get(DATASOURCE)
    try:
        asset = source.get_asset(name)
    except LookupError:
        asset = source.add_dataframe_asset(name)
    try:
        return asset.get_batch_definition("whole")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole")


def _error_message(info: dict[str, Any] | None) -> str | None:
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    # Inside a suite, GX keys exception details by the metric that failed.
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def run_expectations(
    name: str, frame: Frame, declared: list[Declared], sample_size: int = SAMPLE_SIZE
) -> list[RawResult]:
    """Evaluate ``declared`` on ``frame`` in one GX validation; results in declared order."""
    if not declared:
        return []
    definition = _batch_definition(name)  # builds the context first: suites need one
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=f"{name}_suite")
    # GX keeps one copy of identical expectations in a suite (e.g. two row-count minimums of 1
    # from different rules): evaluate each distinct one once and share its result.
    distinct: dict[str, int] = {}
    slot = []
    for d in declared:
        signature = f"{d.expectation}|{sorted(d.kwargs.items())!r}"
        if signature not in distinct:
            distinct[signature] = len(distinct)
            suite.add_expectation(getattr(gxe, d.gx_class)(**d.kwargs, meta={"ref": len(slot)}))
        slot.append(distinct[signature])
    batch = definition.get_batch(batch_parameters={"dataframe": to_pandas(frame.frame)})
    fmt: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": sample_size}
    if frame.keys:
        fmt["unexpected_index_column_names"] = list(frame.keys)
    validation = batch.validate(suite, result_format=fmt)
    found: dict[int, RawResult] = {}
    for res in validation.results:
        first = slot[int(res.expectation_config.meta["ref"])]
        error = _error_message(res.exception_info)
        found[first] = RawResult(bool(res.success) and error is None, dict(res.result or {}), error)
    missing = RawResult(False, {}, "Great Expectations returned no result for it")
    return [found.get(s, missing) for s in slot]
