"""Erasure & requests: privacy requests received and completed, the erasure backlog, what is
overdue or due soon, and the on-time rate against each jurisdiction's legal deadline."""

import streamlit as st

from metrics import erasure_views as ev
from metrics.figures import on_page
from metrics.suppression import WITHHELD, formatted
from pages import _erasure_charts as charts
from pages import _widgets as w

info, params = w.context()
k = params.min_cell
w.header(
    "Erasure & requests",
    "How many privacy requests arrive and get done, how many requests to be forgotten are "
    "waiting or late, and how reliably each jurisdiction's legal deadline is met.",
)
w.freshness(info, params)
figures = w.figures(ev.erasure_figures, params)


def days(value: float | None, k: int) -> str:
    """A published number of days, or the withheld marker."""
    return formatted(value, lambda v: f"{v:,.1f}".removesuffix(".0"))


def one_of(choices: list[str]) -> str:
    """Choices as a reader lists them: "a", "a or b", "a, b or c"."""
    if len(choices) < 3:
        return " or ".join(choices)
    return f"{', '.join(choices[:-1])} or {choices[-1]}"


def sentence(text: str) -> str:
    """`text` as a sentence following another (empty when there is no text)."""
    return f" {text[:1].upper()}{text[1:]}." if text else ""


def nothing_to_show(container, frame, columns, *, what: str, none: str, more: str = "") -> None:
    """In place of a chart with nothing to draw (pages/_erasure_charts.drawable), one
    sentence saying why: `none` when every count is zero, else that they are withheld;
    `more` after it."""
    if charts.any_withheld(frame, columns):
        zero = any(v == 0 for c in columns for v in frame[c] if v is not None)
        why = (
            f"every count in it is {'zero or ' if zero else ''}withheld (fewer than {k} "
            "requests, or would let such a count be worked out)"
        )
    else:
        why = none
    container.info(f"Nothing to show {what}: {why}.{more}")


# Hints name only what the reader has not chosen already: a wider period when the store
# holds more, clearing filters when some are set, the page's other controls.
wider = bool(
    (info.first is not None and params.start > info.first)
    or (info.last is not None and params.end < info.last)
)
filtered = bool(params.filters)

if figures.empty:
    fixes = ["widen the period"] if wider else []
    fixes += ["clear a filter"] if filtered else []
    st.info(
        "No privacy request was received or completed in this period for the chosen filters, "
        f"and no erasure request is open.{sentence(one_of(fixes))}"
    )
    w.how_computed("erasure", on_page("erasure"), params)
    st.stop()

summary = figures.summary
st.subheader("Requests to be forgotten")
# Two rows of three: six tiles in one row leave a laptop's tile too narrow for its label.
tiles = [*st.columns(3), *st.columns(3)]
tiles[0].metric("Received", w.count(summary["received"], k))
tiles[1].metric("Completed", w.count(summary["completed"], k))
tiles[2].metric("Open now", w.count(summary["open"], k))
tiles[3].metric("Overdue now", w.count(summary["overdue"], k))
tiles[4].metric("On time", w.rate(summary["on_time_rate"], k))
tiles[5].metric("Median days to complete", days(summary["median_days_to_complete"], k))
w.meaning(
    "Requests to be forgotten received and completed in the period; open ones were received "
    f"and not yet completed on {params.as_of}, and overdue ones have passed their legal "
    "deadline, which should never happen. On time means completed within the jurisdiction's "
    "deadline."
)
reading = figures.trend
longer = ev.whole_months(params.start, params.end) < ev.TREND_NEEDS
if longer and info.first and info.last and ev.whole_months(info.first, info.last) >= ev.TREND_NEEDS:
    reading += " Widen the period to see one."
st.markdown(f"**In plain words:** {reading}")

st.subheader("Requests received and completed")
left, right = st.columns(2)
grain = w.control(
    st.radio,
    "Per",
    ev.GRAINS,
    key="erasure_grain",
    default=ev.GRAINS[0],
    format_func=str.capitalize,
    container=left,
    horizontal=True,
)
by = w.control(
    st.radio,
    "Broken down by",
    ev.BREAKDOWNS,
    key="erasure_by",
    default=ev.BREAKDOWNS[0],
    format_func=lambda b: "Request type" if b == "type" else "Jurisdiction (erasure requests)",
    container=right,
    horizontal=True,
)
frame = figures.requests_over_time(grain, by)
drawn = {figure: charts.drawable(frame, [figure]) for figure in ev.FIGURES}
# Bigger counts, fewer withheld: the views not chosen yet.
views = ["per month"] if grain != "month" else []
views += ["by request type"] if by != "type" else []
more = sentence(f"{one_of(views)} shows more") if views else ""
if filtered:
    more += sentence("clearing a filter also helps" if views else "clearing a filter shows more")
what = "Privacy requests" if by == "type" else "Erasure requests"
if not any(drawn.values()):
    nothing_to_show(
        st,
        frame,
        list(ev.FIGURES),
        what=f"for {what.lower()} received or completed per {grain}",
        none="none was received or completed in this period for the chosen filters",
        more=more,
    )
