"""Values reach SQL as bound parameters: file names, reasons and date formats holding quotes,
semicolons and SQL of their own import like any other, and problems name them exactly."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pyarrow as pa
import pytest

from data.intake.importer import Extract, run_import
from data.intake.ingest import Source, Tally, check_and_write
from data.intake.loader import import_files
from data.intake.problems import LINE_COLUMN
from data.storage import history, schema
from data.storage.schema import IMPORT_ID

NAMES = [
    "o'brien; DROP TABLE customers;--.csv",
    'the "spring" list; DELETE FROM customers;--.csv',
    "'); DROP TABLE consent_events; SELECT ('.csv",
    "$p0 ? $1 '' \\' \".csv",
]

CUSTOMERS = [
    ["Customer ID", "created", "Country"],
    ["Q-1", "2024-02-01", "DE"],
    ["Q-2", "not a date", "FR"],
    ["Q-3", "2024-02-03", "France"],
    ["Q-4", "2024-02-04", "GB"],
    ["Q-1", "2024-02-05", "GB"],
]

EVENTS = [
    ["customer_id", "purpose", "decision", "occurred_at"],
    ["Q-1", "email_marketing", "granted", "2024-03-01"],
    ["Q-2", "email_marketing", "granted", "2024-03-01"],
    ["Q-4", "analytics", "maybe", "2024-03-02"],
    ["Q-9", "analytics", "granted", "2024-03-02"],
    ["Q-4", "sms_marketing", "no", "2024-03-03"],
]


def upload(name: str, rows: list[list[str]], table: str) -> Extract:
    """A file as the dashboard uploads it: its name and its bytes."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return Extract(name, data=out.getvalue().encode(), table=table)


def customer_problems(name: str) -> list[tuple[str, int, str, str]]:
    return [
        (name, 3, "created", "not a date (ISO 8601 or DD/MM/YYYY)"),
        (name, 4, "Country", "not an ISO 3166-1 alpha-2 country code"),
        (name, 6, "Customer ID", "duplicate value (first on line 2)"),
    ]


def problems_of(report) -> list[tuple[str, int, str, str]]:
    return [(p.file, p.line, p.column, p.reason) for p in report.problems]


def stored(store, sql: str, import_id: int) -> list[tuple]:
    return store.con.execute(sql, [import_id]).fetchall()


@pytest.mark.parametrize("name", NAMES)
def test_an_upload_whose_name_is_sql_is_checked_and_imported(store, name):
    refused = run_import(store, [upload(name, CUSTOMERS, "customers")])
    assert not refused.outcome.written
    assert problems_of(refused) == customer_problems(name)
    assert store.con.execute("SELECT count(*) FROM customers").fetchall() == [(0,)]

    report = run_import(store, [upload(name, CUSTOMERS, "customers")], accept_valid=True)
    outcome = report.outcome
    assert outcome.written
    assert problems_of(report) == customer_problems(name)
    assert outcome.rows == {"customers": 2}
    tally = outcome.tallies[name]
    assert (tally.rows_read, tally.accepted_rows, tally.rejected_rows) == (5, 2, 3)
    assert tally.rejected == {3, 4, 6}
    assert stored(
        store,
        f'SELECT customer_id, created_at, country FROM customers WHERE "{IMPORT_ID}" = ? '
        "ORDER BY 1",
        outcome.import_id,
    ) == [("Q-1", datetime(2024, 2, 1), "DE"), ("Q-4", datetime(2024, 2, 4), "GB")]
    [record] = history.entries(store.con)
    assert [(f["name"], f["accepted"], f["rejected"]) for f in record.files] == [(name, 2, 3)]


@pytest.mark.parametrize("customers", NAMES)
def test_rows_naming_rejected_customers_are_rejected_by_file_name(store, customers):
    events = next(n for n in NAMES if n != customers)
    extracts = [upload(customers, CUSTOMERS, "customers"), upload(events, EVENTS, "consent_events")]
    report = run_import(store, extracts, accept_valid=True)
    outcome = report.outcome
    assert outcome.written
    assert sorted(problems_of(report)) == sorted(
        [
            *customer_problems(customers),
            (events, 3, "customer_id", "names a customer whose row is rejected"),
            (
                events,
                4,
                "decision",
                "not a consent decision (granted, denied, withdrawn or a synonym)",
            ),
            (events, 5, "customer_id", "names no row of customers"),
        ]
    )
    assert outcome.rows == {"customers": 2, "consent_events": 2}
    assert (outcome.tallies[events].accepted_rows, outcome.tallies[events].rejected) == (
        2,
        {3, 4, 5},
    )
    assert stored(
        store,
        f'SELECT customer_id, purpose, decision FROM consent_events WHERE "{IMPORT_ID}" = ? '
        "ORDER BY 1, 2",
        outcome.import_id,
    ) == [("Q-1", "email_marketing", "granted"), ("Q-4", "sms_marketing", "denied")]


def test_a_canonical_file_in_a_folder_named_with_quotes(store, tmp_path):
    folder = tmp_path / 'o\'brien "q"; DROP TABLE customers;--'
    folder.mkdir()
    path = folder / "customers.csv"
    path.write_text(
        "customer_id,created_at,country\nC-1,2024-01-01,DE\nC-2,yesterday,FR\nC-3,2024-01-03,\n",
        encoding="utf-8",
    )
    result = import_files(store, [path], accept_valid=True)
    assert result.rows == {"customers": 2}
    assert [(p.file, p.line, p.column, p.reason) for p in result.outcome.problems] == [
        (str(path), 3, "created_at", "not an ISO 8601 date or date-time")
    ]
    assert store.con.execute("SELECT customer_id FROM customers ORDER BY 1").fetchall() == [
        ("C-1",),
        ("C-3",),
    ]


def test_a_reason_and_a_date_format_holding_quotes(store):
    # No reason the importer gives holds a quote today; a Source may name any.
    label = "it's; DROP TABLE customers;--.csv"
    why = "no 'created' date; DROP TABLE customers;--"
    text = pa.table(
        {
            "customer_id": ["A", "B", "C", "D"],
            "created_at": ["01'02'2024", "", "2024-13-45", "2024-03-04"],
            LINE_COLUMN: pa.array([2, 3, 4, 5], pa.int64()),
        }
    )
    src = Source(
        label,
        schema.TABLES["customers"],
        text,
        date_formats={"created_at": ["%d'%m'%Y"]},
        missing={"created_at": why},
    )
    outcome = check_and_write(store, [src], {label: Tally(label, 4)}, accept_valid=True)
    assert outcome.written
    assert [(p.file, p.line, p.column, p.reason) for p in outcome.problems] == [
        (label, 3, "created_at", why),
        (label, 4, "created_at", "not a date (ISO 8601 or DD'MM'YYYY)"),
    ]
    assert outcome.rows == {"customers": 2}
    assert store.con.execute(
        "SELECT customer_id, created_at FROM customers ORDER BY 1"
    ).fetchall() == [("A", datetime(2024, 2, 1)), ("D", datetime(2024, 3, 4))]
