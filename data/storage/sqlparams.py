"""Values bound to SQL's named parameters, so that no value is ever written into SQL text.

SQL built in pieces (a conversion per column, a condition on a file's rejected lines) binds
each value where it goes and gets back a placeholder ($p0, $p1, ...); the statement is run
with the values of the placeholders it holds:

    params = Params()
    sql = f"SELECT count(*) FROM t WHERE file = {params.bind(name)}"
    con.execute(sql, params.of(sql))

Only identifiers of the schema (table and column names, in double quotes) and the code's own
SQL are text; a file's name, a reason for rejection or a list of words is a parameter.
"""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\$(p\d+)\b")


class Params:
    """Values bound for one or more statements, each under a name of its own."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        """The placeholder `value` is passed as (a list is passed as a SQL list)."""
        name = f"p{len(self._values)}"
        self._values[name] = value
        return f"${name}"

    def of(self, sql: str) -> dict[str, Any]:
        """The values of the placeholders `sql` holds, to run it with. Pieces may be built
        for more than a statement uses (every column's conversion, of which an insert takes
        the values and not the reasons), and DuckDB refuses a parameter a statement lacks."""
        return {name: self._values[name] for name in _PLACEHOLDER.findall(sql)}
