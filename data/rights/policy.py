"""What the product does with each category of data: the purposes, sources and retention a
transparency report states (GDPR Art. 15). One place, read by reports and docs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """A category of personal data held, and how it is used."""

    name: str
    tables: tuple[str, ...]
    fields: tuple[str, ...]
    purposes: str
    source: str
    retention: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Identity and contact",
        ("customers",),
        ("customer_id", "full_name", "email", "phone"),
        "Running the customer account; marketing messages only for the purposes you granted.",
        "You, when you created your account.",
        "While the account is active, then 24 months; erased at once on request.",
    ),
    Category(
        "Location and profile",
        ("customers",),
        ("country", "state", "jurisdiction", "acquisition_channel", "segment", "created_at"),
        "Applying the privacy law of your country; counting customers by group in aggregate.",
        "You (country) and our sign-up records (channel); segment is derived from purchases.",
        "As identity and contact.",
    ),
    Category(
        "Consent records",
        ("consent_events",),
        (
            "purpose",
            "decision",
            "occurred_at",
            "source",
            "method",
            "notice_version",
            "prompt_variant",
        ),
        "Proving what you agreed to and honouring it.",
        "Your choices in our consent banner, checkout, preference centre or browser (GPC).",
        "As long as the consent is relied on, then 36 months as legal proof.",
    ),
    Category(
        "Engagement",
        ("touchpoints",),
        ("occurred_at", "type", "channel", "campaign_id"),
        "Measuring how our marketing performs, in aggregate; personalisation only if granted.",
        "Our website, app and e-mail delivery systems.",
        "24 months.",
    ),
    Category(
        "Orders",
        ("orders",),
        ("order_id", "ordered_at", "revenue", "currency"),
        "Delivering and accounting for your orders.",
        "Our shop.",
        "10 years for accounting; the link to you is removed when you are erased.",
    ),
    Category(
        "Privacy requests",
        ("privacy_requests",),
        (
            "request_id",
            "type",
            "received_at",
            "completed_at",
            "status",
            "extended",
            "jurisdiction",
            "channel",
        ),
        "Answering your requests within the legal deadline and proving that we did.",
        "You.",
        "36 months; the link to you is removed when you are erased.",
    ),
    Category(
        "Sharing and sale",
        ("sharing",),
        ("recipient", "recipient_category", "purpose", "sold", "shared_at"),
        "Telling you with whom your data was shared or to whom it was sold.",
        "Our records of transfers.",
        "As long as the transfer may be questioned, at most 36 months.",
    ),
)
