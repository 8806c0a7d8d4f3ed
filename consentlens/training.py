"""Training mode: a scenario's own store beside the real one, a guided tour and exercises whose
answers are computed from the scenario's data by the metrics the pages show.

A training store is generated on first use (seeded, TRAINING_CUSTOMERS customers) into
`training/` beside the real store, never in its place, by one session while the others wait
for it; then everyone reads it. Nothing here reads or writes the real store.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from consentlens import service
from consentlens.access import ADMIN, Identity
from data.storage.store import resolve_path
from data.synthetic import generator
from data.synthetic import scenarios as scenario_data
from data.synthetic.generator import SCENARIOS
from data.synthetic.scenarios import SCENARIO_DETAILS
from metrics import api, consent_views, erasure_views, figures, impact
from metrics.params import Params, default_min_cell

TRAINING_CUSTOMERS = 50_000  # ready in a few seconds; $CONSENTLENS_TRAINING_CUSTOMERS overrides
CUSTOMERS_ENV = "CONSENTLENS_TRAINING_CUSTOMERS"
DEFAULT_SEED = 7
FOLDER = "training"
# Who generates a training store: recorded in that store's own audit trail.
TRAINER = Identity("training", ADMIN, "training")

# What a figure function is given: fn(tables, params, *args) on the training store.
Figures = Callable[..., Any]


def default_customers() -> int:
    """The size of a training store: $CONSENTLENS_TRAINING_CUSTOMERS, else 50,000."""
    text = os.environ.get(CUSTOMERS_ENV, "")
    return int(text) if text.isdigit() and int(text) > 0 else TRAINING_CUSTOMERS


def check_scenario(name: str) -> str:
    """`name` if it is a scenario; else Refused, listing the valid ones."""
    if name not in SCENARIOS:
        raise service.Refused(
            f"unknown training scenario {name!r}; choose one of {', '.join(SCENARIOS)}"
        )
    return name


def folder(real: str | Path | None = None) -> Path:
    """Where the training stores live: a folder beside the real store."""
    return resolve_path(real).parent / FOLDER


def store_path(
    scenario: str,
    seed: int = DEFAULT_SEED,
    customers: int | None = None,
    *,
    real: str | Path | None = None,
) -> Path:
    """The training store of one scenario, seed and size (default_customers() if None), for
    this version of the generator: a changed generator makes its stores anew."""
    customers = customers or default_customers()
    name = f"{check_scenario(scenario)}-seed{seed}-{customers}-{generator_version()}.duckdb"
    return folder(real) / name


@functools.cache
def generator_version() -> str:
    """A short fingerprint of the generator and the scenarios' definitions."""
    digest = hashlib.sha256()
    for module in (generator, scenario_data):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:10]


