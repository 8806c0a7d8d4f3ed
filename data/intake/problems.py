"""What is wrong with an input, said by file, line, column and reason, never by value."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Column of a text table holding the line (or sheet row) each record starts on.
LINE_COLUMN = "__line"


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a file or row is rejected; never carries a cell value."""

    file: str
    line: int
    column: str
    reason: str
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{self.file}, {self.unit} {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


class ImportRejected(Exception):
    """The import was refused; `problems` lists why. Nothing was written."""

    def __init__(
        self,
        problems: Sequence[Problem],
        checksums: Mapping[str, str] | None = None,
        outcome: Any = None,
    ):
        self.problems = sorted(problems)
        self.checksums = dict(checksums or {})  # file name -> SHA-256 of the files checked
        self.outcome = outcome  # what the check came to (data.intake.ingest.Outcome), if known
        super().__init__(f"{len(self.problems)} problem(s); nothing was imported")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def problems_csv(problems: Sequence[Problem]) -> str:
    """The problems as CSV (file, unit, line, column, reason), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "unit", "line", "column", "reason"])
    for p in problems:
        writer.writerow([inert(p.file), p.unit, p.line, inert(p.column), inert(p.reason)])
    return out.getvalue()
