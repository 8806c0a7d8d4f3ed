"""Shared fixtures: real stores in temporary folders, filled from CSV text or a demo."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from data.intake.loader import import_files
from data.storage.store import Store, open_store
from data.synthetic.generator import generate


def write_csvs(folder: Path, files: dict[str, str]) -> list[Path]:
    """Write {table: csv text} as <table>.csv files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for table, text in files.items():
        path = folder / f"{table}.csv"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        paths.append(path)
    return paths


def demo_file(folder: Path, customers: int, **options: object) -> Path:
    """A store file in `folder` holding a seeded demo (`generate`'s options), closed."""
    path = folder / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(customers, **options))
    return path


@pytest.fixture
def store(tmp_path: Path):
    """An empty store file of its own."""
    with open_store(tmp_path / "store" / "test.duckdb") as s:
        yield s


@pytest.fixture
def store_with(tmp_path: Path, store: Store) -> Callable[[dict[str, str]], Store]:
    """Import {table: csv text} into the test's store and return it."""

    def load(files: dict[str, str]) -> Store:
        import_files(store, write_csvs(tmp_path / "in", files))
        return store

    return load
