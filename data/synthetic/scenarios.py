"""The demo's scenarios as a trainer reads them: a story, the lesson it teaches, and the
effects it puts into the data, each stated in words and in fields.

Every effect says what changes, where, from when and by how much (`size`), what the same
measure reads without the scenario (`baseline`), which figure of metrics/figures.py shows
it, how the size is read off that figure (`measure`) and how far a measurement may stray
from it on a demo of the size the tests use (`tolerance`, in the measure's own units). The
sizes are computed from the knobs the generator runs on (data.synthetic.generator.KNOBS) and
from the model's constants, never written twice; tests/metrics/test_scenario_effects.py
recovers every one of them from the dashboard's figures.

Not declared: erasure_surge's third knob (three times as many requests nobody picks up)
adds a few dozen open requests to a demo of 50,000 customers, too few to measure apart from
the slower handling; the story mentions it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from data.storage.schema import LGPD, MAYBE, YES
from data.synthetic.generator import (
    ACQUISITION_CHANNELS,
    CLASS_BUYER_MULTIPLIER,
    DEMO_END,
    KNOBS,
    MARKETPLACE_ASK_FACTOR,
    RECONSENT_NOTICE,
    SCENARIOS,
    SLOW_FROM,
    SURGE_START,
    TRAP_CHANNELS,
    Knobs,
    expected_erasures,
    on_time_share,
)


@dataclass(frozen=True)
class Effect:
    """One change a scenario makes, as the dashboard shows it."""

    key: str  # short name, unique within its scenario
    what: str  # what changes, in words
    where: str  # which customers, jurisdictions or purposes
    since: date | None  # from when (None: over the whole period)
    size: float  # the measure with the scenario on
    baseline: float  # the same measure in the baseline model
    figure: str  # the name of the figure showing it (metrics.figures.BY_NAME)
    measure: str  # how `size` is read off the figure
    tolerance: float  # how far a measurement may stray from `size` (absolute)
    against_baseline: bool = False  # the measure divides by the baseline run's figure


@dataclass(frozen=True)
class Scenario:
    """A scenario of the demo: what a trainer reads out and what to look for."""

    name: str
    title: str
    story: str  # two or three sentences a trainer reads out
    lesson: str  # the one thing it teaches
    trap: bool  # whether the obvious reading of the figures is wrong
    effects: tuple[Effect, ...]

    @property
    def description(self) -> str:
        """The one-line description (SCENARIOS)."""
        return SCENARIOS[self.name]

    @property
    def knobs(self) -> Knobs:
        """The generator's knobs for this scenario."""
        return KNOBS[self.name]


def _months_before(day: date, months: int) -> date:
    """The first day of the month `months` before day's (after it when negative)."""
    month = day.month - 1 - months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _one(values: dict[str, float]) -> float:
    """The single value a knob gives every channel it names."""
    (value,) = set(values.values())
    return value


# Windows the measures read (the generator's dates, as dates).
SURGE = SURGE_START.date()
SURGE_BEFORE = (_months_before(SURGE, 6), SURGE - timedelta(days=1))
"""The six months before the surge."""
SURGE_AFTER = _months_before(SURGE, -2)
"""Handling is read on requests completed from two months into the surge, when nearly all
of them were received after it began."""
WAVE = RECONSENT_NOTICE[1].date()
WAVE_MONTH = WAVE.strftime("%Y-%m")
WAVE_BEFORE = tuple(_months_before(WAVE, m).strftime("%Y-%m") for m in (3, 2, 1))
"""The three months before the wave month, whose mean is the usual level."""
_WAVE_EVE = f"{_months_before(WAVE, 1):%B %Y}"
SLOW = SLOW_FROM.date()
SLOW_AFTER = _months_before(SLOW, -1)
"""On-time rates are read on requests completed from a month after the change on."""


def _erasure_ratio(knobs: Knobs) -> float:
    """Expected erasure requests received in the six months from SURGE_START over those in
    the six months before."""
    before = datetime.combine(SURGE_BEFORE[0], datetime.min.time())
    return expected_erasures(knobs, SURGE_START) / expected_erasures(knobs, before, SURGE_START)


