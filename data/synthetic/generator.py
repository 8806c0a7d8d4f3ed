"""Synthetic canonical tables for the demo and the benchmarks, deterministic for a seed.

The data follows a small generative model whose effect sizes are the module-level constants
below, so every pattern the dashboard shows has a known cause:

- a latent affinity per person drives both consent and engagement;
- the yes / maybe / no class at DEMO_END scales the chance of buying
  (CLASS_BUYER_MULTIPLIER);
- erasure requests become more frequent over time (ERASURE_TREND) and the people who ask are
  less engaged in the PRE_ERASURE_DAYS before asking (PRE_ERASURE_ENGAGEMENT);
- a completed erasure has been carried out: the person's rows are gone, their orders and
  privacy requests remain with customer_id null.

A scenario departs from the model by its knobs (KNOBS: every knob at its default is the
baseline); data/synthetic/scenarios.py states the effects each scenario puts in the data,
their sizes computed from these knobs and constants.

Everything is sampled with numpy from one `default_rng(seed)` and assembled with pyarrow;
Faker only fills small pools of names and e-mail domains.
"""

from __future__ import annotations

import contextlib
import math
import operator
import queue
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

from data.storage.schema import (
    CLASSES,
    COMPLETED,
    DEADLINES,
    DECISIONS,
    DEFAULT_MARKETING_PURPOSES,
    DENIED,
    ERASURE,
    GDPR,
    GRANTED,
    JURISDICTIONS,
    LGPD,
    MAYBE,
    NO,
    OPEN,
    PURPOSES,
    REJECTED,
    REQUEST_STATUSES,
    REQUEST_TYPES,
    TABLES,
    UK_GDPR,
    WITHDRAWN,
    YES,
    Kind,
    derive_jurisdiction,
)

# --------------------------------------------------------------------------------------------
# Period and arrow types
# --------------------------------------------------------------------------------------------

DEMO_START = datetime(2024, 1, 1)
"""First moment of the synthetic data (naive, UTC)."""
DEMO_END = datetime(2026, 9, 30, 23, 59, 59)
"""Last moment of the synthetic data (naive, UTC); fixed so a seed reproduces exactly."""

ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.ID: pa.string(),
    Kind.TEXT: pa.string(),
    Kind.LOWER: pa.string(),
    Kind.UPPER: pa.string(),
    Kind.COUNTRY: pa.string(),
    Kind.JURISDICTION: pa.string(),
    Kind.DECISION: pa.string(),
    Kind.REQUEST_TYPE: pa.string(),
    Kind.REQUEST_STATUS: pa.string(),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.DECIMAL: pa.decimal128(18, 4),
    Kind.BOOLEAN: pa.bool_(),
}
"""Arrow type of each column kind in the generated tables."""

_US = 1_000_000  # microseconds per second
_DAY = 86_400 * _US
_NEVER = np.iinfo(np.int64).max  # "no such moment" in int64 microsecond arrays


def _micros(moment: datetime) -> int:
    return int(np.datetime64(moment, "us").astype(np.int64))


_START = _micros(DEMO_START)
_END = _micros(DEMO_END)
_N_DAYS = (DEMO_END.date() - DEMO_START.date()).days + 1

# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

SURGE_START = datetime(2026, 4, 1)
"""Start of the last six months, where the erasure_surge scenario acts."""
RECONSENT_NOTICE: tuple[str, datetime] = ("v5", datetime(2026, 5, 1))
"""The privacy notice version the reconsent_wave scenario adds, and the day it takes effect."""
RECONSENT_DAYS = 28
"""Re-asked customers decide within this many days of the new notice (so within its month)."""
SLOW_FROM = datetime(2025, 7, 1)
"""From this day on, the overdue_jurisdiction scenario's jurisdiction handles requests slowly."""
TRAP_CHANNELS = ("marketplace", "affiliate")
"""The acquisition channels the channel_mix_trap scenario rarely asks and rarely sells to."""


@dataclass(frozen=True)
class Knobs:
    """How a scenario departs from the model: every field at its default is the baseline.
    data/synthetic/scenarios.py declares the effects each knob has, reading these values."""

    description: str
    consent_shift: float = 0.0  # added to the log-odds of every grant
    gpc_factor: float = 1.0  # multiplies the share of browsers sending Global Privacy Control
    erasure_surge: float = 1.0  # multiplies erasure request density from SURGE_START on
    backlog_slowdown: float = 1.0  # multiplies handling time of requests from SURGE_START on
    stuck_factor: float = 1.0  # multiplies the share of requests nobody picks up
    # A re-consent wave: RECONSENT_NOTICE takes effect and, within RECONSENT_DAYS, this share
    # of the customers active then decide again on every purpose: those opted in keep their
    # grant with chance reconsent_keep (else they withdraw), the others deny.
    reconsent_share: float = 0.0
    reconsent_keep: float = 1.0
    # Requests of one jurisdiction received from SLOW_FROM on take this many times as long.
    slow_jurisdiction: str | None = None
    jurisdiction_slowdown: float = 1.0
    # By acquisition channel: multipliers of the chance of being asked about the marketing
    # purposes (replacing MARKETPLACE_ASK_FACTOR where given) and of the chance of ordering.
    channel_ask_factor: dict[str, float] = field(default_factory=dict)
    channel_buyer_factor: dict[str, float] = field(default_factory=dict)
    # Replace entries of CLASS_BUYER_MULTIPLIER, and BUYER_AFFINITY_WEIGHT and
    # LATE_DECIDER_SHARE when given (the channel_mix_trap sets both to 0, so that nothing
    # but the channel tells yes customers from maybe ones in what they buy).
    class_buyer_multiplier: dict[str, float] = field(default_factory=dict)
    buyer_affinity_weight: float | None = None
    late_decider_share: float | None = None

    @property
    def notice_versions(self) -> tuple[tuple[str, datetime], ...]:
        """The privacy notice versions in force over the period."""
        return NOTICE_VERSIONS + ((RECONSENT_NOTICE,) if self.reconsent_share else ())


KNOBS: dict[str, Knobs] = {
    "baseline": Knobs("Steady growth, typical opt-in, erasure requests slowly rising."),
    "erasure_surge": Knobs(
        "From April 2026 the erasure hazard doubles (requests up about 70%), handling slows "
        "and more requests are never picked up, so the backlog grows.",
        erasure_surge=2.0,
        backlog_slowdown=1.8,
        stuck_factor=3.0,
    ),
    "low_consent": Knobs(
        "A market without cookie walls: opt-in odds halved and twice as many GPC signals.",
        consent_shift=float(np.log(0.5)),
        gpc_factor=2.0,
    ),
    "reconsent_wave": Knobs(
        "Privacy notice v5 in May 2026 makes 60% of customers decide again; a quarter of those "
        "who were opted in withdraw.",
        reconsent_share=0.6,
        reconsent_keep=0.75,
    ),
    "overdue_jurisdiction": Knobs(
        "From July 2025 LGPD requests take four times as long and miss their 15-day deadline; "
        "the other jurisdictions stay on time.",
        slow_jurisdiction=LGPD,
        jurisdiction_slowdown=4.0,
    ),
    "channel_mix_trap": Knobs(
        "Yes customers seem to buy far more than maybe ones, but it is the acquisition channel: "
        "marketplace and affiliate sign-ups are rarely asked and rarely buy.",
        channel_ask_factor=dict.fromkeys(TRAP_CHANNELS, 0.2),
        channel_buyer_factor=dict.fromkeys(TRAP_CHANNELS, 0.3),
        class_buyer_multiplier={YES: 1.0, MAYBE: 1.0},
        buyer_affinity_weight=0.0,
        late_decider_share=0.0,
    ),
}
"""Scenario name -> its knobs."""

SCENARIOS: dict[str, str] = {name: s.description for name, s in KNOBS.items()}
"""Scenario name -> one-line description."""

# --------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------

CUSTOMER_ID_WIDTH = 7
"""Minimum digits of a customer id; ids are zero-padded so leading zeros matter."""
ORDER_ID_WIDTH = 9
"""Minimum digits of an order id."""
CUSTOMER_GROWTH = 3.0
"""Sign-up density on the last day relative to the first (linear in between)."""


class _Country(NamedTuple):
    weight: float  # share of customers
    locale: str  # Faker locale for names and e-mail domains
    calling_code: str
    phone_digits: int  # digits of the national number
    currency: str


