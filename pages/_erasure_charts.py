"""Figure builders of the erasure page. They take published frames only: a withheld value
(None) never becomes a bar, a point, a hover label or an axis value."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from data import schema
from pages import _charts as charts
from pages import _labels as labels

# Request types and jurisdictions keep one colour each whatever the filters leave visible.
TYPE_ORDER: tuple[str, ...] = schema.REQUEST_TYPES
JURISDICTION_ORDER: tuple[str, ...] = schema.JURISDICTIONS
OPEN_COLOUR = charts.BLUE
OVERDUE_COLOUR = charts.WINE  # late: the colour of a refusal
DUE_SOON_COLOUR = charts.ORANGE  # needs attention soon
DUE_LATER_COLOUR = charts.SKY  # in hand
STATUS = (
    ("overdue", "Overdue", OVERDUE_COLOUR),
    ("due_soon", "Due soon", DUE_SOON_COLOUR),
    ("due_later", "Due later", DUE_LATER_COLOUR),
)


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
        fig.add_trace(
            go.Bar(
                x=list(rows["period"].astype(str)),
                y=[int(v) for v in rows[figure]],
                name=label(group),
                marker_color=group_colour(group, order),
                hovertemplate=f"%{{x}}: %{{y:,}} {figure}<extra>{label(group)}</extra>",
            )
        )
    periods = list(dict.fromkeys(frame["period"].astype(str)))
    fig.update_layout(barmode="stack", showlegend=True)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=periods)
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    # Seven groups are listed beside the chart, top first (the shared layout's legend).
    return charts.layout(fig, title=title, height=400)


def backlog_lines(frame: pd.DataFrame, *, title: str) -> go.Figure:
    """Open and overdue erasure requests at each period end; a withheld point is a gap."""
    fig = go.Figure()
    for column, name, colour in (
        ("open", "Open", OPEN_COLOUR),
        ("overdue", "Overdue", OVERDUE_COLOUR),
    ):
        fig.add_trace(
            go.Scatter(
                x=[str(d) for d in frame["day"]],
                y=[None if pd.isna(v) else int(v) for v in frame[column]],
                mode="lines+markers",
                connectgaps=False,
                name=name,
                line={"color": colour},
                hovertemplate=f"%{{x}}: %{{y:,}} {name.lower()}<extra></extra>",
            )
        )
    fig.update_xaxes(type="date")
    fig.update_yaxes(tickformat=",", rangemode="tozero")
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
        type="category", categoryorder="array", categoryarray=jurisdictions, autorange="reversed"
    )
    fig.update_xaxes(tickformat=",", rangemode="tozero")
    height = max(260, 100 + 40 * len(jurisdictions))
    return charts.layout(fig, title=title, height=height)


def on_time_bars(frame: pd.DataFrame, *, title: str) -> go.Figure:
    """On-time rate per jurisdiction, its legal deadline in the label; withheld rates are
    left out."""
    rows = charts.published_only(frame, "on_time_rate")
    fig = go.Figure()
    names = [
        f"{label(j)}<br>({d})" for j, d in zip(rows["jurisdiction"], rows["deadline"], strict=True)
    ]
    hover = []
    for row in rows.itertuples(index=False):
        parts = [f"{row.completed:,} completed"] if row.completed is not None else []
        if row.median_days is not None and not pd.isna(row.median_days):
            parts.append(f"median {row.median_days:g} days")
        hover.append(" · ".join(parts))
    fig.add_trace(
        go.Bar(
            x=names,
            y=[float(v) for v in rows["on_time_rate"]],
            marker_color=[group_colour(j, JURISDICTION_ORDER) for j in rows["jurisdiction"]],
            customdata=[[h] for h in hover],
            hovertemplate="%{x}: %{y:.1%} on time<br>%{customdata[0]}<extra></extra>",
            name="On-time rate",
        )
    )
    fig.update_layout(showlegend=False)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    fig.update_xaxes(type="category")
    return charts.layout(fig, title=title)
