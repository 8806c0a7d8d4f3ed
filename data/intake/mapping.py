"""Which column of an analyst's file is which canonical column, and how its dates are written.

Headers are matched by name and the synonyms in `schema.HEADER_SYNONYMS`; CRM exports with
one opt-in column per purpose (`email_opt_in`, `sms_opt_in`, ...) are the wide consent form
and become consent events. A mapping can be edited, saved in the store for the next file with
the same headers, and written to or read from a JSON file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from data.intake.problems import LINE_COLUMN
from data.storage import schema
from data.storage.sqlparams import Params

SAVED_TABLE = "saved_mappings"
DAY_FIRST, MONTH_FIRST = "day_first", "month_first"
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)
# Files that may carry opt-in flags (the wide consent form); in a consent_events file the
# flags give each event its purpose, decision and date; a customers file's flags may bring
# these details of their events.
WIDE_TABLES = ("customers", "consent_events")
FROM_FLAGS = ("purpose", "decision", "occurred_at")
EVENT_DETAILS = ("source", "method", "notice_version", "prompt_variant")
# ISO 8601 starts YYYY-MM-DD; DuckDB's cast alone would read 05/01/24 as year 5.
# Dates of other forms outside these years are misreadings, not dates.
PLAUSIBLE_YEARS = (1900, 2199)
# Dates that are not ISO 8601, numeric ones by the order of day and month. Two-digit years
# first: a list of formats takes the first that reads, and %Y would read "24" as year 24.
_NUMERIC = {
    DAY_FIRST: ("%d/%m/%y", "%d/%m/%Y", "%d.%m.%y", "%d.%m.%Y", "%d-%m-%Y"),
    MONTH_FIRST: ("%m/%d/%y", "%m/%d/%Y", "%m-%d-%Y"),
}
_WORDED = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%Y/%m/%d")
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
# Files named after what they hold (besides the canonical table names).
FILE_WORDS: dict[str, tuple[str, ...]] = {
    "customers": ("customer", "contact", "crm", "client", "member", "subscriber", "people"),
    "consent_events": ("consent", "preference", "opt_in", "optin", "cmp", "permission"),
    "touchpoints": ("touchpoint", "engagement", "event", "visit", "click", "activity"),
    "orders": ("order", "sale", "purchase", "transaction", "invoice", "shop"),
    "privacy_requests": ("request", "dsar", "ticket", "dsr", "privacy", "rights"),
    "sharing": ("sharing", "share", "recipient", "partner", "vendor", "disclosure"),
}


def normalise(header: str) -> str:
    """A header as synonyms are written: "E-mail Address" -> "e_mail_address"."""
    return re.sub(r"[^0-9a-z]+", "_", header.strip().casefold()).strip("_")


@dataclass
class ColumnMapping:
    """How a file's headers become one canonical table (and, in the wide form, consent events).

    `columns` maps a file header to a column of `table`; `opt_ins` maps a header holding
    yes/no flags to the purpose it decides; each flag takes its date from `opt_in_dates`,
    else from `decided_at`; `event_columns` maps headers to other consent_events columns
    (source, method, ...) for the events of the wide form. `polarity` says of a flag header
    whether yes means consent (`opt_in`, the default) or its refusal (`opt_out`).
    """

    table: str
    columns: dict[str, str] = field(default_factory=dict)
    opt_ins: dict[str, str] = field(default_factory=dict)
    opt_in_dates: dict[str, str] = field(default_factory=dict)
    decided_at: str | None = None
    event_columns: dict[str, str] = field(default_factory=dict)
    date_order: str | None = None  # DAY_FIRST, MONTH_FIRST, or None to detect
    # One value for every row, for columns the file lacks: a CRM list without a sign-up date,
    # a newsletter export that is all about one purpose, orders in one currency.
    defaults: dict[str, str] = field(default_factory=dict)
    polarity: dict[str, str] = field(default_factory=dict)
    # Flag header -> values of it that record no decision (Shopify's "no": not subscribed).
    unasked: dict[str, list[str]] = field(default_factory=dict)
    # Column -> headers whose values, joined by a space, make it ("First Name", "Last Name").
    joined: dict[str, list[str]] = field(default_factory=dict)
    layout: str | None = None  # the known export layout this mapping reads (data/intake/layouts.py)
    # The header of people's e-mail addresses when the file names people by them rather than
    # by customer_id (spec section 10).
    identity: str | None = None
    # The column marking rows that continue an earlier one (a line-item export): read,
    # accepted and folded into that row, never written on their own.
    continuation: str | None = None

    def opts_out(self, flag: str) -> bool:
        """Whether yes in the flag column `flag` means the person opted out."""
        return self.polarity.get(flag) == schema.OPT_OUT

    def reading(self, flag: str) -> str:
        """How the flag column `flag` is read, in words for the report and the page."""
        purpose = self.opt_ins[flag]
        if self.opts_out(flag):
            return (
                f"an opt-out of {purpose}: yes means withdrawn (denied without an earlier "
                "grant), no or empty no decision"
            )
        if self.unasked.get(flag):
            unasked = " or ".join(self.unasked[flag])
            return f"an opt-in of {purpose}: yes means granted, {unasked} or empty no decision"
        return (
            f"an opt-in of {purpose}: yes means granted, no denied, empty or not subscribed "
            "no decision"
        )

    @property
    def wide(self) -> bool:
        """Whether the file is the wide consent form."""
        return bool(self.opt_ins)

    def used(self) -> set[str]:
        """Headers the mapping reads."""
        dates = set(self.opt_in_dates.values()) | ({self.decided_at} if self.decided_at else set())
        parts = {h for headers in self.joined.values() for h in headers}
        parts |= {h for h in (self.identity, self.continuation) if h}
        return set(self.columns) | set(self.opt_ins) | dates | set(self.event_columns) | parts

    def ignored(self, headers: Sequence[str]) -> list[str]:
        """Headers of the file the mapping leaves out."""
        used = self.used()
        return [h for h in headers if h not in used]

    def rekeyed(self, headers: Sequence[str]) -> ColumnMapping:
        """The mapping with its headers spelt as in `headers` (matched as normalised), as a
        saved mapping is applied to a file whose headers differ only in case or spacing."""
        spelt = {normalise(h): h for h in headers}

        def fix(header: str) -> str:
            return spelt.get(normalise(header), header)

        return ColumnMapping(
            self.table,
            {fix(h): c for h, c in self.columns.items()},
            {fix(h): p for h, p in self.opt_ins.items()},
            {fix(h): fix(d) for h, d in self.opt_in_dates.items()},
            fix(self.decided_at) if self.decided_at else None,
            {fix(h): c for h, c in self.event_columns.items()},
            self.date_order,
            dict(self.defaults),
            {fix(h): p for h, p in self.polarity.items()},
            {fix(h): list(v) for h, v in self.unasked.items()},
            {c: [fix(h) for h in headers] for c, headers in self.joined.items()},
            self.layout,
            fix(self.identity) if self.identity else None,
            self.continuation,
        )

    def over(self, base: ColumnMapping) -> ColumnMapping:
        """This mapping laid over `base` (the automatic one): what it names wins, the rest of
        `base` stays. A header or a column this mapping names is taken from it alone."""
        if base.table != self.table:
            return self
        named = self.used()
        targets = set(self.columns.values()) | set(self.joined) | set(self.defaults)
        purposes = set(self.opt_ins.values())

        def kept(items: dict[str, str], *, by_target: bool = False) -> dict[str, str]:
            return {
                h: v
                for h, v in items.items()
                if h not in named and not (by_target and v in targets)
            }

        opt_ins = {h: p for h, p in base.opt_ins.items() if h not in named and p not in purposes}
        return ColumnMapping(
            self.table,
            columns={**kept(base.columns, by_target=True), **self.columns},
            opt_ins={**opt_ins, **self.opt_ins},
            opt_in_dates={
                **{f: d for f, d in base.opt_in_dates.items() if f in opt_ins and d not in named},
                **self.opt_in_dates,
            },
            decided_at=self.decided_at
            or (base.decided_at if base.decided_at not in named else None),
            event_columns={**kept(base.event_columns), **self.event_columns},
            date_order=self.date_order or base.date_order,
            defaults={**base.defaults, **self.defaults},
            polarity={
                **{f: p for f, p in base.polarity.items() if f in opt_ins},
                **self.polarity,
            },
            unasked={**{f: v for f, v in base.unasked.items() if f in opt_ins}, **self.unasked},
            joined={
                **{c: hs for c, hs in base.joined.items() if c not in targets},
                **self.joined,
            },
            layout=base.layout,
            identity=self.identity or base.identity,
            continuation=self.continuation or base.continuation,
        )

    def to_json(self) -> str:
        """The mapping as JSON, as `--mapping FILE` reads it."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnMapping:
        """A mapping from its JSON form; raises ValueError naming what is wrong."""
        if not isinstance(data, dict) or "table" not in data:
            raise ValueError('a mapping is a JSON object with at least "table"')
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown mapping keys: {', '.join(unknown)}")
        mapping = cls(**data)
        mapping.check()
        return mapping

    def check(self) -> None:
        """Raise ValueError if the mapping names an unknown table, column or purpose."""
        for name in ("columns", "opt_ins", "opt_in_dates", "event_columns", "defaults", "polarity"):
            value = getattr(self, name)
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError(f'"{name}" must be an object of texts ("header": "name")')
        for name in ("unasked", "joined"):
            value = getattr(self, name)
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
                for k, v in value.items()
            ):
                raise ValueError(f'"{name}" must be an object of lists of texts')
        for name in ("decided_at", "date_order", "layout", "identity", "continuation"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f'"{name}" must be a text or null')
        if not isinstance(self.table, str) or self.table not in schema.TABLES:
            raise ValueError(f"unknown table {self.table!r} ({', '.join(schema.TABLES)})")
        allowed = set(schema.TABLES[self.table].column_names)
        for header, column in self.columns.items():
            if column not in allowed:
                raise ValueError(f"column {header!r}: {column!r} is not a column of {self.table}")
        for column in self.defaults:
            if column not in allowed:
                raise ValueError(f"default for {column!r}: not a column of {self.table}")
        for column in self.joined:
            if column not in allowed:
                raise ValueError(f"joined {column!r}: not a column of {self.table}")
        for flag in self.unasked:
            if flag not in self.opt_ins:
                raise ValueError(f"{flag} has undecided values but is not mapped as a flag")
        targets = list(self.columns.values())
        repeated = sorted({c for c in targets if targets.count(c) > 1})
        if repeated:
            raise ValueError(f"more than one column mapped to {', '.join(repeated)}")
        events = set(schema.TABLES["consent_events"].column_names)
        for header, column in self.event_columns.items():
            if column not in events:
                raise ValueError(f"column {header!r}: {column!r} is not a consent_events column")
        if self.opt_ins and self.table not in WIDE_TABLES:
            raise ValueError("opt-in columns belong to a customers or consent_events file")
        for flag in self.opt_in_dates:
            if flag not in self.opt_ins:
                raise ValueError(f"{flag} has a date column but is not mapped as an opt-in flag")
        for flag, polarity in self.polarity.items():
            if flag not in self.opt_ins:
                raise ValueError(f"{flag} has a polarity but is not mapped as a flag (opt_ins)")
            if polarity not in schema.POLARITIES:
                raise ValueError(
                    f"column {flag!r}: polarity must be {' or '.join(schema.POLARITIES)}"
                )
        from_flags = sorted(set(FROM_FLAGS) & set(targets))
        if self.opt_ins and self.table == "consent_events" and from_flags:
            raise ValueError(
                "with opt-in flags, purpose, decision and date come from the flags: "
                f"map no column to {', '.join(from_flags)}"
            )
        for header, purpose in self.opt_ins.items():
            if not re.fullmatch(r"[a-z0-9_]+", purpose or ""):
                raise ValueError(f"column {header!r}: purpose must be lower-case words")
        if self.date_order not in (None, *DATE_ORDERS):
            raise ValueError(f"date_order must be one of {', '.join(DATE_ORDERS)}")


