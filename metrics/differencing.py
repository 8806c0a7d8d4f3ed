"""The differencing attack (spec section 5, "Differencing across views"), scripted: the check
that the tests and `make bench` run against the cell-key noise of metrics/perturbation.py.

For every country, segment and channel: everyone minus everyone but that group; for each of
the last twelve months: the period up to it minus the period up to the month before. Each
difference is read as the group's (or the month's) count, for every small count (1 to k - 1)
that exact figures give away this way; the guess is the difference clipped to 1..k - 1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from metrics.params import Filters, Params, resolve_params
from metrics.report import compute
from metrics.rules import Tables
from metrics.suppression import Key

DIMENSIONS = {"countries": "country", "segments": "segment", "channels": "acquisition_channel"}


@dataclass(frozen=True)
class Outcome:
    """The attack's targets (true small counts) and guesses, pair by pair."""

    k: int
    found: tuple[tuple[int, int], ...]  # (true count, guess from perturbed figures)

    @property
    def hits(self) -> int:
        """Small counts the attack recovers exactly."""
        return sum(n == guess for n, guess in self.found)

    @property
    def commonest(self) -> int:
        """What always guessing the commonest small count gets: chance, with no figure."""
        counts = Counter(n for n, _ in self.found)
        return counts.most_common(1)[0][1] if counts else 0


def views(tables: Tables, span: tuple) -> list[tuple[Params, Params, Params]]:
    """(the whole, the whole but one part, that part alone) for every pair the attack reads."""
    base = resolve_params(span)
    c = tables.customers
    out = []
    for dimension, column in DIMENSIONS.items():
        found = c[column].name("v").as_table().distinct().to_pyarrow()["v"].to_pylist()
        found = sorted(v for v in found if v is not None)
        for one in found:
            rest = Filters(**{dimension: tuple(v for v in found if v != one)})
            alone = Filters(**{dimension: (one,)})
            out.append((base, replace(base, filters=rest), replace(base, filters=alone)))
    month = date(base.end.year - 1, base.end.month, 1)
    while True:
        nxt = month + relativedelta(months=1)
        up_to = resolve_params(span, start=base.start, end=nxt + timedelta(days=27))
        if up_to.end > base.end:
            break
        before = resolve_params(span, start=base.start, end=nxt - timedelta(days=1))
        alone = resolve_params(span, start=nxt, end=nxt + timedelta(days=27))
        out.append((up_to, before, alone))
        month = nxt
    return out


def attack(tables: Tables, span: tuple, k: int) -> Outcome:
    """Run the attack on the tables (perturbed under the current noise key)."""
    memo: dict[Params, tuple[dict[Key, int], dict[Key, int | None]]] = {}

    def figures(params: Params) -> tuple[dict[Key, int], dict[Key, int | None]]:
        if params not in memo:
            cells = compute(tables, params).cells
            memo[params] = (dict(cells.values), {key: cells.count(key) for key in cells.values})
        return memo[params]

    found = []
    for whole, rest, alone in views(tables, span):
        whole, rest, alone = (replace(p, min_cell=k) for p in (whole, rest, alone))
        truth = figures(alone)[0]
        exact = figures(whole)[1], figures(rest)[1]
        noisy_whole, noisy_rest = (figures(replace(p, perturbed=True))[1] for p in (whole, rest))
        for key, n in truth.items():
            if not 1 <= n < k:
                continue
            a, b = exact[0].get(key), exact[1].get(key)
            if a is None or b is None or a - b != n:
                continue  # not a count exact figures give away by this difference
            a, b = noisy_whole.get(key), noisy_rest.get(key)
            if a is None or b is None:
                raise AssertionError(f"{key!r} withheld in one mode only")
            found.append((n, min(max(a - b, 1), k - 1)))
    return Outcome(k, tuple(found))
