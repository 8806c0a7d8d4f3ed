"""Every published figure, named once: the index.

For each figure: its name (as the glossary, the "How is this computed?" notes and the tests
call it), its title and unit, its definition, the query computing its raw inputs, where the
metrics JSON carries it (None: the dashboard's own), the suppression keys its counts are
published under, and the pages that show it. To find where a figure is defined and which
page shows it, look it up here.

A suppression key (metrics.suppression) names one count wherever it appears, so that it is
published the same way everywhere: a figure the metrics JSON carries keeps the JSON's key on
every page. The key families below are the only place keys are spelled.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from data.storage import schema

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from metrics.params import Params
    from metrics.rules import Tables

Query = Callable[..., "ir.Table"]


# Suppression keys.


@dataclass(frozen=True)
class KeyFamily:
    """Keys of one kind of count: `prefix` then one value per part, in order."""

    prefix: tuple[str, ...]
    parts: tuple[str, ...] = ()

    def __call__(self, *values: Hashable) -> tuple[Hashable, ...]:
        if len(values) != len(self.parts):
            raise TypeError(f"{self.prefix}: expected {self.parts}, got {len(values)} value(s)")
        return (*self.prefix, *values)


def _family(*prefix: str, parts: tuple[str, ...] = ()) -> KeyFamily:
    return KeyFamily(prefix, parts)


# The metrics JSON's counts (metrics/report.py).
CUSTOMERS = _family("customers")
CONSENT = _family("consent", parts=("purpose", "state"))  # a state, or "refused"
SEGMENT = _family("segment", parts=("purpose", "segment"))
CLASS = _family("class", parts=("class",))
FUNNEL = _family("funnel", parts=("class", "stage"))
ERASURE = _family("erasure", parts=("figure",))  # received, completed, open, overdue, on_time, late
ERASURE_JURISDICTION = _family("erasure_jurisdiction", parts=("jurisdiction", "figure"))
ERASURE_MONTH = _family("erasure_month", parts=("month", "figure"))
REQUESTS = _family("requests", parts=("type",))  # received; erasure ones are ERASURE("received")

# The Consent page's.
CONSENT_REFUSED = _family("consent_refused", parts=("purpose",))
BY_VALUE = _family("by", parts=("dimension", "purpose", "value", "state"))  # granted or refused
CUSTOMERS_AT = _family("customers", parts=("grain", "period"))  # customers at a period's end
GRANTED_AT = _family("granted", parts=("grain", "period", "purpose"))  # opted in at its end
DECISIONS = _family("decisions", parts=("grain", "period", "purpose"))
DECISION = _family("decisions", parts=("grain", "period", "purpose", "decision"))

# The Yes / maybe / no page's (the previous period's figures under PREVIOUS).
FLOW = _family("ymn_flow", parts=("from", "to"))
NEW_CUSTOMERS = _family("ymn_new")
PREVIOUS = _family("previous", parts=("key",))

# The Erasure page's.
REQUESTS_COMPLETED = _family("requests_completed", parts=("type",))
REQUESTS_PERIOD = _family("requests_period", parts=("grain", "period", "type", "figure"))
REQUESTS_PERIOD_TOTAL = _family("requests_period_total", parts=("grain", "period", "figure"))
REQUESTS_TOTAL = _family("requests_total", parts=("figure",))
ERASURE_PERIOD_JURISDICTION = _family(
    "erasure_period_jurisdiction", parts=("grain", "period", "jurisdiction", "figure")
)
ERASURE_BACKLOG = _family("erasure_backlog", parts=("day", "figure"))
ERASURE_OPEN_JURISDICTION = _family("erasure_open_jurisdiction", parts=("jurisdiction",))
ERASURE_DUE_SOON = _family("erasure_due_soon", parts=("jurisdiction", "horizon"))
ERASURE_DUE_SOON_ALL = _family("erasure_due_soon", parts=("horizon",))
ERASURE_DUE_LATER = _family("erasure_due_later", parts=("jurisdiction", "horizon"))
ERASURE_DUE_LATER_ALL = _family("erasure_due_later", parts=("horizon",))
ERASURE_ON_TIME_JURISDICTION = _family("erasure_on_time_jurisdiction", parts=("jurisdiction",))
ERASURE_LATE_JURISDICTION = _family("erasure_late_jurisdiction", parts=("jurisdiction",))

# The Conversion impact page's.
IMPACT_CONVERTERS = _family("impact", "converters", parts=("purpose", "group"))
IMPACT_CONVERTERS_ALL = _family("impact", "converters", parts=("purpose",))
IMPACT_STRATA_USED = _family("impact", "strata_used", parts=("by", "purpose"))
IMPACT_DROPPED = _family("impact", "dropped", parts=("by", "purpose"))


# Figures.

OVERVIEW, CONSENT_PAGE, YMN_PAGE, ERASURE_PAGE, IMPACT_PAGE = (
    "overview",
    "consent",
    "ymn",
    "erasure",
    "impact",
)
PAGE_TITLES = {
    OVERVIEW: "Overview",
    CONSENT_PAGE: "Consent & segments",
    YMN_PAGE: "Yes / maybe / no",
    ERASURE_PAGE: "Erasure & requests",
    IMPACT_PAGE: "Conversion impact",
}


@dataclass(frozen=True)
class Figure:
    """A published figure: what it is, how it is computed, where it is published."""

    name: str
    title: str
    unit: str  # count, rate, currency or days
    description: str
    query: str  # "module.function" computing its raw (unsuppressed) inputs
    json: str | None  # its path in the metrics JSON ({...}: one entry per value), or None
    keys: tuple[KeyFamily, ...]  # the suppression keys its counts are published under
    pages: tuple[str, ...]  # the pages showing it

    @property
    def compute(self) -> Query:
        """The query function (imported when first asked for)."""
        module, function = self.query.rsplit(".", 1)
        return getattr(importlib.import_module(module), function)

    def expression(self, tables: Tables, params: Params) -> ir.Table:
        """The Ibis expression computing this figure's raw (unsuppressed) inputs."""
        return self.compute(tables, params)

    def sql(self, tables: Tables, params: Params) -> str:
        """The SQL the store runs for this figure."""
        import ibis

        return str(ibis.to_sql(self.expression(tables, params)))

    def explained_by(self, query: str, note: str) -> Figure:
        """The same figure computed by another query (a page's variant), `note` saying how."""
        return replace(self, query=query, description=self.description + note)


