"""Parameters every metric takes: as-of date, period, minimum cell size, marketing purposes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from data.schema import DEFAULT_MARKETING_PURPOSES

DEFAULT_MIN_CELL = 11


class ParamsError(ValueError):
    """Parameters that contradict each other or the spec."""


@dataclass(frozen=True)
class Params:
    """As-of date D, period [start, end] (inclusive), minimum cell size k, purposes M."""

    as_of: date
    start: date
    end: date
    min_cell: int = DEFAULT_MIN_CELL
    marketing_purposes: tuple[str, ...] = field(default=DEFAULT_MARKETING_PURPOSES)

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ParamsError(f"start {self.start} is after end {self.end}")
        if self.min_cell < 1:
            raise ParamsError("the minimum cell size must be at least 1")
        if not self.marketing_purposes:
            raise ParamsError("at least one marketing purpose is needed")


def _as_date(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def resolve_params(
    data_range: tuple[date | datetime | None, date | datetime | None],
    *,
    as_of: date | None = None,
    start: date | None = None,
    end: date | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
    marketing_purposes: tuple[str, ...] | None = None,
) -> Params:
    """Fill the defaults of spec section 4 from the store's earliest and latest dates.

    end = D = the latest date in the store, start = the earliest. `end` sets D too;
    `as_of` sets D and, unless `end` is also given, end.
    """
    first, last = (_as_date(d) for d in data_range)
    today = datetime.now(UTC).date()
    if as_of is not None:
        d = as_of
        end = end or as_of
    elif end is not None:
        d = end
    else:
        d = end = last or today
    # An as-of date before the first data keeps the period non-empty: it starts on D.
    start = start or (min(first, end) if first else end)
    purposes = tuple(p.strip().lower() for p in marketing_purposes or DEFAULT_MARKETING_PURPOSES)
    return Params(d, start, end, min_cell, tuple(p for p in purposes if p))
