"""Consent page figures: hand-computed cases, suppression at k = 11, invariants on a seeded demo."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from data.storage.schema import CONSENT_STATES, DECISIONS
from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics import consent_views as cv
from metrics.figures import JSON_FIGURES, on_page
from metrics.params import Filters, resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables

# Five customers at D = 2026-02-28 (C5 is created after D). C4 has no country, segment or
# channel; C6 lives in Namibia (NA), a country, not a missing value.
TINY = {
    "customers": """
        customer_id,created_at,country,state,acquisition_channel,segment
        C1,2026-01-05,DE,,social,retail
        C2,2026-01-05,DE,,paid,retail
        C3,2026-01-06,US,CA,,b2b
        C4,2026-01-07,,,social,
        C5,2026-03-01,FR,,social,retail
        C6,2026-01-08,NA,,paid,b2b
        """,
    "consent_events": """
        customer_id,purpose,decision,occurred_at,method,prompt_variant
        C1,email_marketing,granted,2026-01-10,explicit,A
        C1,email_marketing,withdrawn,2026-02-10,explicit,
        C2,email_marketing,granted,2026-01-12,explicit,B
        C2,email_marketing,granted,2026-01-14,explicit,B
        C3,email_marketing,denied,2026-01-13,explicit,A
        C4,email_marketing,granted,2026-01-20,implied,
        C6,email_marketing,granted,2026-02-01T00:30:00+02:00,explicit,A
        C6,sms_marketing,denied,2026-02-01,gpc,A
        C2,sms_marketing,granted,2026-02-03,explicit,B
        C5,email_marketing,granted,2026-03-02,explicit,A
        C3,sms_marketing,granted,2026-03-05,explicit,A
        """,
}
AS_OF = date(2026, 2, 28)


@pytest.fixture
def tiny(store_with):
    store = store_with(TINY)
    return Tables.from_backend(store.backend), store.date_range()


def params_for(data_range, **kwargs):
    return resolve_params(data_range, as_of=AS_OF, **kwargs)


def rows(frame: pd.DataFrame, dimension: str) -> dict[tuple[str, str], tuple]:
    """{(purpose, value): (granted, refused, decided, opt_in_rate)} with NaN rates as None."""
    out = {}
    for row in frame.itertuples(index=False):
        rate = None if pd.isna(row.opt_in_rate) else row.opt_in_rate
        out[(row.purpose, getattr(row, dimension))] = (row.granted, row.refused, row.decided, rate)
    return out


def test_state_split_matches_the_metrics_json_and_adds_shares(tiny):
    tables, data_range = tiny
    params = params_for(data_range, min_cell=1)
    frame = cv.consent_overview(tables, params).set_index("purpose")
    assert list(frame.index) == ["email_marketing", "sms_marketing"]
    email = frame.loc["email_marketing"]
    assert (email.customers, email.granted, email.denied, email.withdrawn, email.no_decision) == (
        5,
        3,
        1,
        1,
        0,
    )
    assert email.opt_in_rate == pytest.approx(3 / 5)
    assert email.granted_share == pytest.approx(3 / 5)
    sms = frame.loc["sms_marketing"]
    assert (sms.granted, sms.denied, sms.withdrawn, sms.no_decision) == (1, 1, 0, 3)
    assert sms.opt_in_rate == pytest.approx(0.5)
    assert sms.no_decision_share == pytest.approx(3 / 5)
    json_consent = to_json(compute(tables, params))["consent"]
    for purpose, states in json_consent.items():
        for state in (*CONSENT_STATES, "opt_in_rate"):
            assert frame.loc[purpose, state] == pytest.approx(states[state])


EXPECTED_BY = {
    "segment": {
        ("email_marketing", "b2b"): (1, 1, 2, 0.5),
        ("email_marketing", "retail"): (1, 1, 2, 0.5),
        ("email_marketing", "unknown"): (1, 0, 1, 1.0),
        ("sms_marketing", "b2b"): (0, 1, 1, 0.0),
        ("sms_marketing", "retail"): (1, 0, 1, 1.0),
        ("sms_marketing", "unknown"): (0, 0, 0, None),
    },
    "country": {
        ("email_marketing", "DE"): (1, 1, 2, 0.5),
        ("email_marketing", "NA"): (1, 0, 1, 1.0),
        ("email_marketing", "US"): (0, 1, 1, 0.0),
        ("email_marketing", "unknown"): (1, 0, 1, 1.0),
        ("sms_marketing", "DE"): (1, 0, 1, 1.0),
        ("sms_marketing", "NA"): (0, 1, 1, 0.0),
        ("sms_marketing", "US"): (0, 0, 0, None),
        ("sms_marketing", "unknown"): (0, 0, 0, None),
    },
    "jurisdiction": {
        ("email_marketing", "CCPA"): (0, 1, 1, 0.0),
        ("email_marketing", "GDPR"): (1, 1, 2, 0.5),
        ("email_marketing", "OTHER"): (2, 0, 2, 1.0),
        ("sms_marketing", "CCPA"): (0, 0, 0, None),
        ("sms_marketing", "GDPR"): (1, 0, 1, 1.0),
        ("sms_marketing", "OTHER"): (0, 1, 1, 0.0),
    },
    "acquisition_channel": {
        ("email_marketing", "paid"): (2, 0, 2, 1.0),
        ("email_marketing", "social"): (1, 1, 2, 0.5),
        ("email_marketing", "unknown"): (0, 1, 1, 0.0),
        ("sms_marketing", "paid"): (1, 1, 2, 0.5),
        ("sms_marketing", "social"): (0, 0, 0, None),
        ("sms_marketing", "unknown"): (0, 0, 0, None),
    },
    # The deciding event's variant: C1's withdrawal carries none, nor C4's grant.
    "prompt_variant": {
        ("email_marketing", "A"): (1, 1, 2, 0.5),
        ("email_marketing", "B"): (1, 0, 1, 1.0),
        ("email_marketing", "unknown"): (1, 1, 2, 0.5),
        ("sms_marketing", "A"): (0, 1, 1, 0.0),
        ("sms_marketing", "B"): (1, 0, 1, 1.0),
        ("sms_marketing", "unknown"): (0, 0, 0, None),
    },
    "method": {
        ("email_marketing", "explicit"): (2, 2, 4, 0.5),
        ("email_marketing", "gpc"): (0, 0, 0, None),
        ("email_marketing", "implied"): (1, 0, 1, 1.0),
        ("sms_marketing", "explicit"): (1, 0, 1, 1.0),
        ("sms_marketing", "gpc"): (0, 1, 1, 0.0),
        ("sms_marketing", "implied"): (0, 0, 0, None),
    },
}


@pytest.mark.parametrize("dimension", list(cv.DIMENSIONS))
def test_opted_in_by_each_dimension_by_hand(tiny, dimension):
    tables, data_range = tiny
    frame = cv.opted_in_by(tables, params_for(data_range, min_cell=1), dimension)
    assert list(frame.columns) == [
        "purpose",
        dimension,
        "granted",
        "refused",
        "decided",
        "opt_in_rate",
    ]
    assert rows(frame, dimension) == EXPECTED_BY[dimension]
    # Sorted by purpose (canonical order), then value.
    assert list(zip(frame.purpose, frame[dimension], strict=True)) == list(EXPECTED_BY[dimension])


def test_opted_in_by_follows_the_filters(tiny):
    tables, data_range = tiny
    params = params_for(data_range, min_cell=1, filters=Filters(countries=("DE",)))
    frame = cv.opted_in_by(tables, params, "segment")
    assert rows(frame, "segment") == {
        ("email_marketing", "retail"): (1, 1, 2, 0.5),
        ("sms_marketing", "retail"): (1, 0, 1, 1.0),
    }


def test_unknown_dimension_and_grain_are_refused(tiny):
    tables, data_range = tiny
    params = params_for(data_range, min_cell=1)
    with pytest.raises(ValueError):
        cv.opted_in_by(tables, params, "email")
    with pytest.raises(ValueError):
        cv.consent_trend(tables, params, "day")


def test_monthly_trend_by_hand_in_utc(tiny):
    tables, data_range = tiny
    frame = cv.consent_trend(tables, params_for(data_range, min_cell=1), "month")
    got = {
        (r.period, r.purpose): (r.granted, r.denied, r.withdrawn, r.decisions, r.opt_in_rate)
        for r in frame.itertuples(index=False)
    }
    # C6's 2026-02-01T00:30+02:00 grant is 2026-01-31 in UTC: a January decision.
    assert got[("2026-01", "email_marketing")][:4] == (4, 1, 0, 5)
    assert got[("2026-01", "email_marketing")][4] == pytest.approx(0.8)
    assert got[("2026-01", "sms_marketing")][:4] == (0, 0, 0, 0)
    assert math.isnan(got[("2026-01", "sms_marketing")][4])
    assert got[("2026-02", "email_marketing")][:4] == (0, 0, 1, 1)
    assert got[("2026-02", "email_marketing")][4] == 0.0
    assert got[("2026-02", "sms_marketing")][:4] == (1, 1, 0, 2)
    assert got[("2026-02", "sms_marketing")][4] == pytest.approx(0.5)
    assert len(got) == 4


def test_weekly_trend_counts_customers_once_and_fills_every_week(tiny):
    tables, data_range = tiny
    frame = cv.consent_trend(tables, params_for(data_range, min_cell=1), "week")
    mondays = [
        "2026-01-05",
        "2026-01-12",
        "2026-01-19",
        "2026-01-26",
        "2026-02-02",
        "2026-02-09",
        "2026-02-16",
        "2026-02-23",
    ]
    assert list(frame.period.unique()) == mondays
    email = frame[frame.purpose == "email_marketing"].set_index("period")
    # C2 granted twice in the week of 12 January: one customer.
    assert list(email.granted) == [1, 1, 1, 1, 0, 0, 0, 0]
    assert list(email.denied) == [0, 1, 0, 0, 0, 0, 0, 0]
    assert list(email.withdrawn) == [0, 0, 0, 0, 0, 1, 0, 0]
    sms = frame[frame.purpose == "sms_marketing"].set_index("period")
    assert sms.loc["2026-01-26", "denied"] == 1
    assert sms.loc["2026-02-02", "granted"] == 1


def test_periods_cover_start_to_end():
    assert cv.periods(date(2026, 1, 7), date(2026, 1, 19), "week") == [
        "2026-01-05",
        "2026-01-12",
        "2026-01-19",
    ]
    assert cv.periods(date(2025, 11, 30), date(2026, 2, 1), "month") == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


def test_no_customers_gives_empty_frames(tiny):
    tables, data_range = tiny
    nobody = params_for(data_range, min_cell=1, filters=Filters(countries=("FR",)))
    assert cv.consent_overview(tables, nobody).empty
    assert cv.opted_in_by(tables, nobody, "country").empty


def test_select_purposes_keeps_order_and_all_when_none_given(tiny):
    tables, data_range = tiny
    frame = cv.consent_overview(tables, params_for(data_range, min_cell=1))
    assert list(cv.select_purposes(frame, ("sms_marketing",)).purpose) == ["sms_marketing"]
    assert cv.select_purposes(frame, ()).equals(frame)


# Suppression at k = 11. DE: 35 customers (email: 20 granted, 15 denied; sms: 20 granted),
# FR: 17 (email: 12 granted, 5 denied; sms: 12 granted, 5 denied), IT: 3 (email granted).
# Segments follow countries: DE retail, FR b2b, IT none (unknown). All decisions 2026-01-10.


def _suppression_csvs() -> dict[str, str]:
    customers = ["customer_id,created_at,country,segment"]
    events = ["customer_id,purpose,decision,occurred_at"]
    plan = {
        "DE": (35, "retail", {"email_marketing": (20, 15), "sms_marketing": (20, 0)}),
        "FR": (17, "b2b", {"email_marketing": (12, 5), "sms_marketing": (12, 5)}),
        "IT": (3, "", {"email_marketing": (3, 0), "sms_marketing": (0, 0)}),
    }
    for country, (n, segment, purposes) in plan.items():
        ids = [f"{country}{i:02d}" for i in range(n)]
        customers += [f"{c},2026-01-05,{country},{segment}" for c in ids]
        for purpose, (granted, denied) in purposes.items():
            events += [f"{c},{purpose},granted,2026-01-10" for c in ids[:granted]]
            events += [f"{c},{purpose},denied,2026-01-10" for c in ids[granted : granted + denied]]
    return {"customers": "\n".join(customers) + "\n", "consent_events": "\n".join(events) + "\n"}


@pytest.fixture
def small_cells(store_with):
    store = store_with(_suppression_csvs())
    tables = Tables.from_backend(store.backend)
    params = resolve_params(store.date_range(), as_of=date(2026, 1, 31))
    return tables, params


def test_state_shares_follow_the_json_suppression(small_cells):
    tables, params = small_cells
    frame = cv.consent_overview(tables, params).set_index("purpose")
    # sms: denied 5 is withheld and takes no_decision (18, smaller than granted 32) with it.
    sms = frame.loc["sms_marketing"]
    assert (sms.granted, sms.denied, sms.withdrawn, sms.no_decision) == (32, None, 0, None)
    assert sms.granted_share == pytest.approx(32 / 55)
    assert math.isnan(sms.denied_share) and math.isnan(sms.no_decision_share)
    assert math.isnan(sms.opt_in_rate)
    email = frame.loc["email_marketing"]
    assert (email.granted, email.denied, email.withdrawn, email.no_decision) == (35, 20, 0, 0)


def test_granted_and_refused_by_value_take_complements(small_cells):
    tables, params = small_cells
    got = rows(cv.opted_in_by(tables, params, "country"), "country")
    # email granted: IT 3 is withheld, FR 12 (smallest other) with it. Refused: FR 5 withheld,
    # DE 15 with it (IT is 0). No rate rests on a withheld count.
    assert got[("email_marketing", "DE")] == (20, None, None, None)
    assert got[("email_marketing", "FR")] == (None, None, None, None)
    assert got[("email_marketing", "IT")] == (None, 0, None, None)
    # sms denied is withheld in the JSON, so refused in total is unknown: FR's 5 alone is
    # withheld. DE publishes a rate on 20 decided customers.
    assert got[("sms_marketing", "DE")] == (20, 0, 20, 1.0)
    assert got[("sms_marketing", "FR")] == (12, None, None, None)
    assert got[("sms_marketing", "IT")] == (0, 0, 0, None)


def test_granted_by_segment_is_the_jsons_opted_in_by_segment(small_cells):
    tables, params = small_cells
    frame = cv.opted_in_by(tables, params, "segment")
    segments = to_json(compute(tables, params))["opted_in_by_segment"]
    assert {(r.purpose, r.segment): r.granted for r in frame.itertuples()} == {
        (purpose, segment): n
        for purpose, values in segments.items()
        for segment, n in values.items()
    }
    assert segments["email_marketing"] == {"b2b": None, "retail": 20, "unknown": None}


def test_a_rate_needs_k_decided_customers(store_with):
    csvs = _suppression_csvs()
    store = store_with(csvs)
    tables = Tables.from_backend(store.backend)
    params = resolve_params(store.date_range(), as_of=date(2026, 1, 31), min_cell=25)
    got = rows(cv.opted_in_by(tables, params, "country"), "country")
    # DE sms: 20 granted is under k = 25 itself; with k = 11 its rate was published.
    assert got[("sms_marketing", "DE")][3] is None


def test_trend_cells_hide_small_counts_and_their_complement(small_cells):
    tables, params = small_cells
    frame = cv.consent_trend(tables, params, "month")
    got = {
        r.purpose: (r.granted, r.denied, r.withdrawn, r.decisions, r.opt_in_rate)
        for r in frame.itertuples(index=False)
    }
    assert got["email_marketing"][:4] == (35, 20, 0, 55)
    assert got["email_marketing"][4] == pytest.approx(35 / 55)
    # sms: 5 denied is withheld and takes the 32 granted with it; decisions stay published,
    # the rate (granted / decisions) does not.
    assert got["sms_marketing"][:4] == (None, None, 0, 37)
    assert math.isnan(got["sms_marketing"][4])


# Invariants on a seeded demo store.


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("consent_demo") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(3_000, seed=5))
        yield path, Tables.from_backend(store.backend), store.date_range()


@pytest.mark.parametrize("min_cell", [1, 11])
def test_breakdowns_add_up_and_rates_are_shares(demo, min_cell):
    _, tables, data_range = demo
    params = resolve_params(data_range, start=date(2025, 10, 1), min_cell=min_cell)
    figures = to_json(compute(tables, params))
    overview = cv.consent_overview(tables, params).set_index("purpose")
    for column in ("opt_in_rate", *(f"{s}_share" for s in CONSENT_STATES)):
        assert overview[column].dropna().between(0, 1).all()
    for dimension in cv.DIMENSIONS:
        frame = cv.opted_in_by(tables, params, dimension)
        assert frame.opt_in_rate.dropna().between(0, 1).all()
        for purpose, group in frame.groupby("purpose"):
            states = figures["consent"][purpose]
            granted = list(group.granted)
            if states["granted"] is not None:
                # Never exactly one withheld member under a published total.
                assert granted.count(None) != 1
                if None not in granted:
                    assert sum(granted) == states["granted"]
            refused = list(group.refused)
            if states["denied"] is not None and states["withdrawn"] is not None:
                assert refused.count(None) != 1
                if None not in refused:
                    assert sum(refused) == states["denied"] + states["withdrawn"]
            for row in group.itertuples():
                if row.decided is not None:
                    assert row.decided == row.granted + row.refused
        if dimension == "segment":
            segments = figures["opted_in_by_segment"]
            assert {(r.purpose, r.segment): r.granted for r in frame.itertuples()} == {
                (p, s): n for p, values in segments.items() for s, n in values.items()
            }


def test_trend_matches_a_plain_pandas_oracle(demo):
    _, tables, data_range = demo
    params = resolve_params(data_range, start=date(2025, 10, 1), min_cell=1)
    frame = cv.consent_trend(tables, params, "month").set_index(["period", "purpose"])
    # The raw rows, then the definition again in plain pandas.
    events = tables.consent_events.to_pyarrow().to_pandas()
    customers = tables.customers.to_pyarrow().to_pandas()
    at_d = customers[customers.created_at.dt.date <= params.as_of].customer_id
    day = events.occurred_at.dt.date
    events = events[events.customer_id.isin(at_d) & (day >= params.start) & (day <= params.end)]
    events = events.assign(period=events.occurred_at.dt.strftime("%Y-%m"))
    oracle = events.groupby(["period", "purpose", "decision"]).customer_id.nunique()
    for (period, purpose, decision), n in oracle.items():
        assert frame.loc[(period, purpose), decision] == n
    assert frame[list(DECISIONS)].sum().sum() == oracle.sum()
    assert frame.opt_in_rate.dropna().between(0, 1).all()


def test_weekly_trend_never_leaves_one_member_hidden(demo):
    _, tables, data_range = demo
    params = resolve_params(data_range, start=date(2025, 10, 1))
    frame = cv.consent_trend(tables, params, "week")
    assert len(frame) == len(cv.periods(params.start, params.end, "week")) * frame.purpose.nunique()
    for row in frame.itertuples():
        members = [row.granted, row.denied, row.withdrawn]
        if row.decisions is not None:
            assert members.count(None) != 1
            if None not in members:
                assert sum(members) == row.decisions
        if not math.isnan(row.opt_in_rate):
            assert row.granted is not None and row.decisions >= params.min_cell


def test_registry_entries_have_sql_and_unique_names(demo):
    _, tables, data_range = demo
    params = resolve_params(data_range)
    own = [f for f in on_page("consent") if f not in JSON_FIGURES]
    names = [m.name for m in own]
    assert len(names) == len(set(names)) == 11
    for metric in own:
        assert "SELECT" in metric.sql(tables, params).upper()
        assert metric.description and metric.unit in ("count", "rate")


def test_published_parts_never_add_back_up_to_a_granted_total_the_json_withholds(store_with):
    customers, events = (
        ["customer_id,created_at,country"],
        ["customer_id,purpose,decision,occurred_at"],
    )
    plan = [
        ("DE", "granted", 12),
        ("DE", "withdrawn", 5),
        ("DE", "denied", 15),
        ("FR", "granted", 12),
        ("FR", "denied", 15),
    ]
    n = 0
    for country, decision, count in plan:
        for _ in range(count):
            n += 1
            customers.append(f"c{n},2026-01-01,{country}")
            events.append(f"c{n},email_marketing,{decision},2026-01-02")
    store = store_with(
        {"customers": "\n".join(customers) + "\n", "consent_events": "\n".join(events) + "\n"}
    )
    params = resolve_params(store.date_range())
    tables = Tables.from_backend(store.backend)
    # The JSON withholds withdrawn (5) and, as its complement, granted (24, the smallest).
    states = to_json(compute(tables, params))["consent"]["email_marketing"]
    assert (states["granted"], states["withdrawn"], states["denied"]) == (None, None, 30)
    by_country = cv.opted_in_by(tables, params, "country").set_index("country")["granted"]
    assert by_country.isna().sum() >= 1


# The opted-in share over time: the state share taken at every period's end.

TREND_VIEWS = [
    ("month", None, Filters()),
    ("week", date(2025, 3, 12), Filters()),
    ("month", None, Filters(countries=("DE", "FR"))),
    ("week", date(2025, 9, 3), Filters(jurisdictions=("CCPA",), segments=("loyalist",))),
]


@pytest.mark.parametrize("facts", [True, False], ids=["facts", "canonical"])
@pytest.mark.parametrize(("grain", "start", "filters"), TREND_VIEWS)
def test_opted_in_per_period_is_the_state_share_at_each_periods_end(
    demo, facts, grain, start, filters
):
    _, tables, data_range = demo
    tables = tables if facts else tables.canonical_only()
    params = params_for(data_range, min_cell=1, filters=filters)
    if start is not None:
        params = replace(params, start=start, end=start + timedelta(days=90))
    got = cv.opted_in_per_period(tables, params, grain).to_pandas()
    ends = cv.period_ends(params.start, params.end, grain)
    assert sorted(set(got["period"])) == [label for label, _ in ends]
    for label, day in ends:
        oracle = cv.state_shares(tables, replace(params, as_of=day)).to_pandas()
        mine = got[got["period"] == label]
        customers = set(mine["customers"])
        assert customers == {int(oracle["all_customers"].iloc[0])}, label
        granted = oracle[oracle["state"] == "granted"].set_index("purpose")["customers"]
        shown = mine.dropna(subset=["purpose"]).set_index("purpose")["granted"]
        assert shown.astype(int).to_dict() == granted.astype(int).to_dict(), label


def test_opted_in_trend_publishes_the_share_of_all_customers(demo):
    _, tables, data_range = demo
    params = params_for(data_range, min_cell=11)
    trend = cv.opted_in_trend(tables, params, "month")
    last = trend[trend["period"] == trend["period"].max()].set_index("purpose")
    overview = cv.consent_overview(tables, params).set_index("purpose")
    # The last month's end is the view's end: the Overview's and the table's figure.
    for purpose, row in last.iterrows():
        assert row["granted"] == overview.loc[purpose, "granted"]
        assert row["granted_share"] == pytest.approx(overview.loc[purpose, "granted_share"])
    assert list(trend.columns) == ["period", "purpose", "customers", "granted", "granted_share"]
    assert len(trend) == len(cv.period_ends(params.start, params.end, "month")) * len(last)
