"""Analysts' extracts: corpus accounting, identifiers, mapping, the wide form, valid rows or
nothing, recorded imports and undo, all through a real DuckDB store."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from consentlens.cli import main
from data.intake import mapping as mp
from data.intake.importer import Extract, run_import
from data.intake.problems import LINE_COLUMN
from data.intake.readers import read_extract
from data.intake.templates import sample_csv, template_csv
from data.rights.erasure import erase
from data.storage import audit, history
from data.storage.schema import IMPORT_ID, TABLE_ORDER, TABLES
from data.storage.store import open_store
from data.synthetic.generator import generate
from tests.data.test_readers import CASES, CORPUS

STATE_TABLES = (*TABLE_ORDER, "store_info", history.IMPORTS_TABLE)


def fingerprint(store, tables=STATE_TABLES) -> str:
    """Every row of every table, in order: equal fingerprints mean equal contents."""
    digest = hashlib.sha256()
    for name in tables:
        rows = store.con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
        digest.update(f"{name}:{rows!r}".encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "store.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(300, seed=5), info={"source": "demo"})
    return path


@pytest.fixture
def store(seeded, tmp_path):
    """A private copy of a small demo store (with its key)."""
    path = tmp_path / "store.duckdb"
    shutil.copy(seeded, path)
    shutil.copy(seeded.with_name(seeded.name + ".key"), path.with_name(path.name + ".key"))
    with open_store(path) as opened:
        yield opened


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


# The corpus: every file, exact accounting, identifiers, and a store untouched by refusals.


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_file_is_accounted_for_and_a_refusal_changes_nothing(store, name):
    case = CASES[name]
    before = fingerprint(store)
    report = run_import(store, [Extract.from_path(CORPUS / name, table="customers")])
    outcome = report.outcome
    # Rows read are the records counted by hand in the file, each accepted or rejected.
    assert outcome.rows_read == case.records
    [tally] = outcome.tallies.values()
    assert tally.accepted_rows + tally.rejected_rows == tally.rows_read == case.records
    assert outcome.accepted + outcome.rejected == outcome.rows_read
    if outcome.written:
        assert outcome.rejected == 0 and outcome.accepted == case.records
    else:
        assert fingerprint(store) == before
    for problem in outcome.problems:
        assert problem.file == str(CORPUS / name) or problem.file == name


def _ids_of(name: str) -> tuple[str, list[tuple[int, str]]] | None:
    """The file's identifier header and its (line, value) pairs, as the reader gives them."""
    read = read_extract(CORPUS / name)
    if read.table is None or not read.table.num_rows:
        return None
    mapping = mp.auto_mapping("customers", mp.headers_of(read.table))
    header = next((h for h, c in mapping.columns.items() if c == "customer_id"), None)
    if header is None:
        return None
    lines = read.table.column(LINE_COLUMN).to_pylist()
    return header, list(zip(lines, read.table.column(header).to_pylist(), strict=True))


@pytest.mark.parametrize("name", sorted(n for n in CASES if _ids_of(n)))
def test_corpus_identifiers_are_kept_byte_for_byte_and_undo_restores(store, name):
    header, pairs = _ids_of(name)
    read = read_extract(CORPUS / name)
    mapping = mp.auto_mapping("customers", mp.headers_of(read.table))
    mapping.columns = {h: c for h, c in mapping.columns.items() if c == "customer_id"}
    mapping.defaults = {"created_at": "2024-01-01"}
    before = fingerprint(store, TABLE_ORDER)
    report = run_import(
        store, [Extract.from_path(CORPUS / name, mapping=mapping)], accept_valid=True
    )
    outcome = report.outcome
    assert outcome.accepted + outcome.rejected == outcome.rows_read
    rejected = {p.line for p in outcome.problems}
    expected = sorted(v.strip(" \t\r\n") for line, v in pairs if line not in rejected)
    if outcome.written:
        stored = store.con.execute(
            f'SELECT customer_id FROM customers WHERE "{IMPORT_ID}" = ?', [outcome.import_id]
        ).fetchall()
        assert sorted(i for (i,) in stored) == expected
        assert len(expected) == outcome.accepted
        history.undo_last(store.con)
    else:
        assert expected == []
    assert fingerprint(store, TABLE_ORDER) == before


def test_the_corpus_keeps_leading_zeros_and_na_as_given(store):
    mapping = mp.ColumnMapping(
        "customers",
        {"customer_id": "customer_id", "phone": "phone"},
        defaults={"created_at": "2024-01-01", "country": "NA"},
    )
    report = run_import(
        store, [Extract.from_path(CORPUS / "leading_zeros_na.csv", mapping=mapping)]
    )
    assert report.outcome.written, report.problems
    rows = store.con.execute(
        f'SELECT customer_id, phone, country FROM customers WHERE "{IMPORT_ID}" = ?',
        [report.outcome.import_id],
    ).fetchall()
    assert {i for i, _, _ in rows} == {"00123", "0", "000", "NA", "00125", "007"}
    assert dict((i, p) for i, p, _ in rows)["00123"] == "+4915112345678"
    assert {c for _, _, c in rows} == {"NA"}


# Mapping.


