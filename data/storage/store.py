"""The store: one DuckDB file holding the canonical tables, opened locked down."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from data.storage import engines, facts, history, locking, snapshots
from data.storage.audit import log_path
from data.storage.errors import StoreBusyError, StoreError
from data.storage.keys import SUPPRESSION_TABLE, create_key, fingerprint, load_key
from data.storage.schema import IMPORT_ID, TABLE_ORDER, TABLES
from data.storage.transaction import transaction

ENV_VAR = "CONSENTLENS_DB"
DEFAULT_PATH = Path("var") / "consentlens.duckdb"
INFO_TABLE = "store_info"
BASE = "base"  # info key: what wrote the rows no recorded import owns (demo, import)
KEY_TABLE = "store_key"
STAGING_PREFIX = "_staging_"  # a replacement's tables until they are swapped in
CHUNK_PREFIX = "_chunk_"  # one chunk of a replacement, while its facts are built


__all__ = [
    "StoreBusyError",
    "StoreError",
    "Store",
    "compact",
    "open_store",
    "resolve_path",
    "writing",
]


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Store path: the argument, else $CONSENTLENS_DB, else var/consentlens.duckdb."""
    chosen = path or os.environ.get(ENV_VAR) or DEFAULT_PATH
    return Path(chosen).expanduser().resolve()


