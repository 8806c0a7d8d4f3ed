"""The store's errors: each says in one line what went wrong and what to do."""

from __future__ import annotations


class StoreError(Exception):
    """A store problem explained in one line for the user."""


class StoreBusyError(StoreError):
    """Another writer held the store for longer than this one would wait."""
