"""Small-cell suppression (spec section 5): the one place counts and rates are published."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from metrics import perturbation

if TYPE_CHECKING:
    from metrics.disclosure import Release

Key = Hashable
Breakdown = tuple[Key, tuple[Key, ...]]


# What a withheld value shows on screen and in downloads (spec section 5): one neutral marker
# whatever the reason, so that it reveals nothing; never "<k", which a value withheld to
# protect another one (possibly large) would make false.
WITHHELD = "withheld"


def withheld_note(k: int) -> str:
    """What the marker means, in the words pages and downloads use."""
    return f'"{WITHHELD}": fewer than {k} people, or would let such a count be worked out'


def is_withheld(value: Any) -> bool:
    """Whether a figure is withheld: None as published, or the missing value (NaN, pd.NA,
    NaT) it becomes in a table's column."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def formatted(value: Any, fmt: Callable[[Any], str] | str) -> str:
    """A figure as shown: the withheld marker when it is withheld, else the figure formatted
    with `fmt`, a format string ("{:,}") or a function."""
    if is_withheld(value):
        return WITHHELD
    return fmt.format(value) if isinstance(fmt, str) else fmt(value)


# Whether suppression ends with the disclosure audit (always, but for `make bench`, which
# counts what the audit adds to the spec's complementary rule).
_AUDITED: ContextVar[bool] = ContextVar("audited", default=True)


@contextmanager
def complementary_rule_only() -> Iterator[None]:
    """Within the block, suppression stops at the spec's complementary rule: no audit. For
    measuring what the audit withholds, never for publishing."""
    token = _AUDITED.set(False)
    try:
        yield
    finally:
        _AUDITED.reset(token)


# Every Cells resolved within `recording()`, for the tests that audit a page's figures whole.
_RECORDED: ContextVar[list[Cells] | None] = ContextVar("recorded", default=None)


@contextmanager
def recording() -> Iterator[list[Cells]]:
    """Within the block, every Cells whose suppression is resolved is listed (in order)."""
    seen: list[Cells] = []
    token = _RECORDED.set(seen)
    try:
        yield seen
    finally:
        _RECORDED.reset(token)


def publishable(n: int, k: int) -> bool:
    """Primary rule: a count is published when it is 0 or at least k."""
    return n == 0 or n >= k


