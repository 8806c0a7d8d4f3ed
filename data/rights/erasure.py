"""The right to be forgotten (spec section 7): erase people from every table, keep orders and
requests with the identifier nulled, compact the file so no byte of them remains, remember a
keyed hash so a later import of them is refused, and prove it before reporting success.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from ahocorasick_rs import BytesAhoCorasick

from data.intake.mapping import SAVED_TABLE
from data.storage import audit, export, facts, history, schema, snapshots
from data.storage.keys import SUPPRESSION_TABLE, keyed_hash, require_key
from data.storage.store import Store, StoreError, compact, open_store, writing

PERSONAL = [c.name for c in schema.TABLES["customers"].columns if c.personal]
# Values shorter than this are too common as bytes to prove anything by a scan of the file;
# they are checked by query only.
MIN_SCAN_BYTES = 6


class ErasureError(StoreError):
    """An erasure that could not be carried out or proven; the message says which.

    `rejected` is true when the input itself was refused (nothing was touched).
    """

    def __init__(self, message: str, *, rejected: bool = False):
        super().__init__(message)
        self.rejected = rejected


@dataclass
class ErasureResult:
    """What an erasure did: rows per table, and how it was verified."""

    people: int
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    request_completed: str | None = None
    requests_closed: int = 0
    scanned_values: int = 0
    unscannable: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    exports_rewritten: int = 0  # Parquet exports of the store, the people removed from them


def ensure_suppression_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the suppression list if the store does not have it yet."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SUPPRESSION_TABLE} (hash VARCHAR, erased_at TIMESTAMP)"
    )


def _ids_table(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _erase_ids (customer_id VARCHAR)")
    con.executemany("INSERT INTO _erase_ids VALUES (?)", [[i] for i in ids])


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> int:
    [(n,)] = con.execute(sql, list(params)).fetchall()
    return int(n)


def _customer_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """customers, and its rows an undoable replace set aside."""
    aside = f"{history.REPLACED_PREFIX}customers"
    return ["customers", *(t for t in history.replaced_tables(con) if t == aside)]


def _personal_values(con: duckdb.DuckDBPyConnection) -> list[str]:
    cols = ", ".join(f'"{c}"' for c in PERSONAL)
    values: list[str] = []
    for table in _customer_tables(con):
        rows = con.execute(
            f'SELECT customer_id, {cols} FROM "{table}" WHERE customer_id IN '
            "(SELECT customer_id FROM _erase_ids)"
        ).fetchall()
        values += [v for row in rows for v in row[1:] if v]
    return values


def _forget_saved_mappings(con: duckdb.DuckDBPyConnection, values: Sequence[str]) -> None:
    """Saved mappings whose headers hold any of the values (a file without a header row
    has its first record for headers)."""
    [(exists,)] = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [SAVED_TABLE]
    ).fetchall()
    # Both columns are JSON: a value is a whole JSON string there (so "42" does not match
    # "2024"), written with or without escapes for what is not ASCII.
    forms = sorted({json.dumps(v, ensure_ascii=a) for v in values for a in (True, False)})
    if exists and forms:
        con.execute(
            f"DELETE FROM {SAVED_TABLE} WHERE EXISTS (SELECT 1 FROM unnest(?::VARCHAR[]) AS "
            "f(form) WHERE contains(headers, f.form) OR contains(mapping, f.form))",
            [forms],
        )


def _stamp_jurisdictions(con: duckdb.DuckDBPyConnection) -> None:
    """Requests keep the person's jurisdiction once their identifier is gone."""
    people = con.execute(
        "SELECT customer_id, country, state, jurisdiction FROM customers "
        "WHERE customer_id IN (SELECT customer_id FROM _erase_ids)"
    ).fetchall()
    for customer_id, country, state, jurisdiction in people:
        own = jurisdiction or schema.derive_jurisdiction(country, state)
        con.execute(
            "UPDATE privacy_requests SET jurisdiction = ? "
            "WHERE customer_id = ? AND jurisdiction IS NULL",
            [own, customer_id],
        )


def _files(path: Path) -> list[Path]:
    """The store's files: the database, its log and spill folder, the readers' copies and
    the Parquet exports written from it."""
    candidates = [path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".tmp")]
    found = [p for p in candidates if p.is_file()] + export.files(path)
    for folder in (path.with_name(path.name + ".tmp"), snapshots.folder(path)):
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.is_file()]
    return found


def _still_held(store: Store, values: Sequence[str]) -> set[str]:
    """The values that some remaining text value in the store contains (someone else's): an
    id inside an order number, a common name. A query stops at the first such row, and the
    smallest tables go first, so a value held is most often found before the largest are
    read."""
    sizes = dict(
        store.con.execute("SELECT table_name, estimated_size FROM duckdb_tables()").fetchall()
    )
    queries = []  # (query, its number of text columns), smallest table first
    for table in sorted(schema.TABLES.values(), key=lambda t: sizes.get(t.name, 0)):
        text = [c.name for c in table.columns if c.sql_type == "VARCHAR"]
        condition = " OR ".join(f'contains("{c}", ?)' for c in text)
        queries.append((f'SELECT 1 FROM "{table.name}" WHERE {condition} LIMIT 1', len(text)))
    return {
        value
        for value in values
        if any(store.con.execute(sql, [value] * n).fetchall() for sql, n in queries)
    }


