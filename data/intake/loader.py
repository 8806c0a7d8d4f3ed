"""Canonical import: CSV and Parquet files named after the tables, checked, then stored at once.

Every value is read as text and converted by the schema, so identifiers keep leading zeros
and `NA` stays a country. A file that breaks a rule is rejected whole, with every problem
listed by file, line, column and reason, and nothing is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data.intake.ingest import Outcome, Source, Tally, check_and_write
from data.intake.problems import LINE_COLUMN, ImportRejected, Problem
from data.intake.readers import arrow_text
from data.storage import schema
from data.storage.schema import Table
from data.storage.store import Store

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class SourceFile:
    """A file to import and the canonical table it holds."""

    path: Path
    table: Table
    fmt: str

    @property
    def label(self) -> str:
        return str(self.path)

    @property
    def unit(self) -> str:
        return "row" if self.fmt == "parquet" else "line"


@dataclass
class ImportResult:
    """What an import wrote, per table, and what it ignored."""

    rows: dict[str, int]
    notes: list[str] = field(default_factory=list)
    outcome: Outcome | None = None


def _table_for(path: Path) -> str | None:
    return path.stem if path.stem in schema.TABLES else None


def collect_files(paths: Iterable[str | Path]) -> tuple[list[SourceFile], list[Problem], list[str]]:
    """Files to import from paths and folders, with problems and notes about what was skipped."""
    files: list[SourceFile] = []
    problems: list[Problem] = []
    notes: list[str] = []
    tables = ", ".join(schema.TABLES)
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file())
            for p in found:
                fmt = SUFFIXES.get(p.suffix.lower())
                if fmt and _table_for(p):
                    files.append(SourceFile(p, schema.TABLES[p.stem], fmt))
                else:
                    notes.append(f"{p}: skipped (not a canonical table file)")
            continue
        if not path.is_file():
            problems.append(Problem(str(path), 0, "", "no such file"))
            continue
        fmt = SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            problems.append(Problem(str(path), 0, "", "not a .csv or .parquet file"))
        elif _table_for(path) is None:
            problems.append(
                Problem(str(path), 0, "", f"file name is not a canonical table ({tables})")
            )
        else:
            files.append(SourceFile(path, schema.TABLES[path.stem], fmt))
    return files, problems, notes


# Reading: every value as text, with the line each record starts on.


def _check_header(src: SourceFile, header: list[str]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for name in header:
        # Column names are compared as DuckDB does: without regard to case.
        folded = name.strip().lower()
        if not folded:
            problems.append(Problem(src.label, 1, "", "blank column name in the header"))
        elif folded in seen:
            problems.append(Problem(src.label, 1, name.strip(), "column appears twice"))
        elif folded == LINE_COLUMN:
            problems.append(Problem(src.label, 1, name.strip(), "reserved column name"))
        seen.add(folded)
    for col in src.table.columns:
        if col.required and col.name not in seen:
            problems.append(Problem(src.label, 1, col.name, "required column is missing"))
    return problems


def _read_csv_slow(src: SourceFile, text: str) -> tuple[pa.Table, list[Problem]]:
    """Python's csv module: exact start line of every record, ragged rows reported."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    header = [h.strip().lower() for h in next(reader)]
    width = len(header)
    columns: list[list[str]] = [[] for _ in header]
    lines: list[int] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if record:
                if len(record) != width:
                    problems.append(
                        Problem(
                            src.label, start, "", f"expected {width} fields, found {len(record)}"
                        )
                    )
                else:
                    for values, value in zip(columns, record, strict=True):
                        values.append(value)
                    lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        problems.append(Problem(src.label, start, "", f"malformed CSV ({error})"))
    arrays = [pa.array(values, pa.string()) for values in columns]
    table = pa.table([*arrays, pa.array(lines, pa.int64())], names=[*header, LINE_COLUMN])
    return table, problems