@dataclass
class Cells:
    """Counts keyed by figure, the breakdowns that add up to totals, and what is suppressed.

    A figure has one key wherever it appears, so it is published the same way everywhere.

    With the defaults this is the spec's rule (the metrics JSON): primary suppression, then,
    where a published total has exactly one withheld member, its smallest other non-zero
    member (the first listed on a tie) or else the total, to a fixed point. Several withheld
    members count as one where what they leave of the total is below k - 1: each of them
    would lie between 0 and that remainder ("nothing small is derivable"; withheld members
    adding up to 0 are each 0). `metrics.disclosure` audits the result.

    Two additions serve figures published beside the metrics JSON:

    - `close_withheld_totals=True`: a total withheld (for any reason) whose members are all
      published would be their sum; then its smallest non-zero member is withheld too. Rounds
      of the spec's rule to a fixed point alternate with rounds of this one until neither
      withholds anything more.
    - `pin(key)` (and `adopt`, which pins another Cells' figures at the status it gives
      them): the figure's status is settled elsewhere, so it is withheld here only when it is
      primary or forced with `withhold`, never as a complement. Where a rule would pick a
      pinned figure it picks the next candidate: the smallest non-zero member that is not
      pinned, then (for a published total) the total when it is not pinned. A breakdown made
      only of pinned figures is settled where they come from and is left alone.

    Pinning can leave a breakdown with no candidate (every other figure pinned or zero).
    Then, in this order:

    1. a zero member that is not pinned is withheld (the first listed), so the withheld
       figure is one of two unknowns; only where that leaves a wide enough remainder (a
       withheld total, or a lone withheld member of at least k - 1).
    2. failing that, the lone withheld figure, when it was withheld only as a complement (not
       primary, pinned or forced), is published after all and everything is resolved again:
       every other figure of the breakdown is published, so it could be worked out anyway.
    3. failing that (a primary or pinned figure that the pinned figures give away), nothing
       can be done here: the breakdown is listed in `unprotected`.

    Neither addition ever applies with the defaults (nothing pinned, no zero withheld).
    """

    k: int
    values: dict[Key, int] = field(default_factory=dict)
    breakdowns: list[Breakdown] = field(default_factory=list)
    close_withheld_totals: bool = field(default=False, kw_only=True)
    pinned: set[Key] = field(default_factory=set, kw_only=True)
    forced: set[Key] = field(default_factory=set, kw_only=True)
    nested: list[tuple[Key, Key]] = field(default_factory=list, kw_only=True)
    parts_of: dict[Key, tuple[Key, ...]] = field(default_factory=dict, kw_only=True)
    # Perturbed: published counts carry their cell's noise (metrics.perturbation), drawn
    # from `cell_keys` under the secret of the read that made them.
    perturbed: bool = field(default=False, kw_only=True)
    cell_keys: dict[Key, int] = field(default_factory=dict, kw_only=True)
    _secret: bytes = field(default_factory=perturbation.current_secret, init=False, repr=False)
    _suppressed: set[Key] | None = field(default=None, init=False, repr=False)
    _audited: set[Key] = field(default_factory=set, init=False, repr=False)
    _audit: bool = field(default_factory=_AUDITED.get, init=False, repr=False)
    _unprotected: list[Breakdown] = field(default_factory=list, init=False, repr=False)
    _declared: set[Breakdown] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self._declared = set(self.breakdowns)

    def add(self, key: Key, value: int, cell_key: int | None = None) -> None:
        """Register a count under its figure key, with the key of its cell (the sum of its
        records' keys) where counts are perturbed."""
        if key in self.values and self.values[key] != value:
            raise ValueError(f"figure {key!r} registered twice with different values")
        self.values[key] = int(value)
        if cell_key is not None:
            self.cell_keys[key] = perturbation.cell_key(cell_key)
        self._suppressed = None

    def add_sum(self, key: Key, members: Sequence[Key]) -> None:
        """Register a count that is the sum of disjoint registered ones (its cell key too)."""
        self.add(
            key,
            sum(self.values[m] for m in members),
            sum(self._cell_key(m) for m in members) if self._keyed(members) else None,
        )

    def add_rest(self, key: Key, whole: Key, parts: Sequence[Key]) -> None:
        """Register the count of `whole`'s people in none of `parts` (disjoint subsets of
        them): the late of the completed, the undecided of the customers."""
        keyed = self._keyed((whole, *parts))
        self.add(
            key,
            self.values[whole] - sum(self.values[m] for m in parts),
            self._cell_key(whole) - sum(self._cell_key(m) for m in parts) if keyed else None,
        )

    def _keyed(self, keys: Sequence[Key]) -> bool:
        return self.perturbed and all(k in self.cell_keys or not self.values[k] for k in keys)

    def _cell_key(self, key: Key) -> int:
        return self.cell_keys.get(key, 0)

    def breakdown(self, total: Key, members: Sequence[Key]) -> None:
        """Declare that `members` add up to `total` (complementary suppression applies)."""
        declared = (total, tuple(members))
        if declared not in self._declared:  # the same sum declared twice adds nothing
            self._declared.add(declared)
            self.breakdowns.append(declared)
            self._suppressed = None

    def within(self, smaller: Key, larger: Key) -> None:
        """Declare that `smaller` counts a subset of `larger`'s people (funnel stages): their
        difference is a count too, and never left small and exact."""
        self._registered(smaller)
        self._registered(larger)
        if (smaller, larger) not in self.nested:
            self.nested.append((smaller, larger))
            self._suppressed = None

    def subcount(self, name: Key, members: Sequence[Key]) -> None:
        """Declare a count never shown as such, the sum of `members` (decided but not granted
        = denied + withdrawn): never left small and exact either."""
        for key in members:
            self._registered(key)
        self.parts_of[name] = tuple(members)
        self._suppressed = None

    def withhold(self, key: Key) -> None:
        """Withhold a registered figure for a reason this Cells does not see."""
        self._registered(key)
        self.forced.add(key)
        self._suppressed = None

    def pin(self, key: Key) -> None:
        """Fix a registered figure's status from elsewhere: never withheld here as a complement
        (withheld only when primary or forced with `withhold`)."""
        self._registered(key)
        self.pinned.add(key)
        self._suppressed = None

    def adopt(self, other: Cells, rename: Callable[[Key], Key] | None = None) -> None:
        """Register every figure of `other` (under `rename(key)`), pinned at the status `other`
        gives it, so it is published here exactly as there."""
        hidden = other.suppressed
        for key, n in other.values.items():
            mine = rename(key) if rename else key
            self.add(mine, n, other.cell_keys.get(key))
            self.pin(mine)
            if key in hidden:
                self.withhold(mine)

    def _registered(self, key: Key) -> None:
        if key not in self.values:
            raise KeyError(f"figure {key!r} is not registered")

    @property
    def suppressed(self) -> set[Key]:
        """Keys whose values are withheld: primary, then complementary to a fixed point."""
        if self._suppressed is None:
            self._suppressed = self._resolve()
            if (seen := _RECORDED.get()) is not None:
                seen.append(self)
        return self._suppressed

    @property
    def unprotected(self) -> list[Breakdown]:
        """Breakdowns whose one withheld figure the pinned figures give away (see the class)."""
        _ = self.suppressed
        return list(self._unprotected)

    def _resolve(self) -> set[Key]:
        active = [
            (total, members)
            for total, members in self.breakdowns
            if not all(key in self.pinned for key in (total, *members))
        ]
        shown: set[Key] = set()
        self._audited = set()
        while True:
            hidden, stuck = self._settle(active, self.pinned | shown)
            # Step 2 of the fallback: a complement that the published figures give away anyway.
            extra = {key for key in stuck if self._complement_only(key)} - shown
            if extra:
                shown |= extra
                continue
            # What the rules above cannot see (chains of sums and nestings) the audit finds:
            # withhold more where it does, and settle again.
            picks = self._audit_picks(active, hidden, self.pinned | shown)
            if not picks:
                self._unprotected = [b for b in active if self._leaks(b, hidden)]
                return hidden
            self._audited |= picks

    def _audit_picks(self, active: list[Breakdown], hidden: set[Key], fixed: set[Key]) -> set[Key]:
        """Figures to withhold so that the audit (metrics.disclosure) finds less: for a
        finding, the smallest published non-zero figure around it. Findings around the same
        figures wait for the next round, since one figure often settles several."""
        if self.k <= 1 or not self._audit or not (hidden or self.nested or self.parts_of):
            return set()
        from metrics.disclosure import audit  # SciPy: loaded when first needed

        release = self._release(hidden, active)
        neighbours: dict[Key, set[Key]] = {}
        for related in [(total, *members) for total, members in active] + self.nested:
            for key in related:
                neighbours.setdefault(key, set()).update(related)
        picks: set[Key] = set()
        touched: set[Key] = set()  # around this round's picks: settled next round
        for finding in audit(release):
            if finding.kind == "sub-count":
                # The published figures it is made of, and those around its withheld ones.
                involved = set()
                for key in release.subcounts[finding.what]:
                    hidden_key = key in hidden
                    involved |= _boundary(key, neighbours, hidden) if hidden_key else {key}
            else:
                involved = _boundary(finding.what, neighbours, hidden)
            if involved & touched:
                continue
            candidates = [
                key
                for key in involved
                if key not in hidden and key not in fixed and self.values[key] > 0
            ]
            if candidates:
                picks.add(min(candidates, key=lambda key: (self.values[key], repr(key))))
                touched |= involved
        return picks

    def release(self) -> Release:
        """What these cells publish and withhold, with every relation between them (the
        breakdowns, pinned ones included, nestings and sub-counts): for the audit."""
        return self._release(self.suppressed, self.breakdowns)

    def _release(self, hidden: set[Key], breakdowns: Sequence[Breakdown]) -> Release:
        from metrics.disclosure import Release

        release = Release(self.k)
        for key, n in self.values.items():
            release.count(key, None if key in hidden else n)
        for total, members in breakdowns:
            release.total(total, members)
        for smaller, larger in self.nested:
            release.within(smaller, larger, difference=("not", smaller, larger))
        for name, members in self.parts_of.items():
            release.subcounts[name] = dict.fromkeys(members, 1.0)
        return release

    def _complement_only(self, key: Key) -> bool:
        return (
            key not in self.pinned
            and key not in self.forced
            and publishable(self.values[key], self.k)
        )

    def _settle(self, active: list[Breakdown], fixed: set[Key]) -> tuple[set[Key], set[Key]]:
        """Withheld keys with `fixed` never chosen as complements, and the lone withheld
        figures of breakdowns no complement could protect."""
        hidden = {key for key, n in self.values.items() if not publishable(n, self.k)}
        hidden |= self.forced | self._audited
        while True:
            # The spec's rule to a fixed point. A suppression made for one breakdown can leave
            # another with a single hidden member, hence the repetition.
            changed = True
            while changed:
                changed = False
                for b in active:
                    if b[0] not in hidden and self._leaks(b, hidden):
                        pick = self._complement(b, hidden, fixed)
                        if pick is not None:
                            hidden.add(pick)
                            changed = True
            if not self.close_withheld_totals:
                break
            closed = False
            for b in active:
                if b[0] in hidden and self._leaks(b, hidden):
                    pick = self._complement(b, hidden, fixed)
                    if pick is not None:
                        hidden.add(pick)
                        closed = True
            if not closed:
                break
        stuck = set()
        for b in active:
            if self._leaks(b, hidden):
                withheld = [key for key in (b[0], *b[1]) if key in hidden]
                if len(withheld) == 1:
                    stuck.add(withheld[0])
        return hidden, stuck

    def _leaks(self, breakdown: Breakdown, hidden: set[Key]) -> bool:
        """Whether a withheld figure of the breakdown follows from its published ones."""
        total, members = breakdown
        withheld = [m for m in members if m in hidden]
        if total in hidden:
            return self.close_withheld_totals and not withheld
        # Counts are never negative, so withheld members of a published total each lie
        # between 0 and what the published ones leave over: that remainder must be at least
        # k - 1 (withheld members adding up to 2 are each pinned between 0 and 2).
        return len(withheld) == 1 or (bool(withheld) and self._remainder(withheld) < self.k - 1)

    def _remainder(self, withheld: Sequence[Key]) -> int:
        return sum(self.values[m] for m in withheld)

    def _complement(self, breakdown: Breakdown, hidden: set[Key], fixed: set[Key]) -> Key | None:
        """The figure to withhold with a leaking breakdown, or None when none can be."""
        total, members = breakdown
        free = [m for m in members if m not in hidden and m not in fixed]
        others = [m for m in free if self.values[m] > 0]
        if others:
            # Smallest first; on a tie, the member listed first.
            return min(others, key=lambda m: self.values[m])
        if total not in hidden and total not in fixed:
            return total
        # A withheld zero helps only where the remainder is already wide enough: beside a
        # withheld total, or a lone withheld member of at least k - 1.
        withheld = [m for m in members if m in hidden]
        if free and (total in hidden or self._remainder(withheld) >= self.k - 1):
            return free[0]
        return None

    def count(self, key: Key) -> int | None:
        """The published count, or None when suppressed."""
        return None if key in self.suppressed else self.shown(key)

    def shown(self, key: Key) -> int:
        """The count as published when it is: perturbed where counts are (suppression is
        decided on the true counts, so what is withheld does not depend on who looks)."""
        n = self.values[key]
        if not self.perturbed or self.k <= 1 or n == 0:
            return n
        if key not in self.cell_keys:
            raise KeyError(f"figure {key!r} has no cell key, so it cannot be perturbed")
        return perturbation.perturb(n, self.cell_keys[key], self.k, self._secret)

    def derived(self, value: float | None, denominator: int, inputs: Sequence[Key]) -> float | None:
        """A rate, average, median or revenue: published only when every count in `inputs` is
        published and the denominator count is at least k (None for an empty denominator)."""
        if value is None or denominator == 0 or denominator < self.k:
            return None
        if any(key in self.suppressed for key in inputs):
            return None
        return float(value)

    def ratio(self, numerator: int, denominator: int, inputs: Sequence[Key]) -> float | None:
        """numerator / denominator under the rule of `derived`."""
        return self.derived(numerator / denominator if denominator else None, denominator, inputs)


def _boundary(key: Key, neighbours: dict[Key, set[Key]], hidden: set[Key]) -> set[Key]:
    """The published figures related to `key` or to the withheld figures it is related to,
    through withheld figures: what pins its range, and what withholding would widen it."""
    seen, todo, edge = {key}, [key], set()
    while todo:
        for other in neighbours.get(todo.pop(), ()):
            if other in seen:
                continue
            seen.add(other)
            if other in hidden:
                todo.append(other)
            else:
                edge.add(other)
    return edge
