"""One writer at a time: a lock file beside the store that every writer takes, and waits for.

Writers (demo, import, undo, erase, saved mappings) in any process and any thread take the
lock for the whole of their work; a second writer waits its turn, telling the user whom it
waits for, and gives up after the time it was given. The lock is an advisory `flock` on
`<store>.lock`, released by the kernel when its process ends however it ends, so a killed
writer never leaves the store locked. Inside one process a thread may take it again while it
holds it (an erasure opens the store more than once); other threads wait like other
processes do.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from data.storage.errors import StoreBusyError, StoreError

DEFAULT_WAIT = 120.0
POLL_SECONDS = 0.1
WAIT_ENV = "CONSENTLENS_WAIT"


def default_wait() -> float:
    """Seconds a writer waits for another: $CONSENTLENS_WAIT, else 120."""
    text = os.environ.get(WAIT_ENV)
    try:
        value = float(text) if text else DEFAULT_WAIT
    except ValueError:
        raise StoreError(f"{WAIT_ENV} must be a number of seconds, not {text!r}") from None
    if value < 0:
        raise StoreError(f"{WAIT_ENV} must be a number of seconds of at least 0")
    return value


def lock_path(store: Path) -> Path:
    """The lock file of the store at `store`."""
    return store.with_name(store.name + ".lock")


@dataclass
class _Lock:
    """The writer lock of one store as this process holds it."""

    mutex: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    handle: IO[str] | None = None


_locks: dict[Path, _Lock] = {}
_registry = threading.Lock()


def _lock_for(store: Path) -> _Lock:
    with _registry:
        return _locks.setdefault(store, _Lock())


def holder(store: Path) -> str:
    """Who holds (or last held) the writer lock, in words: the task, process and start."""
    try:
        info = json.loads(lock_path(store).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another ConsentLens writer"
    return f"{info.get('task', 'a write')} (process {info.get('pid')}, since {info.get('since')})"


def _describe_self(handle: IO[str], task: str) -> None:
    since = datetime.now(UTC).strftime("%H:%M:%S UTC")
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"task": task, "pid": os.getpid(), "since": since}))
    handle.flush()


class _Waiter:
    """Tells the user once whom a writer waits for, and when to stop waiting."""

    def __init__(self, store: Path, wait: float, on_wait: Callable[[str], None] | None):
        self.store = store
        self.wait = wait
        self.deadline = time.monotonic() + wait
        self.on_wait = on_wait
        self.told = False

    def tick(self) -> None:
        """Called after each failed try: say so once, give up after the deadline."""
        if time.monotonic() >= self.deadline:
            raise StoreBusyError(
                f"gave up after waiting {self.wait:g} s for {holder(self.store)} to finish "
                f"writing to the store {self.store}; nothing was written. Try again when it "
                "has finished, or wait longer with --wait SECONDS"
            )
        if not self.told and self.on_wait is not None:
            self.on_wait(
                f"waiting for {holder(self.store)} to finish writing to the store "
                f"(giving up after {self.wait:g} s)"
            )
        self.told = True


def acquire(
    store: Path,
    *,
    task: str,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Take the writer lock of `store`, waiting up to `wait` seconds (default_wait() if
    None); raises StoreBusyError when another writer still holds it then."""
    lock = _lock_for(store)
    waiter = _Waiter(store, default_wait() if wait is None else wait, on_wait)
    while not lock.mutex.acquire(timeout=POLL_SECONDS):
        waiter.tick()
    try:
        if lock.depth == 0:
            _take_file(lock, store, task, waiter)
        lock.depth += 1
    except BaseException:
        lock.mutex.release()
        raise


def try_acquire(store: Path, *, task: str) -> bool:
    """Take the writer lock if it is free right now; False if anyone holds it, this thread
    included (a reader never re-enters a write in progress)."""
    lock = _lock_for(store)
    if not lock.mutex.acquire(blocking=False):
        return False
    try:
        taken = lock.depth == 0 and _take_file(lock, store, task, None)
    except BaseException:
        lock.mutex.release()
        raise
    if not taken:
        lock.mutex.release()
        return False
    lock.depth = 1
    return True


def _take_file(lock: _Lock, store: Path, task: str, waiter: _Waiter | None) -> bool:
    """Lock the file (this thread holds the mutex): try once without a waiter, else until
    the waiter gives up; then say who holds it."""
    handle = open(lock_path(store), "a+", encoding="utf-8")  # noqa: SIM115 - kept open
    try:
        while not _try_flock(handle):
            if waiter is None:
                handle.close()
                return False
            waiter.tick()
            time.sleep(POLL_SECONDS)
        _describe_self(handle, task)
    except BaseException:
        handle.close()
        raise
    lock.handle = handle
    return True


def release(store: Path, *, before_unlock: Callable[[], None] | None = None) -> None:
    """Give the lock back once; when this was the outermost hold, run `before_unlock`
    (still holding it) and unlock."""
    lock = _lock_for(store)
    try:
        if lock.depth == 1:
            try:
                if before_unlock is not None:
                    before_unlock()
            finally:
                handle, lock.handle = lock.handle, None
                lock.depth = 0
                if handle is not None:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                    handle.close()
        else:
            lock.depth -= 1
    finally:
        lock.mutex.release()


def held(store: Path) -> bool:
    """Whether this thread holds the writer lock of `store`."""
    lock = _lock_for(store)
    if not lock.mutex.acquire(blocking=False):
        return False
    try:
        return lock.depth > 0
    finally:
        lock.mutex.release()


@contextmanager
def writing(
    store: Path,
    *,
    task: str,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    before_unlock: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the writer lock for the block (see acquire and release)."""
    acquire(store, task=task, wait=wait, on_wait=on_wait)
    try:
        yield
    finally:
        release(store, before_unlock=before_unlock)


def _try_flock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
