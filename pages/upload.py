"""Upload data: analysts' extracts read, mapped, checked and imported, with undo and templates."""

from functools import partial

import streamlit as st

from consentlens import service
from data.intake.readers import EXTRACT_SUFFIXES
from data.intake.templates import SAMPLE_DOMAIN, SAMPLE_PREFIX
from data.storage.schema import TABLE_ORDER
from pages import _access as access
from pages import _labels as labels
from pages import _upload_widgets as uw
from pages import _widgets as w

PROBLEMS_SHOWN = 2_000
HISTORY_ROW_HEIGHT = 72  # px: three lines (a row wraps its text only above 64 px)
# The import history's columns (px), by header: together within a laptop's page (about
# 900 px beside the sidebar at 1366 x 768).
HISTORY_WIDTHS = {
    "Import": 60,
    "When (UTC)": 95,
    "By": 90,
    "Mode": 70,
    "Files": 200,
    "Rows read": 80,
    "Rejected": 75,
    "Rows written": 110,
    "State": 110,
}

identity = access.require("upload")
w.header(
    "Upload data",
    "Bring in analysts' extracts (CSV, Excel, Parquet, JSON Lines): see how each file is read "
    "and mapped, check every row before anything is written, then import the file, or only "
    "its valid rows, in one step that can be undone.",
)
# The server refuses larger uploads before any code runs; the readers hold files to the same.
max_mb = int(st.get_option("server.maxUploadSize"))
max_bytes = max_mb * 1024 * 1024

# What the last action came to, said after the rerun that redrew the page without it.
flash = st.session_state.pop("upload_flash", None)
if flash:
    kind, message = flash
    getattr(st, kind)(message)


def _inspected(file, table: str | None) -> service.Inspection:
    """The file read and mapped for `table`, kept for this session so reruns do not re-read."""
    kept = st.session_state.setdefault("upload_inspections", {})
    key = (file.file_id, table)
    if key not in kept:
        kept[key] = service.inspect_upload(
            identity, file.name, file.getvalue(), table=table, max_bytes=max_bytes
        )
    return kept[key]


def _file_section(file) -> tuple[service.Upload | None, tuple | None]:
    """One file: what was detected, its table and editable mapping. Returns the upload (None
    while it cannot be checked yet) and, when asked for, the mapping to save."""
    st.subheader(uw.md(file.name), divider="gray")
    first = _inspected(file, None)
    st.markdown(f"**Detected:** {uw.md(first.dialect)}")
    if first.refused:
        for problem in first.read.problems:
            st.error(uw.md(str(problem)))
        return service.Upload(file.name, file.getvalue(), None), None
    guess = first.table
    table = st.selectbox(
        "Table this file holds",
        TABLE_ORDER,
        index=TABLE_ORDER.index(guess) if guess in TABLE_ORDER else None,
        placeholder="Choose the table",
        format_func=labels.table_name,
        key=f"upload_table_{file.file_id}",
        help="Guessed from the file's name, then its headers.",
    )
    if table is None:
        st.warning("The table could not be told from the file's name or headers: choose it.")
        return None, None
    current = first if table == guess else _inspected(file, table)
    source = {
        "saved": "saved for files with these headers",
        "automatic": "automatic, by column names and their synonyms",
        "given": "given",
    }.get(current.mapping_source, current.mapping_source)
    if current.mapping is not None and current.mapping.layout:
        source = f"the {current.mapping.layout} export, recognised by its columns"
    st.caption(f"Mapping: {source}. Change any row; a column set to {uw.IGNORE} is left out.")
    rows = uw.mapping_rows(current.headers, current.mapping)
    edited = st.data_editor(
        rows,
        column_config={
            uw.HEADER: st.column_config.TextColumn(uw.HEADER, disabled=True),
            uw.TARGET: st.column_config.SelectboxColumn(
                uw.TARGET,
                options=uw.targets(table, current.headers, current.mapping),
                required=True,
                help="A column of the table, or for opt-in and opt-out flags the purpose they "
                "decide",
            ),
        },
        hide_index=True,
        num_rows="fixed",
        key=f"upload_mapping_{file.file_id}_{table}",
    )
    orders = list(uw.DATE_ORDERS)
    saved_order = current.mapping.date_order if current.mapping else None
    order = st.selectbox(
        "Dates such as 05/01/2024",
        orders,
        index=list(uw.DATE_ORDERS.values()).index(saved_order),
        key=f"upload_dates_{file.file_id}_{table}",
        help="Detected: day first unless some dates can only be month first (a US export).",
    )
    try:
        mapping = uw.mapping_from_rows(table, edited, current.mapping, uw.DATE_ORDERS[order])
    except ValueError as error:
        st.error(f"This mapping cannot be used: {error}.")
        return None, None
    ignored = mapping.ignored(current.headers)
    if ignored:
        st.markdown(f"**Not imported (ignored):** {uw.md(', '.join(ignored))}")
    if mapping.wide:
        st.markdown("**Wide consent form:** every filled flag becomes a consent event.")
        for header in mapping.opt_ins:
            st.markdown("- " + uw.md(f"{header}: read as {mapping.reading(header)}"))
    left, right = st.columns([3, 1])
    save = left.checkbox(
        "Save this mapping for files with these headers",
        key=f"upload_save_{file.file_id}_{table}",
        help="Saved when the import goes in; the next file with the same headers starts from it.",
    )
    right.download_button(
        "Mapping (JSON)",
        data=mapping.to_json(),
        file_name=f"{table}.mapping.json",
        mime="application/json",
        key=f"upload_mapping_json_{file.file_id}",
        on_click="ignore",
        help="For `consentlens import --mapping FILE`",
    )
    upload = service.Upload(file.name, file.getvalue(), mapping)
    return upload, ((current.headers, mapping) if save else None)


