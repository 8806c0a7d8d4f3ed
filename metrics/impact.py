"""Conversion impact: how conversion and revenue per customer differ between consent groups,
as observed and compared like with like (the same acquisition channel and country mix).

Groups are the yes / maybe / no classes at D, or the consent states at D of one purpose
(no_decision for customers without one). Strata are acquisition channel x country, a missing
value being "unknown". Customers are those at D under the filters; a converter has at least
one order dated in the period; a customer's revenue is the sum of their orders dated in the
period (0 without any).

Statistics, with z = 1.959963984540054 (the 97.5% point of the standard normal):

- Conversion rate p = x / n (x converters among n customers), 95% Wilson score interval
  (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
- Revenue per customer m = S / n (S the group's revenue, Q the sum of squared per-customer
  revenue); sample variance s² = (Q − S²/n) / (n − 1), 95% interval m ± z·s/√n, its lower
  end no lower than 0.
- Stratified rate and revenue per customer (direct standardisation): a stratum is used when
  every compared group has at least k customers in it; the remaining strata are pooled into
  one "other" stratum, used when it then qualifies, else dropped. Weight w_s = customers in
  stratum s (all groups) / customers in all used strata, the same for every group, so every
  group is measured on one common mix. Estimate Σ w_s·e_gs; variance Σ w_s²·v_gs with
  v_gs = p_gs(1−p_gs)/n_gs for a rate and s_gs²/n_gs for revenue (0 for a stratum of a single
  customer, possible only when k = 1); 95% interval estimate ± z·√variance, a rate kept within
  [0, 1] and revenue at 0 or above.
- Gap a − b between two groups, raw or stratified: the difference of their estimates; the
  groups hold different customers, so its variance is the sum of theirs (raw rate: p(1−p)/n
  each; raw revenue: s²/n each); 95% interval gap ± z·√variance, not clipped.
- Compared groups are those whose raw rate is published.

Suppression (spec section 5): a group's customers and converters are published counts (for
classes, the very figures of the metrics JSON's conversion block; for consent states, customers
are the JSON's consent counts and converters a new figure with complementary suppression over
the states of the purpose). Converters per state and per class both add up to all converters,
so when exactly one class's converters are withheld, at least one state's are withheld too
(else the class's count could be worked back from the states). Rates, revenue per customer,
stratified figures and their intervals are published only when the group's customers and
converters are published and customers are at least k; stratified figures also need the
group's converters within the used strata to be 0 or at least k. A gap needs both of its
estimates. Strata themselves are never published.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from data.storage import schema
from metrics import figures
from metrics import figures as F
from metrics.figures import Figure
from metrics.params import Params
from metrics.perturbation import customer_key, key_in, key_sums
from metrics.report import CUSTOMERS, Computed, compute
from metrics.rules import (
    Tables,
    classes,
    consent_states,
    customer_attribute,
    customer_revenue,
    customers_at,
    keyed_columns,
)
from metrics.suppression import Cells, publishable

Z95 = 1.959963984540054
OTHER_STRATUM = ("other", "other")  # label of the pooled stratum in Standardised.weights
POOLED = -1

BY_CLASS, BY_STATE = "class", "state"
GROUPS: dict[str, tuple[str, ...]] = {BY_CLASS: schema.CLASSES, BY_STATE: schema.CONSENT_STATES}
PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    BY_CLASS: ((schema.YES, schema.NO), (schema.YES, schema.MAYBE), (schema.MAYBE, schema.NO)),
    BY_STATE: (
        (schema.GRANTED, schema.DENIED),
        (schema.GRANTED, schema.WITHDRAWN),
        (schema.GRANTED, schema.NO_DECISION),
    ),
}
RATE, REVENUE = "conversion_rate", "revenue_per_customer"
MEASURES = (RATE, REVENUE)
STRATA = ("channel", "country")


# --------------------------------------------------------------------------------------------
# Queries: one per grouping, per group and stratum
# --------------------------------------------------------------------------------------------


def _by_stratum(t: Tables, p: Params, members: ir.Table) -> ir.Table:
    """Per (group, channel, country): customers, converters, revenue and its sum of squares.

    `members` holds (customer_id, group) for customers at D under the filters; where its
    rows carry their customer's channel and country (the customers at D, or the facts' rows,
    with the record key too), no join with the customers is needed.
    """
    if not {"acquisition_channel", "country"} <= set(members.columns):
        members = members.join(
            t.customers.select("customer_id", "acquisition_channel", "country"), "customer_id"
        )
    x = members.select(
        "customer_id",
        "group",
        *keyed_columns(members),
        channel=customer_attribute(members, "acquisition_channel"),
        country=customer_attribute(members, "country"),
    )
    x = x.left_join(customer_revenue(t, p), "customer_id")
    # A buyer's revenue is never null (orders carry a revenue), so a null marks a non-buyer;
    # an order of revenue 0 still makes a converter.
    spent = x.revenue.cast("float64")
    keys = key_sums(
        p.perturbed,
        customers=(customer_key(x), None),
        converters=(customer_key(x), x.revenue.notnull()),
    )
    out = x.group_by(["group", *STRATA]).aggregate(
        customers=x.count(),
        converters=x.revenue.notnull().sum(),
        revenue=x.revenue.sum(),
        revenue_sq=(spent * spent).sum(),
        **keys,
    )
    return out.select(
        "group",
        *STRATA,
        customers=out.customers,
        converters=out.converters.fill_null(0),
        revenue=out.revenue.cast("float64").fill_null(0.0),
        revenue_sq=out.revenue_sq.fill_null(0.0),
        **{key: out[key].fill_null(0) for key in keys},
    ).order_by(["group", *STRATA])


def class_strata(t: Tables, p: Params) -> ir.Table:
    """(group, channel, country, customers, converters, revenue, revenue_sq) per class at D."""
    c = classes(t, p)
    return _by_stratum(t, p, c.mutate(group=c.cls))


def state_strata(
    t: Tables, p: Params, purpose: str = schema.DEFAULT_MARKETING_PURPOSES[0]
) -> ir.Table:
    """(group, channel, country, customers, converters, revenue, revenue_sq) per consent state
    of `purpose` at D (no_decision for customers without one)."""
    s = consent_states(t, p)
    s = s.filter(s.purpose == purpose).select(who="customer_id", consent="state")
    c = customers_at(t, p)
    c = c.left_join(s, c.customer_id == s.who)
    state = c.consent.fill_null(ibis.literal(schema.NO_DECISION))
    return _by_stratum(t, p, c.mutate(group=state).drop("who", "consent"))


# --------------------------------------------------------------------------------------------
# Statistics (closed forms)
# --------------------------------------------------------------------------------------------


def wilson_interval(converters: int, customers: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of the rate converters / customers."""
    if customers <= 0:
        raise ValueError("a rate needs at least one customer")
    n, p = customers, converters / customers
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def sample_variance(n: float, total: float, squares: float) -> float:
    """Sample variance of n values from their sum and sum of squares (0 for fewer than two)."""
    if n < 2:
        return 0.0
    # Rounding can leave a tiny negative number where every value is equal.
    return max(0.0, (squares - total * total / n) / (n - 1))


