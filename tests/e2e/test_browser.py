"""The dashboard in a real browser: every page loads, charts draw, filters work, no errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from data.keys import key_path
from tests.e2e.conftest import streamlit_server, wait_for_app

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {  # url path -> (heading, screenshot name)
    "": ("Overview", "overview"),
    "consent-and-segments": ("Consent & segments", "consent"),
    "yes-maybe-no": ("Yes / maybe / no", "ymn"),
    "erasure-and-requests": ("Erasure & requests", "erasure"),
    "conversion-impact": ("Conversion impact", "impact"),
}


RIGHTS = {  # pages without charts: load and show no error
    "person-report": "What we know about you",
    "right-to-be-forgotten": "Right to be forgotten",
    "audit-trail": "Audit",
}


def no_errors(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)


@pytest.mark.parametrize("path", list(PAGES), ids=lambda p: p or "overview")
def test_each_page_loads_draws_its_charts_and_shows_no_error(page: Page, server: str, path: str):
    heading, shot = PAGES[path]
    page.goto(f"{server}/{path}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()
    charts = page.locator(".js-plotly-plot .main-svg")
    expect(charts.first).to_be_visible()
    no_errors(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A tall window: the app scrolls inside its own container, not the document.
    page.set_viewport_size({"width": 1400, "height": 2600})
    wait_for_app(page)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"))


@pytest.mark.parametrize("path", list(RIGHTS))
def test_rights_pages_load_in_local_mode(page: Page, server: str, path: str):
    page.goto(f"{server}/{path}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=RIGHTS[path], exact=True).first).to_be_visible()
    no_errors(page)


def customers_tile(page: Page) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="Customers").first
    return tile.locator('[data-testid="stMetricValue"]').inner_text()


def test_a_sidebar_filter_changes_the_figures_and_the_url(page: Page, server: str):
    page.goto(server)
    wait_for_app(page)
    before = customers_tile(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    box = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Country")
    box.click()
    # Countries read by name: typing the name finds the country.
    page.keyboard.type("Germany")
    page.get_by_role("option", name="Germany (DE)", exact=True).click()
    page.keyboard.press("Escape")
    expect(box).to_contain_text("Germany (DE)")
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"country=DE"))
    wait_for_app(page)
    expect(
        page.locator('[data-testid="stMetric"]').filter(has_text="Customers").first
    ).not_to_contain_text(before)
    no_errors(page)


def test_navigation_keeps_the_sidebar_and_its_filters(page: Page, server: str):
    page.goto(f"{server}/?country=FR")
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Yes / maybe / no").click()
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(
        sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Country")
    ).to_contain_text("France (FR)")
    no_errors(page)


def test_a_bookmarked_page_opens_as_the_first_visit_to_a_fresh_server(
    page: Page, demo_store: Path, tmp_path: Path
):
    """The server's first session must route like every later one: the page asked for, and no
    "Page not found" dialog over it."""
    store = tmp_path / "fresh.duckdb"
    shutil.copy(demo_store, store)
    shutil.copy(key_path(demo_store), key_path(store))
    with streamlit_server(store) as url:
        page.goto(f"{url}/erasure-and-requests")
        wait_for_app(page)
        expect(
            page.get_by_role("heading", name="Erasure & requests", exact=True).first
        ).to_be_visible()
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        expect(page.get_by_role("dialog")).to_have_count(0)
        no_errors(page)


def test_a_link_with_unusable_settings_opens_with_a_notice_and_the_rest_applied(
    page: Page, server: str
):
    page.goto(f"{server}/?start=2024-13-45&country=DE&country=Atlantis&colour=%3Cb%3Ex%3C%2Fb%3E")
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("Some of this link could not be used")
    expect(main).to_contain_text("is not a date like 2025-01-31; the default was used instead")
    expect(main).to_contain_text("“Atlantis” is not in the data; it was left out")
    expect(main).to_contain_text("is not one the dashboard knows; it was ignored")
    # The usable part applies: the country filter, and the address says what is shown.
    expect(page).to_have_url(re.compile(r"country=DE"))
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("DE")
    expect(page.locator('[data-testid="stMetricValue"]').first).to_be_visible()
    no_errors(page)


def test_link_to_this_view_restores_every_control_in_a_fresh_browser(
    page: Page, browser, server: str
):
    page.goto(f"{server}/consent-and-segments?country=FR")
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("combobox", name=re.compile("Break down by")).click()
    page.keyboard.type("Country")
    page.keyboard.press("Enter")
    wait_for_app(page)
    main.get_by_text("Week", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Link to this view").click()
    link = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').inner_text()
    link = link.strip()
    assert link.startswith(f"{server}/consent-and-segments?"), link
    for part in ("country=FR", "consent_dimension=country", "consent_grain=week"):
        assert part in link, link
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = fresh.new_page()
        other.goto(link)
        wait_for_app(other)
        again = other.locator('[data-testid="stMain"]')
        expect(again.get_by_role("combobox", name=re.compile("Break down by"))).to_have_value(
            "Country"
        )
        expect(again.get_by_role("radio", name="Week")).to_be_checked()
        expect(
            other.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
                has_text="Country"
            )
        ).to_contain_text("France (FR)")
        # A value the link did not carry would have been written back as the default.
        expect(other).to_have_url(re.compile(r"consent_dimension=country"))
        no_errors(other)
    finally:
        fresh.close()
