"""Training stores: made beside the real store on first use, once for a whole class, never
touching the real one; the answer keys and the command line."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from markupsafe import escape

from consentlens import training
from data.storage import audit
from data.storage.store import open_store
from data.synthetic.generator import SCENARIOS, generate

SMALL = 3_000  # training stores in these tests: the exercises' figures, not the effects


def _digest(folder: Path) -> dict[str, str]:
    """Every file of a folder (but the training stores' own), by its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and training.FOLDER not in p.relative_to(folder).parts
    }


@pytest.fixture
def real(tmp_path: Path) -> Path:
    path = tmp_path / "var" / "consentlens.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(1_500, seed=3), info={"source": "import"})
    audit.record(path, "import", {"rows": 1})
    return path


def test_a_training_store_is_made_beside_the_real_one_which_stays_byte_for_byte(real):
    before = _digest(real.parent)
    path = training.prepare("baseline", 11, SMALL, real=real)
    answers = training.key("baseline", 11, SMALL, real=real)
    assert path.parent == real.parent / "training" and path.exists() and path != real
    # Named for the generator that made it: a changed generator makes its stores anew.
    assert path.name == f"baseline-seed11-{SMALL}-{training.generator_version()}.duckdb"
    assert _digest(real.parent) == before
    # The key is the training store's: its customers, not the real store's 1,500.
    customers = next(a for a in answers if "How many customers" in a["question"])
    assert customers["answer"] > 2_000


def test_a_class_opening_a_scenario_at_once_generates_it_once(real):
    paths: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: paths.append(training.prepare("low_consent", 5, SMALL, real=real))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(paths)) == 1 and len(paths) == 4
    made = [e for e in audit.entries(paths[0]) if e["action"] == "demo"]
    assert len(made) == 1 and made[0]["detail"]["scenario"] == "low_consent"
    assert made[0]["actor"] == "training"


def test_an_unknown_scenario_is_refused_with_the_valid_ones(real):
    with pytest.raises(training.service.Refused) as refused:
        training.prepare("nope", real=real)
    assert str(refused.value) == (
        f"unknown training scenario 'nope'; choose one of {', '.join(SCENARIOS)}"
    )
    assert not (real.parent / "training").exists()


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentlens", "--db", str(db), "training", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_command_line_lists_the_scenarios_and_prints_a_key(real):
    listed = _cli(real, "list")
    assert listed.returncode == 0, listed.stderr
    for name, details in training.scenarios():
        assert f"{name}: {details.title}" in listed.stdout
        assert f"lesson: {details.lesson}" in listed.stdout
    assert len(training.scenarios()) >= 6 and any(d.trap for _, d in training.scenarios())

    printed = _cli(real, "key", "erasure_surge", "--customers", str(SMALL), "--seed", "11")
    assert printed.returncode == 0, printed.stderr
    keyed = json.loads(printed.stdout)
    assert [set(item) for item in keyed] == [{"question", "answer", "explanation"}] * len(keyed)
    assert [item["question"] for item in keyed] == [
        e.question for e in training.EXERCISES["erasure_surge"]
    ]
    # The same key as the function gives for the same store and view.
    assert keyed == training.key("erasure_surge", 11, SMALL, real=real)

    unknown = _cli(real, "key", "nope")
    assert unknown.returncode == 2
    assert "choose one of " + ", ".join(SCENARIOS) in unknown.stderr


def test_every_scenario_has_a_tour_and_exercises_on_pages_that_exist():
    from metrics.figures import PAGE_TITLES

    for name, _details in training.scenarios():
        assert len(training.TOURS[name]) >= 3
        assert len(training.EXERCISES[name]) >= 2
        for step in training.TOURS[name]:
            assert step.page in PAGE_TITLES and step.text and step.look_at
        kinds = {e.kind for e in training.EXERCISES[name]}
        assert kinds <= {"number", "choice"}


def test_the_trainers_sheet_escapes_and_holds_every_answer(real):
    path = training.prepare("channel_mix_trap", 11, SMALL, real=real)
    params = training.default_view(path, perturbed=True)

    def compute(fn, view, *args):
        return training.api.evaluate(path, fn, view, *args)

    keyed = training.answers("channel_mix_trap", compute, params)
    html = training.sheet_html(
        "channel_mix_trap", 11, SMALL, keyed, params, link="?scenario=<x>&seed=11"
    )
    assert "Training: synthetic data" in html
    assert "?scenario=&lt;x&gt;&amp;seed=11" in html
    for exercise, answer in keyed:
        assert escape(exercise.question) in html and escape(answer.text) in html