def _figure(
    name: str,
    title: str,
    unit: str,
    description: str,
    query: str,
    *,
    json: str | None = None,
    keys: tuple[KeyFamily, ...] = (),
    pages: tuple[str, ...] = (),
) -> Figure:
    return Figure(name, title, unit, description, query, json, keys, pages)


_Q = "metrics.queries."

# The figures of the metrics JSON (spec section 6), in its order.
JSON_FIGURES: tuple[Figure, ...] = (
    _figure(
        "customers",
        "Customers",
        "count",
        "Rows of customers whose created_at date is on or before the as-of date D.",
        _Q + "customer_count",
        json="customers",
        keys=(CUSTOMERS,),
        pages=(OVERVIEW,),
    ),
    _figure(
        "consent_state",
        "Consent state per purpose",
        "count",
        "Customers at D per purpose by state: the decision of their latest consent event dated "
        "on or before D (on equal timestamps withdrawn, then denied, then granted wins); "
        "no_decision when they have none.",
        _Q + "consent_by_state",
        json="consent.{purpose}.{" + ",".join(schema.CONSENT_STATES) + "}",
        keys=(CONSENT,),
        pages=(OVERVIEW, CONSENT_PAGE, IMPACT_PAGE),
    ),
    _figure(
        "opt_in_rate",
        "Opt-in rate",
        "rate",
        "granted / (granted + denied + withdrawn) for a purpose at D.",
        _Q + "consent_by_state",
        json="consent.{purpose}.opt_in_rate",
        keys=(CONSENT,),
        pages=(CONSENT_PAGE,),
    ),
    _figure(
        "opted_in_by_segment",
        "Opted-in customers by segment",
        "count",
        "Customers at D whose consent state for a purpose is granted, per segment "
        "(a missing segment counts as unknown).",
        _Q + "granted_by_segment",
        json="opted_in_by_segment.{purpose}.{segment}",
        keys=(SEGMENT,),
        pages=(CONSENT_PAGE,),
    ),
    _figure(
        "ymn",
        "Yes / maybe / no",
        "count",
        "Customers at D by class over the marketing purposes M: no = erasure requested "
        "(not rejected, received on or before D) or nothing in M granted while something is "
        "denied or withdrawn; yes = not no and something in M granted; maybe = everyone else.",
        _Q + "class_outcomes",
        json="ymn.{class}",
        keys=(CLASS,),
        pages=(OVERVIEW, YMN_PAGE),
    ),
    _figure(
        "funnel",
        "Funnel per class",
        "count",
        "Customers of a class at D, then those engaged (a touchpoint or order dated in the "
        "period), with intent (a cart_add touchpoint or an order in the period) and converted "
        "(an order in the period).",
        _Q + "class_outcomes",
        json="funnel.{class}.{stage}",
        keys=(CLASS, FUNNEL),
        pages=(YMN_PAGE,),
    ),
    _figure(
        "conversion_rate",
        "Conversion rate",
        "rate",
        "Converters (customers of the class with an order in the period) / customers of the class.",
        _Q + "class_outcomes",
        json="conversion.{class}.{customers,converters,rate}",
        keys=(CLASS, FUNNEL),
        pages=(OVERVIEW, YMN_PAGE, IMPACT_PAGE),
    ),
    _figure(
        "revenue",
        "Revenue per class",
        "currency",
        "Sum of the revenue of the class's orders dated in the period; published under the "
        "same rule as the conversion rate. Where orders mix currencies the pages count one "
        "currency's orders at a time (who converted does not change).",
        _Q + "class_outcomes",
        json="conversion.{class}.revenue",
        keys=(CLASS, FUNNEL),
        pages=(OVERVIEW, YMN_PAGE),
    ),
    _figure(
        "erasure_received",
        "Erasure requests received",
        "count",
        "Erasure requests whose received_at date is in the period.",
        _Q + "erasure_summary",
        json="erasure.received",
        keys=(ERASURE,),
        pages=(ERASURE_PAGE,),
    ),
    _figure(
        "erasure_completed",
        "Erasure requests completed",
        "count",
        "Erasure requests with status completed and a completed_at date in the period.",
        _Q + "erasure_summary",
        json="erasure.completed",
        keys=(ERASURE,),
        pages=(ERASURE_PAGE,),
    ),
    _figure(
        "erasure_open",
        "Erasure requests open",
        "count",
        "Erasure requests received on or before D, not rejected, and not completed by D.",
        _Q + "erasure_summary",
        json="erasure.open",
        keys=(ERASURE,),
        pages=(OVERVIEW, ERASURE_PAGE),
    ),
    _figure(
        "erasure_overdue",
        "Erasure requests overdue",
        "count",
        "Open erasure requests whose legal due date (date received plus the jurisdiction's "
        "period) is before D.",
        _Q + "erasure_summary",
        json="erasure.overdue",
        keys=(ERASURE,),
        pages=(OVERVIEW, ERASURE_PAGE),
    ),
    _figure(
        "erasure_on_time_rate",
        "On-time rate",
        "rate",
        "Completed erasure requests finished on or before their due date / completed ones.",
        _Q + "erasure_summary",
        json="erasure.on_time_rate",
        keys=(ERASURE,),
        pages=(ERASURE_PAGE,),
    ),
    _figure(
        "erasure_median_days_to_complete",
        "Median days to complete",
        "days",
        "Median of (date completed - date received) over completed erasure requests.",
        _Q + "erasure_summary",
        json="erasure.median_days_to_complete",
        keys=(ERASURE,),
        pages=(ERASURE_PAGE,),
    ),
    _figure(
        "erasure_by_jurisdiction",
        "Erasure by jurisdiction",
        "count",
        "Received, completed and overdue erasure requests per jurisdiction (the request's own, "
        "else its customer's, else OTHER), for jurisdictions with a request received in the "
        "period.",
        _Q + "erasure_by_jurisdiction",
        json="erasure.by_jurisdiction.{jurisdiction}.{figure}",
        keys=(ERASURE_JURISDICTION,),
        pages=(ERASURE_PAGE,),
    ),
    _figure(
        "erasure_monthly",
        "Erasure per month",
        "count",
        "Erasure requests received and completed per calendar month, every month from start "
        "to end.",
        _Q + "erasure_monthly",
        json="erasure.monthly[].{month,received,completed}",
        keys=(ERASURE_MONTH,),
        pages=(ERASURE_PAGE,),
    ),
    _figure(
        "requests_by_type",
        "Requests by type",
        "count",
        "Privacy requests of each type received in the period.",
        _Q + "requests_by_type",
        json="requests_by_type.{type}",
        keys=(REQUESTS, ERASURE),
        pages=(ERASURE_PAGE,),
    ),
)

