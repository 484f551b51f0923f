"""Program costs on the Data page: the wizard's path for a costs file, and the entry form.

Both write through ``service.guarded`` (``import_costs`` / ``enter_costs``) for the signed-in
principal: only an analyst of the jurisdiction or an admin may, and every write is audited
and appears in the import history, where it can be undone. A costs file is checked before
anything is saved; one unreadable row refuses the whole file, naming every bad row.
"""
from __future__ import annotations

from contextlib import closing

import pandas as pd
import streamlit as st

import data
from data import quality
from service import guarded
from data.schema import COST_STREAMS, VALUE_SETS
from metrics.cost import STREAM_LABELS
from ui import auth, cache, file_step
from ui.text import escape


FORMAT = ("One row per period and funding stream, with the columns **period** (`2025-Q1`, "
          "`2025-03`, `2025`, or a range of months such as `2024-07..2025-06`), **stream** "
          f"({', '.join(f'`{s}`' for s in COST_STREAMS)}), **amount** in dollars and, "
          "optionally, **fte**. A cost is spread evenly over its period's months. The stream "
          "`police_hourly_cost` holds the police department's fully loaded cost per "
          "unit-hour (its period may be blank: then it holds for every period).")


# --------------------------------------------------------------------------------------------
# The wizard's path (kind "Program costs")
# --------------------------------------------------------------------------------------------

def show(key: str, target: dict) -> None:
    if target["timezone"]:
        st.info("Costs belong to a jurisdiction that exists already: import its calls or "
                "responses first (or add it on the Admin page), then its costs.")
        return
    st.header("2. Choose the costs file")
    st.caption(FORMAT)
    state = file_step.kept_file(key, "c", "CSV or XLSX", ["csv", "xlsx", "txt"])
    if state is None:
        return
    if state.get("done"):
        st.success(f"Import #{state['done'].import_id} is saved: {escape(state['done'].file_name)}"
                   f" as the costs of {escape(state['done'].jurisdiction)}. The Cost page "
                   "shows them.")
        st.button("Import another file", key=f"{key}_cagain", on_click=file_step.start_over,
                  args=(key, "c"))
        return
    st.header("3. Check and import")
    left, right = st.columns(2)
    if left.button("Check the costs", key=f"{key}_ccheck", type="primary"):
        state["checked"] = _run(state, target, dry_run=True)
    checked = state.get("checked")
    if not checked:
        return
    if checked.get("error"):
        st.error(checked["error"])  # Markdown already: escaped where it was built
        return
    result = checked["result"]
    if result.status == "already_imported":
        st.info(escape(result.summary_lines()[0]))
        return
    if result.rows_inserted is None:  # a check by an admin who is not its analyst
        st.caption(escape(f"{result.rows_read:,} rows read (which costs are new is shown to "
                          "the jurisdiction's analysts)."))
    else:
        st.caption(escape(f"{result.rows_read:,} rows: {result.rows_inserted:,} new, "
                          f"{result.rows_updated:,} replacing a stored cost, "
                          f"{result.rows_unchanged:,} unchanged."))
    for note in result.notes:
        st.caption(escape(note[:1].upper() + note[1:] + "."))
    if right.button("Import the costs", key=f"{key}_cimport"):
        done = _run(state, target, dry_run=False)
        if done.get("error"):
            st.error(done["error"])
            return
        file_step.finish(state, done)


def _run(state, target, dry_run: bool) -> dict:
    return file_step.run("costs", lambda cur: guarded.import_costs(
        cur, auth.current(), state["path"], jurisdiction=target["jurisdiction"],
        file_name=state["name"], dry_run=dry_run))


# --------------------------------------------------------------------------------------------
# The entry form (the Data page's "Program costs" tab)
# --------------------------------------------------------------------------------------------

_STREAMS = list(VALUE_SETS["funding_stream"])


