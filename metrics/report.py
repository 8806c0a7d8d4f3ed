"""Every figure of the spec, computed once and suppressed once, as the metrics JSON."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from data.storage import facts, schema
from metrics import figures as F
from metrics.figures import JSON_FIGURES
from metrics.params import Params
from metrics.perturbation import key_in
from metrics.queries import consent_counts
from metrics.rules import Tables, consent_states, requests
from metrics.suppression import Cells

CUSTOMERS = F.CUSTOMERS()
STAGES = ("engaged", "intent", "converted")
ERASURE_BREAKDOWNS = ("received", "completed", "overdue")


@dataclass(frozen=True)
class Computed:
    """Raw query results (unsuppressed: never shown as they are) and the suppression cells."""

    params: Params
    frames: dict[str, pd.DataFrame]
    cells: Cells


def run_queries(tables: Tables, params: Params) -> dict[str, pd.DataFrame]:
    """Run each distinct query of the registry once.

    Two intermediates feed several queries, and the engine computes each once for all of
    them: consent states (unless the facts hold them: from the facts they are one filter,
    cheaper to repeat than to write out) and the privacy requests with their jurisdiction
    and due date (a join with every customer).
    """
    unique: dict[str, Callable[[Tables, Params], ir.Table]] = {}
    for figure in JSON_FIGURES:
        unique.setdefault(figure.query.rsplit(".", 1)[1], figure.compute)
    states = consent_states(tables, params)
    shared_rules: dict[str, Callable[[Tables], AbstractContextManager[ir.Table]]] = {
        "consent_states": lambda t: (
            nullcontext(states) if facts.CONSENT_INTERVALS in t.facts else t.materialize(states)
        ),
        "requests": lambda t: t.materialize(requests(t, params)),
        # Small: the decided customers by purpose, state and segment, which two queries add up.
        "consent_counts": lambda t: t.materialize(consent_counts(t, params)),
    }
    with ExitStack() as stack:
        shared = tables
        for name, holder in shared_rules.items():
            shared = shared.with_computed(name, stack.enter_context(holder(shared)))
        # Through Arrow: Ibis's own pandas conversion trips a pandas 3 deprecation.
        return {
            label: query(shared, params).to_pyarrow().to_pandas() for label, query in unique.items()
        }


def months(start: date, end: date) -> list[str]:
    """Every calendar month from start to end, as YYYY-MM."""
    return [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]


def _consent_counts(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    cells = _consent_cells(frame)
    return {purpose: {s: n for s, (n, _) in states.items()} for purpose, states in cells.items()}


def _consent_cells(frame: pd.DataFrame) -> dict[str, dict[str, tuple[int, int | None]]]:
    """(count, cell key) by purpose and decided state (keys None where counts are exact)."""
    out: dict[str, dict[str, tuple[int, int | None]]] = {}
    for row in frame.itertuples(index=False):
        empty = (0, None if key_in(row, "customers") is None else 0)
        counts = out.setdefault(row.purpose, dict.fromkeys(schema.DECISIONS, empty))
        if isinstance(row.state, str):
            counts[row.state] = (int(row.customers), key_in(row, "customers"))
    return out


def _purpose_order(purposes: list[str]) -> list[str]:
    canonical = [p for p in schema.PURPOSES if p in purposes]
    return canonical + sorted(p for p in purposes if p not in schema.PURPOSES)


def build_cells(params: Params, frames: dict[str, pd.DataFrame]) -> Cells:
    """Register every count with its figure key and every breakdown that adds up to a total."""
    cells = Cells(params.min_cell, perturbed=params.perturbed)
    everyone = frames["customer_count"].iloc[0]
    cells.add(CUSTOMERS, int(everyone["customers"]), key_in(everyone, "customers"))

    for purpose, counts in _consent_cells(frames["consent_by_state"]).items():
        for state, (n, key) in counts.items():
            cells.add(F.CONSENT(purpose, state), n, key)
        decided = [F.CONSENT(purpose, s) for s in schema.DECISIONS]
        cells.add_rest(F.CONSENT(purpose, schema.NO_DECISION), CUSTOMERS, decided)
        cells.breakdown(CUSTOMERS, [F.CONSENT(purpose, s) for s in schema.CONSENT_STATES])
        # Decided but not granted: never shown, but what customers less granted and no
        # decision leaves.
        refused = [F.CONSENT(purpose, s) for s in (schema.DENIED, schema.WITHDRAWN)]
        cells.subcount(F.CONSENT(purpose, "refused"), refused)

    segments = frames["granted_by_segment"]
    for purpose, group in segments.groupby("purpose", sort=True):
        members = []
        for row in group.sort_values("segment").itertuples(index=False):
            key = F.SEGMENT(purpose, row.segment)
            cells.add(key, int(row.granted), key_in(row, "granted"))
            members.append(key)
        cells.breakdown(F.CONSENT(purpose, schema.GRANTED), members)

    outcomes = frames["class_outcomes"].set_index("cls")
    for cls in schema.CLASSES:
        row = outcomes.loc[cls]
        cells.add(F.CLASS(cls), int(row["customers"]), key_in(row, "customers"))
        for stage in STAGES:
            cells.add(F.FUNNEL(cls, stage), int(row[stage]), key_in(row, stage))
        # Each stage is a subset of the one before: the drop-outs are counts too.
        for smaller, larger in zip(STAGES, (None, *STAGES[:-1]), strict=True):
            cells.within(
                F.FUNNEL(cls, smaller),
                F.CLASS(cls) if larger is None else F.FUNNEL(cls, larger),
            )
    cells.breakdown(CUSTOMERS, [F.CLASS(c) for c in schema.CLASSES])

    summary = frames["erasure_summary"].iloc[0]
    for figure in ("received", "completed", "open", "overdue", "on_time"):
        cells.add(F.ERASURE(figure), _int(summary[figure]), key_in(summary, figure))
    # The on-time rate publishes on time against completed: the late ones are a count too
    # (completed = on time + late), never left to be worked out when they are few.
    late = F.ERASURE("late")
    cells.add_rest(late, F.ERASURE("completed"), [F.ERASURE("on_time")])
    cells.breakdown(F.ERASURE("completed"), [F.ERASURE("on_time"), late])
    by_jurisdiction = frames["erasure_by_jurisdiction"]
    for figure in ERASURE_BREAKDOWNS:
        members = []
        for row in by_jurisdiction.itertuples(index=False):
            key = F.ERASURE_JURISDICTION(row.jurisdiction, figure)
            cells.add(key, _int(getattr(row, figure)), key_in(row, figure))
            members.append(key)
        # Only jurisdictions with a request received in the period are listed, yet completed
        # and overdue also count older requests: what the listed ones leave over is a member
        # too (never shown), so a small remainder cannot be read off as total minus listed.
        rest = F.ERASURE_JURISDICTION(None, figure)
        cells.add_rest(rest, F.ERASURE(figure), members)
        cells.breakdown(F.ERASURE(figure), [*members, rest])
    monthly = frames["erasure_monthly"].set_index("month")
    for figure in ("received", "completed"):
        members = []
        for month in months(params.start, params.end):
            row = monthly.loc[month] if month in monthly.index else None
            n, key = (0, None) if row is None else (_int(row[figure]), key_in(row, figure))
            cells.add(F.ERASURE_MONTH(month, figure), n, key)
            members.append(F.ERASURE_MONTH(month, figure))
        cells.breakdown(F.ERASURE(figure), members)

    for row in frames["requests_by_type"].itertuples(index=False):
        cells.add(_request_key(row.type), int(row.received), key_in(row, "received"))
    return cells


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _request_key(request_type: str) -> tuple[str, ...]:
    # Erasure requests received in the period are one figure, wherever they appear.
    if request_type == schema.ERASURE:
        return F.ERASURE("received")
    return F.REQUESTS(request_type)


# Results already computed, for the figure functions that start from the same JSON (a page
# draws several; the Overview also asks for the previous period): by version of the data,
# the facts used and the parameters. Aggregates only, never a person's data.
_computed: OrderedDict[tuple, Computed] = OrderedDict()
# Results under way: a second caller of the same key (another session on the same view, or
# another page's figures) waits for the first instead of running the queries beside it.
_running: dict[tuple, Future] = {}
_computed_lock = threading.Lock()
COMPUTED_KEPT = 64


def compute(tables: Tables, params: Params) -> Computed:
    """Run the queries and resolve suppression for the given parameters (once per version
    of the data: see `_computed`; callers of the same key at once share one run)."""
    if tables.version is None or tables.computed:
        return _computation(tables, params)
    key = (tables.version, tuple(sorted(tables.facts)), params)
    while True:
        with _computed_lock:
            if key in _computed:
                _computed.move_to_end(key)
                return _computed[key]
            running = _running.get(key)
            if running is None:
                running = _running[key] = Future()
                break
        # Another caller's run: its result, or, if it failed, a run of this caller's own
        # (its error, or its being stopped, is not this caller's).
        if (result := running.result()) is not None:
            return result
    try:
        result = _computation(tables, params)
    except BaseException:
        with _computed_lock:
            del _running[key]
        running.set_result(None)
        raise
    with _computed_lock:
        _computed[key] = result
        while len(_computed) > COMPUTED_KEPT:
            _computed.popitem(last=False)
        del _running[key]
    running.set_result(result)
    return result


def _computation(tables: Tables, params: Params) -> Computed:
    frames = run_queries(tables, params)
    return Computed(params, frames, build_cells(params, frames))


def to_json(result: Computed) -> dict[str, Any]:
    """The metrics JSON of spec section 6, every figure suppressed as section 5 says."""
    p, frames, cells = result.params, result.frames, result.cells
    count = cells.count

    consent: dict[str, Any] = {}
    purposes = _purpose_order(list(_consent_counts(frames["consent_by_state"])))
    for purpose in purposes:
        keys = {s: F.CONSENT(purpose, s) for s in schema.CONSENT_STATES}
        decided = [keys[s] for s in schema.DECISIONS]
        granted = cells.shown(keys[schema.GRANTED])
        answered = sum(cells.shown(k) for k in decided)
        consent[purpose] = {s: count(k) for s, k in keys.items()}
        consent[purpose]["opt_in_rate"] = cells.ratio(granted, answered, decided)

    segments = frames["granted_by_segment"]
    opted_in = {
        purpose: {
            seg: count(F.SEGMENT(purpose, seg))
            for seg in sorted(segments.loc[segments.purpose == purpose, "segment"])
        }
        for purpose in purposes
    }

    outcomes = frames["class_outcomes"].set_index("cls")
    ymn = {c: count(F.CLASS(c)) for c in schema.CLASSES}
    funnel = {
        c: {"customers": count(F.CLASS(c))} | {stage: count(F.FUNNEL(c, stage)) for stage in STAGES}
        for c in schema.CLASSES
    }
    conversion = {}
    for c in schema.CLASSES:
        people, converters = F.CLASS(c), F.FUNNEL(c, "converted")
        revenue = outcomes.at[c, "revenue"]
        conversion[c] = {
            "customers": count(people),
            "converters": count(converters),
            "rate": cells.ratio(cells.shown(converters), cells.shown(people), [converters, people]),
            # Revenue, like the rate, rests on the class's customers and its converters.
            "revenue": cells.derived(float(revenue), cells.values[people], [converters, people]),
        }

    summary = frames["erasure_summary"].iloc[0]
    completed = F.ERASURE("completed")
    n_completed = cells.values[completed]
    median = summary["median_days"]
    erasure = {
        "received": count(F.ERASURE("received")),
        "completed": count(completed),
        "open": count(F.ERASURE("open")),
        "overdue": count(F.ERASURE("overdue")),
        "on_time_rate": cells.ratio(
            cells.shown(F.ERASURE("on_time")),
            cells.shown(completed),
            [F.ERASURE("on_time"), completed],
        ),
        "median_days_to_complete": cells.derived(
            None if pd.isna(median) else float(median), n_completed, [completed]
        ),
        "by_jurisdiction": {
            j: {f: count(F.ERASURE_JURISDICTION(j, f)) for f in ERASURE_BREAKDOWNS}
            for j in frames["erasure_by_jurisdiction"]["jurisdiction"]
        },
        "monthly": [
            {"month": m} | {f: count(F.ERASURE_MONTH(m, f)) for f in ("received", "completed")}
            for m in months(p.start, p.end)
        ],
    }
    requests = {t: count(_request_key(t)) for t in frames["requests_by_type"]["type"]}
    return {
        "as_of": p.as_of.isoformat(),
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "min_cell": p.min_cell,
        "marketing_purposes": list(p.marketing_purposes),
        "customers": count(CUSTOMERS),
        "consent": consent,
        "opted_in_by_segment": opted_in,
        "ymn": ymn,
        "funnel": funnel,
        "conversion": conversion,
        "erasure": erasure,
        "requests_by_type": requests,
    }
