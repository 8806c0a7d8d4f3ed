"""Yes / maybe / no views: funnels with step rates, moves between classes, the maybe
opportunity. Hand-computed cases, suppression at k = 11 and invariants on a seeded demo."""

from __future__ import annotations

from datetime import date

import pytest

from data.storage.schema import CLASSES
from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics.figures import JSON_FIGURES, on_page
from metrics.params import Filters, previous_period, resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables
from metrics.ymn_views import (
    FLOW_FROM,
    FLOW_TO,
    FUNNEL_STAGES,
    class_flows,
    funnels,
    maybe_opportunity,
)
from metrics.ymn_views import views as page_views

START, AS_OF = date(2026, 1, 1), date(2026, 3, 31)
# The period has 90 days, so the previous one ends (and is as of) 2025-12-31.


def tables_and_params(store, *, min_cell: int) -> tuple[Tables, object]:
    params = resolve_params(store.date_range(), start=START, as_of=AS_OF, min_cell=min_cell)
    assert previous_period(params).as_of == date(2025, 12, 31)
    return Tables.from_backend(store.backend), params


def flows_of(frame) -> dict[tuple[str, str], int | None]:
    return {(r.from_class, r.to_class): r.customers for r in frame.itertuples(index=False)}


def by_stage(frame) -> dict[tuple[str, str], tuple]:
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in frame.itertuples(index=False, name=None)}


# A dozen customers, every one hand-placed (M = email_marketing, sms_marketing):
#   A1 yes -> no (email withdrawn in the period)     A2 maybe -> yes (sms granted in it)
#   A3 yes -> yes                                     A4 no -> no
#   A5 no -> yes (denied, then granted in the period) A6 maybe -> maybe
#   A7 yes -> no (erasure requested in the period)
#   A8 yes -> yes: created and granted late on 2025-12-31, the earlier as-of date itself
#   A9 maybe -> yes: its first decision is dated 2026-01-01, after the earlier date
#   B1 new -> yes   B2 new -> maybe   B3 new -> maybe (created late on D itself)
#   C1 created after D: never counted
HAND = {
    "customers": """
        customer_id,created_at,country,segment
        A1,2025-11-01,DE,retail
        A2,2025-11-01,DE,retail
        A3,2025-11-01,DE,retail
        A4,2025-11-01,DE,retail
        A5,2025-11-01,DE,retail
        A6,2025-11-01,DE,retail
        A7,2025-11-01,DE,retail
        A8,2025-12-31T23:00:00Z,DE,retail
        A9,2025-11-01,DE,retail
        B1,2026-01-15,DE,retail
        B2,2026-02-01,DE,retail
        B3,2026-03-31T23:00:00Z,DE,retail
        C1,2026-04-02,DE,retail
        """,
    "consent_events": """
        customer_id,purpose,decision,occurred_at
        A1,email_marketing,granted,2025-11-05
        A1,email_marketing,withdrawn,2026-02-01
        A2,sms_marketing,granted,2026-02-10
        A3,email_marketing,granted,2025-11-02
        A4,email_marketing,denied,2025-11-03
        A5,email_marketing,denied,2025-11-03
        A5,email_marketing,granted,2026-03-01
        A7,email_marketing,granted,2025-12-01
        A8,email_marketing,granted,2025-12-31T23:30:00Z
        A9,email_marketing,granted,2026-01-01
        B1,email_marketing,granted,2026-01-16
        C1,email_marketing,granted,2026-04-03
        """,
    "privacy_requests": """
        request_id,customer_id,type,received_at,status
        R1,A7,erasure,2026-03-10,open
        """,
    "touchpoints": """
        customer_id,occurred_at,type
        B1,2026-02-01,cart_add
        A2,2026-02-15,visit
        A6,2026-01-20,visit
        A5,2025-12-19,visit
        """,
    "orders": """
        order_id,customer_id,ordered_at,revenue
        O1,A3,2026-01-10,100.00
        O2,A2,2026-03-05,40.00
        O3,A4,2026-02-02,30.00
        O4,A5,2025-12-20,55.00
        O5,C1,2026-04-05,10.00
        """,
}


