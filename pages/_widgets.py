"""Shared page parts: the sidebar and its URL, cached figures, formatting, explanations,
downloads. Pages draw; everything they show comes from metrics/ through here."""

from __future__ import annotations

import importlib
import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from consentlens import service, training
from data.intake.problems import inert
from metrics import api, perturbation
from metrics.figures import BY_NAME, Figure
from metrics.params import Filters, Params, ParamsError, default_min_cell
from metrics.suppression import WITHHELD, formatted, is_withheld, publishable, withheld_note
from pages import _labels as labels
from pages import _links as links
from pages import _routes as routes


def store_path() -> Path:
    """The store the dashboard reads: the scenario's training store in training mode, else
    the one the server was started on."""
    active = training_session()
    return active.path if active is not None else api.store_path()


# Training mode: a session opened with ?scenario=NAME (and &seed=S) reads that scenario's
# training store (consentlens/training.py) until it leaves; the store it reads otherwise is
# never opened meanwhile.


@dataclass(frozen=True)
class TrainingSession:
    """The scenario a session trains on, and its store."""

    scenario: str
    seed: int
    path: Path

    @property
    def title(self) -> str:
        return training.SCENARIO_DETAILS[self.scenario].title


TRAINING_KEYS = ("scenario", "seed")


def training_session() -> TrainingSession | None:
    """The session's training scenario, if it trains."""
    return st.session_state.get("training")


def _forget_view() -> None:
    # A view chosen on one store means nothing on another: the sidebar and the pages'
    # controls start again from the link or the defaults.
    for key in (*SIDEBAR_KEYS, *links.CONTROLS):
        st.session_state.pop(key, None)


def enter_training() -> TrainingSession | None:
    """Start (or keep) training when the address names a scenario: its store is made on first
    use, for every session at once. An unknown scenario or seed stops the page with a clear
    message listing the valid ones; the real store is not opened."""
    wanted = st.query_params.get("scenario")
    active = training_session()
    if wanted is None:
        return active
    seed_text = st.query_params.get("seed", str(training.DEFAULT_SEED))
    try:
        scenario = training.check_scenario(wanted)
        seed = int(seed_text)
    except (service.Refused, ValueError):
        st.error(
            f"“{links.shown(wanted)}” with seed “{links.shown(seed_text)}” is not a training "
            "scenario. Valid scenarios: "
            + ", ".join(f"`{name}`" for name in training.SCENARIOS)
            + " (the seed is a whole number; it may be left out)."
        )
        # Before the pages are routed, so a plain link: to the Training page, no scenario.
        st.markdown(":material/school: [Choose a scenario on the Training page](training-mode)")
        st.stop()
    if active is not None and (active.scenario, active.seed) == (scenario, seed):
        return active
    with st.spinner("Preparing the training data (a few seconds, once for everyone)…"):
        path = training.prepare(scenario, seed)
    _forget_view()
    st.session_state["training"] = TrainingSession(scenario, seed, path)
    return st.session_state["training"]


def leave_training() -> None:
    """Back to the store the server was started on, with a fresh view."""
    st.session_state.pop("training", None)
    st.session_state.pop("tour", None)
    for key in TRAINING_KEYS:
        st.query_params.pop(key, None)
    _forget_view()


def start_tour(active: TrainingSession, index: int = 0) -> None:
    """Open the tour's step `index`: its page, with the page's controls the step sets."""
    steps = training.TOURS[active.scenario]
    if not 0 <= index < len(steps):
        st.session_state.pop("tour", None)
        st.switch_page(routes.TRAINING_PAGE)
    step = steps[index]
    st.session_state["tour"] = (active.scenario, index)
    for key, value in step.controls.items():
        st.session_state[key] = value
    st.switch_page(routes.page_file(step.page))


def tour_step(url: str) -> None:
    """On the page a tour step opens (`url`: this page's address): what to look at, why,
    and the way on."""
    here = routes.page_name(url)
    active = training_session()
    tour = st.session_state.get("tour")
    if active is None or not tour or tour[0] != active.scenario:
        return
    steps = training.TOURS[active.scenario]
    index = tour[1]
    step = steps[index]
    if step.page != here:
        return
    with st.container(border=True, key="tour_step"):
        st.markdown(
            f":material/tour: **Tour, step {index + 1} of {len(steps)}.** Look at "
            f"**{step.look_at}**. {step.text}"
        )
        back, on, stop = st.columns(3)
        if back.button("Back", key="tour_back", disabled=index == 0):
            start_tour(active, index - 1)
        last = index == len(steps) - 1
        if on.button("Finish the tour" if last else "Next step", key="tour_next", type="primary"):
            start_tour(active, index + 1)
        if stop.button("Leave the tour", key="tour_stop"):
            st.session_state.pop("tour", None)
            st.rerun()


