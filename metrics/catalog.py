"""Every named metric the product shows: the spec's figures and the dashboard's own."""

from __future__ import annotations

from metrics import consent_views, erasure_views, impact, registry, ymn_views
from metrics.registry import Metric

SECTIONS: tuple[tuple[str, tuple[Metric, ...]], ...] = (
    ("Figures of the metrics JSON", registry.METRICS),
    ("Consent & segments", consent_views.METRICS),
    ("Yes / maybe / no", ymn_views.METRICS),
    ("Erasure & requests", erasure_views.METRICS),
    ("Conversion impact", impact.METRICS),
)
METRICS: tuple[Metric, ...] = tuple(m for _, metrics in SECTIONS for m in metrics)


def glossary_markdown() -> str:
    """The metric glossary as Markdown, as the README carries it."""
    parts = []
    for title, metrics in SECTIONS:
        rows = [f"### {title}", "", "| metric | unit | definition |", "|---|---|---|"]
        rows += [f"| `{m.name}` | {m.unit} | {m.description} |" for m in metrics]
        parts.append("\n".join(rows))
    return "\n\n".join(parts)
