"""Erasure page figures: hand-computed cases, suppression in step with the metrics JSON, and
invariants on a seeded demo store."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from data.intake.loader import import_files
from data.storage.store import Store, open_store
from data.synthetic.generator import generate
from metrics import erasure_views as ev
from metrics.figures import JSON_FIGURES, on_page
from metrics.params import Filters, resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables, erasure_requests

CUSTOMERS = """\
customer_id,created_at,country,state
c1,2025-06-01,DE,
c2,2025-06-01,US,CA
c3,2025-06-01,BR,
c4,2025-06-01,GB,
c5,2025-06-01,CA,
c6,2025-06-01,DE,
"""
# GDPR: 1 calendar month; CCPA 45 days; LGPD 15 days; UK_GDPR 1 month; PIPEDA 30 days.
REQUESTS = """\
request_id,customer_id,type,received_at,completed_at,status,extended,jurisdiction
r1,c1,erasure,2026-01-05T09:00:00,2026-01-20T10:00:00,,,
r2,c2,erasure,2026-01-10,2026-03-10,,,
r3,c3,erasure,2026-02-01,,,,
r4,c4,erasure,2026-03-25,,,,
r5,,erasure,2026-03-20,,,,GDPR
r6,c5,erasure,2026-03-10,,,,
r7,c1,access,2026-02-03,2026-02-10,,,
r8,c2,access,2026-03-30,,,,
r9,c3,erasure,2026-01-15,2026-01-20,rejected,,
r10,c6,erasure,2025-12-20,2026-01-05,,,
"""
# By hand, period 2026-01-01 to 2026-03-31, D = 2026-03-31:
# erasure received Jan r1 r2 r9, Feb r3, Mar r4 r5 r6; completed Jan r10 r1, Mar r2.
# Open at D: r3 (LGPD, due 02-16: overdue), r6 (PIPEDA, due 04-09: within 14 days),
# r4 (UK_GDPR, due 04-25) and r5 (GDPR, due 04-20): due later.
# On time: r1 (15 days) and r10 (16 days, due 01-20) yes; r2 (59 days, due 02-24) no.


def _store(folder: Path, files: dict[str, str]) -> Store:
    """A store of its own at module scope (the shared `store_with` is per test)."""
    store = open_store(folder / "store" / "test.duckdb")
    import_files(store, write_csvs(folder / "in", files))
    return store


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    store = _store(
        tmp_path_factory.mktemp("tiny"), {"customers": CUSTOMERS, "privacy_requests": REQUESTS}
    )
    yield Tables.from_backend(store.backend), store
    store.close()


@pytest.fixture(scope="module")
def hand(tiny):
    """The page's figures for the hand-computed case, k = 1."""
    tables, store = tiny
    return ev.erasure_figures(tables, params_for(store))


def params_for(store, **kwargs):
    kwargs = {"min_cell": 1, "start": date(2026, 1, 1), "as_of": date(2026, 3, 31)} | kwargs
    return resolve_params(store.date_range(), **kwargs)


