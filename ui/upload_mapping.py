"""Steps 4 and 6 of the import wizard: which column is which (prefilled from a saved mapping or
from suggestions), and the standard code of each value in a coded column."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import data
from data import mapping, uploads
from data.connection import default_db_path
from data.importer import find_stored_profile
from data.schema import field_of
from ui.text import escape
from ui.upload_columns import duplicate_headers, field_grid, options
from ui.upload_state import checked_result, request_check

_OTHER_VALUE = {"— reject the row —": None, "no": False, "yes": True, "blank (unknown)": ""}


def map_columns(key, target, info) -> data.Profile:
    kind, headers = target["kind"], info["headers"]
    st.header("4. Which column is which?")
    stored = _stored_profile(key, kind, headers, target["jurisdiction"])
    init = mapping.initial_choices(kind, headers, info["suggestions"], stored)
    if stored is not None:
        st.caption(f"Prefilled from the mapping saved for files with these headers "
                   f"({escape(stored.name)}). Change anything that is wrong.")
    else:
        st.caption("Prefilled from the headers and the values, with how sure each guess is. "
                   "Fields marked **required** must have a column.")
    duplicate_headers(info)
    source = "saved mapping" if stored is not None else None
    fields = mapping.ordered_fields(kind)
    sugg = info["suggestions"]
    found = [f for f in fields if f.required or init.get(f.name)
             or (f.name in sugg and sugg[f.name].alternatives)]
    rest = [f for f in fields if f not in found]
    names = mapping.column_names(headers)
    choices = field_grid(key, found, headers, init, sugg, source, names)
    with st.expander(f"More fields ({len(rest)}) that no column matched"):
        choices.update(field_grid(key, rest, headers, init, sugg, source, names))
    opts = options(key, kind, choices, stored, info)
    values = _values_with_edits(key, kind, stored)
    return mapping.build_profile(kind, headers, choices, opts, values)


def _stored_profile(key, kind, headers, jurisdiction):
    # Remembered with its jurisdiction: another jurisdiction's profile is never applied.
    if st.session_state.get(f"{key}__stored_for") != jurisdiction:
        st.session_state.pop(f"{key}__stored", None)
        st.session_state[f"{key}__stored_for"] = jurisdiction
    if f"{key}__stored" not in st.session_state:
        found = None
        try:
            path = find_stored_profile(uploads.profiles_dir(default_db_path()), kind, headers,
                                       jurisdiction)
            found = data.load_profile(path) if path else None
        except data.DataError as e:  # a broken saved profile: say so and start from guesses
            st.warning(f"The saved mapping for these headers cannot be used: {escape(str(e))}")
        st.session_state[f"{key}__stored"] = found
    return st.session_state[f"{key}__stored"]


def map_values(key, kind, result, profile) -> bool:
    """Step 6 when some field has coded values; False (no step drawn) otherwise."""
    groups = mapping.group_value_mappings(result.value_mappings)
    groups = {k: v for k, v in groups.items() if mapping.code_options(field_of(kind, k))}
    if not groups:
        return False
    st.header("6. Standard codes for the values")
    st.caption("Each value in the file gets a standard code, so that jurisdictions compare like "
               "with like (the original value is kept too). To change one, double-click its "
               "cell in the **standard code** column; then check again.")
    for fname, rows in groups.items():
        f = field_of(kind, fname)
        with st.expander(_values_title(f, rows, profile), expanded=_unclear(rows) > 0):
            st.data_editor(_value_frame(f, rows), key=f"{key}_val_{fname}", hide_index=True,
                           num_rows="fixed", disabled=["value in file", "rows", "note"],
                           height=min(35 * (len(rows) + 1) + 3, 600),
                           column_config={"code": st.column_config.SelectboxColumn(
                               "standard code", options=list(mapping.code_options(f)),
                               required=True)})
            if f.type == "bool":
                _other_values_choice(key, fname)
    st.button("Check again with these codes", key=f"{key}_recheck",
              on_click=request_check, args=(key,))
    return True


def _unclear(rows) -> int:
    return sum(r["rows"] for r in rows if r["how"] in ("not recognised", "unreadable"))


def _values_title(f, rows, profile) -> str:
    source = " + ".join(profile.columns.get(f.name, [])) or "?"
    title = f"{f.doc} (`{f.name}`), from '{escape(source)}': {len(rows)} value(s)"
    unclear = _unclear(rows)
    if unclear:
        what = "not yes/no" if f.type == "bool" else "not recognised"
        title += f", :red[{unclear:,} rows {what}]"
    return title


def _value_frame(f, rows) -> pd.DataFrame:
    return pd.DataFrame({
        "value in file": [r["raw"] for r in rows],
        "rows": [r["rows"] for r in rows],
        "code": [mapping.display_code(f, r["code"]) for r in rows],
        "note": [mapping.value_note(r["how"]) for r in rows]})


def _other_values_choice(key, fname) -> None:
    base = (st.session_state.get(f"{key}__values") or {}).get(fname, {})
    labels = list(_OTHER_VALUE)
    index = next((i for i, label in enumerate(labels)
                  if "*" in base and _OTHER_VALUE[label] == base["*"]
                  and label != labels[0]), 0)
    st.selectbox("Any other value (also in later files) means", labels, index=index,
                 key=f"{key}_other_{fname}")


def _values_with_edits(key, kind, stored) -> dict:
    """The profile values: the last checked ones (or the saved profile's) plus current edits."""
    if f"{key}__values" not in st.session_state:
        st.session_state[f"{key}__values"] = dict(stored.values) if stored is not None else {}
    base = st.session_state[f"{key}__values"]
    result = checked_result(key)
    if result is None:
        return base
    edits = {}
    for fname, rows in mapping.group_value_mappings(result.value_mappings).items():
        f = field_of(kind, fname)
        state = st.session_state.get(f"{key}_val_{fname}") or {}
        edited = state.get("edited_rows", {}) if isinstance(state, dict) else {}
        chosen = [edited.get(i, {}).get("code", mapping.display_code(f, r["code"]))
                  for i, r in enumerate(rows)]
        edits[fname] = mapping.value_edits(f, rows, chosen)
    values = mapping.merge_values(base, edits)
    for fname in list(values) + [k[len(f"{key}_other_"):] for k in st.session_state
                                 if str(k).startswith(f"{key}_other_")]:
        other = st.session_state.get(f"{key}_other_{fname}")
        if other is None:
            continue
        entries = dict(values.get(fname, {}))
        entries.pop("*", None)
        if _OTHER_VALUE[other] is not None:
            entries["*"] = _OTHER_VALUE[other]
        values[fname] = entries
    return {k: v for k, v in values.items() if v}
