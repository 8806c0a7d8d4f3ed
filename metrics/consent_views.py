"""Consent figures for the consent page: the state split per purpose, opted-in and decided
customers broken down by a customer or decision attribute, and new decisions over time.

The state counts, opt-in rates and opted-in customers per segment are the metrics JSON's own
(compute()/to_json()), so they read the same here as on the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from data.storage import facts, schema
from metrics import figures as F
from metrics.figures import DIMENSIONS
from metrics.params import Params
from metrics.perturbation import customer_key, key_in, key_sums
from metrics.report import CUSTOMERS, compute, months, to_json
from metrics.rules import (
    REFUSED_STATES,
    UNKNOWN,
    Tables,
    at_conditions,
    consent_states,
    customer_attribute,
    customers_at,
    day_in_period,
    filter_conditions,
    filtered_customers,
    in_period,
    period_label,
    period_start,
    refused,
)
from metrics.suppression import Cells

# dimension -> label; the first four are the customer's, the last two the deciding event's.
CUSTOMER_DIMENSIONS = ("segment", "country", "jurisdiction", "acquisition_channel")
EVENT_DIMENSIONS = ("prompt_variant", "method")
GRAINS: dict[str, str] = {"week": "Week", "month": "Month"}

OVERVIEW_COLUMNS = (
    "purpose",
    "customers",
    *schema.CONSENT_STATES,
    "opt_in_rate",
    *(f"{s}_share" for s in schema.CONSENT_STATES),
)
BY_COLUMNS = ("granted", "refused", "decided", "opt_in_rate")
TREND_COLUMNS = ("period", "purpose", *schema.DECISIONS, "decisions", "opt_in_rate")
OPTED_IN_COLUMNS = ("period", "purpose", "customers", "granted", "granted_share")


def _purpose_order(purposes: Sequence[str]) -> list[str]:
    canonical = [p for p in schema.PURPOSES if p in purposes]
    return canonical + sorted(p for p in purposes if p not in schema.PURPOSES)


def _frame(rows: list[dict], columns: Sequence[str], rates: Sequence[str]) -> pd.DataFrame:
    """Rows as a frame whose withheld counts stay None (not NaN in a float column)."""
    frame = pd.DataFrame(rows, columns=list(columns), dtype=object)
    for column in rates:
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


def select_purposes(frame: pd.DataFrame, purposes: Sequence[str]) -> pd.DataFrame:
    """The rows of a published frame for the given purposes (all rows when none are given)."""
    if not purposes:
        return frame
    return frame[frame["purpose"].isin(list(purposes))].reset_index(drop=True)


# The consent state split: straight from the metrics JSON.


def state_shares(t: Tables, p: Params) -> ir.Table:
    """(purpose, state, customers, all_customers) at D: state counts and the customers they
    are a share of."""
    c = customers_at(t, p)
    s = consent_states(t, p)
    counts = s.group_by(["purpose", "state"]).aggregate(customers=s.count())
    purposes = t.consent_events.select("purpose").distinct()
    out = purposes.left_join(counts, "purpose").cross_join(c.aggregate(all_customers=c.count()))
    return out.select("purpose", "state", "customers", "all_customers")


def consent_overview(tables: Tables, params: Params) -> pd.DataFrame:
    """Per purpose: customers at D in each consent state, opt-in rate and each state's share
    of customers, published as the metrics JSON publishes them (empty without customers)."""
    result = compute(tables, params)
    figures, cells = to_json(result), result.cells
    if cells.values[CUSTOMERS] == 0:
        return _frame([], OVERVIEW_COLUMNS, [])
    rows = []
    for purpose, states in figures["consent"].items():
        row = {"purpose": purpose, "customers": figures["customers"]}
        row |= {s: states[s] for s in schema.CONSENT_STATES}
        row["opt_in_rate"] = states["opt_in_rate"]
        for s in schema.CONSENT_STATES:
            key = F.CONSENT(purpose, s)
            row[f"{s}_share"] = cells.ratio(
                cells.shown(key), cells.shown(CUSTOMERS), [key, CUSTOMERS]
            )
        rows.append(row)
    rates = ["opt_in_rate", *(f"{s}_share" for s in schema.CONSENT_STATES)]
    return _frame(rows, OVERVIEW_COLUMNS, rates)


# Opted-in and decided customers by one attribute.


def decisions_by(t: Tables, p: Params, dimension: str) -> ir.Table:
    """(purpose, value, granted, refused) at D for every purpose in consent_events and every
    value of `dimension` present: among customers at D for a customer attribute, among the
    deciding events for prompt_variant and method. A missing value counts as unknown."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    if dimension in CUSTOMER_DIMENSIONS:
        # From the facts the consent states carry their customer's columns: no join.
        s = consent_states(t, p, (dimension,)).rename(value=dimension)
        c = customers_at(t, p)
        values = c.select(value=customer_attribute(c, dimension)).distinct()
    else:
        s = consent_states(t, p)
        s = s.mutate(value=s[dimension].fill_null(UNKNOWN))
        values = s.select("value").distinct()
    flags = {"granted": s.state == schema.GRANTED, "refused": refused(s.state)}
    counts = s.group_by(["purpose", "value"]).aggregate(
        **{name: flag.sum() for name, flag in flags.items()},
        **key_sums(p.perturbed, **{name: (customer_key(s), flag) for name, flag in flags.items()}),
    )
    grid = t.consent_events.select("purpose").distinct().cross_join(values)
    grid = grid.left_join(counts, ["purpose", "value"])
    keys = [f"{name}_key" for name in flags] if p.perturbed else []
    return grid.select(
        "purpose",
        "value",
        **{name: grid[name].fill_null(0) for name in [*flags, *keys]},
    )


