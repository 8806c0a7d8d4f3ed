"""The audit trail: an append-only, hash-chained log of what was done to the store.

Each entry records time, actor, role, action and details (counts, table names, keyed hashes:
never personal data in clear). Entry n carries the MAC of entry n-1, and a head file beside
the log holds the last sequence number and MAC, so an edit, a deletion (the last entry's
included) or a reordering breaks the chain and `verify` names the first entry affected.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import hmac
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from data.storage.keys import load_key, require_key

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "role", "action", "detail", "prev")


def log_path(store_path: Path) -> Path:
    """The audit log of the store at `store_path`."""
    return store_path.with_name(store_path.name + ".audit.jsonl")


def head_path(store_path: Path) -> Path:
    """The file holding the last entry's sequence number and MAC."""
    return store_path.with_name(store_path.name + ".audit.head")


def _mac(key: bytes, entry: Mapping[str, Any]) -> str:
    body = json.dumps({f: entry[f] for f in FIELDS}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_head(store_path: Path) -> tuple[int, str]:
    path = head_path(store_path)
    if not path.exists():
        return 0, GENESIS
    seq, mac = path.read_text(encoding="ascii").split()
    return int(seq), mac


def _write_head(store_path: Path, seq: int, mac: str) -> None:
    path = head_path(store_path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{seq} {mac}\n", encoding="ascii")
    os.replace(tmp, path)


def default_actor() -> str:
    """Who runs the command line: the operating-system user."""
    try:
        return getpass.getuser()
    except OSError:
        return "unknown"


def record(
    store_path: Path,
    action: str,
    detail: Mapping[str, Any] | None = None,
    *,
    actor: str | None = None,
    role: str = "admin",
) -> dict[str, Any]:
    """Append one entry to the store's audit log and return it."""
    key = require_key(store_path)
    path = log_path(store_path)
    with _locked(path):
        seq, prev = _read_head(store_path)
        entry: dict[str, Any] = {
            "seq": seq + 1,
            "at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "actor": actor or default_actor(),
            "role": role,
            "action": action,
            "detail": dict(detail or {}),
            "prev": prev,
        }
        entry["mac"] = _mac(key, entry)
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry, sort_keys=True) + "\n")
            log.flush()
            os.fsync(log.fileno())
        _write_head(store_path, entry["seq"], entry["mac"])
    return entry


def entries(store_path: Path) -> list[dict[str, Any]]:
    """Every entry of the log, oldest first (unverified: see `verify`)."""
    path = log_path(store_path)
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as log:
        return [json.loads(line) for line in log if line.strip()]


@dataclass(frozen=True)
class Verdict:
    """Outcome of a verification: ok, entries checked, and the first problem found."""

    ok: bool
    checked: int
    problem: str = ""


def verify(store_path: Path) -> Verdict:
    """Check the whole chain and the head; the first broken entry is named."""
    key = load_key(store_path)
    path = log_path(store_path)
    head_seq, head_mac = _read_head(store_path)
    if key is None:
        if path.exists() or head_seq:
            return Verdict(False, 0, "the store's key is missing, so the log cannot be checked")
        return Verdict(True, 0)
    prev, count = GENESIS, 0
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            fields_ok = all(f in entry for f in (*FIELDS, "mac"))
        except json.JSONDecodeError:
            fields_ok = False
        if not fields_ok:
            return Verdict(False, count, f"line {number} is not a log entry")
        if entry["seq"] != number:
            return Verdict(False, count, f"line {number}: sequence {entry['seq']} out of order")
        if entry["prev"] != prev:
            return Verdict(False, count, f"line {number}: does not follow the entry before it")
        if not hmac.compare_digest(_mac(key, entry), str(entry["mac"])):
            return Verdict(False, count, f"line {number}: entry was altered")
        prev, count = entry["mac"], number
    if (count, prev) != (head_seq, head_mac):
        return Verdict(False, count, f"the log ends at entry {count} but {head_seq} were written")
    return Verdict(True, count)
