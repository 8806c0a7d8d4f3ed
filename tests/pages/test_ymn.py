"""Yes / maybe / no page: renders, matches the metrics, reacts to filters, never shows a
withheld value, and explains an empty store."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from data.storage.store import open_store
from metrics.api import published
from metrics.rules import Tables
from metrics.suppression import WITHHELD
from metrics.ymn_views import class_flows
from tests.pages.conftest import stored

PAGE = "pages/ymn.py"
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def texts(at) -> list[str]:
    """Every piece of text the page shows, tables included."""
    out = [
        e.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "code")
        for e in getattr(at, kind)
    ]
    out += [f"{m.label} {m.value}" for m in at.metric]
    out += [frame.value.to_csv(index=False) for frame in at.dataframe]
    return out


def numbers_in(value) -> set[float]:
    """Every number in a chart spec or a text, as a value (1,234 and 1234.0 alike)."""
    if isinstance(value, dict):
        return set().union(*(numbers_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(numbers_in(v) for v in value)) if value else set()
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, int | float):
        return {float(value)}
    return {float(token.replace(",", "")) for token in NUMBER.findall(str(value))}


def evaluate(demo_db, fn, params):
    with open_store(demo_db, read_only=True) as store:
        return fn(Tables.from_backend(store.backend), params)


def test_page_renders_the_published_metrics(app, demo_db):
    at = app(PAGE)
    assert not at.exception
    kinds = [spec["data"][0]["type"] for spec in specs(at)]
    assert kinds == ["funnel", "sankey"]
    funnel = specs(at)[0]["data"]
    assert [trace["marker"]["color"] for trace in funnel] == ["#0072B2", "#E69F00", "#882255"]
    assert len(at.get("download_button")) == 3
    # Every chart and the opportunity block have their plain-language note.
    assert sum("What this means" in c.value for c in at.caption) == 3
    # The figures are the metrics JSON's for the sidebar's parameters.
    figures = evaluate(demo_db, published, at.session_state["params"])
    shown = tiles(at)
    assert len(shown) == 6
    assert shown["Maybe customers"] == f"{figures['ymn']['maybe']:,}"
    assert shown["Conversion, yes"] == f"{figures['conversion']['yes']['rate'] * 100:.1f}%"
    table = stored(at.dataframe[0].value).set_index("class")
    for cls in ("yes", "maybe", "no"):
        assert table.at[cls, "converted"] == f"{figures['funnel'][cls]['converted']:,}"
    assert funnel[0]["x"][0] == figures["funnel"]["yes"]["customers"]


def _country_with_a_withheld_converter_count(at, demo_db) -> tuple[str, str]:
    """A country filter under which some class's converters are withheld, and that class."""
    base = at.session_state["params"]
    for country in ("FR", "ES", "IT", "NL", "PL", "SE", "IE", "BR"):
        params = replace(base, filters=replace(base.filters, countries=(country,)))
        funnel = evaluate(demo_db, published, params)["funnel"]
        for cls in ("maybe", "no", "yes"):
            if funnel[cls]["customers"] is not None and funnel[cls]["converted"] is None:
                return country, cls
    raise AssertionError("the demo store should hold a small class somewhere")


def test_a_filter_changes_the_figures_and_withheld_ones_show_nowhere(app, demo_db):
    at = app(PAGE)
    before = tiles(at)["Maybe customers"], specs(at)
    country, small = _country_with_a_withheld_converter_count(at, demo_db)
    at.sidebar.multiselect(key="country").select(country).run()
    assert not at.exception
    assert (tiles(at)["Maybe customers"], specs(at)) != before
    assert at.session_state["params"].filters.countries == (country,)
    params = at.session_state["params"]
    shown = evaluate(demo_db, class_flows, params)
    exact = evaluate(demo_db, class_flows, replace(params, min_cell=1))
    hidden = [
        (row.from_class, row.to_class, int(true))
        for row, true in zip(shown.itertuples(index=False), exact.customers, strict=True)
        if row.customers is None
    ]
    # The largest withheld flow: withheld with a small one, possibly well above k itself.
    source, target, true = max(hidden, key=lambda h: h[2])
    table = stored(at.dataframe[1].value)
    row = table[(table.iloc[:, 0] == source) & (table.iloc[:, 1] == target)]
    assert list(row.customers) == [WITHHELD]
    # The class with few converters: withheld in the table and left out of its funnel.
    funnel = stored(at.dataframe[0].value).set_index("class")
    assert funnel.at[small, "converted"] == WITHHELD
    trace = specs(at)[0]["data"][["yes", "maybe", "no"].index(small)]
    assert "Converted" not in trace["y"] and len(trace["x"]) == len(trace["y"])
    for text in texts(at):
        assert float(true) not in numbers_in(text)
    for spec in specs(at):
        assert float(true) not in numbers_in(spec["data"])
        assert float(true) not in numbers_in(spec["layout"].get("annotations", []))


def test_filters_that_match_nobody_show_a_short_note(app):
    at = app(PAGE, query={"jurisdiction": "GDPR", "country": "US"})
    assert not at.exception
    assert any("No customers match" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_an_empty_store_explains_how_to_fill_it(app, empty_db, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DB", str(empty_db))
    at = app(PAGE)
    assert not at.exception
    assert any("consentlens demo" in i.value for i in at.info)
    assert not at.get("plotly_chart")
