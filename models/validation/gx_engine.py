"""Run declared expectations with Great Expectations 1.24 on pandas frames.

GX is imported here, inside functions, and only here: importing it takes ~3 s, and the
Dagster definitions and the CLI must load without it. One ephemeral context per process
(no files, no Data Docs), analytics off, progress bars off: every table's validation in a
run reuses it, and each frame's suite is built once and run on every batch
(:class:`BatchSuite`), whose results are combined exactly (``paths.py``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from models.validation.declarations import Declared
from models.validation.frames import to_pandas
from models.validation.inputs import Frame
from models.validation.source import ROW

if TYPE_CHECKING:
    import pandas as pd

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
    _skip_batch_fingerprints()
    return ctx


def _skip_batch_fingerprints() -> None:
    """Stop GX hashing every frame it is given (twice per validation) for a batch marker.

    GX 1.24 fingerprints each pandas frame under 1 GB with ``hash_pandas_object`` when it
    builds a batch, and ``batch.validate`` builds the batch a second time: on a 250,000-row
    batch that was 0.6 of 1.6 s. The fingerprint is batch metadata only (never part of an
    expectation's result), and whole tables over 1 GB never got one anyway.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    if not hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        # A GX upgrade moved it: validation still works, only slower. Say so, once.
        warnings.warn(
            "great_expectations no longer has HASH_THRESHOLD: batch fingerprints are computed",
            stacklevel=2,
        )
        return
    pandas_execution_engine.HASH_THRESHOLD = 0


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


def _suite(name: str, declared: list[Declared]) -> tuple[Any, list[int]]:
    """A GX suite of the distinct expectations, and each declared one's slot in it.

    GX keeps one copy of identical expectations in a suite (e.g. two row-count minimums of 1
    from different rules): each distinct one is evaluated once and its result shared.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=f"{name}_suite")
    distinct: dict[str, int] = {}
    slot = []
    for d in declared:
        signature = f"{d.expectation}|{sorted(d.kwargs.items())!r}"
        if signature not in distinct:
            distinct[signature] = len(distinct)
            suite.add_expectation(
                getattr(gxe, d.gx_class)(**d.kwargs, meta={"ref": distinct[signature]})
            )
        slot.append(distinct[signature])
    return suite, slot


def _result_format(keys: tuple[str, ...], sample_size: int) -> dict[str, Any]:
    fmt: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": sample_size}
    if keys:
        fmt["unexpected_index_column_names"] = list(keys)
    return fmt


def _validate(definition: Any, suite: Any, frame: pd.DataFrame, fmt: dict) -> dict[int, RawResult]:
    """One GX validation of ``frame``: results by distinct-expectation slot."""
    batch = definition.get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(suite, result_format=fmt)
    found: dict[int, RawResult] = {}
    for res in validation.results:
        error = _error_message(res.exception_info)
        found[int(res.expectation_config.meta["ref"])] = RawResult(
            bool(res.success) and error is None, dict(res.result or {}), error
        )
    return found


NO_RESULT = RawResult(False, {}, "Great Expectations returned no result for it")


def run_expectations(
    name: str, frame: Frame, declared: list[Declared], sample_size: int = SAMPLE_SIZE
) -> list[RawResult]:
    """Evaluate ``declared`` on the whole ``frame`` in one GX validation, in declared order.

    The whole-table path: the reference the batch path is tested against, and how an
    expectation the SQL path cannot evaluate gets GX's own error (on an empty frame).
    """
    if not declared:
        return []
    definition = _batch_definition(name)  # builds the context first: suites need one
    suite, slot = _suite(name, declared)
    found = _validate(
        definition, suite, to_pandas(frame.frame), _result_format(frame.keys, sample_size)
    )
    return [found.get(s, NO_RESULT) for s in slot]


def map_result(
    d: Declared,
    *,
    element_count: int,
    nonnull_count: int | None,
    unexpected_count: int,
    values: list[Any],
    index: list[Any],
    keys: tuple[str, ...],
    sample_size: int = SAMPLE_SIZE,
) -> RawResult:
    """GX's result of a row-wise expectation from its counts over the whole table.

    Success and the result fields come from GX's own functions (``_mostly_success``,
    ``_format_map_output``), given the summed counts and the first failing rows, so the
    percentages are those of the whole table, not averages of batches. ``nonnull_count``
    is ``None`` for GX's not-null expectation, which judges every row.
    """
    from great_expectations.expectations.expectation import _format_map_output, _mostly_success
    from great_expectations.expectations.expectation_configuration import parse_result_format

    mostly = float(d.kwargs.get("mostly", 1.0))
    if nonnull_count is None:
        # ExpectColumnValuesToNotBeNull._validate: every row is considered.
        success = element_count == 0 or (
            (element_count - unexpected_count) / element_count >= mostly
        )
    else:
        success = (
            element_count == 0
            or nonnull_count == 0
            or _mostly_success(nonnull_count, unexpected_count, mostly)
        )
    out = _format_map_output(
        result_format=parse_result_format(_result_format(keys, sample_size)),
        success=bool(success),
        element_count=element_count,
        nonnull_count=nonnull_count,
        unexpected_count=unexpected_count,
        unexpected_list=values,
        unexpected_index_list=index,
        unexpected_index_column_names=list(keys) if keys else None,
    )
    return RawResult(bool(out["success"]), dict(out["result"]))


@dataclass
class _Tally:
    """One distinct expectation's results so far, batch after batch."""

    declared: Declared
    path: str  # "map" or "schema" (paths.py)
    element: int = 0
    unexpected: int = 0
    missing: int | None = None  # None: GX reports no missing count (the not-null check)
    samples: list[tuple[int, Any, Any]] = field(default_factory=list)  # (__row, value, entry)
    schema: RawResult | None = None
    error: str | None = None

    def add(
        self,
        raw: RawResult,
        batch: pd.DataFrame,
        keys: tuple[str, ...],
        sample_size: int,
        converted: frozenset[str] = frozenset(),
    ) -> None:
        """Fold in one batch's result; ``converted``: columns GX saw as numpy numbers."""
        if self.error is not None:
            return
        if raw.error is not None:
            # A column missing or of the wrong type fails the same way on every batch.
            self.error = raw.error
            return
        r = raw.result
        if self.path == "schema":
            if self.schema is None:
                self.schema = raw
            elif r.get("observed_value") != self.schema.result.get("observed_value"):
                raise RuntimeError(
                    f"{self.declared.table} / {self.declared.rule}: batches disagree on "
                    f"{self.declared.expectation}: {r.get('observed_value')!r} vs "
                    f"{self.schema.result.get('observed_value')!r} (the dtypes must be fixed "
                    "for the whole table)"
                )
            return
        self.element += int(r.get("element_count") or 0)
        self.unexpected += int(r.get("unexpected_count") or 0)
        if "missing_count" in r:
            self.missing = (self.missing or 0) + int(r["missing_count"] or 0)
        values = r.get("partial_unexpected_list") or []
        positions = r.get("partial_unexpected_index_list") or []
        column = self.declared.kwargs["column"]
        for value, position in zip(values, positions, strict=True):
            if column in converted:
                value = batch.at[position, column]  # as GX gives it from the Int64 column
            row = int(batch.at[position, ROW])
            entry: Any = row
            if keys:
                # GX's entry, built as GX builds it: the expectation's column, then the keys.
                entry = {column: batch.at[position, column]}
                entry.update({k: batch.at[position, k] for k in keys})
            self.samples.append((row, value, entry))
        # Each batch's samples are its first failing rows (batches are sorted by __row), so
        # the table's first failing rows are the first of all samples by __row.
        self.samples = sorted(self.samples, key=lambda s: s[0])[:sample_size]

    def result(self, keys: tuple[str, ...], sample_size: int) -> RawResult:
        if self.error is not None:
            return RawResult(False, {}, self.error)
        if self.path == "schema":
            return self.schema or NO_RESULT
        return map_result(
            self.declared,
            element_count=self.element,
            nonnull_count=None if self.missing is None else self.element - self.missing,
            unexpected_count=self.unexpected,
            values=[v for _, v, _ in self.samples],
            index=[e for _, _, e in self.samples],
            keys=keys,
            sample_size=sample_size,
        )