def _read_csv(src: SourceFile) -> tuple[pa.Table | None, list[Problem]]:
    data = src.path.read_bytes()
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return None, [Problem(src.label, line, "", "not UTF-8 text")]
    if not text.strip():
        return None, [Problem(src.label, 1, "", "file is empty (no header line)")]
    header = next(csv.reader(io.StringIO(text, newline="")))
    problems = _check_header(src, [h for h in header])
    if problems:
        return None, problems
    header = [h.strip().lower() for h in header]
    ragged: list[int] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        ragged.append(row.number or 0)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except pa.ArrowInvalid:
        table = None
    physical_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if table is not None and not ragged and physical_lines == table.num_rows + 1:
        lines = pa.array(np.arange(2, table.num_rows + 2, dtype=np.int64))
        return table.append_column(LINE_COLUMN, lines), []
    # Quoted newlines, blank lines or ragged rows: count lines exactly.
    return _read_csv_slow(src, text)


def _read_parquet(src: SourceFile) -> tuple[pa.Table | None, list[Problem]]:
    try:
        table = pq.read_table(src.path)
    except (pa.ArrowInvalid, OSError):
        return None, [Problem(src.label, 0, "", "not a readable Parquet file", "row")]
    problems = _check_header(src, table.column_names)
    if problems:
        return None, problems
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        texts = [arrow_text(chunk) for chunk in column.chunks]
        if any(as_hex for _, as_hex in texts) and name.strip().lower() in src.table.column_names:
            row = next(n for n, v in enumerate(column.to_pylist(), 1) if not _is_utf8(v))
            return None, [Problem(src.label, row, name, "binary value that is not text", "row")]
        columns.append(pa.chunked_array([text for text, _ in texts], pa.string()))
    lines = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    names = [n.strip().lower() for n in table.column_names]
    return pa.table([*columns, lines], names=[*names, LINE_COLUMN]), []


def _is_utf8(value: bytes | None) -> bool:
    if value is None:
        return True
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_text(src: SourceFile) -> tuple[pa.Table | None, list[Problem]]:
    """The file's values as text plus a `__line` column, or the problems that stop reading."""
    return _read_parquet(src) if src.fmt == "parquet" else _read_csv(src)


def import_files(
    store: Store,
    paths: Iterable[str | Path],
    *,
    replace: bool = False,
    actor: str = "",
    dry_run: bool = False,
    accept_valid: bool = False,
) -> ImportResult:
    """Check every file, then write all of them in one recorded transaction, or nothing.

    Raises ImportRejected when nothing was written, unless `dry_run` asked for just the check.
    """
    files, problems, notes = collect_files(paths)
    sources: list[Source] = []
    tallies: dict[str, Tally] = {}
    for src in files:
        text, read_problems = read_text(src)
        problems += read_problems
        if text is None:
            continue
        present = set(text.column_names) - {LINE_COLUMN}
        ignored = sorted(present - set(src.table.column_names))
        if ignored:
            notes.append(f"{src.label}: ignored columns not in the schema: {', '.join(ignored)}")
        sources.append(Source(src.label, src.table, text, src.unit))
        # Records a reader could not split into fields are read, and rejected.
        unread = {p.line for p in read_problems if p.line > 1}
        tally = Tally(src.label, text.num_rows + len(unread), src.unit)
        # Malformed CSV stops the reader: what follows was not read, so the file goes whole.
        tally.refused = any(p.reason.startswith("malformed CSV") for p in read_problems)
        tallies[src.label] = tally
    described = [
        {
            "name": s.path.name,
            "sha256": checksum(s.path),
            "bytes": s.path.stat().st_size,
            "table": s.table.name,
            "rows_read": tallies[s.label].rows_read if s.label in tallies else 0,
        }
        for s in files
    ]
    outcome = check_and_write(
        store,
        sources,
        tallies,
        problems,
        replace=replace,
        accept_valid=accept_valid,
        dry_run=dry_run,
        actor=actor,
        files=described,
        info={"source": "import", "files": ", ".join(s.path.name for s in files)},
    )
    if not outcome.written and not dry_run and outcome.problems:
        raise ImportRejected(outcome.problems, outcome.checksums, outcome)
    return ImportResult(outcome.rows, notes, outcome)


def checksum(path: Path) -> str:
    """SHA-256 of a file, in hexadecimal."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
