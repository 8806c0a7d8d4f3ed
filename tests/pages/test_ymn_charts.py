"""Figure builders of the yes / maybe / no page, on hand-made published frames: withheld
values are never drawn nor hovered, colours follow the shared palette."""

from __future__ import annotations

import pandas as pd

from metrics.suppression import WITHHELD
from metrics.ymn_views import Opportunity
from pages import _charts as charts
from pages import _ymn_charts as ymn

STAGES = ("customers", "engaged", "intent", "converted")


def funnel_frame() -> pd.DataFrame:
    rows = [
        ("yes", 400, 380, 300, 250),
        ("maybe", 120, 90, 40, None),  # converted withheld
        ("no", 200, None, None, 30),  # engaged and intent withheld
    ]
    out = []
    for cls, *counts in rows:
        for i, (stage, n) in enumerate(zip(STAGES, counts, strict=True)):
            before = counts[i - 1] if i else None
            step = n / before if i and n is not None and before is not None else None
            share = n / counts[0] if n is not None else None
            out.append((cls, stage, n, step, share))
    columns = ["class", "stage", "customers", "step_rate", "share_of_class"]
    return pd.DataFrame(out, columns=columns).astype(object).replace({float("nan"): None})


def flows_frame() -> pd.DataFrame:
    flows = {
        ("yes", "yes"): None,
        ("yes", "maybe"): 0,
        ("yes", "no"): None,
        ("maybe", "yes"): 40,
        ("maybe", "maybe"): 60,
        ("maybe", "no"): 15,
        ("no", "yes"): None,
        ("no", "maybe"): 0,
        ("no", "no"): None,
        ("new", "yes"): 120,
        ("new", "maybe"): 30,
        ("new", "no"): 45,
    }
    from_sizes = {"yes": 260, "maybe": 115, "no": None, "new": 195}
    to_sizes = {"yes": 420, "maybe": 90, "no": None}
    rows = [(s, t, n, from_sizes[s], to_sizes[t]) for (s, t), n in flows.items()]
    columns = ["from_class", "to_class", "customers", "from_customers", "to_customers"]
    return pd.DataFrame(rows, columns=columns).astype(object).replace({float("nan"): None})


def test_funnels_draw_published_stages_only_in_the_class_colours():
    fig = ymn.class_funnels(funnel_frame(), k=11, title="Funnels")
    traces = {t.name: t for t in fig.data}
    assert [t.type for t in fig.data] == ["funnel"] * 3
    assert [t.marker.color for t in fig.data] == [charts.CLASS_COLOURS[c] for c in ymn.CLASSES]
    yes, maybe, no = (traces[charts.CLASS_LABELS[c]] for c in ymn.CLASSES)
    assert list(yes.x) == [400, 380, 300, 250]
    assert list(maybe.x) == [120, 90, 40]
    assert list(maybe.y) == ["Customers", "Engaged", "Showed intent"]
    assert list(no.x) == [200, 30] and list(no.y) == ["Customers", "Converted"]
    # Step rates as text, never one that rests on a withheld stage.
    assert "95.0% of previous step" in yes.text[1]
    assert all("%" not in text for text in no.text)
    assert all("None" not in str(h) and "nan" not in str(h) for h in yes.customdata)
    notes = [a.text for a in fig.layout.annotations if "withheld" in a.text]
    assert notes == [WITHHELD] * 3


def test_narrow_funnel_bars_carry_their_label_outside():
    fig = ymn.class_funnels(funnel_frame(), k=11)
    maybe = fig.data[1]
    assert list(maybe.textposition) == ["inside", "inside", "outside"]
    assert maybe.text[2] == "40<br>44.4%"