def test_headers_map_by_name_and_synonym():
    m = mp.auto_mapping("customers", ["Customer ID", "E-mail", "cust_no", "created", "Phone"])
    assert m.columns == {
        "Customer ID": "customer_id",
        "E-mail": "email",
        "created": "created_at",
        "Phone": "phone",
    }
    assert m.ignored(["Customer ID", "E-mail", "cust_no", "created", "Phone"]) == ["cust_no"]
    orders = mp.auto_mapping("orders", ["Order No", "cust_no", "Order Date", "order_total"])
    assert orders.columns == {
        "Order No": "order_id",
        "cust_no": "customer_id",
        "Order Date": "ordered_at",
        "order_total": "revenue",
    }
    events = mp.auto_mapping("consent_events", ["cust_no", "Purpose", "consent_status", "date"])
    assert events.columns == {
        "cust_no": "customer_id",
        "Purpose": "purpose",
        "consent_status": "decision",
        "date": "occurred_at",
    }
    requests = mp.auto_mapping("privacy_requests", ["Ticket ID", "Request Type", "Created"])
    assert requests.columns == {
        "Ticket ID": "request_id",
        "Request Type": "type",
        "Created": "received_at",
    }


def test_opt_in_columns_are_the_wide_form():
    headers = ["customer_id", "Email Opt-In", "sms_opt_in", "sms_opt_in_date", "push_opt_in"]
    headers += ["last_updated", "consent_source"]
    m = mp.auto_mapping("consent_events", headers)
    assert m.opt_ins == {"Email Opt-In": "email_marketing", "sms_opt_in": "sms_marketing"}
    assert m.opt_in_dates == {"sms_opt_in": "sms_opt_in_date"}
    assert m.decided_at == "last_updated"
    assert m.columns == {"customer_id": "customer_id", "consent_source": "source"}
    assert m.ignored(headers) == ["push_opt_in"]
    assert mp.purpose_of("newsletter_consent") == "email_marketing"
    assert mp.purpose_of("email") is None


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("orders.csv", "orders"),
        ("crm_contacts_2026.xlsx", "customers"),
        ("DSAR tickets.csv", "privacy_requests"),
        ("cmp_export.jsonl", "consent_events"),
    ],
)
def test_the_table_is_guessed_from_the_file_name(name, table):
    assert mp.guess_table(name, ["id"]) == table


def test_the_table_is_guessed_from_headers_when_the_name_says_nothing():
    assert mp.guess_table("export.csv", ["Order No", "order_total", "Order Date"]) == "orders"
    assert mp.guess_table("export.csv", ["customer_id", "email_opt_in", "opt_in_date"]) in (
        "customers",
        "consent_events",
    )


def test_a_saved_mapping_is_reused_for_the_same_headers(store, tmp_path):
    rows = [["Kunde", "Anmeldung", "Land"], ["k-1", "2024-03-01", "DE"]]
    first = write_csv(tmp_path / "export1.csv", rows)
    second = write_csv(tmp_path / "export2.csv", [rows[0], ["k-2", "2024-03-02", "AT"]])
    mapping = mp.ColumnMapping(
        "customers", {"Kunde": "customer_id", "Anmeldung": "created_at", "Land": "country"}
    )
    run_import(store, [Extract.from_path(first, mapping=mapping)])
    mp.save(store.con, ["Kunde", "Anmeldung", "Land"], mapping, "analyst@example.org")
    report = run_import(store, [Extract.from_path(second)])
    [inspection] = report.files
    assert inspection.mapping_source == "saved"
    assert report.outcome.written and report.outcome.rows == {"customers": 1}


def test_mapping_files_are_checked(tmp_path):
    good = tmp_path / "m.json"
    good.write_text(json.dumps({"table": "orders", "columns": {"Total": "revenue"}}))
    assert mp.read_mapping_file(good).columns == {"Total": "revenue"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"table": "orders", "columns": {"Total": "amount"}}))
    with pytest.raises(ValueError, match="'amount' is not a column of orders"):
        mp.read_mapping_file(bad)
    # The wide form's rules hold for a mapping file as they do on the page.
    for body, reason in (
        (
            {
                "table": "consent_events",
                "opt_ins": {"Email": "email"},
                "columns": {"When": "occurred_at"},
            },
            "with opt-in flags, purpose, decision and date come from the flags: "
            "map no column to occurred_at",
        ),
        (
            {
                "table": "customers",
                "opt_ins": {"Email": "email"},
                "opt_in_dates": {"SMS": "SMS on"},
            },
            "SMS has a date column but is not mapped as an opt-in flag",
        ),
    ):
        bad.write_text(json.dumps(body))
        with pytest.raises(ValueError, match=re.escape(reason)):
            mp.read_mapping_file(bad)
    broken = tmp_path / "broken.json"
    broken.write_text('{"table": ')
    with pytest.raises(ValueError, match="broken.json, line 1, column 11: not a JSON mapping"):
        mp.read_mapping_file(broken)


# The wide consent form.