else:
    if figures.withheld_share(grain, by) > 0.5:
        st.info(
            f"Most of these {grain}ly counts are under {k} and withheld, so the bars show "
            f"little.{more}"
        )
    left, right = st.columns(2)
    for container, figure in ((left, "received"), (right, "completed")):
        title = f"{what} {figure} per {grain}"
        if drawn[figure]:
            w.chart(
                charts.period_bars(frame, figure, by, title=title),
                key=f"erasure_{figure}",
                container=container,
            )
        else:
            nothing_to_show(
                container,
                frame,
                [figure],
                what=f"for {what.lower()} {figure} per {grain}",
                none=f"none was {figure} in this period for the chosen filters",
            )
    w.meaning(
        f"Each bar is one {grain}: how many requests came in (left) and how many were "
        "completed (right), coloured by "
        f"{'type of request' if by == 'type' else 'the law that applies'}. A piece with fewer "
        f"than {k} requests is left out to protect the people behind it, so a bar can be "
        "shorter than the true total; the table below gives the totals for the whole period."
    )
totals = figures.totals_by(by)
st.dataframe(
    w.shown(
        totals,
        k,
        {"received": w.count, "completed": w.count},
        headers={"group": "Request type" if by == "type" else "Jurisdiction"},
    ),
    hide_index=True,
)
w.download(frame, f"requests_per_{grain}_by_{by}", k)
w.download(totals, f"request_totals_by_{by}", k)

st.subheader("Backlog of erasure requests")
backlog = figures.backlog_by(grain)
if charts.drawable(backlog, ["open", "overdue"]):
    w.chart(
        charts.backlog_lines(
            backlog, title=f"Open and overdue erasure requests at each {grain}'s end"
        ),
        key="erasure_backlog",
    )
    w.meaning(
        "The blue line counts requests to be forgotten still waiting at the end of each "
        f"{grain}; the red line counts those among them already past their legal deadline. A "
        "rising blue line means requests arrive faster than the team completes them; the red "
        f"line should stay at zero. A gap is a {grain} with fewer than {k} requests."
    )
else:
    nothing_to_show(
        st,
        backlog,
        ["open", "overdue"],
        what=f"for the backlog at each {grain}'s end",
        none=f"no erasure request was open at the end of any {grain} for the chosen filters",
    )
w.download(backlog, f"erasure_backlog_per_{grain}", k)

st.subheader(f"Open erasure requests on {params.as_of}, by due date")
due = figures.due_totals
columns = st.columns(4)
columns[0].metric("Open", w.count(due["open"], k))
columns[1].metric("Overdue", w.count(due["overdue"], k))
columns[2].metric(f"Due within {figures.horizon_days} days", w.count(due["due_soon"], k))
columns[3].metric("Due later", w.count(due["due_later"], k))
status = figures.due_status()
parts = ["overdue", "due_soon", "due_later"]
if status.empty:
    st.info("No erasure request is open for the chosen filters.")
elif charts.drawable(status, parts):
    w.chart(
        charts.due_status_bars(
            status,
            horizon_days=figures.horizon_days,
            title="Open erasure requests per jurisdiction",
        ),
        key="erasure_due",
    )
    w.meaning(
        "Each bar splits the requests still waiting in one jurisdiction: red ones are already "
        f"late, orange ones reach their legal deadline within {figures.horizon_days} days and "
        "need attention first, blue ones have more time. Pieces with fewer than "
        f"{k} requests are left out; the table shows them as {WITHHELD}."
    )
else:
    nothing_to_show(
        st,
        status,
        parts,
        what="per jurisdiction and due date",
        none="no erasure request is open for the chosen filters",
    )
if not status.empty:
    st.dataframe(
        w.shown(
            status,
            k,
            {c: w.count for c in ("open", "overdue", "due_soon", "due_later")},
            headers={"due_soon": f"Due within {figures.horizon_days} days"},
        ),
        hide_index=True,
    )
    w.download(status, "erasure_due_status", k)

st.subheader("Completed on time, against each jurisdiction's legal deadline")
on_time = figures.on_time()
if on_time.empty:
    st.info("No erasure request was completed in this period for the chosen filters.")
elif on_time["on_time_rate"].notna().any():
    w.chart(
        charts.on_time_bars(on_time, title="Share completed within the legal deadline"),
        key="erasure_on_time",
    )
    w.meaning(
        "Each bar is all the requests to be forgotten one jurisdiction completed in the "
        "period: the blue part was completed within the deadline of the law that applies "
        "(written under its name), the red part after it, and the share on time is written "
        "beside the bar; a bar without red means none was late. A jurisdiction whose rate is "
        f"withheld (fewer than {k} completed, on-time or late requests) has no bar."
    )
else:
    st.info(
        "Nothing to show for the share completed on time: in each jurisdiction here fewer "
        f"than {k} requests were completed, or the on-time or late ones are too few to "
        "show, so no rate would be fair to publish."
    )
if not on_time.empty:
    st.dataframe(
        w.shown(
            on_time,
            k,
            {"completed": w.count, "on_time_rate": w.rate, "median_days": days},
        ),
        hide_index=True,
    )
    w.download(on_time, "erasure_on_time_by_jurisdiction", k)

w.how_computed("erasure", on_page("erasure"), params)
