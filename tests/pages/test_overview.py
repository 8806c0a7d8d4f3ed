"""Overview page: renders, matches the command line, reacts to filters."""

from __future__ import annotations

import json
import subprocess
import sys

from metrics.suppression import WITHHELD


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