def _verify(store: Store, ids: Sequence[str], values: Sequence[str]) -> int:
    """Re-query every table, the facts derived from them too, and scan the store's files;
    returns how many values were scanned."""
    named = [t.name for t in schema.TABLES.values() if "customer_id" in t.column_names]
    for name in [*named, *facts.FACT_TABLES]:
        left = _count(
            store.con,
            f'SELECT count(*) FROM "{name}" WHERE customer_id IN '
            "(SELECT customer_id FROM _erase_ids)",
        )
        if left:
            raise ErasureError(f"verification failed: {left} row(s) remain in {name}")
    if export.still_holding(store.path, ids):
        raise ErasureError("verification failed: a Parquet export of the store still holds them")
    readable = _in_files(_files(store.path), values)
    if readable - _still_held(store, sorted(readable)):
        raise ErasureError(
            "verification failed: an erased value is still readable in the store's files"
        )
    return len(values)


def _readable(path: Path, values: Sequence[str]) -> list[str]:
    """The values found as plain bytes in the store's files now: the scan after erasure can
    only prove the absence of what it could see before (DuckDB compresses some strings)."""
    candidates = {v for v in values if len(v.encode("utf-8")) >= MIN_SCAN_BYTES}
    # The readers' copy of the store as it is now holds its very bytes: read them once.
    same = set(snapshots.copies_as_is(path))
    return sorted(_in_files([p for p in _files(path) if p not in same], candidates))


def _in_files(paths: Sequence[Path], values: Iterable[str]) -> set[str]:
    """The values that occur as plain UTF-8 bytes in any of the files. The files are mapped,
    not read into memory (a store of millions of customers is gigabytes), and searched for
    every value at once, one pass over each window (Aho-Corasick): a search per value would
    read each file once per value."""
    left = {v.encode("utf-8"): v for v in values if v}
    found: set[str] = set()
    for path in paths:
        if not left:
            break
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                continue
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                found |= _in_mapped(mapped, left)
    return found