def _asked_ratio(knobs: Knobs) -> float:
    """Chance of being asked about marketing, TRAP_CHANNELS over the other channels,
    weighted by the channels' shares of customers."""
    factor = {"marketplace": MARKETPLACE_ASK_FACTOR} | knobs.channel_ask_factor

    def mean(channels: list[str]) -> float:
        weights = [ACQUISITION_CHANNELS[c] for c in channels]
        values = [factor.get(c, 1.0) for c in channels]
        return sum(w * v for w, v in zip(weights, values, strict=True)) / sum(weights)

    others = [c for c in ACQUISITION_CHANNELS if c not in TRAP_CHANNELS]
    return mean(list(TRAP_CHANNELS)) / mean(others)


def _maybe_over_yes(knobs: Knobs) -> float:
    by_class = CLASS_BUYER_MULTIPLIER | knobs.class_buyer_multiplier
    return by_class[MAYBE] / by_class[YES]


_BASE = KNOBS["baseline"]

# The measures several scenarios share: their texts, and the baseline's values.
_ERASURE_RATIO = (
    "erasure requests received per month (requests over time, by type), summed over "
    f"{SURGE:%B}-{DEMO_END:%B %Y} against {SURGE_BEFORE[0]:%B %Y}-{SURGE_BEFORE[1]:%B %Y}: "
    "the ratio of the two sums"
)
_LIKE_WITH_LIKE = (
    "the Conversion impact page by class at k = 1 (every acquisition channel x country "
    "stratum compared): the like-with-like conversion rate of maybe over that of yes. At the "
    "default k = 11 small strata are pooled and the ratio reads lower (about 0.85 in the "
    "channel_mix_trap at 50,000 customers). In the baseline maybe also holds recent sign-ups "
    "who have not decided yet and had less time to buy, which channel x country cannot see: "
    "there the ratio reads somewhat below the multiplier"
)
_ON_TIME = on_time_share(1.0)


def _baseline() -> Scenario:
    return Scenario(
        name="baseline",
        title="Business as usual",
        story=(
            "A growing online shop from 2024 to 2026: sign-ups triple, most customers give "
            "marketing consent and erasure requests rise steadily but are handled on time. "
            "Customers who opted in buy more than undecided ones, also compared like with like."
        ),
        lesson="Know what normal looks like before reading anything into a change.",
        trap=False,
        effects=(
            Effect(
                key="class_buys",
                what="chance of buying of maybe customers relative to yes ones",
                where="all customers, like with like",
                since=None,
                size=_maybe_over_yes(_BASE),
                baseline=_maybe_over_yes(_BASE),
                figure="impact_conversion_rate",
                measure=_LIKE_WITH_LIKE,
                tolerance=0.15,
            ),
            Effect(
                key="erasure_trend",
                what="erasure requests received per month keep rising",
                where="all jurisdictions",
                since=None,
                size=_erasure_ratio(_BASE),
                baseline=_erasure_ratio(_BASE),
                figure="requests_over_time",
                measure=_ERASURE_RATIO,
                tolerance=0.5,
            ),
            Effect(
                key="on_time",
                what="erasure requests completed by their legal deadline",
                where="all jurisdictions",
                since=None,
                size=_ON_TIME,
                baseline=_ON_TIME,
                figure="erasure_on_time_rate",
                measure="on-time rate of the erasure requests completed over the whole period",
                tolerance=0.06,
            ),
        ),
    )


def _erasure_surge() -> Scenario:
    knobs = KNOBS["erasure_surge"]
    return Scenario(
        name="erasure_surge",
        title="Erasure surge",
        story=(
            f"In {SURGE:%B %Y} a story about data brokers goes viral and the chance that a "
            "customer asks to be erased doubles. The privacy team takes "
            f"{knobs.backlog_slowdown:g} times as long per request and leaves "
            f"{knobs.stuck_factor:g} times as many unpicked, so the backlog grows."
        ),
        lesson=(
            "More requests and slower handling are two different problems: read the requests "
            "per month and the days to complete apart."
        ),
        trap=False,
        effects=(
            Effect(
                key="erasure_volume",
                what=f"erasure requests received per month, {knobs.erasure_surge:g} times the "
                "usual trend",
                where="all jurisdictions",
                since=SURGE,
                size=_erasure_ratio(knobs),
                baseline=_erasure_ratio(_BASE),
                figure="requests_over_time",
                measure=_ERASURE_RATIO,
                tolerance=0.6,
            ),
            Effect(
                key="handling_time",
                what="days to complete an erasure request",
                where="all jurisdictions",
                since=SURGE,
                size=knobs.backlog_slowdown,
                baseline=_BASE.backlog_slowdown,
                figure="erasure_median_days_to_complete",
                measure=(
                    f"median days to complete of the erasure requests completed from "
                    f"{SURGE_AFTER:%B %Y} to the end, over that of those completed "
                    f"{SURGE_BEFORE[0]:%B %Y}-{SURGE_BEFORE[1]:%B %Y}"
                ),
                tolerance=0.4,
            ),
        ),
    )