# The Consent page's own figures.
_CV = "metrics.consent_views."
DIMENSIONS: dict[str, str] = {
    "segment": "Segment",
    "country": "Country",
    "jurisdiction": "Jurisdiction",
    "acquisition_channel": "Acquisition channel",
    "prompt_variant": "Prompt variant",
    "method": "Consent method",
}
_WHOSE = {
    "segment": "the customer's segment",
    "country": "the customer's country",
    "jurisdiction": "the customer's jurisdiction (given, else derived from country and state)",
    "acquisition_channel": "the customer's acquisition channel",
    "prompt_variant": "the prompt variant of the event that set the consent state",
    "method": "the method (explicit, implied, gpc) of the event that set the consent state",
}
CONSENT_STATE_SHARE = _figure(
    "consent_state_share",
    "Share of customers per consent state",
    "rate",
    "Customers at D in a consent state for a purpose / customers at D; published when both "
    "counts are and there are at least k customers.",
    _CV + "state_shares",
    keys=(CONSENT, CUSTOMERS),
    pages=(CONSENT_PAGE,),
)
CONSENT_BY: dict[str, Figure] = {
    dimension: _figure(
        f"consent_by_{dimension}",
        f"Consent by {label.lower()}",
        "count",
        f"Customers at D per purpose and {_WHOSE[dimension]} (missing counts as unknown): "
        "granted, refused (denied or withdrawn), decided (granted + refused) and the opt-in "
        "rate granted / decided. Granted per value adds up to the purpose's granted; per "
        "segment it is opted_in_by_segment.",
        f"{_CV}consent_by_{dimension}",
        keys=(CONSENT, CONSENT_REFUSED, SEGMENT, BY_VALUE),
        pages=(CONSENT_PAGE,),
    )
    for dimension, label in DIMENSIONS.items()
}
CONSENT_DECISIONS: dict[str, Figure] = {
    grain: _figure(
        f"consent_decisions_{grain}ly",
        f"New consent decisions per {grain}",
        "count",
        f"Customers at D with a consent event dated in the {grain} (within the period), per "
        "purpose and decision (granted, denied, withdrawn); withdrawals are the withdrawn "
        "ones. Opt-in rate of new decisions = granted / (granted + denied + withdrawn) of "
        f"the {grain}." + (" Weeks run Monday to Sunday." if grain == "week" else ""),
        f"{_CV}consent_decisions_{grain}ly",
        keys=(DECISIONS, DECISION),
        pages=(CONSENT_PAGE,),
    )
    for grain in ("week", "month")
}
OPTED_IN_SHARE: dict[str, Figure] = {
    grain: _figure(
        f"opted_in_share_{grain}ly",
        f"Opted-in share per {grain}",
        "rate",
        f"At the end of each {grain} (the view's end for the {grain} still running): customers "
        "at that day whose consent state for the purpose is granted / customers at that day, "
        "the consent state share of granted taken every "
        f"{grain}; published when both counts are and there are at least k customers."
        + (" Weeks run Monday to Sunday." if grain == "week" else ""),
        f"{_CV}opted_in_share_{grain}ly",
        keys=(CUSTOMERS_AT, GRANTED_AT),
        pages=(CONSENT_PAGE,),
    )
    for grain in ("week", "month")
}

