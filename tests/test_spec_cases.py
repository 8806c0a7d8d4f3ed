"""Acceptance cases computed by hand from the domain specification.

Each folder under `tests/spec_cases/` holds canonical CSV files, a README explaining every
figure, and `expected_<label>.json` files of the form `{"args": [...], "metrics": {...}}`.
Every expectation is checked by importing the folder's CSV files into a fresh store and
comparing `consentlens metrics ARGS` with the expected JSON.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "spec_cases"
EXPECTED_FILES = sorted(CASES.glob("*/expected_*.json"))
REL_TOLERANCE = 1e-9
TIMEOUT_SECONDS = 300

TOP_KEYS = {
    "as_of",
    "start",
    "end",
    "min_cell",
    "marketing_purposes",
    "customers",
    "consent",
    "opted_in_by_segment",
    "ymn",
    "funnel",
    "conversion",
    "erasure",
    "requests_by_type",
}
CONSENT_KEYS = {"granted", "denied", "withdrawn", "no_decision", "opt_in_rate"}
CLASSES = ("yes", "maybe", "no")
FUNNEL_KEYS = ("customers", "engaged", "intent", "converted")
CONVERSION_KEYS = {"customers", "converters", "rate", "revenue"}
ERASURE_KEYS = {
    "received",
    "completed",
    "open",
    "overdue",
    "on_time_rate",
    "median_days_to_complete",
    "by_jurisdiction",
    "monthly",
}
JURISDICTION_KEYS = {"received", "completed", "overdue"}
MONTH_KEYS = {"month", "received", "completed"}


# --------------------------------------------------------------------------- helpers


def _csv_files(folder: Path) -> list[str]:
    return [str(p) for p in sorted(folder.glob("*.csv"))]


def _env(db: Path) -> dict[str, str]:
    env = os.environ.copy()
    env["CONSENTLENS_DB"] = str(db)
    return env


def _consentlens(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentlens", "--db", str(db), *args],
        cwd=ROOT,
        env=_env(db),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )


def _import(db: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return _consentlens(db, "import", *paths)


def _import_ok(db: Path, folder: Path) -> None:
    result = _import(db, *_csv_files(folder))
    assert result.returncode == 0, (
        f"import of {folder.name} failed with exit status {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def _metrics(db: Path, *args: str) -> dict:
    result = _consentlens(db, "metrics", *args)
    assert result.returncode == 0, (
        f"metrics {' '.join(args)} failed with exit status {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"metrics did not print JSON ({exc}):\n{result.stdout}")


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def first_difference(expected: object, actual: object, path: str = "$") -> str | None:
    """JSON path and description of the first difference, or None when they agree.

    Integers, strings and nulls must be equal; floats must be floats equal within a relative
    tolerance of 1e-9; objects must have exactly the same keys; lists the same length.
    """
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {_type_name(actual)} {actual!r}"
        missing = sorted(set(expected) - set(actual))
        if missing:
            return f"{path}: missing keys {missing}"
        extra = sorted(set(actual) - set(expected))
        if extra:
            return f"{path}: unexpected keys {extra}"
        for key in expected:
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {_type_name(actual)} {actual!r}"
        if len(expected) != len(actual):
            return f"{path}: expected {len(expected)} items, got {len(actual)}: {actual!r}"
        for index, (exp, act) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(exp, act, f"{path}[{index}]")
            if found:
                return found
        return None
    if expected is None:
        return None if actual is None else f"{path}: expected null, got {actual!r}"
    if isinstance(expected, bool):
        if isinstance(actual, bool) and actual == expected:
            return None
        return f"{path}: expected {expected!r}, got {actual!r}"
    if isinstance(expected, int):
        if isinstance(actual, int) and not isinstance(actual, bool) and actual == expected:
            return None
        return f"{path}: expected the integer {expected}, got {_type_name(actual)} {actual!r}"
    if isinstance(expected, float):
        if not isinstance(actual, float):
            return f"{path}: expected the float {expected!r}, got {_type_name(actual)} {actual!r}"
        if actual == pytest.approx(expected, rel=REL_TOLERANCE):
            return None
        return f"{path}: expected {expected!r}, got {actual!r}"
    if expected == actual and type(expected) is type(actual):
        return None
    return f"{path}: expected {expected!r}, got {actual!r}"


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem.removeprefix('expected_')}"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the comparator


def _variant(**changes: object) -> dict:
    row = {"b": 1, "c": 0.5, "d": None}
    row.update(changes)
    return {"a": [row], "e": "x"}


@pytest.mark.parametrize(
    ("actual", "reported"),
    [
        (_variant(), None),
        (_variant(c=0.5 + 1e-12), None),
        (_variant(b=2), "$.a[0].b:"),
        (_variant(b=1.0), "$.a[0].b:"),
        (_variant(c=0.51), "$.a[0].c:"),
        (_variant(c=1), "$.a[0].c:"),
        (_variant(d=0), "$.a[0].d:"),
        ({**_variant(), "f": 1}, "$: unexpected keys"),
        ({"a": _variant()["a"]}, "$: missing keys"),
        ({"a": [], "e": "x"}, "$.a: expected 1 items"),
    ],
)
def test_first_difference_reports_the_path(actual: dict, reported: str | None) -> None:
    found = first_difference(_variant(), actual)
    if reported is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reported), found


# --------------------------------------------------------------------------- the expectations


def test_cases_exist() -> None:
    assert len({p.parent for p in EXPECTED_FILES}) >= 5


def _months(start: str, end: str) -> list[str]:
    year, month = int(start[:4]), int(start[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= end[:7]:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@pytest.mark.parametrize("path", EXPECTED_FILES, ids=_case_id)
def test_expected_file_is_complete(path: Path) -> None:
    """Every expectation is the full metrics object of spec section 6."""
    spec = _load(path)
    assert set(spec) == {"args", "metrics"}
    assert all(isinstance(a, str) for a in spec["args"])
    m = spec["metrics"]
    assert set(m) == TOP_KEYS
    for purpose, states in m["consent"].items():
        assert set(states) == CONSENT_KEYS, purpose
    assert set(m["opted_in_by_segment"]) == set(m["consent"])
    assert set(m["ymn"]) == set(CLASSES)
    assert set(m["funnel"]) == set(CLASSES)
    assert set(m["conversion"]) == set(CLASSES)
    for cls in CLASSES:
        assert set(m["funnel"][cls]) == set(FUNNEL_KEYS)
        assert set(m["conversion"][cls]) == CONVERSION_KEYS
    erasure = m["erasure"]
    assert set(erasure) == ERASURE_KEYS
    for row in erasure["by_jurisdiction"].values():
        assert set(row) == JURISDICTION_KEYS
    assert all(set(row) == MONTH_KEYS for row in erasure["monthly"])
    assert [row["month"] for row in erasure["monthly"]] == _months(m["start"], m["end"])
    assert m["end"] == m["as_of"]


@pytest.mark.parametrize(
    "path", [p for p in EXPECTED_FILES if _load(p)["metrics"]["min_cell"] == 1], ids=_case_id
)
def test_unsuppressed_expectation_adds_up(path: Path) -> None:
    """Arithmetic checks of the hand computation (the cases are built so that all hold)."""
    m = _load(path)["metrics"]
    customers = m["customers"]
    assert sum(m["ymn"].values()) == customers
    for purpose, states in m["consent"].items():
        counts = [states[s] for s in ("granted", "denied", "withdrawn", "no_decision")]
        assert sum(counts) == customers, purpose
        decided = customers - states["no_decision"]
        rate = states["opt_in_rate"]
        assert rate is None if decided == 0 else math.isclose(rate, states["granted"] / decided)
        assert sum(m["opted_in_by_segment"][purpose].values()) == states["granted"], purpose
    for cls in CLASSES:
        stages = [m["funnel"][cls][k] for k in FUNNEL_KEYS]
        assert stages == sorted(stages, reverse=True), cls
        conversion = m["conversion"][cls]
        assert stages[0] == m["ymn"][cls] == conversion["customers"]
        assert conversion["converters"] == stages[-1]
        assert math.isclose(conversion["rate"], stages[-1] / stages[0])
    erasure = m["erasure"]
    for key in ("received", "completed", "overdue"):
        assert sum(row[key] for row in erasure["by_jurisdiction"].values()) == erasure[key]
    for key in ("received", "completed"):
        assert sum(row[key] for row in erasure["monthly"]) == erasure[key]
    assert erasure["overdue"] <= erasure["open"]
    assert m["requests_by_type"].get("erasure", 0) == erasure["received"]


@pytest.mark.parametrize("path", EXPECTED_FILES, ids=_case_id)
def test_spec_case(path: Path, tmp_path: Path) -> None:
    spec = _load(path)
    db = tmp_path / "store.duckdb"
    _import_ok(db, path.parent)
    actual = _metrics(db, *spec["args"])
    difference = first_difference(spec["metrics"], actual)
    assert difference is None, (
        f"{_case_id(path)} (metrics {' '.join(spec['args'])}): {difference}\n"
        f"see {path.parent / 'README.md'} for the hand computation"
    )


# --------------------------------------------------------------------------- rejected input

BASE_CASE = CASES / "period_arguments"
REJECTED = CASES / "rejected_input"
REJECTIONS = [
    ("bad_revenue", [("orders.csv", 3, "revenue")]),
    ("bad_decision", [("consent_events.csv", 4, "decision")]),
    ("bad_mixed", [("orders.csv", 2, "revenue"), ("consent_events.csv", 3, "decision")]),
]


@pytest.mark.parametrize(("folder", "problems"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_invalid_file_is_refused_and_store_unchanged(
    folder: str, problems: list[tuple[str, int, str]], tmp_path: Path
) -> None:
    db = tmp_path / "store.duckdb"
    _import_ok(db, BASE_CASE)
    before = _metrics(db, "--min-cell", "1")

    result = _import(db, *_csv_files(REJECTED / folder))

    assert result.returncode == 2, (
        f"expected exit status 2, got {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    for file_name, line_number, column in problems:
        matching = [
            text
            for text in lines
            if file_name in text
            and re.search(rf"\b{re.escape(column)}\b", text)
            and re.search(rf"(?<![\d.\-]){line_number}(?![\d.\-])", text)
        ]
        assert matching, (
            f"no stderr line names {file_name}, line {line_number} and column {column}:\n"
            f"{result.stderr}"
        )

    after = _metrics(db, "--min-cell", "1")
    difference = first_difference(before, after)
    assert difference is None, f"the refused import changed the store: {difference}"
