"""Checking text rows against the schema and writing them in one recorded transaction.

Both the canonical loader and the analysts' importer end here. Each source is a text table
bound for one canonical table; it is converted in SQL generated from the schema, every
problem is named by file, line, column and reason, keys and references are checked across
the import and the store, and the rows go in inside one transaction that also records the
import, or not at all. With `accept_valid`, rows with a problem are left out and the rest go
in; a row of a file is rejected as a whole (a wide consent row with a bad flag takes its
customer row with it), so every file's rows read = accepted + rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from data.intake.mapping import format_name, iso_shaped_sql, iso_timestamp_sql, plausible_sql
from data.intake.problems import LINE_COLUMN, Problem
from data.storage import facts, history, schema
from data.storage.keys import keyed_hash, load_key, suppressed_hashes
from data.storage.schema import IMPORT_ID, Column, Kind, Table
from data.storage.sqlparams import Params
from data.storage.store import Store

WHITESPACE = " \t\r\n"
EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass
class Source:
    """Text rows bound for one canonical table, columns named canonically, plus LINE_COLUMN."""

    label: str  # the file, as problems name it
    table: Table
    text: pa.Table
    unit: str = "line"
    # Canonical column -> the file's header, so problems name what the analyst sees.
    headers: dict[str, str] = field(default_factory=dict)
    extract: bool = False  # a mapped extract: the wider synonyms and number forms below
    # Timestamp column -> strptime formats tried after ISO 8601, the first the main one.
    date_formats: dict[str, list[str]] = field(default_factory=dict)
    excel_serial: bool = False  # plain numbers in date columns are Excel serial dates
    decimal_comma: bool = False  # "12,50" means 12.50 (files separated by semicolons)
    # A row whose key is already in the store is left out without being rejected: a CRM
    # list with opt-in flags brings new decisions of customers the store already has.
    skip_existing: bool = False
    # Consent events from an opt-out column: written after the import's other consent
    # events, so that a grant of this import precedes them.
    opt_out: bool = False
    # Consent events from flags (spec section 10): a withdrawal with no earlier grant of the
    # purpose for the person, in the store or the import, is a refusal (denied); and a
    # decision the store holds already (same person, purpose, decision and time) is left
    # out, so importing the same export again changes nothing.
    from_flags: bool = False
    # Column -> why a row without a value is rejected, where more can be said than that it
    # is required (a decision without a date: the import can be given one).
    missing: dict[str, str] = field(default_factory=dict)

    def header(self, column: str) -> str:
        """The name a problem about `column` shows."""
        return self.headers.get(column, column)

    def problem(self, line: int, column: str, reason: str) -> Problem:
        """A problem with the row on `line`, its column named as in the file."""
        return Problem(self.label, line, self.header(column), reason, self.unit)


@dataclass
class Tally:
    """One file's accounting: rows read, and the lines (or sheet rows) rejected."""

    label: str
    rows_read: int
    unit: str = "line"
    rejected: set[int] = field(default_factory=set)
    refused: bool = False  # every row rejected (a problem with the whole file)

    @property
    def rejected_rows(self) -> int:
        """Rows of the file rejected."""
        return self.rows_read if self.refused else len(self.rejected)

    @property
    def accepted_rows(self) -> int:
        """Rows of the file that pass every check."""
        return self.rows_read - self.rejected_rows