def test_crm_consent_export_becomes_consent_events(store, tmp_path):
    people = write_csv(
        tmp_path / "people.csv",
        [["customer_id", "created_at"]]
        + [[i, "2023-06-01"] for i in ("00123", "00124", "00125", "0")],
    )
    run_import(store, [Extract.from_path(people, table="customers")])
    export = CORPUS / "crm_consent_export.csv"
    refused = run_import(store, [Extract.from_path(export, table="consent_events")])
    assert not refused.outcome.written
    assert [str(p).split(", ", 1)[1] for p in refused.problems] == [
        "line 5, column email_opt_in_date: no decision date: the file gives none for this row; "
        "give the import one (--decided-at DATE, or the page's decision date)"
    ]
    report = run_import(
        store, [Extract.from_path(export, table="consent_events")], accept_valid=True
    )
    outcome = report.outcome
    assert (outcome.rows_read, outcome.accepted, outcome.rejected) == (4, 3, 1)
    events = store.con.execute(
        "SELECT customer_id, purpose, decision, occurred_at::VARCHAR, source, notice_version "
        f'FROM consent_events WHERE "{IMPORT_ID}" = ? ORDER BY ALL',
        [outcome.import_id],
    ).fetchall()
    assert events == [
        ("00123", "email_marketing", "granted", "2024-01-05 00:00:00", "web_form", "v3"),
        ("00123", "sms_marketing", "denied", "2024-01-05 00:00:00", "web_form", "v3"),
        ("00124", "email_marketing", "granted", "2024-01-05 00:00:00", "store", "v2"),
        ("00124", "sms_marketing", "granted", "2024-01-05 00:00:00", "store", "v2"),
        ("00125", "email_marketing", "denied", "2023-12-31 00:00:00", "import", None),
        ("00125", "sms_marketing", "granted", "2023-12-31 23:59:59", "import", None),
    ]


def test_a_crm_list_with_flags_gives_customers_and_their_events(store, tmp_path):
    path = write_csv(
        tmp_path / "crm.csv",
        [
            ["Customer No", "Signed up", "E-mail", "Newsletter consent", "SMS opt-in"],
            ["C-1", "03/25/2024", "a@example.org", "yes", ""],
            ["C-2", "04/01/2024", "b@example.org", "unsubscribed", "Y"],
            ["C-3", "04/02/2024", "c@example.org", "maybe", "N"],
        ],
    )
    # The file has no date for its flags: the import is given one.
    report = run_import(
        store, [Extract.from_path(path)], accept_valid=True, decided_at=date(2024, 4, 30)
    )
    assert report.files[0].table == "customers"
    outcome = report.outcome
    assert (outcome.rows_read, outcome.accepted, outcome.rejected) == (3, 2, 1)
    assert outcome.rows == {"customers": 2, "consent_events": 3}
    [problem] = outcome.problems
    assert (problem.line, problem.column) == (4, "Newsletter consent")
    assert "consent decision" in problem.reason
    # "03/25/2024" can only be month first, so the column is read month first.
    assert any("Signed up" in n and "MM/DD/YYYY" in n for n in report.notes)
    created = store.con.execute(
        "SELECT customer_id, created_at::DATE::VARCHAR FROM customers "
        f'WHERE "{IMPORT_ID}" = ? ORDER BY 1',
        [outcome.import_id],
    ).fetchall()
    assert created == [("C-1", "2024-03-25"), ("C-2", "2024-04-01")]
    decisions = store.con.execute(
        "SELECT customer_id, purpose, decision, occurred_at::VARCHAR FROM consent_events "
        f'WHERE "{IMPORT_ID}" = ? ORDER BY ALL',
        [outcome.import_id],
    ).fetchall()
    assert decisions == [
        ("C-1", "email_marketing", "granted", "2024-04-30 00:00:00"),
        # "unsubscribed" with no earlier grant anywhere: a refusal (spec section 10).
        ("C-2", "email_marketing", "denied", "2024-04-30 00:00:00"),
        ("C-2", "sms_marketing", "granted", "2024-04-30 00:00:00"),
    ]
    assert f"{path}: no date column for Newsletter consent: its decisions are dated 2024-04-30" in (
        report.notes
    )


def test_decisions_without_a_date_are_rejected_never_dated_at_the_import(store, tmp_path):
    path = write_csv(
        tmp_path / "crm.csv",
        [
            ["Customer No", "Signed up", "Newsletter consent", "consent_date"],
            ["C-1", "2024-03-25", "yes", ""],
            ["C-2", "2024-04-01", "yes", "2024-04-02"],
            ["C-3", "2024-04-01", "", ""],
        ],
    )
    report = run_import(store, [Extract.from_path(path)], accept_valid=True)
    outcome = report.outcome
    assert [(p.line, p.column, p.reason) for p in outcome.problems] == [
        (
            2,
            "consent_date",
            "no decision date: the file gives none for this row; give the import one "
            "(--decided-at DATE, or the page's decision date)",
        )
    ]
    assert outcome.rows == {"customers": 2, "consent_events": 1}
    assert store.con.execute(
        f'SELECT customer_id, occurred_at::VARCHAR FROM consent_events WHERE "{IMPORT_ID}" = ?',
        [outcome.import_id],
    ).fetchall() == [("C-2", "2024-04-02 00:00:00")]


# Values an extract may carry.


