"""Training: scenarios with known answers, a guided tour and exercises, on synthetic data
only (consentlens/training.py)."""

from dataclasses import replace

import streamlit as st

from consentlens import training
from metrics import api
from metrics.figures import PAGE_TITLES
from metrics.params import default_min_cell
from pages import _access as access
from pages import _widgets as w

identity = access.require("view_aggregates")
st.title("Training")
active = w.training_session()

if active is None:
    st.write(
        "Run a session on synthetic data whose answers are known. Each scenario is a seeded "
        "store of its own, made on first use beside your data (never in its place) and shared "
        "by everyone who opens it; your own data is not read while you train. Start one here, "
        "or share a link to any page with `?scenario=NAME` (and `&seed=S`)."
    )
    for name, details in training.scenarios():
        with st.container(border=True):
            st.subheader(details.title + (" (a trap)" if details.trap else ""))
            st.write(details.story)
            st.caption(f"Lesson: {details.lesson} Link: `?scenario={name}`")
            if st.button("Start this scenario", key=f"start_{name}"):
                st.query_params["scenario"] = name
                st.rerun()
    st.stop()

details = training.SCENARIO_DETAILS[active.scenario]
st.subheader(details.title + (" (a trap)" if details.trap else ""))
st.write(details.story)
st.info(f"**Lesson.** {details.lesson}", icon=":material/lightbulb:")

progress = st.session_state.setdefault("training_progress", {}).setdefault(active.scenario, {})
exercises = training.EXERCISES[active.scenario]
right = sum(1 for e in exercises if progress.get(e.key) is True)
top = st.columns([3, 1, 1], vertical_alignment="center")
top[0].markdown(f"**Progress:** {right} of {len(exercises)} exercises answered right.")
if top[1].button("Reset progress", key="training_reset", icon=":material/restart_alt:"):
    st.session_state["training_progress"].pop(active.scenario, None)
    st.session_state.pop("tour", None)
    for exercise in exercises:
        st.session_state.pop(f"answer_{active.scenario}_{exercise.key}", None)
    st.rerun()

st.subheader("Guided tour")
steps = training.TOURS[active.scenario]
for number, step in enumerate(steps, start=1):
    st.markdown(f"{number}. **{PAGE_TITLES[step.page]}**: *{step.look_at}*. {step.text}")
if st.button("Start the tour", key="tour_start", type="primary", icon=":material/tour:"):
    w.start_tour(active, 0)

# The exercises ask about the dashboard's default view (the last twelve months), with the
# counts this reader sees: the same figures, cached alike, as the pages show.
info = st.session_state.get("summary")
if info is None:
    st.stop()
params = replace(
    api.default_params(info, min_cell=default_min_cell()), perturbed=identity.perturbed
)
keyed = training.answers(active.scenario, w.figures, params)

st.subheader("Exercises")
st.caption(
    f"About the dashboards' default view: {params.start} to {params.end}, as of {params.as_of}."
)


def _record(exercise: training.Exercise, answer: training.Answer, field: str) -> None:
    """Check the answer given in `field` (before the page is drawn again, so the progress
    line above counts it)."""
    progress[exercise.key] = exercise.check(st.session_state.get(field), answer)


for exercise, answer in keyed:
    with st.container(border=True):
        st.markdown(f"**{exercise.question}** (see {PAGE_TITLES[exercise.page]})")
        field = f"answer_{active.scenario}_{exercise.key}"
        if exercise.kind == "choice":
            st.radio("Your answer", answer.choices, index=None, key=field, format_func=str)
        else:
            st.number_input(
                f"Your answer ({exercise.unit})" if exercise.unit else "Your answer",
                value=None,
                step=0.1 if 0 < exercise.tolerance < 1 else 1.0,
                key=field,
            )
        st.button("Check", key=f"check_{field}", on_click=_record, args=(exercise, answer, field))
        if exercise.key in progress:
            if progress[exercise.key]:
                st.success(f"Right: {answer.text}. {answer.explanation}", icon=":material/check:")
            else:
                st.error(
                    f"Not quite: the answer is {answer.text}. {answer.explanation}",
                    icon=":material/close:",
                )

st.subheader("For the trainer")
link = f"?scenario={active.scenario}" + (
    f"&seed={active.seed}" if active.seed != training.DEFAULT_SEED else ""
)
st.download_button(
    "Trainer's sheet (HTML)",
    data=lambda: training.sheet_html(
        active.scenario,
        active.seed,
        training.default_customers(),
        keyed,
        params,
        link=link,
    ).encode("utf-8"),
    file_name=f"consentlens_training_{active.scenario}.html",
    mime="text/html",
    icon=":material/download:",
)
st.caption(
    "The stories, the tour, the questions and their answers for this view. Share any page of "
    f"this scenario with its link: add `{link}` to the page's address."
)
others = [name for name, _ in training.scenarios() if name != active.scenario]
choice = st.selectbox(
    "Switch to another scenario",
    others,
    index=None,
    format_func=lambda name: training.SCENARIO_DETAILS[name].title,
    placeholder="Choose a scenario",
)
if choice:
    st.query_params["scenario"] = choice
    st.query_params.pop("seed", None)
    st.rerun()
