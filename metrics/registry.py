"""The named metrics: what each means, its unit, and the query that computes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from metrics import queries
from metrics.params import Params
from metrics.rules import Tables

Query = Callable[[Tables, Params], ir.Table]


@dataclass(frozen=True)
class Metric:
    """A named figure of the product: definition, unit and the query computing it."""

    name: str
    title: str
    unit: str
    description: str
    query: Query

    def expression(self, tables: Tables, params: Params) -> ir.Table:
        """The Ibis expression computing this metric's raw (unsuppressed) inputs."""
        return self.query(tables, params)

    def sql(self, tables: Tables, params: Params) -> str:
        """The SQL the store runs for this metric."""
        return str(ibis.to_sql(self.expression(tables, params)))


METRICS: tuple[Metric, ...] = (
    Metric(
        "customers",
        "Customers",
        "count",
        "Rows of customers whose created_at date is on or before the as-of date D.",
        queries.customer_count,
    ),
    Metric(
        "consent_state",
        "Consent state per purpose",
        "count",
        "Customers at D per purpose by state: the decision of their latest consent event dated "
        "on or before D (on equal timestamps withdrawn, then denied, then granted wins); "
        "no_decision when they have none.",
        queries.consent_by_state,
    ),
    Metric(
        "opt_in_rate",
        "Opt-in rate",
        "rate",
        "granted / (granted + denied + withdrawn) for a purpose at D.",
        queries.consent_by_state,
    ),
    Metric(
        "opted_in_by_segment",
        "Opted-in customers by segment",
        "count",
        "Customers at D whose consent state for a purpose is granted, per segment "
        "(a missing segment counts as unknown).",
        queries.granted_by_segment,
    ),
    Metric(
        "ymn",
        "Yes / maybe / no",
        "count",
        "Customers at D by class over the marketing purposes M: no = erasure requested "
        "(not rejected, received on or before D) or nothing in M granted while something is "
        "denied or withdrawn; yes = not no and something in M granted; maybe = everyone else.",
        queries.class_outcomes,
    ),
    Metric(
        "funnel",
        "Funnel per class",
        "count",
        "Customers of a class at D, then those engaged (a touchpoint or order dated in the "
        "period), with intent (a cart_add touchpoint or an order in the period) and converted "
        "(an order in the period).",
        queries.class_outcomes,
    ),
    Metric(
        "conversion_rate",
        "Conversion rate",
        "rate",
        "Converters (customers of the class with an order in the period) / customers of the class.",
        queries.class_outcomes,
    ),
    Metric(
        "revenue",
        "Revenue per class",
        "currency",
        "Sum of the revenue of the class's orders dated in the period; published under the "
        "same rule as the conversion rate. Where orders mix currencies the pages count one "
        "currency's orders at a time (who converted does not change).",
        queries.class_outcomes,
    ),
    Metric(
        "erasure_received",
        "Erasure requests received",
        "count",
        "Erasure requests whose received_at date is in the period.",
        queries.erasure_summary,
    ),
    Metric(
        "erasure_completed",
        "Erasure requests completed",
        "count",
        "Erasure requests with status completed and a completed_at date in the period.",
        queries.erasure_summary,
    ),
    Metric(
        "erasure_open",
        "Erasure requests open",
        "count",
        "Erasure requests received on or before D, not rejected, and not completed by D.",
        queries.erasure_summary,
    ),
    Metric(
        "erasure_overdue",
        "Erasure requests overdue",
        "count",
        "Open erasure requests whose legal due date (date received plus the jurisdiction's "
        "period) is before D.",
        queries.erasure_summary,
    ),
    Metric(
        "erasure_on_time_rate",
        "On-time rate",
        "rate",
        "Completed erasure requests finished on or before their due date / completed ones.",
        queries.erasure_summary,
    ),
    Metric(
        "erasure_median_days_to_complete",
        "Median days to complete",
        "days",
        "Median of (date completed - date received) over completed erasure requests.",
        queries.erasure_summary,
    ),
    Metric(
        "erasure_by_jurisdiction",
        "Erasure by jurisdiction",
        "count",
        "Received, completed and overdue erasure requests per jurisdiction (the request's own, "
        "else its customer's, else OTHER), for jurisdictions with a request received in the "
        "period.",
        queries.erasure_by_jurisdiction,
    ),
    Metric(
        "erasure_monthly",
        "Erasure per month",
        "count",
        "Erasure requests received and completed per calendar month, every month from start "
        "to end.",
        queries.erasure_monthly,
    ),
    Metric(
        "requests_by_type",
        "Requests by type",
        "count",
        "Privacy requests of each type received in the period.",
        queries.requests_by_type,
    ),
)

BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