COUNTRIES: dict[str, _Country] = {
    "US": _Country(0.28, "en_US", "1", 10, "USD"),
    "DE": _Country(0.09, "de_DE", "49", 10, "EUR"),
    "GB": _Country(0.08, "en_GB", "44", 10, "GBP"),
    "FR": _Country(0.06, "fr_FR", "33", 9, "EUR"),
    "ES": _Country(0.035, "es_ES", "34", 9, "EUR"),
    "IT": _Country(0.035, "it_IT", "39", 10, "EUR"),
    "NL": _Country(0.025, "nl_NL", "31", 9, "EUR"),
    "PL": _Country(0.025, "pl_PL", "48", 9, "EUR"),
    "SE": _Country(0.015, "sv_SE", "46", 9, "EUR"),
    "BE": _Country(0.012, "nl_BE", "32", 9, "EUR"),
    "AT": _Country(0.01, "de_AT", "43", 10, "EUR"),
    "IE": _Country(0.01, "en_IE", "353", 9, "EUR"),
    "PT": _Country(0.01, "pt_BR", "351", 9, "EUR"),
    "DK": _Country(0.008, "da_DK", "45", 8, "EUR"),
    "NO": _Country(0.008, "no_NO", "47", 8, "EUR"),
    "CH": _Country(0.01, "de_CH", "41", 9, "CHF"),
    "BR": _Country(0.05, "pt_BR", "55", 11, "USD"),
    "CA": _Country(0.04, "en_CA", "1", 10, "CAD"),
    "MX": _Country(0.02, "es_MX", "52", 10, "USD"),
    "AU": _Country(0.03, "en_AU", "61", 9, "AUD"),
    "JP": _Country(0.025, "ja_JP", "81", 10, "USD"),
    "IN": _Country(0.03, "en_IN", "91", 10, "USD"),
    "NA": _Country(0.003, "en_GB", "264", 9, "USD"),  # Namibia: a country, not a missing value
}
"""Country -> share, Faker locale, phone format and currency (weights are normalised)."""

US_STATES: dict[str, float] = {
    "CA": 0.12,
    "TX": 0.09,
    "FL": 0.07,
    "NY": 0.06,
    "PA": 0.04,
    "IL": 0.04,
    "OH": 0.035,
    "GA": 0.033,
    "NC": 0.032,
    "MI": 0.03,
    "NJ": 0.028,
    "VA": 0.026,
    "WA": 0.024,
    "AZ": 0.022,
    "MA": 0.021,
    "TN": 0.021,
    "IN": 0.02,
    "MO": 0.018,
    "MD": 0.018,
    "WI": 0.018,
    "CO": 0.018,
    "MN": 0.017,
    "SC": 0.016,
    "AL": 0.015,
    "LA": 0.014,
    "KY": 0.013,
    "OR": 0.013,
    "OK": 0.012,
    "CT": 0.011,
    "UT": 0.01,
    "NV": 0.009,
}
"""US state -> share of US customers (normalised); CA makes the CCPA jurisdiction."""

ACQUISITION_CHANNELS: dict[str, float] = {
    "organic_search": 0.28,
    "paid_search": 0.18,
    "social": 0.16,
    "email_referral": 0.08,
    "affiliate": 0.08,
    "direct": 0.14,
    "marketplace": 0.08,
}
"""Acquisition channel -> share of customers."""

SEGMENTS: dict[str, float] = {
    "value_seeker": 0.30,
    "loyalist": 0.18,
    "premium": 0.10,
    "occasional": 0.30,
    "student": 0.12,
}
"""Segment -> share of customers."""

SEGMENT_AFFINITY: dict[str, float] = {
    "value_seeker": 0.0,
    "loyalist": 0.6,
    "premium": 0.4,
    "occasional": -0.5,
    "student": -0.1,
}
"""Shift of the latent affinity (standard normal otherwise) by segment."""

MISSING_SHARE: dict[str, float] = {
    "country": 0.005,
    "state": 0.03,
    "jurisdiction": 0.2,
    "acquisition_channel": 0.02,
    "segment": 0.04,
    "email": 0.03,
    "full_name": 0.01,
    "phone": 0.35,
}
"""Share of customers with each optional field left empty (state: of US customers;
jurisdiction: left for derivation)."""

NAMES_PER_LOCALE = 300
"""First names and last names drawn from Faker per locale; people combine them at random."""

# --------------------------------------------------------------------------------------------
# Consent
# --------------------------------------------------------------------------------------------

PURPOSE_ASK_RATE: dict[str, float] = {
    "email_marketing": 0.92,
    "sms_marketing": 0.60,
    "personalization": 0.85,
    "analytics": 0.90,
    "third_party_sharing": 0.75,
}
"""Chance a person is ever asked about a purpose."""

MARKETPLACE_ASK_FACTOR = 0.4
"""Marketplace customers are asked about marketing purposes this much less often."""

PURPOSE_GRANT_RATE: dict[str, float] = {
    "email_marketing": 0.66,
    "sms_marketing": 0.50,
    "personalization": 0.70,
    "analytics": 0.72,
    "third_party_sharing": 0.52,
}
"""Base chance of granting when asked (before the shifts below, withdrawals and GPC)."""

CONSENT_AFFINITY_WEIGHT = 0.8
"""Log-odds of granting per unit of latent affinity."""

JURISDICTION_CONSENT_SHIFT: dict[str, float] = {
    "GDPR": -0.3,
    "UK_GDPR": -0.2,
    "CCPA": 0.1,
    "US_STATE": 0.3,
    "LGPD": 0.1,
    "PIPEDA": 0.0,
    "OTHER": 0.2,
}
"""Log-odds shift of granting by the person's jurisdiction."""

CHANNEL_CONSENT_SHIFT: dict[str, float] = {
    "organic_search": 0.0,
    "paid_search": -0.1,
    "social": -0.2,
    "email_referral": 0.4,
    "affiliate": -0.3,
    "direct": 0.1,
    "marketplace": -0.4,
}
"""Log-odds shift of granting by acquisition channel (none for a missing channel)."""

PROMPT_VARIANTS: dict[str, float] = {"A": 0.0, "B": 0.25}
"""Prompt variant of the A/B test -> log-odds shift of granting; half the people see each."""

APP_SHARE = 0.25
"""Share of people whose prompts come from the app instead of the web banner or checkout."""

LATE_DECIDER_SHARE = 0.12
"""Share of people who decide later in the preference center instead of at sign-up."""
LATE_DECISION_MEAN_DAYS = 120.0
"""Mean wait of a late decider (exponential)."""

WITHDRAWAL_RATE: dict[str, float] = {
    "email_marketing": 0.15,
    "sms_marketing": 0.18,
    "personalization": 0.06,
    "analytics": 0.04,
    "third_party_sharing": 0.10,
}
"""Chance a grant is later withdrawn (before the period ends)."""
WITHDRAWAL_MEAN_DAYS = 240.0
"""Mean time from grant to withdrawal (exponential)."""

CHANGE_OF_MIND_RATE = 0.06
"""Chance a denial is later turned into a grant in the preference center."""
CHANGE_OF_MIND_MEAN_DAYS = 150.0

TIE_RATE = 0.003
"""Chance a grant is recorded together with a denial at the same second (the denial wins)."""

GPC_SHARE: dict[str, float] = {"US": 0.10}
GPC_SHARE_ELSEWHERE = 0.01
"""Share of people whose browser sends Global Privacy Control, by country."""
GPC_PURPOSES: tuple[str, ...] = ("personalization", "third_party_sharing")
"""Purposes a GPC signal denies (sale and sharing, targeted advertising)."""

IMPLIED_ANALYTICS_SHARE = 0.5
"""Outside GDPR and UK GDPR, share of analytics consents taken as implied (granted)."""

SIGNUP_DECISION_SECONDS: dict[str, float] = {"banner": 30.0, "checkout": 900.0}
"""Mean seconds from sign-up to the banner decision and the checkout decision."""

NOTICE_VERSIONS: tuple[tuple[str, datetime], ...] = (
    ("v1", DEMO_START),
    ("v2", datetime(2024, 9, 1)),
    ("v3", datetime(2025, 6, 1)),
    ("v4", datetime(2026, 2, 1)),
)
"""Privacy notice versions and the day each took effect."""

CONSENT_SOURCES: tuple[str, ...] = (
    "web_banner",
    "checkout",
    "preference_center",
    "app",
    "unsubscribe_link",
)
CONSENT_METHODS: tuple[str, ...] = ("explicit", "implied", "gpc")

# --------------------------------------------------------------------------------------------
# Engagement and orders
# --------------------------------------------------------------------------------------------

TOUCHPOINTS_PER_YEAR = 6.0
"""Mean touchpoints per person and year of tenure, at average affinity."""
ENGAGEMENT_AFFINITY_WEIGHT = 0.5
"""Log-rate of touchpoints per unit of latent affinity."""

TOUCHPOINT_TYPES: dict[str, float] = {
    "visit": 0.55,
    "email_open": 0.22,
    "email_click": 0.07,
    "cart_add": 0.16,
}
"""Touchpoint type -> share; e-mail types only while email_marketing is granted (else a visit)."""
VISIT_CHANNELS: dict[str, float] = {
    "organic_search": 0.30,
    "paid_search": 0.20,
    "social": 0.18,
    "direct": 0.22,
    "affiliate": 0.05,
    "referral": 0.05,
}
"""Channel of a non-e-mail touchpoint; e-mail touchpoints have channel `email`."""
CAMPAIGNS_PER_MONTH = 4
"""E-mail campaigns per month; e-mail touchpoints name one of the month's campaigns."""

