"""Figure builders of the erasure page. They take published frames only: a withheld value
(None) never becomes a bar, a point, a hover label or an axis value.

Periods read in words on every axis ("Jan 2025"; a week by its first day, "6 Jan 2025"), a
few of them whatever the period's length, with room below the plot for them. Count axes
start at 0 and tick at whole numbers. A chart with nothing to draw (every count zero or
withheld, see `drawable`) is not built by the page: it says so in a sentence instead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from data.storage import schema
from metrics.suppression import is_withheld
from pages import _charts as charts
from pages import _labels as labels

# Request types and jurisdictions keep one colour each whatever the filters leave visible.
TYPE_ORDER: tuple[str, ...] = schema.REQUEST_TYPES
JURISDICTION_ORDER: tuple[str, ...] = schema.JURISDICTIONS
OPEN_COLOUR = charts.BLUE
OVERDUE_COLOUR = charts.WINE  # late: the colour of a refusal
DUE_SOON_COLOUR = charts.ORANGE  # needs attention soon
DUE_LATER_COLOUR = charts.SKY  # in hand
ON_TIME_COLOUR = charts.BLUE  # completed within the legal deadline
LATE_COLOUR = charts.WINE  # completed after it
STATUS = (
    ("overdue", "Overdue", OVERDUE_COLOUR),
    ("due_soon", "Due soon", DUE_SOON_COLOUR),
    ("due_later", "Due later", DUE_LATER_COLOUR),
)


# At most this many period labels on an axis: "Jan 2025" fits six times in a half-width chart.
MAX_TICKS = 6
# Up to this largest count, a tick at every whole number (auto ticks would go fractional).
SMALL_COUNT = 10
# Right margin of the on-time chart, for "100.0% on time" beside the longest bar.
ON_TIME_MARGIN = 120


def drawable(frame: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether a chart of these count columns draws anything: a published count above zero.
    Zeros draw no bar and withheld counts are never drawn, so otherwise the chart would be
    an empty axis."""
    return any(not is_withheld(v) and v > 0 for column in columns for v in frame[column])


