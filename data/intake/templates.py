"""Canonical templates (a header row per table) and a small synthetic sample of each table.

The samples are the demo generator's tables for a few customers, with every identifier in a
namespace of their own (SAMPLE_PREFIX, which the generator never writes: its customer and
order ids are digits, its request ids start with "DSR-") and every e-mail address at a
domain reserved for examples. So the samples of all tables import together into any store
that does not hold them already: an empty one, the demo, or real customers' data."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from data.storage import schema
from data.storage.keys import keyed_hash, load_key, suppressed_hashes
from data.storage.store import Store

SAMPLE_CUSTOMERS = 60
SAMPLE_SEED = 7
SAMPLE_PREFIX = "SAMPLE-"
SAMPLE_DOMAIN = "example.com"  # RFC 2606: reserved for examples, nobody's address
# Columns holding identifiers, given the sample prefix wherever they appear.
ID_COLUMNS = ("customer_id", "order_id", "request_id")


def template_csv(table: str) -> bytes:
    """The canonical header of `table` as a CSV file."""
    return (",".join(schema.TABLES[table].column_names) + "\n").encode("utf-8")


def _own_namespace(table: pa.Table) -> pa.Table:
    """`table` with its identifiers prefixed and its e-mail addresses at SAMPLE_DOMAIN (null
    stays null)."""
    for name in table.column_names:
        column = table[name]
        if name in ID_COLUMNS:
            column = pc.binary_join_element_wise(SAMPLE_PREFIX, column, "")
        elif name == "email":
            column = pc.replace_substring_regex(column, "@.*$", "@" + SAMPLE_DOMAIN)
        else:
            continue
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table


@cache
def sample_tables() -> dict[str, pa.Table]:
    """The samples as tables, one per canonical table."""
    from data.synthetic.generator import generate

    return {
        name: _own_namespace(table)
        for name, table in generate(SAMPLE_CUSTOMERS, SAMPLE_SEED).items()
    }


def sample_csv(table: str) -> bytes:
    """A small synthetic extract of `table`; the samples of all tables import together."""
    out = io.BytesIO()
    pacsv.write_csv(sample_tables()[table], out)
    return out.getvalue()


@dataclass(frozen=True)
class SamplesHeld:
    """How much of the samples a store holds already, as (held, in the sample) per key."""

    customers: tuple[int, int]
    orders: tuple[int, int]
    privacy_requests: tuple[int, int]
    erased: int  # sample customers on the store's erasure suppression list

    @property
    def any(self) -> bool:
        """Whether importing the samples would meet rows the store has (or has erased)."""
        held = (self.customers, self.orders, self.privacy_requests)
        return self.erased > 0 or any(n for n, _ in held)


def samples_held(store: Store) -> SamplesHeld:
    """What of the samples `store` holds: the keys a new import of them would be refused
    for (customers, orders, requests) and their customers erased from it."""
    samples = sample_tables()
    existing = {
        name for (name,) in store.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }

    def held(table: str, column: str) -> tuple[int, int]:
        keys = [k for k in samples[table][column].to_pylist() if k is not None]
        if table not in existing or not keys:
            return 0, len(keys)
        [(n,)] = store.con.execute(
            f'SELECT count(*) FROM "{table}" WHERE "{column}" IN (SELECT unnest(?))', [keys]
        ).fetchall()
        return n, len(keys)

    people = samples["customers"]["customer_id"].to_pylist()
    hashes = suppressed_hashes(store.con)
    key = load_key(store.path) if hashes else None
    erased = sum(keyed_hash(key, p) in hashes for p in people) if key else 0
    return SamplesHeld(
        held("customers", "customer_id"),
        held("orders", "order_id"),
        held("privacy_requests", "request_id"),
        erased,
    )


def write_templates(folder: Path) -> list[Path]:
    """Write `<table>.template.csv` and `<table>.sample.csv` for every table into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in schema.TABLE_ORDER:
        for kind, body in (("template", template_csv(table)), ("sample", sample_csv(table))):
            path = folder / f"{table}.{kind}.csv"
            path.write_bytes(body)
            written.append(path)
    return written
