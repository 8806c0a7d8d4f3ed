"""The disclosure audit (spec section 5, "Nothing small is derivable").

Suppression decides what a response withholds; this module checks the result the way an
attacker would read it. A `Release` is what one response publishes, as counts with their
relations: breakdowns that add up to a total, stages nested in one another, rates published
over a denominator, and counts that are never shown but exist (the cells inside a two-way
table whose margins are shown, the on-time requests behind an on-time rate). `audit` finds,
with a linear programme over non-negative values (HiGHS, through SciPy), the smallest and
largest value each withheld count and each natural sub-count can take given everything
published; a withheld count whose range is narrower than k - 1, or a sub-count of 1 to k - 1
pinned that narrowly, is a finding.

This is the method of statistical offices' audits of suppressed tables (tau-Argus, sdcTable):
the linear relaxation, which gives every unknown at least the range an integer attacker has,
so a release it passes is safe from these relations; one it fails is a real leak only where
an integer solution reaches the bound, which is always the case for the sums and nestings
here.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

Key = Hashable
Expr = Mapping[Key, float]  # a linear combination of counts: key -> coefficient


@dataclass(frozen=True)
class Ratio:
    """A published `value` = numerator / denominator, exact to within `tolerance` (half the
    last unit shown: 0.0005 for a rate shown as 12.3%; tiny for a full-precision float)."""

    numerator: Key
    denominator: Key
    value: float
    tolerance: float = 1e-9


@dataclass(frozen=True)
class Finding:
    """A count that can be worked out too closely: `what` lies in [low, high]."""

    what: Key
    low: float
    high: float
    kind: str  # "withheld" or "sub-count"
    part: int = field(default=0, compare=False)  # findings of different parts are independent

    def __str__(self) -> str:
        high = "unbounded" if math.isinf(self.high) else f"{self.high:g}"
        return f"{self.kind} {self.what!r} lies between {self.low:g} and {high}"


@dataclass
class Release:
    """What one response publishes, and the relations a reader knows between its counts.

    `published` holds the counts shown; `withheld` the counts registered but not shown;
    `latent` counts that are never shown but that the relations mention. Every key a relation
    names must be in one of the three.
    """

    k: int
    published: dict[Key, int] = field(default_factory=dict)
    withheld: set[Key] = field(default_factory=set)
    latent: set[Key] = field(default_factory=set)
    sums: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)
    nested: list[tuple[Key, Key]] = field(default_factory=list)  # (smaller, larger)
    ratios: list[Ratio] = field(default_factory=list)
    subcounts: dict[Key, Expr] = field(default_factory=dict)

    def count(self, key: Key, value: int | None) -> None:
        """A count as published: None when withheld."""
        if value is None:
            self.withheld.add(key)
        else:
            self.published[key] = int(value)

    def total(self, total: Key, members: Iterable[Key]) -> None:
        """`members` add up to `total`."""
        self.sums.append((total, tuple(members)))

    def same(self, a: Key, b: Key) -> None:
        """One figure under two names."""
        self.sums.append((a, (b,)))

    def within(self, smaller: Key, larger: Key, difference: Key | None = None) -> None:
        """`smaller` counts a subset of `larger`'s people; `difference`, if named, is the
        natural sub-count of those in `larger` but not in `smaller`."""
        self.nested.append((smaller, larger))
        if difference is not None:
            self.subcounts[difference] = {larger: 1.0, smaller: -1.0}

    def keys(self) -> set[Key]:
        return set(self.published) | self.withheld | self.latent


def audit(release: Release) -> list[Finding]:
    """Every withheld count whose range is narrower than k - 1, and every sub-count that can
    be pinned within such a range around a value from 1 to k - 1.

    Published counts are constants, so the programme falls apart into independent parts, one
    per group of unknowns that relations tie together; each is solved on its own, and each
    finding names its part (`Finding.part`)."""
    if release.k <= 1:
        return []
    width = release.k - 1
    withheld, subcounts = [], []
    for number, (name, expr) in enumerate(release.subcounts.items()):
        if all(key in release.published for key in expr):
            value = sum(c * release.published[key] for key, c in expr.items())
            if 1 - 1e-6 <= value <= width + 1e-6:
                # Known outright: a part of its own (numbered below zero).
                subcounts.append(Finding(name, value, value, "sub-count", part=-1 - number))
    for number, part in enumerate(_parts(release)):
        problem = _OneSum(part) if _OneSum.fits(part) else _Problem(part)
        keys = sorted(part.withheld, key=repr)
        names = list(part.subcounts)
        exprs = [{key: 1.0} for key in keys] + list(part.subcounts.values())
        ranges = problem.narrow_all(exprs, width)
        for key, narrow in zip(keys, ranges[: len(keys)], strict=True):
            if narrow is not None:
                withheld.append(Finding(key, *narrow, "withheld", part=number))
        for name, narrow in zip(names, ranges[len(keys) :], strict=True):
            if narrow is not None and narrow[1] >= 1 - 1e-6 and narrow[0] <= width + 1e-6:
                subcounts.append(Finding(name, *narrow, "sub-count", part=number))
    return sorted(withheld, key=lambda f: repr(f.what)) + subcounts


def _parts(release: Release) -> list[Release]:
    """The release split into independent programmes: unknowns (withheld or latent counts)
    tied by a relation share a part; a part holds its relations, the published counts they
    name, and the withheld counts and sub-counts among its unknowns."""
    unknown = release.withheld | release.latent
    parent: dict[Key, Key] = {key: key for key in unknown}

    def root(key: Key) -> Key:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    relations: list[tuple[str, object, tuple[Key, ...]]] = []
    for total, members in release.sums:
        relations.append(("sum", (total, members), (total, *members)))
    for smaller, larger in release.nested:
        relations.append(("nested", (smaller, larger), (smaller, larger)))
    for ratio in release.ratios:
        relations.append(("ratio", ratio, (ratio.numerator, ratio.denominator)))
    for name, expr in release.subcounts.items():
        relations.append(("subcount", (name, expr), tuple(expr)))
    for _, _, keys in relations:
        tied = [key for key in keys if key in unknown]
        for key in tied[1:]:
            parent[root(key)] = root(tied[0])
    parts: dict[Key, Release] = {}
    for kind, relation, keys in relations:
        tied = [key for key in keys if key in unknown]
        if not tied:
            continue
        part = parts.setdefault(root(tied[0]), Release(release.k))
        for key in keys:
            if key in release.published:
                part.published[key] = release.published[key]
            elif key in release.withheld:
                part.withheld.add(key)
            else:
                part.latent.add(key)
        if kind == "sum":
            part.sums.append(relation)
        elif kind == "nested":
            part.nested.append(relation)
        elif kind == "ratio":
            part.ratios.append(relation)
        else:
            name, expr = relation
            part.subcounts[name] = expr
    # A withheld count in no relation is a part of its own: anything from 0 up.
    related = set().union(*(part.withheld for part in parts.values()))
    for key in release.withheld - related:
        parts[key] = Release(release.k, withheld={key})
    return list(parts.values())


def interval(release: Release, expr: Expr) -> tuple[float, float]:
    """The smallest and largest value of `expr` consistent with the release."""
    return _Problem(release).range(expr)


class _OneSum:
    """A part made of one breakdown and nothing else, the common case, solved in closed form:
    with its total published, each of its withheld members lies between 0 and what the
    published members leave (exactly that when it is the only one); with its total withheld
    too, the total has no largest value and each member no bound but 0."""

    @staticmethod
    def fits(part: Release) -> bool:
        if part.nested or part.ratios or part.subcounts or part.latent or len(part.sums) != 1:
            return False
        total, members = part.sums[0]
        return len(set(members)) == len(members) and total not in members

    def __init__(self, part: Release) -> None:
        total, members = part.sums[0]
        unknown = [m for m in members if m not in part.published]
        if total in part.published:
            rest = part.published[total] - sum(
                part.published[m] for m in members if m in part.published
            )
            self.bounds = {m: (0.0, float(rest)) for m in unknown}
            if len(unknown) == 1:
                self.bounds[unknown[0]] = (float(rest), float(rest))
        else:
            shown = sum(part.published[m] for m in members if m in part.published)
            self.bounds = {m: (0.0, math.inf) for m in unknown}
            self.bounds[total] = (float(shown), math.inf if unknown else float(shown))

    def range(self, expr: Expr) -> tuple[float, float]:
        [(key, coefficient)] = expr.items()  # only withheld counts are asked for here
        low, high = self.bounds[key]
        return (low, high) if coefficient > 0 else (-high, -low)

    def narrow_all(self, exprs: list[Expr], width: float) -> list[tuple[float, float] | None]:
        narrow = []
        for expr in exprs:
            low, high = self.range(expr)
            narrow.append((low, high) if high - low < width - 1e-6 else None)
        return narrow


class _Problem:
    """The release as a linear programme: one non-negative variable per count, published
    counts fixed at their value."""

    def __init__(self, release: Release) -> None:
        keys = sorted(release.keys(), key=repr)
        self.index = {key: i for i, key in enumerate(keys)}
        n = len(keys)
        for total, members in release.sums:
            self._known(total, *members)
        for smaller, larger in release.nested:
            self._known(smaller, larger)
        eq_rows: list[dict[int, float]] = []
        for total, members in release.sums:
            row: dict[int, float] = {self.index[total]: 1.0}
            for member in members:
                i = self.index[member]
                row[i] = row.get(i, 0.0) - 1.0
            eq_rows.append(row)
        ub_rows: list[dict[int, float]] = []
        ub_rhs: list[float] = []
        for smaller, larger in release.nested:
            ub_rows.append({self.index[smaller]: 1.0, self.index[larger]: -1.0})
            ub_rhs.append(0.0)
        for ratio in release.ratios:
            self._known(ratio.numerator, ratio.denominator)
            num, den = self.index[ratio.numerator], self.index[ratio.denominator]
            high, low = ratio.value + ratio.tolerance, ratio.value - ratio.tolerance
            if num == den:
                continue
            # numerator <= high * denominator and numerator >= low * denominator
            ub_rows.append({num: 1.0, den: -high})
            ub_rhs.append(0.0)
            ub_rows.append({num: -1.0, den: low})
            ub_rhs.append(0.0)
        self.a_eq = _matrix(eq_rows, n)
        self.b_eq = np.zeros(len(eq_rows)) if eq_rows else None
        self.a_ub = _matrix(ub_rows, n)
        self.b_ub = np.array(ub_rhs) if ub_rows else None
        self.bounds = [(0.0, None)] * n
        for key, value in release.published.items():
            self.bounds[self.index[key]] = (float(value), float(value))
        self.n = n
        # Every solution found so far: values the counts can take together. A count seen
        # at values k - 1 apart is wide enough without solving for its own extremes.
        self.points: list[np.ndarray] = []

    def _known(self, *keys: Key) -> None:
        for key in keys:
            if key not in self.index:
                raise KeyError(f"a relation names {key!r}, which the release does not hold")

    def _objective(self, expr: Expr) -> np.ndarray:
        self._known(*expr)
        c = np.zeros(self.n)
        for key, coefficient in expr.items():
            c[self.index[key]] += coefficient
        return c

    def range(self, expr: Expr) -> tuple[float, float]:
        c = self._objective(expr)
        return self._solve(c), -self._solve(-c)

    def narrow_all(self, exprs: list[Expr], width: float) -> list[tuple[float, float] | None]:
        """The range of each of `exprs` that is narrower than `width` (None for the others).

        Most are settled together: the smallest and the largest sum of those not yet seen
        `width` apart give two far-apart solutions, and every solution is a set of values
        the counts can take together. What is left is solved one at a time."""
        if not exprs:
            return []
        objectives = np.array([self._objective(expr) for expr in exprs])
        # Capped, so that the largest sum exists: a point of the capped region is a point of
        # the whole one (and a cap that leaves no point only loses a witness).
        cap = 2.0 * max((high or 0.0 for _, high in self.bounds), default=0.0) + 1.0
        capped = [(low, cap if high is None else high) for low, high in self.bounds]
        open_ = self._spreads(objectives) < width - 1e-6
        rng = np.random.default_rng(0)  # seeded: the audit is repeatable
        stalled = 0
        # Mixes only pay where many are left: each costs two solves.
        while open_.any() and stalled < (3 if open_.sum() > 16 else 1):
            # Their plain sum first, then random mixes of them (other corners).
            weights = np.ones(int(open_.sum())) if stalled == 0 else rng.random(int(open_.sum()))
            together = weights @ objectives[open_]
            self._solve(together, capped)
            self._solve(-together, capped)
            still = self._spreads(objectives) < width - 1e-6
            stalled = stalled + 1 if still.sum() >= open_.sum() else 0
            open_ = still
        narrow: list[tuple[float, float] | None] = []
        for c, unsettled in zip(objectives, open_, strict=True):
            if not unsettled or self._spreads(c[None, :])[0] >= width - 1e-6:
                narrow.append(None)
                continue
            low = self._solve(c)
            if self._spreads(c[None, :])[0] >= width - 1e-6:
                narrow.append(None)
                continue
            high = -self._solve(-c)
            narrow.append((low, high) if high - low < width - 1e-6 else None)
        return narrow

    def _spreads(self, objectives: np.ndarray) -> np.ndarray:
        if not self.points:
            return np.zeros(len(objectives))
        values = np.asarray(self.points) @ objectives.T
        return values.max(axis=0) - values.min(axis=0)

    def _solve(self, c: np.ndarray, bounds: list | None = None) -> float:
        # SciPy (0.2-0.4 s to import) only when a programme is solved: most responses
        # withhold nothing a closed form does not settle.
        from scipy.optimize import linprog

        result = linprog(
            c,
            A_ub=self.a_ub,
            b_ub=self.b_ub,
            A_eq=self.a_eq,
            b_eq=self.b_eq,
            bounds=self.bounds if bounds is None else bounds,
            method="highs",
        )
        if result.status == 3:  # unbounded: the count has no largest value
            return -math.inf
        if result.status != 0:
            if bounds is not None:
                return math.nan
            raise ValueError(f"the release's relations contradict its figures: {result.message}")
        self.points.append(result.x)
        return float(result.fun)


def _matrix(rows: list[dict[int, float]], n: int):
    """The rows as a SciPy sparse matrix (None for no rows)."""
    if not rows:
        return None
    from scipy.sparse import csr_matrix

    data, cols, ptr = [], [], [0]
    for row in rows:
        for col, value in row.items():
            if value:
                cols.append(col)
                data.append(value)
        ptr.append(len(cols))
    return csr_matrix((data, cols, ptr), shape=(len(rows), n))


# The metrics JSON (spec section 6) as a release: every count under its JSON path, null
# when withheld, with the relations spec section 5 lists between them.

STATES = ("granted", "denied", "withdrawn", "no_decision")
STAGES = ("customers", "engaged", "intent", "converted")


def metrics_release(doc: Mapping) -> Release:
    """What one `consentlens metrics` JSON publishes, and the relations a reader knows."""
    release = Release(int(doc["min_cell"]))
    count = release.count
    count("customers", doc["customers"])

    classes = list(doc["ymn"])
    for cls in classes:
        count(f"ymn.{cls}", doc["ymn"][cls])
    release.total("customers", [f"ymn.{cls}" for cls in classes])

    for purpose, states in doc["consent"].items():
        keys = {state: f"consent.{purpose}.{state}" for state in STATES}
        for state, key in keys.items():
            count(key, states[state])
        release.total("customers", list(keys.values()))
        decided = f"consent.{purpose}.decided"
        release.latent.add(decided)
        release.total(decided, [keys["granted"], keys["denied"], keys["withdrawn"]])
        release.subcounts[f"consent.{purpose}.decided_not_granted"] = {
            keys["denied"]: 1.0,
            keys["withdrawn"]: 1.0,
        }
        if states.get("opt_in_rate") is not None:
            release.ratios.append(Ratio(keys["granted"], decided, states["opt_in_rate"]))

    for purpose, segments in doc["opted_in_by_segment"].items():
        keys = [f"opted_in_by_segment.{purpose}.{segment}" for segment in segments]
        for key, value in zip(keys, segments.values(), strict=True):
            count(key, value)
        release.total(f"consent.{purpose}.granted", keys)

    for cls, stages in doc["funnel"].items():
        for stage in STAGES:
            count(f"funnel.{cls}.{stage}", stages[stage])
        release.same(f"funnel.{cls}.customers", f"ymn.{cls}")
        for smaller, larger in zip(STAGES[1:], STAGES[:-1], strict=True):
            release.within(
                f"funnel.{cls}.{smaller}",
                f"funnel.{cls}.{larger}",
                difference=f"funnel.{cls}.{larger}_not_{smaller}",
            )
    for cls, figures in doc["conversion"].items():
        customers, converters = f"conversion.{cls}.customers", f"conversion.{cls}.converters"
        count(customers, figures["customers"])
        count(converters, figures["converters"])
        release.same(customers, f"ymn.{cls}")
        release.same(converters, f"funnel.{cls}.converted")
        if figures.get("rate") is not None:
            release.ratios.append(Ratio(converters, customers, figures["rate"]))

    _erasure(release, doc["erasure"])
    for request_type, value in doc["requests_by_type"].items():
        key = f"requests_by_type.{request_type}"
        count(key, value)
        if request_type == "erasure":
            release.same(key, "erasure.received")
    return release


def _erasure(release: Release, erasure: Mapping) -> None:
    count = release.count
    for figure in ("received", "completed", "open", "overdue"):
        count(f"erasure.{figure}", erasure[figure])
    release.within("erasure.overdue", "erasure.open")
    on_time = "erasure.on_time"
    release.latent.add(on_time)
    release.within(on_time, "erasure.completed", difference="erasure.late")
    if erasure.get("on_time_rate") is not None:
        release.ratios.append(Ratio(on_time, "erasure.completed", erasure["on_time_rate"]))

    jurisdictions = list(erasure["by_jurisdiction"])
    months = [row["month"] for row in erasure["monthly"]]
    for figure in ("received", "completed", "overdue"):
        rows = [f"erasure.by_jurisdiction.{j}.{figure}" for j in jurisdictions]
        for j, key in zip(jurisdictions, rows, strict=True):
            count(key, erasure["by_jurisdiction"][j][figure])
        if figure != "received":
            # Only jurisdictions with a request received in the period are listed; completed
            # and overdue also count older requests, from jurisdictions that may not be.
            rest = f"erasure.by_jurisdiction.*.{figure}"
            release.latent.add(rest)
            rows.append(rest)
        release.total(f"erasure.{figure}", rows)
        if figure == "overdue":
            continue
        columns = [f"erasure.monthly.{month}.{figure}" for month in months]
        for row, key in zip(erasure["monthly"], columns, strict=True):
            count(key, row[figure])
        release.total(f"erasure.{figure}", columns)
        # The jurisdiction x month table whose two margins these are: never published, but
        # its cells exist and are never negative.
        for row_key in rows:
            inner = [f"{row_key}@{month}" for month in months]
            release.latent.update(inner)
            release.total(row_key, inner)
        for month, column_key in zip(months, columns, strict=True):
            release.total(column_key, [f"{row_key}@{month}" for row_key in rows])
