"""Parts of the Upload data page: the mapping as an editable table and back, and the report's
tables. Only file headers, names and counts are shown here, never a cell value of a file."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from consentlens.service import ColumnMapping, ImportRecord, ImportReport, Upload
from data.intake import mapping as mp
from data.intake.importer import skipped_notes
from data.intake.ingest import Outcome
from data.intake.mapping import purpose_of
from data.intake.problems import Problem
from data.intake.problems import problems_csv as shared_problems_csv
from data.intake.templates import SamplesHeld
from data.storage import schema
from pages import _labels as labels

IGNORE = "(ignore)"
OPT_IN = "opt-in flag: "
OPT_OUT = "opt-out flag: "
FLAG_DATE = "date of the flag "
EVERY_FLAG_DATE = "date of every opt-in flag"
EVENT = "consent event: "
HEADER, TARGET = labels.MAPPING_HEADER, labels.MAPPING_TARGET
DATE_ORDERS = {
    "detect from the values": None,
    "day first (DD/MM)": mp.DAY_FIRST,
    "month first (MM/DD)": mp.MONTH_FIRST,
}


def md(text: str) -> str:
    """Text from a file (its name, headers, sheet) made inert in Markdown: no links, images,
    emphasis or formulas a header could smuggle onto the page."""
    return re.sub(r"([\\`*_{}\[\]<>()#!|~$])", r"\\\1", text)


def wide_capable(table: str) -> bool:
    """Whether a file of `table` may carry opt-in flags (the wide consent form)."""
    return table in mp.WIDE_TABLES


def targets(table: str, headers: Sequence[str], mapping: ColumnMapping | None) -> list[str]:
    """What a header can be imported as: a column of `table`, an opt-in or opt-out flag, a
    flag's date."""
    options = [IGNORE, *schema.TABLES[table].column_names]
    if wide_capable(table):
        options += [OPT_IN + p for p in schema.PURPOSES]
        options += [OPT_OUT + p for p in schema.PURPOSES]
        flags = [h for h in headers if purpose_of(h) or (mapping and h in mapping.opt_ins)]
        options += [EVERY_FLAG_DATE, *(FLAG_DATE + f for f in flags)]
    if table == "customers":
        options += [EVENT + c for c in mp.EVENT_DETAILS]
    return options


def mapping_rows(headers: Sequence[str], mapping: ColumnMapping | None) -> pd.DataFrame:
    """One row per file header with what it is imported as (IGNORE when nothing)."""
    chosen: dict[str, str] = {}
    if mapping is not None:
        chosen |= dict(mapping.columns)
        chosen |= {
            h: (OPT_OUT if mapping.opts_out(h) else OPT_IN) + p for h, p in mapping.opt_ins.items()
        }
        chosen |= {d: FLAG_DATE + f for f, d in mapping.opt_in_dates.items()}
        if mapping.decided_at:
            chosen[mapping.decided_at] = EVERY_FLAG_DATE
        chosen |= {h: EVENT + c for h, c in mapping.event_columns.items()}
    return pd.DataFrame({HEADER: list(headers), TARGET: [chosen.get(h, IGNORE) for h in headers]})


def mapping_from_rows(
    table: str, rows: pd.DataFrame, base: ColumnMapping | None, date_order: str | None
) -> ColumnMapping:
    """The mapping an edited table describes; raises ValueError naming what is wrong.

    What the table does not show (fixed values for missing columns, say) is kept from `base`.
    """
    columns: dict[str, str] = {}
    opt_ins: dict[str, str] = {}
    polarity: dict[str, str] = {}
    opt_in_dates: dict[str, str] = {}
    decided_at: str | None = None
    event_columns: dict[str, str] = {}
    for header, target in zip(rows[HEADER], rows[TARGET], strict=True):
        target = target or IGNORE
        if target == IGNORE:
            continue
        if target.startswith(OPT_IN):
            opt_ins[header] = target.removeprefix(OPT_IN)
        elif target.startswith(OPT_OUT):
            opt_ins[header] = target.removeprefix(OPT_OUT)
            polarity[header] = schema.OPT_OUT
        elif target == EVERY_FLAG_DATE:
            if decided_at is not None:
                raise ValueError(f"only one column can be the {EVERY_FLAG_DATE}")
            decided_at = header
        elif target.startswith(FLAG_DATE):
            opt_in_dates[target.removeprefix(FLAG_DATE)] = header
        elif target.startswith(EVENT):
            event_columns[header] = target.removeprefix(EVENT)
        else:
            columns[header] = target
    fields = {
        "table": table,
        "columns": columns,
        "opt_ins": opt_ins,
        "opt_in_dates": opt_in_dates,
        "decided_at": decided_at,
        "event_columns": event_columns,
        "date_order": date_order,
        "polarity": polarity,
    }
    mapping = replace(base, **fields) if base is not None and base.table == table else None
    mapping = mapping or ColumnMapping(**fields)
    mapping.check()
    return mapping