def training_banner(active: TrainingSession) -> None:
    """The line every page carries in training mode: synthetic data, which scenario, and the
    way out."""
    with st.container(border=True):
        text, tour, leave = st.columns([4, 1, 1], vertical_alignment="center")
        text.markdown(
            f":material/school: **Training: synthetic data.** Scenario *{active.title}* "
            f"(seed {active.seed}); nothing here is a real customer. Leave training to "
            "return to your own data."
        )
        if tour.button("Guided tour", key="tour_from_banner", icon=":material/tour:"):
            start_tour(active, 0)
        leave.button("Leave training", key="leave_training", on_click=leave_training)


def waiting(message: str) -> None:
    """Say that a write waits its turn behind another one (the store has one writer at a
    time)."""
    st.info(message[:1].upper() + message[1:] + ".", icon=":material/hourglass_top:")


def turn() -> service.Turn:
    """How a page's write takes its turn: saying on the page whom it waits for."""
    return service.Turn(on_wait=waiting)


# Cached per version of the store: the copy readers see changes with every write, and so
# does the key. A figure computed from a newer copy than its key is harmless (the next run
# asks for the newer key); an older one never is, since a read opens the newest copy.


@st.cache_data(show_spinner=False, max_entries=8)
def _summary(path: str, version: str) -> api.StoreSummary:
    return api.summarize(path)


@st.cache_data(show_spinner="Computing figures…", max_entries=256)
def _evaluate(path: str, version: str, module: str, name: str, params: Params, args: tuple) -> Any:
    # Shared by every user of the server: aggregates only, never a person's data.
    if module == "metrics.person":
        raise ValueError("person-level results are never cached")
    fn = getattr(importlib.import_module(module), name)
    return api.evaluate(path, fn, params, *args)


@st.cache_data(show_spinner=False, max_entries=8)
def _identifier_forms(path: str, version: str, _identity: Any, permission: str) -> list:
    # The forms ids take, each shared by at least k customers: no person's data. The pages
    # that call this have checked the permission before.
    return service.identifier_forms(_identity, permission)


@st.cache_data(show_spinner=False, max_entries=8)
def _samples_held(path: str, version: str, _identity: Any) -> Any:
    # Counts of the samples' own keys in the store: no person's data; once per store version,
    # not on every run of the Upload page.
    return service.samples_held(_identity)


def samples_held(identity: Any) -> Any:
    """What of the upload samples the store holds (None without a store), per store version."""
    path = store_path()
    if not path.exists():
        return None
    return _samples_held(str(path), api.store_version(path), identity)


ID_SYMBOLS = {
    "digits": "# stands for a digit",
    "letters": "A for a letter",
    "letters and digits": "x for a letter or a digit",
}


def identifier_hint(identity: Any, permission: str) -> tuple[str, str]:
    """What a customer id looks like in this store, as (a field's placeholder, a sentence),
    from the forms ids take; never an identifier itself. Empty when the store has none."""
    path = store_path()
    if not path.exists():
        return "", ""
    forms = _identifier_forms(str(path), api.store_version(path), identity, permission)
    if not forms:
        return "", ""
    shown = [f"`{f.placeholder}` ({f.words})" for f in forms]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    kinds = {f.kind for f in forms}
    legend = ", ".join(text for kind, text in ID_SYMBOLS.items() if kind in kinds)
    return (
        f"Format: {forms[0].placeholder}",
        f"Customer IDs in this store look like {listed}; {legend}.",
    )


def summary() -> api.StoreSummary | None:
    """The store's summary, or None after explaining why there is none."""
    path = store_path()
    if api.source_folder() is not None and not path.is_dir():
        st.info(
            f"There is no folder at `{path}` (named by ${api.SOURCE_VAR}). Write one with "
            "`consentlens export DIR`, then build its facts with `consentlens facts DIR`."
        )
        return None
    if not path.exists():
        st.info(
            f"There is no store at `{path}` yet. Create the demo with `consentlens demo` "
            "(or `make run`), or import your extracts with `consentlens import`."
        )
        return None
    try:
        return _summary(str(path), api.store_version(path))
    except api.StoreError as error:
        st.error(str(error))
        return None


