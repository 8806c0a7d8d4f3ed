"""Parameters every metric takes: as-of date, period, minimum cell size, marketing purposes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from data.storage.schema import DEFAULT_MARKETING_PURPOSES

DEFAULT_MIN_CELL = 11
MIN_CELL_ENV = "CONSENTLENS_MIN_CELL"


def default_min_cell() -> int:
    """The deployment's minimum cell size k: $CONSENTLENS_MIN_CELL, else 11."""
    try:
        return max(1, int(os.environ.get(MIN_CELL_ENV, DEFAULT_MIN_CELL)))
    except ValueError:
        return DEFAULT_MIN_CELL


class ParamsError(ValueError):
    """Parameters that contradict each other or the spec."""


@dataclass(frozen=True)
class Filters:
    """Restrict every figure to customers with these attributes (empty means everyone).

    Privacy requests follow their customer; a jurisdiction filter matches a request's own
    jurisdiction (else its customer's), so erased people's requests still count under it.
    """

    jurisdictions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()

    @property
    def by_customer(self) -> bool:
        """Whether any filter needs the customer's own attributes."""
        return bool(self.countries or self.channels or self.segments)

    def __bool__(self) -> bool:
        return bool(self.jurisdictions) or self.by_customer


@dataclass(frozen=True)
class Params:
    """As-of date D, period [start, end] (inclusive), minimum cell size k, purposes M,
    filters, whether published counts are perturbed, and the currency revenue is counted in."""

    as_of: date
    start: date
    end: date
    min_cell: int = DEFAULT_MIN_CELL
    marketing_purposes: tuple[str, ...] = field(default=DEFAULT_MARKETING_PURPOSES)
    filters: Filters = field(default_factory=Filters)
    # Counts carry consistent cell-key noise (metrics.perturbation): for people without
    # access to person-level data. The command line and privacy officers see exact counts.
    perturbed: bool = False
    # Revenue of orders in this currency only (an ISO code), for stores whose orders mix
    # currencies, where one sum would add euros to dollars. None counts every order, as the
    # spec defines revenue; who converted never depends on it.
    currency: str | None = None

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
    filters: Filters | None = None,
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
    return Params(d, start, end, min_cell, tuple(p for p in purposes if p), filters or Filters())


def previous_period(p: Params) -> Params:
    """The period of equal length just before p's, as of its last day."""
    length = p.end - p.start
    end = p.start - timedelta(days=1)
    return replace(p, as_of=end, start=end - length, end=end)
