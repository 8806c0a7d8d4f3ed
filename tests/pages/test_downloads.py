"""Downloads round as the screen does: every figure of every dashboard's CSV to the screen's
decimals (a rate to 3 as a fraction, shown as 59.7%; an amount per customer to cents, revenue
to whole units, days to one decimal), withheld cells and text left as they are."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from metrics.suppression import WITHHELD
from pages import _labels as labels
from pages import _widgets as w


def test_each_kind_of_figure_rounds_to_the_screens_decimals():
    frame = pd.DataFrame(
        {
            "purpose": ["email_marketing", "analytics"],
            "granted": [1234, None],
            "opt_in_rate": [0.59721311, None],
            "engaged / customers": [0.92642, 0.87081],
            "revenue_per_customer_low": [48.845448, 13.287052],
            "revenue": [3432694.4567, 12.5],
            "median_days": [17.04, 14.96],
        }
    )
    out = labels.rounded(frame)
    assert out["opt_in_rate"].tolist()[0] == 0.597 and out["opt_in_rate"].isna().tolist()[1]
    assert out["engaged / customers"].tolist() == [0.926, 0.871]
    assert out["revenue_per_customer_low"].tolist() == [48.85, 13.29]
    assert out["revenue"].tolist() == [3432694, 12]  # whole units, as the tiles show them
    assert out["median_days"].tolist() == [17.0, 15.0]
    assert out["purpose"].tolist() == ["email_marketing", "analytics"]
    assert out["granted"].tolist()[0] == 1234


def test_tables_of_several_kinds_round_row_by_row():
    overview = pd.DataFrame(
        {
            "figure": ["Customers", "Opted in", "Revenue, yes"],
            "value": [2945.0, 0.5096774, 123456.78],
            "previous_period": [1533.0, 0.4872798, None],
            "unit": ["count", "rate", "money"],
        }
    )
    out = labels.rounded(overview)
    assert out["value"].tolist() == [2945, 0.51, 123457]
    assert out["previous_period"].tolist()[:2] == [1533, 0.487]
    gaps = pd.DataFrame(
        {
            "measure": ["conversion_rate", "revenue_per_customer"],
            "raw": [0.49063048, 43.5399512],
            "stratified_low": [0.4597818, 37.0969545],
        }
    )
    out = labels.rounded(gaps)
    assert out["raw"].tolist() == [0.491, 43.54]
    assert out["stratified_low"].tolist() == [0.46, 37.1]


def test_a_withheld_cell_stays_the_marker_in_the_csv():
    frame = pd.DataFrame({"segment": ["loyalist", "student"], "opt_in_rate": [0.123456, None]})
    rows = list(
        csv.reader(io.StringIO(w.csv_bytes(labels.table(labels.rounded(frame)), 11).decode()))
    )
    assert rows[1:] == [["Loyalist", "0.123"], ["Student", WITHHELD]]


PAGES = ["pages/overview.py", "pages/consent.py", "pages/ymn.py", "pages/erasure.py"]


@pytest.fixture
def downloads(app, monkeypatch):
    """Every table a dashboard offers for download, as the page hands it over."""
    seen: dict[str, pd.DataFrame] = {}
    original = w.download

    def keep(frame, name, k):
        seen[name] = frame
        return original(frame, name, k)

    monkeypatch.setattr(w, "download", keep)
    at = app()
    for page in PAGES[1:]:
        at.switch_page(page).run()
        assert not at.exception
    at.switch_page("pages/impact.py").run()
    at.radio(key="impact_by").set_value("state").run()
    assert not at.exception
    return seen


def test_every_figure_of_every_dashboard_download_is_rounded(downloads):
    assert len(downloads) >= 15
    for name, frame in downloads.items():
        out = labels.rounded(frame)
        for column in frame.columns:
            values = [v for v in out[column] if isinstance(v, float) and not pd.isna(v)]
            if not values:
                continue
            # Each float left is at the screen's decimals: no column escapes the rules.
            found = labels.kind(str(column))
            decimals = labels.DECIMALS[found] if found else 3
            for v in values:
                assert round(v, decimals) == v, (name, column, v)