def figures(fn: Callable[..., Any], params: Params, *args: Any) -> Any:
    """fn(tables, params, *args) from metrics/, cached per store version and parameters."""
    path = store_path()
    version = api.store_version(path)
    return _evaluate(str(path), version, fn.__module__, fn.__name__, params, tuple(args))


def published(params: Params) -> dict[str, Any]:
    """The metrics JSON for params (already suppressed)."""
    return figures(api.published, params)


def context() -> tuple[api.StoreSummary, Params]:
    """The store summary and the sidebar's parameters; stops the page with an explanation
    when there is nothing to show yet."""
    info = st.session_state.get("summary")
    params = st.session_state.get("params")
    if info is None:
        st.stop()
    if info.empty or params is None:
        st.info(
            "The store holds no customers yet. Import your extracts with "
            "`consentlens import PATH...`, or fill it with the synthetic demo: "
            "`consentlens demo`."
        )
        st.stop()
    return info, params


# The sidebar, mirrored in the URL so that a view can be shared and reopened.

SIDEBAR_KEYS = ("period", *links.FILTERS, "purpose")


def _view_from_link(info: api.StoreSummary, defaults: Params, first: date, last: date) -> None:
    """Set the sidebar from the address on a session's first run, and say what of the link
    could not be used."""
    query = {key: st.query_params.get_all(key) for key in st.query_params}
    choices = {key: getattr(info, attr) for key, (_label, attr) in links.CHOICES.items()}
    linked = links.read_link(
        query,
        choices,
        first=first,
        last=last,
        default_start=defaults.start,
        default_end=defaults.end,
        period_before=lambda end: api.period_start_before(end, months=api.DEFAULT_MONTHS),
    )
    st.session_state["period"] = (linked.start, linked.end)
    for key in links.FILTERS:
        st.session_state[key] = linked.chosen.get(key, [])
    st.session_state["purpose"] = linked.chosen.get("purpose") or list(info.purposes)
    if linked.notices:
        st.warning(
            "Some of this link could not be used:\n\n"
            + "\n".join(f"- {notice}" for notice in linked.notices),
            icon=":material/link_off:",
        )


def sidebar(info: api.StoreSummary) -> Params:
    """Render the shared filters and return the parameters every page uses."""
    defaults = api.default_params(info, min_cell=default_min_cell())
    first = info.first or defaults.start
    last = info.last or defaults.end
    bar = st.sidebar
    bar.header("Filters")
    if "period" not in st.session_state:
        _view_from_link(info, defaults, first, last)
    period = bar.date_input(
        "Period (as of its last day)",
        min_value=first,
        max_value=last,
        key="period",
        help="Defaults to the last 12 months of data. Figures are as of the period's end.",
    )
    start, end = (period[0], period[-1]) if len(period) else (defaults.start, defaults.end)

    chosen: dict[str, tuple[str, ...]] = {}
    for key, (label, options_attr, _field) in links.FILTERS.items():
        options = getattr(info, options_attr)
        chosen[key] = tuple(
            bar.multiselect(
                label, options, key=key, placeholder="All", format_func=labels.FILTER_LABELS[key]
            )
        )
    purposes = tuple(
        bar.multiselect("Purposes shown", info.purposes, key="purpose", format_func=labels.words)
    )

    filters = Filters(**{links.FILTERS[k][2]: v for k, v in chosen.items()})
    try:
        params = replace(defaults, as_of=end, start=start, end=end, filters=filters)
    except ParamsError:
        params = defaults
    _write_url(params, defaults, chosen, purposes, info.purposes)
    st.session_state["purposes_shown"] = purposes or info.purposes
    return params


