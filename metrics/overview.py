"""Headline figures for the overview: each with its value for the previous period of equal
length, so a reader sees the direction of travel."""

from __future__ import annotations

from dataclasses import dataclass

from data.storage import schema
from metrics import figures as F
from metrics.params import Params, previous_period
from metrics.report import CUSTOMERS, Computed, compute, to_json
from metrics.rules import Tables


@dataclass(frozen=True)
class Tile:
    """One headline figure now and in the previous period (None when withheld)."""

    key: str
    label: str
    unit: str  # count, rate or money
    value: float | None
    previous: float | None
    metric: str  # registry name of the definition
    min_cell: int = 11

    @property
    def change(self) -> float | None:
        """Difference from the previous period, when both are published; for a count, only
        when the difference itself is 0 or at least k (it counts people too)."""
        if self.value is None or self.previous is None:
            return None
        difference = self.value - self.previous
        if self.unit == "count" and 0 < abs(difference) < self.min_cell:
            return None
        return difference


def _tiles(result: Computed) -> dict[str, tuple[str, str, float | None, str]]:
    figures = to_json(result)
    cells = result.cells
    out: dict[str, tuple[str, str, float | None, str]] = {
        "customers": ("Customers", "count", figures["customers"], "customers"),
    }
    for purpose in result.params.marketing_purposes:
        key = F.CONSENT(purpose, schema.GRANTED)
        share = (
            cells.ratio(cells.shown(key), cells.shown(CUSTOMERS), [key, CUSTOMERS])
            if key in cells.values
            else None
        )
        label = f"Opted in: {purpose.replace('_', ' ')}"
        out[f"opted_in_{purpose}"] = (label, "rate", share, "consent_state")
    for cls in schema.CLASSES:
        out[f"class_{cls}"] = (f"{cls.capitalize()} customers", "count", figures["ymn"][cls], "ymn")
    for cls in schema.CLASSES:
        rate = figures["conversion"][cls]["rate"]
        out[f"conversion_{cls}"] = (f"Conversion, {cls}", "rate", rate, "conversion_rate")
    for cls in schema.CLASSES:
        revenue = figures["conversion"][cls]["revenue"]
        out[f"revenue_{cls}"] = (f"Revenue, {cls}", "money", revenue, "revenue")
    erasure = figures["erasure"]
    out["erasure_open"] = ("Open erasure requests", "count", erasure["open"], "erasure_open")
    out["erasure_overdue"] = (
        "Overdue erasure requests",
        "count",
        erasure["overdue"],
        "erasure_overdue",
    )
    return out


def headline(tables: Tables, params: Params) -> list[Tile]:
    """The overview's tiles for params, each with the previous period's value."""
    now = _tiles(compute(tables, params))
    before = _tiles(compute(tables, previous_period(params)))
    return [
        Tile(
            key, label, unit, value, before.get(key, (None, None, None))[2], metric, params.min_cell
        )
        for key, (label, unit, value, metric) in now.items()
    ]
