"""Analysts' extract files (CSV, JSON Lines, Excel, Parquet) read into text tables.

The kind of file comes from its content, never its name: a zip is read as a workbook only if
it holds xl/workbook.xml, `PAR1` starts Parquet, known binary signatures are refused, and
anything else must decode as text (BOM, then UTF-8, then Windows-1252). Text whose first line
is a JSON object is JSON Lines; the rest is CSV, its delimiter and quote found by sampling.

Every value is kept as the text in the file: identifiers keep their leading zeros, `NA` stays
`NA`, and formulas come through as their literal text, never evaluated. LINE_COLUMN holds the
physical line each record starts on (text) or its sheet row, the header being row 1 (Excel,
Parquet). Untrusted input is bounded before it is parsed: the file's size before reading, a
workbook's expansion before unzipping, a Parquet file's before decoding.

A problem names a file, line, column and reason, never a cell value; this module logs nothing.
A problem whose reason ends in "not read" is about one record, left out of the table; every
other record is in it. Line 0 means the whole file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import itertools
import json
import os
import re
import stat
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.styles.numbers import is_datetime

from data.intake.problems import LINE_COLUMN, Problem

HEXADECIMAL = "binary values that are not text, shown as hexadecimal"
# What an extract file is named (its type is still told by its content): what the upload
# page offers, and what an import takes from a folder.
EXTRACT_SUFFIXES = ("csv", "tsv", "txt", "xlsx", "parquet", "jsonl", "gz")

MiB = 1024**2

# Content sniffing.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
WORKBOOK_PART = "xl/workbook.xml"
BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (decompress it first)"),
    (b"(\xb5/\xfd", "a Zstandard-compressed file (decompress it first)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old-format (.xls) or password-protected Excel file: save it as .xlsx or CSV",
    ),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program (executable)"),
)
TEXT_KINDS = "a CSV, JSON Lines, Excel (.xlsx) or Parquet file"

# Text decoding. UTF-32 marks come first: the UTF-32 LE mark begins with the UTF-16 LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32-le": "UTF-32 LE",
    "utf-32-be": "UTF-32 BE",
    "cp1252": "Windows-1252",
}
# A valid multi-byte UTF-8 sequence: in a file that is otherwise UTF-8, a few stray bytes are
# a pasted line in another encoding, not a Windows-1252 file.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
MAX_BAD_BYTES = 1000
# Undecodable bytes become a lone surrogate, which no decoded text can hold, then U+FFFD.
UNDECODABLE = "consentlens-readers-mark"
UNDECODABLE_MARK = re.compile("\udfff+")
codecs.register_error(UNDECODABLE, lambda error: ("\udfff", error.end))
CONTROL_CHARS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
NON_BLANK = re.compile(r"\S")

# CSV dialect detection.
DELIMITERS = ",;\t|"
QUOTES = "\"'"
DELIMITER_NAMES = {
    ",": "comma-separated",
    ";": "semicolon-separated",
    "\t": "tab-separated",
    "|": "pipe-separated",
}
SAMPLE_CHARS = 64 * 1024
HEAD_BYTES = 4 * SAMPLE_CHARS  # what a large file's dialect is read from
SAMPLE_RECORDS = 500
SNIFF_CHARS = 4 * 1024  # csv.Sniffer costs milliseconds per kilobyte
# A single-column file is split on a character it does not contain, so commas in values stay.
NO_SPLIT = ("\x1f", "\x1e", "\x1d", "\x1c")
SEP_HINT = re.compile(r'"?sep=([^\r\n])"?(?=\r|\n|$)')

# Workbooks.
MAX_ZIP_MEMBERS = 10_000
RATIO_FLOOR = 64 * 1024  # parts smaller than this cannot expand into anything harmful
ZERO_PADDED = re.compile(r"0{2,}")


@dataclass(frozen=True)
class Dialect:
    """What was detected in a file, shown to the analyst before import."""

    kind: str  # "csv", "jsonl", "xlsx" or "parquet"
    encoding: str | None  # text encoding; None for binary kinds
    delimiter: str | None  # None for a single-column CSV and for other kinds
    quotechar: str | None
    sheet: str | None
    rows: int  # data rows read, header excluded
    compressed: bool = False  # read from inside a gzip file

    def describe(self) -> str:
        """One line for people, e.g. "CSV, semicolon-separated, UTF-8 with BOM, 1,204 rows"."""
        if self.compressed:
            return "gzip-compressed " + replace(self, compressed=False).describe()
        rows = f"{self.rows:,} row" + ("" if self.rows == 1 else "s")
        if self.kind == "xlsx":
            sheet = f', sheet "{self.sheet}"' if self.sheet else ""
            return f"Excel workbook{sheet}, {rows}"
        if self.kind == "parquet":
            return f"Parquet, {rows}"
        encoding = _encoding_name(self.encoding or "")
        if any(self.encoding == e for _, e in BOMS):
            encoding += " with BOM"
        if self.kind == "jsonl":
            return f"JSON Lines, {encoding}, {rows}"
        parts = ["CSV"]
        if self.delimiter:
            parts.append(DELIMITER_NAMES.get(self.delimiter, f"{self.delimiter!r}-separated"))
        elif self.quotechar:
            parts.append("single column")
        if self.quotechar == "'":
            parts.append("single-quoted")
        return ", ".join([*parts, encoding, rows])


@dataclass
class TextTable:
    """A file's values as text plus LINE_COLUMN; `table` is None when the file was refused."""

    table: pa.Table | None
    header: list[str]
    dialect: Dialect | None
    problems: list[Problem] = field(default_factory=list)
    header_line: int = 1  # line (or sheet row) of the header


