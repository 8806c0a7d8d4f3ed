"""Conversion impact: Wilson intervals, direct standardisation, gaps and their suppression."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from data.storage.schema import CLASSES, CONSENT_STATES
from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics.impact import (
    OTHER_STRATUM,
    Z95,
    class_strata,
    impact,
    standardise,
    wilson_interval,
)
from metrics.params import Filters, resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables

PERIOD = {"start": date(2025, 1, 1), "as_of": date(2025, 12, 31)}


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-9)


# --------------------------------------------------------------------------------------------
# Fixture building: one row per person, with their consent decisions and order revenues
# --------------------------------------------------------------------------------------------


def person(
    cid: str,
    channel: str | None = "web",
    country: str | None = "DE",
    orders: tuple[float, ...] = (),
    **decisions: str,
) -> dict:
    return {"id": cid, "channel": channel, "country": country, "orders": orders, **decisions}


def block(prefix: str, n: int, converters: int, revenue: float = 10.0, **attributes) -> list[dict]:
    """n people alike; the first `converters` of them placed one order of `revenue`."""
    return [
        person(f"{prefix}{i:03d}", orders=(revenue,) if i < converters else (), **attributes)
        for i in range(n)
    ]


def csvs(people: list[dict]) -> dict[str, str]:
    customers = ["customer_id,created_at,country,acquisition_channel"]
    events = ["customer_id,purpose,decision,occurred_at"]
    orders = ["order_id,customer_id,ordered_at,revenue"]
    for p in people:
        customers.append(f"{p['id']},2025-01-01,{p['country'] or ''},{p['channel'] or ''}")
        for purpose in ("email_marketing", "sms_marketing", "analytics"):
            if p.get(purpose):
                events.append(f"{p['id']},{purpose},{p[purpose]},2025-02-01")
        for j, revenue in enumerate(p["orders"]):
            orders.append(f"{p['id']}-{j},{p['id']},2025-06-0{j + 1},{revenue:.2f}")
    return {
        "customers": "\n".join(customers) + "\n",
        "consent_events": "\n".join(events) + "\n",
        "orders": "\n".join(orders) + "\n",
    }


def tables_for(store_with, people: list[dict]) -> Tables:
    store = store_with(csvs(people))
    return Tables.from_backend(store.backend)


def params_for(tables: Tables, k: int, **kwargs):
    return resolve_params((date(2025, 1, 1), date(2025, 12, 31)), min_cell=k, **PERIOD, **kwargs)


def row(result, group: str) -> pd.Series:
    return result.groups.set_index("group").loc[group]


def gap(result, first: str, second: str, measure: str) -> pd.Series:
    g = result.gaps
    return g[(g["first"] == first) & (g["second"] == second) & (g["measure"] == measure)].iloc[0]


# --------------------------------------------------------------------------------------------
# Wilson interval: published reference values and a hand computation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17: 857-872, table I, method 3 (Wilson score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(x, n, low, high):
    got = wilson_interval(x, n)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_by_hand_for_two_of_four():
    # p = 1/2, n = 4: centre (1/2 + z²/8) / (1 + z²/4) = 1/2; half-width
    # z / (1 + z²/4) * sqrt(1/16 + z²/64).
    z2 = Z95**2
    half = Z95 / (1 + z2 / 4) * math.sqrt(1 / 16 + z2 / 64)
    low, high = wilson_interval(2, 4)
    assert (low, high) == (approx(0.5 - half), approx(0.5 + half))
    assert (round(low, 4), round(high, 4)) == (0.1500, 0.8500)


# --------------------------------------------------------------------------------------------
# A tiny store, every figure computed by hand (k = 1)
# --------------------------------------------------------------------------------------------

TINY = [
    person("c01", "web", "DE", (10.0,), email_marketing="granted"),
    person("c02", "web", "DE", (30.0,), email_marketing="granted"),
    person("c03", "web", "DE", email_marketing="granted"),
    person("c04", "web", "DE", (20.0,), email_marketing="denied"),
    person("c05", "web", "DE", email_marketing="denied"),
    person("c06", "app", "FR", email_marketing="granted"),
    person("c07", "app", "FR", (40.0, 20.0), email_marketing="denied"),
    person("c08", "app", "FR", email_marketing="denied"),
    person("c09", "app", "FR"),
    person("c10", None, None),
]


@pytest.fixture
def tiny(store_with):
    t = tables_for(store_with, TINY)
    return t, params_for(t, 1)


def test_tiny_store_raw_figures_by_hand(tiny):
    result = impact(*tiny, "class")
    yes, no, maybe = row(result, "yes"), row(result, "no"), row(result, "maybe")
    # yes = c01, c02, c03, c06: 2 of 4 bought, revenue 10 + 30.
    assert (yes.customers, yes.converters, yes.rate) == (4, 2, 0.5)
    assert (yes.rate_low, yes.rate_high) == wilson_interval(2, 4)
    # Revenue per customer 40 / 4 = 10; s² = (0² + 20² + 10² + 10²) / 3 = 200.
    assert yes.revenue_per_customer == approx(10.0)
    assert yes.revenue_per_customer_low == 0.0  # 10 - 1.96 * sqrt(50) < 0: kept at 0
    assert yes.revenue_per_customer_high == approx(10 + Z95 * math.sqrt(200 / 4))
    # no = c04, c05, c07, c08: c07's two orders make one converter; revenue 20 + 60.
    assert (no.customers, no.converters, no.rate) == (4, 2, 0.5)
    assert no.revenue_per_customer == approx(20.0)
    # s² = (0² + 20² + 40² + 20²) / 3 = 800.
    assert no.revenue_per_customer_high == approx(20 + Z95 * math.sqrt(800 / 4))
    # maybe = c09 and c10, nobody bought: Wilson for 0 of 2 is [0, z²/2 / (1 + z²/2) * 2].
    assert (maybe.customers, maybe.converters, maybe.rate) == (2, 0, 0.0)
    z2 = Z95**2
    assert maybe.rate_low == 0.0
    assert maybe.rate_high == approx(2 * (z2 / 4) / (1 + z2 / 2))


def test_tiny_store_standardised_figures_by_hand(tiny):
    result = impact(*tiny, "class")
    # Strata: web/DE (yes 3, no 2, maybe 0), app/FR (yes 1, no 2, maybe 1), unknown/unknown
    # (maybe 1). Only app/FR has every group; web/DE and unknown pool into "other"
    # (yes 3, no 2, maybe 1), which then qualifies. Weights: app/FR 4/10, other 6/10.
    assert (result.strata, result.strata_used, result.pooled, result.covered) == (3, 2, True, 1.0)
    yes, no, maybe = row(result, "yes"), row(result, "no"), row(result, "maybe")
    # yes: 0.4 * 0/1 + 0.6 * 2/3 = 0.4; variance 0.4² * 0 + 0.6² * (2/3 * 1/3) / 3.
    assert yes.stratified_rate == approx(0.4)
    half = Z95 * math.sqrt(0.36 * (2 / 9) / 3)
    assert (yes.stratified_rate_low, yes.stratified_rate_high) == (
        approx(0.4 - half),
        approx(0.4 + half),
    )
    # no: 0.4 * 1/2 + 0.6 * 1/2 = 0.5; variance 0.16 * 0.25/2 + 0.36 * 0.25/2 = 0.065.
    assert no.stratified_rate == approx(0.5)
    assert no.stratified_rate_high == approx(0.5 + Z95 * math.sqrt(0.065))
    assert maybe.stratified_rate == 0.0
    # Revenue: yes 0.4 * 0 + 0.6 * 40/3 = 8; other's s² = (10² + 30² - 40²/3) / 2 = 700/3,
    # variance 0.36 * (700/3) / 3 = 28 (app/FR holds one customer: no variance).
    assert yes.stratified_revenue_per_customer == approx(8.0)
    assert yes.stratified_revenue_per_customer_high == approx(8 + Z95 * math.sqrt(28))
    # no: 0.4 * 60/2 + 0.6 * 20/2 = 18; variance 0.16 * 1800/2 + 0.36 * 200/2 = 180.
    assert no.stratified_revenue_per_customer == approx(18.0)
    assert no.stratified_revenue_per_customer_high == approx(18 + Z95 * math.sqrt(180))

    rate_gap = gap(result, "yes", "no", "conversion_rate")
    assert rate_gap.raw == approx(0.0)
    assert rate_gap.raw_high == approx(Z95 * math.sqrt(0.25 / 4 + 0.25 / 4))
    assert rate_gap.stratified == approx(-0.1)
    assert rate_gap.stratified_low == approx(-0.1 - Z95 * math.sqrt(0.36 * (2 / 9) / 3 + 0.065))
    revenue_gap = gap(result, "yes", "no", "revenue_per_customer")
    assert revenue_gap.raw == approx(-10.0)
    assert revenue_gap.raw_low == approx(-10 - Z95 * math.sqrt(200 / 4 + 800 / 4))
    assert revenue_gap.stratified == approx(-10.0)
    assert revenue_gap.stratified_high == approx(-10 + Z95 * math.sqrt(28 + 180))


def test_tiny_store_by_consent_state_matches_the_classes(tiny):
    by_state = impact(*tiny, "state", "email_marketing")
    by_class = impact(*tiny, "class")
    assert list(by_state.groups.group) == list(CONSENT_STATES)
    withdrawn = row(by_state, "withdrawn")
    assert withdrawn.customers == 0 and pd.isna(withdrawn.rate)  # nobody: no rate
    for state, cls in (("granted", "yes"), ("denied", "no"), ("no_decision", "maybe")):
        assert row(by_state, state).to_dict() == pytest.approx(row(by_class, cls).to_dict())


def test_standardise_weights_sum_to_one_and_pool_small_strata(tiny):
    t, p = tiny
    strata = class_strata(t, p).to_pyarrow().to_pandas()
    std = standardise(strata, ["yes", "no", "maybe"], 1)
    assert std.weights.to_dict() == {("app", "FR"): approx(0.4), OTHER_STRATUM: approx(0.6)}
    assert (std.customers_used, std.customers_dropped) == (10, 0)
    # Compared on yes and no only, web/DE qualifies too and unknown/unknown (maybe only) is
    # pooled alone, lacking yes and no: dropped.
    std = standardise(strata, ["yes", "no"], 1)
    assert set(std.weights.index) == {("app", "FR"), ("web", "DE")}
    assert (std.customers_used, std.customers_dropped) == (9, 1)


def test_unknown_grouping_or_purpose_is_refused(tiny):
    with pytest.raises(ValueError):
        impact(*tiny, "segment")
    with pytest.raises(ValueError):
        impact(*tiny, "state")
    with pytest.raises(ValueError):
        impact(*tiny, "state", "no_such_purpose")


# --------------------------------------------------------------------------------------------
# Simpson's paradox: the mix reverses the gap
# --------------------------------------------------------------------------------------------


def test_stratified_gap_reverses_a_gap_made_by_the_channel_mix(store_with):
    # Channel "search" converts well, "social" badly. Within each channel the opted-in convert
    # better (80% vs 70%, 10% vs 0%), but most of them came through social, so overall they
    # look worse (24% vs 56%).
    people = (
        block("ys", 40, 32, channel="search", email_marketing="granted")
        + block("yo", 160, 16, channel="social", email_marketing="granted")
        + block("ns", 160, 112, channel="search", email_marketing="denied")
        + block("no", 40, 0, channel="social", email_marketing="denied")
    )
    t = tables_for(store_with, people)
    result = impact(t, params_for(t, 11), "class")
    rate = gap(result, "yes", "no", "conversion_rate")
    assert row(result, "yes").rate == approx(0.24)
    assert row(result, "no").rate == approx(0.56)
    assert rate.raw == approx(-0.32)
    # Both channels hold 200 of 400 customers: weights 1/2 each.
    assert row(result, "yes").stratified_rate == approx(0.5 * 0.8 + 0.5 * 0.1)
    assert row(result, "no").stratified_rate == approx(0.5 * 0.7 + 0.5 * 0.0)
    assert rate.stratified == approx(0.10)
    assert rate.raw_high < 0 < rate.stratified_low  # opposite signs, both clear of zero
    # Every order is 10, so revenue per customer tells the same story, ten times over.
    revenue = gap(result, "yes", "no", "revenue_per_customer")
    assert (revenue.raw, revenue.stratified) == (approx(-3.2), approx(1.0))
    by_state = impact(t, params_for(t, 11), "state", "email_marketing")
    assert gap(by_state, "granted", "denied", "conversion_rate").stratified == approx(0.10)


def test_same_mix_leaves_the_gap_unchanged(store_with):
    people = (
        block("ys", 50, 30, channel="search", email_marketing="granted")
        + block("yo", 50, 10, channel="social", email_marketing="granted")
        + block("ns", 50, 20, channel="search", email_marketing="denied")
        + block("no", 50, 0, channel="social", email_marketing="denied")
    )
    t = tables_for(store_with, people)
    rate = gap(impact(t, params_for(t, 11), "class"), "yes", "no", "conversion_rate")
    assert rate.raw == approx(0.2)
    assert rate.stratified == approx(0.2)


# --------------------------------------------------------------------------------------------
# Suppression at k = 11
# --------------------------------------------------------------------------------------------


def test_converters_withheld_primary_and_complementary_over_states(store_with):
    people = (
        block("g", 60, 30, email_marketing="granted")
        + block("d", 40, 5, email_marketing="denied")  # 5 converters: withheld
        + block("w", 30, 12, email_marketing="withdrawn")  # smallest other: withheld too
        + block("x", 50, 20)
    )
    t = tables_for(store_with, people)
    result = impact(t, params_for(t, 11), "state", "email_marketing")
    denied, withdrawn = row(result, "denied"), row(result, "withdrawn")
    assert denied.customers == 40 and pd.isna(denied.converters)
    assert withdrawn.customers == 30 and pd.isna(withdrawn.converters)
    for figure in ("rate", "rate_low", "revenue_per_customer", "stratified_rate"):
        assert pd.isna(denied[figure]) and pd.isna(withdrawn[figure])
    assert row(result, "granted").converters == 30
    assert row(result, "no_decision").rate == approx(0.4)
    assert pd.isna(gap(result, "granted", "denied", "conversion_rate").raw)
    assert pd.isna(gap(result, "granted", "withdrawn", "revenue_per_customer").stratified)
    assert gap(result, "granted", "no_decision", "conversion_rate").raw == approx(0.1)
    # The class figures are those of the metrics JSON: no = denied + withdrawn, 17 converters.
    by_class = impact(t, params_for(t, 11), "class")
    assert row(by_class, "no").converters == 17


def test_customers_withheld_as_in_the_metrics_json(store_with):
    people = (
        block("g", 100, 40, email_marketing="granted", analytics="granted")
        + block("d", 20, 12, email_marketing="denied", analytics="denied")
        + block("w", 5, 2, email_marketing="denied", analytics="withdrawn")
        + block("x", 55, 20)
    )
    t = tables_for(store_with, people)
    params = params_for(t, 11)
    result = impact(t, params, "state", "analytics")
    consent = to_json(compute(t, params))["consent"]["analytics"]
    assert [consent[s] for s in CONSENT_STATES] == [100, None, None, 55]
    assert result.groups.customers.tolist() == [100, pd.NA, pd.NA, 55]
    for state in ("denied", "withdrawn"):
        assert pd.isna(row(result, state).rate)
        assert pd.isna(row(result, state).stratified_revenue_per_customer)


def test_a_class_withheld_in_the_json_cannot_be_worked_back_from_the_states(store_with):
    # Classes: yes 30 converters, no 5 (withheld in the JSON), maybe 20. The analytics states
    # hold 30 and 25 converters: both publishable on their own, but together they give the
    # total 55 and so no = 55 - 30 - 20. The smaller one is withheld too.
    people = (
        block("g", 60, 30, email_marketing="granted", analytics="granted")
        + block("d", 40, 5, email_marketing="denied", analytics="denied")
        + block("x", 50, 20, analytics="denied")
    )
    t = tables_for(store_with, people)
    params = params_for(t, 11)
    conversion = to_json(compute(t, params))["conversion"]
    assert [conversion[c]["converters"] for c in CLASSES] == [30, 20, None]
    result = impact(t, params, "state", "analytics")
    assert row(result, "granted").converters == 30
    assert pd.isna(row(result, "denied").converters)
    assert pd.isna(row(result, "denied").rate)
    # The class view publishes exactly what the JSON does.
    by_class = impact(t, params, "class")
    assert by_class.groups.converters.tolist() == [30, 20, pd.NA]


def test_stratified_figures_need_publishable_converters_in_the_strata_used(store_with):
    # yes: 80 customers, 25 converters (published); in web/DE, the only stratum every group
    # fills to 11, only 5 of them: its stratified figures are withheld.
    people = (
        block("a", 40, 5, channel="web", country="DE", email_marketing="granted")
        + block("b", 40, 20, channel="app", country="FR", email_marketing="granted")
        + block("c", 40, 12, channel="web", country="DE", email_marketing="denied")
        + block("d", 3, 0, channel="app", country="FR", email_marketing="denied")
    )
    t = tables_for(store_with, people)
    result = impact(t, params_for(t, 11), "class")
    yes, no = row(result, "yes"), row(result, "no")
    assert yes.rate == approx(25 / 80)
    assert pd.isna(yes.stratified_rate) and pd.isna(yes.stratified_revenue_per_customer_high)
    assert no.stratified_rate == approx(12 / 40)  # web/DE only: weight 1
    # app/FR, pooled, lacks 11 of no: dropped, with its 43 customers.
    assert (result.strata_used, result.pooled) == (1, False)
    assert result.covered == approx(80 / 123)
    assert pd.isna(gap(result, "yes", "no", "conversion_rate").stratified)


def test_share_of_customers_compared_is_withheld_when_few_are_left_out(store_with):
    people = (
        block("a", 40, 15, channel="web", country="DE", email_marketing="granted")
        + block("b", 40, 20, channel="app", country="FR", email_marketing="granted")
        + block("c", 40, 12, channel="web", country="DE", email_marketing="denied")
        + block("d", 20, 0, channel="app", country="FR", email_marketing="denied")
        + block("e", 4, 0, channel="shop", country="IT", email_marketing="granted")
    )
    t = tables_for(store_with, people)
    result = impact(t, params_for(t, 11), "class")
    # shop/IT (4 customers, no "no" among them) is pooled alone and dropped: 4 left out.
    assert (result.strata, result.strata_used, result.pooled) == (3, 2, False)
    assert result.covered is None
    assert row(result, "yes").stratified_rate == approx(80 / 140 * 15 / 40 + 60 / 140 * 20 / 40)
    assert impact(t, params_for(t, 1), "class").covered == approx(140 / 144)


# --------------------------------------------------------------------------------------------
# Invariants on a seeded demo
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("impact") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(4_000, seed=5))
        yield Tables.from_backend(store.backend), store.date_range()


GROUPINGS = [("class", None), ("state", "email_marketing"), ("state", "third_party_sharing")]


@pytest.fixture(scope="module")
def by_k(demo):
    """(params, metrics JSON, results per grouping) at k = 11 and k = 1."""
    tables, dates = demo
    out = {}
    for k in (11, 1):
        params = resolve_params(dates, min_cell=k)
        results = {(by, purpose): impact(tables, params, by, purpose) for by, purpose in GROUPINGS}
        out[k] = (params, to_json(compute(tables, params)), results)
    return out


@pytest.fixture(params=[11, 1], ids=["k=11", "k=1"])
def figures(request, by_k):
    return by_k[request.param]


def estimates(result):
    for name in ("rate", "revenue_per_customer", "stratified_rate"):
        for _, r in result.groups.iterrows():
            if not pd.isna(r[name]):
                yield name, r[name], r[f"{name}_low"], r[f"{name}_high"]


def test_estimates_lie_within_their_intervals_and_rates_in_the_unit_interval(figures):
    for result in figures[2].values():
        for name, value, low, high in estimates(result):
            assert low <= value + 1e-12 and value <= high + 1e-12
            assert low >= 0
            if "rate" in name:
                assert high <= 1


def test_class_figures_are_those_of_the_metrics_json(figures):
    _, published, results = figures
    groups = results[("class", None)].groups.set_index("group")
    for cls in CLASSES:
        block_ = published["conversion"][cls]
        r = groups.loc[cls]
        assert (None if pd.isna(r.customers) else r.customers) == block_["customers"]
        assert (None if pd.isna(r.converters) else r.converters) == block_["converters"]
        if block_["rate"] is None:
            assert pd.isna(r.rate) and pd.isna(r.revenue_per_customer)
        else:
            assert r.rate == approx(block_["rate"])
            assert r.revenue_per_customer * r.customers == pytest.approx(block_["revenue"])


def test_state_customers_are_those_of_the_metrics_json_and_add_up(figures):
    params, published, results = figures
    for (by, purpose), result in results.items():
        if by != "state":
            continue
        counts = [None if pd.isna(n) else int(n) for n in result.groups.customers]
        assert counts == [published["consent"][purpose][s] for s in CONSENT_STATES]
        if None not in counts:
            assert sum(counts) == published["customers"]
        assert counts.count(None) != 1


def test_no_small_count_is_published_and_no_breakdown_leaves_one_hidden(figures):
    params, published, results = figures
    k = params.min_cell
    class_hidden = [published["conversion"][c]["converters"] for c in CLASSES].count(None)
    for (by, _), result in results.items():
        counts = [v for v in result.groups[["customers", "converters"]].stack().tolist()]
        assert all(n == 0 or n >= k for n in counts if not pd.isna(n))
        if by == "state":
            hidden = result.groups.converters.isna().sum()
            # Hidden converters over the states: none (or two) when the class side gives the
            # total away, at least one when one class is withheld.
            if class_hidden == 0:
                assert hidden != 1
            elif class_hidden == 1:
                assert hidden >= 1


def test_gaps_are_differences_of_the_published_estimates(figures):
    for result in figures[2].values():
        groups = result.groups.set_index("group")
        for _, g in result.gaps.iterrows():
            column = "rate" if g.measure == "conversion_rate" else "revenue_per_customer"
            for kind, prefix in (("raw", ""), ("stratified", "stratified_")):
                a, b = groups.at[g["first"], prefix + column], groups.at[g.second, prefix + column]
                if pd.isna(a) or pd.isna(b):
                    assert pd.isna(g[kind])
                else:
                    assert g[kind] == approx(a - b)
                    assert g[f"{kind}_low"] < g[kind] < g[f"{kind}_high"]


def test_with_k_1_converters_over_states_add_up_to_those_over_classes(by_k):
    results = list(by_k[1][2].values())
    total = results[0].groups.converters.sum()
    assert total > 0
    for result in results:
        assert result.groups.converters.sum() == total
        assert result.covered is not None and 0 < result.covered <= 1


def test_one_stratum_makes_stratified_equal_raw(demo):
    tables, dates = demo
    params = resolve_params(dates, min_cell=1)
    params = replace(params, filters=Filters(countries=("US",), channels=("organic_search",)))
    result = impact(tables, params, "class")
    assert (result.strata, result.strata_used) == (1, 1)
    groups = result.groups.set_index("group")
    for cls in CLASSES:
        assert groups.at[cls, "stratified_rate"] == approx(groups.at[cls, "rate"])
        assert groups.at[cls, "stratified_revenue_per_customer"] == approx(
            groups.at[cls, "revenue_per_customer"]
        )