@dataclass
class Outcome:
    """What checking (and perhaps writing) an import came to."""

    problems: list[Problem]
    tallies: dict[str, Tally]
    rows: dict[str, int]  # rows written per table, or that would be written
    written: bool = False
    import_id: int | None = None
    # Why nothing can be written whatever the mode (a file refused whole, nothing left to
    # write), or "" when the rows accepted could go in.
    blocked: str = ""
    kept_existing: int = 0  # rows left out because their customer is in the store already
    kept_decisions: int = 0  # consent events left out: the store holds the same decision
    files: list[dict[str, Any]] = field(default_factory=list)  # as the imports record has them

    @property
    def checksums(self) -> dict[str, str]:
        """File name -> SHA-256, as the audit trail records them."""
        return {f["name"]: f["sha256"] for f in self.files}

    @property
    def file_refused(self) -> bool:
        """Whether a file is refused as a whole (or a problem names no file read), so that
        not even the valid rows can go in."""
        return any(t.refused for t in self.tallies.values()) or any(
            p.file not in self.tallies for p in self.problems
        )

    @property
    def rows_read(self) -> int:
        """Rows read in all files."""
        return sum(t.rows_read for t in self.tallies.values())

    @property
    def accepted(self) -> int:
        """Rows of all files that pass every check."""
        return sum(t.accepted_rows for t in self.tallies.values())

    @property
    def rejected(self) -> int:
        """Rows of all files rejected."""
        return sum(t.rejected_rows for t in self.tallies.values())


# Converting: SQL over the registered text table; each kind converts and reports its own way.
# Every value (a file's name, a reason, a list of words) is bound in `params`, never written
# into the SQL: see data.storage.sqlparams.


