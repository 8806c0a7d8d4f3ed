"""Upload data in a real browser: a CSV and an Excel workbook through the file input, the
report checked, the valid rows imported, and the Overview counting the new customers."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import Browser, Page, expect

from consentlens.access import LOCAL_EXACT_ENV
from data.storage.keys import key_path
from data.storage.store import open_store
from tests.e2e.conftest import streamlit_server, wait_for_app
from tests.e2e.layout import VIEWPORTS, assert_fits, settle
from tests.e2e.test_browser import SCREENSHOTS, customers_tile, no_errors

# Five new customers under an analyst's headers, and one whose sign-up date is no date.
CRM = (
    b"Customer ID;E-mail;created;Country\n"
    b"E0001;ann@example.com;2024-03-01;DE\n"
    b"E0002;bob@example.com;02/03/2024;FR\n"
    b"E0003;cy@example.com;2024-03-03;US\n"
    b"E0004;di@example.com;2024-03-04;GB\n"
    b"E0005;ed@example.com;2024-03-05;NL\n"
    b"E0006;fay@example.com;someday;DE\n"
)


def members_workbook() -> bytes:
    """Three more customers, as an Excel export with real dates."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Members"
    sheet.append(["Member ID", "Email Address", "Signup Date", "Country Code"])
    for n in range(1, 4):
        sheet.append([f"X000{n}", f"m{n}@example.com", datetime(2024, 4, n, 9, 30), "DE"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def upload_server(demo_store: Path, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A dashboard of its own over a copy of the demo store, so its imports stay there; with
    exact counts, so that an import's rows show up one for one."""
    store = tmp_path_factory.mktemp("upload") / "upload.duckdb"
    shutil.copy(demo_store, store)
    shutil.copy(key_path(demo_store), key_path(store))
    with streamlit_server(store, env={LOCAL_EXACT_ENV: "1"}) as url:
        yield url, store


def tile(page: Page) -> int:
    return int(customers_tile(page).replace(",", ""))


def test_upload_a_csv_and_a_workbook_check_and_import_the_valid_rows(
    page: Page, upload_server: tuple[str, Path]
):
    url, _ = upload_server
    page.goto(url)
    wait_for_app(page)
    before = tile(page)

    page.goto(f"{url}/upload-data")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Upload data", exact=True).first).to_be_visible()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [
            {"name": "crm_contacts.csv", "mimeType": "text/csv", "buffer": CRM},
            {
                "name": "members.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": members_workbook(),
            },
        ]
    )
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("Detected: CSV, semicolon-separated, UTF-8, 6 rows")
    expect(main).to_contain_text('Detected: Excel workbook, sheet "Members", 3 rows')
    no_errors(page)

    page.get_by_role("button", name="Check", exact=True).click()
    wait_for_app(page)
    expect(main).to_contain_text("Rows read 9 = accepted 8 + rejected 1")
    expect(main).to_contain_text("Download the problems (CSV)")
    page.set_viewport_size({"width": 1400, "height": 3200})
    wait_for_app(page)
    page.screenshot(path=str(SCREENSHOTS / "upload.png"))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the problems (CSV)").click()
    problems = Path(download.value.path()).read_text(encoding="utf-8")
    assert problems.splitlines() == [
        "file,unit,line,column,reason",
        "crm_contacts.csv,line,7,created,not a date (ISO 8601 or DD/MM/YYYY)",
    ]

    page.get_by_role("button", name="Import the 8 valid rows").click()
    wait_for_app(page)
    expect(main).to_contain_text("Imported as import 1: 8 customers; 1 rejected row(s) left out.")
    no_errors(page)

    page.goto(url)
    wait_for_app(page)
    expect(
        page.locator('[data-testid="stMetric"]').filter(has_text="Customers").first
    ).to_contain_text(f"{before + 8:,}")
    no_errors(page)


def test_the_templates_download_from_the_page(page: Page, upload_server: tuple[str, Path]):
    url, _ = upload_server
    page.goto(f"{url}/upload-data")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Templates", exact=True)).to_be_visible()
    # The customers row's own button, by its key: a rerun that is still drawing can leave
    # another table's button first in the page for a moment.
    button = page.locator(".st-key-upload_template_customers").get_by_role("button")
    button.scroll_into_view_if_needed()
    wait_for_app(page)
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == "customers.template.csv"
    header = Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("customer_id,")


SHOPIFY = (
    b"Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Country Code,"
    b"Accepts SMS Marketing,Total Spent,Total Orders\n"
    b"'880001,Ada,Lovelace,ada@shop.example,yes,GB,no,10.00,1\n"
    b"'880002,Bob,Byte,bob@shop.example,no,US,yes,0.00,0\n"
)
MAILCHIMP = (
    b'"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,'
    b"CONFIRM_IP,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS\n"
    b'ADA@shop.example,Ada,,2,"2024-01-02 10:00:00",,"2024-01-02 10:05:00",,,,,gb,,'
    b'"2024-03-01 09:00:00",1,a1,,\n'
    b'new@shop.example,,,2,,,,,,,,,,"2024-02-01 09:00:00",2,a2,,\n'
)


def test_upload_a_shopify_and_a_mailchimp_export_as_they_are(
    page: Page, upload_server: tuple[str, Path]
):
    url, store = upload_server
    page.goto(f"{url}/upload-data")
    wait_for_app(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [
            {"name": "customers_export_2024-06-01.csv", "mimeType": "text/csv", "buffer": SHOPIFY},
            {
                "name": "subscribed_email_audience_export_e6074aaf6f.csv",
                "mimeType": "text/csv",
                "buffer": MAILCHIMP,
            },
        ]
    )
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("the Shopify customers export, recognised by its columns")
    expect(main).to_contain_text(
        "the Mailchimp subscribed members export, recognised by its columns"
    )
    expect(main).to_contain_text(
        "Accepts Email Marketing: read as an opt-in of email_marketing: yes means granted, no or "
        "false or empty no decision"
    )
    # The decision date of Shopify's undated export comes from the file's name.
    field = "Decision date of flags the file does not date"
    for part, value in (("year", "2024"), ("month", "06"), ("day", "01")):
        expect(page.get_by_role("spinbutton", name=f"{part}, {field}")).to_have_text(value)
    no_errors(page)
    page.get_by_role("button", name="Check", exact=True).click()
    wait_for_app(page)
    expect(main).to_contain_text("Rows read 4 = accepted 4 + rejected 0")
    page.get_by_role("button", name="Import", exact=True).click()
    wait_for_app(page)
    expect(main).to_contain_text("3 customers, 4 consent events")
    no_errors(page)
    with open_store(store, read_only=True) as s:
        people = s.con.execute(
            "SELECT email, count(*) FROM customers WHERE email LIKE '%@shop.example' GROUP BY 1 "
            "ORDER BY 1"
        ).fetchall()
    # Ada is one customer, from both exports.
    assert people == [("ada@shop.example", 1), ("bob@shop.example", 1), ("new@shop.example", 1)]


def layout_extract(size: str) -> bytes:
    """Two new customers under an analyst's headers, their ids apart for each window size."""
    tag = size.replace("x", "")
    return (
        b"Customer ID;E-mail;created;Country\n"
        + f"H{tag}1;h1.{tag}@example.com;2024-05-01;DE\n".encode()
        + f"H{tag}2;h2.{tag}@example.com;2024-05-02;FR\n".encode()
    )


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_import_report_and_history_fit_the_window(
    browser: Browser, upload_server: tuple[str, Path], size: str
):
    """After an import through the page, its report and the import history (a table of nine
    columns) fit a laptop's and a desktop's window: nothing cut off or spilling."""
    url, _ = upload_server
    width, height = VIEWPORTS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{url}/upload-data")
        wait_for_app(page)
        name = f"crm_contacts_{size}.csv"
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            [{"name": name, "mimeType": "text/csv", "buffer": layout_extract(size)}]
        )
        wait_for_app(page)
        page.get_by_role("button", name="Check", exact=True).click()
        wait_for_app(page)
        main = page.locator('[data-testid="stMain"]')
        expect(main).to_contain_text("Rows read 2 = accepted 2 + rejected 0")
        page.get_by_role("button", name="Import", exact=True).click()
        wait_for_app(page)
        expect(main).to_contain_text("2 customers")
        # The history table (the one with a "When (UTC)" column) lists this import's file.
        # (The grid is drawn on a canvas; its cells are kept in a table hidden from sight.)
        history = main.locator('[data-testid="stDataFrame"]').filter(
            has=page.locator('[role="columnheader"]', has_text="When (UTC)")
        )
        expect(history.locator('[role="gridcell"]').filter(has_text=name)).to_have_count(1)
        expect(
            page.get_by_role("checkbox", name=re.compile(r"^Yes, take import \d+ back out"))
        ).to_be_visible()
        no_errors(page)
        settle(page)
        assert_fits(page, f"Upload data after an import at {size}")
    finally:
        context.close()