def control(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[str],
    *,
    key: str,
    default: str,
    format_func: Callable[[str], str] = str,
    container: Any = st,
    **kwargs: Any,
) -> str:
    """A page's own control (`widget`: a radio or select box), carried by the view's link:
    read from the address on the session's first run, a value the page does not offer named
    in a notice, and written back on every run (left out when it is the default)."""
    options = list(options)
    if key not in st.session_state and key in st.query_params:
        wanted = st.query_params.get_all(key)[-1]
        if wanted in options:
            st.session_state[key] = wanted
        else:
            st.warning(
                f"The link's {label.lower()} “{links.shown(wanted)}” is not one this page "
                f"offers; {format_func(default)} is shown.",
                icon=":material/link_off:",
            )
    if key not in st.session_state:
        kwargs["index"] = options.index(default)
    value = getattr(container, widget.__name__)(
        label, options, key=key, format_func=format_func, **kwargs
    )
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get_all(key) != [value]:
        st.query_params[key] = value
    return value


def share_link() -> None:
    """The address of exactly this view (sidebar and the page's controls), to copy."""
    query = urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])
    base = st.context.url or ""
    address = f"{base}?{query}" if query else base or "(this page's address)"
    with st.popover("Link to this view", icon=":material/link:"):
        st.caption("Copy this address: it opens this page with these filters and choices.")
        st.code(address, language=None, wrap_lines=True)


def keep_sidebar() -> None:
    """On a page without the filters: keep their values for the next dashboard (Streamlit
    forgets a widget's value on a run that does not draw it, unless it is set again), and
    the link's parameters with them."""
    for key in SIDEBAR_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _write_url(
    params: Params,
    defaults: Params,
    chosen: dict[str, tuple[str, ...]],
    purposes: tuple[str, ...],
    all_purposes: tuple[str, ...],
) -> None:
    # The pages' own controls stay as the page wrote them (pages/_links.PAGE_CONTROLS).
    wanted: dict[str, str | list[str]] = {
        key: st.query_params.get_all(key) for key in links.CONTROLS if key in st.query_params
    }
    active = training_session()
    if active is not None:
        # A training view's link opens the same scenario.
        wanted["scenario"] = active.scenario
        if active.seed != training.DEFAULT_SEED:
            wanted["seed"] = str(active.seed)
    if (params.start, params.end) != (defaults.start, defaults.end):
        wanted["start"], wanted["end"] = params.start.isoformat(), params.end.isoformat()
    for key, values in chosen.items():
        if values:
            wanted[key] = list(values)
    if purposes and tuple(purposes) != tuple(all_purposes):
        wanted["purpose"] = list(purposes)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    normal = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normal:
        st.query_params.from_dict(wanted)


def purposes_shown() -> tuple[str, ...]:
    """The purposes the reader chose to see."""
    return tuple(st.session_state.get("purposes_shown", ()))


def synthetic(info: api.StoreSummary | None) -> bool:
    """Whether the figures come (in part) from generated data, read from what the store holds
    now (or, for a Parquet folder, from what its export recorded)."""
    if info is None:
        return False
    # An export made before the mark was recorded says only where its rows came from.
    return info.info.get("synthetic", "yes" if info.info.get("source") == "demo" else "") == "yes"


def synthetic_marker(info: api.StoreSummary | None) -> None:
    """The mark every page carries while the data is generated."""
    if synthetic(info):
        st.warning(
            "**Synthetic data.** Every figure here comes from generated customers, not from "
            "real people.",
            icon=":material/science:",
        )


def freshness(info: api.StoreSummary, params: Params) -> None:
    """One line: as-of date, period, where the data came from and how much there is."""
    source = info.info.get("source", "unknown source")
    if synthetic(info):
        mixed = ", with imported rows" if source != "demo" else ""
        source = f"synthetic demo (seed {info.info.get('seed', '?')}){mixed}"
    if "read_from" in info.info:
        source += f", read from the Parquet folder {info.info['read_from']}"
    sizes = info.row_counts.items()
    rows = ", ".join(f"{_store_size(n, params)} {table.replace('_', ' ')}" for table, n in sizes)
    note = " · filtered" if params.filters else ""
    if params.perturbed:
        note += f" · {perturbation.noise_note(params.min_cell)}"
    st.caption(
        f"As of **{params.as_of}** · period {params.start} to {params.end} · {source} · "
        f"{rows} · {withheld_note(params.min_cell)}{note}"
    )


# Charts that say what they are, also as a picture on a slide.


