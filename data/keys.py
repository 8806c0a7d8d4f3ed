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

KEY_BYTES = 32


def key_path(store_path: Path) -> Path:
    """Where the key of the store at `store_path` is kept."""
    return store_path.with_name(store_path.name + ".key")


def load_key(store_path: Path, *, create: bool = True) -> bytes | None:
    """The store's key, created (readable by its owner only) on first use when `create`."""
    path = key_path(store_path)
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    if not create:
        return None
    key = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of `value` under `key`, as hex."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