def normal_interval(
    estimate: float, variance: float, low: float | None = None, high: float | None = None
) -> tuple[float, float]:
    """estimate ± z·√variance, kept within [low, high] where given."""
    half = Z95 * math.sqrt(max(variance, 0.0))
    lower, upper = estimate - half, estimate + half
    if low is not None:
        lower = max(low, lower)
    if high is not None:
        upper = min(high, upper)
    return lower, upper


@dataclass(frozen=True)
class Standardised:
    """Directly standardised estimates of the compared groups over the strata used.

    estimates: per group (index) rate, rate_var, revenue_per_customer, revenue_per_customer_var,
    converters (within the used strata). weights: per used stratum (channel, country), summing
    to 1; the pooled stratum is OTHER_STRATUM. Never published as such.
    """

    estimates: pd.DataFrame
    weights: pd.Series
    customers_used: int
    customers_dropped: int


def standardise(strata: pd.DataFrame, compared: Sequence[str], k: int) -> Standardised:
    """Standardised rate and revenue per customer of the `compared` groups over channel x
    country (rows as class_strata/state_strata return), on strata where each has >= k."""
    sums = ["customers", "converters", "revenue", "revenue_sq"]
    frame = strata.groupby(["group", *STRATA], as_index=False)[sums].sum()
    frame["stratum"] = frame.groupby(list(STRATA)).ngroup()
    sizes = frame.pivot_table(
        index="stratum", columns="group", values="customers", aggfunc="sum", fill_value=0
    ).reindex(columns=list(compared), fill_value=0)
    qualifies = (sizes >= k).all(axis=1) if compared else sizes.index.to_series().lt(0)
    # Every stratum too small for one of the groups joins the pooled "other" stratum.
    frame.loc[frame.stratum.isin(qualifies.index[~qualifies]), "stratum"] = POOLED
    pooled = frame.groupby(["group", "stratum"])[sums].sum()
    size = pooled.groupby("stratum")["customers"].sum()
    used = list(qualifies.index[qualifies])
    if POOLED in size.index and compared:
        other = pooled.xs(POOLED, level="stratum")["customers"]
        if (other.reindex(list(compared), fill_value=0) >= k).all():
            used.append(POOLED)
    weights = size.reindex(used) / size.reindex(used).sum() if used else size.iloc[:0]

    rows = {}
    for group in compared:
        mine = pooled.xs(group, level="group").reindex(used)
        n, x = mine["customers"], mine["converters"]
        p = x / n
        variances = [
            sample_variance(*v) for v in zip(n, mine["revenue"], mine["revenue_sq"], strict=True)
        ]
        rows[group] = {
            "rate": float((weights * p).sum()),
            "rate_var": float((weights**2 * p * (1 - p) / n).sum()),
            "revenue_per_customer": float((weights * mine["revenue"] / n).sum()),
            "revenue_per_customer_var": float(
                (weights**2 * pd.Series(variances, index=mine.index) / n).sum()
            ),
            "converters": int(x.sum()),
        }
    labels = frame.drop_duplicates("stratum").set_index("stratum")
    names = [
        OTHER_STRATUM if s == POOLED else (labels.at[s, "channel"], labels.at[s, "country"])
        for s in weights.index
    ]
    columns = ["rate", "rate_var", "revenue_per_customer", "revenue_per_customer_var"]
    return Standardised(
        estimates=pd.DataFrame.from_dict(rows, orient="index", columns=[*columns, "converters"]),
        weights=pd.Series(
            weights.to_numpy(dtype="float64"), index=pd.Index(names, tupleize_cols=False)
        ),
        customers_used=int(size.reindex(used).sum()),
        customers_dropped=int(size.sum() - size.reindex(used).sum()),
    )


