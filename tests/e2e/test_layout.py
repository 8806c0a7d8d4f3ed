"""Layout in a real browser, on a laptop (1366 x 768) and a desktop (1920 x 1080), over every
page: nothing cut off, nothing spilling out of its column or making the page scroll sideways,
no chart text drawn over other chart text, and no stored name where a label belongs.

Each page is measured in the page itself (tests/e2e/layout.js) once it has finished drawing;
a failure names the page, the size, the element and its text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from data.storage.store import open_store
from tests.e2e.conftest import wait_for_app
from tests.e2e.layout import VIEWPORTS, assert_fits, settle
from tests.e2e.test_browser import no_errors

PAGES = {  # url path -> heading; every page of the app's navigation (app.py)
    "": "Overview",
    "consent-and-segments": "Consent & segments",
    "yes-maybe-no": "Yes / maybe / no",
    "erasure-and-requests": "Erasure & requests",
    "conversion-impact": "Conversion impact",
    "upload-data": "Upload data",
    "person-report": "What we know about you",
    "right-to-be-forgotten": "Right to be forgotten",
    "audit-trail": "Audit",
    # Last: a tab that opened a scenario stays in training for the pages after it.
    "training-mode": "Training",
    "training-mode?scenario=channel_mix_trap": "Training",
    "conversion-impact?scenario=channel_mix_trap": "Conversion impact",
}
# An extract to check on the Upload page (checked, not imported): its report's tables.
EXTRACT = (
    b"Customer ID;E-mail;created;Country\n"
    b"L0001;ann@example.com;2024-03-01;DE\n"
    b"L0002;bob@example.com;someday;FR\n"
)


@pytest.fixture(scope="module")
def person(demo_store: Path) -> str:
    """A customer with something in every part of the report: consent, sharing, requests."""
    with open_store(demo_store, read_only=True) as store:
        (customer,) = store.con.execute(
            "SELECT c.customer_id FROM customers c "
            "JOIN privacy_requests r USING (customer_id) "
            "JOIN sharing s USING (customer_id) "
            "JOIN consent_events e USING (customer_id) "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
    return customer


@pytest.fixture(scope="module")
def tabs(browser: Browser) -> Iterator[dict[str, Page]]:
    """One browser context per window size, its one tab visiting the pages in turn."""
    opened: dict[str, Page] = {}
    contexts = []
    for name, (width, height) in VIEWPORTS.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        opened[name] = tab
    yield opened
    for context in contexts:
        context.close()


def open_page(page: Page, server: str, path: str, person: str) -> None:
    page.goto(f"{server}/{path}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=PAGES[path], exact=True).first).to_be_visible()
    if path == "person-report":
        page.get_by_label("Customer ID").fill(person)
        page.get_by_role("button", name="Look up").click()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Consent history")).to_be_visible()
    elif path == "upload-data":
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            [{"name": "crm_contacts.csv", "mimeType": "text/csv", "buffer": EXTRACT}]
        )
        wait_for_app(page)
        page.get_by_role("button", name="Check", exact=True).click()
        wait_for_app(page)
        expect(page.locator('[data-testid="stMain"]')).to_contain_text("Rows read 2")
    elif PAGES[path] in {"Overview", "Consent & segments", "Yes / maybe / no"}:
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    settle(page)


@pytest.mark.parametrize("path", list(PAGES), ids=lambda p: p or "overview")
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_nothing_cut_off_spilling_overlapping_or_named_by_its_stored_name(
    tabs: dict[str, Page], server: str, person: str, size: str, path: str
):
    page = tabs[size]
    open_page(page, server, path, person)
    no_errors(page)
    assert_fits(page, f"{PAGES[path]} at {size}")
