"""Figure and table builders of the conversion-impact page, on hand-made published frames."""

from __future__ import annotations

import json

import pandas as pd

from metrics.impact import GAP_COLUMNS, GROUP_COLUMNS
from metrics.suppression import WITHHELD
from pages import _charts as charts
from pages import _impact_charts as ic

K = 11


def groups_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([dict.fromkeys(GROUP_COLUMNS) | r for r in rows], columns=GROUP_COLUMNS)
    return frame.astype({"customers": "Int64", "converters": "Int64"})


def estimate(name: str, value: float, spread: float) -> dict:
    return {name: value, f"{name}_low": value - spread, f"{name}_high": value + spread}


CLASS_GROUPS = groups_frame(
    [
        {"group": "yes", "customers": 300, "converters": 120}
        | estimate("rate", 0.4, 0.05)
        | estimate("stratified_rate", 0.42, 0.06)
        | estimate("revenue_per_customer", 50.0, 5.0)
        | estimate("stratified_revenue_per_customer", 52.0, 6.0),
        # Raw figures published, stratified withheld.
        {"group": "maybe", "customers": 40, "converters": 12}
        | estimate("rate", 0.3, 0.1)
        | estimate("revenue_per_customer", 30.0, 9.0),
        # Everything withheld.
        {"group": "no", "customers": 25, "converters": None},
    ]
)

GAPS = pd.DataFrame(
    [
        ("yes", "no", "conversion_rate", None, None, None, None, None, None),
        ("yes", "no", "revenue_per_customer", None, None, None, None, None, None),
        ("yes", "maybe", "conversion_rate", 0.1, 0.02, 0.18, None, None, None),
        ("yes", "maybe", "revenue_per_customer", 20.0, 9.5, 30.5, None, None, None),
        ("granted", "denied", "conversion_rate", -0.05, -0.09, -0.01, 0.03, 0.01, 0.05),
    ],
    columns=GAP_COLUMNS,
)


def spec(fig) -> str:
    return json.dumps(fig.to_plotly_json(), default=str)


def test_estimates_draw_published_points_only_in_their_colours():
    fig = ic.estimates(CLASS_GROUPS, measure="conversion_rate")
    points = [(t.y[0], t.x[0], t.marker.color, t.xaxis) for t in fig.data]
    assert points == [
        ("Yes (opted in)", 40.0, charts.CLASS_COLOURS["yes"], "x"),
        ("Yes (opted in)", 42.0, charts.CLASS_COLOURS["yes"], "x2"),
        ("Maybe (undecided)", 30.0, charts.CLASS_COLOURS["maybe"], "x"),
    ]
    # The withheld group is not even a category of the axis.
    assert list(fig.layout.yaxis.categoryarray) == ["Yes (opted in)", "Maybe (undecided)"]
    assert "No (refused" not in spec(fig)
    yes = fig.data[0]
    assert yes.error_x.array[0] == 5.0 and yes.error_x.arrayminus[0] == 5.0
    assert list(yes.customdata[0]) == [35.0, 45.0]
    assert "95% interval" in yes.hovertemplate


def test_estimates_of_revenue_use_amounts_and_state_colours():
    frame = CLASS_GROUPS.assign(group=["granted", "no_decision", "denied"])
    fig = ic.estimates(frame, measure="revenue_per_customer")
    assert [(t.y[0], t.x[0], t.marker.color) for t in fig.data] == [
        ("Granted", 50.0, charts.STATE_COLOURS["granted"]),
        ("Granted", 52.0, charts.STATE_COLOURS["granted"]),
        ("No decision", 30.0, charts.STATE_COLOURS["no_decision"]),
    ]
    assert "Denied" not in spec(fig)


def test_gaps_leave_withheld_pairs_out_and_mark_zero():
    fig = ic.gaps(GAPS, measure="conversion_rate")
    raw, stratified = fig.data
    assert (raw.name, stratified.name) == (ic.RAW_TITLE, ic.STRATIFIED_TITLE)
    assert list(raw.y) == ["Yes − Maybe", "Granted − Denied"]
    assert [round(x, 9) for x in raw.x] == [10.0, -5.0]
    assert list(stratified.y) == ["Granted − Denied"]
    assert [round(x, 9) for x in stratified.x] == [3.0]
    assert raw.marker.color == ic.RAW_COLOUR and stratified.marker.color == ic.STRATIFIED_COLOUR
    assert "Yes − No" not in spec(fig)
    assert [s.x0 for s in fig.layout.shapes] == [0]
    revenue = ic.gaps(GAPS, measure="revenue_per_customer")
    assert list(revenue.data[0].x) == [20.0] and list(revenue.data[1].x) == []


def test_tables_show_withheld_values_as_under_k():
    table = ic.group_table(CLASS_GROUPS, K).set_index("Group")
    assert table.loc["Yes (opted in)", "Customers"] == "300"
    assert table.loc["Yes (opted in)", "Conversion rate, as observed (95% interval)"] == (
        "40.0% (35.0% to 45.0%)"
    )
    assert table.loc["Maybe (undecided)", "Conversion rate, like with like"] == WITHHELD
    withheld = table.loc["No (refused/erasure)"]
    assert withheld["Customers"] == "25"
    assert (withheld.drop("Customers") == WITHHELD).all()

    gaps = ic.gap_table(GAPS, K)
    assert gaps.iloc[0]["As observed (95% interval)"] == WITHHELD
    assert gaps.iloc[2]["As observed (95% interval)"] == "+10.0 pts (+2.0 to +18.0)"
    assert gaps.iloc[3]["As observed (95% interval)"] == "+20.00 (+9.50 to +30.50)"
    assert gaps.iloc[4]["Like with like (95% interval)"] == "+3.0 pts (+1.0 to +5.0)"


def test_headline_tiles_for_the_first_pair():
    tiles = ic.headline(GAPS, K)
    assert tiles == [
        (
            "Conversion rate gap: Yes minus no",
            [("As observed", WITHHELD), ("Like with like", WITHHELD)],
        ),
        (
            "Revenue per customer gap: Yes minus no",
            [("As observed", WITHHELD), ("Like with like", WITHHELD)],
        ),
    ]
    assert ic.headline(GAPS.iloc[2:4], K)[0][1] == [
        ("As observed", "+10.0 pts"),
        ("Like with like", WITHHELD),
    ]
