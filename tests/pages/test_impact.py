"""Conversion-impact page: renders, reacts to filters and groupings, shows what metrics give,
never shows a withheld figure."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from data.storage.store import open_store
from metrics.api import published
from metrics.impact import impact
from metrics.rules import Tables
from metrics.suppression import WITHHELD
from pages import _impact_charts as ic

PAGE = "pages/impact.py"
GROUP_TABLE, GAP_TABLE = 1, 0  # order of the dataframes on the page


def texts(at, tables: bool = True) -> str:
    """Every text the page shows: markdown, captions, tiles, notes and (optionally) table
    cells."""
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [e.value for e in at.info] + [e.value for e in at.subheader]
    if tables:
        parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(str(p) for p in parts)


def chart_numbers(at) -> list[float]:
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    return [float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", specs)]


def groups_shown(at):
    return at.dataframe[GROUP_TABLE].value.set_index("Group")


def figures_for(demo_db, params, *args):
    with open_store(demo_db, read_only=True) as store:
        tables = Tables.from_backend(store.backend)
        return impact(tables, params, *args), published(tables, params)


def test_page_renders_both_groupings(app):
    at = app(PAGE)
    assert not at.exception
    assert len(at.get("plotly_chart")) == 4
    assert at.radio(key="impact_by").value == "class"
    assert list(groups_shown(at).index) == [ic.group_label(c) for c in ("yes", "maybe", "no")]
    assert "How is this computed?" in [e.label for e in at.expander]

    at.radio(key="impact_by").set_value("state").run()
    assert not at.exception
    assert at.selectbox(key="impact_purpose").value == "email_marketing"
    assert list(groups_shown(at).index) == ["Granted", "Denied", "Withdrawn", "No decision"]
    at.selectbox(key="impact_purpose").set_value("analytics").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 4


def test_purposes_offered_are_those_shown_in_the_sidebar(app):
    at = app(PAGE)
    at.sidebar.multiselect(key="purpose").set_value(["analytics", "sms_marketing"]).run()
    at.radio(key="impact_by").set_value("state").run()
    assert not at.exception
    box = at.selectbox(key="impact_purpose")
    assert box.options == ["Analytics", "SMS marketing"]  # as labelled
    assert box.value == "sms_marketing"  # the first marketing purpose among them


def test_a_filter_changes_the_figures(app):
    at = app(PAGE)
    before = groups_shown(at).loc["Yes (opted in)"].tolist()
    at.sidebar.multiselect(key="country").select("DE").run()
    assert not at.exception
    after = groups_shown(at).loc["Yes (opted in)"].tolist()
    assert after != before
    assert at.session_state["params"].filters.countries == ("DE",)


def test_figures_on_screen_are_those_of_the_metrics(app, demo_db):
    at = app(PAGE)
    params = at.session_state["params"]
    result, figures = figures_for(demo_db, params, "class")
    yes = result.groups.set_index("group").loc["yes"]
    shown = groups_shown(at).loc["Yes (opted in)"]
    # Customers and converters are the metrics JSON's own figures.
    assert shown["Customers"] == f"{figures['conversion']['yes']['customers']:,}"
    assert shown["Converters"] == f"{figures['conversion']['yes']['converters']:,}"
    assert shown["Conversion rate, as observed (95% interval)"] == (
        f"{yes.rate * 100:.1f}% ({yes.rate_low * 100:.1f}% to {yes.rate_high * 100:.1f}%)"
    )
    assert shown["Conversion rate, like with like"].startswith(f"{yes.stratified_rate * 100:.1f}%")
    gap = result.gaps.iloc[0]
    tiles = {m.value for m in at.metric}
    assert f"{gap.raw * 100:+.1f} pts" in tiles
    assert f"{gap.stratified * 100:+.1f} pts" in tiles
    points = chart_numbers(at)
    assert any(math.isclose(x, yes.rate * 100) for x in points)


def test_withheld_figures_show_the_marker_and_their_values_appear_nowhere(app, demo_db):
    at = app(PAGE, query={"country": "ES"})
    assert not at.exception
    params = at.session_state["params"]
    assert params.filters.countries == ("ES",)
    result, _ = figures_for(demo_db, params, "class")
    truth, _ = figures_for(demo_db, replace(params, min_cell=1), "class")
    withheld = result.groups[result.groups.converters.isna()].group.tolist()
    assert withheld, "the fixture should hold a class with few converters"
    shown = groups_shown(at)
    # Another group's published interval may round to the same digits, so table cells are
    # checked row by row: the withheld group's row shows only WITHHELD.
    text = texts(at, tables=False)
    numbers = chart_numbers(at)
    true = truth.groups.set_index("group")
    for group in withheld:
        row = shown.loc[ic.group_label(group)]
        assert row["Converters"] == WITHHELD
        rate_text = f"{truth.groups.set_index('group').at[group, 'rate'] * 100:.1f}%"
        assert not any(rate_text in str(cell) for cell in row)
        assert row["Conversion rate, as observed (95% interval)"] == WITHHELD
        rate, revenue = true.at[group, "rate"], true.at[group, "revenue_per_customer"]
        assert f"{rate * 100:.1f}%" not in text
        assert f"{revenue:,.2f}" not in text
        for value in (rate * 100, revenue, true.at[group, "stratified_rate"] * 100):
            assert not any(math.isclose(x, value, rel_tol=1e-9) for x in numbers)
    # Gaps resting on a withheld class are withheld too.
    for _, gap in truth.gaps.iterrows():
        if gap["first"] in withheld or gap.second in withheld:
            fmt = ic.points if gap.measure == "conversion_rate" else ic.signed_amount
            assert fmt(gap.raw, 11) not in text
            assert not any(math.isclose(x, gap.raw * 100, rel_tol=1e-9) for x in numbers)
    gaps = at.dataframe[GAP_TABLE].value
    assert (gaps["As observed (95% interval)"] == WITHHELD).any()


def test_a_filter_with_no_customers_shows_an_explanation(app):
    at = app(PAGE, query={"jurisdiction": "CCPA", "country": "DE"})
    assert not at.exception
    assert any("No customers match" in e.value for e in at.info)
    assert not at.get("plotly_chart")


def test_an_empty_store_renders_the_empty_state(app, empty_db, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DB", str(empty_db))
    at = app(PAGE)
    assert not at.exception
    assert any("no customers" in e.value.lower() for e in at.info)
    assert not at.get("plotly_chart")
