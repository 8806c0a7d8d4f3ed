"""Analysts' extracts in: read, mapped onto the canonical tables, checked, imported at once.

A file is read by `data.intake.readers` (type by content, encoding, dialect), its headers mapped by
`data.intake.mapping` (a given mapping, else one saved for the same headers, else names and
synonyms), its dates read in the order its values show, the wide consent form turned into
one consent event per filled opt-in flag, and everything handed to `data.intake.ingest`, which
checks it against the schema and the store and writes it in one recorded transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from data.intake import layouts, loader, readers
from data.intake import mapping as mp
from data.intake.ingest import Outcome, Source, Tally, check_and_write, first_filled, trim
from data.intake.loader import checksum
from data.intake.mapping import ColumnMapping
from data.intake.problems import LINE_COLUMN, ImportRejected, Problem
from data.storage import schema
from data.storage.keys import keyed_hash, require_key
from data.storage.store import Store

DEFAULT_MAX_BYTES = 200 * readers.MiB
NOT_READ = "not read"
WIDE_EVENT_COLUMNS = ("customer_id", "purpose", "decision", "occurred_at")


@dataclass
class Extract:
    """One file to import: a path or uploaded bytes, and optionally its table and mapping."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    table: str | None = None
    mapping: ColumnMapping | None = None

    @classmethod
    def from_path(cls, path: str | Path, **kwargs) -> Extract:
        """An extract read from a file on disk."""
        return cls(str(path), path=Path(path), **kwargs)

    def checksum(self, max_bytes: int | None = None) -> tuple[str, int]:
        """SHA-256 and size of the file's bytes ("" for a file over `max_bytes`, not read)."""
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest(), len(self.data)
        if self.path is not None and self.path.is_file():
            size = self.path.stat().st_size
            if max_bytes is not None and size > max_bytes:
                return "", size
            return checksum(self.path), size
        return "", 0


@dataclass
class Inspection:
    """A file as read and mapped, before any check against the schema."""

    extract: Extract
    read: readers.TextTable
    headers: list[str]
    table: str | None
    mapping: ColumnMapping | None
    mapping_source: str  # "given", "saved", "<tool> layout" or "automatic"
    notes: list[str] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        """What was detected, in words."""
        return self.read.dialect.describe() if self.read.dialect else "not read"

    @property
    def refused(self) -> bool:
        """Whether the file could not be read at all."""
        return self.read.table is None


@dataclass
class ImportReport:
    """The validation report of an import, and what was written."""

    files: list[Inspection]
    outcome: Outcome
    notes: list[str]

    @property
    def problems(self) -> list[Problem]:
        """Every problem, by file, line and column."""
        return self.outcome.problems


def _read(extract: Extract, max_bytes: int) -> readers.TextTable:
    if extract.data is not None:
        return readers.read_upload(extract.data, extract.name, max_bytes=max_bytes)
    return readers.read_extract(extract.path, display_name=extract.name, max_bytes=max_bytes)


def inspect(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    guess: bool = True,
) -> Inspection:
    """Read a file and choose its table and mapping (given, saved, or by names).

    Without `guess` a file whose table is neither given, nor saved, nor its name is left
    without one (the command asks for --table rather than guess).
    """
    read = _read(extract, max_bytes)
    if read.table is None:
        return Inspection(extract, read, [], extract.table, extract.mapping, "given")
    headers = mp.headers_of(read.table)
    if extract.mapping is not None:
        # A given mapping overrides what it names; the rest keeps its automatic reading.
        given = extract.mapping
        layout = layouts.recognise(headers)
        if layout is not None and layout.table == given.table:
            read = replace(read, table=layout.derive(read.table))
            headers = mp.headers_of(read.table)
            base = layout.mapping(headers)
        else:
            base = mp.auto_mapping(given.table, headers)
        return Inspection(extract, read, headers, given.table, given.over(base), "given")
    kept = mp.saved(con, headers)
    if kept is not None and extract.table in (None, kept.table):
        return Inspection(extract, read, headers, kept.table, kept.rekeyed(headers), "saved")
    layout = layouts.recognise(headers)
    if layout is not None and extract.table in (None, layout.table):
        read = replace(read, table=layout.derive(read.table))
        headers = mp.headers_of(read.table)
        mapping = layout.mapping(headers)
        return Inspection(extract, read, headers, layout.table, mapping, f"{layout.name} layout")
    named = Path(extract.name).stem if Path(extract.name).stem in schema.TABLES else None
    table = extract.table or (mp.guess_table(extract.name, headers) if guess else named)
    if table is None:
        return Inspection(extract, read, headers, None, None, "automatic")
    return Inspection(extract, read, headers, table, mp.auto_mapping(table, headers), "automatic")


