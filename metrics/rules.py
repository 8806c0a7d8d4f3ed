"""The spec's rules as Ibis expressions, each written once: customers at D, consent state,
refused, erasure requested, yes/maybe/no class, jurisdiction, legal due date, open, overdue
and completed requests, orders and revenue in the period, customer attributes and the
week or month a day falls in.

Every metric is built from these, so a rule changes in one place only. The rules the facts
apply when they are built (the tie rule, refused, the class, a request's jurisdiction and
due date) are written in data/storage/facts.py, and read here from there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

import ibis
import ibis.expr.types as ir

from data.storage import facts, schema
from data.storage.engines import Source, canonical_columns
from metrics.params import Params

Materialize = Callable[[ir.Table], AbstractContextManager[ir.Table]]


@dataclass(frozen=True)
class Tables:
    """The canonical tables as Ibis expressions, on whatever engine holds them, and that
    engine's way to compute an intermediate result once for several queries."""

    customers: ir.Table
    consent_events: ir.Table
    touchpoints: ir.Table
    orders: ir.Table
    privacy_requests: ir.Table
    sharing: ir.Table
    # Intermediate results already materialised for one set of parameters, by rule name.
    computed: Mapping[str, ir.Table] = field(default_factory=dict)
    materialize: Materialize = field(default=nullcontext, repr=False, compare=False)
    # Fact tables of data/storage/facts.py built for these tables, by name (empty: none).
    facts: Mapping[str, ir.Table] = field(default_factory=dict)
    # The version of the data (see Source.version); None when unknown.
    version: str | None = field(default=None, compare=False)

    @classmethod
    def from_source(cls, source: Source) -> Tables:
        """The canonical tables of a source (see data/storage/engines.py), with its facts."""
        tables = {name: source.table(name) for name in schema.TABLE_ORDER}
        return cls(
            **tables,
            materialize=source.materialized,
            facts=source.facts(),
            version=source.version,
        )

    def canonical_only(self) -> Tables:
        """The same tables without facts: every figure from the canonical tables."""
        return replace(self, facts={})

    @classmethod
    def from_backend(cls, backend: ibis.BaseBackend) -> Tables:
        """Bind the canonical tables of a connected backend holding them under their own
        names; intermediates are then computed where they are used."""
        return cls(
            **{name: canonical_columns(backend.table(name), name) for name in schema.TABLE_ORDER}
        )

    def with_computed(self, name: str, table: ir.Table) -> Tables:
        """The same tables, with the rule `name` answered by an already computed table."""
        return replace(self, computed={**self.computed, name: table})


UNKNOWN = schema.SEGMENT_UNKNOWN  # what a missing customer attribute counts as
GRAINS: tuple[str, ...] = ("week", "month")
REFUSED_STATES = facts.REFUSED_STATES  # what refused means
refused = facts.refused


def day_in_period(day: ir.DateValue, p: Params) -> ir.BooleanValue:
    """`day` lies in [start, end]."""
    return (day >= p.start) & (day <= p.end)


def in_period(ts: ir.TimestampValue, p: Params) -> ir.BooleanValue:
    """The UTC date of `ts` lies in [start, end]."""
    return day_in_period(ts.date(), p)


def period_start(day: ir.DateValue, grain: str) -> ir.DateValue:
    """The first day of the week (Monday to Sunday, ISO 8601) or calendar month that `day`
    falls in: what to group by, the label (`period_label`) written once per group."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")
    return day.truncate("W" if grain == "week" else "M")


def period_label(day: ir.DateValue, grain: str) -> ir.StringValue:
    """The week (ISO date of its Monday) or calendar month (YYYY-MM) that `day` falls in."""
    return period_start(day, grain).strftime("%Y-%m-%d" if grain == "week" else "%Y-%m")


def customer_attribute(c: ir.Table, name: str) -> ir.StringValue:
    """A customer column to group by: jurisdiction as customer_jurisdiction gives it, any
    other column with a missing value counted as UNKNOWN."""
    if name == "jurisdiction":
        return customer_jurisdiction(c)
    return c[name].fill_null(UNKNOWN)


def filter_conditions(c: ir.Table, p: Params) -> list[ir.BooleanValue]:
    """The sidebar's filters of p on a table with the customer columns."""
    f = p.filters
    conditions = []
    if f.jurisdictions:
        conditions.append(customer_jurisdiction(c).isin(f.jurisdictions))
    if f.countries:
        conditions.append(c.country.isin(f.countries))
    if f.channels:
        conditions.append(c.acquisition_channel.isin(f.channels))
    if f.segments:
        conditions.append(customer_attribute(c, "segment").isin(f.segments))
    return conditions


