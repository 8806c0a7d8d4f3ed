"""The store's secret key: it keys the erasure suppression hashes and the audit chain.

It lives beside the store, never inside it, so a copy of the store file alone can neither
test guessed identifiers against the suppression list nor rewrite the audit log unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import duckdb

KEY_BYTES = 32


def key_path(store_path: Path) -> Path:
    """Where the key of the store at `store_path` is kept."""
    return store_path.with_name(store_path.name + ".key")


# The keyed hashes of erased people: without the key that made them they match no one.
SUPPRESSION_TABLE = "erasure_suppression"


def suppressed_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Keyed hashes of every erased person (none before the first erasure)."""
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if SUPPRESSION_TABLE not in tables:
        return set()
    return {h for (h,) in con.execute(f"SELECT hash FROM {SUPPRESSION_TABLE}").fetchall()}


class StoreKeyError(Exception):
    """The store's key is missing or is not the store's own."""


def load_key(store_path: Path) -> bytes | None:
    """The store's key, or None when there is none beside it."""
    path = key_path(store_path)
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    return None


def require_key(store_path: Path) -> bytes:
    """The store's key; raises when it is missing (it is never silently re-created)."""
    key = load_key(store_path)
    if key is None:
        raise StoreKeyError(
            f"the store's key {key_path(store_path)} is missing: restore it from the backup "
            "taken with the store (without it erased people could not be kept out)"
        )
    return key


def fingerprint(key: bytes) -> str:
    """A value that identifies the key without revealing it."""
    return keyed_hash(key, "consentlens store key")


def create_key(store_path: Path) -> bytes:
    """Make a new key for a new store, readable by its owner only."""
    path = key_path(store_path)
    key = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of `value` under `key`, as hex."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# The key perturbed counts draw their noise under (metrics/perturbation.py): derived from the
# store's key, so that an export can carry it (as this file in the folder) without the key
# that guards erasure and the audit chain; the same people then get the same noise from the
# store and from its exports.
NOISE_FILE = "noise.key"


def noise_key(path: Path) -> bytes:
    """The noise key of the store at `path`, or of the Parquet folder at `path` (empty when
    there is none: the noise is then drawn from the cell keys alone)."""
    if path.is_dir():
        kept = path / NOISE_FILE
        return bytes.fromhex(kept.read_text(encoding="ascii").strip()) if kept.exists() else b""
    key = load_key(path)
    return b"" if key is None else hmac.new(key, b"cell-key noise", hashlib.sha256).digest()


def write_noise_key(store_path: Path, folder: Path) -> None:
    """Keep the store's noise key in an export folder, readable by its owner only."""
    key = noise_key(store_path)
    if not key:
        return
    path = folder / NOISE_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