def _constant(value: str, rows: int) -> pa.ChunkedArray:
    """One text repeated for every row."""
    return pa.chunked_array([pa.repeat(pa.scalar(value, pa.string()), rows)])


# A grant word where only a refusal can be meant: left to the decision check to reject.
CONTRADICTION = "?"


def flag_decisions(
    values: pa.ChunkedArray, *, opts_out: bool, unasked: Sequence[str] = ()
) -> pa.ChunkedArray:
    """The decision texts of a flag column's trimmed values, empty for no decision.

    Opt-in columns keep their words, except that "not subscribed" is no decision. In an
    opt-out column yes means withdrawn (ingest makes it denied without an earlier grant),
    no, empty or "not subscribed" no decision, and a grant word is a contradiction: never a
    grant."""
    lower = pc.utf8_lower(values)
    words = [*schema.NOT_SUBSCRIBED, *(w.lower() for w in unasked)]
    unasked = pc.is_in(lower, pa.array(words))
    if not opts_out:
        return pc.if_else(unasked, "", values)
    granted = (
        schema.DECISION_SYNONYMS[schema.GRANTED] + schema.EXTRACT_DECISION_SYNONYMS[schema.GRANTED]
    )
    said_no = pc.or_(unasked, pc.is_in(lower, pa.array(schema.BOOLEAN_SYNONYMS[False])))
    out = pc.if_else(pc.is_in(lower, pa.array(granted)), CONTRADICTION, values)
    out = pc.if_else(said_no, "", out)
    return pc.if_else(pc.is_in(lower, pa.array(schema.OPT_OUT_TRUE)), schema.WITHDRAWN, out)


def _date_headers(m: ColumnMapping, src: Source, column: str, headers: list[str]) -> list[str]:
    """The file's columns a source's timestamp column is read from (none for a fixed value)."""
    if column == "occurred_at" and m.wide and src.table.name == "consent_events":
        flag = src.headers["decision"]
        return [h for h in (m.opt_in_dates.get(flag), m.decided_at) if h]
    header = src.headers.get(column)
    return [header] if header in headers else []


def _dated(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    inspection: Inspection,
    readings: dict[tuple[str, ...], mp.DateReading | None],
    notes: list[str],
) -> None:
    """Give the source the date formats its timestamp columns' values show: read once per
    column of the file over all its values (a wide file's flags share their date columns),
    or over the source's own values when a mapping's default gives them."""
    m = inspection.mapping
    for column in src.table.timestamp_columns:
        if column not in src.text.column_names:
            continue
        feeding = tuple(_date_headers(m, src, column, inspection.headers))
        if not feeding:  # a fixed value: read as the source has it
            reading = mp.read_dates(con, src.text, column, m.date_order)
        else:
            if feeding not in readings:
                file = inspection.read.table
                chunks = [c for h in feeding for c in file.column(h).chunks]
                values = pa.table({"v": pa.chunked_array(chunks, pa.string())})
                readings[feeding] = mp.read_dates(con, values, "v", m.date_order)
            reading = readings[feeding]
        if reading:
            src.date_formats[column] = reading.formats
            notes.append(f"{src.label}: {reading.describe(src.header(column))}")
        else:  # every value ISO 8601 (or none readable): the other forms still count
            src.date_formats[column] = mp.date_formats(m.date_order or mp.DAY_FIRST)


