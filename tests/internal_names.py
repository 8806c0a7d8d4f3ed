"""Stored names a reader should never meet where a label belongs: the one list that the
AppTest wording test (tests/pages/test_wording.py) and the browser layout test
(tests/e2e/test_layout.py) both check against."""

from __future__ import annotations

INTERNAL = frozenset(
    {
        "opt_in_rate",
        "granted_share",
        "denied_share",
        "withdrawn_share",
        "no_decision",
        "no_decision_share",
        "due_soon",
        "due_later",
        "extended_deadline",
        "on_time_rate",
        "median_days",
        "acquisition_channel",
        "prompt_variant",
        "email_marketing",
        "sms_marketing",
        "third_party_sharing",
        "value_seeker",
        "organic_search",
        "paid_search",
        "email_referral",
        "opt_out_of_sale",
        "US_STATE",
        "UK_GDPR",
    }
)