# --------------------------------------------------------------------------------------------
# Suppression and the published result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    """Published figures of the conversion-impact page for one grouping (None = withheld).

    groups: one row per group in a fixed order: group, customers, converters, then for each
    of rate, revenue_per_customer, stratified_rate, stratified_revenue_per_customer the
    estimate and its _low and _high 95% bounds.
    gaps: one row per (pair, measure): first, second, measure, raw, raw_low, raw_high,
    stratified, stratified_low, stratified_high (first minus second).
    """

    by: str
    purpose: str | None
    customers: int | None  # all customers at D under the filters, as in the metrics JSON
    groups: pd.DataFrame
    gaps: pd.DataFrame
    strata: int  # channel x country combinations holding customers
    strata_used: int  # strata compared like with like, the pooled "other" counting as one
    pooled: bool  # whether the pooled "other" stratum is among them
    covered: float | None  # share of customers in the strata used

    @property
    def any_published(self) -> bool:
        """Whether any group has a published rate."""
        return bool(self.groups["rate"].notna().any())


ESTIMATES = (
    "rate",
    "revenue_per_customer",
    "stratified_rate",
    "stratified_revenue_per_customer",
)
GROUP_COLUMNS = ["group", "customers", "converters"] + [
    f"{e}{suffix}" for e in ESTIMATES for suffix in ("", "_low", "_high")
]
GAP_COLUMNS = [
    "first",
    "second",
    "measure",
    "raw",
    "raw_low",
    "raw_high",
    "stratified",
    "stratified_low",
    "stratified_high",
]


def _keys(by: str, purpose: str | None, group: str) -> tuple[tuple, tuple]:
    """Figure keys of a group's customers and converters."""
    if by == BY_CLASS:
        return F.CLASS(group), F.FUNNEL(group, "converted")
    return F.CONSENT(purpose, group), F.IMPACT_CONVERTERS(purpose, group)


