"""Conversion impact: conversion and revenue per customer by consent group, as observed and
compared like with like (same acquisition channel and country mix), with 95% intervals."""

import streamlit as st

from metrics.impact import BY_CLASS, BY_STATE, RATE, REVENUE, impact, metrics_for
from metrics.suppression import WITHHELD
from pages import _impact_charts as ic
from pages import _labels as labels
from pages import _widgets as w

info, params = w.context()
k = params.min_cell
w.header(
    "Conversion impact",
    "Do customers who said yes to marketing buy more than those who did not, once each group "
    "is compared on the same mix of acquisition channels and countries?",
)
w.freshness(info, params)

left, right = st.columns([1, 1])
by = w.control(
    st.radio,
    "Group customers by",
    [BY_CLASS, BY_STATE],
    key="impact_by",
    default=BY_CLASS,
    format_func={BY_CLASS: "Yes / maybe / no", BY_STATE: "Consent to one purpose"}.get,
    container=left,
    horizontal=True,
)
purpose = None
if by == BY_STATE:
    purposes = w.purposes_shown()
    if not purposes:
        st.info("The store holds no consent decisions yet, so there is no purpose to group by.")
        st.stop()
    preferred = [p for p in params.marketing_purposes if p in purposes]
    purpose = w.control(
        st.selectbox,
        "Purpose",
        purposes,
        key="impact_purpose",
        default=preferred[0] if preferred else purposes[0],
        format_func=labels.words,
        container=right,
    )

params, currency = w.currency(info, params, container=left)
result = w.figures(impact, params, by, purpose)
if not result.customers:
    st.info(
        "No customers match these filters as of the period's end (or too few to show). "
        "Widen the filters or the period."
    )
    st.stop()

if by == BY_CLASS:
    groups_text = (
        '"Yes" customers allow at least one marketing purpose, "maybe" customers have not '
        'decided and "no" customers refused or asked to be forgotten'
    )
else:
    groups_text = (
        f"Customers are grouped by their current answer on {purpose.replace('_', ' ')}: "
        "granted, denied, withdrawn (said yes, then no) or no decision yet"
    )

tiles = ic.headline(result.gaps, k, currency)
if tiles:
    for column, (heading, pair) in zip(st.columns(len(tiles)), tiles, strict=True):
        column.markdown(f"**{heading}**")
        for cell, (label, value) in zip(column.columns(len(pair)), pair, strict=True):
            cell.metric(label, value)
    w.meaning(
        f"{groups_text}. The gap is how much higher (or lower, when negative) the first group "
        'scores than the second. "As observed" compares the groups as they are; "like with '
        'like" compares them as if both had the same mix of acquisition channels and '
        "countries, so the gap is not just one group coming more from a channel or country that "
        "buys more anyway."
    )

coverage = f"all but fewer than {k} customers"
if result.covered is not None:
    coverage = f"{result.covered:.1%} of customers"
pooled = ", smaller ones pooled into one" if result.pooled else ""
st.caption(
    f"Like with like compares the groups within {result.strata_used:,} of "
    f"{result.strata:,} channel × country combinations{pooled}, covering {coverage}."
)

if not result.any_published:
    st.info(
        f"Every group here has fewer than {k} customers or converters, so no rate can be shown. "
        "Widen the filters or the period."
    )
else:
    st.subheader("Conversion rate")
    w.chart(
        ic.estimates(result.groups, measure=RATE, title="Share of customers who ordered"),
        key="impact_rate",
    )
    w.meaning(
        "Each dot is the share of a group's customers who placed at least one order in the "
        "period; the whisker is the range the true figure very likely lies in (95%), given how "
        "many customers are behind it. Left: as observed. Right: like with like, the same "
        "groups re-weighted to one common mix of channels and countries. Where the dots move "
        "between left and right, part of the observed difference came from the mix."
    )

    st.subheader("Revenue per customer")
    w.chart(
        ic.estimates(
            result.groups,
            measure=REVENUE,
            title="Revenue per customer in the period",
            currency=currency,
        ),
        key="impact_revenue",
    )
    w.meaning(
        "Each dot is the revenue of the group's orders in the period divided by all its "
        "customers, buyers or not, so it combines how many buy with how much they spend. "
        "Whiskers and the left/right split read as in the chart above."
    )

    st.subheader("Gaps between groups")
    rate_gaps, revenue_gaps = st.columns(2)
    w.chart(
        ic.gaps(result.gaps, measure=RATE, title="Conversion gap (percentage points)"),
        key="impact_rate_gaps",
        container=rate_gaps,
    )
    w.chart(
        ic.gaps(
            result.gaps,
            measure=REVENUE,
            title=ic.measure_label(REVENUE, currency) + " gap",
            currency=currency,
        ),
        key="impact_revenue_gaps",
        container=revenue_gaps,
    )
    w.meaning(
        "Each row compares two groups: right of the dotted zero line the first group does "
        "better, left of it worse. The hollow dot is the gap as observed; the diamond is the gap "
        "compared like with like (same channel and country mix). If the diamond sits much closer "
        "to zero than the hollow dot, much of the observed gap is explained by where the "
        "customers came from rather than by their consent; a whisker crossing zero means the "
        "data cannot tell the groups apart."
    )
    st.dataframe(ic.gap_table(result.gaps, k, currency), hide_index=True, key="impact_gap_table")
    w.meaning(
        "The same gaps as numbers. Conversion gaps are in percentage points (10 pts = 10 more "
        "buyers per 100 customers); revenue gaps are per customer"
        + (f", in {labels.currency(currency)}" if currency else "")
        + (", counting orders in that currency only." if params.currency else ".")
    )

st.subheader("Figures per group")
# Conversion and revenue in two tables: in one, the table is wider than a laptop's page.
table = ic.group_table(result.groups, k, currency)
st.dataframe(table[ic.CONVERSION_COLUMNS], hide_index=True, key="impact_group_table")
st.dataframe(table[ic.revenue_columns(currency)], hide_index=True, key="impact_group_revenue")
w.meaning(
    f"{groups_text}. Counts under {k} read {WITHHELD}, and a group's rates only when enough "
    "customers and buyers stand behind them."
)
w.download(result.groups, f"conversion_impact_{by}_groups", k)
w.download(result.gaps, f"conversion_impact_{by}_gaps", k)
core = ["conversion_rate"] if by == BY_CLASS else ["consent_state"]
w.how_computed("impact", [*metrics_for(by), *core], params)