def read_mapping_file(path: Path) -> ColumnMapping:
    """A mapping saved as JSON; raises ValueError naming the file and the reason."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f", line {error.lineno}, column {error.colno}" if hasattr(error, "lineno") else ""
        raise ValueError(f"{path}{where}: not a JSON mapping") from None
    try:
        return ColumnMapping.from_dict(data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


# Matching headers.


def _synonyms(table: str) -> dict[str, list[str]]:
    """Normalised header -> candidate columns of `table`, best first."""
    names: dict[str, list[str]] = {}
    for column in schema.TABLES[table].column_names:
        names.setdefault(column, []).insert(0, column)
    for column, words in schema.HEADER_SYNONYMS[table].items():
        for word in words:
            names.setdefault(word, []).append(column)
    return names


def _rank(table: str, column: str, header: str) -> int:
    """How good a match a normalised header is for a column: lower is better."""
    if header == column:
        return 0
    words = schema.HEADER_SYNONYMS[table].get(column, ())
    return 1 + words.index(header) if header in words else 10_000


def flag_of(header: str) -> tuple[str, str] | None:
    """The purpose a flag header decides and its polarity: "email_opt_in" is an opt-in of
    email_marketing, "Unsubscribed from all email" an opt-out of it; None for other headers."""
    filler = set(schema.FLAG_FILLER_WORDS)
    name = "_".join(w for w in normalise(header).split("_") if w not in filler)
    for polarity, flags in (
        (schema.OPT_OUT, schema.OPT_OUT_FLAG_WORDS),
        (schema.OPT_IN, schema.FLAG_WORDS),
    ):
        for purpose, words in schema.PURPOSE_WORDS.items():
            for word in words:
                for flag in flags:
                    if name in (f"{word}_{flag}", f"{flag}_{word}"):
                        return purpose, polarity
    return None


def purpose_of(header: str) -> str | None:
    """The purpose a flag header decides ("email_opt_in" -> email_marketing)."""
    found = flag_of(header)
    return found[0] if found else None


def _flag_date(flag: str, headers: Sequence[str]) -> str | None:
    name = normalise(flag)
    for header in headers:
        other = normalise(header)
        if any(other == f"{name}_{w}" for w in schema.FLAG_DATE_WORDS):
            return header
    return None


def _columns_for(table: str, headers: Sequence[str], taken: set[str]) -> dict[str, str]:
    """Best header for each column of `table` among headers not yet taken."""
    synonyms = _synonyms(table)
    claims: list[tuple[int, int, str, str]] = []
    for position, header in enumerate(headers):
        if header in taken:
            continue
        for column in synonyms.get(normalise(header), []):
            claims.append((_rank(table, column, normalise(header)), position, header, column))
    columns: dict[str, str] = {}
    for _, _, header, column in sorted(claims):
        if header not in columns and column not in columns.values():
            columns[header] = column
    return {h: columns[h] for h in headers if h in columns}  # in the file's order


def auto_mapping(table: str, headers: Sequence[str]) -> ColumnMapping:
    """The mapping of `headers` onto `table` by names, synonyms and opt-in flags."""
    opt_ins: dict[str, str] = {}
    polarity: dict[str, str] = {}
    dates: dict[str, str] = {}
    decided_at = None
    if table in WIDE_TABLES:
        for header in headers:
            found = flag_of(header)
            if found and found[0] not in opt_ins.values():
                opt_ins[header] = found[0]
                if found[1] == schema.OPT_OUT:
                    polarity[header] = schema.OPT_OUT
                own = _flag_date(header, headers)
                if own:
                    dates[header] = own
        if opt_ins:
            wide_dates = {normalise(h): h for h in headers if h not in dates.values()}
            decided_at = next(
                (wide_dates[w] for w in schema.WIDE_DATE_SYNONYMS if w in wide_dates), None
            )
    taken = set(opt_ins) | set(dates.values()) | ({decided_at} if decided_at else set())
    columns = _columns_for(table, headers, taken)
    if opt_ins and table == "consent_events":
        # Wide: purpose, decision and date come from the flags.
        columns = {h: c for h, c in columns.items() if c not in FROM_FLAGS}
    event_columns: dict[str, str] = {}
    if opt_ins and table == "customers":
        rest = set(taken) | set(columns)
        event_columns = {
            h: c
            for h, c in _columns_for("consent_events", headers, rest).items()
            if c in EVENT_DETAILS
        }
    return ColumnMapping(
        table, columns, opt_ins, dates, decided_at, event_columns, polarity=polarity
    )


def guess_table(file_name: str, headers: Sequence[str]) -> str | None:
    """The canonical table a file most likely holds, from its name, else its headers."""
    stem = normalise(Path(file_name).stem)
    if stem in schema.TABLES:
        return stem
    named = [t for t, words in FILE_WORDS.items() if any(w in stem for w in words)]
    if len(named) == 1:
        return named[0]
    best, best_score = None, float("-inf")
    for table in named or schema.TABLES:
        mapping = auto_mapping(table, headers)
        required = [c.name for c in schema.TABLES[table].columns if c.required]
        mapped = set(mapping.columns.values())
        if mapping.wide:
            mapped |= set(FROM_FLAGS)
        missing = sum(1 for c in required if c not in mapped)
        score = len(mapped) - 3 * missing
        if mapped and score > best_score:
            best, best_score = table, score
    return best


# Saved mappings: reused for the next file with the same headers.


def signature(headers: Sequence[str]) -> str:
    """What identifies a file's header row: its names, normalised, in order."""
    return hashlib.sha256("\x1f".join(normalise(h) for h in headers).encode()).hexdigest()