def _check(cells: Cells, key: tuple, value: int) -> None:
    if cells.values.get(key) != value:
        raise RuntimeError(f"conversion-impact inputs disagree with the metrics JSON on {key}")


def _cells(result: Computed, by: str, purpose: str | None, totals: pd.DataFrame) -> Cells:
    """This page's figures beside the JSON's, which keep the status the JSON gives them.

    Converters per state and per class both add up to all converters (never shown): when the
    JSON withholds one class's converters, all converters are withheld, and a withheld total
    whose states were all published would be their sum, so one state's converters go too.
    """
    cells = Cells(result.cells.k, close_withheld_totals=True, perturbed=result.params.perturbed)
    cells.adopt(result.cells)
    groups = GROUPS[by]
    for group in groups:
        n_key, x_key = _keys(by, purpose, group)
        _check(cells, n_key, int(totals.at[group, "customers"]))
        if by == BY_CLASS:
            _check(cells, x_key, int(totals.at[group, "converters"]))
        else:
            row = totals.loc[group]
            cells.add(x_key, int(row["converters"]), key_in(row, "converters"))
    if by == BY_STATE:
        total = F.IMPACT_CONVERTERS_ALL(purpose)
        cells.add_sum(total, [_keys(by, purpose, g)[1] for g in groups])
        # The states' own sum first: with one class withheld, the spec's rule over the states
        # settles before all converters are withheld for the classes' sake.
        cells.breakdown(total, [_keys(by, purpose, g)[1] for g in groups])
        cells.breakdown(total, [_keys(BY_CLASS, None, c)[1] for c in schema.CLASSES])
    return cells


def _coverage(cells: Cells, used: int, everyone: int, inputs: list[tuple]) -> float | None:
    """The share of customers the stratified figures cover; where counts are perturbed, in
    whole per cent, so that it does not give the exact customers back."""
    share = cells.ratio(used, everyone, inputs)
    return share if share is None or not cells.perturbed else round(share, 2)


def _gap(
    a: float | None, b: float | None, var_a: float, var_b: float
) -> tuple[float | None, float | None, float | None]:
    if a is None or b is None:
        return None, None, None
    low, high = normal_interval(a - b, var_a + var_b)
    return a - b, low, high


