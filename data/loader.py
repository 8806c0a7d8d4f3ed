"""Canonical import: CSV and Parquet files named after the tables, checked, then stored at once.

Every value is read as text and converted by the schema, so identifiers keep leading zeros
and `NA` stays a country. A file that breaks a rule is rejected whole, with every problem
listed by file, line, column and reason, and nothing is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data import schema
from data.erasure import suppressed_hashes
from data.keys import keyed_hash, load_key
from data.schema import Column, Kind, Table
from data.store import Store

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
LINE_COLUMN = "__line"
UTF8_BOM = b"\xef\xbb\xbf"
WHITESPACE = " \t\r\n"


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a file is rejected; never carries a cell value."""

    file: str
    line: int
    column: str
    reason: str
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{self.file}, {self.unit} {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


class ImportRejected(Exception):
    """The import was refused; `problems` lists why. Nothing was written."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} problem(s); nothing was imported")


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


def _as_text(array: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        text = array
    elif pa.types.is_boolean(array.type):
        text = pa.compute.if_else(array, "true", "false")
    else:
        text = array.cast(pa.string())
    return pa.compute.fill_null(text.cast(pa.string()), "")


def _read_parquet(src: SourceFile) -> tuple[pa.Table | None, list[Problem]]:
    try:
        table = pq.read_table(src.path)
    except (pa.ArrowInvalid, OSError):
        return None, [Problem(src.label, 0, "", "not a readable Parquet file", "row")]
    problems = _check_header(src, table.column_names)
    if problems:
        return None, problems
    columns = [_as_text(table.column(i)) for i in range(table.num_columns)]
    lines = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    names = [n.strip().lower() for n in table.column_names]
    return pa.table([*columns, lines], names=[*names, LINE_COLUMN]), []


def read_text(src: SourceFile) -> tuple[pa.Table | None, list[Problem]]:
    """The file's values as text plus a `__line` column, or the problems that stop reading."""
    return _read_parquet(src) if src.fmt == "parquet" else _read_csv(src)


# Converting: SQL over the registered text table; each kind converts and reports its own way.


def _quote(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _trimmed(name: str) -> str:
    return f"trim(\"{name}\", '{WHITESPACE}')"


def _conversion(col: Column, present: set[str]) -> tuple[str, str]:
    """SQL converting one column, and SQL giving the reason it fails (NULL when fine)."""
    if col.name not in present:
        return f"CAST(NULL AS {col.sql_type})", "NULL"
    raw = _trimmed(col.name)
    value = f"NULLIF({raw}, '')"
    invalid = "NULL"
    kind = col.kind
    if kind is Kind.LOWER:
        value = f"NULLIF(lower({raw}), '')"
    elif kind is Kind.UPPER:
        value = f"NULLIF(upper({raw}), '')"
    elif kind is Kind.COUNTRY:
        value = f"NULLIF(upper({raw}), '')"
        invalid = (
            f"CASE WHEN {raw} <> '' AND NOT regexp_full_match(upper({raw}), '[A-Z]{{2}}') "
            "THEN 'not an ISO 3166-1 alpha-2 country code' END"
        )
    elif kind is Kind.JURISDICTION:
        known = " ".join(f"WHEN '{j}' THEN '{j}'" for j in schema.JURISDICTIONS)
        value = f"CASE upper({raw}) {known} ELSE NULLIF({raw}, '') END"
    elif kind is Kind.TIMESTAMP:
        value = f"CAST(TRY_CAST({raw} AS TIMESTAMPTZ) AS TIMESTAMP)"
        invalid = (
            f"CASE WHEN {raw} <> '' AND TRY_CAST({raw} AS TIMESTAMPTZ) IS NULL "
            "THEN 'not an ISO 8601 date or date-time' END"
        )
    elif kind is Kind.DECIMAL:
        number = f"TRY_CAST({raw} AS {col.sql_type})"
        value = number
        invalid = (
            f"CASE WHEN {raw} <> '' AND {number} IS NULL THEN 'not a decimal number' "
            f"WHEN {number} < 0 THEN 'must not be negative' END"
        )
    elif kind is Kind.BOOLEAN:
        true, false = schema.BOOLEAN_SYNONYMS[True], schema.BOOLEAN_SYNONYMS[False]
        value = (
            f"CASE WHEN lower({raw}) IN ({_quote(true)}) THEN true "
            f"WHEN lower({raw}) IN ({_quote(false)}) THEN false END"
        )
        invalid = f"CASE WHEN {value} IS NULL THEN 'not a yes/no value' END"
    elif kind is Kind.DECISION:
        cases = " ".join(
            f"WHEN lower({raw}) IN ({_quote(words)}) THEN '{decision}'"
            for decision, words in schema.DECISION_SYNONYMS.items()
        )
        value = f"CASE {cases} END"
        invalid = (
            f"CASE WHEN {raw} <> '' AND ({value}) IS NULL "
            "THEN 'not a consent decision (granted, denied, withdrawn or a synonym)' END"
        )
    elif kind in (Kind.REQUEST_TYPE, Kind.REQUEST_STATUS):
        allowed = schema.REQUEST_TYPES if kind is Kind.REQUEST_TYPE else schema.REQUEST_STATUSES
        value = f"NULLIF(lower({raw}), '')"
        invalid = (
            f"CASE WHEN {raw} <> '' AND lower({raw}) NOT IN ({_quote(allowed)}) "
            f"THEN 'must be one of {', '.join(allowed)}' END"
        )
    return value, invalid


def _stage_sql(table: Table, present: set[str], stage: str) -> str:
    """CREATE TEMP TABLE converting the text table into canonical types plus error columns."""
    selects = [f'"{LINE_COLUMN}"']
    for col in table.columns:
        value, invalid = _conversion(col, present)
        selects.append(f'{value} AS "{col.name}"')
        selects.append(f'{invalid} AS "__bad_{col.name}"')
    body = ",\n  ".join(selects)
    return f'CREATE OR REPLACE TEMP TABLE "{stage}" AS SELECT\n  {body}\nFROM "{stage}_text"'


def _derive_defaults(con, table: Table, stage: str) -> None:
    if table.name == "privacy_requests":
        con.execute(
            f'UPDATE "{stage}" SET status = CASE WHEN completed_at IS NOT NULL '
            f"THEN '{schema.COMPLETED}' ELSE '{schema.OPEN}' END WHERE status IS NULL"
        )
    if table.name == "customers":
        con.execute(
            f"UPDATE \"{stage}\" SET segment = '{schema.SEGMENT_UNKNOWN}' WHERE segment IS NULL"
        )
    for col in table.columns:
        if col.kind is Kind.BOOLEAN:
            con.execute(f'UPDATE "{stage}" SET "{col.name}" = false WHERE "{col.name}" IS NULL')


def _value_problems(con, src: SourceFile, stage: str) -> list[Problem]:
    checks = []
    for col in src.table.columns:
        reason = f'"__bad_{col.name}"'
        if col.required:
            reason = (
                f'coalesce({reason}, CASE WHEN "{col.name}" IS NULL '
                "THEN 'required value is missing' END)"
            )
        checks.append(
            f"SELECT \"{LINE_COLUMN}\" AS line, '{col.name}' AS col, {reason} AS reason "
            f'FROM "{stage}"'
        )
    union = " UNION ALL ".join(checks)
    rows = con.execute(f"SELECT * FROM ({union}) WHERE reason IS NOT NULL").fetchall()
    return [Problem(src.label, line, column, reason, src.unit) for line, column, reason in rows]


def _key_problems(
    con, src: SourceFile, stage: str, earlier: list[str], replace: bool
) -> list[Problem]:
    """Duplicate unique keys and customer_ids that name nobody."""
    problems = []
    name = src.table.name
    for col in src.table.columns:
        if col.unique:
            rows = con.execute(
                f'SELECT "{LINE_COLUMN}", first_line FROM (SELECT "{LINE_COLUMN}", '
                f'min("{LINE_COLUMN}") OVER (PARTITION BY "{col.name}") AS first_line '
                f'FROM "{stage}" WHERE "{col.name}" IS NOT NULL) WHERE "{LINE_COLUMN}" > first_line'
            ).fetchall()
            problems += [
                Problem(
                    src.label,
                    line,
                    col.name,
                    f"duplicate value (first on {src.unit} {first})",
                    src.unit,
                )
                for line, first in rows
            ]
            others = [f'SELECT "{col.name}" FROM "{s}"' for s in earlier]
            if not replace:
                others.append(f'SELECT "{col.name}" FROM "{name}"')
            if others:
                rows = con.execute(
                    f'SELECT "{LINE_COLUMN}" FROM "{stage}" WHERE "{col.name}" IN '
                    f"({' UNION ALL '.join(others)})"
                ).fetchall()
                problems += [
                    Problem(
                        src.label, line, col.name, "value already exists in the store", src.unit
                    )
                    for (line,) in rows
                ]
        if col.references:
            problems += [
                Problem(src.label, line, col.name, "names no row of customers", src.unit)
                for (line,) in con.execute(
                    f'SELECT "{LINE_COLUMN}" FROM "{stage}" WHERE "{col.name}" IS NOT NULL '
                    f'AND "{col.name}" NOT IN (SELECT customer_id FROM "_known_customers")'
                ).fetchall()
            ]
    return problems


def _erased_people(store: Store, staged: list[tuple[SourceFile, str]]) -> list[Problem]:
    """Rows naming someone on the erasure suppression list, one problem each."""
    hashes = suppressed_hashes(store)
    if not hashes:
        return []
    key = load_key(store.path)
    if key is None:
        return [
            Problem(
                str(store.path),
                0,
                "",
                "the store's key is missing: the erasure "
                "suppression list cannot be checked, so nothing is imported",
            )
        ]
    problems = []
    for src, stage in staged:
        if "customer_id" not in src.table.column_names:
            continue
        ids = store.con.execute(
            f'SELECT DISTINCT customer_id FROM "{stage}" WHERE customer_id IS NOT NULL'
        ).fetchall()
        erased = [i for (i,) in ids if keyed_hash(key, i) in hashes]
        if not erased:
            continue
        store.con.execute("CREATE OR REPLACE TEMP TABLE _erased (customer_id VARCHAR)")
        store.con.executemany("INSERT INTO _erased VALUES (?)", [[i] for i in erased])
        lines = store.con.execute(
            f'SELECT "{LINE_COLUMN}" FROM "{stage}" WHERE customer_id IN '
            "(SELECT customer_id FROM _erased)"
        ).fetchall()
        store.con.execute("DROP TABLE _erased")
        problems += [
            Problem(
                src.label,
                line,
                "customer_id",
                "this person was erased (right to be forgotten): row refused",
                src.unit,
            )
            for (line,) in lines
        ]
    return problems


def import_files(
    store: Store, paths: Iterable[str | Path], *, replace: bool = False
) -> ImportResult:
    """Check every file, then write all of them in one transaction, or nothing at all."""
    files, problems, notes = collect_files(paths)
    con = store.con
    staged: list[tuple[SourceFile, str]] = []
    try:
        for i, src in enumerate(files):
            text, read_problems = read_text(src)
            if text is None:
                problems += read_problems
                continue
            problems += read_problems
            present = set(text.column_names) - {LINE_COLUMN}
            ignored = sorted(present - set(src.table.column_names))
            if ignored:
                notes.append(
                    f"{src.label}: ignored columns not in the schema: {', '.join(ignored)}"
                )
            stage = f"_stage_{i}"
            con.register(f"{stage}_text", text)
            try:
                con.execute(_stage_sql(src.table, present, stage))
            finally:
                con.unregister(f"{stage}_text")
            problems += _value_problems(con, src, stage)
            _derive_defaults(con, src.table, stage)
            staged.append((src, stage))
        customer_sources = [
            f'SELECT customer_id FROM "{s}"' for src, s in staged if src.table.name == "customers"
        ]
        if not replace:
            customer_sources.append("SELECT customer_id FROM customers")
        known = " UNION ALL ".join(customer_sources) or "SELECT NULL::VARCHAR AS customer_id"
        con.execute(f'CREATE OR REPLACE TEMP TABLE "_known_customers" AS {known}')
        for n, (src, stage) in enumerate(staged):
            earlier = [s for other, s in staged[:n] if other.table.name == src.table.name]
            problems += _key_problems(con, src, stage, earlier, replace)
        problems += _erased_people(store, staged)
        if problems:
            raise ImportRejected(problems)
        rows: dict[str, int] = {}
        with store.transaction():
            if replace:
                for name in reversed(schema.TABLE_ORDER):
                    con.execute(f'DELETE FROM "{name}"')
            for src, stage in sorted(
                staged, key=lambda s: schema.TABLE_ORDER.index(s[0].table.name)
            ):
                cols = ", ".join(f'"{c}"' for c in src.table.column_names)
                [(count,)] = con.execute(
                    f'INSERT INTO "{src.table.name}" ({cols}) SELECT {cols} FROM "{stage}"'
                ).fetchall()
                rows[src.table.name] = rows.get(src.table.name, 0) + int(count)
            store.write_info(
                {"source": "import", "files": ", ".join(src.path.name for src, _ in staged)}
            )
        return ImportResult(rows, notes)
    finally:
        for _, stage in staged:
            con.execute(f'DROP TABLE IF EXISTS "{stage}"')
        con.execute('DROP TABLE IF EXISTS "_known_customers"')
