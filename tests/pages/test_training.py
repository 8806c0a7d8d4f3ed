"""Training mode in the dashboard: ?scenario= on any page, the banner, a tour walked end to
end, exercises answered right and wrong, reset, an unknown scenario, and the real store left
alone."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from consentlens import training
from consentlens.access import LOCAL_EXACT_ENV
from data.synthetic.generator import SCENARIOS
from pages._routes import PAGES
from tests.pages.conftest import APP

SMALL = "3000"
DASHBOARDS = [path for path, *_ in PAGES["Dashboards"]]


@pytest.fixture
def real(tmp_path: Path, demo_db: Path, monkeypatch) -> Path:
    """A copy of the demo store as the real one, in a folder of its own."""
    path = tmp_path / "var" / "consentlens.duckdb"
    path.parent.mkdir()
    for source in demo_db.parent.iterdir():
        if source.is_file() and source.name.startswith(demo_db.name):
            (path.parent / source.name.replace(demo_db.name, path.name)).write_bytes(
                source.read_bytes()
            )
    monkeypatch.setenv("CONSENTLENS_DB", str(path))
    monkeypatch.setenv(LOCAL_EXACT_ENV, "1")
    monkeypatch.setenv(training.CUSTOMERS_ENV, SMALL)
    return path


def _bytes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _open(query: dict[str, str], page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def _texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "error", "title")
        for e in getattr(at, kind)
    ]
    return "\n".join(parts)


def test_every_page_under_scenario_carries_the_banner_and_reads_the_scenario_only(real):
    before = _bytes(real.parent)
    title = training.SCENARIO_DETAILS["erasure_surge"].title
    for page in [*DASHBOARDS, "pages/training.py"]:
        at = _open({"scenario": "erasure_surge"}, page)
        assert not at.exception, page
        shown = _texts(at)
        assert "Training: synthetic data." in shown, page
        assert title in shown, page
        assert [b.label for b in at.button if b.key == "leave_training"] == ["Leave training"]
    # The pages that write or show a person are not routed in training.
    at = _open({"scenario": "erasure_surge"})
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/person.py").run()
    overview = _open({"scenario": "erasure_surge"})
    shown = next(m.value for m in overview.metric if m.label == "Customers")
    params = overview.session_state["params"]
    path = training.store_path("erasure_surge", training.DEFAULT_SEED, int(SMALL), real=real)
    scenario = training.api.evaluate(path, training.api.published, params)["customers"]
    assert shown == f"{scenario:,}"
    # Nothing training did touched the real store's files (its own reads come after).
    assert _bytes(real.parent) == before
    assert scenario != training.api.evaluate(real, training.api.published, params)["customers"]
    assert (real.parent / "training").is_dir()


def test_leaving_training_returns_to_the_real_store(real):
    at = _open({"scenario": "baseline"})
    in_training = next(m.value for m in at.metric if m.label == "Customers")
    at.button(key="leave_training").click().run()
    assert "Training: synthetic data." not in _texts(at)
    assert "scenario" not in at.query_params
    real_customers = next(m.value for m in at.metric if m.label == "Customers")
    assert real_customers != in_training


def test_an_unknown_scenario_says_which_exist_and_shows_no_figure(real):
    at = _open({"scenario": "nope"})
    assert not at.exception
    [error] = at.error
    assert "“nope”" in error.value
    for name in SCENARIOS:
        assert f"`{name}`" in error.value
    assert not at.metric and not at.get("plotly_chart")


def test_a_tour_is_walked_end_to_end(real):
    # From the banner of the page the link opened (each step then opens its own page).
    at = _open({"scenario": "channel_mix_trap"})
    steps = training.TOURS["channel_mix_trap"]
    at.button(key="tour_from_banner").click().run()
    for number, step in enumerate(steps, start=1):
        box = _texts(at)
        assert f"Tour, step {number} of {len(steps)}." in box
        assert step.look_at in box and step.text in box
        for key, value in step.controls.items():
            assert at.session_state[key] == value
        assert not at.exception
        at.button(key="tour_next").click().run()
    # After the last step: back on the Training page, the tour over.
    assert "Guided tour" in [s.value for s in at.subheader]
    assert "tour" not in at.session_state


def test_an_exercise_answered_right_then_wrong_then_reset(real):
    at = _open({"scenario": "baseline"}, "pages/training.py")
    path = training.store_path("baseline", training.DEFAULT_SEED, int(SMALL), real=real)
    params = training.default_view(path, perturbed=False)

    def compute(fn, view, *args):
        return training.api.evaluate(path, fn, view, *args)

    (customers, key), (purpose, best) = training.answers("baseline", compute, params)
    field = "answer_baseline_customers"
    at.number_input(key=field).set_value(float(key.value)).run()
    at.button(key=f"check_{field}").click().run()
    assert [s.value for s in at.success] == [f"Right: {key.text}. {key.explanation}"]
    assert "Progress:** 1 of 2" in _texts(at)

    wrong = next(c for c in best.choices if c != best.value)
    choice = "answer_baseline_best_purpose"
    at.radio(key=choice).set_value(wrong).run()
    at.button(key=f"check_{choice}").click().run()
    assert [e.value for e in at.error] == [
        f"Not quite: the answer is {best.text}. {best.explanation}"
    ]
    assert "Progress:** 1 of 2" in _texts(at)

    at.button(key="training_reset").click().run()
    assert "Progress:** 0 of 2" in _texts(at)
    assert not at.success and not at.error


def test_the_training_page_lists_every_scenario_outside_training(real):
    at = _open({}, "pages/training.py")
    headers = [s.value for s in at.subheader]
    for _name, details in training.scenarios():
        assert any(h.startswith(details.title) for h in headers)
    at.button(key="start_low_consent").click().run()
    assert at.query_params["scenario"] == ["low_consent"] or at.query_params["scenario"] == (
        "low_consent"
    )


def _shown(at: AppTest) -> tuple[dict[str, str], list]:
    """The page's tiles (label -> value) and its tables as shown."""
    return {m.label: m.value for m in at.metric}, [d.value for d in at.dataframe]