def read_extract(
    path: Path,
    *,
    display_name: str | None = None,
    max_bytes: int = 200 * MiB,
    max_ratio: int = 100,
    max_uncompressed: int = 1024**3,
) -> TextTable:
    """Read a CSV, JSON Lines, Excel or Parquet file as text, detected by content."""
    path = Path(path)
    label = display_name or str(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # before opening: a FIFO would block
            return _refused(label, "not a regular file")
        handle = path.open("rb")
    except FileNotFoundError:
        return _refused(label, "no such file")
    except OSError:
        return _refused(label, "the file cannot be opened")
    # Every check and every parser below reads this one handle: nothing can swap the file.
    with handle:
        size = os.fstat(handle.fileno()).st_size
        return _read_handle(handle, size, label, max_bytes, max_ratio, max_uncompressed)


def read_upload(
    data: bytes,
    name: str,
    *,
    max_bytes: int = 200 * MiB,
    max_ratio: int = 100,
    max_uncompressed: int = 1024**3,
) -> TextTable:
    """Read an uploaded file's bytes like `read_extract` reads a file; `name` labels problems."""
    handle = io.BytesIO(data)
    return _read_handle(handle, len(data), name, max_bytes, max_ratio, max_uncompressed)


def _read_handle(
    handle: BinaryIO,
    size: int,
    label: str,
    max_bytes: int,
    max_ratio: int,
    max_uncompressed: int,
) -> TextTable:
    if size > max_bytes:
        return _refused(label, _too_big(size, max_bytes))
    head = handle.read(16)
    handle.seek(0)
    if head.startswith(GZIP_MAGIC):
        return _read_gzip(handle, size, label, max_bytes, max_ratio, max_uncompressed)
    if head.startswith(ZIP_MAGIC):
        return _read_xlsx(handle, label, size, max_ratio, max_uncompressed)
    if head.startswith(PARQUET_MAGIC):
        return _read_parquet(handle, label, max_uncompressed)
    binary = _binary_kind(head)
    if binary:
        return _refused(label, f"refused: the content is {binary}, not {TEXT_KINDS}")
    data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # the file grew since it was measured
        return _refused(label, _too_big(len(data), max_bytes))
    return _read_text(data, label)


def _read_gzip(
    handle: BinaryIO,
    size: int,
    label: str,
    max_bytes: int,
    max_ratio: int,
    max_uncompressed: int,
) -> TextTable:
    """A gzip file read as the file inside it, refused before it expands too far."""
    limit = min(max_bytes, max_uncompressed, max(size, RATIO_FLOOR) * max_ratio)
    try:
        with gzip.GzipFile(fileobj=handle) as inner:
            data = inner.read(limit + 1)
    except (OSError, EOFError, zlib.error):
        return _refused(label, "refused: a damaged gzip file")
    if len(data) > limit:
        return _refused(
            label,
            f"refused: the file inside the gzip file expands beyond {_size(limit)} "
            "(or more than the limit allows)",
        )
    if data.startswith(GZIP_MAGIC):
        return _refused(label, "refused: a gzip file inside a gzip file")
    read = _read_handle(io.BytesIO(data), len(data), label, max_bytes, max_ratio, max_uncompressed)
    if read.dialect is not None:
        read = replace(read, dialect=replace(read.dialect, compressed=True))
    return read


def _refused(label: str, reason: str, unit: str = "line") -> TextTable:
    return TextTable(None, [], None, [Problem(label, 0, "", reason, unit)])


def _size(n: int) -> str:
    if n < 1024:
        return f"{n:,} bytes"
    if n < MiB:
        return f"{n / 1024:,.1f} KB"
    if n < 1024**3:
        return f"{n / MiB:,.1f} MB"
    return f"{n / 1024**3:,.1f} GB"


def _too_big(size: int, limit: int) -> str:
    return f"refused: the file is {_size(size)}, over the {_size(limit)} limit"


def _binary_kind(head: bytes) -> str | None:
    for magic, what in BINARY_MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith(b"MZ") and b"\x00" in head:
        return "a Windows program (executable)"
    if head.startswith(b"BZh") and head[4:10] == b"1AY&SY":
        return "a bzip2-compressed file (decompress it first)"
    return None


def _text_table(
    label: str,
    header: list[str],
    header_lines: list[int],
    columns: list[pa.Array | pa.ChunkedArray],
    lines: pa.Array,
    dialect: Dialect,
    problems: list[Problem],
    unit: str = "line",
) -> TextTable:
    """Assemble the table under unique column names; problems sorted by line."""
    names, header_problems = _column_names(label, header, header_lines, unit)
    table = pa.table([*columns, lines], names=[*names, LINE_COLUMN])
    first = min(header_lines, default=1)
    return TextTable(table, header, dialect, sorted(header_problems + problems), first)


def _column_names(
    label: str, header: list[str], lines: list[int], unit: str
) -> tuple[list[str], list[Problem]]:
    """Table column names for a header: blank, repeated or reserved names get placeholders.

    Names compare trimmed and case-insensitively, as DuckDB compares identifiers.
    """
    first: dict[str, int] = {LINE_COLUMN.casefold(): 0}
    for position, name in enumerate(header, start=1):
        first.setdefault(name.strip().casefold(), position)
    taken = {name.strip().casefold() for name in header} | {LINE_COLUMN.casefold()}
    names: list[str] = []
    problems: list[Problem] = []
    for position, (name, line) in enumerate(zip(header, lines, strict=True), start=1):
        key = name.strip().casefold()
        if key and first[key] == position:
            names.append(name)
            continue
        placeholder = f"column_{position}"
        while placeholder.casefold() in taken:
            placeholder += "_"
        taken.add(placeholder.casefold())
        names.append(placeholder)
        if not key:
            reason = f"blank column name in the header (column {position}, read as {placeholder})"
            problems.append(Problem(label, line, placeholder, reason, unit))
        elif first[key] == 0:
            reason = f"column name is reserved (column {position}, read as {placeholder})"
            problems.append(Problem(label, line, name.strip(), reason, unit))
        else:
            reason = (
                f"column name appears twice (columns {first[key]} and {position}; "
                f"the second is read as {placeholder})"
            )
            problems.append(Problem(label, line, name.strip(), reason, unit))
    return names, problems


# Text: encoding, then JSON Lines or CSV.


def _read_text(data: bytes, label: str) -> TextTable:
    fast = _read_large_utf8(data, label)
    if fast is not None:
        return fast
    decoded = _decode(data)
    if isinstance(decoded, str):
        return _refused(label, decoded)
    text, encoding, bad_lines = decoded
    if "\x00" in text:
        if _bomless_utf16(data[:512]):
            reason = "refused: UTF-16 text without a byte-order mark: save it as UTF-8"
            return _refused(label, reason)
        return _refused(label, f"refused: the file holds binary data, not {TEXT_KINDS}")
    sample = text[:SAMPLE_CHARS]
    if len(CONTROL_CHARS.findall(sample)) > max(8, len(sample) // 100):
        return _refused(label, f"refused: the file holds binary data, not {TEXT_KINDS}")
    if not text or text.isspace():
        dialect = Dialect("csv", encoding, None, None, None, 0)
        return TextTable(
            pa.table({LINE_COLUMN: pa.array([], pa.int64())}),
            [],
            dialect,
            [Problem(label, 0, "", "the file is empty (no header line)")],
        )
    start = NON_BLANK.search(text).start()  # type: ignore[union-attr]
    end = LINE_BREAK.search(text, start)
    first_line = text[start : end.start() if end else len(text)].rstrip()
    if first_line.startswith("{"):
        try:
            parsed = _parse_json_line(first_line)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict):
            return _read_jsonl(text, encoding, label, bad_lines)
    if first_line.startswith(("{", "[")) and _is_json_document(text):
        return _refused(
            label,
            "refused: a JSON document, not JSON Lines (one object per line): "
            "export it as JSON Lines or CSV",
        )
    return _read_csv(text, data, encoding, label, bad_lines)


def _utf8_head(part: bytes) -> str | None:
    """A file's first bytes as UTF-8, a character cut at the end dropped (None: not UTF-8)."""
    try:
        return part.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(part) - 3:
            return None
        return _utf8_head(part[: error.start])


def _utf8_tail(part: bytes) -> str | None:
    """A file's last bytes as UTF-8, a character cut at the start dropped."""
    skip = 0
    while skip < 3 and skip < len(part) and part[skip] & 0xC0 == 0x80:
        skip += 1
    try:
        return part[skip:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _read_large_utf8(data: bytes, label: str) -> TextTable | None:
    """A large delimited UTF-8 file read without decoding all of it: the dialect from its
    head, the last record from its tail, and pyarrow (which checks the UTF-8 as it parses)
    for the rest. None whenever anything asks for the full reading below."""
    if len(data) < 4 * HEAD_BYTES or data.startswith(tuple(b for b, _ in BOMS)):
        return None
    if b"\x00" in data:
        return None
    head, tail = _utf8_head(data[:HEAD_BYTES]), _utf8_tail(data[-HEAD_BYTES:])
    if head is None or tail is None:
        return None
    sample = head[:SAMPLE_CHARS]
    if len(CONTROL_CHARS.findall(sample)) > max(8, len(sample) // 100):
        return None
    if head.lstrip().startswith(("{", "[")) or SEP_HINT.match(head):
        return None
    delimiter, quote = _sniff(head)
    if delimiter is None:
        return None
    parsed = _parse_csv_fast(head, data, delimiter, quote, tail)
    if parsed is None:
        return None
    return _csv_table(label, parsed, "utf-8", delimiter, quote)


def _bomless_utf16(head: bytes) -> bool:
    """Mostly-ASCII UTF-16: zeros in nearly every other byte and hardly elsewhere."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 4:
        return False
    pairs = ((even, odd), (odd, even))
    return any(a.count(0) > len(a) * 0.8 and b.count(0) < len(b) * 0.1 for a, b in pairs)


def _decode(data: bytes) -> tuple[str, str, set[int]] | str:
    """The text, its encoding and the lines holding undecodable bytes; or why it is refused."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _decode_leniently(data[len(bom) :], encoding)
    try:
        return data.decode("utf-8"), "utf-8", set()
    except UnicodeDecodeError:
        pass
    sequences = len(UTF8_SEQUENCE.findall(data))
    if sequences:
        decoded = _decode_leniently(data, "utf-8", limit=sequences)
        if not isinstance(decoded, str):
            return decoded
    return _decode_leniently(data, "cp1252")


def _decode_leniently(
    body: bytes, encoding: str, limit: int = MAX_BAD_BYTES
) -> tuple[str, str, set[int]] | str:
    """Decode, replacing bad bytes and noting their lines; refused past `limit` bad bytes."""
    text = body.decode(encoding, UNDECODABLE)
    if text.count("\udfff") > limit:
        return f"refused: not text in a supported encoding ({TEXT_KINDS} expected)"
    spots = list(UNDECODABLE_MARK.finditer(text))
    bad_lines: set[int] = set()
    line, previous = 1, 0
    for spot in spots:
        at = spot.start()
        line += text.count("\n", previous, at) + text.count("\r", previous, at)
        line -= text.count("\r\n", previous, at)
        bad_lines.add(line)
        previous = at
    return UNDECODABLE_MARK.sub("\ufffd", text) if spots else text, encoding, bad_lines


def _physical_lines_in(utf8: bytes) -> int:
    """Lines in the text up to its trailing line breaks (ended by CR, LF or CRLF; a last line
    without an ending counts), counted on its UTF-8 bytes: one byte a line break."""
    end = len(utf8)
    while end and utf8[end - 1] in b"\r\n":
        end -= 1
    if not end:
        return 1
    lines = utf8.count(b"\n", 0, end)
    if utf8.find(b"\r", 0, end) != -1:  # most files have none: one pass instead of three
        lines += utf8.count(b"\r", 0, end) - utf8.count(b"\r\n", 0, end)
    return lines + 1


def _content_end(text: str) -> int:
    """Where the text ends, trailing line breaks aside."""
    end = len(text)
    while end and text[end - 1] in "\r\n":
        end -= 1
    return end


def _encoding_name(encoding: str) -> str:
    return ENCODING_NAMES.get(encoding, encoding or "unknown encoding")


def _undecodable(label: str, line: int, encoding: str) -> Problem:
    reason = f"bytes that are not valid {_encoding_name(encoding)} text; record not read"
    return Problem(label, line, "", reason)


# JSON Lines.


class _Literal(str):
    """A JSON number or constant kept exactly as written (1.10 stays 1.10)."""


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey
    return obj


_JSON = json.JSONDecoder(
    parse_float=_Literal, parse_int=_Literal, parse_constant=_Literal, object_pairs_hook=_object
)


def _parse_json_line(line: str) -> object:
    return _JSON.decode(line)


def _is_json_document(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _json_text(value: object) -> str:
    """A top-level value as text: strings and numbers as written, nested values as JSON."""
    if isinstance(value, str):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _json_dump(value)


def _json_dump(value: object) -> str:
    if isinstance(value, _Literal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = (f"{json.dumps(k, ensure_ascii=False)}:{_json_dump(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_dump(v) for v in value) + "]"
    return json.dumps(value)


def _read_jsonl(text: str, encoding: str, label: str, bad_lines: set[int]) -> TextTable:
    """One JSON object per line; the header is every key in the order first seen."""
    key_lines: dict[str, int] = {}
    records: list[dict[str, str]] = []
    starts: list[int] = []
    problems: list[Problem] = []
    for number, line in enumerate(LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        if number in bad_lines:
            problems.append(_undecodable(label, number, encoding))
            continue
        reason = "not a JSON object; not read"
        try:
            obj = _parse_json_line(line)
            row = {k: _json_text(v) for k, v in obj.items()} if isinstance(obj, dict) else None
        except _DuplicateKey:
            row, reason = None, "a key appears twice in the object; not read"
        except RecursionError:
            row, reason = None, "JSON nested too deeply; not read"
        except ValueError:
            row = None
        if row is None:
            problems.append(Problem(label, number, "", reason))
            continue
        for key in row:
            key_lines.setdefault(key, number)
        records.append(row)
        starts.append(number)
    header = list(key_lines)
    columns = [pa.array([r.get(key, "") for r in records], pa.string()) for key in header]
    dialect = Dialect("jsonl", encoding, None, None, None, len(records))
    lines = pa.array(starts, pa.int64())
    return _text_table(label, header, list(key_lines.values()), columns, lines, dialect, problems)


# CSV.


def _consistency(sample: str, delimiter: str, quote: str) -> tuple[float, int]:
    """Share of sample records as wide as the header, and the header's width (0 if < 2)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar=quote)
    widths: list[int] = []
    try:
        widths = [len(r) for r in itertools.islice(reader, SAMPLE_RECORDS) if r]
    except csv.Error:
        return 0.0, 0
    if not widths or widths[0] < 2:
        return 0.0, 0
    return sum(w == widths[0] for w in widths) / len(widths), widths[0]


def _sniff(text: str) -> tuple[str | None, str]:
    """Delimiter (None: a single column) and quote character for a CSV text.

    Candidates are scored by the share of sample records as wide as the header. Among the
    best, csv.Sniffer's guess wins; without it, the widest header, then the double quote and
    the order of DELIMITERS.
    """
    sample = text[:SAMPLE_CHARS]
    if len(text) > SAMPLE_CHARS:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))  # drop the last, probably cut, line
        sample = sample[:cut] if cut > 0 else sample
    scores = {(d, q): _consistency(sample, d, q) for d in DELIMITERS for q in QUOTES}
    top = max(share for share, _ in scores.values())
    if top == 0:
        return None, '"'
    small = sample[:SNIFF_CHARS]
    cut = max(small.rfind("\n"), small.rfind("\r"))
    try:
        sniffed = csv.Sniffer().sniff(small[:cut] if cut > 0 else small, delimiters=DELIMITERS)
        guess = (sniffed.delimiter, sniffed.quotechar)
    except csv.Error:
        guess = None
    if guess in scores and scores[guess][0] == top:
        return guess
    best = [k for k, (share, _) in scores.items() if share == top]
    return max(best, key=lambda k: (scores[k][1], k[1] == '"'))


def _read_csv(text: str, data: bytes, encoding: str, label: str, bad_lines: set[int]) -> TextTable:
    hint = SEP_HINT.match(text)
    if hint:
        # Excel's "sep=;" line names the delimiter. Emptied, not removed: line numbers hold.
        delimiter, quote = hint.group(1), '"'
        text = text[hint.end() :]
    else:
        delimiter, quote = _sniff(text)
    split_on = delimiter or next((c for c in NO_SPLIT if c not in text), ",")
    parsed = None
    if not bad_lines and not hint:
        utf8 = data if encoding == "utf-8" else text.encode("utf-8")
        parsed = _parse_csv_fast(text, utf8, split_on, quote)
    if parsed is None:
        parsed = _parse_csv_slow(text, split_on, quote, label, bad_lines, encoding)
    return _csv_table(label, parsed, encoding, delimiter, quote)


def _csv_table(
    label: str, parsed: CsvParse, encoding: str, delimiter: str | None, quote: str
) -> TextTable:
    header, header_line, columns, lines, problems = parsed
    dialect = Dialect("csv", encoding, delimiter, quote, None, len(lines))
    return _text_table(
        label, header, [header_line] * len(header), columns, lines, dialect, problems
    )


CsvParse = tuple[list[str], int, list, pa.Array, list[Problem]]


def _reader(lines: io.StringIO, delimiter: str, quote: str):
    return csv.reader(lines, delimiter=delimiter, quotechar=quote, strict=False)


def _unterminated(tail: str, delimiter: str, quote: str) -> bool:
    """Whether the text's last record opens a quote that is never closed."""
    try:
        for _ in csv.reader(
            io.StringIO(tail, newline=""), delimiter=delimiter, quotechar=quote, strict=True
        ):
            pass
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _parse_csv_fast(
    text: str, utf8: bytes, delimiter: str, quote: str, tail: str | None = None
) -> CsvParse | None:
    """pyarrow, with start lines from the line breaks inside values; None when that cannot
    be exact (ragged records, blank lines, a header over several lines).

    `text` may be only the head of the file and `tail` its end (pyarrow reads `utf8`, all
    of it); without `tail` the text is the whole file."""
    # Lines handed over one by one: a StringIO of the whole text would copy it at 4 bytes a
    # character (about 4x the file) just to read the header.
    lines_of_text = (m.group() for m in LINE_WITH_END.finditer(text))
    reader = _reader(lines_of_text, delimiter, quote)
    header = next(reader, [])
    if not header or reader.line_num != 1:
        return None
    names = [f"f{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char=quote, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except pa.ArrowInvalid:
        return None  # ragged rows and the like: the slow path reports them by line
    # A record spans one line plus the line breaks inside its (quoted) values. When the file
    # has exactly one line per record there are none (and no blank lines) to look for.
    physical = _physical_lines_in(utf8)
    spans = np.ones(table.num_rows, dtype=np.int64)
    for column in table.columns if physical != 1 + table.num_rows else ():
        breaks = (
            pc.count_substring(column, "\n").to_numpy()
            + pc.count_substring(column, "\r").to_numpy()
            - pc.count_substring(column, "\r\n").to_numpy()
        )
        spans += breaks
    # Blank lines would shift every line after them; trailing ones shift nothing.
    if 1 + int(spans.sum()) != physical:
        return None
    if table.num_rows:
        last = _last_lines(text if tail is None else tail, int(spans[-1]), tail is None)
        if last is None or _unterminated(last, delimiter, quote):
            return None
    lines = pa.array(np.concatenate(([2], 2 + np.cumsum(spans[:-1]))) if len(spans) else spans)
    if table.num_rows:
        # Records of only delimiters and white space are blank lines, as in the slow path.
        # Column by column, stopping as soon as no record can still be all blank.
        blank = None
        for column in table.columns:
            empty = pc.equal(pc.utf8_trim_whitespace(column), "")
            blank = empty if blank is None else pc.and_(blank, empty)
            if not pc.any(blank).as_py():
                break
        if pc.any(blank).as_py():
            keep = pc.invert(blank)
            table, lines = table.filter(keep), lines.filter(keep)
    return header, 1, table.columns, lines, []


def _last_lines(text: str, count: int, whole: bool = True) -> str | None:
    """The text from the start of its last `count` lines, trailing line breaks aside (None
    when `text` is only the file's end and does not hold them all)."""
    start = _content_end(text)
    for _ in range(count):
        start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start))
        if start < 0:
            return text if whole else None
        if text.startswith("\r\n", start - 1):
            start -= 1
    return text[start + (2 if text.startswith("\r\n", start) else 1) :]


def _parse_csv_slow(
    text: str,
    delimiter: str,
    quote: str,
    label: str,
    bad_lines: set[int],
    encoding: str,
) -> CsvParse:
    """Python's csv module: the exact start line of every record; ragged records reported."""
    source = io.StringIO(text, newline="")
    header: list[str] | None = None
    header_line = width = 0
    rows: list[list[str]] = []
    starts: list[int] = []
    problems: list[Problem] = []
    last_start, last_kept = 0, False
    end = 0  # the last line read
    while True:
        # A new reader after a malformed record goes on from the next line.
        reader = _reader(source, delimiter, quote)
        consumed = end
        try:
            for record in reader:
                start, end = end + 1, consumed + reader.line_num
                if not any(value.strip() for value in record):
                    continue  # a blank line, or only delimiters (Excel's formatted empty rows)
                broken = bad_lines and any(n in bad_lines for n in range(start, end + 1))
                if header is None:
                    header, header_line, width = record, start, len(record)
                    if broken:
                        name = _encoding_name(encoding)
                        reason = f"bytes that are not valid {name} text in the header"
                        problems.append(Problem(label, start, "", reason))
                    continue
                last_start, last_kept = start, False
                if broken:
                    problems.append(_undecodable(label, start, encoding))
                elif len(record) != width:
                    reason = f"ragged row: expected {width} fields, found {len(record)}; not read"
                    problems.append(Problem(label, start, "", reason))
                else:
                    rows.append(record)
                    starts.append(start)
                    last_kept = True
            break
        except csv.Error as error:
            start, end = end + 1, consumed + reader.line_num
            reason = "malformed CSV record; not read"
            if "field larger than field limit" in str(error):
                reason = f"a value is longer than {csv.field_size_limit():,} characters; not read"
            problems.append(Problem(label, start, "", reason))
            last_start, last_kept = start, False
    if last_start and _unterminated(_from_line(text, last_start), delimiter, quote):
        if last_kept:
            rows.pop()
            starts.pop()
        elif problems and problems[-1].line == last_start:
            problems.pop()
        reason = "a quote opened in this record is never closed; the rest of the file was not read"
        problems.append(Problem(label, last_start, "", reason))
    if header is None:  # only blank lines around a malformed record
        header = []
    columns = [pa.array(values, pa.string()) for values in zip(*rows, strict=True)] or [
        pa.array([], pa.string()) for _ in header
    ]
    return header, header_line, columns, pa.array(starts, pa.int64()), problems


def _from_line(text: str, line: int) -> str:
    if line <= 1:
        return text
    for number, match in enumerate(LINE_BREAK.finditer(text), start=2):
        if number == line:
            return text[match.end() :]
    return ""


# Excel workbooks.


def _zip_directory(handle: BinaryIO, size: int) -> tuple[int, int] | None:
    """Entries and size of the zip's central directory, from its end record, read first."""
    handle.seek(max(0, size - (22 + 65535)))
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count, directory_size = struct.unpack("<HI", tail[at + 10 : at + 16])
    return count, directory_size


def _check_zip(handle: BinaryIO, size: int, max_ratio: int, max_uncompressed: int) -> str | None:
    """Why a zip may not be opened as a workbook, or None when it may."""
    directory = _zip_directory(handle, size)
    if directory is None:
        return "refused: a damaged zip archive, not a readable Excel workbook"
    count, directory_size = directory
    # Refused before zipfile reads the directory into memory. ZIP64's 0xFFFF entries and
    # 0xFFFFFFFF bytes are refused too: no workbook needs them.
    if count > MAX_ZIP_MEMBERS or directory_size > MAX_ZIP_MEMBERS * 1024:
        return f"spreadsheet refused: more than {MAX_ZIP_MEMBERS:,} parts in the archive"
    try:
        with zipfile.ZipFile(handle) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "refused: a damaged zip archive, not a readable Excel workbook"
    if len(members) > MAX_ZIP_MEMBERS:
        return f"spreadsheet refused: more than {MAX_ZIP_MEMBERS:,} parts in the archive"
    names = {m.filename for m in members}
    if WORKBOOK_PART not in names:
        if "mimetype" in names and "content.xml" in names:
            return "refused: an OpenDocument file, not an Excel workbook: save it as .xlsx or CSV"
        return (
            "refused: a zip archive, not an Excel workbook: extract the file inside and upload it"
        )
    if any(m.flag_bits & 0x1 for m in members):
        return "spreadsheet refused: parts of the archive are encrypted"
    total = sum(m.file_size for m in members)
    if total > max_uncompressed:
        return (
            f"spreadsheet refused: it would expand to {_size(total)}, over the "
            f"{_size(max_uncompressed)} limit (possible decompression bomb)"
        )
    for m in members:
        if m.file_size > RATIO_FLOOR and m.file_size > max_ratio * max(m.compress_size, 1):
            ratio = m.file_size // max(m.compress_size, 1)
            return (
                f"spreadsheet refused: it would expand to {_size(total)} from {_size(size)}, "
                f"one part {ratio:,} times its compressed size (possible decompression bomb)"
            )
    return None


def _cell_text(cell) -> str:
    """A cell as text: formulas as written, dates in ISO 8601, whole numbers without ".0"."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value, cell.number_format)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time() and is_datetime(cell.number_format) == "date":
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    text = getattr(value, "text", None)  # array and data-table formulas
    return text if isinstance(text, str) else str(value)


def _number_text(value: int | float, number_format: str | None) -> str:
    if isinstance(value, float):
        if not (value.is_integer() and abs(value) < 1e15):
            return format(value, ".15g")  # what Excel shows: 15 significant digits
        value = int(value)
    if value >= 0 and ZERO_PADDED.fullmatch(number_format or ""):
        return str(value).zfill(len(number_format or ""))  # ids formatted as 00123
    return str(value)


def _sheet_rows(sheet) -> list[tuple[int, list[str]]]:
    """Non-blank rows of a sheet as (sheet row, texts without trailing blanks)."""
    sheet.reset_dimensions()  # a wrong <dimension> would otherwise cut columns off
    rows = []
    for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
        values = [_cell_text(c) for c in cells]
        while values and values[-1] == "":
            values.pop()
        if values:
            rows.append((number, values))
    return rows


def _has_data(sheet) -> bool:
    sheet.reset_dimensions()
    return any(
        c.value is not None and c.value != "" for cells in sheet.iter_rows(min_row=1) for c in cells
    )


def _workbook_failure(error: BaseException) -> str:
    """Why a workbook could not be read, without the parser's message (it may quote data)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return "spreadsheet refused: it declares XML entities (possible XML bomb)"
        cause = cause.__cause__ or cause.__context__
    return f"refused: not a readable Excel workbook ({type(error).__name__})"


def _read_xlsx(
    handle: BinaryIO, label: str, size: int, max_ratio: int, max_uncompressed: int
) -> TextTable:
    refusal = _check_zip(handle, size, max_ratio, max_uncompressed)
    if refusal:
        return _refused(label, refusal, "row")
    handle.seek(0)
    with warnings.catch_warnings():
        # openpyxl warns about workbook features it drops (validation, extensions): not ours.
        warnings.simplefilter("ignore")
        try:
            # data_only=False: a formula is read as its text, never as a cached result.
            workbook = load_workbook(handle, read_only=True, data_only=False, keep_links=False)
            try:
                sheets = workbook.worksheets
                chosen, rows, others = None, [], []
                for sheet in sheets:
                    if chosen is None:
                        rows = _sheet_rows(sheet)
                        if rows:
                            chosen = sheet
                    elif _has_data(sheet):
                        others.append(sheet.title)
            finally:
                workbook.close()
        except Exception as error:  # any parser failure on untrusted input is the file's
            return _refused(label, _workbook_failure(error), "row")
    problems: list[Problem] = []
    if chosen is None:
        title = sheets[0].title if sheets else None
        empty = Dialect("xlsx", None, None, None, title, 0)
        table = pa.table({LINE_COLUMN: pa.array([], pa.int64())})
        reason = "the workbook is empty (no sheet has data)"
        return TextTable(table, [], empty, [Problem(label, 0, "", reason, "row")])
    if others:
        listed = ", ".join(f'"{t}"' for t in others)
        reason = (
            f"the workbook has {len(others) + 1} sheets with data; only the first, "
            f'"{chosen.title}", was read (not read: {listed})'
        )
        problems.append(Problem(label, 0, "", reason, "row"))
    (header_row, header), data = rows[0], rows[1:]
    width = max(len(values) for _, values in rows)
    header = header + [""] * (width - len(header))
    columns = [[] for _ in range(width)]
    for _, values in data:
        values += [""] * (width - len(values))
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    arrays = [pa.array(values, pa.string()) for values in columns]
    lines = pa.array([number for number, _ in data], pa.int64())
    dialect = Dialect("xlsx", None, None, None, chosen.title, len(data))
    return _text_table(label, header, [header_row] * width, arrays, lines, dialect, problems, "row")


# Parquet.


def arrow_text(array: pa.Array) -> tuple[pa.Array, bool]:
    """A column as text (the canonical loader's Parquet reading too): nulls as "", booleans
    as true/false, nested values as JSON, binary values that are not text as hexadecimal.

    Returns the text and whether binary values had to be shown as hexadecimal.
    """
    kind = array.type
    if isinstance(kind, pa.BaseExtensionType):  # a UUID, say: read as what it is stored as
        return arrow_text(array.storage)
    if pa.types.is_dictionary(kind):
        return arrow_text(array.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = array.cast(pa.string())
    elif pa.types.is_boolean(kind):
        text = pc.if_else(array, "true", "false")
    elif (
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or (pa.types.is_fixed_size_binary(kind))
    ):
        try:
            text = array.cast(pa.string())
        except pa.ArrowInvalid:
            values = [None if v is None else "0x" + v.hex() for v in array.to_pylist()]
            return pa.array(values, pa.string()).fill_null(""), True
    elif pa.types.is_nested(kind):
        values = [None if v is None else _nested_json(v) for v in array.to_pylist()]
        text = pa.array(values, pa.string())
    else:
        try:
            text = array.cast(pa.string())
        except pa.ArrowNotImplementedError:
            text = pa.array([None if v is None else str(v) for v in array.to_pylist()])
    return pc.fill_null(text, ""), False


def _nested_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _read_parquet(handle: BinaryIO, label: str, max_uncompressed: int) -> TextTable:
    not_readable = _refused(label, "refused: not a readable Parquet file", "row")
    too_big = _refused(
        label,
        f"refused: the Parquet file would expand to more than {_size(max_uncompressed)} "
        "(possible decompression bomb)",
        "row",
    )
    try:
        parquet = pq.ParquetFile(handle)
    except (pa.ArrowException, OSError):
        return not_readable
    with parquet:
        meta = parquet.metadata
        names = list(parquet.schema_arrow.names)
        # Every text cell takes at least 4 bytes of offsets: refuse what cannot fit, unread.
        declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if max(declared, meta.num_rows * max(1, len(names)) * 4) > max_uncompressed:
            return too_big
        chunks: list[list[pa.Array]] = [[] for _ in names]
        hexed: set[int] = set()
        expanded = rows = 0
        try:
            # Batch by batch, so that a file whose encoding hides its size is stopped in time.
            for batch in parquet.iter_batches(batch_size=65_536):
                rows += batch.num_rows  # what was read, not what the footer claims
                for i in range(batch.num_columns):
                    text, as_hex = arrow_text(batch.column(i))
                    chunks[i].append(text)
                    expanded += text.nbytes
                    if as_hex:
                        hexed.add(i)
                if expanded > max_uncompressed:
                    return too_big
        except (pa.ArrowException, OSError):
            return not_readable
    columns = [pa.chunked_array(c, pa.string()) for c in chunks]
    problems = [Problem(label, 1, names[i], HEXADECIMAL, "row") for i in sorted(hexed)]
    # Row numbers as in a spreadsheet view: the header is row 1.
    lines = pa.array(np.arange(2, rows + 2, dtype=np.int64))
    dialect = Dialect("parquet", None, None, None, None, rows)
    return _text_table(label, names, [1] * len(names), columns, lines, dialect, problems, "row")