def write_csvs(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for table, text in files.items():
        paths.append(folder / f"{table}.csv")
        paths[-1].write_text(text, encoding="utf-8")
    return paths


def by_period(frame, group, figure):
    rows = frame[frame.group == group]
    return dict(zip(rows.period, rows[figure], strict=True))


def column(frame, group, figure):
    return list(frame.loc[frame.group == group, figure])


def test_requests_per_month_by_type(hand):
    frame = hand.requests_over_time("month", "type")
    assert list(dict.fromkeys(frame.period)) == ["2026-01", "2026-02", "2026-03"]
    assert list(dict.fromkeys(frame.group)) == ["erasure", "access"]
    assert column(frame, "erasure", "received") == [3, 1, 3]
    assert column(frame, "erasure", "completed") == [2, 0, 1]
    assert column(frame, "access", "received") == [0, 1, 1]
    assert column(frame, "access", "completed") == [0, 1, 0]


def test_requests_per_week_by_jurisdiction(hand):
    frame = hand.requests_over_time("week", "jurisdiction")
    weeks = list(dict.fromkeys(frame.period))
    # Monday-start weeks clipped to the period: 2026-01-01 is a Thursday.
    assert weeks[:3] == ["2026-01-01", "2026-01-05", "2026-01-12"]
    assert weeks[-1] == "2026-03-30" and len(weeks) == 14
    first = frame[frame.period == "2026-01-01"].iloc[0]
    assert (first["first"], first["last"]) == (date(2026, 1, 1), date(2026, 1, 4))
    gdpr = by_period(frame, "GDPR", "received")
    assert gdpr["2026-01-05"] == 1 and gdpr["2026-03-16"] == 1
    assert sum(gdpr.values()) == 2
    lgpd = by_period(frame, "LGPD", "received")
    assert lgpd["2026-01-12"] == 1 and lgpd["2026-01-26"] == 1  # the rejected one counts too
    done = frame.groupby("group")["completed"].sum().to_dict()
    assert done == {"GDPR": 2, "UK_GDPR": 0, "CCPA": 1, "LGPD": 0, "PIPEDA": 0}
    # Every week is present for every group.
    assert frame.groupby("group").size().eq(14).all()


def test_totals_match_the_metrics_json(tiny, hand):
    tables, store = tiny
    params = params_for(store)
    figures = hand
    json = to_json(compute(tables, params))
    assert figures.summary == json["erasure"] == ev.erasure_summary(tables, params)
    types = figures.totals_by("type").set_index("group")
    assert types.loc["erasure", "received"] == json["erasure"]["received"] == 7
    assert types.loc["access", "received"] == json["requests_by_type"]["access"] == 2
    assert types.loc["access", "completed"] == 1
    places = figures.totals_by("jurisdiction").set_index("group")
    for name, row in json["erasure"]["by_jurisdiction"].items():
        assert places.loc[name, "received"] == row["received"]
        assert places.loc[name, "completed"] == row["completed"]


def test_backlog_at_each_month_end(hand):
    frame = hand.backlog_by("month")
    assert list(frame.period) == ["2026-01", "2026-02", "2026-03"]
    assert list(frame.day) == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert list(frame.open) == [1, 2, 4]  # r2; r2 and r3; r3 r4 r5 r6
    # On 28 February r2 (due 24 February) and r3 (due 16 February) are late; r2 is completed
    # on 10 March.
    assert list(frame.overdue) == [0, 2, 1]


def test_backlog_is_capped_at_the_as_of_date(tiny):
    tables, store = tiny
    params = params_for(store, end=date(2026, 3, 31))
    params = replace(params, as_of=date(2026, 3, 15))
    frame = ev.backlog(tables, params, "month")
    assert list(frame.day) == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 15)]
    assert list(frame.open) == [1, 2, 2]  # r2 is completed on 10 March, r6 arrived that day


def test_backlog_agrees_with_the_rules_at_every_period_end(tiny, hand):
    tables, store = tiny
    params = params_for(store)
    for grain in ev.GRAINS:
        frame = hand.backlog_by(grain)
        for row in frame.itertuples(index=False):
            r = erasure_requests(tables, replace(params, as_of=row.day))
            expected = r.aggregate(open=r.open.sum(), overdue=r.overdue.sum()).to_pyarrow()
            assert row.open == (expected["open"][0].as_py() or 0)
            assert row.overdue == (expected["overdue"][0].as_py() or 0)


def test_due_status_per_jurisdiction(tiny, hand):
    tables, store = tiny
    frame = hand.due_status().set_index("jurisdiction")
    assert list(frame.index) == ["GDPR", "UK_GDPR", "LGPD", "PIPEDA"]
    assert frame.loc["LGPD", ["open", "overdue", "due_soon", "due_later"]].tolist() == [1, 1, 0, 0]
    assert frame.loc["PIPEDA", ["open", "overdue", "due_soon", "due_later"]].tolist() == [
        1,
        0,
        1,
        0,
    ]
    assert frame.loc["GDPR", "due_later"] == 1 and frame.loc["UK_GDPR", "due_later"] == 1
    assert frame.loc["GDPR", "deadline"] == "1 calendar month"
    assert frame.loc["GDPR", "extended_deadline"] == "3 calendar months"
    assert frame.loc["LGPD", "extended_deadline"] == "no extension"
    # A horizon of 10 days ends on 10 April: r6 (due 9 April) is still due soon; 8 days: later.
    short = ev.due_status(tables, params_for(store), 8).set_index("jurisdiction")
    assert short.loc["PIPEDA", "due_soon"] == 0 and short.loc["PIPEDA", "due_later"] == 1


def test_on_time_rate_and_median_per_jurisdiction(hand):
    frame = hand.on_time().set_index("jurisdiction")
    assert list(frame.index) == ["GDPR", "CCPA"]
    assert frame.loc["GDPR", "completed"] == 2
    assert frame.loc["GDPR", "on_time_rate"] == 1.0
    assert frame.loc["GDPR", "median_days"] == 15.5  # 15 and 16 days
    assert frame.loc["CCPA", "on_time_rate"] == 0.0
    assert frame.loc["CCPA", "median_days"] == 59.0
    assert frame.loc["CCPA", "deadline"] == "45 days"


def test_trend_needs_six_whole_months(hand):
    assert "fewer than six whole months" in hand.trend


