"""Consistent cell-key perturbation (spec section 5, "Differencing across views").

Free sidebar filters let two published totals differ by a small count: everyone against
everyone but one country gives that country's count, however carefully each view is
suppressed. For people without access to person-level data, every published count carries a
small noise that depends only on who is counted, as the cell-key method of statistical
offices' table builders does (the Australian Bureau of Statistics' TableBuilder, the UK
census's):

- every record (a customer, or a privacy request) has a record key, a hash of its id;
- a cell's key is the sum of its records' keys, modulo 2**32: the same people give the same
  key whatever the filters, period or page that selected them, and disjoint cells add up;
- the noise is drawn from the cell key under the store's secret key, uniform on
  -D..D with D = (k - 1) // 2, and a count that is published keeps its status: 0 stays 0,
  and a count of at least k is never shown below k (the noise is then reflected upwards).

Repeating a query, or asking for the same people through other filters, gives the same
noise, so it does not average away; the difference of two large totals is the small count
plus the difference of two independent noises (-2D..2D), which pins it no better than
chance (tests/metrics/test_differencing.py runs that attack). Suppression is decided on the
true counts first, so what is withheld does not depend on who looks; rates are computed
from the perturbed counts they are published with.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import ibis.expr.types as ir
import pandas as pd

from data.storage import facts

MODULUS = facts.MODULUS
record_key = facts.record_key  # a hash of a record's id (defined with the facts that keep it)

# The store's secret key for the noise of the current read (see metrics.api.evaluate): a
# cell key alone, even with every customer id known, then says nothing about the noise.
_SECRET: ContextVar[bytes] = ContextVar("noise_secret", default=b"")


@contextmanager
def secret(key: bytes | None) -> Iterator[None]:
    """Within the block, noise is drawn under `key` (the store's key)."""
    token = _SECRET.set(key or b"")
    try:
        yield
    finally:
        _SECRET.reset(token)


def current_secret() -> bytes:
    """The key the noise is drawn under in this context."""
    return _SECRET.get()


def customer_key(t: ir.Table) -> ir.IntegerValue:
    """The record key of each row's customer: the store's facts keep it, other tables are
    hashed as they are read (the same key either way)."""
    return t[facts.RECORD_KEY] if facts.RECORD_KEY in t.columns else record_key(t.customer_id)


def cell_key(total: int) -> int:
    """A cell's key from the sum of its records' keys (or of its disjoint parts' keys)."""
    return int(total) % MODULUS


def spread(k: int) -> int:
    """D, the largest noise: (k - 1) // 2, so that two noises span at least k - 1."""
    return max(0, (k - 1) // 2)


def noise(key: int, k: int, under: bytes) -> int:
    """The noise of the cell with key `key`, uniform on -D..D."""
    d = spread(k)
    if d == 0:
        return 0
    digest = hmac.new(under, f"cell:{cell_key(key)}".encode("ascii"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2 * d + 1) - d


def perturb(n: int, key: int, k: int, under: bytes) -> int:
    """The count shown for a true count `n` of at least k (or 0) with cell key `key`: n plus
    its noise, reflected upwards where it would fall below k; 0 stays 0."""
    if n == 0:
        return 0
    e = noise(key, k, under)
    return n + e if n + e >= k else n - e


def key_sums(
    perturbed: bool, **cells: tuple[ir.Value, ir.BooleanValue | None]
) -> dict[str, ir.IntegerScalar]:
    """What a query aggregates beside its counts where counts are perturbed: for each count
    `name`, counting the records with id `ident` (or with record key `ident`, an integer
    such as `customer_key` gives) where `where` holds, `name_key` the sum of their record
    keys (nothing when counts are exact)."""
    if not perturbed:
        return {}
    return {f"{name}_key": _key(ident).sum(where=where) for name, (ident, where) in cells.items()}


def _key(ident: ir.Value) -> ir.IntegerValue:
    return ident if ident.type().is_integer() else record_key(ident)


def key_in(row: pd.Series | tuple, name: str) -> int | None:
    """The cell key summed for count `name` in a query's result row (a Series or a named
    tuple), or None where the query summed none (exact counts); an empty sum is 0."""
    column = f"{name}_key"
    if isinstance(row, pd.Series):
        value = row[column] if column in row.index else _NONE
    else:
        value = getattr(row, column, _NONE)
    if value is _NONE:
        return None
    return 0 if pd.isna(value) else int(value)


_NONE = object()


def noise_note(k: int) -> str:
    """What perturbed counts mean, in the words pages and downloads use."""
    return (
        f"counts carry a small fixed noise (at most ±{spread(k)}) so that comparing views "
        "cannot work out a small count"
    )


def about(n: int) -> int:
    """A whole-store size, rounded to two significant figures where counts are perturbed
    (the exact sizes would give the noise of the unfiltered figures away)."""
    if n < 100:
        return n
    scale = 10 ** (len(str(n)) - 2)
    return round(n / scale) * scale