def consent_by_segment(t: Tables, p: Params) -> ir.Table:
    """Granted and refused customers at D per purpose and segment."""
    return decisions_by(t, p, "segment")


def consent_by_country(t: Tables, p: Params) -> ir.Table:
    """Granted and refused customers at D per purpose and country."""
    return decisions_by(t, p, "country")


def consent_by_jurisdiction(t: Tables, p: Params) -> ir.Table:
    """Granted and refused customers at D per purpose and the customer's jurisdiction."""
    return decisions_by(t, p, "jurisdiction")


def consent_by_acquisition_channel(t: Tables, p: Params) -> ir.Table:
    """Granted and refused customers at D per purpose and acquisition channel."""
    return decisions_by(t, p, "acquisition_channel")


def consent_by_prompt_variant(t: Tables, p: Params) -> ir.Table:
    """Granted and refused customers at D per purpose and prompt variant of the deciding event."""
    return decisions_by(t, p, "prompt_variant")


def consent_by_method(t: Tables, p: Params) -> ir.Table:
    """Granted and refused customers at D per purpose and method of the deciding event."""
    return decisions_by(t, p, "method")


def opted_in_by(tables: Tables, params: Params, dimension: str) -> pd.DataFrame:
    """Per purpose and value of `dimension`: granted and refused (denied or withdrawn)
    customers at D, decided ones and the opt-in rate, suppressed.

    Granted per value breaks down the purpose's granted of the metrics JSON; per segment it
    is the JSON's opted_in_by_segment itself. Refused per value breaks down the purpose's
    denied + withdrawn where the JSON publishes both. Decided and the rate need granted and
    refused published, and the rate at least k decided customers.
    """
    result = compute(tables, params)
    figures = to_json(result)
    # The JSON's figures keep their status; a granted total the JSON withholds must not be
    # given back by its published parts.
    cells = Cells(params.min_cell, close_withheld_totals=True, perturbed=params.perturbed)
    cells.adopt(result.cells)
    if cells.values[CUSTOMERS] == 0:
        return _frame([], ("purpose", dimension, *BY_COLUMNS), [])
    raw = decisions_by(tables, params, dimension).to_pyarrow().to_pandas()
    keys: list[tuple[str, str, tuple, tuple]] = []
    for purpose in figures["consent"]:
        group = raw[raw["purpose"] == purpose].sort_values("value")
        granted_keys, refused_keys = [], []
        for row in group.itertuples(index=False):
            if dimension == "segment":
                # The JSON's own figure: one key, published the same way everywhere.
                granted_key: tuple = F.SEGMENT(purpose, row.value)
            else:
                granted_key = F.BY_VALUE(dimension, purpose, row.value, schema.GRANTED)
                cells.add(granted_key, int(row.granted), key_in(row, "granted"))
            refused_key = F.BY_VALUE(dimension, purpose, row.value, "refused")
            cells.add(refused_key, int(row.refused), key_in(row, "refused"))
            granted_keys.append(granted_key)
            refused_keys.append(refused_key)
            keys.append((purpose, row.value, granted_key, refused_key))
        cells.breakdown(F.CONSENT(purpose, schema.GRANTED), granted_keys)
        states = figures["consent"][purpose]
        if all(states[s] is not None for s in REFUSED_STATES):
            # Refused in total is public (denied + withdrawn): its members need complements.
            total = F.CONSENT_REFUSED(purpose)
            cells.add_sum(total, [F.CONSENT(purpose, s) for s in REFUSED_STATES])
            cells.breakdown(total, refused_keys)
    rows = []
    for purpose, value, granted_key, refused_key in keys:
        granted, refused = cells.count(granted_key), cells.count(refused_key)
        both = granted is not None and refused is not None
        raw_granted, raw_refused = cells.shown(granted_key), cells.shown(refused_key)
        rows.append(
            {
                "purpose": purpose,
                dimension: value,
                "granted": granted,
                "refused": refused,
                "decided": granted + refused if both else None,
                "opt_in_rate": cells.ratio(
                    raw_granted, raw_granted + raw_refused, [granted_key, refused_key]
                ),
            }
        )
    return _frame(rows, ("purpose", dimension, *BY_COLUMNS), ["opt_in_rate"])


