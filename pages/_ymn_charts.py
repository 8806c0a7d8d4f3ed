"""Pure Plotly builders for the yes / maybe / no page. They take published frames only: a
withheld value (None) is never a bar, a link, a hover label or an axis value."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from metrics.suppression import WITHHELD, formatted, is_withheld
from metrics.ymn_views import Opportunity
from pages import _charts as charts

CLASSES = ("yes", "maybe", "no")
NEW = "new"
# The palette's neutral grey: people who were not customers yet belong to no class.
NEW_COLOUR = charts.STATE_COLOURS["no_decision"]
STAGES = ("customers", "engaged", "intent", "converted")
STAGE_LABELS = {
    "customers": "Customers",
    "engaged": "Engaged",
    "intent": "Showed intent",
    "converted": "Converted",
}
NARROW = 0.4  # bars under this share of their funnel's widest bar carry their label outside
CLASS_NAMES = {"yes": "Yes", "maybe": "Maybe", "no": "No", NEW: "New"}


def _published(value: Any) -> bool:
    return not is_withheld(value)


def _count(value: Any, k: int) -> str:
    return formatted(value, lambda v: f"{int(v):,}")


def _customers(value: Any, k: int) -> str:
    """ "1,234 customers", or "customers withheld"."""
    if is_withheld(value):
        return f"customers {WITHHELD}"
    return f"{int(value):,} customers"


def _rate(value: Any) -> str:
    return f"{float(value) * 100:.1f}%"


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def class_funnels(frame: pd.DataFrame, *, k: int, title: str | None = None) -> go.Figure:
    """Three funnels side by side, one colour per class, each stage labelled with its count
    and its rate from the previous stage; a withheld stage is a "withheld" note, not a bar.

    `frame` has the columns class, stage, customers, step_rate (metrics.ymn_views.funnels).
    """
    present = [c for c in CLASSES if c in set(frame["class"])]
    fig = make_subplots(
        rows=1,
        cols=max(len(present), 1),
        shared_yaxes=True,
        horizontal_spacing=0.03,
        subplot_titles=[charts.CLASS_LABELS[c] for c in present],
    )
    stages = [s for s in STAGE_LABELS if s in set(frame["stage"])]
    for col, cls in enumerate(present, start=1):
        rows = frame[frame["class"] == cls].set_index("stage").reindex(stages)
        shown = [s for s in stages if _published(rows.at[s, "customers"])]
        text, hover, where = [], [], []
        widest = max((int(rows.at[s, "customers"]) for s in shown), default=0)
        for stage in shown:
            n, step = int(rows.at[stage, "customers"]), rows.at[stage, "step_rate"]
            # A narrow bar cannot hold its label: a shorter one goes beside the bar instead.
            inside = bool(widest) and n / widest >= NARROW
            label = f"{n:,}"
            line = f"{CLASS_NAMES[cls]}, {STAGE_LABELS[stage].lower()}: {n:,} customers"
            if _published(step):
                label += f"<br>{_rate(step)}" + (" of previous step" if inside else "")
                line += f"<br>{_rate(step)} of the previous step"
            text.append(label)
            hover.append(line)
            where.append("inside" if inside else "outside")
        fig.add_trace(
            go.Funnel(
                x=[int(rows.at[s, "customers"]) for s in shown],
                y=[STAGE_LABELS[s] for s in shown],
                name=charts.CLASS_LABELS[cls],
                marker={"color": charts.CLASS_COLOURS[cls]},
                connector={"fillcolor": _rgba(charts.CLASS_COLOURS[cls], 0.25)},
                text=text,
                textinfo="text",
                textposition=where,
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        for stage in stages:
            if stage not in shown:
                fig.add_annotation(
                    x=0,
                    y=STAGE_LABELS[stage],
                    text=WITHHELD,
                    showarrow=False,
                    row=1,
                    col=col,
                )
    fig.update_yaxes(categoryorder="array", categoryarray=[STAGE_LABELS[s] for s in stages])
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(visible=False)
    fig.update_layout(showlegend=False)
    # The class titles stand between the figure's title and the funnels.
    return charts.layout(fig, title=title, height=400, above=charts.PANEL_TITLES)


def funnel_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The funnels as one row per class: each stage's count, its rate from the previous
    stage and the class's conversion rate (withheld values stay None)."""
    columns = ["class", "customers"]
    for before, stage in zip(STAGES, STAGES[1:], strict=False):
        columns += [stage, f"{stage} / {before}"]
    columns.append("conversion rate")
    rows = []
    for cls in (c for c in CLASSES if c in set(frame["class"])):
        by_stage = frame[frame["class"] == cls].set_index("stage")
        row: dict[str, Any] = {"class": cls, "customers": by_stage.at["customers", "customers"]}
        for before, stage in zip(STAGES, STAGES[1:], strict=False):
            row[stage] = by_stage.at[stage, "customers"]
            row[f"{stage} / {before}"] = by_stage.at[stage, "step_rate"]
        row["conversion rate"] = by_stage.at["converted", "share_of_class"]
        rows.append(row)
    return pd.DataFrame(
        {c: pd.Series([r[c] for r in rows], dtype=object) for c in columns}, columns=columns
    )