def _finish(message: str, *, changed: bool = True, done: uw.Checked | None = None) -> None:
    """After an import, an undo or a refusal: fresh figures everywhere when the store changed,
    an empty form, and the message at the top; after an import, its report is kept (`done`)
    until another upload starts or it is dismissed."""
    if changed:
        # The dashboards' cached figures are of the store as it was.
        st.cache_data.clear()
    st.session_state["upload_generation"] = st.session_state.get("upload_generation", 0) + 1
    for key in ("upload_inspections", "upload_report", "upload_done"):
        st.session_state.pop(key, None)
    if done is not None:
        st.session_state["upload_done"] = (message, done)
    else:
        st.session_state["upload_flash"] = ("success" if changed else "info", message)
    st.rerun()


def _report(checked: uw.Checked, *, done: bool = False) -> None:
    """The report of a check, or with `done` of the import that went in: the counts, and
    beside each the warning that explains it."""
    o = checked.outcome
    key = "upload_done" if done else "upload_report"
    st.subheader("What was imported" if done else "Validation report")
    st.markdown(
        f"**Rows read {o.rows_read:,} = accepted {o.accepted:,} + rejected {o.rejected:,}**"
    )
    if o.rejected:
        st.warning(uw.rejected_warning(o), icon=":material/block:")
    st.dataframe(uw.files_table(checked), hide_index=True, key=f"{key}_files")
    if checked.outcome.file_refused:
        # A file refused whole stops the import: its other rows are not "would be written".
        st.markdown("**Rows that would be written:** none, a file is refused as a whole")
    else:
        st.markdown(
            "**Rows written, per table**"
            if done
            else "**Rows that would be written, per table** (the accepted rows)"
        )
        st.dataframe(uw.rows_table(o.rows), hide_index=True, key=f"{key}_rows")
    # Rows left out without being rejected: said beside the rows written, not among notes.
    for note in checked.skipped:
        st.warning(uw.md(note[:1].upper() + note[1:]) + ".", icon=":material/skip_next:")
    if checked.notes:
        st.markdown("**Notes**\n\n" + "\n".join(f"- {uw.md(n)}" for n in checked.notes))
    if o.problems:
        shown = "" if len(o.problems) <= PROBLEMS_SHOWN else f" (the first {PROBLEMS_SHOWN:,})"
        st.markdown(f"**Problems: {len(o.problems):,}**{shown}")
        st.dataframe(
            uw.problems_table(o.problems, PROBLEMS_SHOWN),
            hide_index=True,
            key=f"{key}_problems",
        )
        st.download_button(
            "Download the problems (CSV)",
            data=partial(uw.problems_csv, o.problems),
            file_name="import_problems.csv",
            mime="text/csv",
            key=f"{key}_problems_csv",
            on_click="ignore",
        )


