"""The dashboard in a real browser: every page loads, charts draw, filters work, no errors."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from data.storage.keys import key_path
from data.storage.store import open_store
from pages import _labels as labels
from pages import _links as links
from tests.e2e.conftest import DEMO_ACTOR, streamlit_server, wait_for_app

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {  # url path -> (heading, screenshot name)
    "": ("Overview", "overview"),
    "consent-and-segments": ("Consent & segments", "consent"),
    "yes-maybe-no": ("Yes / maybe / no", "ymn"),
    "erasure-and-requests": ("Erasure & requests", "erasure"),
    "conversion-impact": ("Conversion impact", "impact"),
}


RIGHTS = {  # pages without charts: load and show no error; url path -> (heading, screenshot)
    "person-report": ("What we know about you", "person"),
    "right-to-be-forgotten": ("Right to be forgotten", "forget"),
    "audit-trail": ("Audit", "audit"),
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
    heading, shot = RIGHTS[path]
    page.goto(f"{server}/{path}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()
    main = page.locator('[data-testid="stMain"]')
    if path == "audit-trail":
        expect(main).to_contain_text("The log is intact")
        expect(main.locator('[data-testid="stDataFrame"]')).to_be_visible()
        # The demo's entry names the test's own actor, not the person running the tests.
        actors = main.locator('[data-testid="stMultiSelect"]').filter(has_text="Actors")
        expect(actors).to_contain_text(DEMO_ACTOR)
    else:
        # Before any look-up: the field is empty and says what an id looks like, never one.
        field = main.get_by_label(re.compile(r"^Customer ID"))
        expect(field).to_have_value("")
        expect(field).to_have_attribute("placeholder", re.compile(r"^Format: "))
        expect(main).to_contain_text("Customer IDs in this store look like")
    no_errors(page)
    # As the dashboards' shots: 1400 px wide, a tall window.
    page.set_viewport_size({"width": 1400, "height": 2600})
    wait_for_app(page)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"))


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


@dataclass(frozen=True)
class Change:
    """A page's own control set to a value other than its default, as a reader sets it."""

    key: str  # the widget's key: the link's parameter (pages/_links.PAGE_CONTROLS)
    label: str  # the control's label
    widget: str  # "select" (a select box) or "radio"
    default: str  # what the page shows before the change
    shown: str  # what the page shows after it
    value: str  # how the link carries it
    options: tuple[str, ...] = ()  # every choice a select box lists, in order, when checked


@pytest.fixture(scope="module")
def currencies(demo_store: Path) -> list[str]:
    """The currencies the demo's orders are recorded in, the commonest first."""
    with open_store(demo_store, read_only=True) as store:
        rows = store.con.execute(
            "SELECT currency FROM orders WHERE currency IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC, 1"
        ).fetchall()
    return [code for (code,) in rows]


def changes(page: str, currencies: list[str]) -> list[Change]:
    """Every control of a dashboard (by its key in PAGE_CONTROLS), in the order a reader meets
    them, each moved off its default."""
    commonest, other = currencies[0], currencies[1]
    currency = Change(
        "currency",
        "Currency",
        "select",
        labels.currency(commonest),
        labels.currency(other),
        other,
        # Every currency of the store's orders, by name, the commonest first.
        tuple(labels.currency(code) for code in currencies),
    )
    return {
        "home": [currency],
        "consent-and-segments": [
            Change("consent_dimension", "Break down by", "select", "Segment", "Country", "country"),
            Change("consent_grain", "Per", "radio", "Month", "Week", "week"),
        ],
        "yes-maybe-no": [currency],
        "erasure-and-requests": [
            Change("erasure_grain", "Per", "radio", "Month", "Week", "week"),
            Change(
                "erasure_by",
                "Broken down by",
                "radio",
                "Request type",
                "Jurisdiction (erasure requests)",
                "jurisdiction",
            ),
        ],
        "conversion-impact": [
            Change(
                "impact_by",
                "Group customers by",
                "radio",
                "Yes / maybe / no",
                "Consent to one purpose",
                "state",
            ),
            # Shown once customers are grouped by one purpose; the first marketing one first.
            Change(
                "impact_purpose",
                "Purpose",
                "select",
                "Email marketing",
                "SMS marketing",
                "sms_marketing",
            ),
            currency,
        ],
    }[page]


def showing(page: Page, change: Change, text: str) -> None:
    """The control shows `text` as its value."""
    main = page.locator('[data-testid="stMain"]')
    if change.widget == "select":
        expect(main.get_by_role("combobox", name=change.label, exact=True)).to_have_value(text)
    else:
        group = main.get_by_role("radiogroup", name=change.label, exact=True)
        expect(group.get_by_role("radio", name=text, exact=True)).to_be_checked()


def make(page: Page, change: Change) -> None:
    """Set the control as a reader does: open the box and click the option, or click the
    radio's label."""
    main = page.locator('[data-testid="stMain"]')
    if change.widget == "select":
        box = main.get_by_role("combobox", name=change.label, exact=True)
        # A list opened while the page still scrolls to the box closes again: scroll first.
        box.scroll_into_view_if_needed()
        box.click()
        if change.options:
            expect(page.get_by_role("option")).to_have_text(list(change.options))
        page.get_by_role("option", name=change.shown, exact=True).click()
    else:
        group = main.get_by_role("radiogroup", name=change.label, exact=True)
        group.get_by_text(change.shown, exact=True).click()
    wait_for_app(page)
    showing(page, change, change.shown)


# pages/_links.PAGE_CONTROLS names the Overview "home"; it is served at the root.
PAGES_BY_KEY = {key: key if key != "home" else "" for key in links.PAGE_CONTROLS}


def test_every_dashboard_has_its_controls_checked_below():
    assert set(links.PAGE_CONTROLS) == {p or "home" for p in PAGES}


@pytest.mark.parametrize("key", list(links.PAGE_CONTROLS))
def test_link_to_this_view_restores_every_control_in_a_fresh_browser(
    page: Page, browser, server: str, currencies: list[str], key: str
):
    path = PAGES_BY_KEY[key]
    made = changes(key, currencies)
    assert [c.key for c in made] == list(links.PAGE_CONTROLS[key])
    page.goto(f"{server}/{path}?country=FR")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=PAGES[path][0], exact=True).first).to_be_visible()
    for change in made:
        # Each starts at its default (the Currency box at the commonest currency) and moves.
        showing(page, change, change.default)
        make(page, change)
    page.get_by_role("button", name="Link to this view").click()
    link = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').inner_text()
    link = link.strip()
    base = f"{server}/{path}" if path else server
    assert link.startswith(f"{base}?"), link
    carried = parse_qs(urlsplit(link).query)
    assert carried == {"country": ["FR"], **{c.key: [c.value] for c in made}}, link
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = fresh.new_page()
        other.set_default_timeout(60_000)
        other.goto(link)
        wait_for_app(other)
        expect(other.get_by_role("heading", name=PAGES[path][0], exact=True).first).to_be_visible()
        for change in made:
            showing(other, change, change.shown)
        expect(
            other.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
                has_text="Country"
            )
        ).to_contain_text("France (FR)")
        # A value the link did not carry would have been written back as the default, and one
        # the page could not use named in a notice.
        main = other.locator('[data-testid="stMain"]')
        expect(main).not_to_contain_text("could not be used")
        expect(main).not_to_contain_text("is not one this page offers")
        assert parse_qs(urlsplit(other.url).query) == carried, other.url
        no_errors(other)
    finally:
        fresh.close()