PRE_ERASURE_DAYS = 90
"""Window before an erasure request in which the requester's engagement drops."""
PRE_ERASURE_ENGAGEMENT = 0.4
"""Share of a requester's touchpoints kept in that window (0.4 = 60% fewer)."""

BUYER_RATE = 0.70
"""Chance a `yes` person of average affinity and long tenure ever orders."""
CLASS_BUYER_MULTIPLIER: dict[str, float] = {YES: 1.0, MAYBE: 0.6, NO: 0.35}
"""Yes / maybe / no class at DEMO_END -> multiplier of the chance of ordering."""
BUYER_AFFINITY_WEIGHT = 0.3
"""Log-multiplier of the chance of ordering per unit of latent affinity."""
BUYER_RAMP_DAYS = 60.0
"""Tenure scale of the chance of ordering: 1 - exp(-tenure / BUYER_RAMP_DAYS)."""
REPEAT_ORDERS_PER_YEAR = 1.2
"""Mean further orders per year of tenure of a buyer (Poisson), at average affinity."""
REPEAT_AFFINITY_WEIGHT = 0.4

REVENUE_MEDIAN = 55.0
"""Median order value in EUR-equivalent (log-normal)."""
REVENUE_SIGMA = 0.75
SEGMENT_REVENUE_FACTOR: dict[str, float] = {
    "value_seeker": 0.7,
    "loyalist": 1.2,
    "premium": 1.9,
    "occasional": 0.9,
    "student": 0.6,
}
PRICE_LEVEL: dict[str, float] = {
    "EUR": 1.0,
    "USD": 1.1,
    "GBP": 0.85,
    "CHF": 0.95,
    "CAD": 1.5,
    "AUD": 1.65,
}
"""Prices per currency for one EUR-equivalent; the shop prices only in currencies of similar
magnitude so revenue totals stay meaningful."""

# --------------------------------------------------------------------------------------------
# Privacy requests and sharing
# --------------------------------------------------------------------------------------------

ERASURE_REQUEST_RATE = 0.02
"""Erasure requests per customer over the period (baseline)."""
ERASURE_TREND = 3.0
"""Per-person erasure hazard on the last day relative to the first (linear in between)."""
REQUEST_MIN_TENURE_DAYS = 14
"""Nobody asks for erasure in their first two weeks."""

OTHER_REQUEST_RATE: dict[str, float] = {
    "access": 0.012,
    "rectification": 0.005,
    "portability": 0.003,
    "opt_out_of_sale": 0.008,
    "restriction": 0.002,
    "objection": 0.003,
}
"""Requests of the other types per customer over the period."""
OPT_OUT_OF_SALE_US_SHARE = 0.8
"""Share of opt-out-of-sale requests coming from US customers."""

UNKNOWN_REQUESTER_SHARE = 0.03
"""Requests (on top) from people not in customers."""
REJECT_RATE = 0.05
UNKNOWN_REJECT_RATE = 0.6
"""Chance a request is rejected (identity not verified, exemption), known and unknown people."""
EXTENSION_RATE = 0.08
"""Chance a request's deadline is extended (never under LGPD)."""
LATE_SHAPE = 2.0
LATE_DIVISOR = 4.2
"""Handling time is gamma(LATE_SHAPE, deadline / LATE_DIVISOR): about 8% miss the deadline."""
STUCK_RATE = 0.02
"""Chance a request is never picked up (open, eventually overdue)."""
REQUEST_JURISDICTION_SHARE = 0.1
"""Share of known people's requests that name their jurisdiction; the rest derive it.
Requests of erased and unknown people always name it, so trends by jurisdiction survive."""
REQUEST_CHANNELS: dict[str, float] = {
    "web_form": 0.55,
    "email": 0.28,
    "phone": 0.06,
    "app": 0.08,
    "letter": 0.03,
}


class _Recipient(NamedTuple):
    name: str
    category: str
    purpose: str
    sold: bool
    weight: float


RECIPIENTS: tuple[_Recipient, ...] = (
    _Recipient("AdReach Network", "ad_network", "third_party_sharing", False, 0.25),
    _Recipient("PixelBid Exchange", "ad_network", "third_party_sharing", False, 0.15),
    _Recipient("Metricly Analytics", "analytics_vendor", "analytics", False, 0.20),
    _Recipient("InsightLoop", "analytics_vendor", "analytics", False, 0.10),
    _Recipient("DataHarbor Brokers", "data_broker", "third_party_sharing", True, 0.10),
    _Recipient("ListSource Inc.", "data_broker", "third_party_sharing", True, 0.05),
    _Recipient("SwiftShip Logistics", "logistics", "fulfilment", False, 0.15),
)
"""Third parties a person who granted third_party_sharing may be shared with."""
RECIPIENTS_PER_PERSON: dict[int, float] = {1: 0.5, 2: 0.35, 3: 0.15}
SHARING_DELAY_MEAN_DAYS = 20.0
"""Mean time from the grant to a share (exponential); shares stop at a withdrawal."""

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

_COUNTRY_CODES = tuple(COUNTRIES)
_STATE_CODES = tuple(US_STATES)
_CHANNEL_CODES = tuple(ACQUISITION_CHANNELS)
_SEGMENT_CODES = tuple(SEGMENTS)
_VARIANT_CODES = tuple(PROMPT_VARIANTS)
_J = {name: i for i, name in enumerate(JURISDICTIONS)}
_SOURCE = {name: i for i, name in enumerate(CONSENT_SOURCES)}
_METHOD = {name: i for i, name in enumerate(CONSENT_METHODS)}
_DECISION = {name: i for i, name in enumerate(DECISIONS)}
_REQUEST_TYPE = {name: i for i, name in enumerate(REQUEST_TYPES)}
_STATUS = {name: i for i, name in enumerate(REQUEST_STATUSES)}
_CLASS = {name: i for i, name in enumerate(CLASSES)}
_TOUCH_TYPE = {name: i for i, name in enumerate(TOUCHPOINT_TYPES)}
# Consent state codes of the generator's own bookkeeping.
_NONE, _GRANTED, _DENIED, _WITHDRAWN = 0, 1, 2, 3


def _or(knob: float | None, constant: float) -> float:
    """A scenario's knob where it sets one, else the model's constant."""
    return constant if knob is None else knob


def _draw(rng: np.random.Generator, n: int, weights: dict | tuple | list) -> np.ndarray:
    """Category codes (int16) drawn with the given weights."""
    p = np.asarray(list(weights.values()) if isinstance(weights, dict) else weights, float)
    cdf = np.cumsum(p / p.sum())
    codes = np.searchsorted(cdf, rng.random(n), side="right")
    return np.minimum(codes, len(p) - 1).astype(np.int16)


def _blank(rng: np.random.Generator, codes: np.ndarray, share: float) -> np.ndarray:
    """Codes with a random `share` set to -1 (missing)."""
    codes = codes.copy()
    codes[rng.random(len(codes)) < share] = -1
    return codes


def _days(x: np.ndarray | float) -> np.ndarray:
    """Whole-second microseconds of a duration in days."""
    return _seconds(np.asarray(x, dtype=np.float64) * _DAY)


def _seconds(micros: np.ndarray) -> np.ndarray:
    """Microsecond values floored to whole seconds, as int64."""
    micros = np.asarray(micros).astype(np.int64)
    return micros - micros % _US


def _sample_days(rng: np.random.Generator, n: int, day_weights: np.ndarray) -> np.ndarray:
    """Moments (int64 µs, whole seconds) of n events with the given density per day."""
    cdf = np.cumsum(day_weights, dtype=np.float64)
    day = np.searchsorted(cdf / cdf[-1], rng.random(n), side="right")
    day = np.minimum(day, len(day_weights) - 1)
    second = rng.integers(0, 86_400, n)
    return _START + day.astype(np.int64) * _DAY + second * _US


def _linear_day_weights(end_ratio: float) -> np.ndarray:
    """Density per day of the period rising linearly from 1 to end_ratio."""
    return 1.0 + (end_ratio - 1.0) * np.linspace(0.0, 1.0, _N_DAYS)


def _between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform whole-second moments in [lo, hi) (lo, hi whole seconds)."""
    return lo + _seconds(rng.random(len(lo)) * (hi - lo))


def _labels(labels: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """String array of labels[code]; code -1 gives null."""
    index = pa.array(codes, mask=codes < 0) if (codes < 0).any() else pa.array(codes)
    return pa.array(labels, pa.string()).take(index)


def _timestamps(micros: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Timestamp array from int64 microseconds; `missing` marks nulls."""
    return pa.array(micros.astype(np.int64).view("datetime64[us]"), mask=missing)


def _padded(numbers: np.ndarray, width: int, missing: np.ndarray | None = None) -> pa.Array:
    """Zero-padded numeric strings; `missing` marks nulls."""
    return pc.utf8_lpad(pa.array(numbers, mask=missing).cast(pa.string()), width=width, padding="0")


