"""Read one export file into an all-text frame with its source row numbers.

Typing happens later, in the row rules, so a value that does not parse becomes a
quarantined row with a reason instead of a failed read.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl

from models.ingest.errors import ExportError

SNIFF_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t", "|")
SOURCE_ROW = "_source_row"


def normalise_header(name: str) -> str:
    """'Meeting ID ' -> 'meeting_id'; a BOM or stray quotes never reach a column name."""
    text = name.replace("\ufeff", "").strip().strip('"').strip()
    return re.sub(r"[\s\-]+", "_", text).lower()


def sniff_delimiter(sample: str) -> str:
    header = sample.splitlines()[0] if sample else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def detect_encoding(data: bytes) -> str:
    """UTF-8 when the bytes are UTF-8; otherwise the best guess of charset-normalizer."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding if best is not None else "cp1252"


def _read_csv(path: Path, encoding: str | None, delimiter: str | None) -> pl.DataFrame:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in head and not utf16:
        raise ExportError("contains NUL bytes: this is not a text (CSV) file", path.name)
    if not head.strip():
        raise ExportError("is empty", path.name)
    sample = head.decode("utf-16" if utf16 else "utf-8", errors="replace").lstrip("\ufeff")
    sep = delimiter or sniff_delimiter(sample)
    declared = (encoding or ("utf-16" if utf16 else "")).lower().replace("_", "-")
    options = dict(separator=sep, infer_schema=False, quote_char='"', truncate_ragged_lines=False)
    try:
        if declared in ("", "utf-8", "utf8", "utf-8-sig"):
            return pl.read_csv(path, encoding="utf8", **options)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc).lower() and "utf8" not in str(exc).lower():
            raise ExportError(
                f"cannot be read as {sep!r}-delimited CSV: {_first_line(exc)}", path.name
            ) from None
    # Not UTF-8: decode the whole file with the declared or detected encoding.
    data = path.read_bytes()
    enc = declared if declared not in ("", "utf-8", "utf8", "utf-8-sig") else detect_encoding(data)
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ExportError(f"cannot be decoded as {enc}: {exc}", path.name) from None
    try:
        return pl.read_csv(io.BytesIO(text.encode("utf-8")), **options)
    except pl.exceptions.PolarsError as exc:
        raise ExportError(f"cannot be read as CSV: {_first_line(exc)}", path.name) from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_export_file(
    path: Path, encoding: str | None = None, delimiter: str | None = None
) -> pl.DataFrame:
    """All columns as text (blank kept as-is), headers normalised, plus ``_source_row``.

    ``_source_row`` is the 1-based data row number: the header is not counted, so data row
    1 is line 2 in a spreadsheet.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix == ".xlsx":
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        else:
            frame = _read_csv(path, encoding, delimiter)
    except ExportError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is an unusable file
        kind = {".parquet": "Parquet", ".xlsx": "XLSX"}.get(suffix, "CSV")
        raise ExportError(f"cannot be read as {kind}: {_first_line(exc)}", path.name) from None
    # Polars renames a repeated CSV header to "<name>_duplicated_<n>": refuse it instead.
    names = [normalise_header(re.sub(r"_duplicated_\d+$", "", c)) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ExportError(f"has duplicate column name(s) {', '.join(dupes)}", path.name)
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    frame = frame.select(pl.all().cast(pl.String))
    return frame.with_row_index(SOURCE_ROW, offset=1).with_columns(
        pl.col(SOURCE_ROW).cast(pl.Int64)
    )
