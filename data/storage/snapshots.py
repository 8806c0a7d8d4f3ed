"""Readers beside writers: every read goes to a published copy of the store, never to the
store file itself.

DuckDB lets one process open a database file for writing, and no other process open it at
all meanwhile. So the dashboard and the read-only commands never open the store file:
after each write, while still holding the writer lock, the writer publishes a copy of the
file (and its write-ahead log, if any) into `<store>.snapshots/`, named after the store
file's identity (inode, size, modification time). Readers open the copy that matches the
store file, or, while a writer is at work, the last one published: a complete state from
before the write, never half of it. A store written by anything else (an older version,
a test) is copied by the first reader that finds the lock free.

Within a process every copy is opened once, as one locked-down DuckDB instance configured
at open; each read gets its own cursor on it (a DuckDB connection is not thread-safe, its
cursors are). When a newer copy appears, new reads go to it and the old instance is closed
as soon as its last read ends; publishing removes every older copy, so an erasure leaves
no copy holding the erased.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis
from ibis.backends.duckdb import Backend as DuckDBBackend

from data.storage import locking
from data.storage.errors import StoreError

POINTER = "CURRENT"
READ_TASK = "a reader copying the store for reading"
OPEN_TRIES = 5
# DuckDB's memory for the reads of one copy (it spills to the copy's .tmp folder beyond).
# Its default, 80% of the machine, let one metrics computation at 10M customers hold 3.8 GB;
# with 2 GB it held 2.2 GB and took 9.8 s instead of 12.2 s.
READ_MEMORY = "2GB"


def folder(store: Path) -> Path:
    """The folder of published copies of the store at `store`."""
    return store.with_name(store.name + ".snapshots")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def version(store: Path) -> str:
    """The identity of the store file as it is now (changes with every write)."""
    parts = []
    for path in (store, _wal(store)):
        try:
            st = path.stat()
        except FileNotFoundError:
            parts.append("-")
            continue
        parts.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _copy_path(store: Path, name: str) -> Path:
    return folder(store) / f"{name}.duckdb"


def publish(store: Path) -> Path:
    """Copy the store file for readers, unless its copy exists, and remove older copies.

    The caller holds the writer lock, so the file does not change while it is copied.
    """
    name = version(store)
    target = _copy_path(store, name)
    where = folder(store)
    if not target.exists():
        where.mkdir(exist_ok=True)
        partial = where / f".{name}.partial"
        wal = _wal(store)
        # The log goes first: a reader that finds the copy finds its log beside it.
        if wal.exists():
            shutil.copyfile(wal, _wal(target))
        else:
            _wal(target).unlink(missing_ok=True)
        shutil.copyfile(store, partial)
        os.replace(partial, target)
    pointer = where / f".{POINTER}.partial"
    pointer.write_text(name, encoding="ascii")
    os.replace(pointer, where / POINTER)
    # The current copy's spill folder may be in use by a read; older copies' go with them.
    keep = {target.name, _wal(target).name, target.name + ".tmp", POINTER}
    for path in where.iterdir():
        if path.name not in keep:
            _remove(path)
    return target


def copies_as_is(store: Path) -> list[Path]:
    """The readers' copy of the store file as it is now, and its log: byte for byte the
    store's own (copied under the writer lock, and the store unchanged since, or its version
    would differ). Empty when there is none."""
    target = _copy_path(store, version(store))
    return [p for p in (target, _wal(target)) if p.is_file()] if target.is_file() else []


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _published(store: Path) -> Path | None:
    try:
        name = (folder(store) / POINTER).read_text(encoding="ascii").strip()
    except OSError:
        return None
    path = _copy_path(store, name)
    return path if name and path.exists() else None


def current(
    store: Path,
    *,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Path:
    """The copy a read should open now: the store file's own, published here if the lock is
    free; the last published one while a writer works; else wait for the writer."""
    if not store.exists():
        raise StoreError(f"no store at {store}; run `consentlens demo` or `import` first")
    target = _copy_path(store, version(store))
    if target.exists():
        return target
    if locking.try_acquire(store, task=READ_TASK):
        try:
            return publish(store)
        finally:
            locking.release(store)
    last = _published(store)
    if last is not None:
        return last
    if locking.held(store):
        raise StoreError(f"the store {store} is being written by this same task; read it after")
    with locking.writing(store, task=READ_TASK, wait=wait, on_wait=on_wait):
        return publish(store)


# One DuckDB instance per copy in this process, shared by every read through cursors.


class _CursorBackend(DuckDBBackend):
    """Ibis over one cursor: the session settings Ibis would set are the instance's
    defaults already, set before its configuration was locked."""

    def _post_connect(self, extensions=None) -> None:  # noqa: ANN001 - Ibis's signature
        self._record_batch_readers_consumed = {}


@dataclass
class _Instance:
    con: duckdb.DuckDBPyConnection
    reads: int = 0
    retired: bool = False


_instances: dict[Path, _Instance] = {}
_mutex = threading.Lock()


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a copy read-only, locked down to its own files, as one configured instance."""
    config = {
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "access_mode": "READ_ONLY",
        "memory_limit": READ_MEMORY,
    }
    con = duckdb.connect(str(path), config=config)
    try:
        con.execute("SET allowed_paths = ?", [[str(path), str(_wal(path))]])
        con.execute("SET allowed_directories = [?]", [str(path) + ".tmp" + os.sep])
        # Defaults of every cursor: Ibis's session settings, which it cannot set once the
        # configuration is locked.
        con.execute("SET GLOBAL TimeZone = 'UTC'")
        con.execute("SET GLOBAL python_enable_replacements = false")
        con.execute("SET enable_external_access = false")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


