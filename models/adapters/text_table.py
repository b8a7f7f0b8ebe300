"""Read text tables the way survey tools write them: unknown encoding, unknown delimiter,
one or more header rows. Everything stays a string; typing happens later in the pipeline."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections import Counter
from pathlib import Path

import polars as pl

DELIMITERS = (",", ";", "\t")
SOURCE_ROW = "_source_row"
# Enough lines to see a multi-row header and a few data rows, few enough to stay instant.
_SNIFF_LINES = 50
_SNIFF_BYTES = 1 << 20
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Exports from Western-locale tools that are not UTF-8 are nearly always Windows-1252. For short
# samples charset-normalizer often ranks a sibling Latin code page (cp1250, cp850) first, which
# turns the odd accented letter into a different one; so cp1252 wins over any Latin guess.
# Central European or Mac exports declare their encoding in mapping.yaml.
_WESTERN_DEFAULT = "cp1252"
# XLSX is a zip of XML parts, and calamine (polars.read_excel) reads a whole sheet before any
# row limit applies: a 20 MB file whose sheet XML inflates to 4.75 GB took 8 GB of memory.
# So the zip's directory is checked first. The total declared inflated size of all parts
# (worksheets, shared strings, and any other part a sheet could hide in) must stay below
# MAX_XLSX_INFLATED_BYTES: a real export is a few MB, a large one tens of MB. Tests lower it.
MAX_XLSX_INFLATED_BYTES = 512 * 1024 * 1024
# Spreadsheet XML compresses about 5-30:1; 200:1 on a part of several MB is a crafted run of
# repeated bytes (deflate's ceiling is about 1000:1).
MAX_XLSX_RATIO = 200
XLSX_RATIO_FROM_BYTES = 4 * 1024 * 1024
_LATIN_FAMILY = {
    "cp1250", "cp1252", "cp1254", "cp1257", "cp437", "cp775", "cp850", "cp852", "cp858",
    "latin_1", "iso8859_1", "iso8859_2", "iso8859_9", "iso8859_15", "mac_roman", "mac_latin2",
}  # fmt: skip


def detect_encoding(data: bytes) -> str:
    """Name of the codec that decodes `data`: a BOM wins, then strict UTF-8, then a guess."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # Guess from the start plus the neighbourhood of the first bad byte, which may be deep
        # inside a large file and is the evidence that matters.
        sample = data[:_SNIFF_BYTES] + b"\n" + data[max(0, exc.start - 65536) : exc.start + 65536]
    return _guess_legacy_encoding(sample)


def _guess_legacy_encoding(sample: bytes) -> str:
    from charset_normalizer import from_bytes

    candidates = [match.encoding for match in from_bytes(sample)]
    # A Latin single-byte guess from a handful of accented bytes is no evidence against cp1252.
    if not candidates or candidates[0] in _LATIN_FAMILY or _WESTERN_DEFAULT in candidates:
        try:
            sample.decode(_WESTERN_DEFAULT)
            return _WESTERN_DEFAULT
        except UnicodeDecodeError:
            pass
    for name in candidates:
        try:
            sample.decode(name)
            return name
        except UnicodeDecodeError:
            continue
    return "latin-1"  # decodes every byte; better a wrong letter than a lost file