def _decimal(cents: np.ndarray) -> pa.Array:
    """decimal128(18, 4) array of non-negative amounts given in cents."""
    words = np.zeros((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents.astype(np.int64) * 100  # scale 4; amounts >= 0 so the high word is 0
    return pa.Array.from_buffers(pa.decimal128(18, 4), len(cents), [None, pa.py_buffer(words)])


def _null_where(array: pa.Array, missing: np.ndarray) -> pa.Array:
    """The array with entries marked in `missing` set to null."""
    return pc.if_else(pa.array(missing), pa.scalar(None, array.type), array)


def arrow_schema(table: str) -> pa.Schema:
    """Arrow schema of a canonical table as the generator produces it."""
    return pa.schema([(c.name, ARROW_TYPES[c.kind]) for c in TABLES[table].columns])


def _table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    schema = arrow_schema(name)
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def _deadline_days() -> np.ndarray:
    """Approximate deadline in days per jurisdiction code, (normal, extended)."""
    days = np.zeros((len(JURISDICTIONS), 2))
    for j, name in enumerate(JURISDICTIONS):
        for k, deadline in enumerate(DEADLINES[name]):
            days[j, k] = deadline.months * 30.44 if deadline.months else deadline.days
    return days


# --------------------------------------------------------------------------------------------
# People: the latent model behind every table
# --------------------------------------------------------------------------------------------


@dataclass
class _People:
    """Every generated person, by position (= customer number - 1, in order of sign-up)."""

    created: np.ndarray  # int64 µs, ascending
    country: np.ndarray  # index into _COUNTRY_CODES, -1 missing
    state: np.ndarray  # index into _STATE_CODES, -1 missing
    jurisdiction: np.ndarray  # index into JURISDICTIONS, always derived
    channel: np.ndarray  # index into _CHANNEL_CODES, -1 missing
    segment: np.ndarray  # index into _SEGMENT_CODES, -1 missing
    affinity: np.ndarray  # latent affinity
    variant: np.ndarray  # index into _VARIANT_CODES
    in_app: np.ndarray  # prompts come from the app
    gpc: np.ndarray  # browser sends Global Privacy Control
    late_decider: np.ndarray
    end: np.ndarray  # int64 µs: end of activity (DEMO_END, or the erasure request)
    erasure_at: np.ndarray  # int64 µs of the erasure request, _NEVER without one
    erasure_counts: np.ndarray  # has an erasure request that was not rejected
    erased: np.ndarray  # the erasure was completed: the person's rows are removed

    @property
    def n(self) -> int:
        return len(self.created)


def _people(rng: np.random.Generator, n: int, scen: Knobs) -> _People:
    created = np.sort(_sample_days(rng, n, _linear_day_weights(CUSTOMER_GROWTH)))
    country = _blank(
        rng, _draw(rng, n, [c.weight for c in COUNTRIES.values()]), MISSING_SHARE["country"]
    )
    us = country == _COUNTRY_CODES.index("US")
    state = np.full(n, -1, np.int16)
    state[us] = _blank(rng, _draw(rng, int(us.sum()), US_STATES), MISSING_SHARE["state"])
    jur_of_country = np.array(
        [_J[derive_jurisdiction(c, None)] for c in _COUNTRY_CODES]
        + [_J[derive_jurisdiction(None, None)]],
        np.int8,
    )
    jurisdiction = jur_of_country[country]  # -1 picks the trailing "unknown" entry
    ca = us & (state == _STATE_CODES.index("CA"))
    jurisdiction[ca] = _J[derive_jurisdiction("US", "CA")]
    channel = _blank(rng, _draw(rng, n, ACQUISITION_CHANNELS), MISSING_SHARE["acquisition_channel"])
    segment = _blank(rng, _draw(rng, n, SEGMENTS), MISSING_SHARE["segment"])
    seg_shift = np.array([SEGMENT_AFFINITY[s] for s in _SEGMENT_CODES] + [0.0])[segment]
    affinity = rng.standard_normal(n) + seg_shift
    gpc_share = np.where(us, GPC_SHARE.get("US", GPC_SHARE_ELSEWHERE), GPC_SHARE_ELSEWHERE)
    return _People(
        created=created,
        country=country,
        state=state,
        jurisdiction=jurisdiction,
        channel=channel,
        segment=segment,
        affinity=affinity,
        variant=_draw(rng, n, [1.0] * len(_VARIANT_CODES)),
        in_app=rng.random(n) < APP_SHARE,
        gpc=rng.random(n) < gpc_share * scen.gpc_factor,
        late_decider=rng.random(n) < _or(scen.late_decider_share, LATE_DECIDER_SHARE),
        end=np.full(n, _END, np.int64),
        erasure_at=np.full(n, _NEVER, np.int64),
        erasure_counts=np.zeros(n, bool),
        erased=np.zeros(n, bool),
    )


# --------------------------------------------------------------------------------------------
# Privacy requests
# --------------------------------------------------------------------------------------------


@dataclass
class _Requests:
    person: np.ndarray  # position of the person, -1 for someone not in customers
    type: np.ndarray  # index into REQUEST_TYPES
    received: np.ndarray  # int64 µs
    jurisdiction: np.ndarray  # index into JURISDICTIONS (the one whose deadline applies)
    completed: np.ndarray | None = None  # int64 µs, -1 when absent
    status: np.ndarray | None = None  # index into REQUEST_STATUSES
    extended: np.ndarray | None = None

    _FIELDS = ("person", "type", "received", "jurisdiction", "completed", "status", "extended")

    def take(self, index: np.ndarray) -> _Requests:
        return _Requests(*(getattr(self, f)[index] for f in self._FIELDS))

    @staticmethod
    def concat(parts: list[_Requests]) -> _Requests:
        """Requests of all parts; outcome fields only when every part has them."""

        def join(name: str) -> np.ndarray | None:
            arrays = [getattr(p, name) for p in parts]
            return None if any(a is None for a in arrays) else np.concatenate(arrays)

        return _Requests(*(join(f) for f in _Requests._FIELDS))


def _resolve(rng: np.random.Generator, req: _Requests, unknown: np.ndarray, scen: Knobs) -> None:
    """Sets completion, status and extension of each request as of DEMO_END."""
    m = len(req.received)
    rejected = rng.random(m) < np.where(unknown, UNKNOWN_REJECT_RATE, REJECT_RATE)
    extended = (rng.random(m) < EXTENSION_RATE) & (req.jurisdiction != _J[LGPD]) & ~rejected
    surge = req.received >= _micros(SURGE_START)
    slowdown = np.where(surge, scen.backlog_slowdown, 1.0)
    if scen.slow_jurisdiction is not None:
        slow = (req.jurisdiction == _J[scen.slow_jurisdiction]) & (
            req.received >= _micros(SLOW_FROM)
        )
        slowdown = slowdown * np.where(slow, scen.jurisdiction_slowdown, 1.0)
    deadline = _deadline_days()[req.jurisdiction, extended.astype(int)]
    delay = rng.gamma(LATE_SHAPE, deadline / LATE_DIVISOR * slowdown)
    stuck = rng.random(m) < STUCK_RATE * np.where(surge, scen.stuck_factor, 1.0)
    # A rejection is dated too: completed_at records when the request was closed.
    closed_at = req.received + _days(delay)
    still_open = stuck | (closed_at > _END)
    req.completed = np.where(still_open, -1, closed_at)
    req.status = np.where(
        still_open, _STATUS[OPEN], np.where(rejected, _STATUS[REJECTED], _STATUS[COMPLETED])
    ).astype(np.int8)
    req.extended = extended


def _erasure_density(
    eligible: np.ndarray, customers: float, scen: Knobs
) -> tuple[np.ndarray, float]:
    """Density per day of erasure requests and their expected number, given the customers
    eligible to ask on each day. The hazard applies to everyone signed up long enough, so
    volume also follows growth. The erasure_surge knob multiplies the hazard from SURGE_START
    on, and the expected number by the share of the hazard it adds: requests after
    SURGE_START therefore rise by less than the knob (see expected_erasures)."""
    weights = _linear_day_weights(ERASURE_TREND)
    surge_day = (SURGE_START - DEMO_START).days
    base_total = weights.sum()
    weights[surge_day:] *= scen.erasure_surge
    return weights * eligible, ERASURE_REQUEST_RATE * customers * weights.sum() / base_total


def expected_erasures(scen: Knobs, start: datetime, end: datetime = DEMO_END) -> float:
    """Erasure requests of customers the model expects to be received from `start` up to
    `end` (exclusive; DEMO_END: to the end), per customer: sign-ups at their expected
    density, a second request of the same person not removed, unknown requesters left out."""
    signed_up = np.cumsum(_linear_day_weights(CUSTOMER_GROWTH))
    eligible = np.zeros(_N_DAYS)
    # Eligible on a day: signed up at least REQUEST_MIN_TENURE_DAYS before it began.
    wait = REQUEST_MIN_TENURE_DAYS + 1
    eligible[wait:] = signed_up[:-wait] / signed_up[-1]
    density, expected = _erasure_density(eligible, 1.0, scen)
    days = slice((start - DEMO_START).days, (end - DEMO_START).days if end < DEMO_END else None)
    return float(expected * density[days].sum() / density.sum())


def on_time_share(slowdown: float = 1.0) -> float:
    """Share of requests the model completes by their deadline when handling takes
    `slowdown` times as long: P(gamma(LATE_SHAPE, deadline / LATE_DIVISOR * slowdown) <=
    deadline), the same for every deadline (series of the regularised lower gamma function)."""
    x, a = LATE_DIVISOR / slowdown, LATE_SHAPE
    term = total = 1.0 / a
    n = 1
    while term > 1e-15 * total:
        term *= x / (a + n)
        total += term
        n += 1
    return float(math.exp(a * math.log(x) - x - math.lgamma(a)) * total)


def _erasure_requests(rng: np.random.Generator, people: _People, scen: Knobs) -> _Requests:
    """Erasure requests of customers; marks requesters' end of activity and who is erased."""
    day_starts = _START + np.arange(_N_DAYS, dtype=np.int64) * _DAY
    tenure = REQUEST_MIN_TENURE_DAYS * _DAY
    eligible = np.searchsorted(people.created, day_starts - tenure, side="right")
    density, expected = _erasure_density(eligible, people.n, scen)
    received = np.sort(_sample_days(rng, rng.poisson(expected), density))
    pool = np.searchsorted(people.created, received - tenure, side="right")
    received, pool = received[pool > 0], pool[pool > 0]
    person = (rng.random(len(pool)) * pool).astype(np.int64)
    # One erasure request per person: the first one counts.
    person, first = np.unique(person, return_index=True)
    received = received[first]
    req = _Requests(
        person,
        np.full(len(person), _REQUEST_TYPE[ERASURE], np.int8),
        received,
        people.jurisdiction[person],
    )
    _resolve(rng, req, np.zeros(len(person), bool), scen)
    people.erasure_at[person] = received
    people.end[person] = received  # people who ask to be forgotten stop engaging
    people.erasure_counts[person] = req.status != _STATUS[REJECTED]
    people.erased[person] = req.status == _STATUS[COMPLETED]
    return req


def _other_requests(rng: np.random.Generator, people: _People, scen: Knobs) -> _Requests:
    """Requests of the other types, received while the person is active."""
    parts = []
    us = np.flatnonzero(people.country == _COUNTRY_CODES.index("US"))
    for name, rate in OTHER_REQUEST_RATE.items():
        m = rng.poisson(rate * people.n)
        person = rng.integers(0, people.n, m)
        if name == "opt_out_of_sale" and len(us):
            from_us = rng.random(m) < OPT_OUT_OF_SALE_US_SHARE
            person[from_us] = us[rng.integers(0, len(us), int(from_us.sum()))]
        lo = people.created[person] + _DAY
        hi = people.end[person]
        ok = lo < hi
        person, lo, hi = person[ok], lo[ok], hi[ok]
        parts.append(
            _Requests(
                person,
                np.full(len(person), _REQUEST_TYPE[name], np.int8),
                _between(rng, lo, hi),
                people.jurisdiction[person],
            )
        )
    req = _Requests.concat(parts)
    _resolve(rng, req, np.zeros(len(req.person), bool), scen)
    return req


def _unknown_requests(
    rng: np.random.Generator, people: _People, known: int, scen: Knobs
) -> _Requests:
    """Requests naming people who are not customers."""
    m = rng.poisson(UNKNOWN_REQUESTER_SHARE * known)
    kinds = [ERASURE, *OTHER_REQUEST_RATE]
    rates = [ERASURE_REQUEST_RATE, *OTHER_REQUEST_RATE.values()]
    type_code = np.array([_REQUEST_TYPE[k] for k in kinds], np.int8)[_draw(rng, m, rates)]
    received = _sample_days(rng, m, _linear_day_weights(ERASURE_TREND))
    # Their jurisdiction follows the customer mix.
    jurisdiction = people.jurisdiction[rng.integers(0, people.n, m)]
    req = _Requests(np.full(m, -1, np.int64), type_code, received, jurisdiction)
    _resolve(rng, req, np.ones(m, bool), scen)
    return req


# --------------------------------------------------------------------------------------------
# Consent
# --------------------------------------------------------------------------------------------


@dataclass
class _Events:
    person: list[np.ndarray]
    purpose: list[np.ndarray]
    decision: list[np.ndarray]
    at: list[np.ndarray]
    source: list[np.ndarray]
    method: list[np.ndarray]
    variant: list[np.ndarray]

    def add(
        self,
        person: np.ndarray,
        purpose: int,
        decision: int | np.ndarray,
        at: np.ndarray,
        source: int | np.ndarray,
        method: int | np.ndarray,
        variant: int | np.ndarray,
    ) -> None:
        m = len(person)

        def full(v: int | np.ndarray) -> np.ndarray:
            return np.broadcast_to(np.asarray(v, np.int8), (m,)).astype(np.int8)

        self.person.append(person.astype(np.int32))
        self.purpose.append(full(purpose))
        self.decision.append(full(decision))
        self.at.append(at.astype(np.int64))
        self.source.append(full(source))
        self.method.append(full(method))
        self.variant.append(full(variant))

    def drop_after(self, first_batch: int, cutoff: np.ndarray) -> None:
        """Drops each person's events later than cutoff[person], from batch `first_batch` on."""
        for i in range(first_batch, len(self.person)):
            keep = self.at[i] <= cutoff[self.person[i]]
            for column in (
                self.person,
                self.purpose,
                self.decision,
                self.at,
                self.source,
                self.method,
                self.variant,
            ):
                column[i] = column[i][keep]


@dataclass
class _Grant:
    """Consent of one purpose per person at DEMO_END, and the interval it was granted."""

    state: np.ndarray  # _NONE / _GRANTED / _DENIED / _WITHDRAWN
    granted_from: np.ndarray  # int64 µs, _NEVER when never granted
    granted_until: np.ndarray  # int64 µs, _NEVER when not withdrawn


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _purpose_consent(
    rng: np.random.Generator,
    people: _People,
    purpose: str,
    scen: Knobs,
    events: _Events,
    wave_at: np.ndarray | None,
) -> _Grant:
    n, code = people.n, PURPOSES.index(purpose)
    first_batch = len(events.person)
    marketing = purpose in DEFAULT_MARKETING_PURPOSES
    ask = np.full(n, PURPOSE_ASK_RATE[purpose])
    if marketing:
        factors = {"marketplace": MARKETPLACE_ASK_FACTOR, **scen.channel_ask_factor}
        for channel, factor in factors.items():
            ask[people.channel == _CHANNEL_CODES.index(channel)] *= factor
    gpc = people.gpc & (purpose in GPC_PURPOSES)
    asked = (rng.random(n) < ask) | gpc
    late = people.late_decider & ~gpc
    wait = SIGNUP_DECISION_SECONDS["checkout" if marketing else "banner"]
    first_at = people.created + _seconds(rng.exponential(wait * _US, n))
    first_at[late] = people.created[late] + _days(
        rng.exponential(LATE_DECISION_MEAN_DAYS, int(late.sum()))
    )
    valid = asked & (first_at <= people.end)

    log_odds = (
        _logit(PURPOSE_GRANT_RATE[purpose])
        + scen.consent_shift
        + np.array([JURISDICTION_CONSENT_SHIFT[j] for j in JURISDICTIONS])[people.jurisdiction]
        + np.array([CHANNEL_CONSENT_SHIFT[c] for c in _CHANNEL_CODES] + [0.0])[people.channel]
        + np.array([PROMPT_VARIANTS[v] for v in _VARIANT_CODES])[people.variant]
        + CONSENT_AFFINITY_WEIGHT * people.affinity
    )
    granted = rng.random(n) < 1.0 / (1.0 + np.exp(-log_odds))
    gdpr_like = np.isin(people.jurisdiction, [_J[GDPR], _J[UK_GDPR]])
    implied = (
        (purpose == "analytics") & ~late & ~gdpr_like & (rng.random(n) < IMPLIED_ANALYTICS_SHARE)
    )
    granted = (granted | implied) & ~gpc
    method = np.where(
        gpc, _METHOD["gpc"], np.where(implied, _METHOD["implied"], _METHOD["explicit"])
    )
    prompt = _SOURCE["checkout"] if marketing else _SOURCE["web_banner"]
    source = np.where(
        late, _SOURCE["preference_center"], np.where(people.in_app, _SOURCE["app"], prompt)
    )
    variant = np.where(late, -1, people.variant)
    decision = np.where(granted, _DECISION[GRANTED], _DECISION[DENIED])
    who = np.flatnonzero(valid)
    events.add(who, code, decision[who], first_at[who], source[who], method[who], variant[who])

    # Two systems recording opposite answers in the same second: the denial wins.
    tie = valid & granted & ~gpc & (rng.random(n) < TIE_RATE)
    who = np.flatnonzero(tie)
    events.add(
        who,
        code,
        _DECISION[DENIED],
        first_at[who],
        _SOURCE["preference_center"],
        _METHOD["explicit"],
        -1,
    )
    kept = valid & granted & ~tie

    withdraw_rate = WITHDRAWAL_RATE[purpose] * np.minimum(np.exp(-0.4 * people.affinity), 2.0)
    withdraw_at = first_at + _days(rng.exponential(WITHDRAWAL_MEAN_DAYS, n))
    withdraw = kept & (rng.random(n) < withdraw_rate) & (withdraw_at <= people.end)
    who = np.flatnonzero(withdraw)
    if purpose == "email_marketing":
        w_source = np.where(
            rng.random(len(who)) < 0.6, _SOURCE["unsubscribe_link"], _SOURCE["preference_center"]
        )
    else:
        w_source = _SOURCE["preference_center"]
    events.add(who, code, _DECISION[WITHDRAWN], withdraw_at[who], w_source, _METHOD["explicit"], -1)

    regrant_at = first_at + _days(rng.exponential(CHANGE_OF_MIND_MEAN_DAYS, n))
    regrant = (
        valid & ~granted & ~gpc & (rng.random(n) < CHANGE_OF_MIND_RATE) & (regrant_at <= people.end)
    )
    who = np.flatnonzero(regrant)
    events.add(
        who,
        code,
        _DECISION[GRANTED],
        regrant_at[who],
        _SOURCE["preference_center"],
        _METHOD["explicit"],
        -1,
    )

    state = np.where(valid, np.where(kept, _GRANTED, _DENIED), _NONE)
    state[withdraw] = _WITHDRAWN
    state[regrant] = _GRANTED
    granted_from = np.where(kept, first_at, np.where(regrant, regrant_at, _NEVER))
    granted_until = np.where(withdraw, withdraw_at, _NEVER)
    grant = _Grant(state.astype(np.int8), granted_from, granted_until)
    if wave_at is not None:
        _reconsent(rng, people, code, scen, events, first_batch, wave_at, grant)
    return grant


def _reconsent(
    rng: np.random.Generator,
    people: _People,
    code: int,
    scen: Knobs,
    events: _Events,
    first_batch: int,
    wave_at: np.ndarray,
    grant: _Grant,
) -> None:
    """The re-consent wave for one purpose: each re-asked person decides again at wave_at
    (_NEVER for the others), which replaces whatever they would have decided later; those
    opted in then keep their grant with chance reconsent_keep, else withdraw; the others
    deny. Updates `grant` and the purpose's events (from batch `first_batch` on)."""
    asked = (wave_at != _NEVER) & (wave_at < people.end)
    events.drop_after(first_batch, np.where(asked, wave_at, _NEVER))
    opted_in = asked & (grant.granted_from <= wave_at) & (wave_at < grant.granted_until)
    keep = rng.random(people.n) < scen.reconsent_keep
    source = np.where(people.in_app, _SOURCE["app"], _SOURCE["web_banner"])
    outcomes = (
        (opted_in & keep, _GRANTED, _DECISION[GRANTED]),
        (opted_in & ~keep, _WITHDRAWN, _DECISION[WITHDRAWN]),
        (asked & ~opted_in, _DENIED, _DECISION[DENIED]),
    )
    for who, state, decision in outcomes:
        index = np.flatnonzero(who)
        events.add(index, code, decision, wave_at[index], source[index], _METHOD["explicit"], -1)
        grant.state[who] = state
    # Kept: granted from the earlier grant on, never withdrawn. Withdrawn: until the wave.
    # Denied: a grant the wave came before never happens; an earlier one keeps its end.
    grant.granted_until[opted_in & keep] = _NEVER
    grant.granted_until[opted_in & ~keep] = wave_at[opted_in & ~keep]
    later = asked & ~opted_in & (grant.granted_from > wave_at)
    grant.granted_from[later] = _NEVER
    grant.granted_until[later] = _NEVER


def _wave(rng: np.random.Generator, people: _People, scen: Knobs) -> np.ndarray | None:
    """When each person re-asked by a re-consent wave decides again (_NEVER for the others):
    a share of those signed up before the new notice, within RECONSENT_DAYS of it."""
    if not scen.reconsent_share:
        return None
    start = _micros(RECONSENT_NOTICE[1])
    asked = (people.created < start) & (rng.random(people.n) < scen.reconsent_share)
    at = start + _seconds(rng.random(people.n) * RECONSENT_DAYS * _DAY)
    return np.where(asked, at, _NEVER)


def _consent(
    rng: np.random.Generator, people: _People, scen: Knobs
) -> tuple[_Events, dict[str, _Grant]]:
    events = _Events([], [], [], [], [], [], [])
    wave_at = _wave(rng, people, scen)
    grants = {p: _purpose_consent(rng, people, p, scen, events, wave_at) for p in PURPOSES}
    return events, grants


def _consent_table(events: _Events, people: _People, ids: pa.Array, scen: Knobs) -> pa.Table:
    at = np.concatenate(events.at)
    person = np.concatenate(events.person)
    keep = ~people.erased[person]
    order = np.flatnonzero(keep)[np.argsort(at[keep], kind="stable")]
    at, person = at[order], person[order]
    versions = scen.notice_versions
    notice_starts = np.array([_micros(d) for _, d in versions])
    notice = (np.searchsorted(notice_starts, at, side="right") - 1).astype(np.int8)
    return _table(
        "consent_events",
        {
            "customer_id": ids.take(pa.array(person)),
            "purpose": _labels(PURPOSES, np.concatenate(events.purpose)[order]),
            "decision": _labels(DECISIONS, np.concatenate(events.decision)[order]),
            "occurred_at": _timestamps(at),
            "source": _labels(CONSENT_SOURCES, np.concatenate(events.source)[order]),
            "method": _labels(CONSENT_METHODS, np.concatenate(events.method)[order]),
            "notice_version": _labels([v for v, _ in versions], notice),
            "prompt_variant": _labels(_VARIANT_CODES, np.concatenate(events.variant)[order]),
        },
    )


def _ymn(grants: dict[str, _Grant], people: _People) -> np.ndarray:
    """Yes / maybe / no class at DEMO_END (spec section 4), as index into CLASSES."""
    states = [grants[p].state for p in DEFAULT_MARKETING_PURPOSES]
    any_granted = np.logical_or.reduce([s == _GRANTED for s in states])
    any_refused = np.logical_or.reduce([(s == _DENIED) | (s == _WITHDRAWN) for s in states])
    no = people.erasure_counts | (~any_granted & any_refused)
    return np.where(no, _CLASS[NO], np.where(any_granted, _CLASS[YES], _CLASS[MAYBE]))


# --------------------------------------------------------------------------------------------
# Customers table
# --------------------------------------------------------------------------------------------


_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "æ": "ae",
        "Æ": "AE",
        "ß": "ss",
        "đ": "d",
        "Đ": "D",
        "œ": "oe",
        "Œ": "OE",
        "ı": "i",
        "þ": "th",
        "ð": "d",
    }
)


