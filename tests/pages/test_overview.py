"""Overview page: renders, matches the command line, reacts to filters."""

from __future__ import annotations

import json
import subprocess
import sys

from metrics.suppression import WITHHELD
from pages import _labels as labels


def metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_renders_tiles_that_match_the_metrics_command(app, demo_db):
    at = app()
    assert not at.exception
    tiles = metric_values(at)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "consentlens",
            "--db",
            str(demo_db),
            "metrics",
            "--start",
            at.session_state["params"].start.isoformat(),
            "--as-of",
            at.session_state["params"].as_of.isoformat(),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(run.stdout)
    assert tiles["Customers"] == f"{figures['customers']:,}"
    assert tiles["Yes customers"] == f"{figures['ymn']['yes']:,}"
    overdue = figures["erasure"]["overdue"]
    assert tiles["Overdue erasure requests"] == (WITHHELD if overdue is None else f"{overdue:,}")


def test_a_filter_changes_the_figures_and_the_url(app):
    at = app()
    before = metric_values(at)["Customers"]
    at.sidebar.multiselect(key="country").select("DE").run()
    assert not at.exception
    assert metric_values(at)["Customers"] != before
    assert at.query_params["country"] == "DE"


def test_the_url_reopens_the_same_view(app):
    at = app(query={"country": "FR"})
    assert at.sidebar.multiselect(key="country").value == ["FR"]
    assert at.session_state["params"].filters.countries == ("FR",)


def test_revenue_is_shown_one_currency_at_a_time_with_its_code(app, demo_db):
    from dataclasses import replace

    from metrics import api
    from metrics.overview import headline

    at = app()
    box = at.selectbox(key="currency")
    summary = api.summarize(demo_db)
    assert len(summary.currencies) > 1
    assert box.options == [labels.currency(c) for c in summary.currencies]
    params = at.session_state["params"]
    for code in (summary.currencies[0], summary.currencies[-1]):
        box.set_value(code).run()
        assert not at.exception
        tiles = {t.key: t for t in api.evaluate(demo_db, headline, replace(params, currency=code))}
        shown = metric_values(at)
        for cls in ("yes", "maybe", "no"):
            value = tiles[f"revenue_{cls}"].value
            want = WITHHELD if value is None else f"{code} {value:,.0f}"
            assert shown[f"Revenue, {cls}"] == want
        assert any(labels.currency(code) in c.value for c in at.caption)
    # Every currency's revenue is its own; who bought is the same in each.
    figures = [
        {t.key: t.value for t in api.evaluate(demo_db, headline, replace(params, currency=c))}
        for c in (summary.currencies[0], summary.currencies[-1])
    ]
    assert figures[0]["revenue_yes"] != figures[1]["revenue_yes"]
    assert figures[0]["conversion_yes"] == figures[1]["conversion_yes"]
