"""Canonical templates (a header row per table) and a small synthetic sample of each table."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from data import schema

SAMPLE_CUSTOMERS = 60
SAMPLE_SEED = 7


def template_csv(table: str) -> bytes:
    """The canonical header of `table` as a CSV file."""
    return (",".join(schema.TABLES[table].column_names) + "\n").encode("utf-8")


@cache
def _sample_tables() -> dict[str, pa.Table]:
    from data.generator import generate

    return generate(SAMPLE_CUSTOMERS, SAMPLE_SEED)


def sample_csv(table: str) -> bytes:
    """A small synthetic extract of `table`; the samples of all tables import together."""
    out = io.BytesIO()
    pacsv.write_csv(_sample_tables()[table], out)
    return out.getvalue()


def write_templates(folder: Path) -> list[Path]:
    """Write `<table>.template.csv` and `<table>.sample.csv` for every table into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in schema.TABLE_ORDER:
        for kind, body in (("template", template_csv(table)), ("sample", sample_csv(table))):
            path = folder / f"{table}.{kind}.csv"
            path.write_bytes(body)
            written.append(path)
    return written