# The Yes / maybe / no page's own figures.
_YV = "metrics.ymn_views."
FUNNEL_STEP_RATE = _figure(
    "funnel_step_rate",
    "Funnel step rate",
    "rate",
    "For each class, the share of one funnel stage that reached the next: engaged / "
    "customers, intent / engaged, converted / intent; and each stage's share of the "
    "class's customers (at converted, the conversion rate). Published when both counts "
    "are and the denominator is at least k.",
    _Q + "class_outcomes",
    keys=(CLASS, FUNNEL),
    pages=(YMN_PAGE,),
)
CLASS_FLOWS = _figure(
    "class_flows",
    "Moves between classes",
    "count",
    "Customers at D by their class at the previous period's as-of date (the day before "
    "the period starts; new when created after it) and their class at D, both by the "
    "yes / maybe / no rule. Flows from a class add up to its size at the earlier date, "
    "flows into a class to its size at D.",
    _YV + "class_flow_counts",
    keys=(FLOW, NEW_CUSTOMERS, PREVIOUS, CLASS, CUSTOMERS),
    pages=(YMN_PAGE,),
)
MAYBE_EXTRA_CONVERTERS = _figure(
    "maybe_extra_converters",
    "Extra converters if maybe converted like yes",
    "count",
    "Maybe customers x (yes conversion rate - maybe conversion rate): the converters the "
    "maybe class would add at the yes class's rate; withheld when any input is.",
    _Q + "class_outcomes",
    keys=(CLASS, FUNNEL),
    pages=(YMN_PAGE,),
)
MAYBE_EXTRA_REVENUE = _figure(
    "maybe_extra_revenue",
    "Extra revenue if maybe converted like yes",
    "currency",
    "Extra converters x the yes class's revenue per converter (its revenue / its "
    "converters, published when they number at least k); withheld when any input is.",
    _Q + "class_outcomes",
    keys=(CLASS, FUNNEL),
    pages=(YMN_PAGE,),
)

