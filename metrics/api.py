"""What the dashboard asks of the metrics layer: the data's shape and evaluated figures.

Pages never open the data themselves; they call these, which read the store's current copy
(see data/storage/snapshots.py), or the Parquet folder $CONSENTLENS_SOURCE names (with the facts
`consentlens facts` built for it, on DuckDB in process), run one metric function over the
canonical tables and end the read.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import ibis
from dateutil.relativedelta import relativedelta

from data.storage import schema, snapshots
from data.storage.engines import ParquetSource, Source, StoreSource, folder_version
from data.storage.keys import noise_key
from data.storage.store import StoreError, resolve_path
from metrics import perturbation
from metrics.params import Filters, Params, resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables, customer_jurisdiction

T = TypeVar("T")
__all__ = [
    "DEFAULT_MONTHS",
    "StoreError",
    "StoreSummary",
    "default_params",
    "period_start_before",
    "evaluate",
    "metric_sql",
    "published",
    "reader",
    "source_folder",
    "store_path",
    "store_version",
    "summarize",
]


# The dashboard's default period: the last twelve months of data.
DEFAULT_MONTHS = 12
SOURCE_VAR = "CONSENTLENS_SOURCE"  # a Parquet folder the dashboard serves instead of the store


def source_folder() -> Path | None:
    """The Parquet folder the dashboard serves ($CONSENTLENS_SOURCE), if any: read-only, so
    the pages that write or look up a person are not offered."""
    chosen = os.environ.get(SOURCE_VAR)
    return Path(chosen).expanduser().resolve() if chosen else None


def store_path() -> Path:
    """What the dashboard reads: $CONSENTLENS_SOURCE's folder, else the store
    ($CONSENTLENS_DB, else var/consentlens.duckdb)."""
    return source_folder() or resolve_path()


def store_version(path: str | Path) -> str:
    """The version of the data that a read opens now (a new one after every write; for a
    folder, after its files or facts change)."""
    path = Path(path)
    if path.is_dir():
        return folder_version(path)
    return snapshots.current(path).name


def reader(path: str | Path) -> Source:
    """A read of the store at `path`, or of the Parquet folder at `path` (on DuckDB)."""
    return ParquetSource(path, "duckdb") if Path(path).is_dir() else StoreSource(path)


@dataclass(frozen=True)
class StoreSummary:
    """What the sidebar needs: the data's dates, sources, sizes and filter choices."""

    first: date | None
    last: date | None
    row_counts: dict[str, int]
    info: dict[str, str]
    jurisdictions: tuple[str, ...]
    countries: tuple[str, ...]
    channels: tuple[str, ...]
    segments: tuple[str, ...]
    purposes: tuple[str, ...]
    # The currencies orders are recorded in, the commonest first, and whether some orders
    # record none: revenue is shown one currency at a time where they mix.
    currencies: tuple[str, ...] = ()
    orders_without_currency: bool = False

    @property
    def empty(self) -> bool:
        """True when the store holds no customers."""
        return self.row_counts.get("customers", 0) == 0


def _distinct(expr: ibis.Column) -> tuple[str, ...]:
    values = expr.name("v").as_table().distinct().to_pyarrow()["v"].to_pylist()
    return tuple(sorted(v for v in values if v is not None))


def summarize(path: str | Path) -> StoreSummary:
    """Dates, row counts, provenance and the values each filter can take."""
    with reader(path) as source:
        return summary_of(source)


def summary_of(source: Source) -> StoreSummary:
    """What the sidebar needs, from any source."""
    first, last = source.date_range()
    t = Tables.from_source(source)
    c = t.customers
    return StoreSummary(
        first=first.date() if first else None,
        last=last.date() if last else None,
        row_counts=source.row_counts(),
        info=source.info(),
        jurisdictions=_distinct(customer_jurisdiction(c)),
        countries=_distinct(c.country),
        channels=_distinct(c.acquisition_channel),
        segments=_distinct(c.segment.fill_null(schema.SEGMENT_UNKNOWN)),
        purposes=_order_purposes(_distinct(t.consent_events.purpose)),
        **_currencies(t.orders),
    )


def _currencies(orders: ibis.Table) -> dict[str, Any]:
    by = orders.group_by(code=orders.currency).aggregate(n=orders.count())
    rows = by.order_by([ibis.desc("n"), "code"]).to_pyarrow().to_pylist()
    return {
        "currencies": tuple(r["code"] for r in rows if r["code"] is not None),
        "orders_without_currency": any(r["code"] is None for r in rows),
    }


def _order_purposes(found: tuple[str, ...]) -> tuple[str, ...]:
    canonical = [p for p in schema.PURPOSES if p in found]
    return tuple(canonical + [p for p in found if p not in schema.PURPOSES])


def evaluate(path: str | Path, fn: Callable[..., T], params: Params, *args: Any) -> T:
    """fn(tables, params, *args) on the store at `path`, opened read-only for the call
    (perturbed counts drawn under the store's key: see metrics.perturbation)."""
    with reader(path) as source, perturbation.secret(noise_key(Path(path))):
        return fn(Tables.from_source(source), params, *args)


def published(tables: Tables, params: Params) -> dict[str, Any]:
    """The metrics JSON (suppressed) for params: the figures every page starts from."""
    return to_json(compute(tables, params))


def metric_sql(tables: Tables, params: Params, module: str, query: str) -> str:
    """The SQL the store runs for the query function `query` of metrics module `module`."""
    if not module.startswith("metrics."):
        raise ValueError("queries live in the metrics package")
    fn = getattr(importlib.import_module(module), query)
    return str(ibis.to_sql(fn(tables, params)))


def default_params(
    summary: StoreSummary, *, months: int | None = DEFAULT_MONTHS, min_cell: int | None = None
) -> Params:
    """Defaults for the dashboard: the last `months` months of data, as of its end."""
    params = resolve_params((summary.first, summary.last))
    if months is None or summary.last is None:
        return params
    start = max(period_start_before(params.end, months), params.start)
    kwargs: dict[str, Any] = {"start": start, "as_of": params.end}
    if min_cell is not None:
        kwargs["min_cell"] = min_cell
    return resolve_params((summary.first, summary.last), filters=Filters(), **kwargs)


def period_start_before(end: date, months: int) -> date:
    """The first day of the `months` whole months that end on `end` (the day after the same
    date `months` months earlier, the month's last day where it has no such date)."""
    return end - relativedelta(months=months) + timedelta(days=1)
