"""Erasure page figure builders on hand-made published frames: withheld values are never
drawn, never in hover text, never on an axis; colours are fixed per group and status; periods
read in words on every axis, counts on whole-number axes from 0, on time against late in the
palette's two colours."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest

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
    on_time, late = fig.data
    names = ["GDPR (EU and EEA)<br>(1 calendar month)", "LGPD (Brazil)<br>(15 days)"]
    assert list(on_time.y) == names and list(late.y) == names
    assert list(on_time.x) == [0.9298, 0.8]
    assert list(late.x) == pytest.approx([0.0702, 0.2])
    assert "CCPA" not in spec(fig)
    hover = [c[0] for c in on_time.customdata]
    assert hover == ["342 completed · median 11 days", "57 completed · median 7.5 days"]


def test_on_time_bars_read_on_time_against_late_in_one_colour_each():
    frame = pd.DataFrame(
        {
            "jurisdiction": ["GDPR", "UK_GDPR", "CCPA"],
            "deadline": ["1 calendar month", "1 calendar month", "45 days"],
            "extended_deadline": ["3 calendar months", "3 calendar months", "90 days"],
            "completed": counts(120, 45, 300),
            "on_time_rate": counts(0.89, 1.0, 0.95),
            "median_days": counts(12.0, 9.0, 20.0),
        }
    )
    fig = charts.on_time_bars(frame, title="On time")
    on_time, late = fig.data
    # One colour per meaning, never one per jurisdiction.
    assert (on_time.name, on_time.marker.color) == ("On time", shared.BLUE)
    assert (late.name, late.marker.color) == ("Late", shared.WINE)
    assert on_time.orientation == late.orientation == "h"
    assert fig.layout.barmode == "stack"
    # Each bar is all completed requests: on time and late add up to 100%.
    assert [a + b for a, b in zip(on_time.x, late.x, strict=True)] == pytest.approx([1, 1, 1])
    assert list(late.x) == pytest.approx([0.11, 0.0, 0.05])
    # 89% and 100% differ by a late piece on an axis that honestly runs 0-100%.
    assert list(fig.layout.xaxis.range) == [0, 1]
    assert fig.layout.xaxis.tickformat == ".0%"
    assert fig.layout.xaxis.dtick == 0.25
    # The share is written beside each bar, as the table rounds it.
    notes = {a.y: a.text for a in fig.layout.annotations}
    assert notes == {
        "GDPR (EU and EEA)<br>(1 calendar month)": "89.0% on time",
        "UK GDPR<br>(1 calendar month)": "100.0% on time",
        "CCPA (California)<br>(45 days)": "95.0% on time",
    }
    assert all(a.x == 1 and a.xanchor == "left" for a in fig.layout.annotations)
    assert fig.layout.margin.r >= 100  # room for "100.0% on time"
    assert fig.layout.yaxis.automargin is True


def _months(first: str, n: int) -> list[str]:
    return [str(p) for p in pd.period_range(first, periods=n, freq="M")]


def _weeks(first: str, n: int) -> list[str]:
    return [d.date().isoformat() for d in pd.date_range(first, periods=n, freq="7D")]


WORDS = re.compile(r"(\d{1,2} )?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}")


@pytest.mark.parametrize("months", [1, 2, 6, 7, 12, 13, 24, 25, 36])
@pytest.mark.parametrize("grain", ["month", "week"])
def test_period_axes_read_in_words_at_a_few_periods(months, grain):
    first = "2024-11-01" if grain == "month" else "2024-11-04"
    periods = _months("2024-11", months) if grain == "month" else _weeks(first, months * 52 // 12)
    axis = charts.period_axis(periods)
    assert axis["type"] == "category"
    assert axis["categoryarray"] == periods  # every period keeps its place
    assert axis["tickmode"] == "array" and axis["automargin"] is True
    values, text = axis["tickvals"], axis["ticktext"]
    assert 1 <= len(values) <= charts.MAX_TICKS
    assert len(text) == len(values)
    assert all(WORDS.fullmatch(t) for t in text), text
    assert [periods.index(v) for v in values] == sorted(periods.index(v) for v in values)


def test_period_labels_name_the_month_or_the_weeks_first_day():
    assert charts.period_ticks(["2025-01", "2025-02"]) == (
        ["2025-01", "2025-02"],
        ["Jan 2025", "Feb 2025"],
    )
    assert charts.period_ticks(["2025-01-01", "2025-01-06"]) == (
        ["2025-01-01", "2025-01-06"],
        ["1 Jan 2025", "6 Jan 2025"],
    )
    # Three years of months: one label every six months, on January and July.
    values, text = charts.period_ticks(_months("2023-10", 36))
    assert text == ["Jan 2024", "Jul 2024", "Jan 2025", "Jul 2025", "Jan 2026", "Jul 2026"]
    # A year of weeks: a label every other month, on the week each month starts in.
    values, text = charts.period_ticks(_weeks("2025-01-06", 52))
    assert text == ["Jan 2025", "Mar 2025", "May 2025", "Jul 2025", "Sep 2025", "Nov 2025"]
    assert values[:2] == ["2025-01-06", "2025-03-03"]


def test_every_period_chart_has_its_labels_in_words():
    months = _months("2024-01", 33)
    frame = pd.DataFrame(
        {
            "period": months,
            "group": ["erasure"] * len(months),
            "received": counts(*[20] * len(months)),
            "completed": counts(*[0] * len(months)),
        }
    )
    bars = charts.period_bars(frame, "received", "type", title="Received")
    backlog = charts.backlog_lines(
        pd.DataFrame(
            {
                "period": months,
                "day": [pd.Period(m, freq="M").end_time.date() for m in months],
                "open": counts(*[15] * len(months)),
                "overdue": counts(*[0] * len(months)),
            }
        ),
        title="Backlog",
    )
    for fig in (bars, backlog):
        axis = fig.layout.xaxis
        assert axis.type == "category" and axis.automargin is True
        assert list(axis.ticktext) == charts.period_ticks(months)[1]
        assert all(WORDS.fullmatch(t) for t in axis.ticktext)
    # Hover labels in words too: the month, or the day a backlog was counted.
    assert bars.data[0].customdata[0][0] == "Jan 2024"
    assert "%{customdata[0]}" in bars.data[0].hovertemplate
    assert backlog.data[0].customdata[0][0] == "31 Jan 2024"


def test_count_axes_start_at_zero_with_whole_number_ticks():
    small = pd.DataFrame(
        {
            "period": ["2026-01", "2026-01", "2026-02"],
            "group": ["erasure", "access", "erasure"],
            "received": counts(2, 1, None),
        }
    )
    fig = charts.period_bars(small, "received", "type", title="Trusted view, k = 1")
    axis = fig.layout.yaxis
    assert axis.rangemode == "tozero" and axis.tickformat == ",d"
    assert (axis.tick0, axis.dtick) == (0, 1)  # 0, 1, 2, 3: never 0.5
    large = small.assign(received=counts(2_000, 150, None))
    axis = charts.period_bars(large, "received", "type", title="Large").layout.yaxis
    assert axis.rangemode == "tozero" and axis.tickformat == ",d" and axis.dtick is None
    backlog = charts.backlog_lines(
        pd.DataFrame(
            {
                "period": ["2026-01", "2026-02"],
                "day": [date(2026, 1, 31), date(2026, 2, 28)],
                "open": counts(3, None),
                "overdue": counts(0, 1),
            }
        ),
        title="Backlog",
    )
    assert backlog.layout.yaxis.rangemode == "tozero"
    assert (backlog.layout.yaxis.dtick, backlog.layout.yaxis.tickformat) == (1, ",d")
    due = charts.due_status_bars(
        pd.DataFrame(
            {
                "jurisdiction": ["GDPR"],
                "deadline": ["1 calendar month"],
                "extended_deadline": ["3 calendar months"],
                "open": counts(5),
                "overdue": counts(2),
                "due_soon": counts(3),
                "due_later": counts(0),
            }
        ),
        horizon_days=14,
        title="Due",
    )
    assert due.layout.xaxis.rangemode == "tozero"
    assert (due.layout.xaxis.dtick, due.layout.xaxis.tickformat) == (1, ",d")
    assert due.layout.yaxis.automargin is True  # jurisdiction names are not cut


def test_a_chart_of_zeros_and_withheld_counts_has_nothing_to_draw():
    frame = pd.DataFrame(
        {
            "period": ["2026-01", "2026-02"],
            "received": counts(0, None),
            "completed": counts(0, 0),
            "open": counts(None, 12),
        }
    )
    assert not charts.drawable(frame, ["received"])
    assert not charts.drawable(frame, ["completed"])
    assert not charts.drawable(frame, ["received", "completed"])
    assert charts.drawable(frame, ["open"])
    assert charts.any_withheld(frame, ["received"])
    assert not charts.any_withheld(frame, ["completed"])


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