def date_in_name(names: Sequence[str]) -> date | None:
    """A date a file's name carries (`export_2024-05-31.csv`, `subscribed_20240531.csv`): the
    first one found, as the decision date of rows that give none."""
    for name in names:
        for found in re.finditer(r"(?<!\d)(20\d\d)[-_.]?(\d\d)[-_.]?(\d\d)(?!\d)", name):
            try:
                return date(*(int(part) for part in found.groups()))
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class Checked:
    """A validation report kept between reruns: what it was made from (`key`) and its
    figures, without the files' contents."""

    key: str
    outcome: Outcome
    notes: list[str]
    tables: dict[str, str]  # file name -> table
    skipped: list[str]  # rows left out without being rejected, said beside the rows written

    @classmethod
    def of(cls, key: str, report: ImportReport) -> Checked:
        """Keep what the page shows of `report`."""
        tables = {i.extract.name: i.table or "" for i in report.files}
        skipped = skipped_notes(report.outcome)
        notes = [n for n in report.notes if n not in skipped]
        return cls(key, report.outcome, notes, tables, skipped)


def plan_key(
    file_ids: Sequence[str],
    uploads: Sequence[Upload],
    replace_all: bool,
    decided_at: date | None = None,
) -> str:
    """What a report depends on: the files (an upload's id is new whenever a file is
    uploaded, so its bytes need not be hashed again on every rerun), their mappings, the
    mode and the decision date."""
    digest = hashlib.sha256(b"replace" if replace_all else b"append")
    digest.update(f"\x1f{decided_at}".encode())
    for file_id in file_ids:
        digest.update(f"\x1f{file_id}".encode())
    for u in uploads:
        mapping = u.mapping.to_json() if u.mapping else ""
        digest.update(f"\x1f{u.name}\x1f{mapping}".encode())
    return digest.hexdigest()


def _headed(columns: dict[str, list]) -> pd.DataFrame:
    """A table of the page with its headers in words (pages/_labels.py)."""
    return pd.DataFrame(columns).rename(columns=labels.IMPORT_COLUMNS)


def rejected_by_reason(outcome: Outcome) -> dict[str, Counter]:
    """Per file: its rejected rows counted by reason (a row with two problems counts under
    each); a problem with the whole file counts every row of it."""
    lines: dict[str, dict[str, set[int]]] = {}
    whole: dict[str, list[str]] = {}
    for p in outcome.problems:
        if p.line:
            lines.setdefault(p.file, {}).setdefault(p.reason, set()).add(p.line)
        else:
            whole.setdefault(p.file, []).append(p.reason)
    out: dict[str, Counter] = {}
    for label, tally in outcome.tallies.items():
        found = Counter({r: len(n) for r, n in lines.get(label, {}).items()})
        for reason in whole.get(label, []):
            found[reason] = tally.rows_read
        if tally.rejected_rows:
            out[label] = found
    return out


def why(reasons: Counter) -> str:
    """A file's rejected rows by reason: "value already exists in the store (58)"."""
    return "; ".join(f"{reason} ({n:,})" for reason, n in reasons.most_common())