def test_trend_reads_the_last_three_months_against_the_three_before(tiny):
    tables, store = tiny
    params = params_for(store, start=date(2025, 10, 1))
    assert ev.trend_reading(tables, params) == (
        "Erasure requests rose 600% in the last three months (Jan–Mar 2026: 7) compared with "
        "the three before (Oct–Dec 2025: 1). Over the same months the backlog of open requests "
        "grew from 1 to 4, 1 of them past their legal deadline."
    )


def test_trend_says_so_when_figures_are_withheld(tiny):
    tables, store = tiny
    params = params_for(store, start=date(2025, 10, 1), min_cell=11)
    assert "withheld" in ev.trend_reading(tables, params)


def test_an_unknown_grain_or_breakdown_is_refused(tiny, hand):
    tables, store = tiny
    with pytest.raises(ValueError):
        hand.requests_over_time("day", "type")
    with pytest.raises(ValueError):
        ev.requests_over_time(tables, params_for(store), "month", "channel")


def test_each_figure_on_its_own_equals_the_whole_set(tiny, hand):
    tables, store = tiny
    params = params_for(store)
    pd.testing.assert_frame_equal(
        ev.requests_over_time(tables, params, "week", "type"),
        hand.requests_over_time("week", "type"),
    )
    pd.testing.assert_frame_equal(ev.backlog(tables, params, "week"), hand.backlog_by("week"))
    pd.testing.assert_frame_equal(ev.on_time_by_jurisdiction(tables, params), hand.on_time())
    assert ev.trend_reading(tables, params) == hand.trend


def test_each_new_figure_family_is_registered_with_its_sql(tiny):
    tables, store = tiny
    own = [f for f in on_page("erasure") if f not in JSON_FIGURES]
    names = [m.name for m in own]
    assert len(names) == len(set(names)) == 4
    for metric in own:
        assert metric.description and metric.unit in ("count", "rate")
        assert "SELECT" in metric.sql(tables, params_for(store)).upper()


# Suppression at k = 11.


def _suppression_csv() -> dict[str, str]:
    customers = ["customer_id,created_at,country,state"]
    rows = ["request_id,customer_id,type,received_at,completed_at,status,extended,jurisdiction"]
    plan = [  # (month, country, erasure requests, access requests)
        (1, "DE", 12, 0),
        (1, "US", 12, 20),
        (2, "DE", 5, 0),
        (2, "US", 0, 5),
        (3, "DE", 15, 0),
        (3, "US", 15, 15),
    ]
    n = 0
    for month, country, erasures, accesses in plan:
        for kind, count in (("erasure", erasures), ("access", accesses)):
            for i in range(count):
                n += 1
                customers.append(f"p{n},2025-06-01,{country},NY")
                day = f"2026-{month:02d}-{1 + i % 14:02d}"
                rows.append(f"q{n},p{n},{kind},{day},,,,")
    return {"customers": "\n".join(customers) + "\n", "privacy_requests": "\n".join(rows) + "\n"}


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    store = _store(tmp_path_factory.mktemp("counted"), _suppression_csv())
    tables = Tables.from_backend(store.backend)
    params = resolve_params(
        store.date_range(), start=date(2026, 1, 1), as_of=date(2026, 3, 31), min_cell=11
    )
    yield tables, params, ev.erasure_figures(tables, params)
    store.close()


def test_a_small_cell_is_withheld_and_complemented(counted):
    _, _, figures = counted
    frame = figures.requests_over_time("month", "type")
    access = column(frame, "access", "received")
    assert access[1] is None  # 5 requests: primary
    # The type total is published (40), so a second month is withheld with it.
    assert figures.totals_by("type").set_index("group").loc["access", "received"] == 40
    assert access.count(None) >= 2
    assert 5 not in access


def test_json_figures_are_published_as_the_json_publishes_them(counted):
    tables, params, figures = counted
    monthly = to_json(compute(tables, params))["erasure"]["monthly"]
    # January (24) is withheld there only to protect February (5).
    assert [m["received"] for m in monthly] == [None, None, 30]
    frame = figures.requests_over_time("month", "type")
    assert column(frame, "erasure", "received") == [None, None, 30]


def test_the_share_of_withheld_counts_is_known(counted, hand):
    assert hand.withheld_share("week", "jurisdiction") == 0.0
    frame = counted[2].requests_over_time("month", "type")
    values = list(frame[["received", "completed"]].to_numpy().ravel())
    withheld, drawn = values.count(None), sum(v is not None and v > 0 for v in values)
    assert counted[2].withheld_share("month", "type") == withheld / (withheld + drawn) > 0


