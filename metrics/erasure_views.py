"""Erasure and privacy-request figures for the dashboard: requests received and completed per
week or month by type and jurisdiction, the erasure backlog, what is overdue or due soon, the
on-time rate against each jurisdiction's legal deadline, and a plain reading of the trend.

Figures the metrics JSON also carries (erasure totals, months and jurisdictions, requests by
type) keep the JSON's figure key and are published exactly as the JSON publishes them; this
page's finer figures are suppressed around them, so nothing the JSON withholds can be worked
back out from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from data.storage import schema
from metrics import figures as F
from metrics.params import Params
from metrics.perturbation import key_in, key_sums
from metrics.report import compute, months, to_json
from metrics.rules import (
    Tables,
    completed_request,
    day_in_period,
    erasure_requests,
    median_days_to_complete,
    open_on,
    overdue_on,
    period_label,
    requests,
)
from metrics.suppression import Cells, Key

GRAINS = ("month", "week")
BREAKDOWNS = ("type", "jurisdiction")
FIGURES = ("received", "completed")
DEFAULT_HORIZON_DAYS = 14
TREND_MONTHS = 3
TREND_NEEDS = 2 * TREND_MONTHS  # whole months the trend is read from
# Small numbers in the reading are words, so digits there are always figures.
_WORDS = {3: "three", 6: "six"}
STEADY = 0.05  # a change under 5% reads as "held steady"


# Queries: Ibis expressions over the canonical tables, raw (unsuppressed) counts.


def request_activity(t: Tables, p: Params, grain: str = "month") -> ir.Table:
    """(period, type, jurisdiction, received, completed): privacy requests received and
    completed in the period, per calendar month or Monday-start week."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}")
    r = requests(t, p)
    received = r.filter(day_in_period(r.received, p)).select(
        "request_id",
        "type",
        "jurisdiction",
        day=r.received,
        received=ibis.literal(True),
        completed=ibis.literal(False),
    )
    done = r.filter(completed_request(r) & day_in_period(r.completed_on, p)).select(
        "request_id",
        "type",
        "jurisdiction",
        day=r.completed_on,
        received=ibis.literal(False),
        completed=ibis.literal(True),
    )
    both = received.union(done)
    both = both.mutate(period=period_label(both.day, grain))
    flags = {"received": both.received, "completed": both.completed}
    return (
        both.group_by(["period", "type", "jurisdiction"])
        .aggregate(
            **{name: flag.cast("int64").sum() for name, flag in flags.items()},
            **key_sums(
                p.perturbed, **{name: (both.request_id, flag) for name, flag in flags.items()}
            ),
        )
        .order_by(["period", "type", "jurisdiction"])
    )


def jurisdiction_status(t: Tables, p: Params, horizon_days: int = DEFAULT_HORIZON_DAYS) -> ir.Table:
    """Per jurisdiction of erasure requests: received, completed, completed on time and the
    median days to complete in the period; open at D split into overdue, due within
    `horizon_days` and due later."""
    r = erasure_requests(t, p)
    done = r.completed_in_period
    pending = r.open & ~r.overdue  # open, due date on or after D
    soon = pending & (r.due <= ibis.literal(p.as_of + timedelta(days=horizon_days)))
    flags = {
        "received": r.received_in_period,
        "completed": done,
        "on_time": done & r.on_time,
        "open": r.open,
        "overdue": r.overdue,
        "due_soon": soon,
        "due_later": pending & ~soon,
    }
    return (
        r.group_by("jurisdiction")
        .aggregate(
            **{name: flag.sum() for name, flag in flags.items()},
            median_days=median_days_to_complete(r),
            **key_sums(p.perturbed, **{name: (r.request_id, flag) for name, flag in flags.items()}),
        )
        .order_by("jurisdiction")
    )


