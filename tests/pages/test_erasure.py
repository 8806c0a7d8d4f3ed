"""Erasure & requests page: renders, shows what metrics publishes, reacts to filters, never
shows a withheld value, and explains an empty store or an empty selection."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.testing.v1 import AppTest

from metrics import api
from metrics import erasure_views as ev
from metrics.api import evaluate
from metrics.params import MIN_CELL_ENV, Filters, resolve_params
from metrics.suppression import WITHHELD
from pages import _labels as labels

PAGE = "pages/erasure.py"
APP = str(Path(__file__).resolve().parents[2] / "app.py")


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def figures_of(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def charts_by_key(at) -> dict[str, dict]:
    """The page's charts by their key (an element's id ends with its key)."""
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def positive(values) -> bool:
    """Whether a chart of these published values has a bar or point above zero."""
    return any(v is not None and not pd.isna(v) and v > 0 for v in values)


def expected_charts(f: ev.ErasureFigures, grain: str = "month", by: str = "type") -> set[str]:
    """The keys of the charts a view draws: those with a published value to draw."""
    frame, backlog, status = f.requests_over_time(grain, by), f.backlog_by(grain), f.due_status()
    drawn = {
        "erasure_received": positive(frame["received"]),
        "erasure_completed": positive(frame["completed"]),
        "erasure_backlog": positive([*backlog["open"], *backlog["overdue"]]),
        "erasure_due": positive(
            [v for c in ("overdue", "due_soon", "due_later") for v in status[c]]
        ),
        "erasure_on_time": f.on_time()["on_time_rate"].notna().any(),
    }
    return {key for key, shown in drawn.items() if shown}


def infos(at) -> list[str]:
    return [i.value for i in at.info]


COUNT_COLUMNS = ("received", "completed", "open", "overdue", "due_soon", "due_later")


def counts_shown(at) -> list[int]:
    """Every count the page shows: tiles, table cells, chart data and hover labels (medians
    in days and rates are not counts)."""
    out = []
    for metric in at.metric:
        if "days" not in metric.label and re.fullmatch(r"[\d,]+", metric.value):
            out.append(int(metric.value.replace(",", "")))
    for table in at.dataframe:
        frame = table.value
        for name in COUNT_COLUMNS:
            if name in frame:
                out += [int(v.replace(",", "")) for v in frame[name] if v[0].isdigit()]
    for figure in figures_of(at):
        for trace in figure["data"]:
            for axis in ("x", "y"):
                out += [v for v in trace.get(axis, []) if isinstance(v, int)]
            for item in trace.get("customdata", []):
                out += [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) completed", item[0])]
    return out


def test_the_page_renders_the_figures_metrics_publish(app, demo_db):
    at = app(PAGE)
    assert not at.exception
    params = at.session_state["params"]
    summary = evaluate(demo_db, ev.erasure_summary, params)
    shown = tiles(at)
    for label, figure in (("Received", "received"), ("Completed", "completed")):
        value = summary[figure]
        assert shown[label] == (WITHHELD if value is None else f"{value:,}")
    figures = evaluate(demo_db, ev.erasure_figures, params)
    assert set(charts_by_key(at)) == expected_charts(figures)
    assert {"erasure_received", "erasure_backlog", "erasure_on_time"} <= set(charts_by_key(at))
    # The received chart draws exactly the published monthly counts per type.
    frame = evaluate(demo_db, ev.requests_over_time, params, "month", "type")
    received = charts_by_key(at)["erasure_received"]
    access = next(t for t in received["data"] if t["name"] == "Access")
    expected = frame[(frame.group == "access") & frame.received.notna()]
    assert access["x"] == list(expected.period)
    assert access["y"] == list(expected.received)
    assert "In plain words" in " ".join(m.value for m in at.markdown)


def test_a_filter_changes_the_figures(app):
    at = app(PAGE)
    before = tiles(at)["Received"]
    at.sidebar.multiselect(key="country").select("US").run()
    assert not at.exception
    assert tiles(at)["Received"] != before


def test_grain_and_breakdown_switch_the_chart(app, monkeypatch):
    # k = 3: enough weekly counts per jurisdiction are published on the small demo to draw.
    monkeypatch.setenv(MIN_CELL_ENV, "3")
    at = app(PAGE)
    months = len(charts_by_key(at)["erasure_received"]["layout"]["xaxis"]["categoryarray"])
    at.radio(key="erasure_grain").set_value("week").run()
    at.radio(key="erasure_by").set_value("jurisdiction").run()
    assert not at.exception
    received = charts_by_key(at)["erasure_received"]
    assert len(received["layout"]["xaxis"]["categoryarray"]) > months
    names = {t["name"] for t in received["data"]}
    assert names <= {labels.jurisdiction(j) for j in ev.schema.JURISDICTIONS}
    # On the small demo most weekly counts per jurisdiction are withheld, and it says so.
    assert any("withheld" in i.value for i in at.info)


def test_a_withheld_figure_reads_the_marker_and_its_value_is_nowhere(app, demo_db):
    at = app(PAGE)
    params = at.session_state["params"]
    k = params.min_cell
    published = evaluate(demo_db, ev.erasure_figures, params)
    trusted = evaluate(demo_db, ev.erasure_figures, replace(params, min_cell=1))
    # A headline figure withheld at k: find it, then look for its true value on the page.
    labels = {"open": "Open now", "overdue": "Overdue now", "received": "Received"}
    withheld = [f for f in labels if published.summary[f] is None]
    assert withheld, "the demo store should withhold at least one headline figure"
    figure = withheld[0]
    true = trusted.summary[figure]
    assert 0 < true < k
    assert tiles(at)[labels[figure]] == WITHHELD
    # No count from 1 to k - 1 is shown anywhere, so neither is this one.
    shown = counts_shown(at)
    assert true not in shown
    assert all(n == 0 or n >= k for n in shown)
    # Nor in the plain-language reading (dates and percentages aside).
    reading = next(m.value for m in at.markdown if "In plain words" in m.value)
    prose = re.sub(r"\d{4}-\d{2}-\d{2}|\b\d{4}\b|\d+%", "", reading)
    assert all(int(n) == 0 or int(n) >= k for n in re.findall(r"\b\d+\b", prose.replace(",", "")))


def test_an_empty_selection_says_so(app, demo_db):
    at = app(PAGE)
    params = at.session_state["params"]
    info = at.session_state["summary"]
    empty = next(
        c
        for c in info.countries
        if evaluate(
            demo_db,
            ev.erasure_figures,
            replace(params, filters=replace(params.filters, countries=(c,))),
        ).empty
    )
    at.sidebar.multiselect(key="country").select(empty).run()
    assert not at.exception
    assert any("No privacy request" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_an_empty_store_renders_its_explanation(empty_db, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DB", str(empty_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert at.info and "no customers" in at.info[0].value


def _pairs(published, trusted, path=""):
    """(path, published value, true value) of every count in two metrics JSONs alike."""
    if isinstance(trusted, dict):
        for key, value in trusted.items():
            yield from _pairs(published.get(key) if published else None, value, f"{path}.{key}")
    elif isinstance(trusted, int) and not isinstance(trusted, bool):
        yield path, published, trusted


def test_a_figure_withheld_to_protect_another_reads_the_same_marker(demo_db):
    """A complementary suppression may hide a large count: it reads as the small one does,
    never "<k", on screen and in a download."""
    from metrics.api import published
    from metrics.suppression import withheld_note
    from pages._widgets import count, csv_bytes

    # One segment of the 5,000-customer demo: its small consent states are withheld, and
    # with them larger ones that would give them away.
    params = resolve_params(
        (date(2024, 1, 1), date(2026, 9, 30)), filters=Filters(segments=("premium",))
    )
    shown = evaluate(demo_db, published, params)
    true = evaluate(demo_db, published, replace(params, min_cell=1))
    large = [
        (path, value)
        for path, value, n in _pairs(shown, true)
        if value is None and n >= params.min_cell
    ]
    assert large, "the demo store should withhold a large count to protect a small one"
    assert count(large[0][1], params.min_cell) == WITHHELD
    frame = pd.DataFrame({"figure": [p for p, _ in large], "value": [v for _, v in large]})
    text = csv_bytes(frame, params.min_cell).decode()
    assert text.splitlines()[1].endswith(f",{WITHHELD}") and "<" not in text
    assert "fewer than 11 people, or would let such a count be worked out" in withheld_note(11)


def _view(demo_db, params, **filters) -> ev.ErasureFigures:
    return evaluate(
        demo_db, ev.erasure_figures, replace(params, filters=replace(params.filters, **filters))
    )


def test_a_jurisdiction_with_nothing_to_draw_says_why_instead_of_an_empty_chart(app, demo_db):
    at = app(PAGE)
    params, info = at.session_state["params"], at.session_state["summary"]
    k = params.min_cell
    views = {j: _view(demo_db, params, jurisdictions=(j,)) for j in info.jurisdictions}
    chosen, f = next((j, v) for j, v in views.items() if not v.empty and not expected_charts(v))
    at.sidebar.multiselect(key="jurisdiction").select(chosen).run()
    assert not at.exception
    assert not at.get("plotly_chart")  # no empty axis anywhere
    said = infos(at)
    frame = f.requests_over_time("month", "type")
    start = "Nothing to show for privacy requests received or completed per month: "
    (text,) = [t for t in said if t.startswith(start)]
    if any(v is None for figure in ev.FIGURES for v in frame[figure]):
        assert f"withheld (fewer than {k} requests" in text
    else:
        assert "none was received or completed in this period" in text
    (backlog,) = [t for t in said if t.startswith("Nothing to show for the backlog")]
    backlog_values = [*f.backlog_by("month")["open"], *f.backlog_by("month")["overdue"]]
    assert ("withheld" in backlog) == any(v is None for v in backlog_values)
    if f.due_status().empty:
        assert "No erasure request is open for the chosen filters." in said
    else:
        assert any(t.startswith("Nothing to show per jurisdiction and due date") for t in said)
    if f.on_time().empty:
        assert any(t.startswith("No erasure request was completed") for t in said)
    else:
        assert any(t.startswith("Nothing to show for the share completed on time") for t in said)
    # The tables still list what is published, withheld values as the marker.
    assert at.dataframe


def test_the_withheld_hint_names_only_views_not_chosen(app, demo_db):
    at = app(PAGE)
    params = at.session_state["params"]
    f = evaluate(demo_db, ev.erasure_figures, params)

    def advice() -> str:
        """The hint over the received and completed charts, or the sentence in their place."""
        starts = ("Most of these", "Nothing to show for privacy", "Nothing to show for erasure")
        (text,) = [t for t in infos(at) if t.startswith(starts)]
        return text

    # Per month by request type, unfiltered: nothing left to recommend.
    assert f.withheld_share("month", "type") > 0.5
    assert any(f.requests_over_time("month", "type")["received"].dropna() > 0)
    assert advice() == (
        f"Most of these monthly counts are under {params.min_cell} and withheld, so the bars "
        "show little."
    )
    at.radio(key="erasure_grain").set_value("week").run()
    at.radio(key="erasure_by").set_value("jurisdiction").run()
    assert f.withheld_share("week", "jurisdiction") > 0.5
    assert advice().endswith(". Per month or by request type shows more.")
    at.radio(key="erasure_grain").set_value("month").run()
    assert f.withheld_share("month", "jurisdiction") > 0.5
    assert advice().endswith(". By request type shows more.")
    assert "Per month" not in advice()
    # Filtered to a jurisdiction: clearing the filter is the one thing left to change.
    at.radio(key="erasure_by").set_value("type").run()
    place = "GDPR"
    assert _view(demo_db, params, jurisdictions=(place,)).withheld_share("month", "type") > 0.5
    at.sidebar.multiselect(key="jurisdiction").select(place).run()
    assert not at.exception
    assert advice().endswith(". Clearing a filter shows more.")
    assert "Per month" not in advice() and "request type" not in advice()
    at.radio(key="erasure_grain").set_value("week").run()
    assert advice().endswith(". Per month shows more. Clearing a filter also helps.")


def test_an_empty_view_suggests_only_what_can_still_change(app, demo_db):
    at = app(PAGE)
    params, info = at.session_state["params"], at.session_state["summary"]
    whole = replace(params, start=info.first, end=info.last, as_of=info.last)
    assert (params.start, params.end) != (whole.start, whole.end)
    # A country with nothing over the store's whole span: empty in any period.
    empty = next(c for c in info.countries if _view(demo_db, whole, countries=(c,)).empty)
    at.sidebar.multiselect(key="country").select(empty).run()
    (said,) = [t for t in infos(at) if t.startswith("No privacy request")]
    assert said.endswith(" Widen the period or clear a filter.")
    at.sidebar.date_input(key="period").set_value((info.first, info.last)).run()
    assert not at.exception
    assert at.session_state["params"].start == info.first
    (said,) = [t for t in infos(at) if t.startswith("No privacy request")]
    assert said.endswith(" Clear a filter.")
    assert "Widen" not in said


def reading(at) -> str:
    return next(m.value for m in at.markdown if "In plain words" in m.value)


def test_the_trend_suggests_a_wider_period_only_when_the_store_has_one(app, monkeypatch):
    at = app(PAGE)
    info = at.session_state["summary"]
    short = (api.period_start_before(info.last, 4), info.last)
    at.sidebar.date_input(key="period").set_value(short).run()
    assert not at.exception
    assert "fewer than six whole months" in reading(at)
    assert reading(at).endswith(" Widen the period to see one.")
    # A store holding four months only: its whole span is already chosen.
    real = api.summarize
    monkeypatch.setattr(api, "summarize", lambda path: replace(real(path), first=short[0]))
    st.cache_data.clear()
    at = app(PAGE)
    assert (at.session_state["params"].start, at.session_state["params"].end) == short
    assert "fewer than six whole months" in reading(at)
    assert "Widen" not in reading(at)
