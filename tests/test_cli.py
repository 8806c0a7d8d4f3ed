"""The `consentlens` command: exit statuses, messages and the metrics JSON's shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_csvs

KEYS = [
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
]
ERASURE_KEYS = [
    "received",
    "completed",
    "open",
    "overdue",
    "on_time_rate",
    "median_days_to_complete",
    "by_jurisdiction",
    "monthly",
]


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentlens", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


FILES = {
    "customers": """\
        customer_id,created_at,country,segment
        001,2026-01-01,DE,premium
        002,2026-02-01,US,
    """,
    "consent_events": """\
        customer_id,purpose,decision,occurred_at
        001,email_marketing,granted,2026-01-02
    """,
    "privacy_requests": """\
        request_id,customer_id,type,received_at
        r1,002,erasure,2026-03-01
    """,
}


def test_metrics_json_has_exactly_the_contract_keys(tmp_path):
    db = tmp_path / "s.duckdb"
    assert cli(db, "import", *map(str, write_csvs(tmp_path, FILES))).returncode == 0
    run = cli(db, "metrics", "--min-cell", "1")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert list(out) == KEYS
    assert list(out["erasure"]) == ERASURE_KEYS
    assert (out["as_of"], out["start"], out["end"]) == ("2026-03-01", "2026-01-01", "2026-03-01")
    assert out["ymn"] == {"yes": 1, "maybe": 0, "no": 1}
    assert out["erasure"]["monthly"] == [
        {"month": "2026-01", "received": 0, "completed": 0},
        {"month": "2026-02", "received": 0, "completed": 0},
        {"month": "2026-03", "received": 1, "completed": 0},
    ]
    # At the default k every count of 1 is withheld.
    default = json.loads(cli(db, "metrics").stdout)
    assert default["min_cell"] == 11
    assert default["customers"] is None and default["ymn"] == {"yes": None, "maybe": 0, "no": None}


def test_rejected_import_exits_2_with_one_problem_a_line_and_no_traceback(tmp_path):
    db = tmp_path / "s.duckdb"
    cli(db, "import", *map(str, write_csvs(tmp_path, FILES)))
    before = cli(db, "metrics", "--min-cell", "1").stdout
    bad = write_csvs(
        tmp_path / "bad",
        {
            "orders": """\
        order_id,customer_id,ordered_at,revenue
        o1,001,2026-01-05,ten
        o2,009,2026-01-05,10
    """
        },
    )
    run = cli(db, "import", *map(str, bad))
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"{bad[0]}, line 2, column revenue: not a decimal number",
        f"{bad[0]}, line 3, column customer_id: names no row of customers",
        "import refused: 2 problem(s); the store is unchanged",
    ]
    assert cli(db, "metrics", "--min-cell", "1").stdout == before


def test_bad_arguments_are_refused_with_status_2(tmp_path):
    db = tmp_path / "s.duckdb"
    cli(db, "import", *map(str, write_csvs(tmp_path, FILES)))
    run = cli(db, "metrics", "--start", "2026-03-01", "--end", "2026-01-01")
    assert (run.returncode, run.stderr.strip()) == (
        2,
        "consentlens: start 2026-03-01 is after end 2026-01-01",
    )
    assert cli(db, "metrics", "--as-of", "31/01/2026").returncode == 2
    assert cli(db, "metrics", "--min-cell", "0").returncode == 2
    assert "Traceback" not in run.stderr


def test_metrics_on_a_missing_store_explains_itself(tmp_path):
    run = cli(tmp_path / "none.duckdb", "metrics")
    assert run.returncode == 1
    assert run.stderr.startswith("consentlens: no store at")