def at_conditions(c: ir.Table, p: Params) -> list[ir.BooleanValue]:
    """Customer at D: created on or before D, and matching the filters of p."""
    return [facts.created_day(c) <= p.as_of, *filter_conditions(c, p)]


def filtered_customers(t: Tables, p: Params) -> ir.Table:
    """Customers matching the filters of p (all of them when there are none)."""
    conditions = filter_conditions(t.customers, p)
    return t.customers.filter(*conditions) if conditions else t.customers


def customers_at(t: Tables, p: Params) -> ir.Table:
    """Customers at D: created on or before D (and matching the filters). From the class
    facts where there are: one row per customer, with the columns the facts keep of them
    (the id, sign-up day, filter columns and record key)."""
    if facts.CLASS_INTERVALS in t.facts:
        return class_intervals_at(t, p)
    return t.customers.filter(*at_conditions(t.customers, p))


def consent_states(t: Tables, p: Params, attributes: tuple[str, ...] = ()) -> ir.Table:
    """(customer_id, purpose, state, method, prompt_variant) at D for customers at D who
    decided anything by then; method and prompt variant are those of the deciding event;
    and the customer `attributes` named, as customer_attribute gives them.

    The latest event dated on or before D wins; on equal timestamps the most restrictive.
    """
    columns = ("customer_id", "purpose", "method", "prompt_variant", "state")
    if facts.CONSENT_INTERVALS in t.facts:
        # The interval of each customer's latest decision day on or before D; each row
        # carries its customer's columns, so "customer at D" needs no join.
        f = t.facts[facts.CONSENT_INTERVALS]
        f = f.filter(facts.holds(f, p.as_of), *at_conditions(f, p))
        attributes_of = {a: customer_attribute(f, a) for a in attributes}
        return f.select(*columns[:-1], *keyed_columns(f), state=f.consent_state, **attributes_of)
    if "consent_states" in t.computed:
        states = t.computed["consent_states"]
    else:
        e = t.consent_events
        e = e.filter(e.occurred_at.date() <= p.as_of)
        e = e.semi_join(customers_at(t, p), "customer_id")
        # A grouped maximum of one sortable key per event picks the winner (far cheaper than
        # a window).
        key = facts.decision_key(e)
        won = e.group_by(["customer_id", "purpose"]).agg(
            key=key.max(),
            method=e.method.argmax(key),
            prompt_variant=e.prompt_variant.argmax(key),
        )
        states = won.mutate(state=facts.decision_of(won.key)).select(*columns)
    if not attributes:
        return states
    c = customers_at(t, p)
    people = c.select("customer_id", **{a: customer_attribute(c, a) for a in attributes})
    return states.join(people, "customer_id")


def keyed_columns(fact: ir.Table) -> tuple[str, ...]:
    """The record key column of a fact that keeps it (see metrics.perturbation.customer_key),
    carried on so that the counts of its rows need not hash their ids."""
    return (facts.RECORD_KEY,) if facts.RECORD_KEY in fact.columns else ()


def erasure_requesters(t: Tables, p: Params) -> ir.Table:
    """customer_id of everyone with a non-rejected erasure request received on or before D."""
    r = facts.erasure_requests(t.privacy_requests)
    return r.filter(r.received_at.date() <= p.as_of).select("customer_id").distinct()


def class_intervals_at(t: Tables, p: Params) -> ir.Table:
    """The rows of the class facts in force at D for the customers at D under p's filters:
    one per customer (each carries its customer's columns)."""
    f = t.facts[facts.CLASS_INTERVALS]
    return f.filter(facts.holds(f, p.as_of), *at_conditions(f, p))


def class_fact_serves(t: Tables, p: Params) -> bool:
    """Whether the class at D comes from the class facts: they are of the default marketing
    purposes, and p's are those."""
    return facts.CLASS_INTERVALS in t.facts and set(p.marketing_purposes) == set(
        facts.CLASS_PURPOSES
    )


def latest_class_holds(f: ir.Table, p: Params) -> ir.BooleanValue:
    """For a fact whose rows carry their customer's latest class (facts.latest_class): the
    row's customer is a customer at D under p's filters, with that class at D (latest_from
    is on or after their creation)."""
    return ibis.and_(f[facts.LATEST_FROM] <= p.as_of, *filter_conditions(f, p))