def save(con: duckdb.DuckDBPyConnection, headers: Sequence[str], mapping: ColumnMapping, by: str):
    """Keep `mapping` for the next file with these headers (replacing an older one)."""
    mapping.check()
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SAVED_TABLE} (signature VARCHAR, headers VARCHAR, "
        "mapping VARCHAR, saved_at TIMESTAMP, saved_by VARCHAR)"
    )
    key = signature(headers)
    con.execute(f"DELETE FROM {SAVED_TABLE} WHERE signature = ?", [key])
    con.execute(
        f"INSERT INTO {SAVED_TABLE} VALUES (?, ?, ?, ?, ?)",
        [key, json.dumps(list(headers)), mapping.to_json(), datetime.now(UTC), by],
    )


def saved(con: duckdb.DuckDBPyConnection, headers: Sequence[str]) -> ColumnMapping | None:
    """The mapping saved for files with these headers, if any."""
    [(exists,)] = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [SAVED_TABLE]
    ).fetchall()
    if not exists:
        return None
    rows = con.execute(
        f"SELECT mapping FROM {SAVED_TABLE} WHERE signature = ?", [signature(headers)]
    ).fetchall()
    if not rows:
        return None
    try:
        return ColumnMapping.from_dict(json.loads(rows[0][0]))
    except (TypeError, ValueError):
        return None  # a mapping the schema has outgrown: match afresh


