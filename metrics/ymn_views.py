"""Yes / maybe / no in depth: the three funnels with their step rates, how customers moved
between classes since the previous period, and what the "maybe" class would add if it
converted like the "yes" class. Every figure leaves here already suppressed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from data.storage import schema
from metrics import figures as F
from metrics.params import Params, previous_period
from metrics.perturbation import key_in, key_sums
from metrics.report import CUSTOMERS, STAGES, Computed, compute, to_json
from metrics.rules import Tables, classes
from metrics.suppression import Cells, Key

NEW = "new"
FUNNEL_STAGES: tuple[str, ...] = ("customers", *STAGES)
FLOW_FROM: tuple[str, ...] = (*schema.CLASSES, NEW)
FLOW_TO: tuple[str, ...] = schema.CLASSES


def _stage_key(cls: str, stage: str) -> Key:
    # The keys of metrics.report, so a stage is the very figure the metrics JSON publishes.
    return F.CLASS(cls) if stage == "customers" else F.FUNNEL(cls, stage)


# Funnels.


def funnels(tables: Tables, params: Params) -> pd.DataFrame:
    """Per class and funnel stage: published count, step rate and share of the class."""
    return _funnels(compute(tables, params))


def _funnels(result: Computed) -> pd.DataFrame:
    published = to_json(result)["funnel"]
    cells = result.cells
    rows = []
    for cls in schema.CLASSES:
        people = _stage_key(cls, "customers")
        for i, stage in enumerate(FUNNEL_STAGES):
            key = _stage_key(cls, stage)
            step = None
            if i:
                before = _stage_key(cls, FUNNEL_STAGES[i - 1])
                step = cells.ratio(cells.shown(key), cells.shown(before), [key, before])
            share = cells.ratio(cells.shown(key), cells.shown(people), [key, people])
            rows.append(
                {
                    "class": cls,
                    "stage": stage,
                    "customers": published[cls][stage],
                    "step_rate": step,
                    "share_of_class": share,
                }
            )
    return _frame(rows, ["class", "stage", "customers", "step_rate", "share_of_class"])


def _frame(rows: list[dict], columns: Sequence[str]) -> pd.DataFrame:
    # Object columns keep a withheld count as None and a published one as an exact int.
    return pd.DataFrame(
        {c: pd.Series([row[c] for row in rows], dtype=object) for c in columns},
        columns=list(columns),
    )


# Flows between classes.


def class_flow_counts(t: Tables, p: Params) -> ir.Table:
    """(from_class, to_class, customers): class at the previous period's as-of date vs at D.

    A customer created after the earlier date comes from `new`; every pair has a row.
    """
    # Consent states already computed for p hold at p's as-of date only.
    earlier = replace(t, computed={})
    before = classes(earlier, previous_period(p)).select("customer_id", from_class="cls")
    now = classes(t, p).select("customer_id", to_class="cls")
    # Customers at the earlier date are all customers at D: created earlier, same filters.
    moved = now.left_join(before, "customer_id")
    moved = moved.select(
        "customer_id", from_class=moved.from_class.fill_null(NEW), to_class=moved.to_class
    )
    keys = key_sums(p.perturbed, customers=(moved.customer_id, None))
    counts = moved.group_by(["from_class", "to_class"]).aggregate(customers=moved.count(), **keys)
    grid = ibis.memtable(
        pa.table(
            {
                "from_class": [f for f in FLOW_FROM for _ in FLOW_TO],
                "to_class": [c for _ in FLOW_FROM for c in FLOW_TO],
            }
        )
    )
    out = grid.left_join(counts, ["from_class", "to_class"])
    return out.select(
        "from_class",
        "to_class",
        **{name: out[name].fill_null(0) for name in ["customers", *keys]},
    )


def _flow_key(source: str, target: str) -> Key:
    return F.FLOW(source, target)


def _earlier(key: Key) -> Key:
    # A figure of the previous period's metrics JSON, kept apart from the current one's.
    return F.PREVIOUS(key)


NEW_KEY: Key = F.NEW_CUSTOMERS()


def _flow_breakdowns() -> list[tuple[Key, tuple[Key, ...]]]:
    """Flows into a class add up to its size at D; flows out of a class (or out of new) to
    its size at the earlier date; and customers at D are those at the earlier date plus the
    flows out of new, so new customers count as known whenever both JSONs' customers are."""
    out = [(F.CLASS(c), tuple(_flow_key(s, c) for s in FLOW_FROM)) for c in FLOW_TO]
    for source in FLOW_FROM:
        total = NEW_KEY if source == NEW else _earlier(F.CLASS(source))
        out.append((total, tuple(_flow_key(source, c) for c in FLOW_TO)))
    out.append((CUSTOMERS, (_earlier(CUSTOMERS), *(_flow_key(NEW, c) for c in FLOW_TO))))
    return out