def _release(mapped: mmap.mmap, released: int, scanned: int) -> int:
    """Let the pages of a mapped file that were scanned, up to `scanned`, leave the process
    (not the page cache: a later read finds them there), from `released` on, where the last
    call stopped; returns where this one stopped (a page boundary, or the end). A scan of
    gigabytes would otherwise hold them all as its resident memory until it unmaps the file."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    upto = scanned if scanned == len(mapped) else scanned - scanned % mmap.PAGESIZE
    if advice is None or upto <= released:
        return released
    mapped.madvise(advice, released, upto - released)
    return upto


# The bytes searched at a time: a value that occurs often in them is listed once per
# occurrence before it is set aside, so the list stays as small as the window.
SCAN_WINDOW = 64 * 2**20


def _in_mapped(mapped: mmap.mmap, left: dict[bytes, str]) -> set[str]:
    """The values among `left` (by their bytes) that occur in the mapped file; those found
    are taken out of `left`, so later files are not searched for them."""

    def searching() -> tuple[list[bytes], BytesAhoCorasick, int]:
        # One search for every value still unseen; windows overlap by a value's length less
        # one, so no occurrence falls between two.
        needles = list(left)
        return needles, BytesAhoCorasick(needles), max(map(len, needles)) - 1

    found: set[str] = set()
    size = len(mapped)
    released = 0
    needles, search, overlap = searching()
    with memoryview(mapped) as view:
        for start in range(0, size, SCAN_WINDOW):
            with view[start : start + SCAN_WINDOW + overlap] as window:
                hits = search.find_matches_as_indexes(window, overlapping=True)
            released = _release(mapped, released, min(start + SCAN_WINDOW, size))
            if hits:
                for needle in {needles[index] for index, _start, _end in hits}:
                    found.add(left.pop(needle))
                if not left:
                    break
                needles, search, overlap = searching()
    return found


def erase(
    store_path: Path,
    customer_ids: Sequence[str],
    *,
    request_id: str | None = None,
    actor: str | None = None,
    role: str = "admin",
    task: str = "an erasure",
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> ErasureResult:
    """Erase the given people (spec section 7) and verify it; raises ErasureError if not.

    The whole erasure holds the writer lock (waiting up to `wait` seconds for another
    writer): nobody writes between the deletion, the rewrite and the proof.
    """
    ids = sorted({i.strip() for i in customer_ids if i.strip()})
    if not ids:
        raise ErasureError("no customer id given", rejected=True)
    key = require_key(store_path)
    with writing(store_path, task=task, wait=wait, on_wait=on_wait):
        return _erase(store_path, ids, key, request_id=request_id, actor=actor, role=role)


def _erase(
    store_path: Path,
    ids: list[str],
    key: bytes,
    *,
    request_id: str | None,
    actor: str | None,
    role: str,
) -> ErasureResult:
    result = ErasureResult(people=len(ids))
    with open_store(store_path) as store:
        con = store.con
        ensure_suppression_table(con)
        _ids_table(con, ids)
        # Anyone named anywhere can be erased, also a person known only from a request.
        aside = history.replaced_tables(con)
        named = " UNION ".join(
            f'SELECT customer_id FROM "{name}"'
            for t in schema.TABLES.values()
            if "customer_id" in t.column_names
            for name in (t.name, f"{history.REPLACED_PREFIX}{t.name}")
            if name == t.name or name in aside
        )
        # Customers first: the usual case, one table instead of every one.
        known = _count(
            con,
            "SELECT count(*) FROM _erase_ids "
            "WHERE customer_id IN (SELECT customer_id FROM customers)",
        )
        if known != len(ids):
            known = _count(
                con,
                f"SELECT count(*) FROM _erase_ids WHERE customer_id IN ({named})",
            )
        if known != len(ids):
            raise ErasureError(
                f"{len(ids) - known} of the {len(ids)} given id(s) name nobody in the store; "
                "nothing was erased",
                rejected=True,
            )
        if request_id is not None:
            rows = con.execute(
                "SELECT type, customer_id FROM privacy_requests WHERE request_id = ?",
                [request_id],
            ).fetchall()
            if not rows:
                raise ErasureError(
                    "the request id names no privacy request; nothing was erased", rejected=True
                )
            request_type, owner = rows[0]
            if request_type != schema.ERASURE or (owner is not None and owner not in ids):
                raise ErasureError(
                    "the request is not an erasure request of the people given; nothing was erased",
                    rejected=True,
                )
        values = _personal_values(con)
        con.execute("CHECKPOINT")
        visible = _readable(store_path, [*ids, *values])
        now = datetime.now(UTC).replace(tzinfo=None)
        with store.transaction():
            facts.changed(con, "SELECT customer_id FROM _erase_ids")
            # Their facts go in the same transaction, whatever becomes of the rebuild.
            facts.forget(con, "SELECT customer_id FROM _erase_ids")
            _stamp_jurisdictions(con)
            # Erasing them fulfils the request given and any erasure request of theirs still
            # open; without the identifier nobody could close those later.
            [(closed,)] = con.execute(
                "UPDATE privacy_requests SET status = ?, completed_at = coalesce(completed_at, ?) "
                "WHERE request_id = ? OR (type = ? AND status = ? AND customer_id IN "
                "(SELECT customer_id FROM _erase_ids))",
                [schema.COMPLETED, now, request_id, schema.ERASURE, schema.OPEN],
            ).fetchall()
            result.requests_closed = int(closed)
            result.request_completed = request_id
            for name in schema.ERASURE_KEEPS_ANONYMISED:
                [(n,)] = con.execute(
                    f'UPDATE "{name}" SET customer_id = NULL WHERE customer_id IN '
                    "(SELECT customer_id FROM _erase_ids)"
                ).fetchall()
                result.anonymised[name] = int(n)
            for name in schema.ERASURE_DELETES:
                [(n,)] = con.execute(
                    f'DELETE FROM "{name}" WHERE customer_id IN '
                    "(SELECT customer_id FROM _erase_ids)"
                ).fetchall()
                result.deleted[name] = int(n)
            # Rows an undoable replace set aside may name them too, and a saved mapping of
            # a file without a header row may hold their values.
            history.drop_replaced(con)
            _forget_saved_mappings(con, [*ids, *values])
            con.executemany(
                f"INSERT INTO {SUPPRESSION_TABLE} VALUES (?, ?)",
                [[keyed_hash(key, i), now] for i in ids],
            )
        con.execute("CHECKPOINT")
        con.execute("DROP TABLE IF EXISTS _erase_ids")
    detail = {
        "people": len(ids),
        "subjects": [keyed_hash(key, i) for i in ids],
        "deleted": result.deleted,
        "anonymised": result.anonymised,
        "requests_closed": result.requests_closed,
        "request_id": request_id,
    }
    try:
        result.bytes_before, result.bytes_after = compact(store_path)
        # Readers get the erased store at once, and the older copies (still holding the
        # people) are removed before the proof scans what is left; so are its exports.
        snapshots.publish(store_path)
        result.exports_rewritten = len(export.forget(store_path, ids))
        with open_store(store_path) as store:
            _ids_table(store.con, ids)
            result.scanned_values = _verify(store, ids, visible)
            store.con.execute("DROP TABLE IF EXISTS _erase_ids")
    except BaseException as failure:
        # The rows are gone (committed); what failed is the rewrite or its proof: say so.
        audit.record(
            store_path,
            "erase",
            {**detail, "verified": False, "failure": type(failure).__name__},
            actor=actor,
            role=role,
        )
        raise
    result.unscannable = len({v for v in (*ids, *values)}) - len(visible)
    audit.record(store_path, "erase", {**detail, "verified": True}, actor=actor, role=role)
    return result