def backlog_counts(t: Tables, p: Params, days: tuple[date, ...] = ()) -> ir.Table:
    """(day, open, overdue): erasure requests open, and overdue, at each day (default: D)."""
    r = erasure_requests(t, p)
    calendar = ibis.memtable(pa.table({"day": pa.array(days or (p.as_of,), pa.date32())}))
    x = calendar.cross_join(r)
    flags = {"open": open_on(x, x.day), "overdue": overdue_on(x, x.day)}
    return (
        x.group_by("day")
        .aggregate(
            **{name: flag.sum() for name, flag in flags.items()},
            **key_sums(p.perturbed, **{name: (x.request_id, flag) for name, flag in flags.items()}),
        )
        .order_by("day")
    )


def _run(expr: ir.Table) -> pd.DataFrame:
    # Through Arrow, as metrics.report does.
    return expr.to_pyarrow().to_pandas()


# Periods.


@dataclass(frozen=True)
class Period:
    """One week or month of the period, clipped to [start, end]."""

    key: str  # YYYY-MM, or the ISO date of the week's Monday
    label: str  # YYYY-MM, or the ISO date of the week's first day inside the period
    first: date
    last: date


def periods(start: date, end: date, grain: str) -> list[Period]:
    """Every calendar month or Monday-start week from start to end, clipped to the period."""
    if grain == "month":
        out = []
        for m in months(start, end):
            p = pd.Period(m, freq="M")
            first = max(p.start_time.date(), start)
            last = min(p.end_time.date(), end)
            out.append(Period(m, m, first, last))
        return out
    if grain != "week":
        raise ValueError(f"grain must be one of {GRAINS}")
    monday = start - timedelta(days=start.weekday())
    out = []
    while monday <= end:
        first, last = max(monday, start), min(monday + timedelta(days=6), end)
        out.append(Period(monday.isoformat(), first.isoformat(), first, last))
        monday += timedelta(days=7)
    return out


def deadlines(jurisdiction: str) -> tuple[str, str]:
    """The legal deadline of a jurisdiction in words, normal and when extended (spec
    section 3); a jurisdiction the spec does not name has OTHER's."""
    normal, longer = schema.DEADLINES.get(jurisdiction, schema.DEADLINES[schema.OTHER])
    return str(normal), "no extension" if longer == normal else str(longer)


def _order(names: Sequence[str], canonical: Sequence[str]) -> list[str]:
    known = [n for n in canonical if n in names]
    return known + sorted(n for n in set(names) if n not in canonical)


JURISDICTION_COLUMNS = (
    "jurisdiction",
    "deadline",
    "extended_deadline",
    "open",
    "overdue",
    "due_soon",
    "due_later",
    "completed",
    "on_time_rate",
    "median_days",
    "open_any",
    "completed_any",
)


# Figure keys: the JSON's where the figure is the JSON's.


def _type_total(request_type: str, figure: str) -> Key:
    if request_type == schema.ERASURE:
        return F.ERASURE(figure)
    return F.REQUESTS(request_type) if figure == "received" else F.REQUESTS_COMPLETED(request_type)


def _type_cell(grain: str, period: str, request_type: str, figure: str) -> Key:
    if grain == "month" and request_type == schema.ERASURE:
        return F.ERASURE_MONTH(period, figure)
    return F.REQUESTS_PERIOD(grain, period, request_type, figure)


def _jurisdiction_cell(grain: str, period: str, jurisdiction: str, figure: str) -> Key:
    return F.ERASURE_PERIOD_JURISDICTION(grain, period, jurisdiction, figure)


def _jurisdiction_total(jurisdiction: str, figure: str) -> Key:
    return F.ERASURE_JURISDICTION(jurisdiction, figure)


def _backlog_key(day: date, as_of: date, figure: str) -> Key:
    if day == as_of:
        return F.ERASURE(figure)
    return F.ERASURE_BACKLOG(day.isoformat(), figure)


# The page's figures.


