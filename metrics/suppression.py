"""Small-cell suppression (spec section 5): the one place counts and rates are published."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

Key = Hashable


def publishable(n: int, k: int) -> bool:
    """Primary rule: a count is published when it is 0 or at least k."""
    return n == 0 or n >= k


@dataclass
class Cells:
    """Counts keyed by figure, the breakdowns that add up to totals, and what is suppressed.

    A figure has one key wherever it appears, so it is published the same way everywhere.
    """

    k: int
    values: dict[Key, int] = field(default_factory=dict)
    breakdowns: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)
    _suppressed: set[Key] | None = None

    def add(self, key: Key, value: int) -> None:
        """Register a count under its figure key."""
        if key in self.values and self.values[key] != value:
            raise ValueError(f"figure {key!r} registered twice with different values")
        self.values[key] = int(value)
        self._suppressed = None

    def breakdown(self, total: Key, members: Sequence[Key]) -> None:
        """Declare that `members` add up to `total` (complementary suppression applies)."""
        self.breakdowns.append((total, tuple(members)))
        self._suppressed = None

    @property
    def suppressed(self) -> set[Key]:
        """Keys whose values are withheld: primary, then complementary to a fixed point."""
        if self._suppressed is None:
            self._suppressed = self._resolve()
        return self._suppressed

    def _resolve(self) -> set[Key]:
        hidden = {key for key, n in self.values.items() if not publishable(n, self.k)}
        changed = True
        # A suppression made for one breakdown can leave another with a single hidden member,
        # so repeat until every published total has zero or at least two hidden members.
        while changed:
            changed = False
            for total, members in self.breakdowns:
                if total in hidden:
                    continue
                if sum(m in hidden for m in members) != 1:
                    continue
                others = [m for m in members if m not in hidden and self.values[m] > 0]
                if others:
                    # Smallest first; on a tie, the member listed first.
                    hidden.add(min(others, key=lambda m: self.values[m]))
                else:
                    hidden.add(total)
                changed = True
        return hidden

    def count(self, key: Key) -> int | None:
        """The published count, or None when suppressed."""
        return None if key in self.suppressed else self.values[key]

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