def classes(t: Tables, p: Params) -> ir.Table:
    """(customer_id, class) at D: yes, maybe or no over the marketing purposes M; from the
    class facts also the customer's record key and the columns the filters read."""
    if class_fact_serves(t, p):
        f = class_intervals_at(t, p)
        return f.select("customer_id", "cls", *keyed_columns(f), *facts.FILTER_COLUMNS)
    s = consent_states(t, p)
    s = s.filter(s.purpose.isin(p.marketing_purposes))
    votes = s.group_by("customer_id").agg(
        granted=(s.state == schema.GRANTED).any(),
        refused=refused(s.state).any(),
    )
    erasure = erasure_requesters(t, p).mutate(erasure=ibis.literal(True))
    c = customers_at(t, p).select("customer_id")
    c = c.left_join(votes, "customer_id").left_join(erasure, "customer_id")
    cls = facts.class_of(
        c.granted.fill_null(False), c.refused.fill_null(False), c.erasure.fill_null(False)
    )
    return c.select("customer_id", cls=cls)


# The jurisdiction and deadline rules (spec section 3), defined with the facts that resolve
# every request's once per write.
derived_jurisdiction = facts.derived_jurisdiction
customer_jurisdiction = facts.customer_jurisdiction
due_date = facts.due_date


def requests(t: Tables, p: Params) -> ir.Table:
    """Privacy requests with their jurisdiction and legal due date, under the filters of p.

    Jurisdiction: the request's own, else its customer's, else OTHER.
    """
    if "requests" in t.computed:
        return t.computed["requests"]
    if facts.REQUESTS in t.facts:
        r = t.facts[facts.REQUESTS]
    else:
        r = facts.resolved_requests(t.privacy_requests, t.customers)
    if p.filters.jurisdictions:
        r = r.filter(r.jurisdiction.isin(p.filters.jurisdictions))
    if p.filters.by_customer:
        r = r.semi_join(filtered_customers(t, p), "customer_id")
    return r


def completed_request(r: ir.Table) -> ir.BooleanValue:
    """A request counts as completed: status completed with a completed_at date.

    The spec defines it for erasure requests; it applies alike to every request type. `r`
    has the columns of `requests`.
    """
    return (r.status == schema.COMPLETED) & r.completed_on.notnull()


def open_on(r: ir.Table, day: ir.DateValue) -> ir.BooleanValue:
    """Request open on `day`: received on or before it, not rejected, not completed by then.

    The spec's "open at D" with D any date expression, so one query can evaluate it at every
    period end; `erasure_requests` applies it at D. `r` has the columns of `requests`.
    """
    return (
        (r.received <= day)
        & (r.status != schema.REJECTED)
        & (r.completed_on.isnull() | (r.completed_on > day))
    )


def overdue_on(r: ir.Table, day: ir.DateValue) -> ir.BooleanValue:
    """Request overdue on `day`: open then, and `day` after its legal due date."""
    return open_on(r, day) & (day > r.due)


def erasure_requests(t: Tables, p: Params) -> ir.Table:
    """Erasure requests with jurisdiction, received/completed dates, due date and flags at D."""
    r = requests(t, p)
    r = r.filter(r.type == schema.ERASURE)
    as_of = ibis.literal(p.as_of)
    done = completed_request(r)
    return r.mutate(
        received_in_period=day_in_period(r.received, p),
        completed_in_period=done & day_in_period(r.completed_on, p),
        open=open_on(r, as_of),
        overdue=overdue_on(r, as_of),
        on_time=done & (r.completed_on <= r.due),
        days=r.completed_on.delta(r.received, unit="day"),
    )


def median_days_to_complete(r: ir.Table) -> ir.FloatingScalar:
    """Median days from receipt to completion of the requests completed in the period.

    Written as a median of a conditional value rather than `median(where=...)`, which Ibis
    translates wrongly for Spark: the same definition on every engine.
    """
    return ibis.ifelse(r.completed_in_period, r.days, ibis.null()).median()


def orders_in_period(t: Tables, p: Params) -> ir.Table:
    """Orders of a known customer dated in the period: the ones conversion and revenue count."""
    o = t.orders
    return o.filter(in_period(o.ordered_at, p) & o.customer_id.notnull())


def customer_revenue(t: Tables, p: Params) -> ir.Table:
    """(customer_id, revenue) for each customer with at least one order dated in the period;
    with a currency chosen, only that currency's orders bring revenue (a buyer whose orders
    are all in others has 0)."""
    o = orders_in_period(t, p)
    revenue = o.revenue
    if p.currency is not None:
        revenue = ibis.ifelse(
            o.currency == p.currency, o.revenue, ibis.literal(0).cast(o.revenue.type())
        )
    return o.group_by("customer_id").aggregate(revenue=revenue.sum())