def test_workbook_dates_amounts_and_identifiers(store, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Order Number", "Customer", "Order Date", "Order Total", "Currency"])
    customer = store.con.execute("SELECT min(customer_id) FROM customers").fetchall()[0][0]
    sheet.append(["000777", customer, 45296, 12.5, "eur"])  # a serial date, no date format
    sheet.append(["000778", customer, datetime(2024, 1, 6, 9, 30), "€1,234.50", "EUR"])
    sheet["A2"].number_format = "@"
    path = tmp_path / "shop.xlsx"
    book.save(path)
    report = run_import(store, [Extract.from_path(path, table="orders")])
    assert report.outcome.written, report.problems
    rows = store.con.execute(
        "SELECT order_id, ordered_at::VARCHAR, revenue::VARCHAR, currency FROM orders "
        f'WHERE "{IMPORT_ID}" = ? ORDER BY 1',
        [report.outcome.import_id],
    ).fetchall()
    assert rows == [
        ("000777", "2024-01-05 00:00:00", "12.5000", "EUR"),
        ("000778", "2024-01-06 09:30:00", "1234.5000", "EUR"),
    ]


def test_semicolon_files_have_decimal_commas(store, tmp_path):
    customer = store.con.execute("SELECT min(customer_id) FROM customers").fetchall()[0][0]
    path = write_csv(
        tmp_path / "bestellungen.csv",
        [
            ["order_id", "customer_id", "order_date", "total"],
            ["B-1", customer, "5.1.2024", "1.234,50"],
        ],
        delimiter=";",
    )
    report = run_import(store, [Extract.from_path(path, table="orders")])
    assert report.outcome.written, report.problems
    [(revenue, day)] = store.con.execute(
        "SELECT revenue::VARCHAR, ordered_at::DATE::VARCHAR FROM orders WHERE order_id = 'B-1'"
    ).fetchall()
    assert (revenue, day) == ("1234.5000", "2024-01-05")


# Valid rows or nothing; recorded; undone.


@pytest.fixture
def mixed_customers(tmp_path) -> Path:
    return write_csv(
        tmp_path / "new_customers.csv",
        [
            ["Customer ID", "created", "Country"],
            ["N-1", "2024-02-01", "DE"],
            ["N-2", "not a date", "FR"],
            ["N-3", "2024-02-03", "France"],
            ["N-4", "2024-02-04", "GB"],
            ["N-1", "2024-02-05", "GB"],
        ],
    )


def test_any_rejected_row_refuses_everything_unless_valid_rows_are_accepted(store, mixed_customers):
    before = fingerprint(store)
    refused = run_import(store, [Extract.from_path(mixed_customers)])
    assert not refused.outcome.written
    assert fingerprint(store) == before
    assert [(p.line, p.column, p.reason) for p in refused.problems] == [
        (3, "created", "not a date (ISO 8601 or DD/MM/YYYY)"),
        (4, "Country", "not an ISO 3166-1 alpha-2 country code"),
        (6, "Customer ID", "duplicate value (first on line 2)"),
    ]
    dry = run_import(store, [Extract.from_path(mixed_customers)], accept_valid=True, dry_run=True)
    assert not dry.outcome.written and fingerprint(store) == before
    assert dry.outcome.rows == {"customers": 2}
    taken = run_import(store, [Extract.from_path(mixed_customers)], accept_valid=True)
    outcome = taken.outcome
    assert outcome.written
    assert (outcome.rows_read, outcome.accepted, outcome.rejected) == (5, 2, 3)
    ids = store.con.execute(
        f'SELECT customer_id FROM customers WHERE "{IMPORT_ID}" = ? ORDER BY 1',
        [outcome.import_id],
    ).fetchall()
    assert ids == [("N-1",), ("N-4",)]


def test_imports_are_recorded_and_the_last_one_undone(store, mixed_customers):
    before = fingerprint(store, TABLE_ORDER)
    outcome = run_import(
        store, [Extract.from_path(mixed_customers)], accept_valid=True, actor="ana@example.org"
    ).outcome
    [record] = history.entries(store.con)
    assert record.import_id == outcome.import_id
    assert record.actor == "ana@example.org"
    assert record.mode == "append"
    assert record.rows == {"customers": 2}
    [entry] = record.files
    assert entry["name"] == "new_customers.csv"
    assert entry["sha256"] == hashlib.sha256(mixed_customers.read_bytes()).hexdigest()
    assert (entry["rows_read"], entry["accepted"], entry["rejected"]) == (5, 2, 3)
    assert entry["bytes"] == mixed_customers.stat().st_size
    assert abs((datetime.utcnow() - record.imported_at).total_seconds()) < 60
    undone = history.undo_last(store.con)
    assert undone.import_id == outcome.import_id
    assert fingerprint(store, TABLE_ORDER) == before
    with pytest.raises(history.UndoError, match="no import to undo"):
        history.undo_last(store.con)


def test_only_the_last_import_can_be_undone(store, tmp_path):
    first = write_csv(tmp_path / "a.csv", [["customer_id", "created_at"], ["A-1", "2024-01-01"]])
    second = write_csv(tmp_path / "b.csv", [["customer_id", "created_at"], ["B-1", "2024-01-01"]])
    run_import(store, [Extract.from_path(first, table="customers")])
    run_import(store, [Extract.from_path(second, table="customers")])
    history.undo_last(store.con)
    with pytest.raises(history.UndoError, match="only the last import can be undone"):
        history.undo_last(store.con)
    assert store.con.execute(
        "SELECT count(*) FROM customers WHERE customer_id IN ('A-1', 'B-1')"
    ).fetchall() == [(1,)]


def test_undoing_a_replace_restores_what_it_replaced(store, tmp_path):
    before = fingerprint(store, TABLE_ORDER)
    path = write_csv(tmp_path / "c.csv", [["customer_id", "created_at"], ["R-1", "2024-01-01"]])
    outcome = run_import(store, [Extract.from_path(path, table="customers")], replace=True).outcome
    assert store.row_counts()["customers"] == 1 and store.row_counts()["orders"] == 0
    assert history.entries(store.con)[0].mode == "replace"
    assert outcome.written
    history.undo_last(store.con)
    assert fingerprint(store, TABLE_ORDER) == before


def test_an_erasure_ends_the_undo_of_a_replace_and_refuses_the_person_row_by_row(store, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [["customer_id", "created_at"], ["E-1", "2024-01-01"], ["E-2", "2024-01-02"]],
    )
    run_import(store, [Extract.from_path(path, table="customers")], replace=True)
    store_path = store.path
    store.close()
    erase(store_path, ["E-1"])
    with open_store(store_path) as reopened:
        assert not reopened.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, '_replaced_')"
        ).fetchall()[0][0]
        with pytest.raises(history.UndoError, match="the rows it replaced are gone"):
            history.undo_last(reopened.con)
        again = write_csv(
            tmp_path / "again.csv",
            [["cust_no", "created"], ["E-1", "2024-01-01"], ["E-3", "2024-01-03"]],
        )
        report = run_import(
            reopened, [Extract.from_path(again, table="customers")], accept_valid=True
        )
        [problem] = report.problems
        assert (problem.line, problem.column) == (2, "cust_no")
        assert "erased" in problem.reason
        assert report.outcome.rows == {"customers": 1}