@dataclass
class Store:
    """An open store: a locked-down DuckDB connection and its Ibis backend.

    A writable store holds the writer lock until closed; a read-only one reads the copy
    published for readers (see data/storage/snapshots.py).
    """

    path: Path
    con: duckdb.DuckDBPyConnection
    backend: ibis.BaseBackend
    read_only: bool
    _release: Callable[[], None] | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)
    # A read's copy of the data (a new one after every write); empty for a writer.
    version: str = ""
    # Hears what a writer does on closing beyond the caller's work (a rewrite of its file).
    progress: Callable[[str], None] | None = field(default=None, repr=False)

    def close(self, *, completed: bool = True) -> None:
        """Close the connection; a writer publishes what it wrote and lets the next one in
        (close it in the thread that opened it: the lock is that thread's). A writer whose
        work `completed` first rewrites its file if the work left much of it free
        (see SPARSE_SHARE); if that fails, the store stays as it was written."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self.read_only:
                # The facts of what was written, before readers are given the new copy. If
                # that fails, what was written stands: the facts stay marked out of date,
                # readers use the canonical tables and the next writer tries again.
                with contextlib.suppress(duckdb.Error, StoreError, MemoryError):
                    facts.refresh(self.con, self.backend)
        finally:
            try:
                sparse = None
                if completed and not self.read_only:
                    with contextlib.suppress(duckdb.Error):
                        sparse = _sparse(self.con)
                self.con.close()
                if sparse is not None:
                    with contextlib.suppress(duckdb.Error, OSError, MemoryError):
                        _compact_sparse(self.path, sparse, self.progress)
            finally:
                release, self._release = self._release, None
                if release is not None:
                    release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(completed=kind is None)

    def transaction(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """One transaction: committed on success, rolled back on any error."""
        return transaction(self.con)

    def row_counts(self) -> dict[str, int]:
        """Number of rows in each canonical table."""
        return engines.row_counts(self.backend.table)

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest timestamp in any timestamp column of the store."""
        return engines.date_range(self.backend.table)

    def info(self) -> dict[str, str]:
        """Facts about where the data came from (source, seed, when written)."""
        rows = self.con.execute(f"SELECT key, value FROM {INFO_TABLE} ORDER BY key").fetchall()
        return dict(rows)

    def synthetic(self) -> bool:
        """Whether the store holds generated (demo) rows now: those the demo wrote that no
        replacing import has set aside. An undone import brings them back, and so the mark."""
        info = self.info()
        # A store written before the base was recorded: a demo recorded its seed.
        if info.get(BASE, "demo" if "seed" in info else "") != "demo":
            return False
        own = f'SELECT 1 FROM customers WHERE "{IMPORT_ID}" IS NULL LIMIT 1'
        return bool(self.con.execute(own).fetchall())

    def replace_all(
        self,
        tables: Mapping[str, pa.Table] | Iterable[Mapping[str, pa.Table]],
        info: Mapping[str, str] | None = None,
    ) -> dict[str, int]:
        """Replace every canonical table by `tables`; returns the rows written.

        `tables` is one set of tables, or an iterable of sets (chunks) written one after
        the other, so they need not be held in memory at once. A chunk holds all the rows of
        its customers (as the demo's blocks do): the facts of each chunk are built from it.
        Chunks go into staging tables, each committed on its own (one transaction over
        millions of rows would hold them all in memory); one last transaction swaps the
        staging tables in. Until then the store's tables are untouched, and staging tables a
        failed write leaves behind are dropped before the next one.
        """
        self._require_writable()
        chunks = [tables] if isinstance(tables, Mapping) else tables
        staged = {name: f"{STAGING_PREFIX}{name}" for name in TABLE_ORDER}
        chunk_of = {name: f"{CHUNK_PREFIX}{name}" for name in TABLE_ORDER}
        _drop_staging(self.con)

        def canonical(names: Mapping[str, str]) -> Callable[[str], ibis.Table]:
            return lambda name: engines.canonical_columns(self.backend.table(names[name]), name)

        try:
            for name in TABLE_ORDER:
                self.con.execute(TABLES[name].ddl(staged[name]))
            # The facts of each chunk's customers are built from the chunk as it is written
            # (every chunk holds all the rows of its customers), so no step holds them all.
            facts.build_into(
                self.con, facts.statements(canonical(staged)), STAGING_PREFIX, create=True
            )
            written: dict[str, int] = {}
            # Every chunk's tables have the same names: its facts' SQL is compiled once.
            chunk_facts: dict[str, str] | None = None
            for chunk in chunks:
                unknown = set(chunk) - set(TABLES)
                if unknown:
                    raise StoreError(f"not canonical tables: {', '.join(sorted(unknown))}")
                with self.transaction():
                    for name in TABLE_ORDER:
                        ddl = TABLES[name].ddl(chunk_of[name])
                        self.con.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
                        if name in chunk:
                            rows = self._insert(chunk_of[name], name, chunk[name])
                            written[name] = written.get(name, 0) + rows
                        self.con.execute(
                            f'INSERT INTO "{staged[name]}" SELECT * FROM "{chunk_of[name]}"'
                        )
                    chunk_facts = chunk_facts or facts.statements(canonical(chunk_of))
                    facts.build_into(self.con, chunk_facts, STAGING_PREFIX, create=False)
                    for name in TABLE_ORDER:
                        self.con.execute(f'DROP TABLE "{chunk_of[name]}"')
            with self.transaction() as con:
                for name in [*TABLE_ORDER, *facts.FACT_TABLES]:
                    con.execute(f'DROP TABLE IF EXISTS "{name}"')
                    con.execute(f'ALTER TABLE "{STAGING_PREFIX}{name}" RENAME TO "{name}"')
                con.execute(f"DELETE FROM {INFO_TABLE}")
                history.forget_all(con, "demo data replaced the store since")
                # What wrote the rows no recorded import owns: the demo, or a full load.
                self.write_info({BASE: (info or {}).get("source", "unknown"), **(info or {})})
                facts.replaced(con)
        except BaseException:
            _drop_staging(self.con)
            raise
        return written

    def _insert(self, target: str, name: str, arrow: pa.Table) -> int:
        expected = TABLES[name].column_names
        if arrow.column_names != expected:
            raise StoreError(f"{name}: columns must be {expected}")
        view = f"_incoming_{name}"
        self.con.register(view, arrow)
        try:
            cols = ", ".join(f'"{c}"' for c in expected)
            self.con.execute(f'INSERT INTO "{target}" ({cols}) SELECT {cols} FROM "{view}"')
        finally:
            self.con.unregister(view)
        return arrow.num_rows

    def write_info(self, info: Mapping[str, str]) -> None:
        """Record where the data came from, stamped with the time (inside a transaction)."""
        stamp = {"written_at": datetime.now(UTC).isoformat(timespec="seconds")}
        for key, value in {**stamp, **info}.items():
            self.con.execute(f"DELETE FROM {INFO_TABLE} WHERE key = ?", [key])
            self.con.execute(f"INSERT INTO {INFO_TABLE} VALUES (?, ?)", [key, str(value)])

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only")


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the staging tables of a replacement that did not finish."""
    for name in [*TABLE_ORDER, *facts.FACT_TABLES]:
        con.execute(f'DROP TABLE IF EXISTS "{STAGING_PREFIX}{name}"')
    for name in TABLE_ORDER:
        con.execute(f'DROP TABLE IF EXISTS temp."{CHUNK_PREFIX}{name}"')
    facts.drop_rebuild(con)


def _create_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name in TABLE_ORDER:
        con.execute(TABLES[name].ddl())
    con.execute(f"CREATE TABLE IF NOT EXISTS {INFO_TABLE} (key VARCHAR, value VARCHAR)")
    history.ensure(con)
    facts.create_state(con)


def _ensure_key(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """The key beside the store must be the store's own; a new store gets a new one.

    A store whose key has gone missing is refused rather than given a new key: a new key
    would make every erased person's suppression hash unrecognisable.
    """
    con.execute(f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (fingerprint VARCHAR)")
    recorded = [f for (f,) in con.execute(f"SELECT fingerprint FROM {KEY_TABLE}").fetchall()]
    key = load_key(path)
    if key is None:
        # A store from before keys were recorded shows it had one by its erasures or its
        # audit log, both made with the key.
        [(erased,)] = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [SUPPRESSION_TABLE]
        ).fetchall()
        audited = log_path(path).exists()
        if recorded or erased or audited:
            raise StoreError(
                f"the store's key {path.name}.key is missing beside {path}: restore it from "
                "the backup taken with the store"
            )
        key = create_key(path)
    if not recorded:
        con.execute(f"INSERT INTO {KEY_TABLE} VALUES (?)", [fingerprint(key)])
    elif recorded[0] != fingerprint(key):
        raise StoreError(f"the key beside {path} is not this store's key")


def _explain_open_error(path: Path, error: duckdb.Error) -> StoreError:
    text = str(error)
    if "not a valid DuckDB database" in text or "Serialization" in text:
        return StoreError(f"{path} is not a ConsentLens store (not a DuckDB database file)")
    return StoreError(f"cannot open the store {path}: {text.splitlines()[0]}")


def _held_elsewhere(error: duckdb.Error) -> bool:
    """DuckDB's refusal because a process outside the writer lock has the file open."""
    return "lock" in str(error).lower()


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    create: bool = True,
    bulk_load: bool = False,
    memory_limit: str | None = None,
    task: str = "a ConsentLens write",
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Store:
    """Open (creating if needed) the store, locked down to its own folder.

    A writable store first takes the writer lock, waiting up to `wait` seconds
    (locking.default_wait() if None; `on_wait` hears once whom it waits for) and naming
    itself `task` to writers that wait in turn. A read-only store never waits for writers:
    it reads the last published copy. `bulk_load` lets DuckDB insert in parallel, giving up
    the insertion order of rows read without ORDER BY: for a connection that imports, not
    one that reports. `memory_limit` caps DuckDB's own memory (it spills to disk beyond it),
    for a writer of millions of rows.
    """
    resolved = resolve_path(path)
    if read_only:
        reading = snapshots.read(resolved, wait=wait, on_wait=on_wait)
        return Store(
            resolved, reading.con, reading.backend, True, reading.close, version=reading.copy.name
        )
    if not resolved.exists():
        if not create:
            raise StoreError(f"no store at {resolved}; run `consentlens demo` or `import` first")
        resolved.parent.mkdir(parents=True, exist_ok=True)
    wait = locking.default_wait() if wait is None else wait
    started = time.monotonic()
    locking.acquire(resolved, task=task, wait=wait, on_wait=on_wait)
    try:
        con, backend = _open_writable(resolved, bulk_load, memory_limit, started + wait, on_wait)
    except BaseException:
        locking.release(resolved)
        raise

    def release() -> None:
        locking.release(resolved, before_unlock=lambda: _publish(resolved))

    return Store(resolved, con, backend, False, release)


