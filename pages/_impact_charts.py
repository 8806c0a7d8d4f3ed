"""Figure and table builders of the conversion-impact page. They take published frames (from
metrics.impact) only: a withheld value (None) is never drawn, never in hover text, never on an
axis; in tables it reads "withheld"."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from metrics.suppression import WITHHELD, formatted, is_withheld
from pages import _charts as charts

SHORT_LABELS = {
    "yes": "Yes",
    "maybe": "Maybe",
    "no": "No",
    "granted": "Granted",
    "denied": "Denied",
    "withdrawn": "Withdrawn",
    "no_decision": "No decision",
}
RAW_COLOUR, STRATIFIED_COLOUR = charts.GREY, charts.BLUE
RAW_TITLE, STRATIFIED_TITLE = "As observed", "Like with like"
MEASURE_LABELS = {
    "conversion_rate": "Conversion rate",
    "revenue_per_customer": "Revenue per customer",
}
COLUMN = {"conversion_rate": "rate", "revenue_per_customer": "revenue_per_customer"}


def measure_label(measure: str, currency: str | None = None) -> str:
    """A measure's name, an amount's with its currency: "Revenue per customer (EUR)"."""
    label = MEASURE_LABELS[measure]
    return f"{label} ({currency})" if currency and measure != "conversion_rate" else label


def group_label(group: str) -> str:
    """How a class or consent state is named on screen."""
    return charts.CLASS_LABELS.get(group) or SHORT_LABELS.get(group, group.replace("_", " "))


# Formatting: withheld values read the one withheld marker.


def percent(value: float | None, k: int) -> str:
    """A rate as a percentage with one decimal, or the withheld marker."""
    return formatted(value, lambda v: f"{v * 100:.1f}%")


def points(value: float | None, k: int) -> str:
    """A difference of rates in percentage points, signed, or the withheld marker."""
    return formatted(value, lambda v: f"{v * 100:+.1f} pts")


def amount(value: float | None, k: int) -> str:
    """An amount per customer with two decimals, or the withheld marker."""
    return formatted(value, "{:,.2f}")


def signed_amount(value: float | None, k: int) -> str:
    """A difference of amounts, signed, with two decimals, or the withheld marker."""
    return formatted(value, "{:+,.2f}")


def count(value: int | None, k: int) -> str:
    """A count with thousands separators, or the withheld marker."""
    return formatted(value, lambda v: f"{int(v):,}")


def with_interval(
    value: float | None, low: float | None, high: float | None, fmt: Callable[..., str], k: int
) -> str:
    """ "estimate (low to high)", or the withheld marker when the estimate is withheld."""
    if is_withheld(value):
        return WITHHELD
    if is_withheld(low) or is_withheld(high):
        return fmt(value, k)
    bounds = (fmt(low, k), fmt(high, k))
    if fmt is points:  # the unit once, after the estimate
        bounds = tuple(b.removesuffix(" pts") for b in bounds)
    return f"{fmt(value, k)} ({bounds[0]} to {bounds[1]})"


# Dot-and-whisker charts.


def _point(
    fig: go.Figure,
    row: pd.Series,
    column: str,
    *,
    col: int,
    percent_scale: bool,
    name: str,
) -> bool:
    value = row[column]
    if is_withheld(value):
        return False
    low, high = row[f"{column}_low"], row[f"{column}_high"]
    has_interval = not (is_withheld(low) or is_withheld(high))
    scale = 100.0 if percent_scale else 1.0
    unit = "%" if percent_scale else ""
    digits = ".1f" if percent_scale else ",.2f"
    x = float(value) * scale
    error = None
    hover = f"<b>{group_label(row['group'])}</b><br>{name}: %{{x:{digits}}}{unit}"
    custom = None
    if has_interval:
        lo, hi = float(low) * scale, float(high) * scale
        error = {
            "type": "data",
            "symmetric": False,
            "array": [hi - x],
            "arrayminus": [x - lo],
            "thickness": 2,
            "width": 6,
        }
        custom = [[lo, hi]]
        hover += (
            f"<br>95% interval: %{{customdata[0]:{digits}}}{unit} to %{{customdata[1]:{digits}}}"
            f"{unit}"
        )
    colour = charts.colour_for(str(row["group"]), 0)
    fig.add_trace(
        go.Scatter(
            x=[x],
            y=[group_label(row["group"])],
            mode="markers",
            marker={"color": colour, "size": 11, "symbol": "circle" if col == 1 else "diamond"},
            error_x=error if error else {"visible": False},
            customdata=custom,
            name=group_label(row["group"]),
            legendgroup=str(row["group"]),
            showlegend=False,
            hovertemplate=hover + "<extra></extra>",
        ),
        row=1,
        col=col,
    )
    return True


def estimates(
    groups: pd.DataFrame, *, measure: str, title: str | None = None, currency: str | None = None
) -> go.Figure:
    """Each group's estimate with its 95% interval, as observed (left) and like with like
    (right, same channel and country mix); withheld groups are left out."""
    column = COLUMN[measure]
    rate = measure == "conversion_rate"
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=(RAW_TITLE, f"{STRATIFIED_TITLE} (same channel and country mix)"),
    )
    shown = []
    for _, row in groups.iterrows():
        drawn = _point(fig, row, column, col=1, percent_scale=rate, name=RAW_TITLE)
        drawn |= _point(
            fig, row, f"stratified_{column}", col=2, percent_scale=rate, name=STRATIFIED_TITLE
        )
        if drawn:
            shown.append(group_label(row["group"]))
    fig.update_yaxes(categoryorder="array", categoryarray=shown, autorange="reversed")
    fig.update_xaxes(
        title_text="% of customers who ordered" if rate else _per_customer(currency),
        ticksuffix="%" if rate else "",
        rangemode="tozero",
        matches="x",
    )
    fig.update_layout(showlegend=False)
    # The panel titles stand between the figure's title and the panels.
    height = 150 + 55 * max(len(shown), 1)
    return charts.layout(fig, title=title, height=height, above=charts.PANEL_TITLES)


def gaps(
    frame: pd.DataFrame, *, measure: str, title: str | None = None, currency: str | None = None
) -> go.Figure:
    """The gap between two groups per pair, as observed and like with like, each with its 95%
    interval, around a zero line (no difference); withheld gaps are left out."""
    rows = frame[frame["measure"] == measure]
    rate = measure == "conversion_rate"
    scale = 100.0 if rate else 1.0
    digits = "+.1f" if rate else "+,.2f"
    unit = " pts" if rate else ""
    fig = go.Figure()
    shown: list[str] = []
    for kind, name, colour, symbol in (
        ("raw", RAW_TITLE, RAW_COLOUR, "circle-open"),
        ("stratified", STRATIFIED_TITLE, STRATIFIED_COLOUR, "diamond"),
    ):
        xs, ys, lows, highs, custom = [], [], [], [], []
        for _, row in rows.iterrows():
            value = row[kind]
            if is_withheld(value):
                continue
            label = f"{SHORT_LABELS.get(row['first'], row['first'])} − " + SHORT_LABELS.get(
                row["second"], row["second"]
            )
            x = float(value) * scale
            low = row[f"{kind}_low"]
            high = row[f"{kind}_high"]
            lo = x if is_withheld(low) else float(low) * scale
            hi = x if is_withheld(high) else float(high) * scale
            xs.append(x)
            ys.append(label)
            lows.append(x - lo)
            highs.append(hi - x)
            custom.append([lo, hi])
            if label not in shown:
                shown.append(label)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=name,
                offsetgroup=kind,
                marker={"color": colour, "size": 11, "symbol": symbol, "line": {"width": 2}},
                orientation="h",
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": highs,
                    "arrayminus": lows,
                    "color": colour,
                    "thickness": 2,
                    "width": 6,
                },
                customdata=custom,
                hovertemplate=f"<b>%{{y}}</b><br>{name}: %{{x:{digits}}}{unit}<br>95% interval: "
                f"%{{customdata[0]:{digits}}} to %{{customdata[1]:{digits}}}{unit}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line_dash="dot", line_color=charts.GREY)
    fig.update_yaxes(categoryorder="array", categoryarray=shown, autorange="reversed")
    fig.update_xaxes(
        title_text="difference in percentage points"
        if rate
        else f"difference {_per_customer(currency).removeprefix('revenue ')}"
    )
    fig.update_layout(scattermode="group", scattergap=0.5, showlegend=True)
    return charts.layout(fig, title=title, height=160 + 60 * max(len(shown), 1))


def _per_customer(currency: str | None) -> str:
    return f"revenue per customer ({currency})" if currency else "revenue per customer"


# Tables for display.


# group_table's columns as the page shows them, in two tables (one is wider than a laptop's
# page).
CONVERSION_COLUMNS = [
    "Group",
    "Customers",
    "Converters",
    "Conversion rate, as observed (95% interval)",
    "Conversion rate, like with like",
]


def revenue_columns(currency: str | None = None) -> list[str]:
    """group_table's revenue columns (amounts in `currency`)."""
    revenue = measure_label("revenue_per_customer", currency)
    return [
        "Group",
        "Customers",
        f"{revenue}, as observed (95% interval)",
        f"{revenue}, like with like",
    ]


