"""Consent page figure builders: withheld values never drawn or hovered, fixed colours."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from pages import _charts as charts
from pages import _consent_charts as cc

OVERVIEW = pd.DataFrame(
    {
        "purpose": ["email_marketing", "sms_marketing"],
        "customers": [200, 200],
        "granted": [120, 90],
        "denied": [None, 60],
        "withdrawn": [None, 0],
        "no_decision": [41, 50],
        "opt_in_rate": [float("nan"), 0.6],
        "granted_share": [0.6, 0.45],
        "denied_share": [float("nan"), 0.3],
        "withdrawn_share": [float("nan"), 0.0],
        "no_decision_share": [0.205, 0.25],
    },
    dtype=object,
)
BY = pd.DataFrame(
    {
        "purpose": ["email_marketing", "email_marketing", "sms_marketing", "sms_marketing"],
        "country": ["DE", "NA", "DE", "NA"],
        "granted": [321, None, 47, 0],
        "refused": [None, None, 19, 0],
        "decided": [None, None, 66, 0],
        "opt_in_rate": [float("nan"), float("nan"), 47 / 66, float("nan")],
    },
    dtype=object,
)
TREND = pd.DataFrame(
    {
        "period": ["2026-01", "2026-02", "2026-01", "2026-02"],
        "purpose": ["email_marketing", "email_marketing", "analytics", "analytics"],
        "granted": [400, None, 80, 75],
        "denied": [100, None, 20, 25],
        "withdrawn": [37, None, 0, 13],
        "decisions": [537, 212, 100, 113],
        "opt_in_rate": [400 / 537, float("nan"), 0.8, 75 / 113],
    },
    dtype=object,
)


def numbers(value) -> list:
    """Every value of a trace attribute, decoding Plotly's typed arrays."""
    if value is None:
        return []
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(np.ravel(np.asarray(value, dtype=object)))


def drawn(fig) -> list:
    spec = json.loads(fig.to_json())
    out = []
    for trace in spec["data"]:
        for attr in ("x", "y", "customdata", "text"):
            out += numbers(trace.get(attr))
    return out


def test_state_split_draws_published_shares_in_state_colours():
    fig = cc.state_split(OVERVIEW)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name) == ["Granted", "Denied", "Withdrawn", "No decision"]
    for state, label in cc.STATE_LABELS.items():
        assert by_name[label].marker.color == charts.STATE_COLOURS[state]
    # email's denied and withdrawn are withheld: only sms has those parts.
    assert list(by_name["Denied"].y) == ["SMS marketing"]
    assert list(by_name["Denied"].customdata) == [60]
    assert list(by_name["Granted"].x) == [0.6, 0.45]
    assert list(by_name["Granted"].customdata) == [120, 90]
    assert fig.layout.barmode == "stack"
    assert None not in drawn(fig)


def test_opted_in_bars_leave_withheld_values_out():
    fig = cc.opted_in_bars(BY, "country", "Country")
    email, sms = fig.data
    assert email.name == "Email marketing" and sms.name == "SMS marketing"
    # Countries by name, with their code.
    assert list(email.x) == ["Germany (DE)"] and list(email.y) == [321.0]
    assert list(sms.x) == ["Germany (DE)", "Namibia (NA)"] and list(sms.y) == [47.0, 0.0]
    assert email.marker.color == cc.purpose_colour("email_marketing")
    assert "Email marketing" in email.hovertemplate
    assert all(v is not None for v in drawn(fig))


def test_rate_bars_only_show_published_rates():
    fig = cc.opt_in_rate_bars(BY, "country", "Country")
    (sms,) = [t for t in fig.data if len(t.x)]
    assert list(sms.x) == ["Germany (DE)"]
    assert sms.y[0] == pytest.approx(47 / 66)
    assert fig.layout.yaxis.tickformat == ".0%"


def test_trend_lines_leave_gaps_for_withheld_values():
    rate = cc.trend_rate(TREND, "month")
    email = next(t for t in rate.data if t.name == "Email marketing")
    assert list(email.x) == ["2026-01", "2026-02"]
    assert email.y[1] is None and email.y[0] == pytest.approx(400 / 537)
    assert email.connectgaps is False
    withdrawals = cc.withdrawals(TREND, "month")
    email = next(t for t in withdrawals.data if t.name == "Email marketing")
    analytics = next(t for t in withdrawals.data if t.name == "Analytics")
    assert list(email.y) == [37.0, None]
    assert list(analytics.y) == [0.0, 13.0]
    assert analytics.line.color == cc.purpose_colour("analytics")
    assert "Withdrawals per month" in withdrawals.layout.title.text


def test_purpose_colours_do_not_move_with_the_purposes_shown():
    only_sms = TREND.assign(purpose="sms_marketing").iloc[:2]
    fig = cc.withdrawals(only_sms, "month")
    assert fig.data[0].line.color == charts.SERIES_COLOURS[1]
    assert cc.purpose_colour("email_marketing") == charts.SERIES_COLOURS[0]
    assert cc.purpose_colour("newsletter_partner") in charts.SERIES_COLOURS
