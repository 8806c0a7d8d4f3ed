"""Shared page helpers: the store's published (already suppressed) figures."""

from __future__ import annotations

from typing import Any

import streamlit as st

from data.store import StoreError, open_store, resolve_path
from metrics.params import resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables


@st.cache_data(show_spinner="Computing figures…", max_entries=32)
def published_metrics(path: str, modified: float, min_cell: int) -> dict[str, Any]:
    """The metrics JSON for the store at `path` (suppressed aggregates only)."""
    with open_store(path, read_only=True) as store:
        params = resolve_params(store.date_range(), min_cell=min_cell)
        return to_json(compute(Tables.from_backend(store.backend), params))


def load_metrics(min_cell: int = 11) -> dict[str, Any] | None:
    """Published metrics for the configured store, or None with an explanation shown."""
    path = resolve_path()
    if not path.exists():
        st.info(f"No store at `{path}` yet. Run `consentlens demo` or `make run` to create one.")
        return None
    try:
        return published_metrics(str(path), path.stat().st_mtime, min_cell)
    except StoreError as error:
        st.error(str(error))
        return None
