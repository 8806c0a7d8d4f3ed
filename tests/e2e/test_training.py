"""Training mode in the browser: a link with ?scenario=, the banner on every dashboard while
navigating, a tour walked end to end, an exercise answered, an unknown scenario."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from consentlens import training
from pages._routes import PAGES
from tests.e2e.conftest import wait_for_app
from tests.e2e.test_browser import no_errors

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BANNER = "Training: synthetic data."


def _main(page: Page):
    return page.locator('[data-testid="stMain"]')


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_a_trainer_walks_the_tour_and_a_trainee_answers(page: Page, server: str):
    page.goto(f"{server}/training-mode?scenario=channel_mix_trap")
    wait_for_app(page)
    title = training.SCENARIO_DETAILS["channel_mix_trap"].title
    expect(_main(page)).to_contain_text(BANNER)
    expect(page.get_by_role("heading", name=f"{title} (a trap)")).to_be_visible()
    no_errors(page)
    page.set_viewport_size({"width": 1400, "height": 2400})
    wait_for_app(page)
    page.screenshot(path=str(SCREENSHOTS / "training.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    steps = training.TOURS["channel_mix_trap"]
    page.get_by_role("button", name="Start the tour").click()
    for number, step in enumerate(steps, start=1):
        wait_for_app(page)
        expect(_main(page)).to_contain_text(f"Tour, step {number} of {len(steps)}.")
        expect(_main(page)).to_contain_text(step.look_at)
        expect(_main(page)).to_contain_text(BANNER)
        assert _query(page).get("scenario") == ["channel_mix_trap"]
        no_errors(page)
        if number == 2:
            page.set_viewport_size({"width": 1400, "height": 1400})
            wait_for_app(page)
            page.screenshot(path=str(SCREENSHOTS / "tour.png"))
        last = number == len(steps)
        page.get_by_role("button", name="Finish the tour" if last else "Next step").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Guided tour")).to_be_visible()

    # The trap's second question, answered as the raw figures suggest: wrong.
    page.get_by_text(training.MOST_REMAINS, exact=True).click()
    wait_for_app(page)
    checks = page.get_by_role("button", name="Check", exact=True)
    checks.nth(1).click()
    wait_for_app(page)
    expect(_main(page)).to_contain_text("Not quite: the answer is " + training.MOST_GOES)
    expect(_main(page)).to_contain_text("Progress: 0 of 2")


def test_navigation_keeps_the_scenario_and_its_banner_on_every_dashboard(page: Page, server: str):
    page.goto(f"{server}/?scenario=baseline")
    wait_for_app(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    # Only the dashboards and the Training page are offered while training.
    expect(nav.get_by_text("Upload data")).to_have_count(0)
    expect(nav.get_by_text("Audit")).to_have_count(0)
    for _path, title, *_ in PAGES["Dashboards"][1:]:
        nav.get_by_text(title, exact=True).click()
        wait_for_app(page)
        expect(_main(page)).to_contain_text(BANNER)
        expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible()
        assert _query(page).get("scenario") == ["baseline"], page.url
        no_errors(page)
    page.get_by_role("button", name="Leave training").click()
    wait_for_app(page)
    expect(_main(page)).not_to_contain_text(BANNER)
    expect(nav.get_by_text("Upload data")).to_have_count(1)


def test_an_unknown_scenario_lists_the_valid_ones(page: Page, server: str):
    page.goto(f"{server}/yes-maybe-no?scenario=nope")
    wait_for_app(page)
    error = page.locator('[data-testid="stAlertContentError"]')
    expect(error).to_contain_text("Valid scenarios")
    for name in training.SCENARIOS:
        expect(error).to_contain_text(name)
    expect(page.locator(".js-plotly-plot")).to_have_count(0)