def any_withheld(frame: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether any value of these columns is withheld."""
    return any(is_withheld(v) for column in columns for v in frame[column])


def grain_of(periods: Sequence[str]) -> str:
    """The grain of period labels: month for YYYY-MM, week for the ISO dates of weeks."""
    return "month" if all(len(p) == len("YYYY-MM") for p in periods) else "week"


def _day(period: str) -> date:
    return date.fromisoformat(period if len(period) > len("YYYY-MM") else f"{period}-01")


def month_words(day: date) -> str:
    """A month as a reader says it: "Jan 2025"."""
    return f"{day:%b} {day.year}"


def period_words(period: str) -> str:
    """A period label in words: a month "Jan 2025", a week by its first day "6 Jan 2025"."""
    day = _day(period)
    return month_words(day) if grain_of([period]) == "month" else labels.day(day)


def _month_index(period: str) -> int:
    day = _day(period)
    return 12 * day.year + day.month - 1


def period_ticks(periods: Sequence[str], max_ticks: int = MAX_TICKS) -> tuple[list[str], list[str]]:
    """The periods an axis labels, and their labels: every one while at most `max_ticks`;
    else weeks every other week, then (weeks or months) every 1, 2, 3, 6 or 12 months on
    calendar boundaries (Jan, Apr, Jul, Oct for three), a week marking the month it starts
    in."""
    periods = list(periods)
    if len(periods) <= max_ticks:
        return periods, [period_words(p) for p in periods]
    if grain_of(periods) == "week":
        if len(periods) <= 2 * max_ticks:
            shown = periods[::2]
            return shown, [period_words(p) for p in shown]
        # The first week of each month stands for the month.
        marks = [p for i, p in enumerate(periods) if i == 0 or p[:7] != periods[i - 1][:7]]
    else:
        marks = periods
    for step in (1, 2, 3, 6, 12, 24, 60, 120):
        shown = [p for p in marks if _month_index(p) % step == 0]
        if shown and len(shown) <= max_ticks:
            break
    else:
        shown = marks[:: -(-len(marks) // max_ticks)]
    return shown, [month_words(_day(p)) for p in shown]


def period_axis(periods: Sequence[str], max_ticks: int = MAX_TICKS) -> dict[str, Any]:
    """A category axis of periods in order (every one kept, whatever is withheld), labelled
    in words at a few of them, with the margin the labels need."""
    values, text = period_ticks(periods, max_ticks)
    return {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": list(periods),
        "tickmode": "array",
        "tickvals": values,
        "ticktext": text,
        "automargin": True,
    }


def count_axis(top: float) -> dict[str, Any]:
    """An axis of counts up to `top`: from 0, whole numbers with thousands separators, a
    tick at every whole number while the largest count is small."""
    axis: dict[str, Any] = {"rangemode": "tozero", "tickformat": ",d", "automargin": True}
    if top <= SMALL_COUNT:
        axis.update(tick0=0, dtick=1)
    return axis


def label(name: str) -> str:
    """A request type or jurisdiction as a reader sees it."""
    return labels.group(name)


def group_colour(name: str, order: Sequence[str]) -> str:
    """The fixed colour of a request type or jurisdiction."""
    index = list(order).index(name) if name in order else len(order)
    return charts.SERIES_COLOURS[index % len(charts.SERIES_COLOURS)]


def _groups(frame: pd.DataFrame, order: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(frame["group"]))
    return [g for g in order if g in present] + [g for g in present if g not in order]


def period_bars(frame: pd.DataFrame, figure: str, by: str, *, title: str) -> go.Figure:
    """Stacked bars per period of `figure` (received or completed), one colour per request
    type or jurisdiction; withheld cells are left out of the stack."""
    order = TYPE_ORDER if by == "type" else JURISDICTION_ORDER
    fig = go.Figure()
    for group in _groups(frame, order):
        rows = charts.published_only(frame[frame["group"] == group], figure)
        if rows.empty:
            continue
        periods = list(rows["period"].astype(str))
        fig.add_trace(
            go.Bar(
                x=periods,
                y=[int(v) for v in rows[figure]],
                name=label(group),
                marker_color=group_colour(group, order),
                customdata=[[period_words(p)] for p in periods],
                hovertemplate=f"%{{customdata[0]}}: %{{y:,}} {figure}<extra>{label(group)}</extra>",
            )
        )
    published = charts.published_only(frame, figure)
    stacks = published[figure].astype(int).groupby(published["period"].astype(str)).sum()
    periods = list(dict.fromkeys(frame["period"].astype(str)))
    fig.update_layout(barmode="stack", showlegend=True)
    fig.update_xaxes(**period_axis(periods))
    fig.update_yaxes(**count_axis(int(stacks.max()) if len(stacks) else 0))
    # Seven groups are listed beside the chart, top first (the shared layout's legend).
    return charts.layout(fig, title=title, height=400)


def backlog_lines(frame: pd.DataFrame, *, title: str) -> go.Figure:
    """Open and overdue erasure requests at each period end; a withheld point is a gap."""
    periods = list(frame["period"].astype(str))
    ends = [[labels.day(d)] for d in frame["day"]]
    fig = go.Figure()
    top = 0
    for column, name, colour in (
        ("open", "Open", OPEN_COLOUR),
        ("overdue", "Overdue", OVERDUE_COLOUR),
    ):
        values = [None if is_withheld(v) else int(v) for v in frame[column]]
        top = max([top, *(v for v in values if v is not None)])
        fig.add_trace(
            go.Scatter(
                x=periods,
                y=values,
                mode="lines+markers",
                connectgaps=False,
                name=name,
                line={"color": colour},
                customdata=ends,
                hovertemplate=f"%{{customdata[0]}}: %{{y:,}} {name.lower()}<extra></extra>",
            )
        )
    fig.update_xaxes(**period_axis(periods))
    fig.update_yaxes(**count_axis(top))
    fig.update_layout(showlegend=True)
    return charts.layout(fig, title=title)


def due_status_bars(frame: pd.DataFrame, *, horizon_days: int, title: str) -> go.Figure:
    """Horizontal stacked bars per jurisdiction: open erasure requests overdue, due within
    the horizon and due later."""
    names = {"due_soon": f"Due within {horizon_days} days"}
    fig = go.Figure()
    jurisdictions = [label(str(j)) for j in frame["jurisdiction"]]
    for column, name, colour in STATUS:
        rows = charts.published_only(frame, column)
        name = names.get(column, name)
        fig.add_trace(
            go.Bar(
                x=[int(v) for v in rows[column]],
                y=[label(str(j)) for j in rows["jurisdiction"]],
                orientation="h",
                name=name,
                marker_color=colour,
                customdata=[[d] for d in rows["deadline"]],
                hovertemplate=f"%{{y}} (deadline %{{customdata[0]}}): %{{x:,}} {name.lower()}"
                "<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", showlegend=True, legend_traceorder="normal")
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=jurisdictions,
        autorange="reversed",
        automargin=True,
    )
    parts = [c for c, _name, _colour in STATUS]
    sums = [
        sum(int(v) for v in row if not is_withheld(v))
        for row in frame[parts].itertuples(index=False)
    ]
    fig.update_xaxes(**count_axis(max(sums, default=0)))
    height = max(260, 100 + 40 * len(jurisdictions))
    return charts.layout(fig, title=title, height=height)


def on_time_bars(frame: pd.DataFrame, *, title: str) -> go.Figure:
    """Completed erasure requests per jurisdiction as one bar of 100%: the share on time in
    the colour of "on time", the share late in the colour of "late", the on-time share
    written beside the bar, the legal deadline under the jurisdiction's name. A whole bar
    makes 89% and 100% look different (an 11% red piece against none) on an axis that
    runs to 100% honestly; withheld rates are left out."""
    rows = charts.published_only(frame, "on_time_rate")
    names = [
        f"{label(j)}<br>({d})" for j, d in zip(rows["jurisdiction"], rows["deadline"], strict=True)
    ]
    rates = [float(v) for v in rows["on_time_rate"]]
    hover = []
    for row in rows.itertuples(index=False):
        parts = [] if is_withheld(row.completed) else [f"{row.completed:,} completed"]
        if not is_withheld(row.median_days):
            parts.append(f"median {row.median_days:g} days")
        hover.append(" · ".join(parts))
    fig = go.Figure()
    for name, shares, colour, what in (
        ("On time", rates, ON_TIME_COLOUR, "on time"),
        ("Late", [round(1 - r, 12) for r in rates], LATE_COLOUR, "late"),
    ):
        fig.add_trace(
            go.Bar(
                x=shares,
                y=names,
                orientation="h",
                name=name,
                marker_color=colour,
                customdata=[[h] for h in hover],
                hovertemplate=f"%{{y}}: %{{x:.1%}} {what}<br>%{{customdata[0]}}<extra></extra>",
            )
        )
    for name, rate in zip(names, rates, strict=True):
        fig.add_annotation(
            x=1,
            y=name,
            xref="x",
            yref="y",
            text=f"{rate * 100:.1f}% on time",
            showarrow=False,
            xanchor="left",
            xshift=8,
        )
    # No legend: it would stand beside the plot where the written shares are, and each bar
    # says what its blue part is.
    fig.update_layout(barmode="stack", showlegend=False)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", tick0=0, dtick=0.25, automargin=True)
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=names,
        autorange="reversed",
        automargin=True,
    )
    height = max(240, 120 + 50 * len(names))
    fig = charts.layout(fig, title=title, height=height)
    # Room on the right for the written shares.
    fig.update_layout(margin={"r": ON_TIME_MARGIN})
    return fig
