"""Turning a block's arrays into the export's CSV text, and appending it to the files."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from models.demo.draws import choice_by_row

BOM = b"\xef\xbb\xbf"
DATE_FMT = "%Y-%m-%d"
TS_FMT = "%Y-%m-%d %H:%M:%S"
ID_WIDTH = {"P": 7, "M": 7, "MT": 8, "A": 8, "R": 8}


@cache
def spellings() -> dict:
    with open(Path(__file__).with_name("spellings.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def ids(prefix: str, numbers: np.ndarray) -> pl.Series:
    digits = pl.Series(numbers, dtype=pl.Int64).cast(pl.String).str.zfill(ID_WIDTH[prefix])
    return pl.select(pl.concat_str(pl.lit(prefix), digits)).to_series()


def labels(codes: np.ndarray, names: Sequence[str | None]) -> pl.Series:
    """names[code]; code -1 gives a blank (null) cell."""
    codes = np.where(np.asarray(codes) < 0, len(names), codes)
    return pl.Series([*names, None], dtype=pl.String).gather(pl.Series(codes, dtype=pl.Int64))


def days(day: np.ndarray) -> pl.Series:
    """ISO dates; -1 gives a blank cell."""
    s = pl.Series(day, dtype=pl.Int64)
    s = pl.select(pl.when(s >= 0).then(s)).to_series().cast(pl.Int32).cast(pl.Date)
    return s.dt.to_string(DATE_FMT)


def datetimes(day: np.ndarray, minute: np.ndarray) -> pl.Series:
    return timestamps(day, minute).dt.to_string(TS_FMT)


def timestamps(day: np.ndarray, minute: np.ndarray) -> pl.Series:
    ms = (np.asarray(day, np.int64) * 1440 + np.asarray(minute, np.int64)) * 60_000
    return pl.Series(ms, dtype=pl.Int64).cast(pl.Datetime("ms"))


def dates(day: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(day), dtype=pl.Int32).cast(pl.Date)


def integers(values: np.ndarray, blank_below: int = 0) -> pl.Series:
    s = pl.Series(values, dtype=pl.Int64)
    return pl.select(pl.when(s >= blank_below).then(s)).to_series().cast(pl.String)


class Spelling:
    """Draws a raw spelling for each canonical code from a spellings.yaml table."""

    def __init__(self, table: dict, categories: Sequence[str]) -> None:
        self.names: list[str | None] = []
        width = max(len(table[c]) for c in categories)
        self.prob = np.zeros((len(categories), width))
        self.index = np.zeros((len(categories), width), np.int64)
        for i, cat in enumerate(categories):
            for j, (raw, weight) in enumerate(table[cat].items()):
                self.prob[i, j] = weight
                self.index[i, j] = len(self.names)
                self.names.append(None if raw is None else str(raw))

    def render(self, rng: np.random.Generator, codes: np.ndarray) -> pl.Series:
        codes = np.asarray(codes)
        known = codes >= 0
        out = np.full(len(codes), -1, np.int64)
        col = choice_by_row(rng, self.prob, np.where(known, codes, 0))
        out[known] = self.index[codes[known], col[known]]
        return labels(out, self.names)


class CsvSink:
    """Appends CSV blocks to files in out_dir, writing each header once and counting data rows."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.rows: dict[str, int] = {}
        self._files: dict = {}

    def write(self, name: str, frame: pl.DataFrame, bom: bool = False) -> int:
        """Append frame to file `name`; return the 1-based row number of its first row."""
        fh = self._files.get(name)
        if fh is None:
            fh = self._files[name] = open(self.out_dir / name, "wb")  # noqa: SIM115
            if bom:
                fh.write(BOM)
            frame.write_csv(fh, include_header=True)
            self.rows[name] = 0
        elif frame.height:
            frame.write_csv(fh, include_header=False)
        first = self.rows[name] + 1
        self.rows[name] += frame.height
        return first

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()