def _flow_cells(
    now: Computed, before: Computed, flows: dict[tuple[str, str], tuple[int, int | None]]
) -> Cells:
    """The flows and how they add up, beside both metrics JSONs' figures pinned at the status
    each JSON gives them (the earlier one's under `_earlier` keys).

    Flows are members of no JSON breakdown and every total a flow breakdown adds up to is a
    JSON figure or NEW_KEY, so only flows and NEW_KEY are ever withheld here. A class size a
    JSON withholds is protected too: its flows are never all published.
    """
    cells = Cells(now.params.min_cell, close_withheld_totals=True, perturbed=now.params.perturbed)
    cells.adopt(now.cells)
    cells.adopt(before.cells, rename=_earlier)
    for pair, (n, key) in flows.items():
        cells.add(_flow_key(*pair), n, key)
    cells.add_sum(NEW_KEY, [_flow_key(NEW, c) for c in FLOW_TO])
    for total, members in _flow_breakdowns():
        cells.breakdown(total, members)
    return cells


def class_flows(tables: Tables, params: Params) -> pd.DataFrame:
    """Moves between classes from the previous period's as-of date (or new) to D, suppressed.

    Rows (from_class, to_class, customers, from_customers, to_customers); from_customers and
    to_customers are the class sizes of the previous period's and this period's metrics JSON
    (for new: the customers created since, withheld under the same rules as the flows).
    """
    return _class_flows(tables, params, compute(tables, params))


def _class_flows(tables: Tables, params: Params, now: Computed) -> pd.DataFrame:
    before = compute(tables, previous_period(params))
    raw = class_flow_counts(tables, params).to_pyarrow().to_pandas()
    flows = {
        (row.from_class, row.to_class): (int(row.customers), key_in(row, "customers"))
        for row in raw.itertuples(index=False)
    }
    cells = _flow_cells(now, before, flows)
    sizes_now = to_json(now)["ymn"]
    sizes_before = to_json(before)["ymn"]
    new_total = cells.count(NEW_KEY)
    rows = [
        {
            "from_class": source,
            "to_class": target,
            "customers": cells.count(_flow_key(source, target)),
            "from_customers": new_total if source == NEW else sizes_before[source],
            "to_customers": sizes_now[target],
        }
        for source in FLOW_FROM
        for target in FLOW_TO
    ]
    return _frame(rows, ["from_class", "to_class", "customers", "from_customers", "to_customers"])


# The "maybe" opportunity.


@dataclass(frozen=True)
class Opportunity:
    """What the maybe class would add if it converted like the yes class (None = withheld).

    Assumption: maybe customers, once persuaded, would convert at the yes class's rate and
    spend what a yes converter spends. Both classes differ in more than consent, so this is
    the size of the gap, not a forecast. A negative gap means maybe customers already
    convert better than yes customers.
    """

    maybe_customers: int | None
    yes_rate: float | None
    maybe_rate: float | None
    extra_converters: float | None
    revenue_per_converter: float | None
    extra_revenue: float | None

    def table(self) -> pd.DataFrame:
        """The figures as a (figure, value, unit) table."""
        rows = [
            ("maybe_customers", self.maybe_customers, "count"),
            ("yes_conversion_rate", self.yes_rate, "rate"),
            ("maybe_conversion_rate", self.maybe_rate, "rate"),
            ("extra_converters", self.extra_converters, "count"),
            ("revenue_per_yes_converter", self.revenue_per_converter, "money"),
            ("extra_revenue", self.extra_revenue, "money"),
        ]
        return _frame(
            [{"figure": f, "value": v, "unit": u} for f, v, u in rows], ["figure", "value", "unit"]
        )


def maybe_opportunity(tables: Tables, params: Params) -> Opportunity:
    """What the maybe class would add if it converted like the yes class (see Opportunity).

    Extra converters = maybe customers x (yes rate - maybe rate); extra revenue = extra
    converters x the yes class's revenue per converter. Every input is a figure of the
    published metrics JSON; an output is None whenever any of its inputs is withheld.
    Revenue per yes converter is published only when the yes converters number at least k.
    """
    return _opportunity(compute(tables, params))


def _opportunity(result: Computed) -> Opportunity:
    conversion = to_json(result)["conversion"]
    yes, maybe = conversion[schema.YES], conversion[schema.MAYBE]
    people = maybe["customers"]
    extra = None
    if None not in (people, yes["rate"], maybe["rate"]):
        extra = people * (yes["rate"] - maybe["rate"])
    per_converter = None
    if yes["revenue"] is not None and yes["converters"]:
        converters = _stage_key(schema.YES, "converted")
        per_converter = result.cells.derived(
            yes["revenue"] / yes["converters"],
            yes["converters"],
            [converters, _stage_key(schema.YES, "customers")],
        )
    return Opportunity(
        maybe_customers=people,
        yes_rate=yes["rate"],
        maybe_rate=maybe["rate"],
        extra_converters=extra,
        revenue_per_converter=per_converter,
        extra_revenue=None if extra is None or per_converter is None else extra * per_converter,
    )


@dataclass(frozen=True)
class Views:
    """Everything the yes / maybe / no page shows, from one run of the metrics."""

    funnels: pd.DataFrame
    flows: pd.DataFrame
    opportunity: Opportunity


def views(tables: Tables, params: Params) -> Views:
    """Funnels, class flows and the maybe opportunity, computing the metrics JSON once."""
    now = compute(tables, params)
    return Views(_funnels(now), _class_flows(tables, params, now), _opportunity(now))