def trim(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column's values without white space at either end."""
    return pc.utf8_trim(column, WHITESPACE)


def first_filled(columns: Sequence[pa.ChunkedArray], fallback: str, rows: int) -> pa.ChunkedArray:
    """Per row, the first of `columns` with a value (trimmed), else `fallback`."""
    out = pa.chunked_array([pa.repeat(pa.scalar(fallback, pa.string()), rows)])
    for column in reversed(columns):
        values = trim(column)
        out = pc.if_else(pc.equal(values, ""), out, values)
    return out


def trimmed(text: pa.Table) -> pa.Table:
    """Every value without white space at either end (Arrow's kernel, far cheaper than SQL's
    trim); a column with none to trim is kept as it is."""
    columns = []
    for name in text.column_names:
        column = text.column(name)
        if name != LINE_COLUMN and pa.types.is_string(column.type):
            cut = trim(column)
            if not cut.equals(column):
                column = cut
        columns.append(column)
    return pa.table(columns, names=text.column_names)


def _timestamp(raw: str, src: Source, col: Column, params: Params) -> tuple[str, str]:
    iso = iso_timestamp_sql(raw)
    forms = [iso]
    expected = "ISO 8601"
    formats = src.date_formats.get(col.name)
    if formats:
        read = f"TRY_STRPTIME({raw}, {params.bind(list(formats))})"
        forms.append(plausible_sql(read, params))
        main = next((f for f in formats if "%Y" in f), formats[0])
        expected += f" or {format_name(main)}"
    if src.excel_serial:
        # Serial numbers 10000 to 99999 are 1927 to 2173; a smaller number (a year typed
        # into a date column) is not taken for a date.
        number = f"TRY_CAST({raw} AS DOUBLE)"
        forms.append(
            f"CASE WHEN regexp_full_match({raw}, '[0-9]{{5}}(\\.[0-9]+)?') THEN "
            f"{params.bind(EXCEL_EPOCH)} + "
            f"to_microseconds(CAST(round({number} * 86400e6) AS BIGINT)) END"
        )
        expected += " or an Excel date"
    value = iso
    if len(forms) > 1:
        # CASE, not coalesce: only values that are not ISO 8601 reach the other forms (a
        # coalesce would try every format on every value, ten times slower on big files).
        value = (
            f"CASE WHEN {iso_shaped_sql(raw)} THEN {iso} ELSE coalesce({', '.join(forms[1:])}) END"
        )
    what = "an ISO 8601 date or date-time" if len(forms) == 1 else f"a date ({expected})"
    invalid = f"CASE WHEN {raw} <> '' AND {value} IS NULL THEN {params.bind(f'not {what}')} END"
    return value, invalid


def _number_text(raw: str, decimal_comma: bool) -> str:
    """An extract's amount as SQL decimal text, read by its shape: currency signs and spaces
    dropped; `1.234,50` and `12,5` have a decimal comma, `1,234.50` thousands commas; where
    the shape allows both (`1,234`, `1.234`), a file separated by semicolons has the decimal
    comma (Excel's export where the comma is the decimal mark). Any other shape is left as it
    is, and is rejected unless it is a plain number."""
    cleaned = f"regexp_replace({raw}, '[\\s€$£¥]|^(EUR|USD|GBP)|(EUR|USD|GBP)$', '', 'g')"
    comma_decimal = "'^-?[0-9]{1,3}([.][0-9]{3})*,[0-9]+$'"
    plain_comma = "'^-?[0-9]+,[0-9]+$'"
    comma_thousands = "'^-?[0-9]{1,3}(,[0-9]{3})+([.][0-9]+)?$'"
    dot_thousands = "'^-?[0-9]{1,3}([.][0-9]{3})+$'"
    european = f"replace(replace({cleaned}, '.', ''), ',', '.')"
    english = f"replace({cleaned}, ',', '')"
    if decimal_comma:
        cases = [
            (comma_decimal, european),
            (plain_comma, european),
            (dot_thousands, f"replace({cleaned}, '.', '')"),
            (comma_thousands, english),
        ]
    else:
        cases = [(comma_thousands, english), (comma_decimal, european), (plain_comma, european)]
    whens = " ".join(
        f"WHEN regexp_matches({cleaned}, {shape}) THEN {text}" for shape, text in cases
    )
    return f"CASE {whens} ELSE {cleaned} END"


def _conversion(col: Column, present: set[str], src: Source, params: Params) -> tuple[str, str]:
    """SQL converting one column, and SQL giving the reason it fails (NULL when fine)."""
    if col.name not in present:
        return f"CAST(NULL AS {col.sql_type})", "NULL"
    raw = f'"{col.name}"'  # trimmed before it is registered
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
        known = params.bind(list(schema.JURISDICTIONS))
        value = (
            f"CASE WHEN list_contains({known}, upper({raw})) THEN upper({raw}) "
            f"ELSE NULLIF({raw}, '') END"
        )
    elif kind is Kind.TIMESTAMP:
        value, invalid = _timestamp(raw, src, col, params)
    elif kind is Kind.DECIMAL:
        text = _number_text(raw, src.decimal_comma) if src.extract else raw
        number = f"TRY_CAST({text} AS {col.sql_type})"
        value = number
        invalid = (
            f"CASE WHEN {raw} <> '' AND {number} IS NULL THEN 'not a decimal number' "
            f"WHEN {number} < 0 THEN 'must not be negative' END"
        )
    elif kind is Kind.BOOLEAN:
        true, false = schema.BOOLEAN_SYNONYMS[True], schema.BOOLEAN_SYNONYMS[False]
        value = (
            f"CASE WHEN list_contains({params.bind(list(true))}, lower({raw})) THEN true "
            f"WHEN list_contains({params.bind(list(false))}, lower({raw})) THEN false END"
        )
        invalid = f"CASE WHEN {value} IS NULL THEN 'not a yes/no value' END"
    elif kind is Kind.DECISION:
        value = decision_sql(raw, params, extract=src.extract)
        invalid = (
            f"CASE WHEN {raw} <> '' AND ({value}) IS NULL "
            "THEN 'not a consent decision (granted, denied, withdrawn or a synonym)' END"
        )
    elif kind in (Kind.REQUEST_TYPE, Kind.REQUEST_STATUS):
        allowed = schema.REQUEST_TYPES if kind is Kind.REQUEST_TYPE else schema.REQUEST_STATUSES
        value = f"NULLIF(lower({raw}), '')"
        must = params.bind(f"must be one of {', '.join(allowed)}")
        invalid = (
            f"CASE WHEN {raw} <> '' AND NOT list_contains({params.bind(list(allowed))}, "
            f"lower({raw})) THEN {must} END"
        )
    return value, invalid


def decision_words(extract: bool) -> dict[str, tuple[str, ...]]:
    """The words meaning each decision: the contract's, and for extracts a few more."""
    if not extract:
        return schema.DECISION_SYNONYMS
    return {
        d: words + schema.EXTRACT_DECISION_SYNONYMS.get(d, ())
        for d, words in schema.DECISION_SYNONYMS.items()
    }


def decision_sql(raw: str, params: Params, *, extract: bool) -> str:
    """SQL giving the canonical decision a text means, NULL for anything else."""
    cases = []
    for decision, words in decision_words(extract).items():
        means = f"list_contains({params.bind(list(words))}, lower({raw}))"
        cases.append(f"WHEN {means} THEN {params.bind(decision)}")
    return f"CASE {' '.join(cases)} END"


def _text(stage: str) -> str:
    """The registered text of a stage, its values already trimmed."""
    return f'"{stage}_text"'


def _values(src: Source, present: set[str], params: Params) -> dict[str, tuple[str, str]]:
    """Per column: SQL of the stored value (defaults of section 2 applied) and of the reason
    it is rejected (None when it cannot be), their values bound in `params`."""
    converted = {c.name: _conversion(c, present, src, params) for c in src.table.columns}
    out: dict[str, tuple[str, str]] = {}
    for col in src.table.columns:
        value, invalid = converted[col.name]
        reason = None if invalid == "NULL" else invalid
        if col.required:
            # Every kind converts a non-empty text to a value or gives a reason, so a
            # missing value is an empty text (tested here without converting it again).
            raw = f"coalesce(\"{col.name}\", '')"
            why = params.bind(src.missing.get(col.name, "required value is missing"))
            missing = f"CASE WHEN {raw} = '' THEN {why} END" if col.name in present else why
            reason = f"coalesce({reason}, {missing})" if reason else missing
        if col.kind is Kind.BOOLEAN:
            value = f"coalesce({value}, false)"
        elif src.table.name == "customers" and col.name == "segment":
            value = f"coalesce({value}, {params.bind(schema.SEGMENT_UNKNOWN)})"
        elif src.table.name == "privacy_requests" and col.name == "status":
            completed = converted["completed_at"][0]
            value = (
                f"coalesce({value}, CASE WHEN ({completed}) IS NOT NULL "
                f"THEN {params.bind(schema.COMPLETED)} ELSE {params.bind(schema.OPEN)} END)"
            )
        out[col.name] = (value, reason)
    return out


def _kept(table: Table) -> list[str]:
    """Columns the checks after conversion read: keys, references and the person."""
    return [c.name for c in table.columns if c.unique or c.references or c.name == "customer_id"]


def _stage_sql(src: Source, present: set[str], stage: str) -> str:
    """CREATE TEMP VIEW of each row's line and keys over the registered text (nothing is
    copied: the checks read the view, the insert converts the text again). A view takes no
    parameters: the keys are identifiers, converted without a value to bind, and the reasons
    for rejection, which have some, are read by _value_problems."""
    params = Params()
    values = _values(src, present, params)
    selects = [f'"{LINE_COLUMN}"', *(f'{values[c][0]} AS "{c}"' for c in _kept(src.table))]
    body = ",\n  ".join(selects)
    sql = f'CREATE OR REPLACE TEMP VIEW "{stage}" AS SELECT\n  {body}\nFROM {_text(stage)}'
    if params.of(sql):
        raise RuntimeError(f"a key of {src.table.name} needs a parameter, which a view cannot take")
    return sql


def _same_decisions_sql(src: Source, present: set[str], stage: str) -> tuple[str, dict[str, Any]]:
    """Note as skipped the rows of a stage of consent events whose decision the store holds
    already (an opt-out's withdrawal matches a stored withdrawal or refusal): the statement
    and its parameters."""
    params = Params()
    values = _values(src, present, params)
    converted = ", ".join(
        f'{values[c][0]} AS "{c}"' for c in ("customer_id", "purpose", "decision", "occurred_at")
    )
    # A withdrawal from a flag may have been stored as a refusal (see _refusal_sql).
    decision = (
        f"(e.decision = n.decision OR (e.decision = {params.bind(schema.DENIED)} "
        f"AND n.decision = {params.bind(schema.WITHDRAWN)}))"
    )
    sql = (
        f'INSERT INTO "_skipped" SELECT {params.bind(stage)}, n."{LINE_COLUMN}" FROM '
        f'(SELECT "{LINE_COLUMN}", {converted} FROM {_text(stage)}) AS n '
        "WHERE EXISTS (SELECT 1 FROM consent_events AS e WHERE e.customer_id = n.customer_id "
        f"AND e.purpose = n.purpose AND e.occurred_at = n.occurred_at AND {decision})"
    )
    return sql, params.of(sql)


def _refusal_sql(row: str, params: Params) -> str:
    """A flag's decision, of the converted row `row`: a withdrawal stays one after an earlier
    grant of the purpose (in the store, or written earlier by this import), else it is a
    refusal (denied)."""
    granted = (
        f"SELECT 1 FROM consent_events AS g WHERE g.customer_id = {row}.customer_id "
        f"AND g.purpose = {row}.purpose AND g.decision = {params.bind(schema.GRANTED)} "
        f"AND g.occurred_at < {row}.occurred_at"
    )
    return (
        f"CASE WHEN {row}.decision = {params.bind(schema.WITHDRAWN)} AND NOT EXISTS ({granted}) "
        f"THEN {params.bind(schema.DENIED)} ELSE {row}.decision END"
    )


def _insert_sql(
    src: Source, present: set[str], stage: str, import_id: int, *, all_rows: bool
) -> tuple[str, dict[str, Any]]:
    """INSERT of the rows not rejected (`all_rows`: none is), converted from the text: the
    statement and its parameters."""
    params = Params()
    values = _values(src, present, params)
    cols = ", ".join(f'"{c}"' for c in src.table.column_names)
    converted = ", ".join(f'{values[c][0]} AS "{c}"' for c in src.table.column_names)
    kept = "" if all_rows else f" WHERE {_kept_sql(src, stage, params)}"
    rows = f"SELECT {converted} FROM {_text(stage)}{kept}"
    if src.from_flags:
        outer = ", ".join(
            _refusal_sql("n", params) if c == "decision" else f'n."{c}"'
            for c in src.table.column_names
        )
        rows = f"SELECT {outer} FROM ({rows}) AS n"
    sql = (
        f'INSERT INTO "{src.table.name}" ({cols}, "{IMPORT_ID}") '
        f"SELECT *, {params.bind(import_id)} FROM ({rows})"
    )
    return sql, params.of(sql)


def _value_problems(con, src: Source, present: set[str], stage: str) -> list[Problem]:
    """Every value that breaks its column's rule, in one pass over the rows."""
    params = Params()
    reasons = {
        name: reason for name, (_, reason) in _values(src, present, params).items() if reason
    }
    if not reasons:
        return []
    checks = ", ".join(f'{reason} AS "__bad_{name}"' for name, reason in reasons.items())
    bad = ", ".join(f'"__bad_{name}"' for name in reasons)
    sql = (
        f'SELECT "{LINE_COLUMN}", {bad} FROM (SELECT "{LINE_COLUMN}", {checks} '
        f"FROM {_text(stage)}) WHERE coalesce({bad}) IS NOT NULL"
    )
    rows = con.execute(sql, params.of(sql)).fetchall()
    return [
        src.problem(line, name, reason)
        for line, *found in rows
        for name, reason in zip(reasons, found, strict=True)
        if reason is not None
    ]


def _alive_sql(src: Source, params: Params) -> str:
    """SQL: the row's line is not among its file's rejected lines (the file's name bound in
    `params`)."""
    file = params.bind(src.label)
    return f'"{LINE_COLUMN}" NOT IN (SELECT line FROM "_rejected" WHERE file = {file})'


def _note_rejected(con, problems: Sequence[Problem], tallies: Mapping[str, Tally]) -> None:
    """Add the rows these problems are about to the rejected lines (table and tallies)."""
    rows = [(p.file, p.line) for p in problems if p.line > 0 and p.file in tallies]
    for file, line in rows:
        tallies[file].rejected.add(line)
    if rows:
        files, lines = zip(*rows, strict=True)
        con.register(
            "_rejected_new", pa.table({"file": files, "line": pa.array(lines, pa.int64())})
        )
        try:
            con.execute('INSERT INTO "_rejected" SELECT file, line FROM "_rejected_new"')
        finally:
            con.unregister("_rejected_new")


def _key_problems(
    con, src: Source, stage: str, earlier: list[tuple[Source, str]], replace: bool
) -> list[Problem]:
    """Duplicate unique keys, and customer_ids naming nobody (or a customer rejected here)."""
    problems = []
    name = src.table.name
    for col in src.table.columns:
        if col.unique:
            rows = con.execute(
                f'SELECT "{LINE_COLUMN}", first_line FROM (SELECT "{LINE_COLUMN}", '
                f'min("{LINE_COLUMN}") OVER (PARTITION BY "{col.name}") AS first_line '
                f'FROM "{stage}" WHERE "{col.name}" IN (SELECT "{col.name}" FROM "{stage}" '
                f'WHERE "{col.name}" IS NOT NULL GROUP BY ALL HAVING count(*) > 1)) '
                f'WHERE "{LINE_COLUMN}" > first_line'
            ).fetchall()
            problems += [
                src.problem(line, col.name, f"duplicate value (first on {src.unit} {first})")
                for line, first in rows
            ]
            stored = f'SELECT "{col.name}" FROM "{name}"'
            # Where the value is already: the store first, then an earlier file of this import.
            others = []
            earlier_keys = [f'SELECT "{col.name}" FROM "{s}"' for _, s in earlier]
            if src.skip_existing:
                # Known already, from the store or an earlier file of this import (a CRM
                # list, or an export naming people by e-mail): the row brings decisions only.
                known = ([] if replace else [stored]) + earlier_keys
                if known:
                    params = Params()
                    sql = (
                        f'INSERT INTO "_skipped" SELECT {params.bind(stage)}, "{LINE_COLUMN}" '
                        f'FROM "{stage}" WHERE "{col.name}" IN ({" UNION ALL ".join(known)})'
                    )
                    con.execute(sql, params.of(sql))
            else:
                if not replace:
                    others.append((stored, "value already exists in the store"))
                others += [
                    (query, f"value already in {other.label}")
                    for (other, _), query in zip(earlier, earlier_keys, strict=True)
                ]
            told: set[int] = set()
            for query, reason in others:
                rows = con.execute(
                    f'SELECT "{LINE_COLUMN}" FROM "{stage}" WHERE "{col.name}" IN ({query})'
                ).fetchall()
                fresh = [line for (line,) in rows if line not in told]
                told.update(fresh)
                problems += [src.problem(line, col.name, reason) for line in fresh]
        if col.references:
            # A customer rejected in this import is news only for rows not rejected already
            # (a wide file's events share their line with the customer).
            params = Params()
            sql = (
                f'SELECT "{LINE_COLUMN}", "{col.name}" IN (SELECT customer_id FROM '
                f'"_staged_customers") AS parent_rejected FROM "{stage}" '
                f'WHERE "{col.name}" IS NOT NULL '
                f'AND "{col.name}" NOT IN (SELECT customer_id FROM "_known_customers") '
                "AND (NOT coalesce(parent_rejected, false) OR "
                f"{_alive_sql(src, params)})"
            )
            rows = con.execute(sql, params.of(sql)).fetchall()
            problems += [
                src.problem(
                    line,
                    col.name,
                    "names a customer whose row is rejected"
                    if parent_rejected
                    else "names no row of customers",
                )
                for line, parent_rejected in rows
            ]
    return problems


def _erased_people(store: Store, staged: list[tuple[Source, str]]) -> list[Problem]:
    """Rows naming someone on the erasure suppression list, one problem each."""
    hashes = suppressed_hashes(store.con)
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
    named = [(src, stage) for src, stage in staged if "customer_id" in src.table.column_names]
    if not named:
        return []
    # Every identifier of the import hashed once, however many files name it.
    every = " UNION ".join(f'SELECT customer_id FROM "{stage}"' for _, stage in named)
    ids = [
        i
        for (i,) in store.con.execute(
            f"SELECT customer_id FROM ({every}) WHERE customer_id IS NOT NULL"
        ).fetchall()
    ]
    erased = [i for i in ids if keyed_hash(key, i) in hashes]
    if not erased:
        return []
    problems = []
    store.con.execute("CREATE OR REPLACE TEMP TABLE _erased (customer_id VARCHAR)")
    try:
        store.con.executemany("INSERT INTO _erased VALUES (?)", [[i] for i in erased])
        for src, stage in named:
            lines = store.con.execute(
                f'SELECT "{LINE_COLUMN}" FROM "{stage}" WHERE customer_id IN '
                "(SELECT customer_id FROM _erased)"
            ).fetchall()
            problems += [
                src.problem(
                    line,
                    "customer_id",
                    "this person was erased (right to be forgotten): row refused",
                )
                for (line,) in lines
            ]
    finally:
        store.con.execute("DROP TABLE _erased")
    return problems


def check_and_write(
    store: Store,
    sources: Sequence[Source],
    tallies: Mapping[str, Tally],
    problems: Sequence[Problem] = (),
    *,
    replace: bool = False,
    accept_valid: bool = False,
    dry_run: bool = False,
    actor: str = "",
    files: Sequence[Mapping[str, Any]] = (),
    info: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Outcome:
    """Check every source, then write them in one recorded transaction, or nothing at all.

    `problems` are those found while reading (rows not read, whole files refused); the
    tallies of refused files have `refused` set. Nothing is written when `dry_run`, nor when
    any row is rejected unless `accept_valid`, nor when a file was refused whole.
    """
    con = store.con
    found = list(problems)
    order = {name: i for i, name in enumerate(schema.TABLE_ORDER)}
    # Opt-outs go in after every other consent event: a grant of this import precedes them.
    indexed = sorted(enumerate(sources), key=lambda s: (order[s[1].table.name], s[1].opt_out))
    staged: list[tuple[Source, str]] = []
    present_of: dict[str, set[str]] = {}
    registered: list[str] = []
    con.execute('CREATE OR REPLACE TEMP TABLE "_rejected" (file VARCHAR, line BIGINT)')
    con.execute('CREATE OR REPLACE TEMP TABLE "_skipped" (stage VARCHAR, line BIGINT)')
    try:
        _note_rejected(con, found, tallies)
        for i, src in indexed:
            present = set(src.text.column_names) - {LINE_COLUMN}
            stage = f"_stage_{i}"
            # Registered until the end: the insert converts the values from the text.
            con.register(f"{stage}_text", trimmed(src.text))
            registered.append(f"{stage}_text")
            present_of[stage] = present
            con.execute(_stage_sql(src, present, stage))
            staged.append((src, stage))
            value_problems = _value_problems(con, src, present, stage)
            _note_rejected(con, value_problems, tallies)
            found += value_problems
        # Erased people first: their rows are then rejected for that reason alone.
        erased = _erased_people(store, staged)
        _note_rejected(con, erased, tallies)
        found += erased
        for n, (src, stage) in enumerate(staged):
            if src.table.name == "customers":
                earlier = [(o, s) for o, s in staged[:n] if o.table.name == "customers"]
                key_problems = _key_problems(con, src, stage, earlier, replace)
                _note_rejected(con, key_problems, tallies)
                found += key_problems
        staged_customers = [
            (src, f'SELECT customer_id FROM "{stage}"')
            for src, stage in staged
            if src.table.name == "customers"
        ]
        every = " UNION ALL ".join(q for _, q in staged_customers)
        con.execute(
            'CREATE OR REPLACE TEMP TABLE "_staged_customers" AS '
            + (every or "SELECT NULL::VARCHAR AS customer_id WHERE false")
        )
        # Rows naming a customer rejected here are rejected too when valid rows may go in
        # (or for an extract, whose report offers that); the canonical all-or-nothing check
        # keeps the contract's list of problems.
        cascade = accept_valid or any(src.extract for src, _ in staged)
        params = Params()
        customer_sources = [
            f"{q} WHERE {_alive_sql(src, params)}" if cascade else q for src, q in staged_customers
        ]
        if not replace:
            customer_sources.append("SELECT customer_id FROM customers")
        known = (
            " UNION ALL ".join(customer_sources)
            or "SELECT NULL::VARCHAR AS customer_id WHERE false"
        )
        sql = f'CREATE OR REPLACE TEMP TABLE "_known_customers" AS {known}'
        con.execute(sql, params.of(sql))
        for n, (src, stage) in enumerate(staged):
            if src.table.name != "customers":
                earlier = [(o, s) for o, s in staged[:n] if o.table.name == src.table.name]
                key_problems = _key_problems(con, src, stage, earlier, replace)
                _note_rejected(con, key_problems, tallies)
                found += key_problems
        for src, stage in staged:
            if src.from_flags and not replace:
                con.execute(*_same_decisions_sql(src, present_of[stage], stage))
        rows = _rows_to_write(con, staged)
        skipped = dict(
            con.execute('SELECT stage, count(*) FROM "_skipped" GROUP BY stage').fetchall()
        )
        skipped = {stage: skipped.get(stage, 0) for _, stage in staged}
        outcome_kept = sum(skipped[stage] for src, stage in staged if not src.from_flags)
        kept_decisions = sum(skipped[stage] for src, stage in staged if src.from_flags)
        # Wide consent rows become several events: one problem said once per row is enough.
        outcome = Outcome(
            sorted(set(found)),
            dict(tallies),
            rows,
            kept_existing=outcome_kept,
            kept_decisions=kept_decisions,
            files=[dict(f) for f in files],
        )
        if outcome.file_refused:
            outcome.blocked = "a file cannot be imported as a whole (see its problems)"
        elif not sum(rows.values()):
            # Also for a replace: emptying the store for no rows at all is never meant.
            outcome.blocked = "no row to import"
        if dry_run or outcome.blocked or (found and not accept_valid):
            return outcome
        if progress:
            progress(f"writing {sum(rows.values()):,} rows in one transaction")
        rows = {}
        with store.transaction():
            import_id = history.begin(con, replace=replace)
            for src, stage in staged:
                [(count,)] = con.execute(
                    *_insert_sql(
                        src,
                        present_of[stage],
                        stage,
                        import_id,
                        all_rows=not tallies[src.label].rejected and not skipped[stage],
                    )
                ).fetchall()
                rows[src.table.name] = rows.get(src.table.name, 0) + int(count)
            described = [dict(f) for f in files]
            if len(described) == len(tallies):
                for entry, tally in zip(described, tallies.values(), strict=True):
                    entry |= {"accepted": tally.accepted_rows, "rejected": tally.rejected_rows}
            history.record(con, import_id, actor=actor, replace=replace, files=described, rows=rows)
            if replace:
                facts.changed(con)
            else:
                facts.changed_by_import(con, import_id)
            store.write_info(info or {"source": "import"})
        outcome.rows = rows
        outcome.written = True
        outcome.import_id = import_id
        return outcome
    finally:
        for name in registered:
            con.unregister(name)
        for _, stage in staged:
            con.execute(f'DROP VIEW IF EXISTS "{stage}"')
        for temp in ("_known_customers", "_staged_customers", "_rejected", "_skipped"):
            con.execute(f'DROP TABLE IF EXISTS "{temp}"')


def _kept_sql(src: Source, stage: str, params: Params) -> str:
    """Rows of a stage that go in: not rejected, and not skipped as already in the store
    (the file's and the stage's names bound in `params`)."""
    skipped = f'SELECT line FROM "_skipped" WHERE stage = {params.bind(stage)}'
    return f'{_alive_sql(src, params)} AND "{LINE_COLUMN}" NOT IN ({skipped})'


def _rows_to_write(con, staged: list[tuple[Source, str]]) -> dict[str, int]:
    rows: dict[str, int] = {}
    for src, stage in staged:
        params = Params()
        sql = f'SELECT count(*) FROM "{stage}" WHERE {_kept_sql(src, stage, params)}'
        [(count,)] = con.execute(sql, params.of(sql)).fetchall()
        rows[src.table.name] = rows.get(src.table.name, 0) + int(count)
    return rows
