"""Read one export file into an all-text frame with its source row numbers.

Typing happens later, in the row rules, so a value that does not parse becomes a
quarantined row with a reason instead of a failed read. A file that cannot be a table
export at all (binary bytes, a line or a header too large to be real, broken quoting) is
refused with an ExportError that names the file and the line, and never quotes the file's
content: messages end up in logs, and a line may hold a name or an email.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import polars as pl

from models.adapters.text_table import check_xlsx_size
from models.ingest.errors import ExportError

SNIFF_BYTES = 1 << 16
SCAN_CHUNK = 1 << 24
DELIMITERS = (",", ";", "\t", "|")
SOURCE_ROW = "_source_row"
# Rows that are not data but a copy of the header (two exports pasted into one file) are kept
# and marked as rejections in the same columns the adapters use (models/ingest/land.py), so
# the row rules quarantine them with this reason instead of dropping them silently.
REJECT_RULE, REJECT_COLUMN, REJECT_REASON = "_reject_rule", "_reject_column", "_reject_reason"
HEADER_ROW_RULE = "header_row"
REPEATED_HEADER = "the row repeats the header row (were two exports joined into one file?)"
# Far above any real export (contract tables have tens of columns, a long free-text answer a
# few kilobytes) and far below what would exhaust memory on a laptop.
MAX_COLUMNS = 2_000
MAX_LINE_BYTES = 1 << 20
UTF8_NAMES = ("", "utf-8", "utf8", "utf-8-sig")
_PRINTABLE = bytes(range(0x20, 0x7F))
# Code pages that spreadsheet and survey tools write, Windows' Western default first (it wins
# ties). charset-normalizer proposes rarer ones, and on a few legacy bytes it often proposes
# none of these; with a few bytes a rare one can also fit by chance (a lone cp1252 "Å" is HP
# Roman-8's "é"), so the rare ones are tried only when none of these reads as the same alphabet.
COMMON_CODE_PAGES = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "cp1255", "cp1256", "cp1258",
    "iso8859_15", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_9", "iso8859_13",
    "iso8859_16", "koi8_r", "koi8_u", "mac_roman", "mac_latin2", "cp850", "cp437", "cp852",
    "cp866",
)  # fmt: skip
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def normalise_header(name: str) -> str:
    """'Meeting ID ' -> 'meeting_id'; a BOM or stray quotes never reach a column name."""
    text = name.replace("\ufeff", "").strip().strip('"').strip()
    return re.sub(r"[\s\-]+", "_", text).lower()


def _normalised(expr: pl.Expr) -> pl.Expr:
    """normalise_header as a Polars expression, to recognise header rows among data rows."""
    text = expr.str.replace_all("\ufeff", "", literal=True).str.strip_chars()
    text = text.str.strip_chars('"').str.strip_chars()
    return text.str.replace_all(r"[\s\-]+", "_").str.to_lowercase()


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

    matches = list(from_bytes(data))
    if not matches:
        return "cp1252"
    best = matches[0]
    # Western names often fit several code pages equally well; cp1252 (Windows' default in
    # the Americas and Western Europe) is the likeliest of the tied ones.
    tied = [m.encoding for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if "cp1252" in tied or (best.coherence == 0 and _decodes(data, "cp1252")):
        return "cp1252"  # a few accented letters are no evidence for a rarer code page
    return best.encoding


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def decode_mixed(data: bytes) -> str:
    """Text of a file that is not valid UTF-8 as a whole.

    A file with no UTF-8 multi-byte sequence is in one legacy encoding (guessed by
    charset-normalizer). A file with both (an export appended to in another program) is
    decoded line by line: UTF-8 where a line is valid UTF-8, otherwise the encoding guessed
    from the lines that are not.
    """
    if not _UTF8_MULTIBYTE.search(data):
        encoding = detect_encoding(data)
        return data.decode(encoding, errors="replace")
    lines = data.split(b"\n")
    utf8_lines, legacy_lines = [], []
    for line in lines:
        try:
            utf8_lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            legacy_lines.append(line)
    legacy = _legacy_encoding(b"\n".join(legacy_lines), "\n".join(utf8_lines))
    out = []
    for line in lines:
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode(legacy, errors="replace"))
    return "\n".join(out)


def _scripts(chars: set[str]) -> set[str]:
    """'LATIN', 'CYRILLIC', 'GREEK', ...: the writing systems of the letters among `chars`."""
    return {unicodedata.name(c, "?").split()[0] for c in chars if c.isalpha()}


def _legacy_encoding(legacy: bytes, utf8_text: str) -> str:
    """The code page of the non-UTF-8 lines of a mixed file, taking the UTF-8 lines as a hint.

    Both parts were typed by the same program's people: the right code page turns the legacy
    bytes into characters the UTF-8 lines also use, or at least the same alphabet.
    """
    seen = {c for c in utf8_text if ord(c) > 127}
    alphabets = _scripts(seen) or {"LATIN"}
    from charset_normalizer import from_bytes

    proposed = [m.encoding for m in from_bytes(legacy)]
    high = bytes(sorted({b for b in legacy if b > 127}))
    for pages in (COMMON_CODE_PAGES, [e for e in proposed if e not in COMMON_CODE_PAGES]):
        best, shared = None, -1
        for encoding in pages:
            try:
                ascii_same = _PRINTABLE.decode(encoding) == _PRINTABLE.decode("ascii")
                chars = set(high.decode(encoding))
            except (UnicodeDecodeError, LookupError):
                continue
            # Code pages that move ASCII (EBCDIC) or map high bytes onto it cannot be the one,
            # nor one that reads the bytes as another alphabet than the UTF-8 lines'.
            if not ascii_same or any(ord(c) <= 127 for c in chars):
                continue
            if not _scripts(chars) <= alphabets:
                continue
            # The characters the UTF-8 lines use too (exactly: case-folded, mac_roman's "Ë"
            # would pass for a cp1252 "è" beside a UTF-8 "ë"); the first page wins a tie.
            letters = len(chars & seen)
            if letters > shared:
                best, shared = encoding, letters
        if best is not None:
            return best
    guess = detect_encoding(legacy)
    return "cp1252" if guess.replace("_", "-").lower() in UTF8_NAMES else guess


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(SCAN_CHUNK):
            yield chunk


def scan_text_bytes(chunks: Iterable[bytes], name: str) -> bytes:
    """Refuse NUL bytes and over-long lines, in one streaming pass; return the line ending.

    The ending is b"\\n", or b"\\r" for a file that uses bare carriage returns (old Mac
    exports), which the CSV parser would otherwise read as one line.
    """
    newline = None
    line_no, run = 1, 0  # current line number, bytes of it seen in earlier chunks
    for chunk in chunks:
        if newline is None:
            newline = b"\r" if b"\n" not in chunk and b"\r" in chunk else b"\n"
        ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == newline[0])
        nul = chunk.find(b"\x00")
        if nul >= 0:
            where = line_no + int(np.searchsorted(ends, nul))
            raise ExportError(
                f"contains NUL bytes (first on line {where}): this is not a text (CSV) "
                "file, or it is corrupt; export it again",
                name,
            )
        # Bytes per line in this chunk, line ends excluded; the last piece is unfinished.
        content = np.diff(np.concatenate(([-1], ends, [len(chunk)])))
        content[:-1] -= 1
        content[0] += run
        too_long = np.flatnonzero(content > MAX_LINE_BYTES)
        if too_long.size:
            raise ExportError(
                f"line {line_no + int(too_long[0])} is longer than {MAX_LINE_BYTES:,} bytes: "
                "this is not a table export (or a value holds a whole document)",
                name,
            )
        run = int(content[-1])
        line_no += int(ends.size)
    return newline or b"\n"


def _csv_problem(text: str, sep: str) -> str:
    """Where and why a CSV cannot be parsed, in words that never quote its content."""
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_LINE_BYTES * 2)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
        width = None
        for record in reader:
            if width is None:
                width = len(record)
            elif len(record) > width:
                return (
                    f"line {reader.line_num} has {len(record)} values but the header has "
                    f"{width} columns (a {sep!r} inside a value that is not quoted?)"
                )
    except csv.Error as exc:
        return f"line {reader.line_num}: broken quoting ({exc})"
    finally:
        csv.field_size_limit(limit)
    return "the CSV parser gave up (check the quoting and the delimiter)"


def _check_width(count: int, name: str) -> None:
    if count > MAX_COLUMNS:
        raise ExportError(
            f"has {count:,} columns; at most {MAX_COLUMNS:,} are accepted (is this the "
            "right file, or was it saved with the wrong delimiter?)",
            name,
        )


def _header_width(first_line: str, sep: str) -> int:
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES * 2))
    record = next(csv.reader([first_line], delimiter=sep), [])
    return len(record)


def _parse_text(text: str, sep: str, name: str) -> pl.DataFrame:
    first_line = text.split("\n", 1)[0]
    _check_width(_header_width(first_line, sep), name)
    try:
        return pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            separator=sep,
            infer_schema=False,
            quote_char='"',
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError:
        raise ExportError(f"cannot be read as CSV: {_csv_problem(text, sep)}", name) from None


def _first_text_line(path: Path) -> str:
    with path.open("rb") as fh:  # at most MAX_LINE_BYTES: scan_text_bytes checked it
        return fh.readline().decode("utf-8", errors="replace").lstrip("\ufeff")


def _decode(data: bytes, declared: str, name: str) -> str:
    if declared in UTF8_NAMES:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return decode_mixed(data)
    try:
        return data.decode(declared)
    except LookupError:
        raise ExportError(f"unknown encoding {declared!r}", name) from None
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"cannot be decoded as {declared}: byte {exc.start:,} is not valid in it", name
        ) from None


def _read_csv(path: Path, encoding: str | None, delimiter: str | None) -> pl.DataFrame:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise ExportError("is empty", path.name)
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    declared = (encoding or ("utf-16" if utf16 else "")).lower().replace("_", "-")
    if declared.startswith(("utf-16", "utf16", "utf-32", "utf32")):
        try:
            text = path.read_bytes().decode(declared)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ExportError(f"cannot be decoded as {declared}: {exc}", path.name) from None
        newline = scan_text_bytes([text.encode("utf-8")], path.name)
    else:
        newline = scan_text_bytes(file_chunks(path), path.name)
        if declared in UTF8_NAMES and newline == b"\n":
            # The common case, read by Polars straight from the file (no copy in memory).
            first = _first_text_line(path)
            sep = delimiter or sniff_delimiter(first)
            _check_width(_header_width(first.rstrip("\r\n"), sep), path.name)
            try:
                return pl.read_csv(
                    path,
                    encoding="utf8",
                    separator=sep,
                    infer_schema=False,
                    quote_char='"',
                    truncate_ragged_lines=False,
                )
            except pl.exceptions.PolarsError as exc:
                message = str(exc).lower()
                if "utf-8" not in message and "utf8" not in message:
                    text = path.read_bytes().decode("utf-8", errors="replace")
                    problem = _csv_problem(text.lstrip("\ufeff"), sep)
                    raise ExportError(f"cannot be read as CSV: {problem}", path.name) from None
        text = _decode(path.read_bytes(), declared, path.name)
    text = text.lstrip("\ufeff")
    if newline == b"\r":
        text = text.replace("\r", "\n")
    sep = delimiter or sniff_delimiter(text[:SNIFF_BYTES])
    return _parse_text(text, sep, path.name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _read_parquet(path: Path) -> pl.DataFrame:
    _check_width(len(pl.read_parquet_schema(path)), path.name)
    return pl.read_parquet(path)


def _flag_repeated_headers(frame: pl.DataFrame) -> pl.DataFrame:
    columns = [c for c in frame.columns if c != SOURCE_ROW]
    if not columns or frame.height == 0:
        return frame
    # Cheap first: a repeated header has its first column's name in the first column.
    first = columns[0]
    if not frame.select((_normalised(pl.col(first)) == first).fill_null(False).any()).item():
        return frame
    same = pl.all_horizontal([(_normalised(pl.col(c)) == c).fill_null(False) for c in columns])
    return frame.with_columns(
        pl.when(same).then(pl.lit(HEADER_ROW_RULE)).otherwise(None).alias(REJECT_RULE),
        pl.lit(None, pl.String).alias(REJECT_COLUMN),
        pl.when(same).then(pl.lit(REPEATED_HEADER)).otherwise(None).alias(REJECT_REASON),
    )


def read_export_file(
    path: Path, encoding: str | None = None, delimiter: str | None = None
) -> pl.DataFrame:
    """All columns as text (blank kept as-is), headers normalised, plus ``_source_row``.

    ``_source_row`` is the 1-based data row number: the header is not counted, so data row
    1 is line 2 in a spreadsheet. When some rows repeat the header, ``_reject_rule``
    (``header_row``), ``_reject_column`` and ``_reject_reason`` mark them (null on the other
    rows); the columns are absent otherwise.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = _read_parquet(path)
        elif suffix == ".xlsx":
            check_xlsx_size(path)  # a zip bomb is refused before calamine inflates it
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        else:
            frame = _read_csv(path, encoding, delimiter)
    except ExportError:
        raise
    except MemoryError:
        raise ExportError("is too large to read in the memory available", path.name) from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is an unusable file
        kind = {".parquet": "Parquet", ".xlsx": "XLSX"}.get(suffix, "CSV")
        raise ExportError(f"cannot be read as {kind}: {_first_line(exc)}", path.name) from None
    _check_width(frame.width, path.name)
    # Polars renames a repeated CSV header to "<name>_duplicated_<n>": refuse it instead.
    names = [normalise_header(re.sub(r"_duplicated_\d+$", "", c)) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ExportError(f"has duplicate column name(s) {', '.join(dupes)}", path.name)
    reserved = sorted({SOURCE_ROW, REJECT_RULE, REJECT_COLUMN, REJECT_REASON} & set(names))
    if reserved:
        raise ExportError(f"has column(s) named {', '.join(reserved)}, reserved", path.name)
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    frame = frame.select(pl.all().cast(pl.String))
    frame = frame.with_row_index(SOURCE_ROW, offset=1).with_columns(
        pl.col(SOURCE_ROW).cast(pl.Int64)
    )
    return _flag_repeated_headers(frame)