def test_demo_data_ends_the_undo(store, mixed_customers):
    run_import(store, [Extract.from_path(mixed_customers)], accept_valid=True)
    store.replace_all(generate(50, seed=1), info={"source": "demo"})
    with pytest.raises(history.UndoError, match="demo data replaced the store"):
        history.undo_last(store.con)


# Untrusted files, big files, templates, and the command.


def test_problems_and_notes_never_carry_a_value(store, tmp_path, caplog):
    secret = "SECRET-4711@example.org"
    path = write_csv(
        tmp_path / "leak.csv",
        [["customer_id", "created_at", "country"], [secret, secret, secret]],
    )
    report = run_import(store, [Extract.from_path(path, table="customers")])
    text = "\n".join([*map(str, report.problems), *report.notes, caplog.text])
    assert report.problems and secret not in text


def test_an_oversized_file_is_refused_before_reading(store, tmp_path):
    path = write_csv(tmp_path / "big.csv", [["customer_id"], ["x" * 2000]])
    report = run_import(store, [Extract.from_path(path, table="customers")], max_bytes=1000)
    [problem] = report.problems
    assert problem.line == 0 and "over the 1,000 bytes limit" in problem.reason
    assert report.outcome.rows_read == 0 and not report.outcome.written


def test_a_100k_row_extract_is_accounted_for_exactly(store, tmp_path):
    rows = [["Customer ID", "Signup Date", "E-mail"]]
    rows += [
        [f"X{i:07d}", f"{1 + i % 28:02d}/0{1 + i % 9}/2024", f"p{i}@x.org"] for i in range(100_000)
    ]
    rows[5001][1] = "31/02/2024"  # no such day
    path = write_csv(tmp_path / "crm_100k.csv", rows)
    report = run_import(store, [Extract.from_path(path)], accept_valid=True)
    outcome = report.outcome
    assert (outcome.rows_read, outcome.accepted, outcome.rejected) == (100_000, 99_999, 1)
    assert [(p.line, p.column) for p in outcome.problems] == [(5002, "Signup Date")]
    [(count, first)] = store.con.execute(
        f'SELECT count(*), min(customer_id) FROM customers WHERE "{IMPORT_ID}" = ?',
        [outcome.import_id],
    ).fetchall()
    assert (count, first) == (99_999, "X0000000")


def test_templates_are_canonical_and_the_samples_import_together(tmp_path):
    folder = tmp_path / "samples"
    folder.mkdir()
    for table in TABLE_ORDER:
        assert template_csv(table).decode().strip().split(",") == TABLES[table].column_names
        (folder / f"{table}.csv").write_bytes(sample_csv(table))
    with open_store(tmp_path / "empty.duckdb") as empty:
        outcome = run_import(
            empty, [Extract.from_path(folder / f"{t}.csv") for t in TABLE_ORDER]
        ).outcome
        assert outcome.written, outcome.problems
        assert outcome.rows["customers"] > 0 and outcome.rows["privacy_requests"] > 0
        assert empty.row_counts() == outcome.rows