def test_sankey_draws_published_flows_only():
    fig = ymn.class_sankey(flows_frame(), before="2025-09-30", now="2026-09-30", k=11)
    sankey = fig.data[0]
    assert sankey.type == "sankey"
    values = list(sankey.link.value)
    # Published, non-zero flows only: 40, 60, 15, 120, 30, 45.
    assert sorted(values) == [15, 30, 40, 45, 60, 120]
    assert len(sankey.link.source) == len(sankey.link.target) == len(sankey.link.customdata) == 6
    hover = " ".join(sankey.link.customdata)
    assert "None" not in hover and "<" not in hover
    assert "Maybe on 2025-09-30 → Yes on 2026-09-30: 40 customers" in sankey.link.customdata
    # Nodes: the earlier classes, new, then the classes at D.
    assert list(sankey.node.label) == [
        "Yes on 2025-09-30",
        "Maybe on 2025-09-30",
        "No on 2025-09-30",
        "New since 2025-09-30",
        "Yes on 2026-09-30",
        "Maybe on 2026-09-30",
        "No on 2026-09-30",
    ]
    palette = charts.CLASS_COLOURS
    assert list(sankey.node.color) == [
        palette["yes"],
        palette["maybe"],
        palette["no"],
        ymn.NEW_COLOUR,
        palette["yes"],
        palette["maybe"],
        palette["no"],
    ]
    assert ymn.NEW_COLOUR == "#BBBBBB"
    # A withheld class size reads "<k" on hover, a published one its count.
    assert "No on 2025-09-30: customers withheld" in sankey.node.customdata
    assert "Yes on 2026-09-30: 420 customers" in sankey.node.customdata


def test_sankey_link_colour_follows_its_origin():
    sankey = ymn.class_sankey(flows_frame(), before="a", now="b", k=11).data[0]
    colours = dict(zip(sankey.link.source, sankey.link.color, strict=True))
    assert colours[1] == "rgba(230, 159, 0, 0.4)"  # maybe
    assert colours[3] == "rgba(187, 187, 187, 0.4)"  # new


def test_sankey_node_positions_keep_the_class_order():
    sankey = ymn.class_sankey(flows_frame(), before="a", now="b", k=11).data[0]
    left, right = list(sankey.node.y)[:4], list(sankey.node.y)[4:]
    assert left == sorted(left) and right == sorted(right)
    assert set(sankey.node.x) == {0.001, 0.999}


def test_funnel_table_is_one_row_per_class():
    table = ymn.funnel_table(funnel_frame())
    assert list(table["class"]) == ["yes", "maybe", "no"]
    assert list(table.columns) == [
        "class",
        "customers",
        "engaged",
        "engaged / customers",
        "intent",
        "intent / engaged",
        "converted",
        "converted / intent",
        "conversion rate",
    ]
    maybe = table.set_index("class").loc["maybe"]
    assert maybe["converted"] is None and maybe["converted / intent"] is None
    assert maybe["conversion rate"] is None
    assert table.set_index("class").at["yes", "conversion rate"] == 250 / 400


def opportunity(**changes) -> Opportunity:
    base = {
        "maybe_customers": 3996,
        "yes_rate": 0.656,
        "maybe_rate": 0.356,
        "extra_converters": 1198.8,
        "revenue_per_converter": 171.9,
        "extra_revenue": 206073.7,
    }
    return Opportunity(**(base | changes))


def test_opportunity_sentence_in_plain_words():
    text = ymn.opportunity_sentence(opportunity(), k=11)
    assert "35.6% of maybe customers" in text and "65.6% of yes customers" in text
    assert "about 1,199 more" in text and "206,074" in text
    in_euros = ymn.opportunity_sentence(opportunity(), k=11, currency="EUR")
    assert "roughly EUR 206,074 more in revenue" in in_euros
    no_gap = ymn.opportunity_sentence(
        opportunity(maybe_rate=0.7, extra_converters=-175.8, extra_revenue=-30220.0), k=11
    )
    assert "no gap" in no_gap and "-" not in no_gap
    hidden = ymn.opportunity_sentence(
        opportunity(maybe_rate=None, extra_converters=None, extra_revenue=None), k=11
    )
    assert "smaller than 11" in hidden and "%" not in hidden
    no_revenue = ymn.opportunity_sentence(
        opportunity(revenue_per_converter=None, extra_revenue=None), k=11
    )
    assert "withheld" in no_revenue and "revenue" not in no_revenue.split("(")[0]


def test_flows_table_names_its_columns_in_plain_words():
    table = ymn.flows_table(flows_frame(), before="2025-09-30", now="2026-09-30")
    assert list(table.columns) == [
        "class on 2025-09-30",
        "class on 2026-09-30",
        "customers",
        "customers in that class on 2025-09-30",
        "customers in that class on 2026-09-30",
    ]
    assert table["customers"].iloc[0] is None and table["customers"].iloc[3] == 40