def _plain_integers(batch: pd.DataFrame, columns: set[str]) -> tuple[pd.DataFrame, frozenset[str]]:
    """``batch`` with its nullable ``Int64`` columns among ``columns`` as numpy numbers.

    GX 1.24 compares only numpy int/float (and datetime64[ns]) columns with bounds
    vectorised; a nullable ``Int64`` column goes through a Python function per value (0.36 s
    per million rows, against 0.014 s as ``int64``). The verdicts do not
    depend on the dtype: ``int64`` when nothing is missing, else ``float64`` with NaN for
    the missing values (which GX counts as missing, as it does <NA>), if every value is
    exact as a float (below 2**53); otherwise the column is left as it is.
    """
    import numpy as np
    import pandas as pd

    changed = {}
    for column in columns & set(batch.columns):
        values = batch[column]
        if not isinstance(values.dtype, pd.Int64Dtype):
            continue
        if not values.hasnans:
            changed[column] = values.to_numpy(dtype=np.int64)
        else:
            largest = values.abs().max()  # <NA> when every value is missing
            if pd.isna(largest) or largest < 2**53:
                changed[column] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return (batch.assign(**changed) if changed else batch), frozenset(changed)


@dataclass
class _Group:
    """Expectations of one path in one GX suite, with their running results."""

    suite: Any
    tallies: dict[int, _Tally]