def test_a_withheld_total_cannot_be_rebuilt_from_its_parts(counted):
    frame = counted[2].requests_over_time("month", "jurisdiction")
    january = frame[frame.period == "2026-01"].set_index("group")["received"]
    # 12 + 12 would give back the withheld January total, and so February's 5.
    assert january.isna().sum() >= 1
    february = frame[frame.period == "2026-02"].set_index("group")["received"]
    assert february["GDPR"] is None and february["US_STATE"] == 0


def test_withheld_figures_hold_across_grains_and_views(counted):
    _, params, figures = counted
    published = {}
    for grain in ev.GRAINS:
        for by in ev.BREAKDOWNS:
            frame = figures.requests_over_time(grain, by)
            values = frame[["received", "completed"]].to_numpy().ravel()
            published[(grain, by)] = [v for v in values if v is not None]
    k = params.min_cell
    assert all(v == 0 or v >= k for values in published.values() for v in values)


# Invariants on a seeded demo.


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("erasure") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(4_000, seed=3))
        yield store


SETTINGS = [
    {},
    {"min_cell": 1},
    {"start": date(2025, 10, 1)},
    {"filters": Filters(jurisdictions=("GDPR", "US_STATE"))},
]


@pytest.fixture(scope="module", params=SETTINGS, ids=["defaults", "k1", "year", "filtered"])
def published(request, demo):
    params = resolve_params(demo.date_range(), **request.param)
    tables = Tables.from_backend(demo.backend)
    return params, ev.erasure_figures(tables, params), to_json(compute(tables, params))


def test_rates_and_medians_are_sensible(published):
    _, figures, _ = published
    on_time = figures.on_time()
    assert all(0.0 <= r <= 1.0 for r in on_time.on_time_rate if r is not None)
    assert all(m >= 0 for m in on_time.median_days if m is not None)


def test_no_published_count_is_a_small_cell(published):
    params, figures, _ = published
    k = params.min_cell
    frames = [figures.over_time, figures.totals, figures.backlog, figures.jurisdictions]
    columns = ("received", "completed", "open", "overdue", "due_soon", "due_later")
    for frame in frames:
        for name in columns:
            if name in frame:
                assert all(v == 0 or v >= k for v in frame[name] if v is not None)
    assert all(v == 0 or v >= k for v in figures.due_totals.values() if v is not None)


def test_every_period_is_present_for_every_group(published):
    params, figures, _ = published
    for grain in ev.GRAINS:
        expected = [p.label for p in ev.periods(params.start, params.end, grain)]
        for by in ev.BREAKDOWNS:
            frame = figures.requests_over_time(grain, by)
            for _, group in frame.groupby("group"):
                assert list(group.period) == expected


def test_figures_agree_with_the_metrics_json(published):
    params, figures, json = published
    erasure = json["erasure"]
    frame = figures.requests_over_time("month", "type")
    mine = frame[frame.group == "erasure"]
    if not mine.empty:
        assert list(mine.received) == [m["received"] for m in erasure["monthly"]]
        assert list(mine.completed) == [m["completed"] for m in erasure["monthly"]]
    last = figures.backlog_by("month").iloc[-1]
    assert last.day == params.as_of
    assert (last.open, last.overdue) == (erasure["open"], erasure["overdue"])
    assert figures.due_totals["open"] == erasure["open"]
    types = figures.totals_by("type").set_index("group")["received"].to_dict()
    for request_type, n in json["requests_by_type"].items():
        assert types[request_type] == n


def test_breakdowns_add_up_and_never_leave_one_member_withheld(published):
    _, figures, _ = published
    for by in ev.BREAKDOWNS:
        totals = figures.totals_by(by).set_index("group")
        for grain in ev.GRAINS:
            frame = figures.requests_over_time(grain, by)
            for group, rows in frame.groupby("group"):
                for figure in ("received", "completed"):
                    total, members = totals.at[group, figure], list(rows[figure])
                    if total is None:
                        continue
                    assert members.count(None) != 1
                    if None not in members:
                        assert sum(members) == total
    status = figures.due_status()
    for row in status.itertuples(index=False):
        members = [row.overdue, row.due_soon, row.due_later]
        if row.open is not None:
            assert members.count(None) != 1
            if None not in members:
                assert sum(members) == row.open


def test_the_effect_built_into_the_demo_is_read(demo):
    params = resolve_params(demo.date_range(), min_cell=1)
    text = ev.trend_reading(Tables.from_backend(demo.backend), params)
    assert text.startswith("Erasure requests rose")


def test_periods_cover_the_period_exactly():
    start, end = date(2025, 12, 31), date(2026, 3, 2)
    for grain in ev.GRAINS:
        spans = ev.periods(start, end, grain)
        assert spans[0].first == start and spans[-1].last == end
        for before, after in zip(spans, spans[1:], strict=False):
            assert after.first == before.last + timedelta(days=1)