# Dates.


def plausible_sql(value: str, params: Params) -> str:
    """SQL: the timestamp, or NULL when its year shows it was misread (the years bound in
    `params`)."""
    low, high = (params.bind(year) for year in PLAUSIBLE_YEARS)
    return f"(CASE WHEN year({value}) BETWEEN {low} AND {high} THEN {value} END)"


def iso_shaped_sql(raw: str) -> str:
    """SQL: whether a text is shaped like ISO 8601 (YYYY-MM-DD...); the cast checks the rest.
    Two character tests, as a regular expression costs several times more on big files."""
    return f"(substr({raw}, 5, 1) = '-' AND substr({raw}, 8, 1) = '-')"


def iso_timestamp_sql(raw: str) -> str:
    """SQL reading an ISO 8601 date or date-time as UTC (NULL for anything else), also with
    a space before its offset as shops write it (`2024-05-03 10:00:12 -0400`)."""
    # The pattern runs only on values longer than a date-time with seconds and with a space
    # before a sign: most have neither, and a length is cheaper to test than a pattern.
    spaced = (
        f"CASE WHEN length({raw}) > 19 AND ({raw} LIKE '% +%' OR {raw} LIKE '% -%') THEN "
        f"regexp_replace({raw}, ' ([+-][0-9]{{2}}(:?[0-9]{{2}})?)$', '\\1') ELSE {raw} END"
    )
    return (
        f"CASE WHEN {iso_shaped_sql(raw)} "
        f"THEN CAST(TRY_CAST({spaced} AS TIMESTAMPTZ) AS TIMESTAMP) END"
    )