# The Erasure page's own figures.
_EV = "metrics.erasure_views."
REQUESTS_OVER_TIME = _figure(
    "requests_over_time",
    "Privacy requests per week or month",
    "count",
    "Privacy requests received (received_at date in the period) and completed (status "
    "completed, completed_at date in the period) per calendar month or Monday-start week, "
    "by request type and, for erasure requests, by jurisdiction (the request's own, else "
    "its customer's, else OTHER).",
    _EV + "request_activity",
    keys=(
        REQUESTS_PERIOD,
        REQUESTS_PERIOD_TOTAL,
        REQUESTS_TOTAL,
        REQUESTS_COMPLETED,
        ERASURE_PERIOD_JURISDICTION,
        ERASURE_MONTH,
        ERASURE,
        REQUESTS,
    ),
    pages=(ERASURE_PAGE,),
)
ERASURE_BACKLOG_FIGURE = _figure(
    "erasure_backlog",
    "Erasure backlog",
    "count",
    "Erasure requests open (received, not rejected, not completed) at the end of each week "
    "or month, or at D for the period containing D, and how many of them were past their "
    "legal due date then. The SQL evaluates one day; every period end is evaluated alike.",
    _EV + "backlog_counts",
    keys=(ERASURE_BACKLOG, ERASURE),
    pages=(ERASURE_PAGE,),
)
ERASURE_DUE_STATUS = _figure(
    "erasure_due_status",
    "Open erasure requests by due date",
    "count",
    "Per jurisdiction, erasure requests open at D: overdue (D after the due date), due "
    "within the next 14 days (due date from D to D + 14 days) and due later.",
    _EV + "jurisdiction_status",
    keys=(
        ERASURE_OPEN_JURISDICTION,
        ERASURE_DUE_SOON,
        ERASURE_DUE_SOON_ALL,
        ERASURE_DUE_LATER,
        ERASURE_DUE_LATER_ALL,
        ERASURE_JURISDICTION,
        ERASURE,
    ),
    pages=(ERASURE_PAGE,),
)
ERASURE_ON_TIME_BY_JURISDICTION = _figure(
    "erasure_on_time_by_jurisdiction",
    "On-time rate and median days per jurisdiction",
    "rate",
    "Per jurisdiction: completed erasure requests finished on or before their legal due "
    "date / completed ones, and the median days from received to completed; published when "
    "at least k were completed.",
    _EV + "jurisdiction_status",
    keys=(ERASURE_ON_TIME_JURISDICTION, ERASURE_LATE_JURISDICTION, ERASURE_JURISDICTION),
    pages=(ERASURE_PAGE,),
)

