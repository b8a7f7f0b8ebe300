"""A Stata .dta file (format 118, Stata 14 and later), written a chunk of rows at a time.

Written from StataCorp's published description of the format ("dta file format 118"): an XML-like
header, fixed-width descriptors, the rows as fixed-width records, then the value label tables.
Rows are streamed, so memory is one chunk, not one table. What this writer does not produce:
strL (text over 2045 bytes; `fits` says when a table needs another writer), sort order and
characteristics. The time stamp is the caller's, so the same table written twice is the same file.
"""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from models.publish.variables import MS_PER_DAY, UNIX_EPOCH_DAYS_AFTER_STATA, Variable

STR_MAX = 2045  # widest str#; longer text needs strL
_BYTE, _LONG, _DOUBLE = 65530, 65528, 65526
# The largest value of each type that is not missing, and the system missing "." itself.
_BYTE_RANGE, _BYTE_MISSING = (-127, 100), 101
_LONG_RANGE, _LONG_MISSING = (-2_147_483_647, 2_147_483_620), 2_147_483_621
_DOUBLE_MISSING = struct.unpack("<d", struct.pack("<Q", 0x7FE0000000000000))[0]
_MS_AFTER_STATA_EPOCH = UNIX_EPOCH_DAYS_AFTER_STATA * MS_PER_DAY
_NAME_BYTES, _FORMAT_BYTES, _LABEL_BYTES = 129, 57, 321
_SECTIONS = (
    "stata_dta", "map", "variable_types", "varnames", "sortlist", "formats", "value_label_names",
    "variable_labels", "characteristics", "data", "strls", "value_labels", "/stata_dta", "eof",
)  # fmt: skip


def fits(variables: list[Variable]) -> bool:
    """Whether this writer can hold every column (no text wider than str2045)."""
    return all(v.width <= STR_MAX for v in variables if v.is_text)


def _within(low: float | None, high: float | None, bounds: tuple[int, int]) -> bool:
    return low is None or high is None or (bounds[0] <= low and high <= bounds[1])


def _storage(v: Variable) -> tuple[int, np.dtype, str]:
    """(Stata type code, numpy field type, display format) of a variable."""
    if v.is_text:
        # The tuple form, not the string "(12,)u1": numpy parses that with ast.literal_eval,
        # and CPython 3.11's parser state is shared between threads, so two tables written
        # at once (labelled.py) failed with "AST constructor recursion depth mismatch".
        return v.width, np.dtype((np.uint8, (v.width,))), f"%-{min(v.width, 244)}s"
    shift = UNIX_EPOCH_DAYS_AFTER_STATA if v.display == "date" else 0
    low = None if v.smallest is None else v.smallest + shift
    high = None if v.largest is None else v.largest + shift
    if v.display == "integer" and _within(low, high, _BYTE_RANGE):
        storage = (_BYTE, "i1")
    elif v.display in {"integer", "date"} and _within(low, high, _LONG_RANGE):
        storage = (_LONG, "<i4")
    else:
        storage = (_DOUBLE, "<f8")
    display = {"date": "%td", "timestamp": "%tc", "double": "%10.0g"}.get(v.display, "%12.0g")
    return storage[0], np.dtype(storage[1]), display


def _fixed(text: str, size: int) -> bytes:
    """UTF-8, cut at a character boundary to leave room for the closing NUL, NUL-padded."""
    raw = text.encode("utf-8")[: size - 1].decode("utf-8", errors="ignore").encode("utf-8")
    return raw.ljust(size, b"\0")


def _label_table(name: str, labels: dict[int, str]) -> bytes:
    codes = sorted(labels)
    texts = [labels[c].encode("utf-8")[:32_000] + b"\0" for c in codes]
    offsets = np.cumsum([0, *[len(t) for t in texts[:-1]]]) if texts else np.array([], int)
    body = struct.pack("<ii", len(codes), sum(len(t) for t in texts))
    body += np.asarray(offsets, dtype="<i4").tobytes() + np.asarray(codes, dtype="<i4").tobytes()
    body += b"".join(texts)
    head = struct.pack("<i", len(body)) + _fixed(name, _NAME_BYTES) + b"\0" * 3
    return b"<lbl>" + head + body + b"</lbl>"


