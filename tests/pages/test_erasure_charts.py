"""Erasure page figure builders on hand-made published frames: withheld values are never
drawn, never in hover text, never on an axis; colours are fixed per group and status."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from pages import _charts as shared
from pages import _erasure_charts as charts


def counts(*values):
    return pd.Series(values, dtype=object)


def spec(fig) -> str:
    return fig.to_json()


def test_period_bars_leave_withheld_cells_out():
    frame = pd.DataFrame(
        {
            "period": ["2026-01", "2026-01", "2026-02", "2026-02"],
            "group": ["erasure", "access", "erasure", "access"],
            "received": counts(12, None, 0, 37),
            "completed": counts(None, 11, 0, 0),
        }
    )
    fig = charts.period_bars(frame, "received", "type", title="Received")
    traces = {t.name: t for t in fig.data}
    assert list(traces["Erasure"].x) == ["2026-01", "2026-02"]
    assert list(traces["Erasure"].y) == [12, 0]
    assert list(traces["Access"].x) == ["2026-02"]  # January withheld: no bar at all
    assert list(traces["Access"].y) == [37]
    assert fig.layout.barmode == "stack"
    # Every period stays on the axis, whatever is withheld.
    assert list(fig.layout.xaxis.categoryarray) == ["2026-01", "2026-02"]
    completed = charts.period_bars(frame, "completed", "type", title="Completed")
    assert [t.name for t in completed.data] == ["Erasure", "Access"]
    assert list(completed.data[0].y) == [0]


def test_groups_keep_their_colour_whatever_is_shown():
    frame = pd.DataFrame(
        {
            "period": ["2026-01", "2026-01"],
            "group": ["OTHER", "GDPR"],
            "received": counts(20, 30),
            "completed": counts(0, 0),
        }
    )
    fig = charts.period_bars(frame, "received", "jurisdiction", title="By jurisdiction")
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours["GDPR (EU and EEA)"] == shared.SERIES_COLOURS[0]
    assert colours["Other jurisdictions"] == shared.SERIES_COLOURS[6]
    # Canonical order, not the frame's: GDPR first in the stack and the legend.
    assert [t.name for t in fig.data] == ["GDPR (EU and EEA)", "Other jurisdictions"]
    types = pd.DataFrame(
        {"period": ["2026-01"], "group": ["opt_out_of_sale"], "received": counts(15)}
    )
    fig = charts.period_bars(types, "received", "type", title="Types")
    assert fig.data[0].name == "Opt out of sale"
    assert fig.data[0].marker.color == charts.group_colour("opt_out_of_sale", charts.TYPE_ORDER)


def test_backlog_lines_show_withheld_points_as_gaps():
    frame = pd.DataFrame(
        {
            "period": ["2026-01", "2026-02", "2026-03"],
            "day": [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)],
            "open": counts(25, None, 31),
            "overdue": counts(None, 0, 12),
        }
    )
    fig = charts.backlog_lines(frame, title="Backlog")
    open_, overdue = fig.data
    assert list(open_.y) == [25, None, 31]
    assert list(overdue.y) == [None, 0, 12]
    assert open_.connectgaps is False and overdue.connectgaps is False
    assert open_.line.color == charts.OPEN_COLOUR
    assert overdue.line.color == shared.CLASS_COLOURS["no"]


def test_due_status_bars_leave_withheld_parts_out():
    frame = pd.DataFrame(
        {
            "jurisdiction": ["GDPR", "LGPD"],
            "deadline": ["1 calendar month", "15 days"],
            "extended_deadline": ["3 calendar months", "no extension"],
            "open": counts(31, None),
            "overdue": counts(11, None),
            "due_soon": counts(None, 0),
            "due_later": counts(14, None),
        }
    )
    fig = charts.due_status_bars(frame, horizon_days=14, title="Due")
    traces = {t.name: t for t in fig.data}
    assert set(traces) == {"Overdue", "Due within 14 days", "Due later"}
    gdpr, lgpd = "GDPR (EU and EEA)", "LGPD (Brazil)"
    assert list(traces["Overdue"].x) == [11] and list(traces["Overdue"].y) == [gdpr]
    assert list(traces["Due within 14 days"].y) == [lgpd]
    assert list(traces["Due within 14 days"].x) == [0]
    assert list(traces["Due later"].x) == [14]
    assert traces["Overdue"].marker.color == shared.CLASS_COLOURS["no"]
    assert traces["Due within 14 days"].marker.color == shared.CLASS_COLOURS["maybe"]
    assert list(fig.layout.yaxis.categoryarray) == [gdpr, lgpd]
    assert "15 days" in str(traces["Due within 14 days"].customdata)


def test_on_time_bars_show_the_deadline_and_never_a_withheld_rate():
    frame = pd.DataFrame(
        {
            "jurisdiction": ["GDPR", "CCPA", "LGPD"],
            "deadline": ["1 calendar month", "45 days", "15 days"],
            "extended_deadline": ["3 calendar months", "90 days", "no extension"],
            "completed": counts(342, None, 57),
            "on_time_rate": counts(0.9298, None, 0.8),
            "median_days": counts(11.0, None, 7.5),
        }
    )
    fig = charts.on_time_bars(frame, title="On time")
    (bars,) = fig.data
    assert list(bars.x) == ["GDPR (EU and EEA)<br>(1 calendar month)", "LGPD (Brazil)<br>(15 days)"]
    assert list(bars.y) == [0.9298, 0.8]
    assert "CCPA" not in spec(fig)
    hover = [c[0] for c in bars.customdata]
    assert hover == ["342 completed · median 11 days", "57 completed · median 7.5 days"]
    assert list(bars.marker.color) == [
        charts.group_colour("GDPR", charts.JURISDICTION_ORDER),
        charts.group_colour("LGPD", charts.JURISDICTION_ORDER),
    ]
    assert fig.layout.yaxis.tickformat == ".0%"


def test_a_withheld_cell_is_not_drawn_as_zero():
    frame = pd.DataFrame(
        {
            "period": ["2026-01", "2026-02"],
            "group": ["erasure", "erasure"],
            "received": counts(None, 23),
        }
    )
    text = spec(charts.period_bars(frame, "received", "type", title="Received"))
    data = json.loads(text)["data"]
    assert len(data) == 1
    assert data[0]["x"] == ["2026-02"] and data[0]["y"] == [23]
    assert "2026-01" not in data[0]["hovertemplate"]