def group_table(groups: pd.DataFrame, k: int, currency: str | None = None) -> pd.DataFrame:
    """The published figures per group, formatted for reading (the withheld marker where
    withheld)."""
    revenue = measure_label("revenue_per_customer", currency)
    out = []
    for _, row in groups.iterrows():
        out.append(
            {
                "Group": group_label(row["group"]),
                "Customers": count(row["customers"], k),
                "Converters": count(row["converters"], k),
                "Conversion rate, as observed (95% interval)": with_interval(
                    row["rate"], row["rate_low"], row["rate_high"], percent, k
                ),
                "Conversion rate, like with like": with_interval(
                    row["stratified_rate"],
                    row["stratified_rate_low"],
                    row["stratified_rate_high"],
                    percent,
                    k,
                ),
                f"{revenue}, as observed (95% interval)": with_interval(
                    row["revenue_per_customer"],
                    row["revenue_per_customer_low"],
                    row["revenue_per_customer_high"],
                    amount,
                    k,
                ),
                f"{revenue}, like with like": with_interval(
                    row["stratified_revenue_per_customer"],
                    row["stratified_revenue_per_customer_low"],
                    row["stratified_revenue_per_customer_high"],
                    amount,
                    k,
                ),
            }
        )
    return pd.DataFrame(out)