def test_the_command_reports_refuses_and_accepts(seeded, tmp_path, mixed_customers, capsys):
    db = tmp_path / "cli.duckdb"
    shutil.copy(seeded, db)
    shutil.copy(seeded.with_name(seeded.name + ".key"), db.with_name(db.name + ".key"))
    with open_store(db) as opened:
        before = fingerprint(opened)
        tables_before = fingerprint(opened, TABLE_ORDER)
    # The command does not guess a table from a file name that is not one.
    assert main(["import", str(mixed_customers), "--db", str(db)]) == 2
    assert "name its table (--table" in capsys.readouterr().err
    table = ["--table", "customers"]
    assert main(["import", str(mixed_customers), "--db", str(db), "--dry-run", *table]) == 2
    out, err = capsys.readouterr()
    assert "rows read 5 = accepted 2 + rejected 3" in out
    assert "new_customers.csv, line 3, column created: not a date" in err
    assert main(["import", str(mixed_customers), "--db", str(db), *table]) == 2
    with open_store(db) as opened:
        assert fingerprint(opened) == before
    problems = tmp_path / "problems.csv"
    code = main(
        ["import", str(mixed_customers), "--db", str(db), "--accept-valid", *table]
        + ["--problems-csv", str(problems)]
    )
    assert code == 0
    out, _ = capsys.readouterr()
    assert "imported into" in out and "customers 2" in out
    with problems.open(encoding="utf-8") as handle:
        listed = list(csv.DictReader(handle))
    assert [(r["line"], r["column"]) for r in listed] == [
        ("3", "created"),
        ("4", "Country"),
        ("6", "Customer ID"),
    ]
    assert main(["imports", "list", "--db", str(db)]) == 0
    assert "new_customers.csv" in capsys.readouterr().out
    assert main(["imports", "undo", "--db", str(db)]) == 0
    with open_store(db) as opened:
        assert fingerprint(opened, TABLE_ORDER) == tables_before


def test_replacing_with_orders_alone_still_checks_their_customers(store, tmp_path):
    path = write_csv(
        tmp_path / "orders.csv",
        [["order_id", "customer_id", "ordered_at", "revenue"], ["O-1", "C-404", "2024-01-01", "5"]],
    )
    before = fingerprint(store)
    report = run_import(store, [Extract.from_path(path)], replace=True)
    assert [(p.line, p.column, p.reason) for p in report.problems] == [
        (2, "customer_id", "names no row of customers")
    ]
    assert fingerprint(store) == before


def test_two_files_of_one_name_are_refused(store, mixed_customers):
    before = fingerprint(store)
    twice = [Extract.from_path(mixed_customers), Extract.from_path(mixed_customers)]
    report = run_import(store, twice, accept_valid=True)
    outcome = report.outcome
    assert not outcome.written
    assert "two files of this name in one import" in [p.reason for p in report.problems]
    assert (outcome.rows_read, outcome.accepted, outcome.rejected) == (10, 0, 10)
    assert outcome.rows == {}
    assert fingerprint(store) == before


# Found in review: each case once wrong, now pinned.


def test_short_years_and_implausible_dates(store, tmp_path):
    path = write_csv(
        tmp_path / "short.csv",
        [
            ["customer_id", "created"],
            ["Y-1", "05/01/24"],
            ["Y-2", "1/5/24 14:30"],
            ["Y-3", "31/12/1850"],
            ["Y-4", "2024-01-05T10:00:00+02:00"],
        ],
    )
    report = run_import(store, [Extract.from_path(path, table="customers")], accept_valid=True)
    assert [(p.line, p.column) for p in report.problems] == [(4, "created")]
    rows = store.con.execute(
        "SELECT customer_id, created_at::VARCHAR FROM customers "
        f'WHERE "{IMPORT_ID}" = ? ORDER BY 1',
        [report.outcome.import_id],
    ).fetchall()
    assert rows == [
        ("Y-1", "2024-01-05 00:00:00"),
        ("Y-2", "2024-05-01 14:30:00"),
        ("Y-4", "2024-01-05 08:00:00"),
    ]


def test_a_year_in_a_workbook_date_column_is_no_serial_date(store, tmp_path):
    book = Workbook()
    book.active.append(["customer_id", "created_at"])
    book.active.append(["W-1", 2024])
    path = tmp_path / "years.xlsx"
    book.save(path)
    report = run_import(store, [Extract.from_path(path, table="customers")])
    [problem] = report.problems
    assert (problem.line, problem.column) == (2, "created_at")


def test_amounts_are_read_by_their_shape(store, tmp_path):
    customer = store.con.execute("SELECT min(customer_id) FROM customers").fetchall()[0][0]
    amounts = ["12.50", "1,234.56", "1.234,56", "1.234", "12,5", "1.2.3"]
    path = write_csv(
        tmp_path / "shop.csv",
        [["order_id", "customer_id", "ordered_at", "total"]]
        + [[f"S-{i}", customer, "2024-01-01", a] for i, a in enumerate(amounts)],
        delimiter=";",
    )
    report = run_import(store, [Extract.from_path(path, table="orders")], accept_valid=True)
    assert [(p.line, p.reason) for p in report.problems] == [(7, "not a decimal number")]
    rows = store.con.execute(
        "SELECT order_id, revenue::VARCHAR FROM orders WHERE order_id LIKE 'S-%' ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("S-0", "12.5000"),
        ("S-1", "1234.5600"),
        ("S-2", "1234.5600"),
        ("S-3", "1234.0000"),
        ("S-4", "12.5000"),
    ]


