"""Pure Plotly figure builders shared by the pages. They take published tables only: a
withheld value (None) never becomes a bar, a point, a hover label or an axis value."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

# Colours that carry a meaning: blue is consent given (yes, granted), orange undecided or
# changed (maybe, withdrawn), wine refused (no, denied), grey nothing yet. From Okabe and
# Ito's set; tests/pages/test_palette.py checks every group apart under simulated
# deuteranomaly, protanomaly and tritanomaly.
BLUE, SKY, ORANGE, WINE, GREY = "#0072B2", "#56B4E9", "#E69F00", "#882255", "#BBBBBB"
CLASS_COLOURS = {"yes": BLUE, "maybe": ORANGE, "no": WINE}
CLASS_LABELS = {"yes": "Yes (opted in)", "maybe": "Maybe (undecided)", "no": "No (refused/erasure)"}
STATE_COLOURS = {"granted": BLUE, "denied": WINE, "withdrawn": ORANGE, "no_decision": GREY}
# Series without a meaning of their own (purposes, request types, jurisdictions): Paul Tol's
# "muted" set, none of the colours above, so no purpose looks like "granted".
SERIES_COLOURS = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#AA4499")


# What stands between a figure's title and its plot when the figure has panels: one line of
# panel titles (make_subplots' annotations, 16 px type) and the gap under them.
PANEL_TITLES = 30


def layout(
    fig: go.Figure, *, title: str | None = None, height: int = 360, above: int = 0
) -> go.Figure:
    """Common layout: transparent background (follows the app theme), compact margins.

    Nothing is placed by hoping the chart is wide enough. The title stands above the plot
    area, `above` px clear of it (room for panel titles), in a top margin Plotly widens to fit
    it (automargin); the legend, when shown, stands beside the plot, from its top down, in a
    right margin Plotly widens to fit the legend. The two share no height, so they cannot
    overlap at any width, on screen or in the PNG the chart's toolbar downloads (the same
    layout)."""
    fig.update_layout(
        title=(
            {
                "text": title,
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "pad": {"b": 12 + above},
                "automargin": True,
            }
            if title
            else None
        ),
        height=height,
        margin={"l": 10, "r": 10, "t": 10 + (0 if title else above), "b": 10},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
        hovermode="closest",
    )
    return fig


def colour_for(name: str, index: int) -> str:
    """The class or state colour for `name`, else a series colour by position."""
    return (
        CLASS_COLOURS.get(name)
        or STATE_COLOURS.get(name)
        or SERIES_COLOURS[index % len(SERIES_COLOURS)]
    )


def published_only(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """Rows whose `value` is published (withheld rows dropped, never drawn)."""
    return frame[frame[value].notna()]


def bars(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    series: str | None = None,
    horizontal: bool = False,
    percent: bool = False,
    barmode: str = "group",
    title: str | None = None,
    order: Sequence[str] | None = None,
) -> go.Figure:
    """Bars of published values, one trace per series; withheld cells are left out."""
    fig = go.Figure()
    groups = [(None, frame)] if series is None else list(frame.groupby(series, sort=False))
    if order is not None and series is not None:
        rank = {name: i for i, name in enumerate(order)}
        groups.sort(key=lambda g: rank.get(g[0], len(rank)))
    fmt = ".1%" if percent else ",.0f"
    for i, (name, group) in enumerate(groups):
        shown = published_only(group, y)
        values, labels = shown[y].astype(float), shown[x].astype(str)
        fig.add_trace(
            go.Bar(
                x=values if horizontal else labels,
                y=labels if horizontal else values,
                orientation="h" if horizontal else "v",
                name=str(name) if name is not None else y,
                marker_color=colour_for(str(name), i) if name is not None else SERIES_COLOURS[0],
                hovertemplate=f"%{{{'y' if horizontal else 'x'}}}: "
                f"%{{{'x' if horizontal else 'y'}:{fmt}}}<extra>{name or ''}</extra>",
            )
        )
    fig.update_layout(barmode=barmode, showlegend=series is not None)
    axis = {"tickformat": ".0%" if percent else ",", "rangemode": "tozero"}
    if horizontal:
        fig.update_xaxes(**axis)
        fig.update_yaxes(autorange="reversed")
    else:
        fig.update_yaxes(**axis)
    return layout(fig, title=title)


def lines(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    series: str | None = None,
    percent: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Lines of published values over time; a withheld point is a gap, not a value."""
    fig = go.Figure()
    groups = [(None, frame)] if series is None else list(frame.groupby(series, sort=False))
    fmt = ".1%" if percent else ",.0f"
    for i, (name, group) in enumerate(groups):
        group = group.sort_values(x)
        values = [None if pd.isna(v) else float(v) for v in group[y]]
        fig.add_trace(
            go.Scatter(
                x=list(group[x].astype(str)),
                y=values,
                mode="lines+markers",
                connectgaps=False,
                name=str(name) if name is not None else y,
                line={"color": colour_for(str(name), i) if name is not None else SERIES_COLOURS[0]},
                hovertemplate=f"%{{x}}: %{{y:{fmt}}}<extra>{name or ''}</extra>",
            )
        )
    fig.update_yaxes(tickformat=".0%" if percent else ",", rangemode="tozero")
    fig.update_layout(showlegend=series is not None)
    return layout(fig, title=title)
