"""Consent & segments page: renders, reacts to filters and widgets, shows what metrics publish,
never shows a withheld value."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace

import numpy as np

from metrics import api
from metrics import consent_views as cv
from metrics.suppression import WITHHELD
from tests.pages.conftest import stored

PAGE = "pages/consent.py"


def texts(at) -> list[str]:
    elements = [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption, *at.info]
    return [e.value for e in elements]


def tables(at) -> list:
    return [stored(d.value) for d in at.dataframe]


def specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def trace_numbers(spec: dict) -> list[float]:
    out: list[float] = []
    for trace in spec["data"]:
        for attr in ("x", "y", "customdata", "text"):
            value = trace.get(attr)
            if isinstance(value, dict) and "bdata" in value:
                raw = base64.b64decode(value["bdata"])
                out += np.frombuffer(raw, dtype=value["dtype"]).tolist()
            elif isinstance(value, list):
                out += [v for v in np.ravel(np.asarray(value, dtype=object)) if _number(v)]
    return out


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def state_table(at):
    return tables(at)[0].set_index("purpose")


def published(demo_db, at, fn, *args):
    return api.evaluate(demo_db, fn, at.session_state["params"], *args)


def test_page_renders_every_section_with_the_published_metrics(app, demo_db):
    at = app(PAGE)
    assert not at.exception
    assert at.title[0].value == "Consent & segments"
    assert len(at.get("plotly_chart")) == 6
    assert len(at.dataframe) == 4
    meanings = [c for c in texts(at) if c.startswith("**What this means:**")]
    assert len(meanings) == 6
    assert at.selectbox(key="consent_dimension").value == "segment"
    assert at.radio(key="consent_grain").value == "month"
    assert any(e.label == "How is this computed?" for e in at.expander)
    # The state table and the segment table read as the metrics JSON for the same params.
    figures = published(demo_db, at, api.published)
    table = state_table(at)
    for purpose, states in figures["consent"].items():
        for state in ("granted", "denied", "withdrawn", "no_decision"):
            n = states[state]
            assert table.loc[purpose, state] == (WITHHELD if n is None else f"{n:,}")
        rate = states["opt_in_rate"]
        assert table.loc[purpose, "opt_in_rate"] == (WITHHELD if rate is None else f"{rate:.1%}")
    segments = tables(at)[1]
    email = segments[segments.purpose == "email_marketing"].set_index("segment")
    for segment, n in figures["opted_in_by_segment"]["email_marketing"].items():
        assert email.loc[segment, "granted"] == (WITHHELD if n is None else f"{n:,}")
    # The opted-in share's trend ends on the view's end: there it is the JSON's figure.
    trend = tables(at)[2]
    last = trend[trend.period == trend.period.max()].set_index("purpose")
    for purpose, states in figures["consent"].items():
        n = states["granted"]
        assert last.loc[purpose, "granted"] == (WITHHELD if n is None else f"{n:,}")
        share = None if n is None else n / figures["customers"]
        assert last.loc[purpose, "granted_share"] == (WITHHELD if share is None else f"{share:.1%}")


def test_a_sidebar_filter_changes_the_figures(app):
    at = app(PAGE)
    before = state_table(at).loc["email_marketing", "granted"]
    at.sidebar.multiselect(key="country").select("DE").run()
    assert not at.exception
    assert at.session_state["params"].filters.countries == ("DE",)
    after = state_table(at).loc["email_marketing", "granted"]
    assert after != before
    at.selectbox(key="consent_dimension").select("country").run()
    assert set(tables(at)[1].country) == {"DE"}


def test_widgets_switch_the_views_and_purposes_shown_are_respected(app, demo_db):
    at = app(PAGE)
    at.selectbox(key="consent_dimension").select("prompt_variant").run()
    at.radio(key="consent_grain").set_value("week").run()
    assert not at.exception
    by = tables(at)[1]
    assert "prompt_variant" in by.columns
    expected = published(demo_db, at, cv.opted_in_by, "prompt_variant")
    assert list(by.granted) == [(WITHHELD if v is None else f"{v:,}") for v in expected.granted]
    params = at.session_state["params"]
    weeks = cv.periods(params.start, params.end, "week")
    for trend in tables(at)[2:4]:
        assert list(dict.fromkeys(trend.period)) == weeks
    assert "each week" in specs(at)[3]["layout"]["title"]["text"]
    rate_chart = specs(at)[4]
    assert "per week" in rate_chart["layout"]["title"]["text"]

    assert any("Analytics" in {t.get("name") for t in spec["data"]} for spec in specs(at))
    at.sidebar.multiselect(key="purpose").unselect("analytics").run()
    assert not at.exception
    for table in tables(at):
        assert "analytics" not in set(table.purpose)
    for spec in specs(at):
        names = {t.get("name") for t in spec["data"]}
        ys = {y for t in spec["data"] for y in (t.get("y") or []) if isinstance(y, str)}
        assert not {"analytics", "Analytics"} & (names | ys)


def test_withheld_cells_show_the_marker_and_their_values_appear_nowhere(app, demo_db):
    at = app(PAGE)
    at.selectbox(key="consent_dimension").select("country").run()
    assert not at.exception
    params = at.session_state["params"]
    assert params.min_cell == 11
    shown = published(demo_db, at, cv.opted_in_by, "country")
    true = api.evaluate(demo_db, cv.opted_in_by, replace(params, min_cell=1), "country")
    # Everything the page may legitimately show: its published figures, row counts, dates, k.
    legitimate = {params.min_cell}
    for frame in (
        published(demo_db, at, cv.consent_overview),
        shown,
        published(demo_db, at, cv.consent_trend, "month"),
    ):
        for column in ("customers", "granted", "denied", "withdrawn", "no_decision", "refused"):
            if column in frame:
                legitimate |= {int(v) for v in frame[column] if v is not None}
        for column in ("decided", "decisions"):
            if column in frame:
                legitimate |= {int(v) for v in frame[column] if v is not None}
    info = at.session_state["summary"]
    legitimate |= set(info.row_counts.values())
    for day in (params.start, params.end):
        legitimate |= {day.year, day.month, day.day}

    withheld = []
    for i, row in shown.iterrows():
        for column in ("granted", "refused"):
            if row[column] is None:
                withheld.append((i, column, int(true.loc[i, column])))
    assert withheld, "the demo store should have small countries"
    assert any(v >= params.min_cell for _, _, v in withheld), "a complementary cell"
    table = tables(at)[1]
    page_text = "\n".join(texts(at))
    numbers = [n for spec in specs(at) for n in trace_numbers(spec)]
    cells = {str(v) for t in tables(at) for v in t.to_numpy().ravel()}
    checked = 0
    for i, column, value in withheld:
        assert table.loc[i, column] == WITHHELD
        assert table.loc[i, "opt_in_rate"] == WITHHELD
        if value in legitimate:
            continue  # the same number is some other published figure
        checked += 1
        assert f"{value:,}" not in cells
        assert value not in numbers
        assert not re.search(rf"(?<![\d,.<]){value:,}(?![\d,])", page_text)
    assert checked >= 3


def test_a_filter_combination_without_customers_explains_itself(app):
    at = app(PAGE, query={"country": "DE", "jurisdiction": "CCPA"})
    assert not at.exception
    assert at.session_state["params"].filters.countries == ("DE",)
    assert any("No customers" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_an_empty_store_shows_the_empty_state(app, empty_db, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DB", str(empty_db))
    at = app(PAGE)
    assert not at.exception
    assert any("no customers" in i.value.lower() for i in at.info)
    assert not at.get("plotly_chart")


def test_how_computed_draws_its_sql_only_once_opened(app):
    at = app(PAGE)
    explanation = next(e for e in at.expander if e.label == "How is this computed?")
    assert not _sql(at), "a closed explanation compiles and draws no SQL"
    key = explanation.proto.id.split("-", 2)[-1]
    at.session_state[key] = True
    at.run()
    assert not at.exception
    sql = _sql(at)
    assert len(sql) == 6
    assert all(s.lstrip().upper().startswith(("SELECT", "WITH")) for s in sql)


def _sql(at) -> list[str]:
    # The page's SQL blocks (the link to the view is a code block too, of plain text).
    return [c.value for c in at.code if c.language == "sql"]