files = st.file_uploader(
    "Extracts",
    type=list(EXTRACT_SUFFIXES),
    accept_multiple_files=True,
    key=f"upload_files_{st.session_state.get('upload_generation', 0)}",
    help=f"Up to {max_mb} MB each. The type is told by the content, not by the name.",
)
uploads: list[service.Upload] = []
to_save: list[tuple] = []
ready = bool(files)
try:
    for file in files or []:
        upload, save = _file_section(file)
        ready = ready and upload is not None
        uploads += [upload] if upload else []
        to_save += [save] if save else []
except service.StoreError as error:
    st.error(str(error))
    st.stop()

if files:
    # Another upload has started: the last import's report gives way to this one's.
    st.session_state.pop("upload_done", None)
elif "upload_done" in st.session_state:
    message, done = st.session_state["upload_done"]
    st.success(message)
    _report(done, done=True)
    if st.button("Dismiss this report", key="upload_done_dismiss"):
        st.session_state.pop("upload_done", None)
        st.rerun()

if files:
    st.subheader("Check and import", divider="gray")
    mode = st.radio(
        "Mode",
        ["append", "replace"],
        horizontal=True,
        key="upload_mode",
        captions=["add to what the store holds", "empty every table first, then import"],
    )
    replace_all = mode == "replace"
    confirmed = not replace_all or st.checkbox(
        "Replace: every table is emptied before the import (undoing it puts them back)",
        key="upload_replace_ok",
    )
    decided_at = None
    if any(u.mapping is not None and u.mapping.wide for u in uploads):
        decided_at = st.date_input(
            "Decision date of flags the file does not date",
            value=uw.date_in_name([file.name for file in files]),
            key=f"upload_decided_at_{st.session_state.get('upload_generation', 0)}",
            help="The day the consent decisions of rows without a date of their own were "
            "made (filled in from a date in the file's name). Without it such rows are "
            "rejected: the time of the import is never taken for a decision's.",
        )
    key = uw.plan_key([file.file_id for file in files], uploads, replace_all, decided_at)
    if st.button("Check", type="primary", disabled=not ready, key="upload_check"):
        try:
            with st.spinner("Checking every row…"):
                report = service.check_uploads(
                    identity,
                    uploads,
                    replace=replace_all,
                    max_bytes=max_bytes,
                    decided_at=decided_at,
                    turn=w.turn(),
                )
        except service.StoreError as error:
            st.error(str(error))
        else:
            st.session_state["upload_report"] = uw.Checked.of(key, report)
    checked = st.session_state.get("upload_report")
    if checked is not None and checked.key != key:
        st.info("The files, mapping or mode changed since the check: check again.")
        checked = None
    if checked is not None:
        _report(checked)
        o = checked.outcome
        choice = None
        if not o.rows_read and not o.problems:
            st.info("The files hold no rows: there is nothing to import.")
        elif checked.outcome.file_refused:
            st.error(
                "A file cannot be imported as it is (see the problems): correct it or its "
                "mapping, then check again."
            )
            choice = "nothing" if st.button("Import nothing", key="upload_nothing") else None
        elif not o.accepted:
            st.warning("No row of these files can be imported.")
            choice = "nothing" if st.button("Import nothing", key="upload_nothing") else None
        elif o.rejected:
            st.markdown(
                f"Import the {o.accepted:,} valid rows and leave the {o.rejected:,} rejected "
                "ones out (see above why), or import nothing and correct the files."
            )
            left, right = st.columns(2)
            if left.button(
                f"Import the {o.accepted:,} valid rows",
                type="primary",
                disabled=not confirmed,
                key="upload_valid",
            ):
                choice = "valid"
            if right.button("Import nothing", key="upload_nothing"):
                choice = "nothing"
        elif st.button("Import", type="primary", disabled=not confirmed, key="upload_import"):
            choice = "all"
        if choice == "nothing":
            service.decline_import(identity, o)
            _finish("Nothing was imported: the store is unchanged.", changed=False)
        elif choice is not None:
            try:
                with st.spinner("Importing…"):
                    report = service.import_uploads(
                        identity,
                        uploads,
                        replace=replace_all,
                        accept_valid=choice == "valid",
                        max_bytes=max_bytes,
                        decided_at=decided_at,
                        turn=w.turn(),
                    )
            except service.StoreError as error:
                st.error(str(error))
            else:
                if report.outcome.written:
                    left_out = report.outcome.rejected
                    # The import is in: whatever happens to the mappings, the form is done
                    # with (its button must not import the same rows twice).
                    unsaved = ""
                    try:
                        for headers, mapping in to_save:
                            service.save_mapping(identity, headers, mapping, turn=w.turn())
                    except service.StoreError as error:
                        unsaved = f" The mapping was not saved: {error}"
                    _finish(
                        f"Imported as import {report.outcome.import_id}: "
                        f"{labels.rows_per_table(report.outcome.rows)}"
                        + (f"; {left_out:,} rejected row(s) left out" if left_out else "")
                        + ". The dashboards now include it."
                        + unsaved,
                        done=uw.Checked.of(key, report),
                    )
                # The store changed since the check: the new report says how.
                st.session_state["upload_report"] = uw.Checked.of(key, report)
                st.session_state["upload_flash"] = (
                    "error",
                    f"Import refused: {len(report.problems):,} problem(s) found when importing; "
                    "the store is unchanged. The report below is up to date.",
                )
                st.rerun()