def test_a_wide_list_brings_new_decisions_of_known_customers(store, tmp_path):
    header = ["customer_id", "created_at", "email_opt_in", "consent_date"]
    first = write_csv(tmp_path / "jan.csv", [header, ["K-1", "2024-01-01", "yes", "2024-01-01"]])
    second = write_csv(
        tmp_path / "feb.csv",
        [header, ["K-1", "2024-01-01", "no", "2024-03-01"], ["K-2", "2024-02-01", "yes", ""]],
    )
    run_import(store, [Extract.from_path(first, table="customers")])
    report = run_import(store, [Extract.from_path(second, table="customers")], accept_valid=True)
    outcome = report.outcome
    assert outcome.rows == {"customers": 0, "consent_events": 1}
    assert [(p.line, p.column) for p in outcome.problems] == [(3, "consent_date")]
    assert (outcome.rows_read, outcome.accepted, outcome.rejected) == (2, 1, 1)
    assert any("name customers the store (or an earlier file" in n for n in report.notes)
    decisions = store.con.execute(
        "SELECT decision, occurred_at::DATE::VARCHAR FROM consent_events "
        "WHERE customer_id = 'K-1' ORDER BY 2"
    ).fetchall()
    assert decisions == [("granted", "2024-01-01"), ("denied", "2024-03-01")]


def test_a_replace_that_would_write_nothing_is_refused(store, tmp_path):
    before = fingerprint(store)
    path = write_csv(tmp_path / "bad.csv", [["customer_id", "created_at"], ["Z-1", "never"]])
    report = run_import(
        store, [Extract.from_path(path, table="customers")], replace=True, accept_valid=True
    )
    assert not report.outcome.written and report.outcome.blocked == "no row to import"
    assert fingerprint(store) == before


def test_a_mapping_naming_absent_headers_is_a_problem_and_saved_ones_fit_any_case(store, tmp_path):
    path = write_csv(tmp_path / "x.csv", [["customer id", "created"], ["M-1", "2024-01-01"]])
    given = mp.ColumnMapping("customers", {"Customer ID": "customer_id", "created": "created_at"})
    report = run_import(store, [Extract.from_path(path, mapping=given)])
    [problem] = report.problems
    assert (problem.column, problem.reason) == (
        "Customer ID",
        "the mapping names a column the file lacks",
    )
    mp.save(store.con, ["Customer ID", "Created"], given, "analyst")
    report = run_import(store, [Extract.from_path(path)])
    assert report.files[0].mapping_source == "saved"
    assert report.outcome.written, report.problems


def test_erasure_reaches_rows_a_replace_set_aside_and_saved_mappings(store, tmp_path):
    old = write_csv(
        tmp_path / "old.csv",
        [["customer_id", "created_at", "email"], ["gone-1", "2024-01-01", "gone1@example.org"]],
    )
    run_import(store, [Extract.from_path(old, table="customers")])
    headless = ["gone-1", "gone1@example.org"]
    mp.save(store.con, headless, mp.ColumnMapping("customers", {"gone-1": "customer_id"}), "a")
    new = write_csv(tmp_path / "new.csv", [["customer_id", "created_at"], ["N-9", "2024-01-01"]])
    run_import(store, [Extract.from_path(new, table="customers")], replace=True)
    path = store.path
    store.close()
    erase(path, ["gone-1"])
    with open_store(path) as reopened:
        assert reopened.con.execute("SELECT count(*) FROM saved_mappings").fetchall() == [(0,)]
    person = write_csv(
        tmp_path / "person.csv",
        [["customer_id", "created_at", "full_name"], ["24", "2024-01-01", "José García"]],
    )
    with open_store(path) as reopened:
        run_import(reopened, [Extract.from_path(person, table="customers")])
        # Whole values only, whatever their letters: "José García" goes, "2024" stays for "24".
        for headless in (["José García", "x"], ["customer_id", "2024"]):
            mapping = mp.ColumnMapping("customers", {headless[0]: "customer_id"})
            mp.save(reopened.con, headless, mapping, "a")
    erase(path, ["24"])
    with open_store(path) as reopened:
        kept = reopened.con.execute("SELECT headers FROM saved_mappings").fetchall()
        assert [json.loads(h) for (h,) in kept] == [["customer_id", "2024"]]
    store_files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    blob = b"".join(p.read_bytes() for p in store_files if p.is_file())
    assert b"gone1@example.org" not in blob


def test_canonical_files_with_broken_csv_are_refused_whole_even_when_accepting_valid(tmp_path):
    folder = tmp_path / "canon"
    folder.mkdir()
    (folder / "customers.csv").write_text(
        'customer_id,created_at\na1,2024-01-01\n\n"a2"x,2024-01-01\na3,2024-01-01\n'
    )
    with open_store(tmp_path / "c.duckdb") as opened:
        from data.intake.loader import ImportRejected, import_files

        with pytest.raises(ImportRejected):
            import_files(opened, [folder], accept_valid=True)
        assert opened.row_counts()["customers"] == 0


def test_bad_settings_and_mapping_files_are_usage_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONSENTLENS_MAX_UPLOAD_MB", "abc")
    path = write_csv(tmp_path / "c.csv", [["customer_id", "created_at"], ["a", "2024-01-01"]])
    db = str(tmp_path / "s.duckdb")
    with pytest.raises(SystemExit) as exit_:
        main(["import", str(path), "--db", db, "--table", "customers"])
    assert exit_.value.code == 2
    assert "must be a whole number" in capsys.readouterr().err
    monkeypatch.delenv("CONSENTLENS_MAX_UPLOAD_MB")
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"table": "customers", "columns": ["customer_id"]}))
    assert main(["import", str(path), "--db", db, "--mapping", str(mapping)]) == 2
    assert '"columns" must be an object of texts' in capsys.readouterr().err