@dataclass(frozen=True)
class ErasureFigures:
    """Every published figure of the erasure page for one set of parameters."""

    min_cell: int
    horizon_days: int
    summary: dict[str, Any]  # the metrics JSON's erasure block
    over_time: pd.DataFrame  # grain, by, period, first, last, group, received, completed
    totals: pd.DataFrame  # by, group, received, completed
    backlog: pd.DataFrame  # grain, period, day, open, overdue
    jurisdictions: pd.DataFrame  # jurisdiction, deadline, open, overdue, due_soon, ...
    due_totals: dict[str, int | None]  # open, overdue, due_soon, due_later at D
    trend: str
    empty: bool  # no request received or completed in the period, none open at D

    def requests_over_time(self, grain: str, by: str) -> pd.DataFrame:
        """Requests received and completed per period and group (type, or jurisdiction of
        erasure requests)."""
        _check(grain, by)
        f = self.over_time
        out = f[(f.grain == grain) & (f.by == by)]
        return out.drop(columns=["grain", "by"]).reset_index(drop=True)

    def withheld_share(self, grain: str, by: str) -> float:
        """Share of the bars of one over-time view that are withheld: withheld counts over
        withheld and published non-zero ones (zeros draw nothing anyway)."""
        cells = self.requests_over_time(grain, by)[list(FIGURES)].to_numpy().ravel()
        withheld = sum(v is None for v in cells)
        drawn = sum(v is not None and v > 0 for v in cells)
        return withheld / (withheld + drawn) if withheld else 0.0

    def totals_by(self, by: str) -> pd.DataFrame:
        """Requests received and completed in the whole period per group."""
        _check("month", by)
        f = self.totals
        return f[f.by == by].drop(columns=["by"]).reset_index(drop=True)

    def backlog_by(self, grain: str) -> pd.DataFrame:
        """Open and overdue erasure requests at the end of each period (capped at D)."""
        _check(grain, "type")
        f = self.backlog
        return f[f.grain == grain].drop(columns=["grain"]).reset_index(drop=True)

    def due_status(self) -> pd.DataFrame:
        """Open erasure requests at D per jurisdiction: overdue, due soon, due later."""
        columns = list(JURISDICTION_COLUMNS[: JURISDICTION_COLUMNS.index("due_later") + 1])
        f = self.jurisdictions
        return f[f.open_any][columns].reset_index(drop=True)

    def on_time(self) -> pd.DataFrame:
        """Completed erasure requests per jurisdiction: on-time rate and median days."""
        columns = [
            "jurisdiction",
            "deadline",
            "extended_deadline",
            "completed",
            "on_time_rate",
            "median_days",
        ]
        f = self.jurisdictions
        return f[f.completed_any][columns].reset_index(drop=True)


def _check(grain: str, by: str) -> None:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}")
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {BREAKDOWNS}")