st.header("Import history")
try:
    records = service.import_history(identity)
except service.StoreError as error:
    st.error(str(error))
    records = []
if not records:
    st.caption("No import has been recorded yet.")
else:
    # Sized to a laptop's page: the long columns wrap onto three lines, so that every
    # column shows without scrolling sideways and no text ends cut off.
    st.dataframe(
        uw.history_table(records),
        hide_index=True,
        key="upload_history",
        row_height=HISTORY_ROW_HEIGHT,
        column_config={
            header: st.column_config.Column(width=width) for header, width in HISTORY_WIDTHS.items()
        },
    )
    last = next((r for r in records if r.undone_at is None), None)
    if last is not None and last.undoable:
        st.caption(
            f"Undoing removes exactly the rows import {last.import_id} wrote "
            f"({labels.rows_per_table(last.rows, 'none')})"
            + (" and puts back what it replaced." if last.mode == "replace" else ".")
        )
    elif last is not None:
        st.caption(f"Import {last.import_id} can no longer be undone: {last.note or 'kept'}.")
    undoable = last is not None and last.undoable
    # An undone import cannot be redone: the button waits for a deliberate tick.
    sure = undoable and st.checkbox(
        f"Yes, take import {last.import_id} back out", key="upload_undo_sure"
    )
    if st.button("Undo last import", disabled=not sure, key="upload_undo"):
        try:
            undone = service.undo_last_import(identity, turn=w.turn())
        except (service.UndoError, service.StoreError) as error:
            st.error(str(error))
        else:
            restored = " and put back what it replaced" if undone.mode == "replace" else ""
            _finish(
                f"Undid import {undone.import_id}: removed "
                f"{labels.rows_per_table(undone.rows)}"
                f"{restored}. The dashboards no longer include it."
            )

st.header("Templates")
st.markdown(
    "Each table's canonical header, and a small synthetic extract of it. The samples' "
    f"identifiers all start with `{SAMPLE_PREFIX}`, which the demo never generates, and their "
    f"e-mail addresses are at {SAMPLE_DOMAIN}, a domain reserved for examples: the samples of "
    "all tables import together, with nothing refused, into the demo, an empty store or any "
    "store that does not hold them already."
)
try:
    held = w.samples_held(identity)
except service.StoreError as error:
    st.error(str(error))
    held = None
if held is not None and held.any:
    st.warning(
        "This store holds the samples already (they were imported before): importing them "
        "again refuses their customers, orders and requests as existing and adds their "
        "consent events, touchpoints and sharing records a second time. Undo that import "
        "under Import history first, while it is the last one, to try it afresh.",
        icon=":material/content_copy:",
    )
for table in TABLE_ORDER:
    name, template, sample = st.columns([2, 1, 1])
    name.markdown(f"**{labels.table_name(table)}**")
    note = uw.sample_note(table, held)
    if note:
        name.caption(note)
    for column, kind, label in ((template, "template", "Template"), (sample, "sample", "Sample")):
        column.download_button(
            f"{label} (CSV)",
            data=partial(service.template_file, identity, table, kind),
            file_name=f"{table}.{kind}.csv",
            mime="text/csv",
            key=f"upload_{kind}_{table}",
            on_click="ignore",
        )