def test_a_key_repeated_across_files_names_the_file_it_is_already_in(store, tmp_path):
    (stored,) = store.con.execute("SELECT min(customer_id) FROM customers").fetchall()[0]
    first = write_csv(
        tmp_path / "spring.csv",
        [["Customer ID", "created", "Country"], ["S-1", "2024-02-01", "DE"]],
    )
    second = write_csv(
        tmp_path / "summer.csv",
        [
            ["Customer ID", "created", "Country"],
            ["S-1", "2024-06-01", "DE"],
            [stored, "2024-06-02", "FR"],
            ["S-2", "2024-06-03", "FR"],
        ],
    )
    report = run_import(store, [Extract.from_path(first), Extract.from_path(second)])
    assert not report.outcome.written
    assert sorted((p.file, p.line, p.reason) for p in report.problems) == [
        (str(second), 2, f"value already in {first}"),
        (str(second), 3, "value already exists in the store"),
    ]


def test_the_audit_trail_has_the_checksums_of_the_files_imported_or_refused(
    seeded, tmp_path, mixed_customers
):
    db = tmp_path / "audited.duckdb"
    shutil.copy(seeded, db)
    shutil.copy(seeded.with_name(seeded.name + ".key"), db.with_name(db.name + ".key"))
    digest = hashlib.sha256(mixed_customers.read_bytes()).hexdigest()
    extract = ["import", str(mixed_customers), "--db", str(db), "--table", "customers"]
    assert main(extract) == 2
    assert main([*extract, "--accept-valid"]) == 0
    # A canonical file, refused: its rows name nobody.
    orders = write_csv(tmp_path / "orders.csv", [["order_id", "customer_id"], ["O-1", "nobody"]])
    assert main(["import", str(orders), "--db", str(db)]) == 2
    logged = [(e["action"], e["detail"]["files"]) for e in audit.entries(db)[-3:]]
    assert logged == [
        ("import refused", {"new_customers.csv": digest}),
        ("import", {"new_customers.csv": digest}),
        ("import refused", {"orders.csv": hashlib.sha256(orders.read_bytes()).hexdigest()}),
    ]


def test_a_folder_of_extracts_skips_files_that_are_not_extracts(seeded, tmp_path, capsys):
    db = tmp_path / "folder.duckdb"
    shutil.copy(seeded, db)
    shutil.copy(seeded.with_name(seeded.name + ".key"), db.with_name(db.name + ".key"))
    folder = tmp_path / "export"
    folder.mkdir()
    write_csv(folder / "crm.csv", [["Customer ID", "created"], ["F-1", "2024-02-01"]])
    mapping = mp.ColumnMapping("customers", {"Customer ID": "customer_id", "created": "created_at"})
    (folder / "crm.mapping.json").write_text(mapping.to_json(), encoding="utf-8")
    code = main(
        ["import", str(folder), "--db", str(db), "--mapping", str(folder / "crm.mapping.json")]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert f"{folder / 'crm.mapping.json'}: skipped (not an extract file" in err
    assert "customers 1" in out


def test_a_date_column_shared_by_flags_is_read_in_one_order(store, tmp_path):
    # 01/13 can only be month first; the SMS flag's only row (02/03) must follow its column.
    export = write_csv(
        tmp_path / "consents.csv",
        [
            ["customer_id", "email_opt_in", "sms_opt_in", "consent_date"],
            ["W-1", "yes", "", "01/13/2024"],
            ["W-2", "", "yes", "02/03/2024"],
            ["W-3", "yes", "", "03/04/2024"],
        ],
    )
    customers = write_csv(
        tmp_path / "people.csv",
        [["customer_id", "created_at"], *[[f"W-{n}", "2024-01-01"] for n in (1, 2, 3)]],
    )
    report = run_import(
        store,
        [
            Extract.from_path(customers, table="customers"),
            Extract.from_path(export, table="consent_events"),
        ],
    )
    assert report.outcome.written
    events = store.con.execute(
        "SELECT customer_id, occurred_at::DATE::VARCHAR FROM consent_events "
        f'WHERE "{IMPORT_ID}" = ? ORDER BY 1',
        [report.outcome.import_id],
    ).fetchall()
    assert events == [("W-1", "2024-01-13"), ("W-2", "2024-02-03"), ("W-3", "2024-03-04")]
    said = [n for n in report.notes if "consent_date" in n]
    assert len(said) == 1 and "MM/DD/YYYY" in said[0]


def test_the_synthetic_mark_follows_what_the_store_holds(store, tmp_path):
    assert store.synthetic()
    path = write_csv(tmp_path / "c.csv", [["customer_id", "created_at"], ["S-1", "2024-01-01"]])
    # Imported beside the demo's rows: the figures still come from generated people.
    run_import(store, [Extract.from_path(path, table="customers")])
    assert store.info()["source"] == "import" and store.synthetic()
    history.undo_last(store.con)
    # A replace sets the generated rows aside; undoing it brings them, and the mark, back.
    run_import(store, [Extract.from_path(path, table="customers")], replace=True)
    assert not store.synthetic()
    history.undo_last(store.con)
    assert store.synthetic()


def test_a_store_loaded_from_real_files_is_not_synthetic(tmp_path):
    with open_store(tmp_path / "real.duckdb") as store:
        store.replace_all(generate(20, seed=1), info={"source": "import"})
        assert not store.synthetic()