RATE_COLUMNS = ("engaged / customers", "intent / engaged", "converted / intent", "conversion rate")
COUNT_COLUMNS = ("customers", "engaged", "intent", "converted")


def flows_table(frame: pd.DataFrame, *, before: str, now: str) -> pd.DataFrame:
    """The moves between classes with plain column names: class then, class now, customers,
    and both classes' sizes (withheld values stay None)."""
    columns = {
        "from_class": f"class on {before}",
        "to_class": f"class on {now}",
        "customers": "customers",
        "from_customers": f"customers in that class on {before}",
        "to_customers": f"customers in that class on {now}",
    }
    return frame[list(columns)].rename(columns=columns)


def _node_label(cls: str, when: str) -> str:
    if cls == NEW:
        return f"New since {when}"
    return f"{CLASS_NAMES[cls]} on {when}"


def _stacked_centres(sizes: list[int], gap: float = 0.04) -> list[float]:
    """Vertical centres (0 = top) of nodes stacked in order, each as tall as its size."""
    total = sum(sizes) or 1
    room = 1 - gap * (len(sizes) - 1)
    out, top = [], 0.0
    for size in sizes:
        height = room * size / total
        out.append(min(max(top + height / 2, 0.001), 0.999))
        top += height + gap
    return out


def class_sankey(
    frame: pd.DataFrame, *, before: str, now: str, k: int, title: str | None = None
) -> go.Figure:
    """Moves between classes from the earlier as-of date (left) to D (right): one link per
    published non-zero flow, coloured by its origin; withheld flows are not drawn.

    `frame` has the columns from_class, to_class, customers, from_customers, to_customers
    (metrics.ymn_views.class_flows).
    """
    sources = [c for c in (*CLASSES, NEW) if c in set(frame["from_class"])]
    targets = [c for c in CLASSES if c in set(frame["to_class"])]
    first = frame.drop_duplicates("from_class").set_index("from_class")["from_customers"]
    second = frame.drop_duplicates("to_class").set_index("to_class")["to_customers"]
    labels, colours, hover = [], [], []
    for cls in sources:
        labels.append(_node_label(cls, before))
        colours.append(NEW_COLOUR if cls == NEW else charts.CLASS_COLOURS[cls])
        hover.append(f"{labels[-1]}: {_customers(first[cls], k)}")
    for cls in targets:
        labels.append(_node_label(cls, now))
        colours.append(charts.CLASS_COLOURS[cls])
        hover.append(f"{labels[-1]}: {_customers(second[cls], k)}")
    drawn = frame[[_published(v) and int(v) > 0 for v in frame["customers"]]]
    source = [sources.index(c) for c in drawn["from_class"]]
    target = [len(sources) + targets.index(c) for c in drawn["to_class"]]
    values = [int(n) for n in drawn["customers"]]
    link_hover = [
        f"{labels[s]} → {labels[t]}: {n:,} customers"
        for s, t, n in zip(source, target, values, strict=True)
    ]
    # Classes keep their order top to bottom (yes, maybe, no, then new), placed by the
    # published links alone so that a node's position gives nothing withheld away.
    x, y = [], []
    for column, nodes, ends in ((0.001, sources, source), (0.999, targets, target)):
        offset = 0 if column < 0.5 else len(sources)
        sizes = [
            sum(v for e, v in zip(ends, values, strict=True) if e == offset + i)
            for i in range(len(nodes))
        ]
        x += [column] * len(nodes)
        y += _stacked_centres(sizes)
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "color": colours,
                "x": x,
                "y": y,
                "pad": 18,
                "thickness": 18,
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra></extra>",
            },
            link={
                "source": source,
                "target": target,
                "value": values,
                "color": [_rgba(colours[s], 0.4) for s in source],
                "customdata": link_hover,
                "hovertemplate": "%{customdata}<extra></extra>",
            },
            textfont={"shadow": "none"},
        )
    )
    return charts.layout(fig, title=title, height=420)


def opportunity_sentence(opportunity: Opportunity, *, k: int, currency: str | None = None) -> str:
    """The maybe opportunity in plain words; withheld figures are not named."""
    o = opportunity
    if None in (o.maybe_customers, o.yes_rate, o.maybe_rate, o.extra_converters):
        return (
            "Too few maybe or yes customers (or buyers among them) match these filters to "
            f"size the opportunity without revealing groups smaller than {k}."
        )
    rates = (
        f"{_rate(o.maybe_rate)} of maybe customers ordered in the period, against "
        f"{_rate(o.yes_rate)} of yes customers"
    )
    if o.extra_converters <= 0:
        return f"{rates}: maybe customers already buy at least as often, so there is no gap."
    text = (
        f"{rates}. If the {o.maybe_customers:,} maybe customers ordered as often as yes "
        f"customers, about {o.extra_converters:,.0f} more of them would have ordered"
    )
    if o.extra_revenue is None:
        return text + " (what they would spend is withheld: too few yes buyers)."
    amount = f"{currency} {o.extra_revenue:,.0f}" if currency else f"{o.extra_revenue:,.0f}"
    return text + f", bringing roughly {amount} more in revenue."
