"""Consent & segments: who allows each purpose, where opt-in is high or low, and how new
decisions and withdrawals move over time."""

import streamlit as st

from metrics import consent_views as cv
from metrics import figures
from pages import _consent_charts as cc
from pages import _widgets as w

info, params = w.context()
k = params.min_cell
w.header(
    "Consent & segments",
    "Who allows each use of their data, which segments, countries, channels, prompts and "
    "methods opt in most, and how new decisions and withdrawals move over time.",
)
w.freshness(info, params)
purposes = w.purposes_shown()
COUNTS = dict.fromkeys(("customers", "granted", "denied", "withdrawn", "no_decision"), w.count)

overview = cv.select_purposes(w.figures(cv.consent_overview, params), purposes)
if overview.empty:
    st.info(
        f"No customers with consent records match these filters as of {params.as_of}. "
        "Widen the filters in the sidebar to see consent figures."
    )
    st.stop()

st.subheader("Consent state per purpose")
w.chart(cc.state_split(overview), key="consent_state_split")
w.meaning(
    "Each bar is all customers, split by where they stand on that use of their data today: "
    "granted (allowed), denied (said no when asked), withdrawn (allowed, then took it back) "
    "and no decision (never asked or never answered). The opt-in rate in the table is the "
    "share of granted among those who decided; people without a decision do not count in it. "
    "The shares of all customers are the bars above (and columns of the download)."
)
# The counts and the opt-in rate: with the four shares as well, the table is wider than a
# laptop's page and its last columns would be out of sight.
shares = [f"{s}_share" for s in ("granted", "denied", "withdrawn", "no_decision")]
st.dataframe(
    w.shown(overview.drop(columns=shares), k, COUNTS | {"opt_in_rate": w.rate}),
    hide_index=True,
)
w.download(overview, "consent_states", k)

st.subheader("Opted-in customers by group")
dimension = w.control(
    st.selectbox,
    "Break down by",
    list(cv.DIMENSIONS),
    key="consent_dimension",
    default=next(iter(cv.DIMENSIONS)),
    format_func=cv.DIMENSIONS.get,
)
label = cv.DIMENSIONS[dimension]
by = cv.select_purposes(w.figures(cv.opted_in_by, params, dimension), purposes)
if by.empty:
    st.info(f"No consent decisions to break down by {label.lower()} for these filters.")
else:
    w.chart(cc.opted_in_bars(by, dimension, label), key="consent_opted_in_by")
    w.meaning(
        f"How many customers in each {label.lower()} currently allow each purpose. Bigger "
        "groups naturally have more opted-in customers; compare the rates below to see which "
        "groups are more willing. A missing bar is a group too small to show."
    )
    w.chart(cc.opt_in_rate_bars(by, dimension, label), key="consent_rate_by")
    latest = (
        f" The {label.lower()} is that of each customer's latest choice, so someone who "
        "withdrew counts under the withdrawal's, which is often unknown."
        if dimension in cv.EVENT_DIMENSIONS
        else ""
    )
    w.meaning(
        f"Of the customers in each {label.lower()} who made a choice, the share who said yes."
        f"{latest} Rates resting on fewer than {k} people, or on a withheld count, are not shown."
    )
    st.dataframe(
        w.shown(
            by,
            k,
            dict.fromkeys(("granted", "refused", "decided"), w.count) | {"opt_in_rate": w.rate},
        ),
        hide_index=True,
    )
    w.download(by, f"opted_in_by_{dimension}", k)

st.subheader("Over time")
grain = w.control(
    st.radio,
    "Per",
    list(cv.GRAINS),
    key="consent_grain",
    default=list(cv.GRAINS)[1],
    format_func=cv.GRAINS.get,
    horizontal=True,
)
opted = cv.select_purposes(w.figures(cv.opted_in_trend, params, grain), purposes)
w.chart(cc.opted_in_share(opted, grain), key="consent_opted_in_share")
w.meaning(
    f"Of all customers at the end of each {grain}, the share who allow each purpose: the "
    f"Overview's opted-in share, taken every {grain}. It moves as customers decide, withdraw "
    f"and arrive; a gap is a {grain} with too few customers to show."
)
st.dataframe(
    w.shown(opted, k, {"customers": w.count, "granted": w.count, "granted_share": w.rate}),
    hide_index=True,
)
w.download(opted, f"opted_in_share_{grain}ly", k)
trend = cv.select_purposes(w.figures(cv.consent_trend, params, grain), purposes)
w.chart(cc.trend_rate(trend, grain), key="consent_trend_rate")
w.meaning(
    f"Of the choices customers made in each {grain}, the share that were a yes. A rising "
    "line means new visitors and customers are more willing to opt in than before; a gap "
    f"means too few choices that {grain} to show a rate. The first and last {grain} may be "
    "partly outside the selected period."
)
w.chart(cc.withdrawals(trend, grain), key="consent_withdrawals")
w.meaning(
    f"How many customers took back a permission they had given, per {grain}. A spike after "
    "a campaign or a change in mailing frequency is a warning sign. A gap is a "
    f"{grain} whose count is withheld: fewer than {k} people, or a figure that would let a "
    "small one be worked out."
)
st.dataframe(
    w.shown(
        trend,
        k,
        dict.fromkeys(("granted", "denied", "withdrawn", "decisions"), w.count)
        | {"opt_in_rate": w.rate},
    ),
    hide_index=True,
)
w.download(trend, f"consent_decisions_{grain}ly", k)

w.how_computed(
    "consent",
    [
        "consent_state",
        "opt_in_rate",
        figures.CONSENT_STATE_SHARE,
        figures.CONSENT_BY[dimension],
        figures.OPTED_IN_SHARE[grain],
        figures.CONSENT_DECISIONS[grain],
    ],
    params,
)