def _table(tables: list, *columns: str):
    return next(t for t in tables if all(c in t.columns for c in columns))


def _pct(text: str) -> float:
    return float(text.rstrip("%")) if text.endswith("%") else float("nan")


def _evidence(key: str, answer: training.Answer, at: AppTest) -> None:
    """The figure the page shows for the view agrees with the answer key."""
    from pages import _labels as labels

    tiles, tables = _shown(at)
    rate = "Opt-in rate (of those who decided)"
    if key == "customers":
        assert tiles["Customers"] == answer.text
    elif key == "overdue":
        assert tiles["Overdue now"] == answer.text
    elif key == "email_rate":
        states = _table(tables, "No decision", rate).set_index("Purpose")
        assert states.loc["Email marketing", rate] == answer.text
    elif key == "best_purpose":
        states = _table(tables, "No decision", rate)
        best = states.loc[states[rate].map(_pct).idxmax(), "Purpose"]
        assert best == labels.words(answer.value)
    elif key == "opted_in_after":
        share = "Opted in (share of all customers)"
        trend = _table(tables, "Period", share)
        row = trend[(trend.Period == training.scenario_data.WAVE_MONTH)]
        assert row.set_index("Purpose").loc["Email marketing", share] == answer.text
    elif key == "peak":
        trend = _table(tables, "Period", "Decisions")
        counts = trend.assign(n=trend.Decisions.str.replace(",", "").map(_number))
        assert counts.groupby("Period").n.sum().idxmax() == answer.value
    elif key == "trend":
        # The month bars' own numbers (erasure requests received per month; a withheld month
        # has no bar), summed over each half of the view as the key says it sums them.
        import json

        from metrics.report import months

        charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        [received] = [
            c
            for c in charts
            if c["layout"]["title"]["text"].startswith("Privacy requests received")
        ]
        [erasure] = [trace for trace in received["data"] if trace["name"] == "Erasure"]
        bars = dict(zip(erasure["x"], erasure["y"], strict=True))
        params = at.session_state["params"]
        view = months(params.start, params.end)
        half = len(view) // 2
        before = sum(bars.get(m) or 0 for m in view[:half])
        after = sum(bars.get(m) or 0 for m in view[half:])
        assert f"{after:,} in the last {len(view) - half} months" in answer.explanation
        assert f"against {before:,} in the {half} before" in answer.explanation
    elif key == "slowest":
        done = _table(tables, "Median days to complete")
        slowest = done.loc[done["Median days to complete"].map(_number).idxmax(), "Jurisdiction"]
        assert slowest == labels.jurisdiction(answer.value)
    elif key in ("raw_gap", "like_with_like"):
        gaps = _table(tables, "Comparison", "Measure")
        row = gaps[
            (gaps.Comparison == "Yes (opted in) minus Maybe (undecided)")
            & (gaps.Measure == "Conversion rate")
        ].iloc[0]
        raw = float(row["As observed (95% interval)"].split(" pts")[0])
        like = float(row["Like with like (95% interval)"].split(" pts")[0])
        if key == "raw_gap":
            assert raw == answer.value
        else:
            assert (like > raw / 2) == (answer.value == training.MOST_REMAINS)
    else:
        raise AssertionError(f"no check for exercise {key!r}")


def _number(text: str) -> float:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return float("nan")


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_answer_is_the_figure_its_page_shows_for_the_same_view(real, scenario):
    path = training.store_path(scenario, training.DEFAULT_SEED, int(SMALL), real=real)

    def compute(fn, view, *args):
        return training.api.evaluate(path, fn, view, *args)

    pages = dict.fromkeys(e.page for e in training.EXERCISES[scenario])
    for page in pages:
        at = _open({"scenario": scenario}, f"pages/{page}.py")
        assert not at.exception
        for exercise in training.EXERCISES[scenario]:
            if exercise.page == page:
                answer = exercise.answer(compute, at.session_state["params"])
                _evidence(exercise.key, answer, at)


def test_every_role_that_sees_dashboards_may_train_and_no_writing_page_is_routed(real, monkeypatch):
    for role in ("viewer", "analyst", "privacy_officer"):
        monkeypatch.setenv("CONSENTLENS_LOCAL_ROLE", role)
        at = _open({"scenario": "low_consent"}, "pages/training.py")
        assert not at.exception, role
        assert "Training: synthetic data." in _texts(at)
        for page in ("pages/upload.py", "pages/person.py", "pages/forget.py", "pages/audit.py"):
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page).run()
