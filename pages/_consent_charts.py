"""Figure builders of the consent page. They take published frames from
metrics.consent_views: a withheld value (None) is never drawn, hovered or put on an axis."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from data.storage.schema import CONSENT_STATES, PURPOSES
from pages import _charts as charts
from pages import _labels as labels

STATE_LABELS = {
    "granted": "Granted",
    "denied": "Denied",
    "withdrawn": "Withdrawn",
    "no_decision": "No decision",
}


def purpose_label(purpose: str) -> str:
    """A purpose as every page says it: sms_marketing -> SMS marketing."""
    return labels.words(purpose)


def purpose_colour(purpose: str) -> str:
    """One series colour per purpose, the same on every chart whatever the filters."""
    index = (
        PURPOSES.index(purpose) if purpose in PURPOSES else len(PURPOSES) + sum(map(ord, purpose))
    )
    return charts.SERIES_COLOURS[index % len(charts.SERIES_COLOURS)]


def _by_purpose(fig: go.Figure) -> go.Figure:
    """Traces named after purposes: their fixed colour and a readable name."""
    for trace in fig.data:
        purpose, label = trace.name, purpose_label(trace.name)
        if isinstance(trace, go.Bar):
            trace.marker.color = purpose_colour(purpose)
        else:
            trace.line.color = purpose_colour(purpose)
        trace.name = label
        trace.hovertemplate = trace.hovertemplate.replace(
            f"<extra>{purpose}</extra>", f"<extra>{label}</extra>"
        )
    return fig


def state_split(overview: pd.DataFrame) -> go.Figure:
    """One horizontal bar per purpose split into its consent states (shares of customers);
    a withheld share leaves its part of the bar empty."""
    fig = go.Figure()
    labels = [purpose_label(p) for p in overview["purpose"]]
    for state in CONSENT_STATES:
        share, count = overview[f"{state}_share"], overview[state]
        shown = [i for i in range(len(overview)) if pd.notna(share.iloc[i])]
        fig.add_trace(
            go.Bar(
                x=[float(share.iloc[i]) for i in shown],
                y=[labels[i] for i in shown],
                customdata=[int(count.iloc[i]) for i in shown],
                orientation="h",
                name=STATE_LABELS[state],
                marker_color=charts.STATE_COLOURS[state],
                hovertemplate="%{y}: %{x:.1%} (%{customdata:,} customers)"
                f"<extra>{STATE_LABELS[state]}</extra>",
            )
        )
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_xaxes(tickformat=".0%", range=[0, 1], tickvals=[0, 0.25, 0.5, 0.75, 1])
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    title = "Consent state per purpose (share of customers)"
    return charts.layout(fig, title=title, height=160 + 45 * len(labels))


def _worded(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """The frame with its `dimension` values as readers say them (pages/_labels.py)."""
    read = labels.VALUES.get(dimension)
    if read is None:
        return frame
    return frame.assign(
        **{dimension: [read(v) if isinstance(v, str) else v for v in frame[dimension]]}
    )


def opted_in_bars(frame: pd.DataFrame, dimension: str, label: str) -> go.Figure:
    """Opted-in (granted) customers per value of `dimension`, one bar per purpose."""
    fig = charts.bars(
        _worded(frame, dimension),
        x=dimension,
        y="granted",
        series="purpose",
        title=f"Opted-in customers by {label.lower()}",
    )
    return _by_purpose(fig)


def opt_in_rate_bars(frame: pd.DataFrame, dimension: str, label: str) -> go.Figure:
    """Opt-in rate (granted / decided) per value of `dimension`, one bar per purpose."""
    fig = charts.bars(
        _worded(frame, dimension),
        x=dimension,
        y="opt_in_rate",
        series="purpose",
        percent=True,
        title=f"Opt-in rate by {label.lower()}",
    )
    return _by_purpose(fig)


def opted_in_share(trend: pd.DataFrame, grain: str) -> go.Figure:
    """Share of all customers opted in at the end of each period, one line per purpose."""
    fig = charts.lines(
        trend,
        x="period",
        y="granted_share",
        series="purpose",
        percent=True,
        title=f"Opted in (share of all customers) at the end of each {grain}",
    )
    return _by_purpose(fig)


def trend_rate(trend: pd.DataFrame, grain: str) -> go.Figure:
    """Share of each period's new decisions that were grants, one line per purpose."""
    fig = charts.lines(
        trend,
        x="period",
        y="opt_in_rate",
        series="purpose",
        percent=True,
        title=f"Opt-in rate of new decisions per {grain}",
    )
    return _by_purpose(fig)


def withdrawals(trend: pd.DataFrame, grain: str) -> go.Figure:
    """Customers who withdrew a consent in each period, one line per purpose."""
    fig = charts.lines(
        trend, x="period", y="withdrawn", series="purpose", title=f"Withdrawals per {grain}"
    )
    return _by_purpose(fig)