# New decisions over time.


def periods(start: date, end: date, grain: str) -> list[str]:
    """Every week (named after its Monday) or calendar month (YYYY-MM) from start to end."""
    if grain == "month":
        return months(start, end)
    if grain != "week":
        raise ValueError(f"unknown grain {grain!r}")
    monday = start - timedelta(days=start.weekday())
    count = (end - monday).days // 7 + 1
    return [(monday + timedelta(weeks=i)).isoformat() for i in range(count)]


def decisions_per_period(t: Tables, p: Params, grain: str) -> ir.Table:
    """(period, purpose, decision, customers): customers at D with a consent event of that
    decision dated in the period (and in [start, end]), per week or month."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    # Grouped by the period's first day; each group's label is written once, at the end.
    if facts.CONSENT_INTERVALS in t.facts:
        counts = _decided_from_facts(t, p, grain)
    else:
        e = t.consent_events
        e = e.filter(in_period(e.occurred_at, p)).semi_join(customers_at(t, p), "customer_id")
        e = e.select(
            "customer_id", "purpose", "decision", first=period_start(e.occurred_at.date(), grain)
        ).distinct()
        counts = e.group_by(["first", "purpose", "decision"]).aggregate(
            customers=e.count(), **key_sums(p.perturbed, customers=(e.customer_id, None))
        )
    return counts.mutate(period=period_label(counts.first, grain)).drop("first")


def _decided_from_facts(t: Tables, p: Params, grain: str) -> ir.Table:
    """`decisions_per_period`'s counts from the consent intervals: a customer is counted on
    the first day in the period (and in [start, end]) they made the decision, the row whose
    last earlier day of it lies before that, so counting customers is counting rows."""
    f = t.facts[facts.CONSENT_INTERVALS]
    f = f.filter(day_in_period(f.valid_from, p), *at_conditions(f, p))
    f = f.mutate(first=period_start(f.valid_from, grain))
    since = ibis.greatest(f.first, ibis.literal(p.start))
    firsts = {}
    for decision in schema.DECISIONS:
        earlier = f[facts.previously(decision)]
        firsts[decision] = f[decision] & (earlier.isnull() | (earlier < since))
    # One pass over the rows; then a row per decision, where someone made it.
    by = f.group_by(["first", "purpose"]).aggregate(
        **{decision: made.sum() for decision, made in firsts.items()},
        **key_sums(p.perturbed, **{d: (customer_key(f), made) for d, made in firsts.items()}),
    )
    return ibis.union(
        *(
            by.filter(by[decision] > 0).select(
                "first",
                "purpose",
                decision=ibis.literal(decision),
                customers=by[decision].cast("int64"),
                **({"customers_key": by[f"{decision}_key"]} if p.perturbed else {}),
            )
            for decision in schema.DECISIONS
        )
    )


def consent_decisions_weekly(t: Tables, p: Params) -> ir.Table:
    """Customers deciding per week, purpose and decision."""
    return decisions_per_period(t, p, "week")


def consent_decisions_monthly(t: Tables, p: Params) -> ir.Table:
    """Customers deciding per month, purpose and decision."""
    return decisions_per_period(t, p, "month")


def consent_trend(tables: Tables, params: Params, grain: str) -> pd.DataFrame:
    """Per week or month from start to end and per purpose: customers who granted, denied and
    withdrew in it, their decisions in all, and the share of those that were grants, suppressed.

    Every period and purpose is present (zeros filled). The three counts add up to the
    decisions (complementary suppression within the period); the rate is granted / decisions,
    published when both are and there are at least k decisions.
    """
    raw = decisions_per_period(tables, params, grain).to_pyarrow().to_pandas()
    found = tables.consent_events.select("purpose").distinct().to_pyarrow()["purpose"]
    purposes = _purpose_order(found.to_pylist())
    counts = {
        (row.period, row.purpose, row.decision): (int(row.customers), key_in(row, "customers"))
        for row in raw.itertuples(index=False)
    }
    cells = Cells(params.min_cell, perturbed=params.perturbed)
    grid = [
        (period, purpose)
        for period in periods(params.start, params.end, grain)
        for purpose in purposes
    ]
    rows = []
    for period, purpose in grid:
        total = F.DECISIONS(grain, period, purpose)
        members = [F.DECISION(grain, period, purpose, d) for d in schema.DECISIONS]
        for key, decision in zip(members, schema.DECISIONS, strict=True):
            cells.add(key, *counts.get((period, purpose, decision), (0, None)))
        cells.add_sum(total, members)
        cells.breakdown(total, members)
    for period, purpose in grid:
        total = F.DECISIONS(grain, period, purpose)
        granted = F.DECISION(grain, period, purpose, schema.GRANTED)
        rows.append(
            {"period": period, "purpose": purpose}
            | {d: cells.count(F.DECISION(grain, period, purpose, d)) for d in schema.DECISIONS}
            | {
                "decisions": cells.count(total),
                "opt_in_rate": cells.ratio(
                    cells.shown(granted), cells.shown(total), [granted, total]
                ),
            }
        )
    return _frame(rows, TREND_COLUMNS, ["opt_in_rate"])


# The opted-in share over time.


def period_ends(start: date, end: date, grain: str) -> list[tuple[str, date]]:
    """Each week or month from start to end and the day its state is taken on: its last
    day, or the view's end for the period still running."""
    out = []
    for label in periods(start, end, grain):
        if grain == "month":
            last = pd.Period(label, freq="M").end_time.date()
        else:
            last = date.fromisoformat(label) + timedelta(days=6)
        out.append((label, min(last, end)))
    return out


