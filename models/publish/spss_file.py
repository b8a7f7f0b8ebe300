"""An SPSS .sav file, zlib-compressed (ZSAV, SPSS 21 and later), written a chunk of rows at a time.

Written from the published description of the system file format (GNU PSPP's "System File
Format" appendix): the file header, one record per variable (and per further 8 bytes of a text
variable), value labels, the extension records readers expect (machine information, display
parameters, long names, UTF-8 encoding), then the rows as a bytecode stream compressed in zlib
blocks with an index at the end. Every number is a double, as in SPSS. What this writer does not
produce: text over 255 bytes ("very long strings"; `fits` says when a table needs another writer),
missing-value ranges, weights and documents.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from models.publish.variables import MS_PER_DAY, UNIX_EPOCH_DAYS_AFTER_SPSS, Variable

STR_MAX = 255  # widest short string
_SYSMIS = -np.finfo(np.float64).max
_BIAS = 100.0  # codes 1..251 stand for the whole numbers -99..151
_SKIP, _RAW, _SPACES, _MISSING_CODE = 0, 253, 254, 255
_BLOCK = 0x3FF000  # uncompressed bytes per zlib block, as SPSS writes them
# zlib level: all the consortium's labelled files took 32 s at level 1 (.sav 1.1 GB), 56 s
# at level 6 (0.87 GB).
_ZLIB_LEVEL = 1
# zlib lets go of the GIL: blocks compress on both cores while the next chunk is prepared; at
# most _IN_FLIGHT blocks (4 MB each) wait to be written.
_COMPRESSORS, _IN_FLIGHT = 2, 6
_SPACE_SLOT = np.frombuffer(b" " * 8, dtype="<u8")[0]
# Display formats (type, width, decimals): F8.0, F12.4, DATE11, DATETIME20.
_FORMATS = {
    "integer": (5, 8, 0), "double": (5, 12, 4), "date": (20, 11, 0), "timestamp": (22, 20, 0),
}  # fmt: skip
_MEASURES = {"nominal": 1, "ordinal": 2, "scale": 3}


def fits(variables: list[Variable]) -> bool:
    """Whether this writer can hold every column (no text wider than 255 bytes)."""
    return all(v.width <= STR_MAX for v in variables if v.is_text)


def _slots(v: Variable) -> int:
    return -(-v.width // 8) if v.is_text else 1


def _padded(raw: bytes, multiple: int, fill: bytes = b" ") -> bytes:
    return raw + fill * (-len(raw) % multiple)


def _utf8(text: str, limit: int) -> bytes:
    """UTF-8 bytes of text, cut at a character boundary to at most `limit` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore").encode("utf-8")


def short_names(names: list[str]) -> list[str]:
    """Unique 8-byte dictionary names (upper case, as SPSS compares them); the long names go in
    the long-names record."""
    taken: set[str] = set()
    out = []
    for name in names:
        base = name.upper()[:8]
        candidate, i = base, 1
        while candidate in taken:
            i += 1
            suffix = str(i)
            candidate = base[: 8 - len(suffix)] + suffix
        taken.add(candidate)
        out.append(candidate)
    return out


def _format(v: Variable) -> int:
    kind, width, decimals = (1, v.width, 0) if v.is_text else _FORMATS[v.display]
    return (kind << 16) | (width << 8) | decimals


def _variable_records(v: Variable, short: str) -> bytes:
    fmt = _format(v)
    label = _utf8(v.label, 255)
    record = struct.pack("<iiiiii", 2, v.width if v.is_text else 0, 1 if label else 0, 0, fmt, fmt)
    record += short.encode("ascii").ljust(8)
    if label:
        record += struct.pack("<i", len(label)) + _padded(label, 4)
    for _ in range(_slots(v) - 1):  # a text variable's further 8-byte slots
        record += struct.pack("<iiiiii", 2, -1, 0, 0, 0, 0) + b" " * 8
    return record


