"""The layout checks of the browser tests, shared by the pages that run them: the window
sizes, waiting until a page has finished drawing, and the in-page measurement
(tests/e2e/layout.js) with its verdict."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.conftest import wait_for_app
from tests.internal_names import INTERNAL

VIEWPORTS = {"1366x768": (1366, 768), "1920x1080": (1920, 1080)}
CHECKS = (Path(__file__).with_name("layout.js")).read_text(encoding="utf-8")


def settle(page: Page) -> None:
    """Until the run is over, every chart is drawn and the fonts are in."""
    wait_for_app(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".every(p => p.querySelector('.main-svg .gtitle, .main-svg .cartesianlayer, "
        ".main-svg .sankey, .main-svg .funnellayer'))"
    )
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.wait_for_timeout(500)
    wait_for_app(page)


def assert_fits(page: Page, where: str) -> dict:
    """Measure the page as it is drawn now: nothing cut off, spilling, overlapping or named by
    its stored name; a failure names `where`, the element, its text and the measurement.
    Returns what was measured."""
    found = page.evaluate(CHECKS, sorted(INTERNAL))
    assert found["checked"]["text"] > 0, f"{where}: no text measured"
    assert not found["problems"], f"{where}:\n" + "\n".join(found["problems"])
    return found["checked"]