def _ascii(name: str) -> str:
    """Lower-case ASCII letters and digits of a name, for e-mail addresses."""
    folded = unicodedata.normalize("NFKD", name.translate(_FOLD))
    folded = folded.encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum()) or "user"


@dataclass
class _Pool:
    """Concatenated per-locale pools with the offset and size of each locale's slice."""

    values: pa.Array
    offset: np.ndarray
    size: np.ndarray

    def pick(self, rng: np.random.Generator, locale: np.ndarray) -> np.ndarray:
        return self.offset[locale] + (rng.random(len(locale)) * self.size[locale]).astype(np.int64)


def _name_pools(seed: int, locales: list[str]) -> tuple[_Pool, _Pool, _Pool, _Pool, _Pool]:
    """Pools of first names, last names (shown and ASCII) and free e-mail domains."""
    lists: dict[str, list[list[str]]] = {
        k: [] for k in ("first", "first_a", "last", "last_a", "domain")
    }
    for locale in locales:
        fake = Faker(locale)
        fake.seed_instance(f"{seed}:{locale}")
        if locale == "ja_JP":
            firsts = [fake.first_name_pair() for _ in range(NAMES_PER_LOCALE)]
            lasts = [fake.last_name_pair() for _ in range(NAMES_PER_LOCALE)]
            first, first_a = [f[0] for f in firsts], [_ascii(f[2]) for f in firsts]
            last, last_a = [f[0] for f in lasts], [_ascii(f[2]) for f in lasts]
        else:
            first = [fake.first_name() for _ in range(NAMES_PER_LOCALE)]
            last = [fake.last_name() for _ in range(NAMES_PER_LOCALE)]
            first_a, last_a = [_ascii(x) for x in first], [_ascii(x) for x in last]
        lists["first"].append(first)
        lists["first_a"].append(first_a)
        lists["last"].append(last)
        lists["last_a"].append(last_a)
        lists["domain"].append(sorted({fake.free_email_domain() for _ in range(40)}))

    def pool(chunks: list[list[str]]) -> _Pool:
        size = np.array([len(c) for c in chunks], np.int64)
        offset = np.concatenate([[0], np.cumsum(size)[:-1]])
        return _Pool(pa.array([x for c in chunks for x in c], pa.string()), offset, size)

    return (
        pool(lists["first"]),
        pool(lists["first_a"]),
        pool(lists["last"]),
        pool(lists["last_a"]),
        pool(lists["domain"]),
    )