def rejected_warning(outcome: Outcome) -> str:
    """What the rejected rows are and why, file by file, for beside the count of them."""
    by_file = rejected_by_reason(outcome)
    parts = [
        f"{label}, {outcome.tallies[label].rejected_rows:,} of "
        f"{outcome.tallies[label].rows_read:,} rows: {why(reasons)}"
        for label, reasons in by_file.items()
    ]
    return (
        f"{outcome.rejected:,} of {outcome.rows_read:,} rows are rejected and cannot be "
        "imported as they are:\n\n" + "\n".join(f"- {md(part)}" for part in parts)
    )


def files_table(checked: Checked) -> pd.DataFrame:
    """Per file: its table, rows read = accepted + rejected, and why rows were rejected."""
    tallies = checked.outcome.tallies.values()
    reasons = rejected_by_reason(checked.outcome)
    return _headed(
        {
            "file": [t.label for t in tallies],
            "table": [labels.table_name(checked.tables.get(t.label, "")) for t in tallies],
            "rows_read": [t.rows_read for t in tallies],
            "accepted": [t.accepted_rows for t in tallies],
            "rejected": [t.rejected_rows for t in tallies],
            "why_rejected": [why(reasons.get(t.label, Counter())) for t in tallies],
            "refused": ["yes" if t.refused else "" for t in tallies],
        }
    )


def rows_table(rows: dict[str, int]) -> pd.DataFrame:
    """Rows per canonical table, in load order."""
    order = [t for t in schema.TABLE_ORDER if t in rows]
    return _headed(
        {"table": [labels.table_name(t) for t in order], "rows": [rows[t] for t in order]}
    )


def problems_table(problems: Sequence[Problem], limit: int | None = None) -> pd.DataFrame:
    """Problems by file, line (or sheet row), column and reason."""
    shown = problems[:limit] if limit else problems
    return _headed(
        {
            "file": [p.file for p in shown],
            "line": [f"{p.unit} {p.line}" if p.line else "whole file" for p in shown],
            "column": [p.column for p in shown],
            "reason": [p.reason for p in shown],
        }
    )


def problems_csv(problems: Sequence[Problem]) -> bytes:
    """The problems as CSV, as `consentlens import --problems-csv` writes them."""
    return shared_problems_csv(problems).encode("utf-8")


def history_table(records: Sequence[ImportRecord]) -> pd.DataFrame:
    """The recorded imports, newest first: when, who, how, which files, rows, undo state."""

    def state(r: ImportRecord) -> str:
        if r.undone_at:
            return f"undone {r.undone_at:%Y-%m-%d %H:%M}"
        return "can be undone" if r.undoable else (r.note or "kept")

    return _headed(
        {
            "import_id": [r.import_id for r in records],
            "imported_at": [f"{r.imported_at:%Y-%m-%d %H:%M:%S}" for r in records],
            "actor": [r.actor for r in records],
            "mode": [labels.words(r.mode) for r in records],
            "files": [", ".join(f["name"] for f in r.files) for r in records],
            "rows_read": [sum(f.get("rows_read", 0) for f in r.files) for r in records],
            "rejected": [sum(f.get("rejected", 0) for f in r.files) for r in records],
            "written": [labels.rows_per_table(r.rows, "none") for r in records],
            "undo": [state(r) for r in records],
        }
    )


def sample_note(table: str, held: SamplesHeld | None) -> str:
    """What importing `table`'s sample into this store would do, when the store holds (or
    has erased) some of the samples already; "" when it imports cleanly."""
    if held is None or not held.any:
        return ""
    keyed = {
        "customers": (held.customers, "customers"),
        "orders": (held.orders, "orders"),
        "privacy_requests": (held.privacy_requests, "requests"),
    }
    erased = (
        f" {held.erased:,} of its customers were erased from this store: rows naming them are "
        "refused."
        if held.erased
        else ""
    )
    if table in keyed:
        (n, total), what = keyed[table]
        said = (
            f"{n:,} of its {total:,} {what} are in this store already: imported again, they "
            "are refused as existing."
            if n
            else ""
        )
        return (said + (erased if table == "customers" else "")).strip()
    if held.customers[0]:
        return (
            "Its customers are in this store already: imported again, its rows are added a "
            "second time." + erased
        )
    return erased.strip()
