"""Board-ready pictures: every dashboard chart says under its title the period, the filters,
the source and, on generated data, "Synthetic data"; the PNG its toolbar downloads is that
chart at twice the screen's resolution, named after it (and `_synthetic`)."""

from __future__ import annotations

import json

import pytest

from pages import _widgets as w
from tests.pages.test_wording import DASHBOARDS


def charts(at) -> list[tuple[dict, dict, str]]:
    return [
        (json.loads(c.proto.spec), json.loads(c.proto.config), c.proto.id)
        for c in at.get("plotly_chart")
    ]


# Filters, except on the Erasure page: on the small demo its filtered counts are all withheld,
# and no chart is drawn.
FILTERED = {"country": ["DE", "FR", "US"], "channel": ["paid_search", "organic_search"]}
SHOWN = [
    "Country: Germany (DE), France (FR), United States (US)",
    "Acquisition channel: Paid search, Organic search",
]


@pytest.mark.parametrize("page", DASHBOARDS)
def test_every_chart_names_its_view_and_says_synthetic(app, page):
    wider = page == "pages/erasure.py"
    at = app(page, query={} if wider else FILTERED)
    assert not at.exception
    params = at.session_state["params"]
    drawn = charts(at)
    assert drawn, page
    for spec, config, _ in drawn:
        title = spec["layout"]["title"]
        assert title["text"], page
        note = title["subtitle"]["text"]
        assert all(len(line) <= w.NOTE_WIDTH for line in note.split("<br>"))
        note = note.replace("<br>", " ")
        start, end = params.start, params.end
        assert f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}" in note
        for shown in ["all customers"] if wider else SHOWN:
            assert shown in note, page
        assert "source: the ConsentLens store" in note
        assert "Synthetic data" in note
        image = config["toImageButtonOptions"]
        assert image["format"] == "png" and image["scale"] == 2
        assert image["filename"].endswith("_synthetic")


def test_without_filters_the_note_says_all_customers_and_the_purposes_chosen(app):
    at = app("pages/consent.py")
    notes = {
        spec["layout"]["title"]["subtitle"]["text"].replace("<br>", " ")
        for spec, _, _ in charts(at)
    }
    assert all("all customers" in n and "purposes:" not in n for n in notes)
    at.sidebar.multiselect(key="purpose").unselect("analytics").run()
    assert not at.exception
    notes = {
        spec["layout"]["title"]["subtitle"]["text"].replace("<br>", " ")
        for spec, _, _ in charts(at)
    }
    assert all("purposes: Email marketing" in n and "Analytics" not in n for n in notes)


def test_the_note_of_real_data_has_no_synthetic_mark(app):
    from metrics import api

    at = app()
    info = at.session_state["summary"]
    params = at.session_state["params"]
    real = api.StoreSummary(**{**info.__dict__, "info": {"source": "import"}})
    assert w.synthetic(info) and not w.synthetic(real)
    assert "Synthetic data" not in w.picture_note(real, params)
    assert "Synthetic data" in w.picture_note(info, params)