def _personal(
    rng: np.random.Generator, seed: int, people: _People, numbers: pa.Array
) -> dict[str, pa.Array]:
    """E-mail, full name and phone of every person, combined from Faker pools."""
    n = people.n
    locales = sorted({c.locale for c in COUNTRIES.values()})
    fallback = locales.index("en_US")
    locale_of_country = np.array([locales.index(c.locale) for c in COUNTRIES.values()] + [fallback])
    locale = locale_of_country[people.country]
    first, first_a, last, last_a, domain = _name_pools(seed, locales)
    # ASCII and shown pools are aligned, so one index serves both.
    fi, li, di = first.pick(rng, locale), last.pick(rng, locale), domain.pick(rng, locale)
    fi_a, li_a = pa.array(fi), pa.array(li)
    full_name = pc.binary_join_element_wise(first.values.take(fi_a), last.values.take(li_a), " ")
    email = pc.binary_join_element_wise(
        first_a.values.take(fi_a),
        ".",
        last_a.values.take(li_a),
        numbers,
        "@",
        domain.values.take(pa.array(di)),
        "",
    )

    codes = np.array([c.calling_code for c in COUNTRIES.values()] + [""], object)
    digits = np.array([c.phone_digits for c in COUNTRIES.values()] + [9])[people.country]
    lo = 2 * 10 ** (digits - 1)  # national numbers do not start with 0 or 1
    national = lo + (rng.random(n) * (10**digits - lo)).astype(np.int64)
    national_text = pa.array(national).cast(pa.string())
    code_index = np.where(people.country < 0, len(codes) - 1, people.country)
    phone = pc.binary_join_element_wise(
        "+",
        pa.array(codes, pa.string()).take(pa.array(code_index)),
        " ",
        pc.utf8_slice_codeunits(national_text, 0, 3),
        " ",
        pc.utf8_slice_codeunits(national_text, 3),
        "",
    )
    return {
        "email": _null_where(email, rng.random(n) < MISSING_SHARE["email"]),
        "full_name": _null_where(full_name, rng.random(n) < MISSING_SHARE["full_name"]),
        "phone": _null_where(
            phone, (rng.random(n) < MISSING_SHARE["phone"]) | (people.country < 0)
        ),
    }