@dataclass
class Reading:
    """One read: a cursor on the shared instance of a copy and an Ibis backend over it."""

    copy: Path
    con: duckdb.DuckDBPyConnection
    backend: ibis.BaseBackend

    def close(self) -> None:
        """End the read; the copy's instance closes when retired and no longer read."""
        self.con.close()
        with _mutex:
            instance = _instances.get(self.copy)
            if instance is None:
                return
            instance.reads -= 1
            if instance.retired and instance.reads == 0:
                del _instances[self.copy]
                instance.con.close()


def read(
    store: Path,
    *,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Reading:
    """Start a read of the store's current copy (close the Reading when done)."""
    for _ in range(OPEN_TRIES):
        copy = current(store, wait=wait, on_wait=on_wait)
        with _mutex:
            instance = _instances.get(copy) or _opened(copy)
            if instance is None:
                continue  # removed by a newer publication between finding and opening it
            instance.reads += 1
            cursor = instance.con.cursor()
        return Reading(copy, cursor, _CursorBackend.from_connection(cursor))
    raise StoreError(f"cannot open a copy of the store {store}")


def _opened(copy: Path) -> _Instance | None:
    """A newly opened instance of `copy`, registered (the older copies retired); None when
    the copy is gone. The caller holds _mutex."""
    try:
        instance = _Instance(_connect(copy))
    except duckdb.IOException:
        return None
    _instances[copy] = instance
    _retire_others(copy)
    return instance


def _retire_others(newest: Path) -> None:
    """Older copies of the same store get no new reads; idle ones close now."""
    for path, instance in list(_instances.items()):
        if path != newest and path.parent == newest.parent:
            instance.retired = True
            if instance.reads == 0:
                del _instances[path]
                instance.con.close()


def open_copies() -> int:
    """How many copies this process has open."""
    with _mutex:
        return len(_instances)


def close_all() -> None:
    """Close every idle copy this process has open (others close when their reads end)."""
    with _mutex:
        for path, instance in list(_instances.items()):
            instance.retired = True
            if instance.reads == 0:
                del _instances[path]
                instance.con.close()
