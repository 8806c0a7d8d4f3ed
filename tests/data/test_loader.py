"""Canonical import: conversions by the schema, and rejections with file, line, column, reason."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data.intake.loader import ImportRejected, import_files
from tests.conftest import write_csvs

CUSTOMERS = """\
customer_id,created_at,country,state,segment,email
00123,2026-01-01T23:30:00-02:00,NA,,,first@example.org
 00124 ,2026-01-02,us,ca,premium,
"""


def rows(store, sql: str) -> list[tuple]:
    return store.con.execute(sql).fetchall()


def test_identifiers_countries_and_offsets_survive(store, tmp_path):
    import_files(store, write_csvs(tmp_path, {"customers": CUSTOMERS}))
    assert rows(
        store,
        "SELECT customer_id, created_at, country, state, segment FROM customers "
        "ORDER BY customer_id",
    ) == [
        ("00123", datetime(2026, 1, 2, 1, 30), "NA", None, "unknown"),
        ("00124", datetime(2026, 1, 2, 0, 0), "US", "CA", "premium"),
    ]


def test_synonyms_case_and_derived_status(store, tmp_path):
    files = {
        "customers": CUSTOMERS,
        "consent_events": """\
            customer_id,purpose,decision,occurred_at
            00123,Email_Marketing,Opt-In,2026-01-03
            00123,sms_marketing, revoked ,2026-01-03
            00124,analytics,N,2026-01-03
        """,
        "privacy_requests": """\
            request_id,customer_id,type,received_at,completed_at,status,extended
            r1,00123,Erasure,2026-01-05,,,
            r2,,ACCESS,2026-01-05,2026-01-06,,Yes
            r3,gone,objection,2026-01-05,,Rejected,0
        """,
        "orders": """\
            order_id,customer_id,ordered_at,revenue
            0001,,2026-01-04,19.99
        """,
    }
    import_files(store, write_csvs(tmp_path, files))
    assert rows(store, "SELECT purpose, decision FROM consent_events ORDER BY decision") == [
        ("analytics", "denied"),
        ("email_marketing", "granted"),
        ("sms_marketing", "withdrawn"),
    ]
    assert rows(
        store, "SELECT request_id, type, status, extended FROM privacy_requests ORDER BY request_id"
    ) == [
        ("r1", "erasure", "open", False),
        ("r2", "access", "completed", True),
        ("r3", "objection", "rejected", False),
    ]
    assert rows(store, "SELECT order_id, customer_id, revenue FROM orders") == [
        ("0001", None, Decimal("19.9900"))
    ]


def refused(store, tmp_path: Path, files: dict[str, str]) -> list[str]:
    before = store.row_counts()
    with pytest.raises(ImportRejected) as caught:
        import_files(store, write_csvs(tmp_path / "bad", files))
    assert store.row_counts() == before
    return [str(p) for p in caught.value.problems]


def test_every_problem_is_listed_with_file_line_column_and_reason(store, tmp_path):
    import_files(store, write_csvs(tmp_path, {"customers": CUSTOMERS}))
    problems = refused(
        store,
        tmp_path,
        {
            "orders": """\
            order_id,customer_id,ordered_at,revenue
            o1,00123,2026-01-01,abc
            o1,nobody,2026-13-01,-5
            o2,00123,,1
        """,
        },
    )
    name = str(tmp_path / "bad" / "orders.csv")
    assert problems == [
        f"{name}, line 2, column revenue: not a decimal number",
        f"{name}, line 3, column customer_id: names no row of customers",
        f"{name}, line 3, column order_id: duplicate value (first on line 2)",
        f"{name}, line 3, column ordered_at: not an ISO 8601 date or date-time",
        f"{name}, line 3, column revenue: must not be negative",
        f"{name}, line 4, column ordered_at: required value is missing",
    ]
    # Problems name columns and reasons, never the offending values.
    assert not any("abc" in p or "nobody" in p for p in problems)


def test_one_bad_file_refuses_the_whole_import(store, tmp_path):
    problems = refused(
        store,
        tmp_path,
        {
            "customers": CUSTOMERS,
            "consent_events": """\
            customer_id,purpose,decision,occurred_at
            00123,email_marketing,maybe,2026-01-03
        """,
        },
    )
    assert problems == [
        f"{tmp_path / 'bad' / 'consent_events.csv'}, line 2, column decision: not a consent "
        "decision (granted, denied, withdrawn or a synonym)"
    ]
    assert store.row_counts()["customers"] == 0


def test_line_numbers_count_quoted_newlines_and_blank_lines(store, tmp_path):
    problems = refused(
        store,
        tmp_path,
        {
            "customers": (
                "customer_id,created_at,full_name\n"
                '1,2026-01-01,"two\nlines"\n'
                "\n"
                "2,yesterday,x\n"
                "3,2026-01-01,x,surplus\n"
            ),
        },
    )
    name = tmp_path / "bad" / "customers.csv"
    assert problems == [
        f"{name}, line 5, column created_at: not an ISO 8601 date or date-time",
        f"{name}, line 6: expected 3 fields, found 4",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: file is empty (no header line)"),
        ("customer_id,country\n1,DE\n", "line 1, column created_at: required column is missing"),
        (
            "customer_id,created_at,country,country\n",
            "line 1, column country: column appears twice",
        ),
        (
            "customer_id,created_at,country\n1,2026-01-01,DEU\n",
            "line 2, column country: not an ISO 3166-1 alpha-2 country code",
        ),
        (
            "customer_id,created_at\n1,2026-01-01\n1,2026-01-02\n",
            "line 3, column customer_id: duplicate value (first on line 2)",
        ),
    ],
)
def test_header_and_value_rejections(store, tmp_path, text, expected):
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_files(store, [path])
    assert [str(p) for p in caught.value.problems] == [f"{path}, {expected}"]


def test_non_utf8_and_unknown_files_are_refused(store, tmp_path):
    latin = tmp_path / "customers.csv"
    latin.write_bytes(b"customer_id,created_at,full_name\n1,2026-01-01,Jos\xe9\n")
    stray = tmp_path / "people.csv"
    stray.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_files(store, [latin, stray, tmp_path / "missing.csv"])
    assert sorted(str(p) for p in caught.value.problems) == sorted(
        [
            f"{latin}, line 2: not UTF-8 text",
            f"{stray}, line 0: file name is not a canonical table (customers, consent_events, "
            "touchpoints, orders, privacy_requests, sharing)",
            f"{tmp_path / 'missing.csv'}, line 0: no such file",
        ]
    )


def test_keys_must_be_new_unless_replacing(store, tmp_path):
    paths = write_csvs(tmp_path, {"customers": CUSTOMERS})
    import_files(store, paths)
    with pytest.raises(ImportRejected) as caught:
        import_files(store, paths)
    assert {p.reason for p in caught.value.problems} == {"value already exists in the store"}
    result = import_files(store, paths, replace=True)
    assert result.rows == {"customers": 2}
    assert store.row_counts()["customers"] == 2


def test_parquet_is_read_as_text_and_reported_by_row(store, tmp_path):
    table = pa.table(
        {
            "customer_id": ["007", "008", "009"],
            "created_at": pa.array(
                [datetime(2026, 1, 1), None, datetime(2026, 2, 1)], pa.timestamp("us", tz="UTC")
            ),
            "country": ["NA", "BR", "GB"],
        }
    )
    path = tmp_path / "customers.parquet"
    pq.write_table(table, path)
    with pytest.raises(ImportRejected) as caught:
        import_files(store, [path])
    assert [str(p) for p in caught.value.problems] == [
        f"{path}, row 2, column created_at: required value is missing"
    ]
    pq.write_table(table.filter(pa.array([True, False, True])), path)
    import_files(store, [path])
    assert rows(store, "SELECT customer_id, created_at, country FROM customers ORDER BY 1") == [
        ("007", datetime(2026, 1, 1), "NA"),
        ("009", datetime(2026, 2, 1), "GB"),
    ]


def test_a_folder_imports_its_table_files_and_skips_the_rest(store, tmp_path):
    folder = tmp_path / "extract"
    write_csvs(folder, {"customers": CUSTOMERS})
    (folder / "README.txt").write_text("notes", encoding="utf-8")
    result = import_files(store, [folder])
    assert result.rows == {"customers": 2}
    assert result.notes == [f"{folder / 'README.txt'}: skipped (not a canonical table file)"]


def test_header_names_are_trimmed_and_case_folded_on_every_path(store, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        ' Customer_ID , created_at ,FULL_NAME\n1,2026-01-01,"two\nlines"\n2,2026-01-02,x\n',
        encoding="utf-8",
    )
    assert import_files(store, [path]).rows == {"customers": 2}
    assert rows(store, "SELECT customer_id, full_name FROM customers ORDER BY 1") == [
        ("1", "two\nlines"),
        ("2", "x"),
    ]


def test_a_reserved_or_case_duplicate_header_is_a_problem_not_a_crash(store, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,created_at,Country,country,__line\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_files(store, [path])
    assert [(p.column, p.reason) for p in caught.value.problems] == [
        ("__line", "reserved column name"),
        ("country", "column appears twice"),
    ]


def test_parquet_columns_of_any_arrow_type_are_read_or_refused_by_name(store, tmp_path):
    path = tmp_path / "customers.parquet"
    base = {
        "customer_id": ["C-1"],
        "created_at": ["2026-01-01"],
        "country": ["DE"],
        "jurisdiction": ["GDPR"],
    }
    # A nested column outside the schema is ignored, not a crash.
    pq.write_table(pa.table({**base, "tags": [[1, 2]]}), path)
    result = import_files(store, [path])
    assert result.rows == {"customers": 1}
    assert result.notes == [f"{path}: ignored columns not in the schema: tags"]
    # An identifier stored as bytes that are not text cannot be read as one.
    two = {key: values * 2 for key, values in base.items()}
    ids = pa.array([b"C-2", b"\xff\xfe"], pa.binary())
    pq.write_table(pa.table({**two, "customer_id": ids}), path)
    with pytest.raises(ImportRejected) as caught:
        import_files(store, [path], replace=True)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}, row 2, column customer_id: binary value that is not text"
    ]