def format_name(fmt: str) -> str:
    """A strptime format as people write it: %d/%m/%Y -> DD/MM/YYYY."""
    names = {"%d": "DD", "%m": "MM", "%Y": "YYYY", "%y": "YY", "%b": "Mon", "%B": "Month"}
    names |= {"%H": "hh", "%M": "mm", "%S": "ss", "%I": "hh", "%p": "AM/PM"}
    for code, name in names.items():
        fmt = fmt.replace(code, name)
    return fmt


def date_formats(order: str) -> list[str]:
    """Formats tried after ISO 8601 when day and month come in `order`."""
    return [d + t for d in (*_NUMERIC[order], *_WORDED) for t in _TIMES]


@dataclass(frozen=True)
class DateReading:
    """How a date column's non-ISO values are read."""

    order: str
    formats: list[str]
    read: int  # values that are not ISO 8601 and read in this order
    ambiguous: int  # values that read as a date either way round

    def describe(self, header: str) -> str:
        """One line for the report."""
        first = format_name(_NUMERIC[self.order][1])
        text = f"{header}: {self.read:,} date(s) not in ISO 8601 read as {first}"
        if self.ambiguous:
            text += f" ({self.ambiguous:,} could be read either way round)"
        return text


def read_dates(
    con: duckdb.DuckDBPyConnection, text: pa.Table, column: str, order: str | None
) -> DateReading | None:
    """How to read a text column's dates: None when none but ISO 8601 ones can be read.

    Without a given order, month first is chosen only when some value can only be read
    that way and none only day first (US exports); otherwise day first.
    """
    con.register("_dates", text.select([column]))
    try:
        raw = f"trim(\"{column}\", ' \t\r\n')"
        params = Params()
        day, month = (
            plausible_sql(f"TRY_STRPTIME(v, {params.bind(date_formats(o))})", params)
            for o in DATE_ORDERS
        )
        sql = (
            "SELECT count(d), count(m), "
            "count(*) FILTER (d IS NOT NULL AND m IS NULL), "
            "count(*) FILTER (m IS NOT NULL AND d IS NULL), "
            "count(*) FILTER (d IS NOT NULL AND m IS NOT NULL AND d <> m) "
            f"FROM (SELECT {day} AS d, {month} AS m FROM (SELECT {raw} AS v FROM _dates "
            f"WHERE NOT {iso_shaped_sql(chr(34) + column + chr(34))}) "
            f"WHERE v <> '' AND NOT {iso_shaped_sql('v')})"
        )
        [(day_read, month_read, day_only, month_only, both)] = con.execute(
            sql, params.of(sql)
        ).fetchall()
    finally:
        con.unregister("_dates")
    if not (day_read or month_read):
        return None
    if order is None:
        order = MONTH_FIRST if month_only and not day_only else DAY_FIRST
    read = day_read if order == DAY_FIRST else month_read
    return DateReading(order, date_formats(order), int(read), int(both))