def _value_labels(index: int, labels: dict[int, str]) -> bytes:
    body = struct.pack("<ii", 3, len(labels))
    for code in sorted(labels):
        text = _utf8(labels[code], 120)
        body += struct.pack("<d", float(code)) + _padded(struct.pack("<B", len(text)) + text, 8)
    return body + struct.pack("<iii", 4, 1, index)


def _extension(subtype: int, size: int, payload: bytes) -> bytes:
    return struct.pack("<iiii", 7, subtype, size, len(payload) // size) + payload


class SavWriter:
    """`write` the rows in chunks (variables.py's layout), then `close`."""

    def __init__(
        self, path: Path, variables: list[Variable], rows: int, label: str, created: dt.datetime
    ) -> None:
        if not fits(variables):
            raise ValueError(f"{path.name}: text wider than {STR_MAX} bytes")
        self._variables = variables
        self._rows, self._written = rows, 0
        self._width = sum(_slots(v) for v in variables)  # 8-byte slots per row
        self._pending_codes = np.zeros(0, dtype=np.uint8)  # < 8 slots waiting for a command block
        self._pending_raw = np.zeros(0, dtype="<u8")
        self._buffer = bytearray()  # bytecode not yet compressed (< one block)
        self._blocks: list[tuple[int, int, int, int]] = []
        self._pool = ThreadPoolExecutor(_COMPRESSORS, thread_name_prefix="zsav")
        self._in_flight: deque[tuple[int, Future[bytes]]] = deque()
        self._file: BinaryIO = path.open("wb")
        self._file.write(self._dictionary(label, created))
        self._zheader = self._file.tell()
        self._file.write(b"\0" * 24)  # zheader: filled in by close()
        self._uncompressed_at = self._zheader

    def _dictionary(self, label: str, created: dt.datetime) -> bytes:
        product = b"@(#) SPSS DATA FILE - Mentorscope".ljust(60)
        rows = self._rows if self._rows < 2**31 else -1
        header = b"$FL3" + product + struct.pack("<iiiii", 2, self._width, 2, 0, rows)
        header += struct.pack("<d", _BIAS) + created.strftime("%d %b %y").encode("ascii")
        header += created.strftime("%H:%M:%S").encode("ascii")
        header += _utf8(label, 64).ljust(64) + b"\0" * 3
        shorts = short_names([v.name for v in self._variables])
        records, labels, index = b"", b"", 1
        for v, short in zip(self._variables, shorts, strict=True):
            records += _variable_records(v, short)
            if v.value_labels and not v.is_text:
                labels += _value_labels(index, v.value_labels)
            index += _slots(v)
        # version 1.0.0, machine -1, IEEE floats, ZSAV, little-endian, UTF-8
        machine = struct.pack("<8i", 1, 0, 0, -1, 1, 2, 2, 65001)
        floats = struct.pack("<3d", _SYSMIS, np.finfo(np.float64).max, np.nextafter(_SYSMIS, 0))
        display = b"".join(
            struct.pack("<iii", _MEASURES[v.measure], 8, 0 if v.is_text else 1)
            for v in self._variables
        )
        long_names = "\t".join(
            f"{s}={v.name}" for s, v in zip(shorts, self._variables, strict=True)
        ).encode("utf-8")
        extensions = (
            _extension(3, 4, machine)
            + _extension(4, 8, floats)
            + _extension(11, 4, display)
            + _extension(13, 1, long_names)
            + _extension(20, 1, b"UTF-8")
        )
        return header + records + labels + extensions + struct.pack("<ii", 999, 0)

    def _slots_of(self, columns: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        """The chunk's 8-byte slots in file order (row by row) and the command code of each."""
        raw = np.empty((n, self._width), dtype="<u8")
        codes = np.empty((n, self._width), dtype=np.uint8)
        at = 0
        for v, values in zip(self._variables, columns, strict=True):
            if v.is_text:
                slots = _slots(v)
                padded = np.full((n, slots * 8), 0x20, dtype=np.uint8)
                padded[:, : v.width] = np.where(values == 0, 0x20, values)
                words = padded.view("<u8").reshape(n, slots)
                raw[:, at : at + slots] = words
                codes[:, at : at + slots] = np.where(words == _SPACE_SLOT, _SPACES, _RAW)
                at += slots
                continue
            missing = np.isnan(values)
            if v.display == "date":
                values = (values + UNIX_EPOCH_DAYS_AFTER_SPSS) * 86_400.0
            elif v.display == "timestamp":
                values = values / 1000.0 + UNIX_EPOCH_DAYS_AFTER_SPSS * (MS_PER_DAY // 1000)
            small = ~missing & (values == np.round(values)) & (values >= 1 - _BIAS)
            small &= values <= 251 - _BIAS
            code = np.where(small, np.nan_to_num(values) + _BIAS, _RAW).astype(np.uint8)
            codes[:, at] = np.where(missing, _MISSING_CODE, code)
            raw[:, at] = np.where(missing, _SYSMIS, values).view("<u8")
            at += 1
        return raw.reshape(-1), codes.reshape(-1)

    def write(self, columns: list[np.ndarray]) -> None:
        n = len(columns[0]) if columns else 0
        raw, codes = self._slots_of(columns, n)
        codes = np.concatenate([self._pending_codes, codes])
        raw = np.concatenate([self._pending_raw, raw])
        whole = len(codes) - len(codes) % 8
        self._pending_codes, self._pending_raw = codes[whole:], raw[whole:]
        self._emit(codes[:whole], raw[:whole])
        self._written += n

    def _emit(self, codes: np.ndarray, raw: np.ndarray) -> None:
        """Bytecode: each command block of 8 codes, then the 8 bytes of its slots coded 253."""
        if not len(codes):
            return
        blocks = codes.reshape(-1, 8)
        carries = blocks == _RAW
        per_block = 1 + carries.sum(axis=1)  # in 8-byte words
        starts = np.concatenate([[0], np.cumsum(per_block)[:-1]])
        out = np.empty(int(per_block.sum()), dtype="<u8")
        out[starts] = np.ascontiguousarray(blocks).view("<u8").reshape(-1)
        rank = np.cumsum(carries, axis=1) - 1
        where = (starts[:, None] + 1 + rank)[carries]
        out[where] = raw.reshape(-1, 8)[carries]
        self._buffer += out.tobytes()
        self._flush(final=False)

    def _flush(self, final: bool) -> None:
        at = 0
        while len(self._buffer) - at >= _BLOCK or (final and at < len(self._buffer)):
            chunk = bytes(self._buffer[at : at + _BLOCK])
            self._in_flight.append(
                (len(chunk), self._pool.submit(zlib.compress, chunk, _ZLIB_LEVEL))
            )
            at += len(chunk)
            while len(self._in_flight) > _IN_FLIGHT:
                self._write_block()
        del self._buffer[:at]
        while final and self._in_flight:
            self._write_block()

    def _write_block(self) -> None:
        size, future = self._in_flight.popleft()
        compressed = future.result()
        self._blocks.append((self._uncompressed_at, self._file.tell(), size, len(compressed)))
        self._file.write(compressed)
        self._uncompressed_at += size

    def close(self) -> None:
        if self._written != self._rows:
            self.abort()
            raise ValueError(f"declared {self._rows} rows, wrote {self._written}")
        if len(self._pending_codes):
            fill = 8 - len(self._pending_codes)
            codes = np.concatenate([self._pending_codes, np.full(fill, _SKIP, dtype=np.uint8)])
            raw = np.concatenate([self._pending_raw, np.zeros(fill, dtype="<u8")])
            self._emit(codes, raw)
        self._flush(final=True)
        trailer_at = self._file.tell()
        trailer = struct.pack("<qqii", -int(_BIAS), 0, _BLOCK, len(self._blocks))
        trailer += b"".join(struct.pack("<qqii", *block) for block in self._blocks)
        self._file.write(trailer)
        self._file.seek(self._zheader)
        self._file.write(struct.pack("<qqq", self._zheader, trailer_at, len(trailer)))
        self._file.close()
        self._pool.shutdown()

    def abort(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        self._file.close()
