"""Revenue in one currency: where orders mix currencies, the pages count one at a time; who
bought never depends on it, and no currency's revenue is added to another's."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from data.intake.loader import import_files
from data.storage import facts
from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics import api
from metrics.impact import BY_CLASS, impact
from metrics.params import resolve_params
from metrics.queries import class_outcomes
from metrics.rules import Tables, classes, orders_in_period
from tests.conftest import write_csvs

CUSTOMERS = """customer_id,created_at,country
y1,2025-01-01,DE
y2,2025-01-01,DE
n1,2025-01-01,US
m1,2025-01-01,GB
"""
EVENTS = """customer_id,purpose,decision,occurred_at
y1,email_marketing,granted,2025-02-01
y2,email_marketing,granted,2025-02-01
n1,email_marketing,denied,2025-02-01
"""
# y1 buys in euros and dollars, y2 only in dollars, n1 in dollars (and once before the
# period), m1 in pounds and once without a currency.
ORDERS = """order_id,customer_id,ordered_at,revenue,currency
o1,y1,2025-06-01,10.00,EUR
o2,y1,2025-06-02,7.50,USD
o3,y2,2025-06-03,20.00,usd
o4,n1,2025-06-04,5.00,USD
o5,n1,2024-06-04,99.00,USD
o6,m1,2025-06-05,3.00,GBP
o7,m1,2025-06-06,4.00,
"""


def outcomes(tables: Tables, currency: str | None) -> pd.DataFrame:
    params = resolve_params(
        (date(2025, 1, 1), date(2025, 12, 31)),
        start=date(2025, 1, 1),
        as_of=date(2025, 12, 31),
        min_cell=1,
    )
    frame = class_outcomes(tables, replace(params, currency=currency)).to_pandas()
    return frame.set_index("cls")


@pytest.fixture(params=["facts", "canonical"])
def tables(store_with, request) -> Tables:
    """The store's tables with their facts, and the same without (the canonical path)."""
    store = store_with({"customers": CUSTOMERS, "consent_events": EVENTS, "orders": ORDERS})
    tables = with_facts(store)
    return tables if request.param == "facts" else tables.canonical_only()


def with_facts(store) -> Tables:
    """The store's tables and the facts its writes keep up to date."""
    facts.refresh(store.con, store.backend)
    assert facts.current(store.con)
    found = {name: store.backend.table(name) for name in facts.FACT_TABLES}
    return replace(Tables.from_backend(store.backend), facts=found)


def test_revenue_by_hand_in_each_currency(tables):
    revenue = {c: outcomes(tables, c)["revenue"].astype(float).to_dict() for c in ("EUR", "USD")}
    assert revenue["EUR"] == {"yes": 10.0, "maybe": 0.0, "no": 0.0}
    # Lower-case "usd" is stored as USD; the order before the period does not count.
    assert revenue["USD"] == {"yes": 27.5, "maybe": 0.0, "no": 5.0}
    assert outcomes(tables, "GBP")["revenue"].astype(float).to_dict() == {
        "yes": 0.0,
        "maybe": 3.0,
        "no": 0.0,
    }
    # Without a currency, every order counts, as the spec defines revenue.
    assert outcomes(tables, None)["revenue"].astype(float).to_dict() == {
        "yes": 37.5,
        "maybe": 7.0,
        "no": 5.0,
    }


def test_who_bought_does_not_depend_on_the_currency(tables):
    counts = ["customers", "engaged", "intent", "converted"]
    every = outcomes(tables, None)[counts]
    for currency in ("EUR", "USD", "GBP", "JPY"):
        assert outcomes(tables, currency)[counts].equals(every), currency
    assert every["converted"].to_dict() == {"yes": 2, "maybe": 1, "no": 1}


def test_the_summary_lists_the_currencies_commonest_first(tmp_path):
    files = {"customers": CUSTOMERS, "consent_events": EVENTS, "orders": ORDERS}
    with open_store(tmp_path / "store.duckdb") as store:
        import_files(store, write_csvs(tmp_path / "in", files))
    summary = api.summarize(tmp_path / "store.duckdb")
    assert summary.currencies == ("USD", "EUR", "GBP")
    assert summary.orders_without_currency


def test_each_currency_on_a_demo_equals_its_orders_summed_by_class(tmp_path):
    path = tmp_path / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(3_000, seed=5), info={"source": "demo", "seed": "5"})
        t = with_facts(store)
        params = resolve_params(store.date_range(), min_cell=1)
        who = classes(t, params).to_pandas()[["customer_id", "cls"]]
        orders = orders_in_period(t, params).to_pandas().merge(who, on="customer_id")
        expected = orders.groupby(["currency", "cls"])["revenue"].sum().astype(float)
        codes = sorted(orders["currency"].unique())
        assert len(codes) > 1
        total = 0.0
        for code, path in zip(codes, [t, t.canonical_only()] * len(codes), strict=False):
            got = class_outcomes(path, replace(params, currency=code)).to_pandas()
            for _, row in got.iterrows():
                want = expected.get((code, row["cls"]), 0.0)
                assert float(row["revenue"]) == pytest.approx(want, abs=1e-6), (code, row["cls"])
            total += float(got["revenue"].astype(float).sum())
        every = class_outcomes(t, params).to_pandas()["revenue"].astype(float).sum()
        assert total == pytest.approx(every, abs=1e-4)
        # The Conversion impact page's revenue per customer counts the same orders.
        result = impact(t, replace(params, currency=codes[0]), BY_CLASS)
        groups = result.groups.set_index("group")
        for cls in ("yes", "maybe", "no"):
            n = groups.loc[cls, "customers"]
            want = expected.get((codes[0], cls), 0.0) / n
            assert groups.loc[cls, "revenue_per_customer"] == pytest.approx(want, rel=1e-9)


def test_the_metrics_command_counts_one_currency_when_asked(tmp_path):
    import json
    import subprocess
    import sys

    path = tmp_path / "demo.duckdb"

    def run(*args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "consentlens", "--db", str(path), *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout) if args[0] == "metrics" else {}

    run("demo", "--customers", "2000", "--seed", "3")
    every, euros = run("metrics"), run("metrics", "--currency", " eur ")
    summary = api.summarize(path)
    # The command's default period: the whole span of the data.
    params = replace(resolve_params((summary.first, summary.last)), currency="EUR")
    assert euros == api.evaluate(path, api.published, params)
    assert euros != every
    for cls in ("yes", "maybe", "no"):
        for count in ("customers", "converters", "rate"):
            assert euros["conversion"][cls][count] == every["conversion"][cls][count]
    assert euros["conversion"]["yes"]["revenue"] < every["conversion"]["yes"]["revenue"]