class DtaWriter:
    """`write` the rows in chunks (variables.py's layout), then `close`; the row count is fixed
    up front, as the format's header needs it, and checked at the end."""

    def __init__(
        self, path: Path, variables: list[Variable], rows: int, label: str, created: dt.datetime
    ) -> None:
        if not fits(variables):
            raise ValueError(f"{path.name}: text wider than {STR_MAX} bytes needs strL")
        self._variables = variables
        self._rows, self._written = rows, 0
        storage = [_storage(v) for v in variables]
        self._record = np.dtype([(f"v{i}", s[1]) for i, s in enumerate(storage)])
        self._file: BinaryIO = path.open("wb")
        self._offsets: dict[str, int] = {}
        stamp = created.strftime("%d %b %Y %H:%M").encode("ascii")
        label_bytes = label.encode("utf-8")[:320]
        self._put(
            "stata_dta",
            b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder>"
            + b"<K>" + struct.pack("<H", len(variables)) + b"</K>"
            + b"<N>" + struct.pack("<Q", rows) + b"</N>"
            + b"<label>" + struct.pack("<H", len(label_bytes)) + label_bytes + b"</label>"
            + b"<timestamp>" + struct.pack("<B", len(stamp)) + stamp + b"</timestamp></header>",
        )  # fmt: skip
        self._put("map", b"<map>" + b"\0" * 8 * len(_SECTIONS) + b"</map>")
        self._section("variable_types", struct.pack(f"<{len(storage)}H", *[s[0] for s in storage]))
        self._section("varnames", b"".join(_fixed(v.name, _NAME_BYTES) for v in variables))
        self._section("sortlist", b"\0\0" * (len(variables) + 1))
        self._section("formats", b"".join(_fixed(s[2], _FORMAT_BYTES) for s in storage))
        self._section(
            "value_label_names",
            b"".join(_fixed(v.name if v.value_labels else "", _NAME_BYTES) for v in variables),
        )
        self._section("variable_labels", b"".join(_fixed(v.label, _LABEL_BYTES) for v in variables))
        self._section("characteristics", b"")
        self._put("data", b"<data>")

    def _put(self, section: str, data: bytes) -> None:
        self._offsets[section] = self._file.tell()
        self._file.write(data)

    def _section(self, tag: str, body: bytes) -> None:
        self._put(tag, f"<{tag}>".encode() + body + f"</{tag}>".encode())

    def write(self, columns: list[np.ndarray]) -> None:
        n = len(columns[0]) if columns else 0
        records = np.zeros(n, dtype=self._record)
        for i, (v, values) in enumerate(zip(self._variables, columns, strict=True)):
            field = f"v{i}"
            if v.is_text:
                records[field] = values
                continue
            missing = np.isnan(values)
            if v.display == "date":
                values = values + UNIX_EPOCH_DAYS_AFTER_STATA
            elif v.display == "timestamp":
                values = values + _MS_AFTER_STATA_EPOCH
            kind = self._record[field]
            if kind == np.dtype("i1"):
                records[field] = np.where(missing, _BYTE_MISSING, np.nan_to_num(values))
            elif kind == np.dtype("<i4"):
                records[field] = np.where(missing, _LONG_MISSING, np.nan_to_num(values))
            else:
                records[field] = np.where(missing, _DOUBLE_MISSING, values)
        self._file.write(records.tobytes())
        self._written += n

    def close(self) -> None:
        if self._written != self._rows:
            self._file.close()
            raise ValueError(f"declared {self._rows} rows, wrote {self._written}")
        self._file.write(b"</data>")
        self._section("strls", b"")
        tables = b"".join(
            _label_table(v.name, v.value_labels) for v in self._variables if v.value_labels
        )
        self._section("value_labels", tables)
        self._put("/stata_dta", b"</stata_dta>")
        self._offsets["eof"] = self._file.tell()
        self._file.seek(self._offsets["map"] + len(b"<map>"))
        self._file.write(struct.pack(f"<{len(_SECTIONS)}Q", *[self._offsets[s] for s in _SECTIONS]))
        self._file.close()

    def abort(self) -> None:
        self._file.close()