def opted_in_per_period(t: Tables, p: Params, grain: str) -> ir.Table:
    """(period, customers, purpose, granted): at the end of each week or month, customers at
    that day and those of them whose consent state for the purpose is granted: the opted-in
    share (consent_state_share) taken at every period's end, by the same definitions (one row
    with a null purpose for a period without any grant)."""
    ends = period_ends(p.start, p.end, grain)
    days = ibis.memtable(
        pa.table(
            {
                "period": [label for label, _ in ends],
                "day": pa.array([day for _, day in ends], pa.date32()),
            }
        )
    )
    # Customers at each end: counted per day of creation, then added up to each end.
    c = filtered_customers(t, p)
    created = c.group_by(created=facts.created_day(c)).aggregate(
        customers=c.count(), **key_sums(p.perturbed, customers=(c.customer_id, None))
    )
    x = created.join(days, created.created <= days.day)
    everyone = x.group_by("period").aggregate(
        customers=x.customers.sum(),
        **({"customers_key": x.customers_key.sum()} if p.perturbed else {}),
    )
    if facts.CONSENT_INTERVALS in t.facts:
        # Grants in force, counted per span of days (from the later of the decision and the
        # customer's creation), then matched to each end: one pass over the fact.
        f = t.facts[facts.CONSENT_INTERVALS]
        f = f.filter(f.consent_state == schema.GRANTED, *filter_conditions(f, p))
        spans = f.group_by(
            "purpose",
            valid_from=ibis.greatest(f.valid_from, facts.created_day(f)),
            valid_to=f.valid_to,
        ).aggregate(granted=f.count(), **key_sums(p.perturbed, granted=(customer_key(f), None)))
        y = spans.join(days, facts.holds(spans, days.day))
        granted = y.group_by(["period", "purpose"]).aggregate(
            granted=y.granted.sum(),
            **({"granted_key": y.granted_key.sum()} if p.perturbed else {}),
        )
    else:
        parts = []
        for label, day in ends:
            s = consent_states(t, replace(p, as_of=day))
            s = s.filter(s.state == schema.GRANTED)
            parts.append(
                s.group_by("purpose")
                .aggregate(
                    granted=s.count(), **key_sums(p.perturbed, granted=(customer_key(s), None))
                )
                .mutate(period=ibis.literal(label))
            )
        granted = ibis.union(*parts)
    return everyone.left_join(granted, "period").drop("period_right")