def _joined(text: pa.Table, headers: Sequence[str]) -> pa.ChunkedArray:
    """The headers' values joined by a space, empty ones left out ("Ada" + "" -> "Ada")."""
    parts = [trim(text.column(h)) for h in headers]
    out = parts[0]
    for part in parts[1:]:
        both = pc.and_(pc.not_equal(out, ""), pc.not_equal(part, ""))
        out = pc.if_else(
            both,
            pc.binary_join_element_wise(out, part, " "),
            pc.if_else(pc.equal(out, ""), part, out),
        )
    return out


def _identifier(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Identifiers without the leading apostrophe spreadsheets put before long numbers (a
    column with none is kept as it is: no copy of a large file's keys)."""
    marked = pc.starts_with(pc.utf8_ltrim_whitespace(column), "'")
    if not pc.any(marked).as_py():
        return column
    return pc.replace_substring_regex(trim(column), "^'", "")


NO_SIGN_UP_DATE = (
    "no sign-up date: the file gives no time for this person; give the import a decision "
    "date (--decided-at DATE, or the page's decision date)"
)


def _source(
    label: str,
    table: str,
    read: readers.TextTable,
    m: ColumnMapping,
    unit: str,
    decided_at: str | None = None,
) -> Source:
    text = read.table
    if m.continuation:
        # Line items after an order's first row fold into it: read and accepted, not written.
        text = text.filter(pc.not_equal(text.column(m.continuation), "1"))
    columns, defaults = m.columns, m.defaults
    names = list(columns.values())
    picked = text.select([*columns, LINE_COLUMN]).rename_columns([*names, LINE_COLUMN])
    headers = {c: h for h, c in columns.items()}
    for column, parts in m.joined.items():
        if column not in names and parts:
            picked = picked.append_column(column, _joined(text, parts))
            headers[column] = " + ".join(parts)
    for i, name in enumerate(picked.column_names):
        if name in schema.TABLES[table].column_names and (
            schema.TABLES[table].column(name).kind is schema.Kind.ID
        ):
            picked = picked.set_column(i, name, _identifier(picked.column(i)))
    if table == "customers" and {"state", "country"} <= set(picked.column_names):
        # A province or region code is a state only in the United States.
        us = pc.equal(pc.utf8_upper(trim(picked.column("country"))), "US")
        at = picked.column_names.index("state")
        picked = picked.set_column(at, "state", pc.if_else(us, picked.column("state"), ""))
    missing: dict[str, str] = {"customer_id": NO_EMAIL} if m.identity else {}
    if table == "customers" and "created_at" not in names and "created_at" not in defaults:
        # Known from the flags alone: signed up when first deciding (spec section 10).
        dates = [*dict.fromkeys([*m.opt_in_dates.values(), *filter(None, [m.decided_at])])]
        picked = picked.append_column(
            "created_at",
            first_filled([text.column(h) for h in dates], decided_at or "", text.num_rows),
        )
        headers["created_at"] = dates[0] if dates else "created_at"
        missing["created_at"] = NO_SIGN_UP_DATE
    for column, value in defaults.items():
        if column not in picked.column_names:
            picked = picked.append_column(column, _constant(value, text.num_rows))
    return Source(
        label,
        schema.TABLES[table],
        picked,
        unit,
        headers=headers,
        extract=True,
        excel_serial=read.dialect is not None and read.dialect.kind == "xlsx",
        decimal_comma=read.dialect is not None and read.dialect.delimiter == ";",
        missing=missing,
    )


NO_DECISION_DATE = (
    "no decision date: the file gives none for this row; give the import one "
    "(--decided-at DATE, or the page's decision date)"
)


def _wide_sources(
    inspection: Inspection, unit: str, decided_at: str | None, notes: list[str]
) -> list[Source]:
    """One consent_events source per flag column: the rows whose flag is filled in, dated by
    the flag's own date, else the row's general one, else the import's `decided_at`; the
    time of the import is never a decision's time."""
    m = inspection.mapping
    text = inspection.read.table
    label = inspection.extract.name
    id_header = next(
        (h for h, c in m.columns.items() if c == "customer_id"),
        None,
    )
    if id_header is None:
        return []
    extras = (
        dict(m.event_columns)
        if m.table == "customers"
        else {h: c for h, c in m.columns.items() if c not in WIDE_EVENT_COLUMNS}
    )
    rows = text.num_rows
    fixed = m.defaults if m.table == "consent_events" else {}
    sources = []
    for flag, purpose in m.opt_ins.items():
        opts_out = m.opts_out(flag)
        values = flag_decisions(
            trim(text.column(flag)), opts_out=opts_out, unasked=m.unasked.get(flag, ())
        )
        notes.append(f"{label}: {flag} read as {m.reading(flag)}")
        own = m.opt_in_dates.get(flag)
        dated = [h for h in (own, m.decided_at) if h]
        fallback = fixed.get("occurred_at") or decided_at or ""
        date = first_filled([text.column(h) for h in dated], fallback, rows)
        if not dated:
            notes.append(
                f"{label}: no date column for {flag}: "
                + (f"its decisions are dated {fallback}" if fallback else "its rows need a date")
            )
        columns = {
            "customer_id": _identifier(text.column(id_header)),
            "purpose": _constant(purpose, rows),
            "decision": values,
            "occurred_at": date,
            **{c: text.column(h) for h, c in extras.items()},
        }
        for column, value in fixed.items():
            if column not in columns:
                columns[column] = _constant(value, rows)
        columns[LINE_COLUMN] = text.column(LINE_COLUMN)
        events = pa.table(columns).filter(pc.not_equal(values, ""))
        headers = {"customer_id": id_header, "purpose": flag, "decision": flag}
        headers |= {"occurred_at": dated[0] if dated else "occurred_at"}
        headers |= {c: h for h, c in extras.items()}
        sources.append(
            Source(
                label,
                schema.TABLES["consent_events"],
                events,
                unit,
                headers=headers,
                extract=True,
                excel_serial=inspection.read.dialect.kind == "xlsx",
                opt_out=opts_out,
                from_flags=True,
                missing={
                    "occurred_at": NO_DECISION_DATE,
                    **({"customer_id": NO_EMAIL} if m.identity else {}),
                },
            )
        )
    return sources


# People by e-mail (spec section 10): an export that names people only by their e-mail
# address is matched to the customers of the store and of the rest of the import; a person
# not known yet gets an identifier derived from a keyed hash of the address, the same in
# every later export (and so still refused after an erasure, by the suppression list).

IDENTIFIED = "customer_id (by e-mail)"
NO_EMAIL = "no e-mail address: this export names people by it"


def normal_email(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """E-mail addresses as they are matched: trimmed and lower-cased."""
    return pc.utf8_lower(trim(column))


@dataclass
class People:
    """Who is who by e-mail: the store's key and the import's own e-mail -> customer_id."""

    key: bytes
    in_import: dict[str, str] = field(default_factory=dict)

    def derived(self, email: str) -> str:
        """The stable identifier of a person first seen by e-mail."""
        return "em-" + keyed_hash(self.key, email)[:24]

    def learn(self, inspection: Inspection) -> None:
        """Remember the identifiers a file gives people with e-mail addresses."""
        m = inspection.mapping
        if m is None or inspection.read.table is None:
            return
        by = {c: h for h, c in m.columns.items()}
        email = m.identity or by.get("email")
        if "customer_id" not in by or email is None or m.table != "customers":
            return
        text = inspection.read.table
        ids = _identifier(text.column(by["customer_id"])).to_pylist()
        emails = normal_email(text.column(email)).to_pylist()
        for email, customer in zip(emails, ids, strict=True):
            if email and customer:
                self.in_import.setdefault(email, customer)


def _identified_by_email(
    con: duckdb.DuckDBPyConnection, inspection: Inspection, people: People | None
) -> tuple[readers.TextTable, ColumnMapping]:
    """The file with a customer_id column: the store's customer with the address, else the
    import's, else a derived identifier."""
    m = inspection.mapping
    text = inspection.read.table
    emails = normal_email(text.column(m.identity))
    # The export's own identifier, where it has one (Klaviyo's profile id).
    own_header = next((h for h, c in m.columns.items() if c == "customer_id"), None)
    own = _identifier(text.column(own_header)).to_pylist() if own_header else [""] * text.num_rows
    stored = set()
    if own_header:
        con.register("_import_ids", pa.table({"id": pa.array(own, pa.string())}))
        try:
            stored = {
                i
                for (i,) in con.execute(
                    "SELECT customer_id FROM customers WHERE customer_id IN "
                    "(SELECT id FROM _import_ids)"
                ).fetchall()
            }
        finally:
            con.unregister("_import_ids")
    known: dict[str, str] = {}
    con.register("_import_emails", pa.table({"email": emails}))
    try:
        known = dict(
            con.execute(
                "SELECT lower(trim(c.email)), min(c.customer_id) FROM customers AS c "
                "WHERE lower(trim(c.email)) IN (SELECT email FROM _import_emails) GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.unregister("_import_emails")
    ids = []
    for email, mine in zip(emails.to_pylist(), own, strict=True):
        if mine in stored:
            ids.append(mine)  # by the identifier the store knows
        elif email and email in known:
            ids.append(known[email])
        elif email and people is not None and email in people.in_import:
            ids.append(people.in_import[email])
        elif mine:
            ids.append(mine)
        elif email:
            ids.append(people.derived(email) if people is not None else "")
        else:
            ids.append("")
    text = text.append_column(IDENTIFIED, pa.array(ids, pa.string()))
    columns = {h: c for h, c in m.columns.items() if c != "customer_id"}
    mapping = replace(m, columns={IDENTIFIED: "customer_id", **columns})
    return replace(inspection.read, table=text), mapping


def _missing(inspection: Inspection) -> list[str]:
    m = inspection.mapping
    mapped = set(m.columns.values()) | set(m.defaults) | set(m.joined)
    if m.wide and m.table == "consent_events":
        mapped |= set(mp.FROM_FLAGS)
    if m.wide and m.table == "customers":
        mapped.add("created_at")  # from the decisions' dates when the file has no sign-up
    return [c.name for c in schema.TABLES[m.table].columns if c.required and c.name not in mapped]


def plan(
    con: duckdb.DuckDBPyConnection,
    inspection: Inspection,
    decided_at: date | None = None,
    people: People | None = None,
) -> tuple[list[Source], Tally, list[Problem], list[str]]:
    """The sources a file becomes, its tally, the problems found so far and notes;
    `decided_at` dates the decisions of rows that give no date of their own, `people` finds
    the customers of files that name them by e-mail."""
    read = inspection.read
    label = inspection.extract.name
    unit = read.problems[0].unit if read.problems else "line"
    if read.dialect is not None and read.dialect.kind in ("xlsx", "parquet"):
        unit = "row"
    notes: list[str] = []
    if read.table is None:
        return [], Tally(label, 0, unit, refused=True), list(read.problems), notes
    not_read = [p for p in read.problems if p.reason.endswith(NOT_READ)]
    notes += [str(p) for p in read.problems if not p.reason.endswith(NOT_READ)]
    rows = read.table.num_rows + len({p.line for p in not_read})
    tally = Tally(label, rows, unit)
    if inspection.mapping is None:
        tables = ", ".join(schema.TABLES)
        reason = (
            f"the file name is not a canonical table ({tables}) and no saved mapping fits "
            "its headers: name its table (--table, or on the page)"
        )
        tally.refused = True
        return [], tally, [*not_read, Problem(label, read.header_line, "", reason, unit)], notes
    m = inspection.mapping
    m.check()
    problems = list(not_read)
    absent = sorted(m.used() - set(inspection.headers))
    if absent:
        tally.refused = True
        problems += [
            Problem(label, read.header_line, h, "the mapping names a column the file lacks", unit)
            for h in absent
        ]
        return [], tally, problems, notes
    if m.identity:
        read, m = _identified_by_email(con, inspection, people)
        inspection = replace(inspection, read=read, mapping=m, headers=mp.headers_of(read.table))
        notes.append(
            f"{label}: people are named by e-mail address: matched to the customers of the "
            "store and of this import, new ones given a stable identifier derived from it"
        )
    missing = _missing(inspection)
    if missing:
        tally.refused = True
        problems += [
            Problem(
                label,
                read.header_line,
                c,
                f"required column is missing: map a column of the file to {c}",
                unit,
            )
            for c in missing
        ]
        return [], tally, problems, notes
    ignored = m.ignored(inspection.headers)
    if ignored:
        notes.append(f"{label}: columns not imported: {', '.join(ignored)}")

    sources: list[Source] = []
    day = decided_at.isoformat() if decided_at else None
    if not (m.wide and m.table == "consent_events"):
        customers = _source(label, m.table, read, m, unit, day)
        # A CRM list with flags, or an export naming people by e-mail, brings new decisions
        # of customers already in the store (or an earlier file of the import) too.
        customers.skip_existing = m.wide or bool(m.identity)
        sources.append(customers)
    if m.wide:
        sources += _wide_sources(inspection, unit, day, notes)
    readings: dict[tuple[str, ...], mp.DateReading | None] = {}
    for src in sources:
        _dated(con, src, inspection, readings, notes)
    return sources, tally, problems, list(dict.fromkeys(notes))


def run_import(
    store: Store,
    extracts: Sequence[Extract],
    *,
    replace: bool = False,
    accept_valid: bool = False,
    dry_run: bool = False,
    actor: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[str], None] | None = None,
    guess: bool = True,
    decided_at: date | None = None,
) -> ImportReport:
    """Read, map and check the files, then import them in one transaction (or report why not).

    Nothing is written when `dry_run`, when a file cannot be read or mapped, or when a row
    is rejected and not `accept_valid`; with it, the valid rows go in and the rest are
    reported. `decided_at` dates the consent decisions of rows that give no date.
    """
    say = progress or (lambda _: None)
    # Checksums are hashed on a second thread while the files are read (hashlib lets go of
    # the interpreter lock), which takes them off the import's time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        sums = [pool.submit(e.checksum, max_bytes) for e in extracts]
        inspections = []
        for extract in extracts:
            say(f"reading {extract.name}")
            inspections.append(inspect(store.con, extract, max_bytes=max_bytes, guess=guess))
        return _import(
            store, inspections, sums, replace, accept_valid, dry_run, actor, say, decided_at
        )


def canonical_paths(paths: Sequence[str | Path]) -> bool:
    """Whether every path is a canonical table file (named after its table) or a folder:
    those are read strictly, with the schema's headers (data/intake/loader.py)."""
    return all(
        Path(p).is_dir()
        or (Path(p).suffix.lower() in loader.SUFFIXES and Path(p).stem in schema.TABLES)
        for p in paths
    )


def extract_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """The files given, and a folder's extract files, with a note for each other file a
    folder holds (such as a mapping's JSON beside them), skipped."""
    files: list[Path] = []
    notes: list[str] = []
    for given in map(Path, paths):
        if not given.is_dir():
            files.append(given)
            continue
        for path in sorted(p for p in given.iterdir() if p.is_file()):
            if path.suffix.lower().lstrip(".") in readers.EXTRACT_SUFFIXES:
                files.append(path)
            else:
                kinds = ", ".join(readers.EXTRACT_SUFFIXES)
                notes.append(f"{path}: skipped (not an extract file: {kinds})")
    return files, notes


def import_paths(
    store: Store,
    paths: Sequence[str | Path],
    *,
    table: str | None = None,
    mapping: ColumnMapping | None = None,
    replace: bool = False,
    accept_valid: bool = False,
    dry_run: bool = False,
    actor: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[str], None] | None = None,
    decided_at: date | None = None,
) -> ImportReport:
    """The one way in for files on disk: canonical table files (and folders of them) are
    read strictly with the schema's headers; any other extract, or a file given a table or a
    mapping, is read, mapped and checked as `run_import` does. Either way the rows go in
    one recorded transaction, or nothing does; the report says which (`files` lists the
    extracts inspected, none for canonical files)."""
    if canonical_paths(paths) and not (table or mapping):
        try:
            result = loader.import_files(
                store,
                paths,
                replace=replace,
                actor=actor,
                dry_run=dry_run,
                accept_valid=accept_valid,
            )
        except ImportRejected as rejected:
            return ImportReport([], rejected.outcome, [])
        return ImportReport([], result.outcome, result.notes)
    files, skipped = extract_files(paths)
    extracts = [Extract.from_path(p, table=table, mapping=mapping) for p in files]
    report = run_import(
        store,
        extracts,
        replace=replace,
        accept_valid=accept_valid,
        dry_run=dry_run,
        actor=actor,
        max_bytes=max_bytes,
        progress=progress,
        guess=False,
        decided_at=decided_at,
    )
    report.notes[:0] = skipped
    return report


def _import(
    store: Store,
    inspections: list[Inspection],
    sums: list[Future],
    replace: bool,
    accept_valid: bool,
    dry_run: bool,
    actor: str,
    say: Callable[[str], None],
    decided_at: date | None,
) -> ImportReport:
    sources: list[Source] = []
    tallies: dict[str, Tally] = {}
    problems: list[Problem] = []
    notes: list[str] = []
    files = []
    people = People(require_key(store.path))
    # Only a file that names people by e-mail needs the others' identifiers by address.
    if any(i.mapping is not None and i.mapping.identity for i in inspections):
        for inspection in inspections:
            people.learn(inspection)
    for inspection, summed in zip(inspections, sums, strict=True):
        got_sources, tally, got_problems, got_notes = plan(
            store.con, inspection, decided_at, people
        )
        label = inspection.extract.name
        if label in tallies:
            # Problems name files by name: two files of one name could not be told apart, so
            # neither is imported and both count as read and rejected.
            problems.append(Problem(label, 0, "", "two files of this name in one import"))
            tallies[label].refused = True
            tallies[label].rows_read += tally.rows_read
            continue
        inspection.notes = got_notes
        sources += got_sources
        tallies[label] = tally
        problems += got_problems
        notes += got_notes
        digest, size = summed.result()
        files.append(
            {
                "name": Path(label).name,
                "sha256": digest,
                "bytes": size,
                "table": inspection.table,
                "format": inspection.dialect,
                "rows_read": tally.rows_read,
            }
        )
    refused = {label for label, tally in tallies.items() if tally.refused}
    sources = [src for src in sources if src.label not in refused]
    empty = not any(src.text.num_rows for src in sources)
    if empty and not any(t.refused for t in tallies.values()):
        notes.append("no rows to import")
    say(f"checking {sum(t.rows_read for t in tallies.values()):,} rows")
    outcome = check_and_write(
        store,
        sources,
        tallies,
        problems,
        replace=replace,
        accept_valid=accept_valid,
        dry_run=dry_run or empty,
        actor=actor,
        files=files,
        info={"source": "import", "files": ", ".join(f["name"] for f in files)},
        progress=say,
    )
    notes += skipped_notes(outcome)
    return ImportReport(inspections, outcome, notes)


def skipped_notes(outcome: Outcome) -> list[str]:
    """What an import leaves out without rejecting it, one sentence each."""
    notes = []
    if outcome.kept_decisions:
        notes.append(
            f"{outcome.kept_decisions:,} consent decision(s) the store holds already (same "
            "person, purpose, decision and time) were left out"
        )
    if outcome.kept_existing:
        notes.append(
            f"{outcome.kept_existing:,} row(s) name customers the store (or an earlier file of "
            "this import) has already: their consent events are imported, their customer rows "
            "left as they are"
        )
    return notes