# The Conversion impact page's own figures.
_IMPACT_COMMON = (
    " Groups: the yes / maybe / no class at D, or the consent state at D of one purpose "
    "(no_decision without one). Like with like (stratified, direct standardisation): each "
    "group is re-weighted to one common acquisition channel × country mix (a missing value "
    "counts as unknown), that of all customers in the strata used. A stratum is used when every "
    "compared group (those whose own rate is shown) has at least k customers in it; smaller "
    "ones are pooled into one 'other' stratum, used when it then qualifies. With w_s the "
    "stratum's share of those customers: estimate = Σ w_s × the group's figure in stratum s, "
    "variance = Σ w_s² × its variance there, 95% interval = estimate ± 1.96 × √variance. "
    "Like-with-like figures are shown only when the group's converters within the strata used "
    "are 0 or at least k; strata are never shown. Gap between two groups = the difference of "
    "their figures, as observed or like with like, with the interval gap ± 1.96 × √(sum of "
    "the two variances)."
)
_IMPACT_KEYS = (
    CLASS,
    FUNNEL,
    CONSENT,
    IMPACT_CONVERTERS,
    IMPACT_CONVERTERS_ALL,
    IMPACT_STRATA_USED,
    IMPACT_DROPPED,
    CUSTOMERS,
)
IMPACT_CONVERSION_RATE = _figure(
    "impact_conversion_rate",
    "Conversion rate by consent group, raw and like with like",
    "rate",
    "Customers of the group with at least one order in the period / customers of the group "
    "at D, with a 95% Wilson score interval (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / "
    "(1 + z²/n), z = 1.96; for classes the counts are those of conversion_rate. Within a "
    "stratum the variance is p(1−p)/n; a raw gap's variance is p(1−p)/n summed over the two "
    "groups." + _IMPACT_COMMON,
    "metrics.impact.class_strata",
    keys=_IMPACT_KEYS,
    pages=(IMPACT_PAGE,),
)
IMPACT_REVENUE_PER_CUSTOMER = _figure(
    "impact_revenue_per_customer",
    "Revenue per customer by consent group, raw and like with like",
    "currency",
    "Revenue of the group's orders in the period / customers of the group at D (a customer "
    "without orders counts 0), with the 95% interval mean ± 1.96 s/√n, s² = (Q − S²/n) / "
    "(n − 1) from the revenue S and the sum Q of squared per-customer revenue; published "
    "under the same rule as the conversion rate; for classes it is revenue / customers."
    + _IMPACT_COMMON,
    "metrics.impact.class_strata",
    keys=_IMPACT_KEYS,
    pages=(IMPACT_PAGE,),
)

SECTIONS: tuple[tuple[str, tuple[Figure, ...]], ...] = (
    ("Figures of the metrics JSON", JSON_FIGURES),
    (
        "Consent & segments",
        (
            CONSENT_STATE_SHARE,
            *CONSENT_BY.values(),
            *CONSENT_DECISIONS.values(),
            *OPTED_IN_SHARE.values(),
        ),
    ),
    (
        "Yes / maybe / no",
        (FUNNEL_STEP_RATE, CLASS_FLOWS, MAYBE_EXTRA_CONVERTERS, MAYBE_EXTRA_REVENUE),
    ),
    (
        "Erasure & requests",
        (
            REQUESTS_OVER_TIME,
            ERASURE_BACKLOG_FIGURE,
            ERASURE_DUE_STATUS,
            ERASURE_ON_TIME_BY_JURISDICTION,
        ),
    ),
    ("Conversion impact", (IMPACT_CONVERSION_RATE, IMPACT_REVENUE_PER_CUSTOMER)),
)
FIGURES: tuple[Figure, ...] = tuple(f for _, figures in SECTIONS for f in figures)
BY_NAME: dict[str, Figure] = {f.name: f for f in FIGURES}
KEY_FAMILIES: tuple[KeyFamily, ...] = tuple(
    v for v in globals().values() if isinstance(v, KeyFamily)
)


def on_page(page: str) -> tuple[Figure, ...]:
    """The figures a page shows, in the index's order."""
    return tuple(f for f in FIGURES if page in f.pages)


def family_of(key: tuple[Any, ...]) -> KeyFamily | None:
    """The family a suppression key belongs to (the longest prefix that fits), or None."""
    fits = [
        f
        for f in KEY_FAMILIES
        if len(key) == len(f.prefix) + len(f.parts) and tuple(key[: len(f.prefix)]) == f.prefix
    ]
    return max(fits, key=lambda f: len(f.prefix), default=None)


def glossary_markdown() -> str:
    """The metric glossary as Markdown, as the README carries it: every figure, where the
    metrics JSON has it and the pages that show it."""
    parts = []
    for title, figures in SECTIONS:
        rows = [
            f"### {title}",
            "",
            "| metric | unit | definition | metrics JSON | shown on |",
            "|---|---|---|---|---|",
        ]
        rows += [
            f"| `{f.name}` | {f.unit} | {f.description} | "
            + (f"`{f.json}`" if f.json else "-")
            + f" | {', '.join(PAGE_TITLES[p] for p in f.pages)} |"
            for f in figures
        ]
        parts.append("\n".join(rows))
    return "\n\n".join(parts)
