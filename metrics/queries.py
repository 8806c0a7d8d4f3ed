"""Queries over the canonical tables, one per family of figures, as Ibis expressions.

Each returns a small table of raw counts and sums; suppression happens afterwards, in one
place (metrics.suppression), for every figure alike.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from data.storage import facts, schema
from metrics.params import Params
from metrics.perturbation import customer_key, key_sums
from metrics.rules import (
    Tables,
    class_fact_serves,
    class_intervals_at,
    classes,
    consent_states,
    customer_attribute,
    customer_revenue,
    customers_at,
    day_in_period,
    erasure_requests,
    keyed_columns,
    latest_class_holds,
    median_days_to_complete,
    requests,
)


def customer_count(t: Tables, p: Params) -> ir.Table:
    """customers: number of customers at D."""
    c = customers_at(t, p)
    keys = key_sums(p.perturbed, customers=(customer_key(c), None))
    return c.aggregate(customers=c.count(), **keys)


def consent_counts(t: Tables, p: Params) -> ir.Table:
    """(purpose, state, segment, customers) at D: the customers at D who decided, by purpose,
    the state their decisions left and segment (with the sum of their record keys where
    counts are perturbed). The counts by state and the opted-in by segment add these up, so
    that the metrics JSON reads the consent states once for both."""
    if "consent_counts" in t.computed:
        return t.computed["consent_counts"]
    s = consent_states(t, p, ("segment",))
    keys = key_sums(p.perturbed, customers=(customer_key(s), None))
    return s.group_by(["purpose", "state", "segment"]).aggregate(customers=s.count(), **keys)


def _added(counts: ir.Table, by: list[str], name: str, perturbed: bool) -> ir.Table:
    """`consent_counts` added up by `by`, its counts named `name` (and `name`_key)."""
    keys = {f"{name}_key": counts.customers_key.sum()} if perturbed else {}
    return counts.group_by(by).aggregate(**{name: counts.customers.sum().cast("int64")}, **keys)


def consent_by_state(t: Tables, p: Params) -> ir.Table:
    """(purpose, state, customers) at D for every purpose present in consent_events.

    no_decision is not a row: it is customers at D minus the decided ones.
    """
    purposes = t.consent_events.select("purpose").distinct()
    counts = _added(consent_counts(t, p), ["purpose", "state"], "customers", p.perturbed)
    keys = ["customers_key"] if p.perturbed else []
    out = purposes.left_join(counts, "purpose")
    return out.select("purpose", "state", "customers", *keys)


def granted_by_segment(t: Tables, p: Params) -> ir.Table:
    """(purpose, segment, granted) at D for every purpose and every segment of customers at D."""
    s = consent_counts(t, p)
    granted = s.filter(s.state == schema.GRANTED)
    counts = _added(granted, ["purpose", "segment"], "granted", p.perturbed)
    keys = ["granted_key"] if p.perturbed else []
    c = customers_at(t, p)
    segments = c.select(segment=customer_attribute(c, "segment")).distinct()
    grid = t.consent_events.select("purpose").distinct().cross_join(segments)
    grid = grid.left_join(counts, ["purpose", "segment"])
    return grid.select(
        "purpose",
        "segment",
        granted=grid.granted.fill_null(0),
        **{key: grid[key].fill_null(0) for key in keys},
    )


STAGES = ("engaged", "intent", "converted")


def class_outcomes(t: Tables, p: Params) -> ir.Table:
    """(class, customers, engaged, intent, converted, revenue): funnel and conversion inputs."""
    c = classes(t, p)
    if facts.ACTIVITY_DAYS in t.facts:
        # A customer's first day with activity (intent, an order) in the period is the one
        # whose previous such day lies before it: counting those rows counts the customers.
        fact = t.facts[facts.ACTIVITY_DAYS]
        money = fact.revenue.type()
        # Revenue in one currency comes from the orders, as rows beside the day rows (which
        # then bring none).
        in_rows = p.currency is None

        def first(flag: ir.BooleanValue, previous: ir.DateValue) -> ir.BooleanValue:
            return flag & (previous.isnull() | (previous < p.start))

        def outcomes(*which: ir.BooleanValue) -> ir.Table:
            """The period's rows that count someone or bring revenue, among `which`: each
            branch filters the fact itself, so none is computed once for both and stored."""
            a = fact.filter(day_in_period(fact.day, p), *which)
            a = a.mutate(
                revenue=a.revenue if in_rows else ibis.literal(0).cast(money),
                engaged=first(ibis.literal(True), a.previous),
                intent=first(a.intent, a.previous_intent),
                converted=first(a.ordered, a.previous_order),
            )
            # Only rows that count someone or bring revenue need their customer's class.
            return a.filter(a.engaged | a.intent | a.converted | (a.revenue != 0))

        outcome = ["customer_id", "revenue", *STAGES]
        keyed = [k for k in keyed_columns(fact) if k in c.columns]
        # What the counts need of each row's customer: the record key, else the id.
        who = keyed or ["customer_id"]
        parts = []
        joined = c
        if class_fact_serves(t, p) and facts.LATEST_CLASS in fact.columns:
            # A customer whose latest class took effect by D has it at D: read off the row.
            # The others' class at D is joined from the class intervals: one that has ended.
            since = fact[facts.LATEST_FROM]
            held = outcomes(latest_class_holds(fact, p))
            parts.append(held.select(*outcome[1:], *who, cls=held[facts.LATEST_CLASS]))
            a = outcomes(since.isnull() | (since > p.as_of))
            if in_rows:  # (revenue in one currency joins every buyer below)
                ended = class_intervals_at(t, p)
                joined = ended.filter(ended.valid_to.notnull())
        else:
            a = outcomes()
        a = a.select(*outcome)
        if not in_rows:
            r = customer_revenue(t, p)
            a = a.union(
                r.select(
                    "customer_id",
                    revenue=r.revenue.cast(money),
                    engaged=ibis.literal(False),
                    intent=ibis.literal(False),
                    converted=ibis.literal(False),
                )
            )
        a = a.join(joined.select("customer_id", "cls", *keyed), "customer_id")
        a = ibis.union(*parts, a.select(*outcome[1:], *who, "cls"))
        active = a.group_by("cls").aggregate(
            engaged=a.engaged.cast("int64").sum(),
            intent=a.intent.cast("int64").sum(),
            converted=a.converted.cast("int64").sum(),
            revenue=a.revenue.sum(),
            **key_sums(
                p.perturbed,
                **{stage: (customer_key(a), a[stage]) for stage in STAGES},
            ),
        )
        sizes = c.group_by("cls").aggregate(
            customers=c.count(), **key_sums(p.perturbed, customers=(customer_key(c), None))
        )
        counts = sizes.left_join(active, "cls").drop("cls_right")
    else:
        events = facts.activity(t.touchpoints, t.orders)
        events = events.filter(day_in_period(events.day, p))
        per_customer = (
            events.group_by("customer_id")
            .aggregate(
                intent=events.intent.any(),
                ordered=events.ordered.any(),
                revenue=events.revenue.sum(),
            )
            .mutate(engaged=ibis.literal(True))
        )
        c = c.left_join(per_customer, "customer_id")
        flags = {
            "engaged": c.engaged.fill_null(False),
            "intent": c.intent.fill_null(False),
            "converted": c.ordered.fill_null(False),
        }
        counts = c.group_by("cls").aggregate(
            customers=c.count(),
            **{stage: flag.sum() for stage, flag in flags.items()},
            revenue=c.revenue.sum(),
            **key_sums(
                p.perturbed,
                customers=(c.customer_id, None),
                **{stage: (c.customer_id, flag) for stage, flag in flags.items()},
            ),
        )
    if p.currency is not None and facts.ACTIVITY_DAYS not in t.facts:
        # Revenue in one currency: from the orders, beside counts that never depend on it.
        r = customer_revenue(t, p).join(c, "customer_id")
        in_currency = r.group_by("cls").aggregate(revenue=r.revenue.sum())
        counts = counts.drop("revenue").left_join(in_currency, "cls").drop("cls_right")
    grid = ibis.memtable(pa.table({"cls": list(schema.CLASSES)}))
    out = grid.left_join(counts, "cls")
    figures = ["customers", "engaged", "intent", "converted", "revenue"]
    keys = [f"{name}_key" for name in figures[:-1]] if p.perturbed else []
    return out.select("cls", **{name: out[name].fill_null(0) for name in figures + keys})


def erasure_summary(t: Tables, p: Params) -> ir.Table:
    """One row: erasure received, completed, open, overdue, completed on time, median days."""
    r = erasure_requests(t, p)
    done = r.completed_in_period
    flags = {
        "received": r.received_in_period,
        "completed": done,
        "open": r.open,
        "overdue": r.overdue,
        "on_time": done & r.on_time,
    }
    return r.aggregate(
        **{name: flag.sum() for name, flag in flags.items()},
        median_days=median_days_to_complete(r),
        **key_sums(p.perturbed, **{name: (r.request_id, flag) for name, flag in flags.items()}),
    )


def erasure_by_jurisdiction(t: Tables, p: Params) -> ir.Table:
    """(jurisdiction, received, completed, overdue) for every jurisdiction with an erasure
    request received in the period."""
    r = erasure_requests(t, p)
    flags = {
        "received": r.received_in_period,
        "completed": r.completed_in_period,
        "overdue": r.overdue,
    }
    out = r.group_by("jurisdiction").aggregate(
        **{name: flag.sum() for name, flag in flags.items()},
        **key_sums(p.perturbed, **{name: (r.request_id, flag) for name, flag in flags.items()}),
    )
    return out.filter(out.received > 0).order_by("jurisdiction")


def erasure_monthly(t: Tables, p: Params) -> ir.Table:
    """(month, received, completed) for the months with any; the caller fills empty months."""
    r = erasure_requests(t, p)
    received = r.filter(r.received_in_period).select(
        "request_id",
        month=r.received.strftime("%Y-%m"),
        received=ibis.literal(True),
        completed=ibis.literal(False),
    )
    completed = r.filter(r.completed_in_period).select(
        "request_id",
        month=r.completed_on.strftime("%Y-%m"),
        received=ibis.literal(False),
        completed=ibis.literal(True),
    )
    both = received.union(completed)
    flags = {"received": both.received, "completed": both.completed}
    return (
        both.group_by("month")
        .aggregate(
            **{name: flag.cast("int64").sum() for name, flag in flags.items()},
            **key_sums(
                p.perturbed, **{name: (both.request_id, flag) for name, flag in flags.items()}
            ),
        )
        .order_by("month")
    )


def requests_by_type(t: Tables, p: Params) -> ir.Table:
    """(type, received) for every request type received in the period."""
    r = requests(t, p)
    r = r.filter((r.received >= p.start) & (r.received <= p.end))
    return (
        r.group_by("type")
        .aggregate(received=r.count(), **key_sums(p.perturbed, received=(r.request_id, None)))
        .order_by("type")
    )