@contextmanager
def writing(
    path: Path,
    *,
    task: str,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the writer lock across several openings of the store (an erasure's deletion,
    rewrite and proof); what was written is published for readers before it is let go."""
    with locking.writing(
        path, task=task, wait=wait, on_wait=on_wait, before_unlock=lambda: _publish(path)
    ):
        yield


def _publish(path: Path) -> None:
    try:
        snapshots.publish(path)
    except OSError as error:
        raise StoreError(
            f"the store {path} was written, but its copy for readers could not be made "
            f"({error.strerror or type(error).__name__}); the next reader will retry"
        ) from None


REWRITE_MEMORY = "2GB"  # DuckDB's share of the rewrite's memory


def compact(path: Path) -> tuple[int, int]:
    """Rewrite the store into a fresh file and swap it in: deleted rows leave no bytes, and
    the blocks freed by tables written anew are gone. Returns the file's sizes before and
    after; a rewrite that fails leaves the store as it was. (The caller holds the writer
    lock, with every connection to the store closed.)"""
    fresh = path.with_name(path.name + ".compact")
    leftovers = (fresh, fresh.with_name(fresh.name + ".wal"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    before = path.stat().st_size
    # No progress bar: DuckDB would draw it on the command's output during a long rewrite.
    con = duckdb.connect(config={"autoload_known_extensions": False})
    try:
        con.execute("SET enable_progress_bar = false")
        # Without a limit DuckDB holds gigabytes while it copies a large store (7.8 GB at 10M
        # customers); beyond this it spills into the store's own spill folder, which the
        # erasure's proof scans too.
        con.execute("SET memory_limit = ?", [REWRITE_MEMORY])
        con.execute("SET temp_directory = ?", [str(path.with_name(path.name + ".tmp"))])
        con.execute("ATTACH ? AS old (READ_ONLY)", [str(path)])
        con.execute("ATTACH ? AS fresh", [str(fresh)])
        con.execute("COPY FROM DATABASE old TO fresh")
        con.execute("DETACH old")
        con.execute("DETACH fresh")
        con.close()
        with open(fresh, "rb") as handle:
            os.fsync(handle.fileno())
    except BaseException:
        con.close()
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        raise
    os.replace(fresh, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    return before, path.stat().st_size


# A write that leaves more than this share of the file free is followed by a rewrite (a demo
# or a whole rebuild of the facts writes its tables beside the old ones, whose blocks stay
# as free space: up to half the file, and every copy for readers as large), when that is
# at least SPARSE_BYTES: a small store is not worth it.
SPARSE_SHARE = 1 / 3
SPARSE_BYTES = 64 * 2**20


def _sparse(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """A writer's store after its work (checkpointed, so that the blocks it freed count):
    (free bytes, file bytes) if a `compact` would be worth it, else None."""
    con.execute("CHECKPOINT")
    [(block, total, free)] = con.execute(
        "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()"
    ).fetchall()
    spare = block * free
    if not total or free / total <= SPARSE_SHARE or spare < SPARSE_BYTES:
        return None
    return spare, block * total


def _compact_sparse(
    path: Path, sizes: tuple[int, int], progress: Callable[[str], None] | None
) -> None:
    """`compact` a store `_sparse` found worth it, telling `progress` why."""
    if progress is not None:
        spare, size = sizes
        progress(
            f"compacting the store: {spare / 1e9:.1f} GB of its {size / 1e9:.1f} GB "
            "are blocks of the data it replaced"
        )
    compact(path)


def _open_writable(
    resolved: Path,
    bulk_load: bool,
    memory_limit: str | None,
    deadline: float,
    on_wait: Callable[[str], None] | None,
) -> tuple[duckdb.DuckDBPyConnection, ibis.BaseBackend]:
    config = {
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "access_mode": "READ_WRITE",
        "preserve_insertion_order": not bulk_load,
        **({"memory_limit": memory_limit} if memory_limit else {}),
    }
    told = False
    while True:
        try:
            con = duckdb.connect(str(resolved), config=config)
            break
        except duckdb.Error as error:
            if not _held_elsewhere(error):
                raise _explain_open_error(resolved, error) from None
            # A process outside the writer lock (another tool, an older ConsentLens) has
            # the file open: wait for it like for a writer.
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"the store {resolved} is held open by another process (not a ConsentLens "
                    "writer); nothing was written. Close it and try again, or use another --db"
                ) from None
            if not told and on_wait is not None:
                on_wait("waiting for another process that has the store file open")
            told = True
            time.sleep(locking.POLL_SECONDS)
    try:
        # Order matters: allowed_directories can only be set while external access is on,
        # and the Ibis backend sets its session options before the configuration is locked.
        # Only the database's own files (and DuckDB's spill folder): not its key, not its
        # audit log, nothing else in the folder.
        own = [str(resolved), str(resolved) + ".wal"]
        con.execute("SET allowed_paths = ?", [own])
        con.execute("SET allowed_directories = [?]", [str(resolved) + ".tmp" + os.sep])
        backend = ibis.duckdb.from_connection(con)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_external_access = false")
        con.execute("SET enable_progress_bar = false")  # DuckDB's bar would write to stdout
        con.execute("SET lock_configuration = true")
        _create_schema(con)
        # A replacement killed before its swap left its staging tables: they go at once.
        _drop_staging(con)
        _ensure_key(resolved, con)
    except BaseException:
        con.close()
        raise
    return con, backend