def picture_note(info: api.StoreSummary | None, params: Params) -> str:
    """What a chart says under its title, on screen and in the PNG its toolbar downloads:
    the period, the filters and purposes chosen, the data's source and, while the data is
    generated, "Synthetic data"."""
    parts = [f"{labels.day(params.start)} to {labels.day(params.end)}"]
    chosen = []
    for key, (label, _attr, name) in links.FILTERS.items():
        values = getattr(params.filters, name)
        if values:
            read = labels.FILTER_LABELS[key]
            chosen.append(f"{label}: {', '.join(read(v) for v in values)}")
    parts.append("; ".join(chosen) if chosen else "all customers")
    shown = purposes_shown()
    if info is not None and shown and tuple(shown) != tuple(info.purposes):
        parts.append("purposes: " + ", ".join(labels.words(p) for p in shown))
    folder = info is not None and "read_from" in info.info
    parts.append("source: " + ("a Parquet folder" if folder else "the ConsentLens store"))
    if synthetic(info):
        parts.append(SYNTHETIC_NOTE)
    return " · ".join(parts)


SYNTHETIC_NOTE = "<b>Synthetic data</b>"
NOTE_WIDTH = 60  # characters per line of the picture note
NOTE_SIZE, NOTE_LINE = 12, 17  # its type size and line height (px)
NBSP = "\u00a0"


def chart(fig: Any, *, key: str, container: Any = st) -> None:
    """A Plotly chart with the picture note under its title (`picture_note`); its toolbar's
    PNG, at twice the screen's resolution, is named after the chart (and says `_synthetic`
    in its name while the data is generated)."""
    info = st.session_state.get("summary")
    params = st.session_state.get("params")
    name = key
    if params is not None:
        # Lines short enough for a chart half a laptop's page wide (Plotly does not wrap).
        note = picture_note(info, params).replace(SYNTHETIC_NOTE, SYNTHETIC_NOTE.replace(" ", NBSP))
        lines = textwrap.wrap(note, NOTE_WIDTH, break_on_hyphens=False)
        # Plotly draws the note below the title's anchor: lift the title by its height.
        pad = fig.layout.title.pad.b or 0
        fig.update_layout(
            title_subtitle_text="<br>".join(lines).replace(NBSP, " "),
            title_subtitle_font={"size": NOTE_SIZE},
            title_pad_b=pad + NOTE_LINE * len(lines),
        )
    if synthetic(info):
        name += "_synthetic"
    container.plotly_chart(
        fig,
        key=key,
        config={
            "displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
        },
    )


def _store_size(n: int, params: Params) -> str:
    if not publishable(n, params.min_cell):
        return count(None, params.min_cell)
    if params.perturbed and n != perturbation.about(n):
        return f"about {perturbation.about(n):,}"
    return count(n, params.min_cell)


# Formatting: withheld values read WITHHELD everywhere (k is kept for the callers' sake).


def count(value: int | None, k: int) -> str:
    """A published count, or the withheld marker."""
    return formatted(value, "{:,}")


def rate(value: float | None, k: int, digits: int = 1) -> str:
    """A published rate as a percentage, or the withheld marker."""
    return formatted(value, lambda v: f"{v * 100:.{digits}f}%")


def money(value: float | None, k: int, currency: str | None = None) -> str:
    """A published amount with its currency code ("EUR 1,234"), or the withheld marker."""
    return formatted(value, lambda v: f"{currency} {v:,.0f}" if currency else f"{v:,.0f}")


def in_currency(currency: str | None) -> Callable[[float | None, int], str]:
    """`money` for amounts in `currency`, as a table's or tile's formatter."""
    return lambda value, k: money(value, k, currency)


def currency(
    info: api.StoreSummary, params: Params, *, container: Any = st
) -> tuple[Params, str | None]:
    """The page's parameters and the currency its amounts are in. Where orders are recorded
    in several (or some in none), a choice of one, carried by the view's link, the commonest
    first: the parameters then count that currency's orders only. With one currency, that
    one; with none recorded, None (amounts as recorded)."""
    codes = info.currencies
    if not codes:
        return params, None
    if len(codes) == 1 and not info.orders_without_currency:
        return params, codes[0]
    # One choice for every page that shows amounts: each page draws its own select box (a
    # widget of its own to Streamlit), so the choice is kept apart and handed to the next.
    if st.session_state.get(CURRENCY_CHOSEN) in codes:
        st.session_state["currency"] = st.session_state[CURRENCY_CHOSEN]
    code = control(
        st.selectbox,
        "Currency",
        codes,
        key="currency",
        default=codes[0],
        format_func=labels.currency,
        container=container,
        on_change=_keep_currency,
        help="Orders here are recorded in several currencies: revenue is shown for one at a "
        "time, counting that currency's orders only, never adding one currency to another. "
        "Who bought does not depend on it.",
    )
    st.session_state[CURRENCY_CHOSEN] = code
    return replace(params, currency=code), code


