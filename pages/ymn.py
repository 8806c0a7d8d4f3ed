"""Yes / maybe / no: the three classes' funnels, how customers moved between classes since
the previous period, and what the undecided "maybe" customers are worth."""

import streamlit as st

from metrics import ymn_views
from metrics.figures import on_page
from metrics.params import previous_period
from pages import _widgets as w
from pages import _ymn_charts as ymn_charts

info, params = w.context()
k = params.min_cell
w.header(
    "Yes / maybe / no",
    "How customers who opted in, who have not decided and who said no engage and buy, how "
    "they move between these groups, and what winning over the undecided could be worth.",
)
w.freshness(info, params)
params, currency = w.currency(info, params, container=st.columns(4)[0])
money = w.in_currency(currency)

page = w.figures(ymn_views.views, params)
funnel = page.funnels
counts = list(funnel["customers"])
if all(n == 0 for n in counts):
    st.info("No customers match these filters. Widen the filters or the period to see figures.")
    st.stop()
if not any(counts):
    st.info(
        f"Every group under these filters is smaller than {k} customers, so no figure can be "
        "shown without revealing individuals. Widen the filters to see figures."
    )
    st.stop()

st.subheader("Funnels by class")
w.chart(
    ymn_charts.class_funnels(funnel, k=k, title="From customer to buyer, per class"),
    key="ymn_funnels",
)
purposes = " or ".join(p.replace("_", " ") for p in params.marketing_purposes)
w.meaning(
    f"Yes customers allow {purposes}; maybe customers have not decided on any of them; no "
    "customers refused them or asked to be forgotten. Each funnel follows one group through "
    "the period: all its customers, those who visited, opened or clicked (engaged), those who "
    "added to a cart or ordered (showed intent) and those who ordered (converted). The "
    "percentage on each step is the share of the step above who got this far; compare the "
    "three colours to see where each group drops off."
)
funnel_table = ymn_charts.funnel_table(funnel)
formats = dict.fromkeys(ymn_charts.COUNT_COLUMNS, w.count) | dict.fromkeys(
    ymn_charts.RATE_COLUMNS, w.rate
)
st.dataframe(w.shown(funnel_table, k, formats), hide_index=True)
w.download(funnel_table, "ymn_funnels", k)

st.subheader('The "maybe" opportunity')
chance = page.opportunity
top = st.columns(3)
top[0].metric("Maybe customers", w.count(chance.maybe_customers, k))
top[1].metric("Conversion, yes", w.rate(chance.yes_rate, k))
top[2].metric("Conversion, maybe", w.rate(chance.maybe_rate, k))
bottom = st.columns(3)
extra = None if chance.extra_converters is None else round(chance.extra_converters)
bottom[0].metric("Extra buyers if maybe bought like yes", w.count(extra, k))
bottom[1].metric("Revenue per yes buyer", money(chance.revenue_per_converter, k))
bottom[2].metric("Extra revenue if maybe bought like yes", money(chance.extra_revenue, k))
st.markdown(ymn_charts.opportunity_sentence(chance, k=k, currency=currency))
w.meaning(
    "Maybe customers have not yet said yes or no to marketing. These tiles ask: if they "
    "ordered as often as the customers who said yes, and spent what a yes buyer spends, how "
    "many more buyers and how much more revenue would there be? It sizes the gap, it is not "
    "a promise: people who decide to say yes may differ from those who stay undecided."
)
w.download(chance.table(), "ymn_maybe_opportunity", k)

st.subheader("How customers moved between classes")
earlier = previous_period(params).as_of
flows = page.flows
if not any(n for n in flows["customers"] if n is not None):
    st.info(
        "No move between classes can be shown under these filters without revealing groups "
        f"smaller than {k} customers."
    )
else:
    w.chart(
        ymn_charts.class_sankey(
            flows,
            before=earlier.isoformat(),
            now=params.as_of.isoformat(),
            k=k,
            title=f"Class on {earlier} (left) and on {params.as_of} (right)",
        ),
        key="ymn_flows",
    )
    w.meaning(
        "On the left, each customer's group on the day before the period began (grey: not a "
        "customer yet); on the right, their group at the end of the period. The width of a "
        "band is the number of customers who took that path: a wide band from maybe to yes "
        "means undecided customers opted in. Bands for fewer than "
        f"{k} customers, and any that would let them be worked out, are left out."
    )
moves = ymn_charts.flows_table(flows, before=earlier.isoformat(), now=params.as_of.isoformat())
st.dataframe(w.shown(moves, k, dict.fromkeys(moves.columns[2:], w.count)), hide_index=True)
w.download(moves, "ymn_class_flows", k)

w.how_computed("ymn", on_page("ymn"), params)