def _low_consent() -> Scenario:
    knobs = KNOBS["low_consent"]
    return Scenario(
        name="low_consent",
        title="Low-consent market",
        story=(
            "The same shop in a market without cookie walls and with privacy-minded browsers: "
            "every consent prompt is granted at half the odds, and twice as many visitors "
            "send a Global Privacy Control signal, which denies personalisation and "
            "third-party sharing."
        ),
        lesson="Opt-in rates depend on the market and the prompt, not only on the customers.",
        trap=False,
        effects=(
            Effect(
                key="grant_odds",
                what="odds of granting consent when asked",
                where="every purpose",
                since=None,
                size=math.exp(knobs.consent_shift),
                baseline=1.0,
                figure="consent_state",
                measure=(
                    "odds of having opted in to email_marketing at D (granted or withdrawn, "
                    "against denied), over the same odds in the baseline run of the same seed. "
                    "People differ in affinity, which pulls a ratio of averages towards 1: "
                    "it reads about 0.57"
                ),
                tolerance=0.12,
                against_baseline=True,
            ),
            Effect(
                key="gpc",
                what="customers whose browser sends Global Privacy Control",
                where="all countries",
                since=None,
                size=knobs.gpc_factor,
                baseline=1.0,
                figure="consent_by_method",
                measure=(
                    "customers whose personalization consent at D was set by a GPC signal, "
                    "over the same count in the baseline run of the same seed"
                ),
                tolerance=0.15,
                against_baseline=True,
            ),
        ),
    )


def _reconsent_wave() -> Scenario:
    knobs = KNOBS["reconsent_wave"]
    share, keep = knobs.reconsent_share, knobs.reconsent_keep
    version = RECONSENT_NOTICE[0]
    return Scenario(
        name="reconsent_wave",
        title="Re-consent wave",
        story=(
            f"On {WAVE.day} {WAVE:%B %Y} privacy notice {version} takes effect and the shop "
            "asks its customers to confirm their choices. Within four weeks "
            f"{share:.0%} of them decide again: {keep:.0%} of those opted in confirm, the "
            "others withdraw, and those who were not opted in say no."
        ),
        lesson=(
            "A spike in new consent decisions is an event, not a trend: look at what the "
            "opted-in share does after it."
        ),
        trap=False,
        effects=(
            Effect(
                key="decisions_spike",
                what="customers making a new consent decision, share of all customers",
                where="every purpose (read on email_marketing)",
                since=WAVE,
                size=share,
                baseline=0.0,
                figure="consent_decisions_monthly",
                measure=(
                    f"customers with an email_marketing decision in {WAVE:%B %Y} less the mean "
                    f"of the three months before, over the customers at the end of "
                    f"{_WAVE_EVE}"
                ),
                tolerance=0.05,
            ),
            Effect(
                key="withdrawals",
                what="opted-in customers withdrawing in the wave",
                where="every purpose (read on email_marketing)",
                since=WAVE,
                size=share * (1 - keep),
                baseline=0.0,
                figure="consent_decisions_monthly",
                measure=(
                    f"customers withdrawing email_marketing in {WAVE:%B %Y} less the mean of "
                    f"the three months before, over the customers opted in at the end of "
                    f"{_WAVE_EVE}"
                ),
                tolerance=0.03,
            ),
            Effect(
                key="opted_in_step",
                what="opted-in share steps down",
                where="every purpose (read on email_marketing)",
                since=WAVE,
                size=1 - share * (1 - keep),
                baseline=1.0,
                figure="opted_in_share_monthly",
                measure=(
                    f"email_marketing opted-in share at the end of {WAVE:%B %Y} over that at "
                    f"the end of {_WAVE_EVE}"
                ),
                tolerance=0.03,
            ),
        ),
    )