CURRENCY_CHOSEN = "currency_chosen"


def _keep_currency() -> None:
    st.session_state[CURRENCY_CHOSEN] = st.session_state["currency"]


def shown(
    frame: pd.DataFrame,
    k: int,
    formats: dict[str, Callable[[Any, int], str]],
    headers: dict[str, str] | None = None,
) -> pd.DataFrame:
    """A copy of a published table for display: each listed column formatted, None as the
    withheld marker, headers and coded values in words (pages/_labels.py; `headers` first)."""
    out = frame.copy()
    for column, fmt in formats.items():
        out[column] = [fmt(None if is_withheld(v) else v, k) for v in out[column]]
    return labels.table(out, headers)


# Explanations and downloads.


def header(title: str, purpose: str) -> None:
    """Page title and its one-sentence purpose."""
    st.title(title)
    st.markdown(purpose)


def meaning(text: str) -> None:
    """The "what this means" note under a chart."""
    st.caption(f"**What this means:** {text}")


def how_computed(page: str, shown: Sequence[str | Figure], params: Params) -> None:
    """An expander with each figure's definition and the SQL the store runs for it.

    Give the names of metrics/figures.py, or a page's variant of a figure; every figure
    must name `page` among those that show it (the index stays true).
    """
    items = [BY_NAME[item] if isinstance(item, str) else item for item in shown]
    strays = [f.name for f in items if page not in f.pages]
    if strays:
        raise ValueError(f"metrics/figures.py does not list {page!r} for {', '.join(strays)}")
    # Drawn only while open: the SQL is compiled for the view's parameters, which a view
    # whose reader never opens the explanation should not wait for.
    names = [f.name for f in items]
    explanation = st.expander(
        "How is this computed?", key=f"how_computed:{':'.join(names)}", on_change="rerun"
    )
    if not explanation.open:
        return
    with explanation:
        for figure in items:
            st.markdown(
                f"**{figure.title}** (`{figure.name}`, {figure.unit}): {figure.description}"
            )
            module, query = figure.query.rsplit(".", 1)
            sql = figures(api.metric_sql, params, module, query)
            st.code(sql, language="sql")
        st.markdown(
            f"Counts from 1 to {params.min_cell - 1} are withheld, together with whatever "
            f"would let them be worked back out, and all read {WITHHELD}; "
            "rates need every count they rest on to be shown and at least "
            f"{params.min_cell} people behind them."
        )


def escape_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, made inert with a leading quote."""
    return inert(value) if isinstance(value, str) else value


def csv_bytes(frame: pd.DataFrame, k: int) -> bytes:
    """The published table as CSV: withheld cells read the withheld marker, formula triggers
    escaped."""
    out = frame.astype(object)
    out = out.mask(out.map(is_withheld), WITHHELD).map(escape_formula)
    out.columns = [escape_formula(str(c)) for c in out.columns]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def download(frame: pd.DataFrame, name: str, k: int) -> None:
    """A download button for one published table; the file is made, and the export
    recorded in the audit trail, only when it is clicked."""
    identity = st.session_state.get("identity")
    summary = st.session_state.get("summary")

    def make() -> bytes:
        if identity is not None:
            # In training, in the training store's own trail: never the real one's.
            active = training_session()
            db = active.path if active is not None else None
            service.record_export(identity, name, len(frame), db=db)
        # The screen's headers, words for coded values and rounding.
        return csv_bytes(labels.table(labels.rounded(frame)), k)

    st.download_button(
        f"Download {name.replace('_', ' ')} (CSV)",
        data=make,
        # A table of generated figures says so in its name, wherever the file goes.
        file_name=f"consentlens_{name}{'_synthetic' if synthetic(summary) else ''}.csv",
        mime="text/csv",
        key=f"download_{name}",
        on_click="ignore",
    )
