"""Sources on every engine, from the same data: the store, its Parquet export read by DuckDB
and the same export read by Apache Spark (local mode, one session for the whole run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from data.storage.engines import ParquetSource, Source, StoreSource

SPARK_MASTER = "local[2]"
ENGINE_IDS = ("store", "parquet-duckdb", "parquet-spark")


@pytest.fixture(scope="session")
def spark_master() -> str:
    """Start the test run's Spark session once (later sources reuse it)."""
    from data.storage import spark

    spark.connect(SPARK_MASTER)
    return SPARK_MASTER


def opener(engine: str, store: Path, parquet: Path, master: str) -> Callable[[], Source]:
    """How to open `engine`'s source of one dataset."""
    if engine == "store":
        return lambda: StoreSource(store)
    if engine == "parquet-duckdb":
        return lambda: ParquetSource(parquet, "duckdb")
    return lambda: ParquetSource(parquet, "spark", master=master)