def opted_in_share_weekly(t: Tables, p: Params) -> ir.Table:
    """Customers and opted-in customers per purpose at the end of each week."""
    return opted_in_per_period(t, p, "week")


def opted_in_share_monthly(t: Tables, p: Params) -> ir.Table:
    """Customers and opted-in customers per purpose at the end of each month."""
    return opted_in_per_period(t, p, "month")


def opted_in_trend(tables: Tables, params: Params, grain: str) -> pd.DataFrame:
    """Per week or month from start to end and per purpose: customers at its end, those of
    them opted in (granted) and the opted-in share, suppressed as the Overview's share is:
    the share is published when both counts are and there are at least k customers."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    raw = opted_in_per_period(tables, params, grain).to_pyarrow().to_pandas()
    found = tables.consent_events.select("purpose").distinct().to_pyarrow()["purpose"]
    purposes = _purpose_order(found.to_pylist())
    granted = {
        (row.period, row.purpose): (int(row.granted), key_in(row, "granted"))
        for row in raw.itertuples(index=False)
        if isinstance(row.purpose, str)
    }
    everyone = {
        row.period: (int(row.customers), key_in(row, "customers"))
        for row in raw.itertuples(index=False)
    }
    cells = Cells(params.min_cell, perturbed=params.perturbed)
    labels = [label for label, _ in period_ends(params.start, params.end, grain)]
    for label in labels:
        cells.add(F.CUSTOMERS_AT(grain, label), *everyone.get(label, (0, None)))
        for purpose in purposes:
            cells.add(
                F.GRANTED_AT(grain, label, purpose), *granted.get((label, purpose), (0, None))
            )
    rows = []
    for label in labels:
        total = F.CUSTOMERS_AT(grain, label)
        for purpose in purposes:
            key = F.GRANTED_AT(grain, label, purpose)
            rows.append(
                {
                    "period": label,
                    "purpose": purpose,
                    "customers": cells.count(total),
                    "granted": cells.count(key),
                    "granted_share": cells.ratio(
                        cells.shown(key), cells.shown(total), [key, total]
                    ),
                }
            )
    return _frame(rows, OPTED_IN_COLUMNS, ["granted_share"])