def detect_delimiter(text: str) -> str:
    """The delimiter among , ; tab that splits the first lines into the most stable columns."""
    lines = text.splitlines()[:_SNIFF_LINES]
    sample = "\n".join(lines)
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        widths = [w for w in widths if w > 0]
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        # Most rows agreeing on one width first, then the wider split.
        score = (count / len(widths), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def detect_file_encoding(path: Path | str, chunk_size: int = 8 << 20) -> str:
    """`detect_encoding` for a file of any size: UTF-8 is checked in chunks, so memory stays
    bounded, and only the start plus the region of the first bad byte go to the guesser."""
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        for bom, name in _BOMS:
            if head.startswith(bom):
                return name
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, chunk = 0, head
        while chunk:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start
                handle.seek(max(0, bad - 65536))
                around = handle.read(131072)
                return _guess_legacy_encoding(head + b"\n" + around)
            offset += len(chunk)
            chunk = handle.read(chunk_size)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _guess_legacy_encoding(head)
    return "utf-8"


def sniff(path: Path | str, encoding: str | None = None) -> tuple[str, str]:
    """(encoding, delimiter) of a delimited text file; pass `encoding` when it is declared.
    Reads the file once in chunks (no full copy in memory), so it suits large tables too."""
    enc = encoding or detect_file_encoding(path)
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    text = head.decode(enc, errors="replace").lstrip("\ufeff")
    return enc, detect_delimiter(text)


def read_rows(
    path: Path | str, encoding: str | None = None, delimiter: str | None = None
) -> tuple[list[list[str]], str, str]:
    """All rows of a delimited file as lists of strings, with the encoding and delimiter used."""
    data = Path(path).read_bytes()
    enc = encoding or detect_encoding(data)
    text = data.decode(enc).lstrip("\ufeff")
    sep = delimiter or detect_delimiter(text[:_SNIFF_BYTES])
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    return rows, enc, sep


def unique_names(names: list[str]) -> list[str]:
    """Blank names become `_col<position>` (1-based); repeats get `__2`, `__3`..."""
    seen: Counter[str] = Counter()
    out = []
    for position, raw in enumerate(names, start=1):
        name = raw.strip() or f"_col{position}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    return out


def frame_from_rows(
    header: list[str], rows: list[list[str]], drop_blank_unnamed: bool = True
) -> pl.DataFrame:
    """An all-Utf8 frame of the data rows, plus `_source_row` (1-based record number after the
    header rows). Empty cells are null; blank records are skipped; short rows are padded.

    Unnamed columns with no data (the trailing comma some exports put on every line) are dropped.
    """
    width = max([len(header), *(len(r) for r in rows)]) if rows or header else 0
    header = list(header) + [""] * (width - len(header))
    names = unique_names(header)
    columns: dict[str, list[str | None]] = {name: [] for name in names}
    source_rows: list[int] = []
    for number, row in enumerate(rows, start=1):
        if not any(cell.strip() for cell in row):
            continue
        source_rows.append(number)
        padded = row + [""] * (width - len(row))
        for name, cell in zip(names, padded, strict=True):
            columns[name].append(cell if cell != "" else None)
    frame = pl.DataFrame(columns, schema={name: pl.String for name in names})
    if drop_blank_unnamed:
        empty = [
            name
            for name, raw in zip(names, header, strict=True)
            if not raw.strip() and frame[name].null_count() == frame.height
        ]
        frame = frame.drop(empty)
    return frame.with_columns(pl.Series(SOURCE_ROW, source_rows, dtype=pl.Int64))


def read_text_table(
    path: Path | str,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_rows: int = 1,
) -> tuple[list[list[str]], pl.DataFrame]:
    """(the header rows as read, an all-Utf8 frame of the data rows named by the first header
    row, with `_source_row`). Callers that need other names build them from the header rows."""
    rows, _, _ = read_rows(path, encoding, delimiter)
    headers = rows[:header_rows]
    first = headers[0] if headers else []
    return headers, frame_from_rows(first, rows[header_rows:])


class XlsxTooLarge(ValueError):
    """An XLSX file is not a zip, or its parts would inflate beyond the limits above."""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def check_xlsx_size(path: Path | str) -> None:
    """Refuse an XLSX file before reading it when it is not a zip archive or its parts would
    inflate too far: XlsxTooLarge with the measured sizes (never the file's content).

    The sizes the zip's directory declares are checked first; then every part is inflated once,
    streamed, to check the declaration: Python's reader stops at the declared size and checks
    the CRC, so a part whose header understates its size (a forged zip bomb) is refused after
    reading at most the declared total, in bounded memory.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
    except zipfile.BadZipFile:
        raise XlsxTooLarge("is not a zip archive (an .xlsx file is one)") from None
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > MAX_XLSX_INFLATED_BYTES:
        sheets = sum(
            m.file_size
            for m in members
            if m.filename.startswith("xl/worksheets/") or m.filename == "xl/sharedStrings.xml"
        )
        raise XlsxTooLarge(
            f"its {len(members)} parts would inflate from {_mb(packed)} to {_mb(total)} "
            f"(worksheets and shared strings {_mb(sheets)}); the limit is "
            f"{_mb(MAX_XLSX_INFLATED_BYTES)}: save a smaller export or CSV"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > XLSX_RATIO_FROM_BYTES and ratio > MAX_XLSX_RATIO:
            name = member.filename if len(member.filename) <= 80 else member.filename[:77] + "..."
            raise XlsxTooLarge(
                f"part {name!r} would inflate {ratio:,.0f}:1 (from {_mb(member.compress_size)} "
                f"to {_mb(member.file_size)}); at most {MAX_XLSX_RATIO}:1 is accepted for a "
                "part this large, as no real spreadsheet compresses that well"
            )
    _check_declared_sizes(path, members)


def _check_declared_sizes(path: Path | str, members: list[zipfile.ZipInfo]) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            for member in members:
                inflated = 0
                with archive.open(member) as part:
                    while chunk := part.read(1 << 20):
                        inflated += len(chunk)
                if inflated != member.file_size:
                    raise zipfile.BadZipFile("size mismatch")
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError):
        name = member.filename if len(member.filename) <= 80 else member.filename[:77] + "..."
        raise XlsxTooLarge(
            f"part {name!r} does not match the size its zip header declares "
            f"({_mb(member.file_size)}): the file is damaged or forged"
        ) from None


def read_sheet_rows(path: Path | str, sheet: int | str = 0) -> list[list[str]]:
    """All rows of one XLSX sheet as strings (dates come back as ISO text from calamine).
    XlsxTooLarge (a ValueError) before reading when the file fails `check_xlsx_size`."""
    check_xlsx_size(path)
    kwargs = {"sheet_name": sheet} if isinstance(sheet, str) else {"sheet_id": sheet + 1}
    frame = pl.read_excel(
        path, has_header=False, infer_schema_length=0, drop_empty_cols=False, **kwargs
    )
    return [["" if v is None else str(v) for v in row] for row in frame.iter_rows()]