def _customers_table(
    rng: np.random.Generator, seed: int, people: _People, ids: pa.Array, first: int
) -> pa.Table:
    numbers = pa.array(np.arange(first + 1, first + people.n + 1)).cast(pa.string())
    personal = _personal(rng, seed, people, numbers)
    stated = rng.random(people.n) >= MISSING_SHARE["jurisdiction"]
    keep = pa.array(~people.erased)
    columns = {
        "customer_id": ids,
        "created_at": _timestamps(people.created),
        "country": _labels(_COUNTRY_CODES, people.country),
        "state": _labels(_STATE_CODES, people.state),
        "jurisdiction": _labels(JURISDICTIONS, np.where(stated, people.jurisdiction, -1)),
        "acquisition_channel": _labels(_CHANNEL_CODES, people.channel),
        "segment": _labels(_SEGMENT_CODES, people.segment),
        **personal,
    }
    return _table("customers", {k: pc.filter(v, keep) for k, v in columns.items()})


# --------------------------------------------------------------------------------------------
# Touchpoints, orders, sharing
# --------------------------------------------------------------------------------------------


def _repeat_people(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int32), counts)


def _touchpoints_table(
    rng: np.random.Generator, people: _People, email: _Grant, ids: pa.Array
) -> pa.Table:
    tenure_years = (people.end - people.created) / (365.25 * _DAY)
    w = ENGAGEMENT_AFFINITY_WEIGHT
    rate = TOUCHPOINTS_PER_YEAR * np.exp(w * people.affinity - w * w / 2)
    counts = rng.poisson(rate * tenure_years)
    counts[people.erased] = 0  # their touchpoints are removed by the erasure
    person = _repeat_people(counts)
    at = _between(rng, people.created[person], people.end[person])
    # Requesters disengage before asking to be forgotten.
    before = at >= people.erasure_at[person] - PRE_ERASURE_DAYS * _DAY
    drop = np.zeros(len(at), bool)
    drop[before] = rng.random(int(before.sum())) >= PRE_ERASURE_ENGAGEMENT
    keep = np.flatnonzero(~drop)
    keep = keep[np.argsort(at[keep], kind="stable")]
    person, at = person[keep], at[keep]

    kind = _draw(rng, len(at), TOUCHPOINT_TYPES)
    is_email = (kind == _TOUCH_TYPE["email_open"]) | (kind == _TOUCH_TYPE["email_click"])
    subscribed = (at >= email.granted_from[person]) & (at < email.granted_until[person])
    kind[is_email & ~subscribed] = _TOUCH_TYPE["visit"]
    is_email &= subscribed
    channels = (*VISIT_CHANNELS, "email")
    channel = np.where(is_email, len(channels) - 1, _draw(rng, len(at), VISIT_CHANNELS))

    month0 = np.datetime64(DEMO_START, "M").astype(np.int64)
    months = np.arange(month0, np.datetime64(DEMO_END, "M").astype(np.int64) + 1)
    campaigns = [
        f"em-{str(np.datetime64(int(m), 'M')).replace('-', '')}-{k + 1}"
        for m in months
        for k in range(CAMPAIGNS_PER_MONTH)
    ]
    month = at.view("datetime64[us]").astype("datetime64[M]").astype(np.int64) - month0
    campaign = month * CAMPAIGNS_PER_MONTH + rng.integers(0, CAMPAIGNS_PER_MONTH, len(at))
    return _table(
        "touchpoints",
        {
            "customer_id": ids.take(pa.array(person)),
            "occurred_at": _timestamps(at),
            "type": _labels(tuple(TOUCHPOINT_TYPES), kind),
            "channel": _labels(channels, channel),
            "campaign_id": _labels(campaigns, np.where(is_email, campaign, -1)),
        },
    )


def _orders_table(
    rng: np.random.Generator,
    people: _People,
    ymn: np.ndarray,
    ids: pa.Array,
    before: int,
    scen: Knobs,
) -> pa.Table:
    tenure_days = (people.end - people.created) / _DAY
    by_class = CLASS_BUYER_MULTIPLIER | scen.class_buyer_multiplier
    multiplier = np.array([by_class[c] for c in CLASSES])[ymn]
    affinity_weight = _or(scen.buyer_affinity_weight, BUYER_AFFINITY_WEIGHT)
    p_buy = (
        BUYER_RATE
        * multiplier
        * np.exp(affinity_weight * people.affinity)
        * (1.0 - np.exp(-tenure_days / BUYER_RAMP_DAYS))
    )
    if scen.channel_buyer_factor:
        by_channel = [scen.channel_buyer_factor.get(c, 1.0) for c in _CHANNEL_CODES]
        p_buy = p_buy * np.array([*by_channel, 1.0])[people.channel]
    buyer = rng.random(people.n) < np.minimum(p_buy, 0.97)
    repeat_rate = (
        REPEAT_ORDERS_PER_YEAR
        * tenure_days
        / 365.25
        * np.exp(REPEAT_AFFINITY_WEIGHT * people.affinity)
    )
    counts = np.where(buyer, 1 + rng.poisson(repeat_rate), 0)
    person = _repeat_people(counts)
    at = _between(rng, people.created[person], people.end[person])
    order = np.argsort(at, kind="stable")
    person, at = person[order], at[order]

    currencies = sorted(PRICE_LEVEL)
    currency_of_country = np.array(
        [currencies.index(c.currency) for c in COUNTRIES.values()] + [currencies.index("USD")]
    )
    currency = currency_of_country[people.country[person]]
    level = np.array([PRICE_LEVEL[c] for c in currencies])[currency]
    seg_factor = np.array([SEGMENT_REVENUE_FACTOR[s] for s in _SEGMENT_CODES] + [1.0])[
        people.segment[person]
    ]
    value = rng.lognormal(np.log(REVENUE_MEDIAN), REVENUE_SIGMA, len(at)) * seg_factor * level
    last = before + len(at)
    width = max(ORDER_ID_WIDTH, len(str(last)))
    return _table(
        "orders",
        {
            "order_id": _padded(np.arange(before + 1, last + 1), width),
            # Orders are kept for accounting; the erased person's id is not.
            "customer_id": _null_where(ids.take(pa.array(person)), people.erased[person]),
            "ordered_at": _timestamps(at),
            "revenue": _decimal(np.round(value * 100)),
            "currency": _labels(currencies, currency),
        },
    )