def prepare(
    scenario: str,
    seed: int = DEFAULT_SEED,
    customers: int | None = None,
    *,
    real: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """The scenario's training store, generated first if this is its first use. A class of
    twenty opening it at once generates it once: the first session holds a lock while it
    writes and the others wait for it, then read the same store."""
    customers = customers or default_customers()
    path = store_path(scenario, seed, customers, real=real)
    ready = path.with_name(path.name + ".ready")
    if ready.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".making"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not ready.exists():
                # A store left half-made by a stopped run is replaced whole.
                service.demo(
                    TRAINER,
                    customers=customers,
                    seed=seed,
                    scenario=scenario,
                    progress=progress,
                    db=path,
                )
                ready.write_text(f"{scenario} seed {seed} customers {customers}\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path


# Exercises: questions answered in the page, checked against a key computed from the data.


@dataclass(frozen=True)
class Answer:
    """The key of one exercise for one view: the value, how it reads, and why."""

    value: float | str
    text: str
    explanation: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exercise:
    """A question about what a page shows (`page`: as metrics/figures.py names it),
    answered with a number (within `tolerance`) or one of the choices the key offers."""

    key: str
    question: str
    kind: str  # "number" or "choice"
    page: str
    solve: Callable[[Figures, Params], Answer]
    unit: str = ""
    tolerance: float = 0.0  # for numbers: accepted distance from the key, in the unit shown

    def answer(self, figures: Figures, params: Params) -> Answer:
        """The key, computed from the scenario's data for the view `params`."""
        return self.solve(figures, params)

    def check(self, given: float | str | None, answer: Answer) -> bool:
        """Whether `given` is the key's answer (numbers within the tolerance)."""
        if given is None:
            return False
        if self.kind == "choice":
            return given == answer.value
        try:
            distance = abs(float(given) - float(answer.value))
        except (TypeError, ValueError):
            return False
        return distance <= self.tolerance + 1e-9


def _json(figures: Figures, params: Params) -> dict[str, Any]:
    return figures(api.published, params)


def _withheld(where: str) -> Answer:
    """The key when the figure a question asks about is withheld in this view."""
    return Answer(
        "withheld",
        "withheld",
        f"{where} reads withheld in this view: too few people stand behind it to publish it "
        "(a larger training store shows it).",
    )


def _count(value: int | None) -> str:
    return "withheld" if value is None else f"{value:,}"


def _customers(figures: Figures, params: Params) -> Answer:
    n = _json(figures, params)["customers"]
    return Answer(
        n,
        _count(n),
        f"The Overview's first tile: {_count(n)} customers created on or before "
        f"{params.as_of}, the period's last day (the as-of date every figure is taken at).",
    )


def _best_opt_in(figures: Figures, params: Params) -> Answer:
    consent = _json(figures, params)["consent"]
    rates = {p: s["opt_in_rate"] for p, s in consent.items() if s["opt_in_rate"] is not None}
    if not rates:
        return _withheld("Every purpose's opt-in rate")
    best = max(rates, key=lambda p: (rates[p], p))
    words = best.replace("_", " ")
    return Answer(
        best,
        words,
        f"On the Consent page, {words} has the highest opt-in rate of those who decided: "
        f"{rates[best]:.1%}. The rate counts granted against granted, denied and withdrawn, "
        "not against every customer.",
        tuple(rates),
    )


def _email_rate(figures: Figures, params: Params) -> Answer:
    rate = _json(figures, params)["consent"]["email_marketing"]["opt_in_rate"]
    if rate is None:
        return _withheld("The opt-in rate of email marketing")
    shown = round(rate * 100, 1)
    return Answer(
        shown,
        f"{shown:.1f}%",
        f"Consent page, email marketing: {shown:.1f}% of those who decided opted in. Without "
        "a cookie wall fewer people say yes, and browsers sending Global Privacy Control "
        "refuse on the person's behalf.",
    )


def _opted_in_after_wave(figures: Figures, params: Params) -> Answer:
    trend: pd.DataFrame = figures(consent_views.opted_in_trend, params, "month")
    email = trend[trend["purpose"] == "email_marketing"].set_index("period")["granted_share"]
    eve, wave = scenario_data.WAVE_BEFORE[-1], scenario_data.WAVE_MONTH
    before, after = email.get(eve), email.get(wave)
    if before is None or after is None or pd.isna(before) or pd.isna(after):
        return _withheld("The opted-in share around the wave")
    shown = round(after * 100, 1)
    return Answer(
        shown,
        f"{shown:.1f}%",
        f"Consent page, opted in (share of all customers) at the end of each month, email "
        f"marketing: {before:.1%} at the end of {eve}, {after:.1%} at the end of {wave}. Asked "
        "again, some who had said yes withdrew.",
    )


def _overdue(figures: Figures, params: Params) -> Answer:
    n = _json(figures, params)["erasure"]["overdue"]
    return Answer(
        n,
        _count(n),
        f"The Erasure page's Overdue tile: {_count(n)} erasure requests were open on "
        f"{params.as_of} past their jurisdiction's legal deadline. The target is zero.",
    )


RISE, STEADY, FALL = "Rose", "Held steady", "Fell"


def _erasure_trend(figures: Figures, params: Params) -> Answer:
    monthly = [row["received"] or 0 for row in _json(figures, params)["erasure"]["monthly"]]
    half = len(monthly) // 2
    before, after = sum(monthly[:half]), sum(monthly[half:])
    ratio = after / before if before else math.inf
    value = RISE if ratio > 1.25 else FALL if ratio < 0.8 else STEADY
    return Answer(
        value,
        value,
        f"Erasure page, requests received per month: {after:,} in the last {len(monthly) - half} "
        f"months against {before:,} in the {half} before ({ratio:.1f} times). Withheld months "
        "count as none here, as they are small.",
        (RISE, STEADY, FALL),
    )


def _decision_peak(figures: Figures, params: Params) -> Answer:
    trend: pd.DataFrame = figures(consent_views.consent_trend, params, "month")
    per_month = trend.groupby("period")["decisions"].sum(min_count=1).fillna(0)
    peak = str(per_month.idxmax())
    return Answer(
        peak,
        peak,
        f"Consent page, new consent decisions per month: {int(per_month[peak]):,} in {peak}, "
        f"against a median month of {int(per_month.median()):,}. A new privacy notice asks "
        "every customer again, and many answer within weeks.",
        tuple(str(p) for p in per_month.index),
    )


def _slowest_jurisdiction(figures: Figures, params: Params) -> Answer:
    page = figures(erasure_views.erasure_figures, params)
    table = page.jurisdictions.dropna(subset=["median_days"])
    if table.empty:
        return _withheld("Every jurisdiction's median days to complete")
    worst = table.sort_values(["median_days", "jurisdiction"], ascending=[False, True]).iloc[0]
    return Answer(
        worst["jurisdiction"],
        worst["jurisdiction"],
        f"Erasure page, completed on time per jurisdiction: {worst['jurisdiction']} takes a "
        f"median of {worst['median_days']:.0f} days to complete a request, against a legal "
        f"deadline of {worst['deadline']}; its on-time share may read withheld, as its counts "
        "are small, but the median days say it.",
        tuple(table["jurisdiction"]),
    )


def _yes_maybe_gap(figures: Figures, params: Params, column: str) -> float | None:
    result = figures(impact.impact, params, impact.BY_CLASS)
    gaps = result.gaps
    row = gaps[
        (gaps["first"] == "yes") & (gaps["second"] == "maybe") & (gaps["measure"] == impact.RATE)
    ]
    if row.empty or pd.isna(row.iloc[0][column]):
        return None
    return float(row.iloc[0][column]) * 100


def _raw_gap(figures: Figures, params: Params) -> Answer:
    gap = _yes_maybe_gap(figures, params, "raw")
    if gap is None:
        return _withheld("The gap between yes and maybe")
    shown = round(gap, 1)
    return Answer(
        shown,
        f"{shown:+.1f} points",
        f"Conversion impact page, grouped by class, gaps as observed: yes converts {shown:+.1f} "
        "percentage points more than maybe.",
    )


MOST_REMAINS, MOST_GOES = "Most of it remains", "Most of it disappears"


def _like_with_like(figures: Figures, params: Params) -> Answer:
    raw = _yes_maybe_gap(figures, params, "raw")
    like = _yes_maybe_gap(figures, params, "stratified")
    if raw is None or like is None:
        return _withheld("The gap between yes and maybe")
    value = MOST_REMAINS if like > raw / 2 else MOST_GOES
    return Answer(
        value,
        value,
        f"Conversion impact page: the raw gap is {raw:+.1f} points, like with like "
        f"{like:+.1f}. Yes customers come mostly from channels whose customers buy more "
        "whatever they consent to: compare groups with the same channel and country mix "
        "before crediting consent.",
        (MOST_REMAINS, MOST_GOES),
    )


# The pages, as metrics/figures.py names them (each page's script).
OVERVIEW, CONSENT, ERASURE, IMPACT = (
    figures.OVERVIEW,
    figures.CONSENT_PAGE,
    figures.ERASURE_PAGE,
    figures.IMPACT_PAGE,
)

# Questions two scenarios ask, each about its own data.
BEST_PURPOSE = Exercise(
    "best_purpose",
    "Which purpose has the highest opt-in rate among those who decided?",
    "choice",
    CONSENT,
    _best_opt_in,
)
OVERDUE = Exercise(
    "overdue",
    "How many erasure requests are overdue on the period's last day?",
    "number",
    ERASURE,
    _overdue,
    unit="requests",
)

EXERCISES: dict[str, tuple[Exercise, ...]] = {
    "baseline": (
        Exercise(
            "customers",
            "How many customers does the store hold at the period's last day?",
            "number",
            OVERVIEW,
            _customers,
            unit="customers",
        ),
        BEST_PURPOSE,
    ),
    "erasure_surge": (
        Exercise(
            "trend",
            "Over the last six months, did erasure requests received per month rise, hold "
            "steady or fall against the six months before?",
            "choice",
            ERASURE,
            _erasure_trend,
        ),
        OVERDUE,
    ),
    "low_consent": (
        Exercise(
            "email_rate",
            "What share of those who decided opted in to email marketing (in %)?",
            "number",
            CONSENT,
            _email_rate,
            unit="%",
            tolerance=0.5,
        ),
        BEST_PURPOSE,
    ),
    "reconsent_wave": (
        Exercise(
            "peak",
            "In which month did new consent decisions peak?",
            "choice",
            CONSENT,
            _decision_peak,
        ),
        Exercise(
            "opted_in_after",
            "What share of all customers was opted in to email marketing at the end of "
            f"{scenario_data.WAVE_MONTH}, the month of the wave (in %)?",
            "number",
            CONSENT,
            _opted_in_after_wave,
            unit="%",
            tolerance=0.5,
        ),
    ),
    "overdue_jurisdiction": (
        Exercise(
            "slowest",
            "Which jurisdiction takes the longest to complete an erasure request (median days)?",
            "choice",
            ERASURE,
            _slowest_jurisdiction,
        ),
        OVERDUE,
    ),
    "channel_mix_trap": (
        Exercise(
            "raw_gap",
            "As observed, how many percentage points higher is the yes class's conversion "
            "rate than the maybe class's?",
            "number",
            IMPACT,
            _raw_gap,
            unit="points",
            tolerance=0.5,
        ),
        Exercise(
            "like_with_like",
            "Compared like with like (the same channel and country mix), what is left of that gap?",
            "choice",
            IMPACT,
            _like_with_like,
        ),
    ),
}


# Tours: a sequence of views, each explained.


@dataclass(frozen=True)
class Step:
    """One stop of a tour: a page (as metrics/figures.py names it), the page's own
    controls to set, the chart or section to look at, and what it shows."""

    page: str
    look_at: str
    text: str
    controls: dict[str, str] = field(default_factory=dict)


_START = Step(
    OVERVIEW,
    "Customers by class",
    "Start from the Overview: every customer is yes, maybe or no over the marketing "
    "purposes. The tiles compare the period with the one before.",
)
TOURS: dict[str, tuple[Step, ...]] = {
    "baseline": (
        _START,
        Step(
            CONSENT,
            "Consent state per purpose",
            "Each purpose's customers by their consent state on the period's last day. The "
            "opt-in rate counts only those who decided.",
        ),
        Step(
            ERASURE,
            "Requests received and completed",
            "Erasure requests rise slowly; the backlog stays small and nothing is overdue.",
        ),
    ),
    "erasure_surge": (
        _START,
        Step(
            ERASURE,
            "Requests received and completed",
            "Requests received per month double in the last six months: the bars climb.",
            {"erasure_grain": "month"},
        ),
        Step(
            ERASURE,
            "Backlog of erasure requests",
            "Handling did not keep up: open requests pile up at each month's end and some "
            "pass their legal deadline.",
        ),
    ),
    "low_consent": (
        _START,
        Step(
            CONSENT,
            "Consent state per purpose",
            "Far fewer grants than in the baseline: without a cookie wall people refuse, and "
            "Global Privacy Control refuses for them.",
        ),
        Step(
            CONSENT,
            "Opted-in customers by group",
            "By consent method: the gpc bars show refusals no one clicked.",
            {"consent_dimension": "method"},
        ),
    ),
    "reconsent_wave": (
        _START,
        Step(
            CONSENT,
            "Over time",
            "New consent decisions per month: one month towers over the others, when a new "
            "privacy notice asked everyone again.",
            {"consent_grain": "month"},
        ),
        Step(
            CONSENT,
            "Opted in (share of all customers)",
            "The opted-in share steps at the wave: those who did not confirm are no longer "
            "opted in.",
            {"consent_grain": "month"},
        ),
    ),
    "overdue_jurisdiction": (
        _START,
        Step(
            ERASURE,
            "Completed on time, against each jurisdiction's legal deadline",
            "One jurisdiction lags: LGPD's median days to complete is past its 15-day "
            "deadline while the others finish well within theirs (its on-time share may read "
            "withheld: its counts are small).",
        ),
        Step(
            ERASURE,
            "Requests received and completed",
            "By jurisdiction: requests keep arriving at the usual pace, so the lag is in the "
            "handling, not in the demand.",
            {"erasure_by": "jurisdiction"},
        ),
    ),
    "channel_mix_trap": (
        _START,
        Step(
            IMPACT,
            "Conversion rate",
            "As observed, yes customers convert far more than maybe customers. Is consent "
            "the reason?",
            {"impact_by": "class"},
        ),
        Step(
            IMPACT,
            "Gaps between groups",
            "Like with like (the same acquisition channel and country mix) most of the gap "
            "disappears: the channels that bring yes customers bring buyers.",
            {"impact_by": "class"},
        ),
    ),
}


def answers(scenario: str, figures: Figures, params: Params) -> list[tuple[Exercise, Answer]]:
    """Every exercise of a scenario with its key for the view `params` (`figures` computes a
    figure on the scenario's store: the page's cached one, or api.evaluate)."""
    return [(exercise, exercise.answer(figures, params)) for exercise in EXERCISES[scenario]]


def default_view(path: Path, *, perturbed: bool) -> Params:
    """The dashboard's default view of a training store, which the exercises ask about."""
    info = api.summarize(path)
    return replace(api.default_params(info, min_cell=default_min_cell()), perturbed=perturbed)


def key(
    scenario: str,
    seed: int = DEFAULT_SEED,
    customers: int | None = None,
    *,
    perturbed: bool = True,
    real: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """The answer key of a scenario, for the dashboard's default view of its store (counts
    with the noise a viewer sees, unless `perturbed` is False)."""
    path = prepare(scenario, seed, customers, real=real, progress=progress)
    params = default_view(path, perturbed=perturbed)

    def compute(fn: Callable[..., Any], view: Params, *args: Any) -> Any:
        return api.evaluate(path, fn, view, *args)

    return [
        {"question": exercise.question, "answer": answer.value, "explanation": answer.explanation}
        for exercise, answer in answers(scenario, compute, params)
    ]


def effect_text(effect: Any) -> str:
    """A declared effect in one sentence: what changes, where, from when, by how much."""
    since = f" from {effect.since:%-d %B %Y}" if getattr(effect, "since", None) else ""
    return f"{effect.what} ({effect.where}){since}: {effect.measure}, declared {effect.size:g}."


def sheet_html(
    scenario: str,
    seed: int,
    customers: int,
    keyed: Sequence[tuple[Exercise, Answer]],
    params: Params,
    *,
    link: str,
) -> str:
    """The trainer's sheet: story, lesson, effects, tour, and the exercises with answers,
    as one self-contained HTML page (Jinja2, every value escaped)."""
    details = SCENARIO_DETAILS[scenario]
    template = _templates().get_template("training_sheet.html")
    return template.render(
        name=scenario,
        title=details.title,
        trap=details.trap,
        story=details.story,
        lesson=details.lesson,
        effects=[effect_text(e) for e in details.effects],
        seed=seed,
        customers=f"{customers:,}",
        as_of=params.as_of,
        perturbed=params.perturbed,
        tour=[replace(step, page=figures.PAGE_TITLES[step.page]) for step in TOURS[scenario]],
        exercises=[
            {"question": e.question, "text": a.text, "explanation": a.explanation} for e, a in keyed
        ],
        link=link,
    )


def _templates() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=jinja2.select_autoescape(["html"]),
    )


def scenarios() -> Sequence[tuple[str, Any]]:
    """Every scenario with its details (title, story, lesson, effects), in order."""
    return [(name, SCENARIO_DETAILS[name]) for name in SCENARIOS]
