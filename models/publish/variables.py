"""A column as the labelled formats store it, and one chunk of rows ready for either writer.

The writers (stata_file.py, spss_file.py) take the same chunks: a number column is float64 with
NaN for missing (dates in days and time stamps in milliseconds since 1970-01-01, each writer
moves them to its own epoch), a text column is a (rows, width) uint8 matrix of UTF-8 bytes padded
with NUL (read-only: a view of the Arrow buffer). Floats hold every value these columns can carry
exactly: codes, 0/1, integers within Stata's long, days, and milliseconds (below 2**53).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

UNIX_EPOCH_DAYS_AFTER_STATA = 3_653  # 1960-01-01 -> 1970-01-01
UNIX_EPOCH_DAYS_AFTER_SPSS = 141_428  # 1582-10-14 (SPSS's day 0) -> 1970-01-01
MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    display: str  # integer, double, date, timestamp or text
    width: int = 8  # bytes of a text column (at least 1); unused for numbers
    value_labels: dict[int, str] = field(default_factory=dict)
    measure: str = "scale"  # SPSS: nominal, ordinal or scale
    smallest: float | None = None  # of the whole column, for Stata's storage type
    largest: float | None = None

    @property
    def is_text(self) -> bool:
        return self.display == "text"


def text_matrix(values: pa.Array, width: int) -> np.ndarray:
    """A chunk's text column, each value already NUL-padded to `width` bytes (labelled.py pads
    in SQL), as a (rows, width) view of Arrow's value buffer: no Python object per row."""
    binary = values.cast(pa.large_binary())  # one offset type, whatever Arrow layout came in
    _, offsets_buffer, data_buffer = binary.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        binary.offset : binary.offset + len(binary) + 1
    ]
    if binary.null_count or offsets[-1] - offsets[0] != len(binary) * width:
        raise ValueError(f"text not padded to {width} bytes")
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(binary), width)