def _counts(values: list[int | None]) -> pd.Series:
    # Object dtype keeps counts as ints and withheld ones as None (not NaN floats).
    return pd.Series(values, dtype=object)


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def erasure_figures(
    tables: Tables, params: Params, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> ErasureFigures:
    """Every figure of the erasure page for params, suppressed together."""
    result = compute(tables, params)
    summary = to_json(result)["erasure"]
    activity = {grain: _run(request_activity(tables, params, grain)) for grain in GRAINS}
    status = _run(jurisdiction_status(tables, params, horizon_days)).set_index("jurisdiction")
    calendars = {grain: periods(params.start, params.end, grain) for grain in GRAINS}
    ends = {
        grain: [(q, min(q.last, params.as_of)) for q in cal if q.first <= params.as_of]
        for grain, cal in calendars.items()
    }
    days = tuple(sorted({day for pairs in ends.values() for _, day in pairs}))

    types, places = set(), set(summary["by_jurisdiction"])
    for frame in activity.values():
        types |= set(frame["type"])
        places |= set(frame.loc[frame.type == schema.ERASURE, "jurisdiction"])
    groups = {
        "type": _order(list(types), schema.REQUEST_TYPES),
        "jurisdiction": _order(list(places), schema.JURISDICTIONS),
    }
    # Every jurisdiction with an erasure request, for what is open or completed.
    every_place = _order(list(places | set(status.index)), schema.JURISDICTIONS)

    # One set of cells for the whole page, both grains included: a figure shown in two
    # views is then withheld in both or in neither. The JSON's figures keep its status.
    cells = Cells(params.min_cell, close_withheld_totals=True, perturbed=params.perturbed)
    cells.adopt(result.cells)
    rows = []
    for grain, frame in activity.items():
        rows += _add_activity(cells, frame, grain, calendars[grain], groups)
    _add_jurisdictions(cells, status, every_place, str(horizon_days))
    backlog_rows = _add_backlog(cells, _backlog_frame(tables, params, days), ends, params.as_of)
    return _publish(
        cells, params, summary, horizon_days, rows, groups, every_place, status, backlog_rows
    )


def _add_activity(
    cells: Cells,
    frame: pd.DataFrame,
    grain: str,
    calendar: list[Period],
    groups: dict[str, list[str]],
) -> list[tuple]:
    """Register requests per period by type, and erasure requests per period by jurisdiction,
    with the sums they take part in; returns the rows of the over-time table (as keys)."""
    types, places = groups["type"], groups["jurisdiction"]
    by_type = _lookup(frame, "type")
    by_place = _lookup(frame[frame.type == schema.ERASURE], "jurisdiction")
    for figure in FIGURES:
        period_totals = []
        for q in calendar:
            members = []
            for t in types:
                key = _type_cell(grain, q.key, t, figure)
                cells.add(key, *by_type.get((q.key, t, figure), (0, None)))
                members.append(key)
            # Not shown, but the sum of a period's types: two views must not give it away.
            period_total = F.REQUESTS_PERIOD_TOTAL(grain, q.key, figure)
            cells.add_sum(period_total, members)
            cells.breakdown(period_total, members)
            period_totals.append(period_total)
            places_members = []
            for j in places:
                key = _jurisdiction_cell(grain, q.key, j, figure)
                cells.add(key, *by_place.get((q.key, j, figure), (0, None)))
                places_members.append(key)
            if places_members:
                cells.breakdown(_type_cell(grain, q.key, schema.ERASURE, figure), places_members)
        every = F.REQUESTS_TOTAL(figure)
        cells.add_sum(every, period_totals)
        cells.breakdown(every, period_totals)
        totals = []
        for t in types:
            members = [_type_cell(grain, q.key, t, figure) for q in calendar]
            cells.add_sum(_type_total(t, figure), members)
            cells.breakdown(_type_total(t, figure), members)
            totals.append(_type_total(t, figure))
        cells.breakdown(every, totals)
        for j in places:
            members = [_jurisdiction_cell(grain, q.key, j, figure) for q in calendar]
            cells.add_sum(_jurisdiction_total(j, figure), members)
            cells.breakdown(_jurisdiction_total(j, figure), members)
    rows = []
    for q in calendar:
        for by, cell in (("type", _type_cell), ("jurisdiction", _jurisdiction_cell)):
            for group in groups[by]:
                rows.append((grain, by, q, group, *(cell(grain, q.key, group, f) for f in FIGURES)))
    return rows


def _add_jurisdictions(cells: Cells, status: pd.DataFrame, places: list[str], horizon: str) -> None:
    """Register, per jurisdiction, erasure requests open at D by due date, completed and
    completed on time, with the sums they take part in."""
    columns = ("received", "completed", "overdue", "open", "due_soon", "due_later", "on_time")
    for j in places:
        row = status.loc[j] if j in status.index else None
        value = {c: (0, None) if row is None else (_int(row[c]), key_in(row, c)) for c in columns}
        for figure in (*FIGURES, "overdue"):
            cells.add(_jurisdiction_total(j, figure), *value[figure])
        cells.add(F.ERASURE_OPEN_JURISDICTION(j), *value["open"])
        cells.add(F.ERASURE_DUE_SOON(j, horizon), *value["due_soon"])
        cells.add(F.ERASURE_DUE_LATER(j, horizon), *value["due_later"])
        cells.add(F.ERASURE_ON_TIME_JURISDICTION(j), *value["on_time"])
        # Completed = on time + late: the late ones are never left to be worked out.
        cells.add_rest(
            F.ERASURE_LATE_JURISDICTION(j),
            _jurisdiction_total(j, "completed"),
            [F.ERASURE_ON_TIME_JURISDICTION(j)],
        )
        cells.breakdown(
            _jurisdiction_total(j, "completed"),
            [F.ERASURE_ON_TIME_JURISDICTION(j), F.ERASURE_LATE_JURISDICTION(j)],
        )
        cells.breakdown(
            F.ERASURE_OPEN_JURISDICTION(j),
            [
                _jurisdiction_total(j, "overdue"),
                F.ERASURE_DUE_SOON(j, horizon),
                F.ERASURE_DUE_LATER(j, horizon),
            ],
        )
    sums = {
        F.ERASURE("received"): [_jurisdiction_total(j, "received") for j in places],
        F.ERASURE("completed"): [_jurisdiction_total(j, "completed") for j in places],
        F.ERASURE("overdue"): [_jurisdiction_total(j, "overdue") for j in places],
        F.ERASURE("open"): [F.ERASURE_OPEN_JURISDICTION(j) for j in places],
        F.ERASURE_DUE_SOON_ALL(horizon): [F.ERASURE_DUE_SOON(j, horizon) for j in places],
        F.ERASURE_DUE_LATER_ALL(horizon): [F.ERASURE_DUE_LATER(j, horizon) for j in places],
        F.ERASURE("on_time"): [F.ERASURE_ON_TIME_JURISDICTION(j) for j in places],
    }
    for total, members in sums.items():
        cells.add_sum(total, members)
        cells.breakdown(total, members)
    cells.breakdown(
        F.ERASURE("open"),
        [F.ERASURE("overdue"), F.ERASURE_DUE_SOON_ALL(horizon), F.ERASURE_DUE_LATER_ALL(horizon)],
    )


def _add_backlog(
    cells: Cells,
    frame: pd.DataFrame,
    ends: dict[str, list[tuple[Period, date]]],
    as_of: date,
) -> list[tuple]:
    """Register open and overdue erasure requests at each period end; returns table rows."""
    rows = []
    for grain, pairs in ends.items():
        for q, day in pairs:
            keys = [_backlog_key(day, as_of, f) for f in ("open", "overdue")]
            for key, figure in zip(keys, ("open", "overdue"), strict=True):
                cells.add(key, _int(frame.at[day, figure]), key_in(frame.loc[day], figure))
            rows.append((grain, q.label, day, *keys))
    return rows


def _lookup(frame: pd.DataFrame, group: str) -> dict[tuple[str, str, str], tuple[int, int | None]]:
    """{(period, group, figure): (count, cell key)} from the raw activity rows (cell keys
    None where counts are exact; disjoint rows' keys add up like their counts)."""
    columns = [c for c in frame.columns if c in FIGURES or c.removesuffix("_key") in FIGURES]
    sums = frame.groupby(["period", group])[columns].sum()
    return {
        (period, name, figure): (int(row[figure]), key_in(row, figure))
        for (period, name), row in sums.iterrows()
        for figure in FIGURES
    }


def _backlog_frame(tables: Tables, params: Params, days: tuple[date, ...]) -> pd.DataFrame:
    frame = _run(backlog_counts(tables, params, days)) if days else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame({"open": 0, "overdue": 0}, index=list(days))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame.set_index("day").reindex(list(days)).fillna(0)


def _publish(
    cells: Cells,
    params: Params,
    summary: dict[str, Any],
    horizon_days: int,
    rows: list[tuple],
    groups: dict[str, list[str]],
    places: list[str],
    status: pd.DataFrame,
    backlog_rows: list[tuple],
) -> ErasureFigures:
    """The published frames, read from the resolved cells."""
    count = cells.count
    over_time = pd.DataFrame(
        {
            "grain": [r[0] for r in rows],
            "by": [r[1] for r in rows],
            "period": [r[2].label for r in rows],
            "first": [r[2].first for r in rows],
            "last": [r[2].last for r in rows],
            "group": [r[3] for r in rows],
            "received": _counts([count(r[4]) for r in rows]),
            "completed": _counts([count(r[5]) for r in rows]),
        }
    )
    total_rows = [("type", t, *(_type_total(t, f) for f in FIGURES)) for t in groups["type"]]
    total_rows += [
        ("jurisdiction", j, *(_jurisdiction_total(j, f) for f in FIGURES))
        for j in groups["jurisdiction"]
    ]
    totals = pd.DataFrame(
        {
            "by": [r[0] for r in total_rows],
            "group": [r[1] for r in total_rows],
            "received": _counts([count(r[2]) for r in total_rows]),
            "completed": _counts([count(r[3]) for r in total_rows]),
        }
    )
    backlog_table = pd.DataFrame(
        {
            "grain": [r[0] for r in backlog_rows],
            "period": [r[1] for r in backlog_rows],
            "day": [r[2] for r in backlog_rows],
            "open": _counts([count(r[3]) for r in backlog_rows]),
            "overdue": _counts([count(r[4]) for r in backlog_rows]),
        }
    )
    horizon = str(horizon_days)
    juris: dict[str, list[Any]] = {}
    for j in places:
        completed = _jurisdiction_total(j, "completed")
        on_time = F.ERASURE_ON_TIME_JURISDICTION(j)
        median = status.at[j, "median_days"] if j in status.index else None
        row = {
            "jurisdiction": j,
            "deadline": deadlines(j)[0],
            "extended_deadline": deadlines(j)[1],
            "open": count(F.ERASURE_OPEN_JURISDICTION(j)),
            "overdue": count(_jurisdiction_total(j, "overdue")),
            "due_soon": count(F.ERASURE_DUE_SOON(j, horizon)),
            "due_later": count(F.ERASURE_DUE_LATER(j, horizon)),
            "completed": count(completed),
            "on_time_rate": cells.ratio(
                cells.shown(on_time), cells.shown(completed), [on_time, completed]
            ),
            "median_days": cells.derived(
                None if median is None or pd.isna(median) else float(median),
                cells.values[completed],
                [completed],
            ),
            # Which rows each table lists. A listed row says no more than its cells do:
            # a withheld count is never zero.
            "open_any": cells.values[F.ERASURE_OPEN_JURISDICTION(j)] > 0,
            "completed_any": cells.values[completed] > 0,
        }
        for column, value in row.items():
            juris.setdefault(column, []).append(value)
    text = ("jurisdiction", "deadline", "extended_deadline")
    flags = ("open_any", "completed_any")
    jurisdictions = pd.DataFrame(
        {
            column: juris.get(column, [])
            if column in text
            else pd.Series(juris.get(column, []), dtype=bool if column in flags else object)
            for column in JURISDICTION_COLUMNS
        }
    )
    due_totals = {
        "open": count(F.ERASURE("open")),
        "overdue": count(F.ERASURE("overdue")),
        "due_soon": count(F.ERASURE_DUE_SOON_ALL(horizon)),
        "due_later": count(F.ERASURE_DUE_LATER_ALL(horizon)),
    }
    trend = _trend(params, summary, backlog_table[backlog_table.grain == "month"])
    # Nothing at all is a run of zeros, which are always published.
    empty = not any(cells.values[F.REQUESTS_TOTAL(f)] for f in FIGURES) and not any(
        cells.values[F.ERASURE_OPEN_JURISDICTION(j)] for j in places
    )
    return ErasureFigures(
        min_cell=cells.k,
        horizon_days=horizon_days,
        summary=summary,
        over_time=over_time,
        totals=totals,
        backlog=backlog_table,
        jurisdictions=jurisdictions,
        due_totals=due_totals,
        trend=trend,
        empty=empty,
    )


# The plain reading of the trend.


def _month_span(labels: Sequence[str]) -> str:
    first = pd.Period(labels[0], freq="M")
    last = pd.Period(labels[-1], freq="M")
    if first.year == last.year:
        return f"{first.strftime('%b')}–{last.strftime('%b %Y')}"
    return f"{first.strftime('%b %Y')}–{last.strftime('%b %Y')}"


def whole_months(start: date, end: date) -> int:
    """Calendar months lying wholly inside [start, end]."""
    return sum(
        1
        for m in months(start, end)
        if pd.Period(m, freq="M").start_time.date() >= start
        and pd.Period(m, freq="M").end_time.date() <= end
    )


def _trend(params: Params, summary: dict[str, Any], backlog_months: pd.DataFrame) -> str:
    k = params.min_cell
    whole = []
    for m in summary["monthly"]:
        p = pd.Period(m["month"], freq="M")
        if p.start_time.date() >= params.start and p.end_time.date() <= params.end:
            whole.append(m)
    need = TREND_NEEDS
    three, six = _WORDS[TREND_MONTHS], _WORDS[need]
    if len(whole) < need:
        return (
            f"The period holds fewer than {six} whole months, too few to read a trend in "
            "erasure requests."
        )
    before, recent = whole[-need:-TREND_MONTHS], whole[-TREND_MONTHS:]
    received = [m["received"] for m in before + recent]
    if any(v is None for v in received):
        return (
            f"Some monthly counts of erasure requests in the last {six} whole months are "
            f"withheld (fewer than {k} requests), so no trend is stated."
        )
    old, new = sum(received[:TREND_MONTHS]), sum(received[TREND_MONTHS:])
    span_old = _month_span([m["month"] for m in before])
    span_new = _month_span([m["month"] for m in recent])
    if old == 0 and new == 0:
        first = f"No erasure requests were received in the last {six} whole months."
    elif old == 0:
        first = f"Erasure requests rose from none in {span_old} to {new:,} in {span_new}."
    else:
        change = (new - old) / old
        if abs(change) < STEADY:
            first = (
                f"Erasure requests held steady: {new:,} in {span_new} against {old:,} in "
                f"{span_old}."
            )
        else:
            verb = "rose" if change > 0 else "fell"
            first = (
                f"Erasure requests {verb} {abs(change):.0%} in the last {three} months "
                f"({span_new}: {new:,}) compared with the {three} before ({span_old}: {old:,})."
            )
    return first + _backlog_sentence(before, recent, backlog_months)


def _backlog_sentence(
    before: list[dict[str, Any]], recent: list[dict[str, Any]], backlog_months: pd.DataFrame
) -> str:
    by_month = backlog_months.set_index("period")
    start_month, end_month = before[-1]["month"], recent[-1]["month"]
    if start_month not in by_month.index or end_month not in by_month.index:
        return ""
    was, now = by_month.at[start_month, "open"], by_month.at[end_month, "open"]
    overdue = by_month.at[end_month, "overdue"]
    if was is None or now is None:
        return " The open backlog over those months is withheld (too few requests)."
    if now > was:
        move = f"grew from {was:,} to {now:,}"
    elif now < was:
        move = f"shrank from {was:,} to {now:,}"
    else:
        move = f"stayed at {now:,}"
    tail = "" if overdue is None else f", {overdue:,} of them past their legal deadline"
    return f" Over the same months the backlog of open requests {move}{tail}."


# The page's figures one by one (each computes the whole set; the page asks for it once).


def erasure_summary(tables: Tables, params: Params) -> dict[str, Any]:
    """The metrics JSON's erasure block for params (received, completed, open, overdue,
    on-time rate, median days, by jurisdiction, monthly)."""
    return to_json(compute(tables, params))["erasure"]


def requests_over_time(tables: Tables, params: Params, grain: str, by: str) -> pd.DataFrame:
    """Requests received and completed per week or month, by type or (erasure) jurisdiction."""
    _check(grain, by)
    return erasure_figures(tables, params).requests_over_time(grain, by)


def backlog(tables: Tables, params: Params, grain: str) -> pd.DataFrame:
    """Erasure requests open, and overdue, at the end of each week or month (capped at D)."""
    _check(grain, "type")
    return erasure_figures(tables, params).backlog_by(grain)


def due_status(
    tables: Tables, params: Params, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> pd.DataFrame:
    """Open erasure requests at D per jurisdiction: overdue, due within the horizon, later."""
    return erasure_figures(tables, params, horizon_days).due_status()


def on_time_by_jurisdiction(tables: Tables, params: Params) -> pd.DataFrame:
    """Completed erasure requests per jurisdiction with on-time rate and median days."""
    return erasure_figures(tables, params).on_time()


def trend_reading(tables: Tables, params: Params) -> str:
    """One or two plain sentences on the erasure trend, from published figures only."""
    return erasure_figures(tables, params).trend