def _overdue_jurisdiction() -> Scenario:
    knobs = KNOBS["overdue_jurisdiction"]
    slow = knobs.slow_jurisdiction
    assert slow == LGPD  # the story is Brazil's
    return Scenario(
        name="overdue_jurisdiction",
        title="Overdue in Brazil",
        story=(
            f"From {SLOW:%B %Y} the Brazilian privacy requests go to a team that works to a "
            f"monthly rhythm: {slow} requests take {knobs.jurisdiction_slowdown:g} times as "
            f"long as before, about four weeks, though {slow} allows 15 days. Every other "
            "jurisdiction is handled as before."
        ),
        lesson=(
            "An on-time rate that looks fine overall can hide one jurisdiction missing its "
            "deadline: read it per jurisdiction."
        ),
        trap=False,
        effects=(
            Effect(
                key="slow_on_time",
                what=f"{slow} erasure requests completed by their deadline",
                where=slow,
                since=SLOW,
                size=on_time_share(knobs.jurisdiction_slowdown),
                baseline=_ON_TIME,
                figure="erasure_on_time_by_jurisdiction",
                measure=(
                    f"on-time rate of the {slow} erasure requests completed from "
                    f"{SLOW_AFTER:%B %Y} to the end"
                ),
                tolerance=0.2,
            ),
            Effect(
                key="others_on_time",
                what="erasure requests of the other jurisdictions completed by their deadline",
                where=f"every jurisdiction but {slow}",
                since=SLOW,
                size=_ON_TIME,
                baseline=_ON_TIME,
                figure="erasure_on_time_by_jurisdiction",
                measure=(
                    f"on-time rate of the other jurisdictions' erasure requests completed from "
                    f"{SLOW_AFTER:%B %Y} to the end, all of them together"
                ),
                tolerance=0.06,
            ),
        ),
    )


def _channel_mix_trap() -> Scenario:
    knobs = KNOBS["channel_mix_trap"]
    channels = " and ".join(TRAP_CHANNELS)
    return Scenario(
        name="channel_mix_trap",
        title="The channel-mix trap",
        story=(
            f"Customers who came through the {channels} channels are rarely asked the marketing "
            "question and rarely come back to buy. Customers who said yes seem to buy about "
            "twice as often as the undecided (maybe) ones, yet in this shop the answer makes "
            "no difference to buying: the gap is where the customers came from."
        ),
        lesson=(
            "Compare like with like before crediting consent with conversion: most of a raw "
            "gap can be the mix of acquisition channels."
        ),
        trap=True,
        effects=(
            Effect(
                key="class_buys",
                what="chance of buying of maybe customers relative to yes ones",
                where="all customers, like with like",
                since=None,
                size=_maybe_over_yes(knobs),
                baseline=_maybe_over_yes(_BASE),
                figure="impact_conversion_rate",
                measure=_LIKE_WITH_LIKE,
                tolerance=0.15,
            ),
            Effect(
                key="channel_buys",
                what="chance of buying by acquisition channel",
                where=f"customers from {channels} against the other channels",
                since=None,
                size=_one(knobs.channel_buyer_factor),
                baseline=1.0,
                figure="conversion_rate",
                measure=(
                    f"conversion rate of the yes class filtered to {channels}, over that of "
                    "the yes class filtered to the other channels"
                ),
                tolerance=0.08,
            ),
            Effect(
                key="channel_asked",
                what="chance of being asked about the marketing purposes",
                where=f"customers from {channels} against the other channels",
                since=None,
                size=_asked_ratio(knobs),
                baseline=_asked_ratio(_BASE),
                figure="consent_state_share",
                measure=(
                    f"share of customers with an email_marketing decision at D (1 - the "
                    f"no_decision share) filtered to {channels}, over that filtered to the "
                    "other channels"
                ),
                tolerance=0.05,
            ),
        ),
    )


SCENARIO_DETAILS: dict[str, Scenario] = {
    s.name: s
    for s in (
        _baseline(),
        _erasure_surge(),
        _low_consent(),
        _reconsent_wave(),
        _overdue_jurisdiction(),
        _channel_mix_trap(),
    )
}
"""Scenario name -> its story, lesson and effects, in the order of SCENARIOS."""

if list(SCENARIO_DETAILS) != list(SCENARIOS):
    raise RuntimeError("every scenario of the generator needs its details here, and only those")