@pytest.fixture
def hand(store_with):
    return tables_and_params(store_with(HAND), min_cell=1)


def test_funnels_follow_each_class_stage_by_stage(hand):
    tables, params = hand
    got = by_stage(funnels(tables, params))
    # yes = A2, A3, A5, A8, A9, B1: engaged A2, A3, B1; intent A2 (order), A3, B1 (cart);
    # converted A2, A3. A5's visit and order fall before the period.
    assert got[("yes", "customers")] == (6, None, 1.0)
    assert got[("yes", "engaged")] == (3, 0.5, 0.5)
    assert got[("yes", "intent")] == (3, 1.0, 0.5)
    assert got[("yes", "converted")] == (2, pytest.approx(2 / 3), pytest.approx(1 / 3))
    # maybe = A6, B2, B3: only A6 visited; converted over an empty intent stage is null.
    assert got[("maybe", "engaged")] == (1, pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert got[("maybe", "intent")] == (0, 0.0, 0.0)
    assert got[("maybe", "converted")] == (0, None, 0.0)
    # no = A1, A4, A7: A4 ordered.
    assert [got[("no", s)][0] for s in FUNNEL_STAGES] == [3, 1, 1, 1]
    assert [got[("no", s)][1] for s in FUNNEL_STAGES] == [None, pytest.approx(1 / 3), 1.0, 1.0]


def test_funnel_counts_and_conversion_are_the_metrics_json(hand):
    tables, params = hand
    figures = to_json(compute(tables, params))
    got = by_stage(funnels(tables, params))
    for cls in CLASSES:
        assert {s: got[(cls, s)][0] for s in FUNNEL_STAGES} == figures["funnel"][cls]
        assert got[(cls, "converted")][2] == figures["conversion"][cls]["rate"]


def test_class_flows_hand_computed(hand):
    tables, params = hand
    frame = class_flows(tables, params)
    assert flows_of(frame) == {
        ("yes", "yes"): 2,  # A3, A8
        ("yes", "maybe"): 0,
        ("yes", "no"): 2,  # A1, A7
        ("maybe", "yes"): 2,  # A2, A9
        ("maybe", "maybe"): 1,  # A6
        ("maybe", "no"): 0,
        ("no", "yes"): 1,  # A5
        ("no", "maybe"): 0,
        ("no", "no"): 1,  # A4
        ("new", "yes"): 1,  # B1
        ("new", "maybe"): 2,  # B2, B3
        ("new", "no"): 0,
    }
    sizes_from = dict(zip(frame.from_class, frame.from_customers, strict=True))
    sizes_to = dict(zip(frame.to_class, frame.to_customers, strict=True))
    assert sizes_from == {"yes": 4, "maybe": 3, "no": 2, "new": 3}
    assert sizes_to == {"yes": 6, "maybe": 3, "no": 3}
    assert list(frame.columns) == [
        "from_class",
        "to_class",
        "customers",
        "from_customers",
        "to_customers",
    ]


def test_maybe_opportunity_hand_computed(hand):
    tables, params = hand
    o = maybe_opportunity(tables, params)
    # 3 maybe customers, yes converts 2/6, maybe 0/3: 3 x 1/3 = 1 extra converter, who
    # brings the yes class's 140 / 2 = 70 per converter.
    assert o.maybe_customers == 3
    assert o.yes_rate == pytest.approx(1 / 3)
    assert o.maybe_rate == 0.0
    assert o.extra_converters == pytest.approx(1.0)
    assert o.revenue_per_converter == pytest.approx(70.0)
    assert o.extra_revenue == pytest.approx(70.0)
    table = o.table()
    assert list(table.figure)[-1] == "extra_revenue"
    assert table.value.iloc[0] == 3


def test_views_are_the_three_figures_from_one_run(hand):
    tables, params = hand
    page = page_views(tables, params)
    assert page.funnels.equals(funnels(tables, params))
    assert page.flows.equals(class_flows(tables, params))
    assert page.opportunity == maybe_opportunity(tables, params)


def test_no_personal_data_in_any_result(hand):
    tables, params = hand
    frames = [funnels(tables, params), class_flows(tables, params)]
    frames.append(maybe_opportunity(tables, params).table())
    for frame in frames:
        assert not {"email", "full_name", "phone", "customer_id"} & set(frame.columns)


# Suppression at k = 11, on stores built from groups of identical customers.
# Each group moves from a class on 2025-12-31 to a class on 2026-03-31.
MOVES = {
    ("yes", "yes"): ("2025-06-01", [("granted", "2025-07-01")]),
    ("yes", "no"): ("2025-06-01", [("granted", "2025-07-01"), ("denied", "2026-02-01")]),
    ("maybe", "yes"): ("2025-06-01", [("granted", "2026-02-01")]),
    ("maybe", "maybe"): ("2025-06-01", []),
    ("maybe", "no"): ("2025-06-01", [("denied", "2026-02-01")]),
    ("no", "yes"): ("2025-06-01", [("denied", "2025-07-01"), ("granted", "2026-02-01")]),
    ("no", "no"): ("2025-06-01", [("denied", "2025-07-01")]),
    ("new", "yes"): ("2026-01-15", [("granted", "2026-01-20")]),
    ("new", "maybe"): ("2026-01-15", []),
    ("new", "no"): ("2026-01-15", [("denied", "2026-01-20")]),
}


def moving_store(store_with, sizes: dict[tuple[str, str], int], extra: dict | None = None):
    customers = ["customer_id,created_at,segment"]
    events = ["customer_id,purpose,decision,occurred_at"]
    for (source, target), n in sizes.items():
        created, decisions = MOVES[(source, target)]
        for i in range(n):
            cid = f"{source}-{target}-{i:03d}"
            customers.append(f"{cid},{created},retail")
            events += [f"{cid},email_marketing,{d},{when}" for d, when in decisions]
    files = {"customers": "\n".join(customers), "consent_events": "\n".join(events)}
    return store_with(files | (extra or {}))


def withheld(frame) -> set[tuple[str, str]]:
    return {pair for pair, n in flows_of(frame).items() if n is None}


def test_flows_primary_and_complementary_suppression(store_with):
    sizes = {
        ("yes", "yes"): 40,
        ("yes", "no"): 5,  # the one small cell
        ("maybe", "yes"): 30,
        ("maybe", "maybe"): 25,
        ("maybe", "no"): 20,
        ("no", "yes"): 12,
        ("no", "no"): 35,
        ("new", "yes"): 50,
        ("new", "maybe"): 30,
        ("new", "no"): 15,
    }
    store = moving_store(store_with, sizes)
    tables, params = tables_and_params(store, min_cell=11)
    frame = class_flows(tables, params)
    # By hand: yes->no (5) is primary; out of yes it takes yes->yes (40); into no, new->no
    # (15); out of new, new->maybe (30); into yes, no->yes (12); into maybe, maybe->maybe (25);
    # out of maybe, maybe->no (20); out of no, no->no (35). Every sum now has two hidden.
    assert withheld(frame) == {
        ("yes", "yes"),
        ("yes", "no"),
        ("new", "no"),
        ("new", "maybe"),
        ("no", "yes"),
        ("maybe", "maybe"),
        ("maybe", "no"),
        ("no", "no"),
    }
    published = flows_of(frame)
    assert published[("maybe", "yes")] == 30 and published[("new", "yes")] == 50
    assert published[("yes", "maybe")] == 0
    # Class sizes at both dates are the metrics JSONs' own.
    now, before = (
        to_json(compute(tables, params)),
        to_json(compute(tables, previous_period(params))),
    )
    assert dict(zip(frame.to_class, frame.to_customers, strict=True)) == now["ymn"]
    assert now["ymn"] == {"yes": 132, "maybe": 55, "no": 75}
    sizes_from = dict(zip(frame.from_class, frame.from_customers, strict=True))
    assert sizes_from == before["ymn"] | {"new": 95}


def test_a_class_withheld_in_the_metrics_json_is_withheld_by_the_flows(store_with):
    sizes = {
        ("yes", "yes"): 40,
        ("yes", "no"): 3,
        ("maybe", "yes"): 15,
        ("maybe", "maybe"): 30,
        ("no", "yes"): 20,
        ("no", "no"): 5,
        ("new", "yes"): 50,
        ("new", "maybe"): 25,
    }
    store = moving_store(store_with, sizes)
    tables, params = tables_and_params(store, min_cell=11)
    figures = to_json(compute(tables, params))
    # no at D = 8 is small, so the metrics JSON withholds maybe (55) with it.
    assert figures["ymn"] == {"yes": 125, "maybe": None, "no": None}
    frame = class_flows(tables, params)
    assert dict(zip(frame.to_class, frame.to_customers, strict=True)) == figures["ymn"]
    hidden = withheld(frame)
    # Published, maybe->maybe (30) and new->maybe (25) would add up to the withheld 55:
    # the smaller one is withheld, and new->yes with it (out of new).
    assert hidden == {
        ("yes", "no"),
        ("no", "no"),
        ("yes", "yes"),
        ("no", "yes"),
        ("new", "maybe"),
        ("new", "yes"),
    }
    into_maybe = [n for (_, target), n in flows_of(frame).items() if target == "maybe"]
    assert None in into_maybe


def test_a_flow_no_other_flow_can_protect_is_protected_by_a_withheld_zero(store_with):
    # Out of no (15) only no->no moves; into no only yes->no (5, small) and no->no. Withholding
    # no->no to protect yes->no leaves it alone among the flows out of no, whose total the
    # previous period's metrics JSON publishes and whose other flows are 0: the first of those
    # zeros (no->yes) is withheld with it, and into yes then takes yes->yes (25).
    sizes = {
        ("yes", "yes"): 25,
        ("yes", "no"): 5,
        ("maybe", "maybe"): 20,
        ("no", "no"): 15,
        ("new", "yes"): 30,
    }
    store = moving_store(store_with, sizes)
    tables, params = tables_and_params(store, min_cell=11)
    frame = class_flows(tables, params)
    assert withheld(frame) == {("yes", "no"), ("no", "no"), ("no", "yes"), ("yes", "yes")}
    # What the published figures leave: yes->yes + yes->no = 30, yes->no + no->no = 20,
    # no->yes + no->no = 15, yes->yes + no->yes = 25: yes->no lies anywhere from 5 to 20.
    before = to_json(compute(tables, previous_period(params)))
    assert before["ymn"] == {"yes": 30, "maybe": 20, "no": 15}
    assert dict(zip(frame.to_class, frame.to_customers, strict=True)) == {
        "yes": 55,
        "maybe": 20,
        "no": 20,
    }


def test_new_customers_are_known_from_the_two_customer_counts(store_with):
    # 5 new customers, all now yes: a small cell, but customers at D (100) less customers
    # on 2025-12-31 (95) gives the 5 new ones away whatever the flows show. Withholding a zero
    # beside new->yes would hide nothing (the pair would add up to 5, each between 0 and 5),
    # so none is; new->yes is withheld and the flows it takes part in are protected in turn.
    sizes = {("yes", "yes"): 40, ("maybe", "maybe"): 25, ("no", "no"): 30, ("new", "yes"): 5}
    store = moving_store(store_with, sizes)
    tables, params = tables_and_params(store, min_cell=11)
    now, before = (
        to_json(compute(tables, params)),
        to_json(compute(tables, previous_period(params))),
    )
    assert (now["customers"], before["customers"]) == (100, 95)
    frame = class_flows(tables, params)
    assert frame.loc[frame.from_class == "new", "from_customers"].iloc[0] is None
    assert withheld(frame) == {
        ("new", "yes"),
        ("yes", "yes"),
        ("yes", "maybe"),
        ("maybe", "yes"),
        ("maybe", "maybe"),
    }


def funnel_extra() -> dict[str, str]:
    touch, orders = ["customer_id,occurred_at,type"], ["order_id,customer_id,ordered_at,revenue"]
    for i in range(40):
        touch.append(f"yes-yes-{i:03d},2026-02-01,visit")
    for i in range(30):
        orders.append(f"Y{i},yes-yes-{i:03d},2026-02-02,10.00")
    for i in range(25):
        touch.append(f"maybe-maybe-{i:03d},2026-02-01,visit")
    for i in range(20):
        touch.append(f"maybe-maybe-{i:03d},2026-02-01,cart_add")
    for i in range(5):
        orders.append(f"M{i},maybe-maybe-{i:03d},2026-02-03,20.00")
    return {"touchpoints": "\n".join(touch), "orders": "\n".join(orders)}


def test_funnel_rates_and_opportunity_withheld_with_a_small_stage(store_with):
    sizes = {("yes", "yes"): 40, ("maybe", "maybe"): 25, ("no", "no"): 30}
    store = moving_store(store_with, sizes, funnel_extra())
    tables, params = tables_and_params(store, min_cell=11)
    got = by_stage(funnels(tables, params))
    # 5 maybe converters: withheld, and every rate resting on them.
    assert got[("maybe", "converted")] == (None, None, None)
    # Each stage is a subset of the one before: maybe's intent (20) beside engaged (25) would
    # give away the 5 who engaged without intent, yes's (30) beside 40 the 10 who did; both
    # are withheld, and the rates over them.
    assert got[("maybe", "engaged")] == (25, 1.0, 1.0)
    assert got[("maybe", "intent")] == (None, None, None)
    assert got[("yes", "intent")] == (None, None, None)
    assert got[("yes", "converted")] == (30, None, 0.75)
    o = maybe_opportunity(tables, params)
    assert (o.maybe_customers, o.yes_rate, o.maybe_rate) == (25, 0.75, None)
    assert o.extra_converters is None and o.extra_revenue is None
    assert o.revenue_per_converter == pytest.approx(10.0)


def test_revenue_per_converter_needs_k_converters(store_with):
    sizes = {("yes", "yes"): 40, ("maybe", "maybe"): 25, ("no", "no"): 30}
    extra = funnel_extra()
    # Only 11 yes converters: published, so revenue per converter is; at k = 12 neither.
    extra["orders"] = "\n".join(
        extra["orders"].splitlines()[:12] + extra["orders"].splitlines()[31:]
    )
    store = moving_store(store_with, sizes, extra)
    tables, params = tables_and_params(store, min_cell=11)
    assert maybe_opportunity(tables, params).revenue_per_converter == pytest.approx(10.0)
    _, strict = tables_and_params(store, min_cell=12)
    o = maybe_opportunity(tables, strict)
    assert o.revenue_per_converter is None and o.yes_rate is None


def test_registry_entries_show_their_sql(hand):
    tables, params = hand
    own = [f for f in on_page("ymn") if f not in JSON_FIGURES]
    names = [m.name for m in own]
    assert len(set(names)) == len(names) == 4
    for metric in own:
        assert metric.description and metric.unit in {"count", "rate", "currency"}
        assert "SELECT" in metric.sql(tables, params).upper()


# Invariants on a seeded synthetic store.

SETTINGS = [
    {},
    {"filters": Filters(countries=("NA",)), "start": date(2026, 8, 1)},
    {"marketing_purposes": ("email_marketing",), "filters": Filters(segments=("student",))},
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("ymn") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(3_000, seed=3))
        yield store


@pytest.fixture(scope="module", params=SETTINGS, ids=lambda s: ",".join(s) or "defaults")
def seeded(request, demo):
    params = resolve_params(demo.date_range(), **request.param)
    tables = Tables.from_backend(demo.backend)
    exact = resolve_params(demo.date_range(), **(request.param | {"min_cell": 1}))
    return {
        "params": params,
        "figures": to_json(compute(tables, params)),
        "before": to_json(compute(tables, previous_period(params))),
        "funnels": funnels(tables, params),
        "flows": class_flows(tables, params),
        "exact_flows": class_flows(tables, exact),
        "opportunity": maybe_opportunity(tables, params),
    }


def test_funnels_are_the_json_and_never_grow(seeded):
    got = by_stage(seeded["funnels"])
    for cls in CLASSES:
        counts = [got[(cls, s)][0] for s in FUNNEL_STAGES]
        assert dict(zip(FUNNEL_STAGES, counts, strict=True)) == seeded["figures"]["funnel"][cls]
        known = [n for n in counts if n is not None]
        assert known == sorted(known, reverse=True)
        for stage in FUNNEL_STAGES:
            _, step, share = got[(cls, stage)]
            assert all(0.0 <= r <= 1.0 for r in (step, share) if r is not None)


def test_exact_flows_add_up_to_both_dates_class_sizes(seeded):
    exact = seeded["exact_flows"]
    flows = flows_of(exact)
    for target in FLOW_TO:
        total = exact.loc[exact.to_class == target, "to_customers"].iloc[0]
        assert sum(flows[(s, target)] for s in FLOW_FROM) == total
    for source in FLOW_FROM:
        total = exact.loc[exact.from_class == source, "from_customers"].iloc[0]
        assert sum(flows[(source, t)] for t in FLOW_TO) == total


def test_flows_publish_only_what_cannot_be_worked_back(seeded):
    k = seeded["params"].min_cell
    frame, flows = seeded["flows"], flows_of(seeded["flows"])
    exact = flows_of(seeded["exact_flows"])
    assert all(n is None or n == 0 or n >= k for n in flows.values())
    assert all(n is None or n == exact[pair] for pair, n in flows.items())
    sizes_to = dict(zip(frame.to_class, frame.to_customers, strict=True))
    sizes_from = dict(zip(frame.from_class, frame.from_customers, strict=True))
    assert sizes_to == seeded["figures"]["ymn"]
    assert {c: sizes_from[c] for c in CLASSES} == seeded["before"]["ymn"]
    sums = [(sizes_to[t], [flows[(s, t)] for s in FLOW_FROM]) for t in FLOW_TO]
    sums += [(sizes_from[s], [flows[(s, t)] for t in FLOW_TO]) for s in FLOW_FROM]
    for total, members in sums:
        hidden = members.count(None)
        if total is not None:
            assert hidden != 1  # a single withheld member would be the total less the rest
        elif any(members):
            assert hidden >= 1  # published members would add up to the withheld total


def test_opportunity_rests_on_published_figures(seeded):
    o, conversion = seeded["opportunity"], seeded["figures"]["conversion"]
    assert o.maybe_customers == conversion["maybe"]["customers"]
    assert (o.yes_rate, o.maybe_rate) == (conversion["yes"]["rate"], conversion["maybe"]["rate"])
    if None in (o.maybe_customers, o.yes_rate, o.maybe_rate):
        assert o.extra_converters is None and o.extra_revenue is None
    else:
        assert o.extra_converters == pytest.approx(o.maybe_customers * (o.yes_rate - o.maybe_rate))
    if o.extra_revenue is not None:
        assert o.extra_revenue == pytest.approx(o.extra_converters * o.revenue_per_converter)