def _sharing_table(
    rng: np.random.Generator, people: _People, third: _Grant, ids: pa.Array
) -> pa.Table:
    sharer = np.flatnonzero((third.granted_from != _NEVER) & ~people.erased)
    m, r = len(sharer), len(RECIPIENTS)
    how_many = np.array(list(RECIPIENTS_PER_PERSON))[_draw(rng, m, RECIPIENTS_PER_PERSON)]
    # Weighted sampling without replacement: keep the largest u ** (1 / weight).
    weights = np.array([x.weight for x in RECIPIENTS])
    keys = rng.random((m, r)) ** (1.0 / weights)
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    row, recipient = np.nonzero(rank < how_many[:, None])
    person = sharer[row]
    at = third.granted_from[person] + _days(rng.exponential(SHARING_DELAY_MEAN_DAYS, len(row)))
    ok = at < np.minimum(third.granted_until[person], people.end[person])
    keep = np.flatnonzero(ok)
    keep = keep[np.argsort(at[keep], kind="stable")]
    person, recipient, at = person[keep], recipient[keep], at[keep]
    return _table(
        "sharing",
        {
            "customer_id": ids.take(pa.array(person)),
            "recipient": _labels([x.name for x in RECIPIENTS], recipient),
            "recipient_category": _labels([x.category for x in RECIPIENTS], recipient),
            "purpose": _labels([x.purpose for x in RECIPIENTS], recipient),
            "sold": pa.array(np.array([x.sold for x in RECIPIENTS])[recipient]),
            "shared_at": _timestamps(at),
        },
    )


def _requests_table(
    rng: np.random.Generator,
    people: _People,
    req: _Requests,
    unknown_numbers: np.ndarray,
    id_width: int,
    first: int,
    before: int,
) -> pa.Table:
    order = np.argsort(req.received, kind="stable")
    req, unknown_numbers = req.take(order), unknown_numbers[order]
    m = len(req.received)
    last = before + m
    known = req.person >= 0
    erased = known & people.erased[np.where(known, req.person, 0)]
    number = np.where(known, first + req.person + 1, unknown_numbers)
    named = ~known | erased | (rng.random(m) < REQUEST_JURISDICTION_SHARE)
    missing_completion = req.completed < 0
    return _table(
        "privacy_requests",
        {
            "request_id": pc.binary_join_element_wise(
                "DSR-",
                _padded(np.arange(before + 1, last + 1), max(8, len(str(last)))),
                "",
            ),
            "customer_id": _padded(number, id_width, missing=erased),
            "type": _labels(REQUEST_TYPES, req.type),
            "received_at": _timestamps(req.received),
            "completed_at": _timestamps(
                np.where(missing_completion, 0, req.completed), missing_completion
            ),
            "status": _labels(REQUEST_STATUSES, req.status),
            "extended": pa.array(req.extended),
            "jurisdiction": _labels(JURISDICTIONS, np.where(named, req.jurisdiction, -1)),
            "channel": _labels(tuple(REQUEST_CHANNELS), _draw(rng, m, REQUEST_CHANNELS)),
        },
    )


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


BLOCK_CUSTOMERS = 250_000
"""Customers drawn together from one random stream: the unit of generation. A demo of more
customers is several blocks, generated and written one chunk of blocks at a time, so memory
does not grow with the number of customers; the data depend on the blocks, never on how many
are written at once."""
_BLOCK_KEY = 8  # spawn key of block streams, beside the 8 streams of the first block


@dataclass
class _Numbering:
    """Where a block's numbers start: orders, requests and unknown requesters of the blocks
    before it."""

    orders: int = 0
    requests: int = 0
    unknown: int = 0


def _check(customers: int, scenario: str, block: int) -> int:
    if scenario not in KNOBS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    customers = operator.index(customers)
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if operator.index(block) < 1:
        raise ValueError("a block holds at least one customer")
    return customers


def generate(
    customers: int = 50_000,
    seed: int = 0,
    scenario: str = "baseline",
    progress: Callable[[str], None] | None = None,
    *,
    block: int = BLOCK_CUSTOMERS,
) -> dict[str, pa.Table]:
    """Synthetic canonical tables, deterministic for (customers, seed, scenario), in memory."""
    parts = list(generate_chunks(customers, seed, scenario, progress, block=block))
    if len(parts) == 1:
        return parts[0]
    return {name: pa.concat_tables([p[name] for p in parts]) for name in TABLES}


T = TypeVar("T")


def ahead(chunks: Iterable[T]) -> Iterator[T]:
    """The same chunks, the next one made in a thread of its own while the caller handles
    the one before (numpy and DuckDB release the interpreter: on two cores the generator
    and the store's writes overlap). Holds at most two chunks; an error in the thread is
    raised where the chunk it failed would have been."""
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        handoff.put(("chunk", chunk), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(("end", None))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            handoff.put(("error", error))

    worker = threading.Thread(target=produce, name="demo-generator", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            handoff.get_nowait()  # let a blocked producer see the stop
        worker.join(timeout=5)


def generate_chunks(
    customers: int = 50_000,
    seed: int = 0,
    scenario: str = "baseline",
    progress: Callable[[str], None] | None = None,
    *,
    block: int = BLOCK_CUSTOMERS,
    chunk: int | None = None,
    done: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, pa.Table]]:
    """The same tables as `generate`, as chunks of about `chunk` customers (whole blocks;
    one block by default), each holding every table's rows of its customers.

    `progress` hears each table's row count when there is one block; `done` hears
    (customers generated, customers in all) after every block.
    """
    customers = _check(customers, scenario, block)
    scen = KNOBS[scenario]
    several = customers > block
    report = (progress if not several else None) or (lambda _message: None)
    # Unknown requesters get numbers beyond the last customer (7 apart, fewer than the
    # customers): the width of every identifier is known before the first block.
    id_width = max(CUSTOMER_ID_WIDTH, len(str(customers + 1 + 7 * customers)))
    per_chunk = max(1, (chunk or block) // block)
    numbering = _Numbering()
    pending: list[dict[str, pa.Table]] = []
    blocks = range(0, customers, block)
    for index, first in enumerate(blocks):
        n = min(block, customers - first)
        part = _block(seed, index, scen, customers, first, n, numbering, id_width, report)
        if done is not None:
            done(first + n, customers)
        pending.append(part)
        if len(pending) == per_chunk or index == len(blocks) - 1:
            if len(pending) == 1:
                yield pending[0]
            else:
                yield {name: pa.concat_tables([p[name] for p in pending]) for name in TABLES}
            pending = []


def _block(
    seed: int,
    index: int,
    scen: Knobs,
    total: int,
    first: int,
    customers: int,
    numbering: _Numbering,
    id_width: int,
    report: Callable[[str], None],
) -> dict[str, pa.Table]:
    """One block of customers and every row of theirs; advances `numbering`."""
    # One independent stream per part, so the customers table (mostly Faker, in Python) can be
    # built on a second thread while numpy and Arrow build the others, and the result stays
    # the same for a seed whatever the scheduling.
    root = (
        np.random.SeedSequence(seed)
        if index == 0
        else np.random.SeedSequence(seed, spawn_key=(_BLOCK_KEY, index))
    )
    streams = iter(np.random.default_rng(s) for s in root.spawn(8))
    rng = next(streams)

    people = _people(rng, customers, scen)
    erasures = _erasure_requests(rng, people, scen)
    others = _other_requests(rng, people, scen)
    known = len(erasures.person) + len(others.person)
    unknown = _unknown_requests(rng, people, known, scen)
    requests = _Requests.concat([erasures, others, unknown])
    # Unknown people get ids beyond the last customer, spread out as real ids would be.
    unknown_numbers = np.concatenate(
        [
            np.zeros(known, np.int64),
            total + 1 + (numbering.unknown + rng.permutation(len(unknown.person))) * 7,
        ]
    )
    ids = _padded(np.arange(first + 1, first + customers + 1), id_width)

    tables: dict[str, pa.Table] = {}
    with ThreadPoolExecutor(max_workers=1) as helper:
        customers_table = helper.submit(_customers_table, next(streams), seed, people, ids, first)
        events, grants = _consent(next(streams), people, scen)
        tables["consent_events"] = _consent_table(events, people, ids, scen)
        del events  # the largest intermediate; freed before touchpoints to bound peak memory
        report(f"consent_events {tables['consent_events'].num_rows:,}")
        tables["touchpoints"] = _touchpoints_table(
            next(streams), people, grants["email_marketing"], ids
        )
        report(f"touchpoints {tables['touchpoints'].num_rows:,}")
        tables["orders"] = _orders_table(
            next(streams), people, _ymn(grants, people), ids, numbering.orders, scen
        )
        report(f"orders {tables['orders'].num_rows:,}")
        tables["privacy_requests"] = _requests_table(
            next(streams),
            people,
            requests,
            unknown_numbers,
            id_width,
            first,
            numbering.requests,
        )
        report(f"privacy_requests {tables['privacy_requests'].num_rows:,}")
        tables["sharing"] = _sharing_table(
            next(streams), people, grants["third_party_sharing"], ids
        )
        report(f"sharing {tables['sharing'].num_rows:,}")
        tables["customers"] = customers_table.result()
    report(f"customers {tables['customers'].num_rows:,}")
    numbering.orders += tables["orders"].num_rows
    numbering.requests += tables["privacy_requests"].num_rows
    numbering.unknown += len(unknown.person)
    return {name: tables[name] for name in TABLES}
