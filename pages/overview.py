"""Overview: the headline figures, each against the previous period of equal length."""

import pandas as pd
import streamlit as st

from metrics.overview import headline
from pages import _charts as charts
from pages import _labels as labels
from pages import _widgets as w

info, params = w.context()
k = params.min_cell
w.header(
    "Overview",
    "Who has said yes, who has not decided and who has said no, how each group buys, and "
    "whether erasure requests are answered in time.",
)
w.freshness(info, params)
params, currency = w.currency(info, params, container=st.columns(4)[0])
tiles = {t.key: t for t in w.figures(headline, params)}
FORMAT = {"count": w.count, "rate": w.rate, "money": w.in_currency(currency)}


def label(key: str) -> str:
    """A tile's name, its purpose in the words every page uses."""
    if key.startswith("opted_in_"):
        return f"Opted in: {labels.words(key.removeprefix('opted_in_'))}"
    return tiles[key].label


def tile(column, key: str) -> None:
    t = tiles[key]
    fmt = FORMAT[t.unit]
    delta = None
    if t.change is not None:
        delta = f"{t.change * 100:+.1f} pts" if t.unit == "rate" else f"{t.change:+,.0f}"
        if t.unit == "money" and currency:
            delta = f"{delta} {currency}"
    column.metric(
        label(key),
        fmt(t.value, k),
        delta,
        delta_color="off" if "overdue" not in key else "inverse",
        help=f"Previous period: {fmt(t.previous, k)}",
    )


row = st.columns(1 + len(params.marketing_purposes))
tile(row[0], "customers")
for column, purpose in zip(row[1:], params.marketing_purposes, strict=True):
    tile(column, f"opted_in_{purpose}")
w.meaning(
    "Opted-in share is the part of all customers who currently allow each marketing purpose. "
    "The small figure under each tile is the change against the previous period of the same "
    "length."
)

st.subheader("Yes, maybe, no")
for prefix in ("class", "conversion", "revenue"):
    columns = st.columns(3)
    for column, cls in zip(columns, ("yes", "maybe", "no"), strict=True):
        tile(column, f"{prefix}_{cls}")
w.meaning(
    '"Yes" customers allow at least one marketing purpose; "maybe" customers have not '
    'decided; "no" customers refused or asked to be forgotten. Conversion is the share who '
    "ordered in the period; revenue is what their orders in the period brought in"
    + (f", in {labels.currency(currency)}." if currency else ".")
    + (" Orders in other currencies are left out of it." if params.currency else "")
)
classes = pd.DataFrame(
    {
        "class": ["yes", "maybe", "no"],
        "revenue": [tiles[f"revenue_{c}"].value for c in ("yes", "maybe", "no")],
        "customers": [tiles[f"class_{c}"].value for c in ("yes", "maybe", "no")],
    }
)
left, right = st.columns(2)
w.chart(
    charts.bars(classes, x="class", y="customers", series="class", title="Customers by class"),
    key="overview_classes",
    container=left,
)
w.chart(
    charts.bars(
        classes,
        x="class",
        y="revenue",
        series="class",
        title=f"Revenue by class ({currency})" if currency else "Revenue by class",
    ),
    key="overview_revenue",
    container=right,
)

st.subheader("Erasure requests")
columns = st.columns(2)
tile(columns[0], "erasure_open")
tile(columns[1], "erasure_overdue")
w.meaning(
    "Open requests are erasure requests received and not yet completed; overdue ones have "
    "passed their jurisdiction's legal deadline. Overdue should be zero."
)

table = pd.DataFrame(
    {
        "figure": [label(key) for key in tiles],
        "value": [t.value for t in tiles.values()],
        "previous_period": [t.previous for t in tiles.values()],
        "unit": [t.unit for t in tiles.values()],
        "currency": [currency if t.unit == "money" and currency else "" for t in tiles.values()],
    }
)
w.download(table, "overview", k)
w.how_computed(
    "overview",
    [
        "customers",
        "consent_state",
        "ymn",
        "conversion_rate",
        "revenue",
        "erasure_open",
        "erasure_overdue",
    ],
    params,
)