def entry(key: str = "costs") -> None:
    """The jurisdiction's costs as stored, and a form to enter one cost or the police rate."""
    p = auth.current()
    with closing(cache.cursor()) as cur:
        writable = [j["jurisdiction"] for j in quality.jurisdictions(cur)
                    if p.may_write(j["jurisdiction"])]
        if not writable:
            st.info("Only an analyst of a jurisdiction (or an admin) may enter its costs.",
                    icon=":material/lock:")
            return
        outcome = st.session_state.pop(f"{key}__outcome", None)
        if outcome:
            (st.success if outcome[0] == "ok" else st.error)(escape(outcome[1]))
        j = st.selectbox("Costs of", writable, key=f"{key}_jur")
        rows = guarded.stored_costs(cur, p, j)
        _stored(rows)
        left, right = st.columns(2)
        with left:
            _program_form(cur, p, j, key)
        with right:
            _police_form(cur, p, j, key)
    st.caption("Many periods at once: import a costs file (Import a file → Program costs). "
               + FORMAT + " Each entry is recorded like an import: undo it in Import history.")


def _stored(rows: list[dict]) -> None:
    if not rows:
        st.caption("No costs entered yet for this jurisdiction.")
        return
    st.dataframe(pd.DataFrame([{
        "Period": r["period"] or "every period", "Stream": STREAM_LABELS.get(r["stream"],
                                                                               r["stream"]),
        "Amount": f"${r['amount']:,.2f}" + ("/unit-hour" if r["stream"] == "police_hourly_cost"
                                              else ""),
        "FTE": "" if r["fte"] is None else f"{r['fte']:g}", "Import": f"#{r['import_id']}"}
        for r in rows]), hide_index=True, key="costs_table")


def _program_form(cur, p, j, key) -> None:
    with st.form(f"{key}_program", clear_on_submit=False):
        st.markdown("**A program cost**")
        period = st.text_input("Period", key=f"{key}_period", placeholder="2025-Q1",
                               help="2025-Q1, 2025-03, 2025 or 2024-07..2025-06 (whole months)")
        stream = st.selectbox("Funding stream", _STREAMS, key=f"{key}_stream",
                              format_func=lambda s: STREAM_LABELS.get(s, s))
        amount = st.number_input("Amount (dollars)", min_value=0.0, step=1000.0, value=None,
                                 key=f"{key}_amount", format="%.2f")
        fte = st.number_input("FTE (optional)", min_value=0.0, step=0.5, value=None,
                              key=f"{key}_fte")
        if st.form_submit_button("Save the cost"):
            _save(cur, p, j, key, [{"period": period, "stream": stream, "amount": amount,
                                    "fte": fte}])


def _police_form(cur, p, j, key) -> None:
    with st.form(f"{key}_police", clear_on_submit=False):
        st.markdown("**The police cost per unit-hour**")
        st.caption("Fully loaded (salary, benefits, vehicle, overhead): it values the police "
                   "time the team's calls stand for. Capacity, not cash saved.")
        rate = st.number_input("Dollars per unit-hour", min_value=0.0, step=1.0, value=None,
                               key=f"{key}_rate", format="%.2f")
        period = st.text_input("Period (optional)", key=f"{key}_rate_period",
                               placeholder="blank = every period without its own")
        if st.form_submit_button("Save the rate"):
            _save(cur, p, j, key, [{"period": period, "stream": "police_hourly_cost",
                                    "amount": rate}])


def _save(cur, p, j, key, entries) -> None:
    if any(e["amount"] is None for e in entries):
        st.warning("Enter an amount first.")
        return
    try:
        result = guarded.enter_costs(cur, p, j, entries, source="the Data page")
    except data.DataError as e:  # AccessDenied too: the sentence says what is needed
        st.session_state[f"{key}__outcome"] = ("error", str(e))
    else:
        st.cache_data.clear()
        st.session_state[f"{key}__outcome"] = ("ok", (
            f"Nothing changed: {j} already has this." if result.status == "unchanged" else
            f"Saved as import #{result.import_id} (undo it in Import history)."))
    st.rerun()