class BatchSuite:
    """One frame's row-wise and schema expectations: GX suites built once, run per batch.

    Batches must carry ``__row`` (their rows' place in the table), be sorted by it and have
    pandas' default index. GX is not given the key columns as index columns: it would build
    an entry for every failing row in a Python loop (4.4 s for 50,000 undisclosed genders in
    one 250,000-row batch) and keep ten. It returns the failing rows' positions instead, and
    the entries of the ten kept are built here the way GX builds them, with ``__row`` to
    order failing rows of different batches.

    Schema expectations (the dtype checks, half of a table's suite) depend on the dtypes
    only: they run on the first batch and again only on a batch whose dtypes differ (none
    should; if one did, its answer would have to agree). GX's cost per validation grows
    with the number of expectations, not only rows.
    """

    def __init__(
        self,
        name: str,
        declared: list[Declared],
        paths: list[str],
        keys: tuple[str, ...],
        sample_size: int = SAMPLE_SIZE,
    ) -> None:
        self._definition = _batch_definition(name)
        self._keys = keys
        self._sample_size = sample_size
        self._format = _result_format((), sample_size)
        self._groups: dict[str, _Group] = {}
        self._where: list[tuple[str, int]] = [("", 0)] * len(declared)  # path and slot
        for path in ("map", "schema"):
            indices = [i for i, p in enumerate(paths) if p == path]
            if not indices:
                continue
            members = [declared[i] for i in indices]
            suite, slot = _suite(f"{name}__{path}", members)
            tallies: dict[int, _Tally] = {}
            for i, d, s in zip(indices, members, slot, strict=True):
                tallies.setdefault(s, _Tally(d, path))
                self._where[i] = (path, s)
            self._groups[path] = _Group(suite, tallies)
        self._between = {
            d.kwargs["column"]
            for d, p in zip(declared, paths, strict=True)
            if p == "map" and d.expectation == "expect_column_values_to_be_between"
        }
        self._dtypes: pd.Series | None = None
        self.batches = 0

    def run(self, batch: pd.DataFrame) -> None:
        same_dtypes = self._dtypes is not None and batch.dtypes.equals(self._dtypes)
        for path, group in self._groups.items():
            if path == "schema" and same_dtypes:
                continue
            # Row-wise checks see plain numpy integers (same verdicts; see _plain_integers);
            # samples are still read from the batch as it is.
            frame, converted = batch, frozenset[str]()
            if path == "map":
                frame, converted = _plain_integers(batch, self._between)
            found = _validate(self._definition, group.suite, frame, self._format)
            for s, tally in group.tallies.items():
                tally.add(found.get(s, NO_RESULT), batch, self._keys, self._sample_size, converted)
        if self._dtypes is None:
            self._dtypes = batch.dtypes
        self.batches += 1

    def results(self) -> list[RawResult]:
        """Per declared expectation, its result over every batch run so far."""
        return [
            self._groups[path].tallies[s].result(self._keys, self._sample_size)
            for path, s in self._where
        ]
