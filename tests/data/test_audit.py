"""The audit trail: hash-chained, so any edit, deletion or reordering is detected."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from data.storage import audit
from data.storage.store import open_store

ENTRIES = 30


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("audit") / "s.duckdb"
    open_store(db).close()  # a new store comes with its key
    for n in range(ENTRIES):
        audit.record(
            db,
            random.Random(n).choice(["import", "report", "export", "erase"]),
            {"rows": n, "table": "orders"},
            actor=f"analyst{n % 3}",
            role="analyst",
        )
    return db


def copy_of(pristine: Path, target: Path) -> Path:
    target.mkdir()
    for suffix in (".key", ".audit.jsonl", ".audit.head"):
        shutil.copy(pristine.with_name(pristine.name + suffix), target / f"s.duckdb{suffix}")
    return target / "s.duckdb"


def test_an_untouched_log_verifies(pristine):
    assert audit.verify(pristine) == audit.Verdict(True, ENTRIES)


def tamper(lines: list[str], rng: random.Random) -> list[str]:
    lines = list(lines)
    kind = rng.choice(["edit", "delete", "swap", "drop_last", "reseq"])
    i = rng.randrange(len(lines))
    if kind == "edit":
        entry = json.loads(lines[i])
        field = rng.choice(["at", "actor", "role", "action", "detail"])
        entry[field] = {"rows": -1} if field == "detail" else entry[field] + "x"
        lines[i] = json.dumps(entry, sort_keys=True)
    elif kind == "delete":
        del lines[i]
    elif kind == "swap":
        j = (i + rng.randrange(1, len(lines))) % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "drop_last":
        lines = lines[: -rng.randrange(1, 4)]
    else:  # renumber an entry to hide a deletion
        del lines[i]
        for k in range(i, len(lines)):
            entry = json.loads(lines[k])
            entry["seq"] -= 1
            lines[k] = json.dumps(entry, sort_keys=True)
    return lines


def test_200_random_edits_deletions_and_reorderings_are_all_detected(pristine, tmp_path):
    rng = random.Random(2026)
    lines = audit.log_path(pristine).read_text().splitlines()
    for attempt in range(200):
        db = copy_of(pristine, tmp_path / f"t{attempt}")
        changed = tamper(lines, rng)
        assert changed != lines
        audit.log_path(db).write_text("\n".join(changed) + "\n")
        verdict = audit.verify(db)
        assert not verdict.ok, f"attempt {attempt} went unnoticed"
        assert verdict.problem


def test_the_log_holds_no_more_than_it_was_given(pristine):
    entry = audit.entries(pristine)[0]
    assert set(entry) == {"seq", "at", "actor", "role", "action", "detail", "prev", "mac"}
