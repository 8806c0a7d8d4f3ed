"""Queries over the canonical tables, one per family of figures, as Ibis expressions.

Each returns a small table of raw counts and sums; suppression happens afterwards, in one
place (metrics.suppression), for every figure alike.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from data import schema
from metrics.params import Params
from metrics.rules import (
    Tables,
    classes,
    consent_states,
    customers_at,
    erasure_requests,
    in_period,
    median_days_to_complete,
    orders_in_period,
    requests,
)


def customer_count(t: Tables, p: Params) -> ir.Table:
    """customers: number of customers at D."""
    return customers_at(t, p).aggregate(customers=ibis._.count())


def consent_by_state(t: Tables, p: Params) -> ir.Table:
    """(purpose, state, customers) at D for every purpose present in consent_events.

    no_decision is not a row: it is customers at D minus the decided ones.
    """
    purposes = t.consent_events.select("purpose").distinct()
    s = consent_states(t, p)
    counts = s.group_by(["purpose", "state"]).aggregate(customers=s.count())
    return purposes.left_join(counts, "purpose").select("purpose", "state", "customers")


def granted_by_segment(t: Tables, p: Params) -> ir.Table:
    """(purpose, segment, granted) at D for every purpose and every segment of customers at D."""
    s = consent_states(t, p)
    people = customers_at(t, p).select(
        "customer_id", segment=ibis._.segment.fill_null(schema.SEGMENT_UNKNOWN)
    )
    granted = s.filter(s.state == schema.GRANTED).join(people, "customer_id")
    counts = granted.group_by(["purpose", "segment"]).aggregate(granted=granted.count())
    grid = (
        t.consent_events.select("purpose")
        .distinct()
        .cross_join(people.select("segment").distinct())
    )
    grid = grid.left_join(counts, ["purpose", "segment"])
    return grid.select("purpose", "segment", granted=grid.granted.fill_null(0))


def class_outcomes(t: Tables, p: Params) -> ir.Table:
    """(class, customers, engaged, intent, converted, revenue): funnel and conversion inputs."""
    tp = t.touchpoints
    tp = tp.filter(in_period(tp.occurred_at, p))
    money = "decimal(18, 4)"
    tp = tp.select(
        "customer_id",
        intent=tp.type == "cart_add",
        ordered=ibis.literal(False),
        revenue=ibis.literal(0, money),
    )
    o = orders_in_period(t, p)
    o = o.select(
        "customer_id",
        intent=ibis.literal(True),
        ordered=ibis.literal(True),
        revenue=o.revenue.cast(money),
    )
    events = tp.union(o)
    activity = (
        events.group_by("customer_id")
        .aggregate(
            intent=events.intent.any(),
            ordered=events.ordered.any(),
            revenue=events.revenue.sum(),
        )
        .mutate(engaged=ibis.literal(True))
    )
    c = classes(t, p).left_join(activity, "customer_id")
    grid = ibis.memtable(pa.table({"cls": list(schema.CLASSES)}))
    counts = c.group_by("cls").aggregate(
        customers=c.count(),
        engaged=c.engaged.fill_null(False).sum(),
        intent=c.intent.fill_null(False).sum(),
        converted=c.ordered.fill_null(False).sum(),
        revenue=c.revenue.sum(),
    )
    out = grid.left_join(counts, "cls")
    return out.select(
        "cls",
        customers=out.customers.fill_null(0),
        engaged=out.engaged.fill_null(0),
        intent=out.intent.fill_null(0),
        converted=out.converted.fill_null(0),
        revenue=out.revenue.fill_null(0),
    )


def erasure_summary(t: Tables, p: Params) -> ir.Table:
    """One row: erasure received, completed, open, overdue, completed on time, median days."""
    r = erasure_requests(t, p)
    done = r.completed_in_period
    return r.aggregate(
        received=r.received_in_period.sum(),
        completed=done.sum(),
        open=r.open.sum(),
        overdue=r.overdue.sum(),
        on_time=(done & r.on_time).sum(),
        median_days=median_days_to_complete(r),
    )


def erasure_by_jurisdiction(t: Tables, p: Params) -> ir.Table:
    """(jurisdiction, received, completed, overdue) for every jurisdiction with an erasure
    request received in the period."""
    r = erasure_requests(t, p)
    out = r.group_by("jurisdiction").aggregate(
        received=r.received_in_period.sum(),
        completed=r.completed_in_period.sum(),
        overdue=r.overdue.sum(),
    )
    return out.filter(out.received > 0).order_by("jurisdiction")


def erasure_monthly(t: Tables, p: Params) -> ir.Table:
    """(month, received, completed) for the months with any; the caller fills empty months."""
    r = erasure_requests(t, p)
    received = r.filter(r.received_in_period).select(
        month=r.received.strftime("%Y-%m"), received=ibis.literal(1), completed=ibis.literal(0)
    )
    completed = r.filter(r.completed_in_period).select(
        month=r.completed_on.strftime("%Y-%m"), received=ibis.literal(0), completed=ibis.literal(1)
    )
    both = received.union(completed)
    return (
        both.group_by("month")
        .aggregate(received=both.received.sum(), completed=both.completed.sum())
        .order_by("month")
    )


def requests_by_type(t: Tables, p: Params) -> ir.Table:
    """(type, received) for every request type received in the period."""
    r = requests(t, p)
    r = r.filter((r.received >= p.start) & (r.received <= p.end))
    return r.group_by("type").aggregate(received=r.count()).order_by("type")