def gap_table(frame: pd.DataFrame, k: int, currency: str | None = None) -> pd.DataFrame:
    """Raw and like-with-like gaps with their 95% intervals, formatted (the withheld marker
    where withheld)."""
    out = []
    for _, row in frame.iterrows():
        fmt = points if row["measure"] == "conversion_rate" else signed_amount
        out.append(
            {
                "Comparison": f"{group_label(row['first'])} minus {group_label(row['second'])}",
                "Measure": measure_label(row["measure"], currency),
                "As observed (95% interval)": with_interval(
                    row["raw"], row["raw_low"], row["raw_high"], fmt, k
                ),
                "Like with like (95% interval)": with_interval(
                    row["stratified"], row["stratified_low"], row["stratified_high"], fmt, k
                ),
            }
        )
    return pd.DataFrame(out)


def headline(
    frame: pd.DataFrame, k: int, currency: str | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """For the first pair, per measure: a heading and its (label, value) gap tiles, as
    observed and like with like (the withheld marker where withheld)."""
    if frame.empty:
        return []
    first, second = frame.iloc[0]["first"], frame.iloc[0]["second"]
    pair = f"{SHORT_LABELS.get(first, first)} minus {SHORT_LABELS.get(second, second).lower()}"
    out = []
    for _, row in frame[(frame["first"] == first) & (frame["second"] == second)].iterrows():
        fmt = points if row["measure"] == "conversion_rate" else signed_amount
        heading = f"{measure_label(row['measure'], currency)} gap: {pair}"
        out.append(
            (
                heading,
                [(RAW_TITLE, fmt(row["raw"], k)), (STRATIFIED_TITLE, fmt(row["stratified"], k))],
            )
        )
    return out