def headers_of(text: pa.Table) -> list[str]:
    """A text table's headers, without the line column."""
    return [n for n in text.column_names if n != LINE_COLUMN]


def synonyms_markdown() -> str:
    """The header synonyms and opt-in flag words as Markdown, as the README lists them."""
    lines = ["| table | column | headers that map to it (besides its own name) |", "|---|---|---|"]
    for table, columns in schema.HEADER_SYNONYMS.items():
        for column, words in columns.items():
            lines.append(f"| {table} | `{column}` | {', '.join(f'`{w}`' for w in words)} |")
    lines += ["", "| purpose | words of its opt-in columns |", "|---|---|"]
    for purpose, words in schema.PURPOSE_WORDS.items():
        lines.append(f"| `{purpose}` | {', '.join(f'`{w}`' for w in words)} |")
    flags = ", ".join(f"`{w}`" for w in schema.FLAG_WORDS)
    out_flags = ", ".join(f"`{w}`" for w in schema.OPT_OUT_FLAG_WORDS)
    filler = ", ".join(f"`{w}`" for w in schema.FLAG_FILLER_WORDS)
    unasked = ", ".join(f"`{w}`" for w in schema.NOT_SUBSCRIBED)
    out_true = ", ".join(f"`{w}`" for w in schema.OPT_OUT_TRUE)
    dates = ", ".join(f"`{w}`" for w in schema.WIDE_DATE_SYNONYMS)
    own = ", ".join(f"`{w}`" for w in schema.FLAG_DATE_WORDS)
    extra = "; ".join(
        f"{d}: {', '.join(f'`{w}`' for w in words)}"
        for d, words in schema.EXTRACT_DECISION_SYNONYMS.items()
    )
    lines += [
        "",
        f"Opt-in flag words (after or before the purpose word): {flags}.",
        f"Opt-out flag words: {out_flags} (words between them and the purpose word that are "
        f"left out: {filler}, so `Unsubscribed from all email` is an opt-out of "
        "`email_marketing`). In an opt-out column "
        f"{out_true} mean the person opted out: `withdrawn`, or `denied` when neither the "
        "store nor the import holds an earlier grant of the purpose for them (as does a "
        "withdrawal word in any flag column); any other yes/no word, or an empty cell, "
        "records no decision.",
        f"Values that record no decision in any flag column (never asked, never answered): "
        f"{unasked}.",
        f"A flag's own date column is its name followed by {own}; the date for flags without "
        f"one: {dates}.",
        f"Decision words extracts may use besides the contract's: {extra}.",
    ]
    return "\n".join(lines)