def impact(
    tables: Tables, params: Params, by: str = BY_CLASS, purpose: str | None = None
) -> Impact:
    """Published conversion rate and revenue per customer per group (by class, or by consent
    state of `purpose`), raw and stratified over channel x country, with gaps between pairs."""
    if by not in GROUPS:
        raise ValueError(f"group by {BY_CLASS!r} or {BY_STATE!r}, not {by!r}")
    if by == BY_STATE and not purpose:
        raise ValueError("grouping by consent state needs a purpose")
    result = compute(tables, params)
    if by == BY_STATE and F.CONSENT(purpose, schema.GRANTED) not in result.cells.values:
        raise ValueError(f"no consent events for purpose {purpose!r}")
    query = (
        class_strata(tables, params) if by == BY_CLASS else state_strata(tables, params, purpose)
    )
    strata = query.to_pyarrow().to_pandas()
    groups = GROUPS[by]
    sums = ["customers", "converters", "revenue", "revenue_sq"]
    sums += [f"{name}_key" for name in sums[:2] if f"{name}_key" in strata.columns]
    totals = strata.groupby("group")[sums].sum().reindex(list(groups), fill_value=0)

    cells = _cells(result, by, purpose, totals)
    k = cells.k

    rows: dict[str, dict[str, float | int | None]] = {}
    variances: dict[str, dict[str, float]] = {}
    for group in groups:
        n_key, x_key = _keys(by, purpose, group)
        # As published: rates rest on the counts shown beside them (perturbed where they are).
        n, x = cells.shown(n_key), cells.shown(x_key)
        revenue, squares = float(totals.at[group, "revenue"]), float(totals.at[group, "revenue_sq"])
        row: dict[str, float | int | None] = dict.fromkeys(GROUP_COLUMNS)
        row.update(group=group, customers=cells.count(n_key), converters=cells.count(x_key))
        inputs = [n_key, x_key]
        rate = cells.derived(x / n, n, inputs) if n else None
        if rate is not None:
            row["rate"] = rate
            row["rate_low"], row["rate_high"] = wilson_interval(x, n)
            mean, s2 = revenue / n, sample_variance(n, revenue, squares)
            row["revenue_per_customer"] = mean
            lo, hi = normal_interval(mean, s2 / n, low=0.0)
            row["revenue_per_customer_low"], row["revenue_per_customer_high"] = lo, hi
            variances[group] = {"rate": rate * (1 - rate) / n, "revenue_per_customer": s2 / n}
        rows[group] = row

    compared = [g for g in groups if rows[g]["rate"] is not None]
    std = standardise(strata, compared, k)
    for group in compared:
        est = std.estimates.loc[group]
        if std.weights.empty or not publishable(int(est["converters"]), k):
            continue
        row = rows[group]
        row["stratified_rate"] = float(est["rate"])
        lo, hi = normal_interval(float(est["rate"]), float(est["rate_var"]), 0.0, 1.0)
        row["stratified_rate_low"], row["stratified_rate_high"] = lo, hi
        mean = float(est["revenue_per_customer"])
        row["stratified_revenue_per_customer"] = mean
        lo, hi = normal_interval(mean, float(est["revenue_per_customer_var"]), low=0.0)
        row["stratified_revenue_per_customer_low"] = lo
        row["stratified_revenue_per_customer_high"] = hi

    gaps = []
    for first, second in PAIRS[by]:
        a, b = rows[first], rows[second]
        for measure, column in ((RATE, "rate"), (REVENUE, "revenue_per_customer")):
            raw = _gap(
                a[column],
                b[column],
                variances.get(first, {}).get(column, 0.0),
                variances.get(second, {}).get(column, 0.0),
            )
            stratified = (None, None, None)
            if a[f"stratified_{column}"] is not None and b[f"stratified_{column}"] is not None:
                var = f"{column}_var"
                stratified = _gap(
                    a[f"stratified_{column}"],
                    b[f"stratified_{column}"],
                    float(std.estimates.at[first, var]),
                    float(std.estimates.at[second, var]),
                )
            gaps.append((first, second, measure, *raw, *stratified))

    used_key, dropped_key = (
        F.IMPACT_STRATA_USED(by, purpose),
        F.IMPACT_DROPPED(by, purpose),
    )
    cells.add(used_key, std.customers_used)
    cells.add(dropped_key, std.customers_dropped)
    everyone = cells.values[CUSTOMERS]
    return Impact(
        by=by,
        purpose=purpose if by == BY_STATE else None,
        customers=cells.count(CUSTOMERS),
        groups=pd.DataFrame([rows[g] for g in groups], columns=GROUP_COLUMNS).astype(
            {"customers": "Int64", "converters": "Int64"}
        ),
        gaps=pd.DataFrame(gaps, columns=GAP_COLUMNS),
        strata=int(strata.groupby(list(STRATA)).ngroups) if len(strata) else 0,
        strata_used=len(std.weights),
        pooled=OTHER_STRATUM in std.weights.index,
        covered=_coverage(cells, std.customers_used, everyone, [used_key, dropped_key, CUSTOMERS]),
    )


# --------------------------------------------------------------------------------------------
# The page's figures, as metrics/figures.py names them
# --------------------------------------------------------------------------------------------


def metrics_for(by: str) -> tuple[Figure, ...]:
    """This page's figures, explained by the query of the chosen grouping."""
    own = (figures.IMPACT_CONVERSION_RATE, figures.IMPACT_REVENUE_PER_CUSTOMER)
    if by == BY_CLASS:
        return own
    note = (
        " The SQL shown groups by the consent state of email_marketing; for another purpose "
        "only that name changes."
    )
    return tuple(f.explained_by("metrics.impact.state_strata", note) for f in own)
