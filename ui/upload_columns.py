"""Step 4 of the import wizard: which column fills which field, and how dates are read.

Every drop-down names columns as the preview does (an unnamed one is 'column N'); a field whose
candidates fit about equally is left empty with the candidates named (data/columns.py decides
what is ambiguous). The timestamp format and the day order are fields, shown with the first
values of the file as the importer will read them.
"""
from __future__ import annotations

import streamlit as st

from data import mapping
from data.schema import FIELDS, ID_FIELD

NOT_IN_FILE = "— not in this file —"
_CONFIDENCE = ((0.95, "sure"), (0.85, "likely"), (0.0, "a guess: check it"))


def duplicate_headers(info) -> None:
    """Two columns with one header cannot be told apart by a mapping: say so, never pick."""
    for header, cols in info.get("duplicates") or []:
        where = " and ".join(str(c) for c in cols)
        shown = f"'{header}'" if header else "without a header"
        st.warning(f"Columns {where} are both {'named ' if header else ''}{shown}: a mapping "
                   "names columns by their header, so neither can be chosen until one is "
                   "renamed in the file.", icon=":material/content_copy:")


def field_grid(key, fields, headers, init, suggestions, source, names
                ) -> dict[str, list[str]]:
    choices = {}
    cols = st.columns(3)
    for i, f in enumerate(fields):
        with cols[i % 3]:
            choices[f.name] = _field_widget(key, f, headers, init.get(f.name, []), names)
            _confidence_note(f, choices[f.name], init.get(f.name, []), suggestions, source)
    return choices


def _field_widget(key, f, headers, initial, names) -> list[str]:
    no_id = f.type == "id" and st.session_state.get(f"{key}_opt_fingerprint_ids")
    label = f"{f.doc} (`{f.name}`)" + (" · **required**" if f.required and not no_id else "")
    if f.type == "id" and f.required:
        label += (" · none: rows identified by their values" if no_id else
                  " · or tick 'The file has no identifier column' below")
    wkey = f"{key}_col_{f.name}"
    show = names.get  # unnamed columns are 'column N' here as in the preview
    if mapping.is_multi(f):
        helptext = ("Pick every column that holds one of the values." if f.type == "list" else
                    "Pick two columns when the date and the time are in separate columns "
                    "(date first): the date comes from the first (a 0:00 time in it is "
                    "ignored), the time of day from the second.")
        return st.multiselect(label, list(dict.fromkeys(headers)),
                              default=[h for h in initial if h in headers], key=wkey,
                              placeholder=NOT_IN_FILE, help=helptext, format_func=show,
                              max_selections=None if f.type == "list" else 2)
    options = [NOT_IN_FILE] + list(dict.fromkeys(headers))
    index = options.index(initial[0]) if initial and initial[0] in options else 0
    chosen = st.selectbox(label, options, index=index, key=wkey,
                          format_func=lambda h: h if h == NOT_IN_FILE else show(h))
    return [] if chosen == NOT_IN_FILE else [chosen]


_HOW = {"header": "the header", "values": "the values", "header and values":
        "the header and the values"}


def _confidence_note(f, chosen, initial, suggestions, source) -> None:
    s = suggestions.get(f.name)
    if s is not None and s.alternatives and not source and not chosen:
        fits = " or ".join(f"'{a}'" for a in dict.fromkeys(s.alternatives))
        same = len(set(s.alternatives)) == 1
        st.caption(f"**Which one?** {fits} fit about equally"
                   + (" (their headers differ only in case or spacing)" if not same and
                      len({a.lower().replace('_', ' ') for a in s.alternatives}) == 1 else "")
                   + ": choose the right column; nothing was picked for you.")
        return
    if not chosen or chosen != initial:
        return
    if source:
        st.caption(f"from the {source}")
        return
    if s is not None:
        word = next(w for limit, w in _CONFIDENCE if s.confidence >= limit)
        st.caption(f"suggested from {_HOW.get(s.how, s.how)} ({word}, {s.confidence:.0%})")


def options(key, kind, choices, stored, info) -> dict:
    opts = dict(stored.options) if stored is not None else {}
    opts.pop("timezone", None)  # the jurisdiction's zone is chosen in step 1
    sheet = st.session_state.get(f"{key}_opt_sheet")
    if sheet is not None:
        opts["sheet"] = sheet
    if kind == "calls":
        opts["unit_rows"] = st.checkbox(
            "Several rows per call (one per unit sent): combine them into one call",
            value=bool(opts.get("unit_rows")), key=f"{key}_opt_unit_rows",
            help="Fire/EMS and some CAD exports list each unit on its own row.")
    if kind != "population" and not choices.get(ID_FIELD[kind]):
        opts["fingerprint_ids"] = st.checkbox(
            "The file has no identifier column: identify each row by all of its values",
            value=bool(opts.get("fingerprint_ids")), key=f"{key}_opt_fingerprint_ids",
            help="Identical rows then count once. Re-importing an overlapping export can "
                 "only recognise rows that are exactly the same.")
    _dates_and_times(key, kind, choices, info, opts)
    return opts


_DETECT = "detect from the values"


def _dates_and_times(key, kind, choices, info, opts) -> None:
    """The timestamp format and the day order as fields, with examples read from the file."""
    timed = [f for f in FIELDS[kind] if f.type == "timestamp" and choices.get(f.name)]
    if not timed:
        return
    ambiguous = bool(st.session_state.get(f"{key}__ambiguous"))
    with st.expander("Dates and times: how they are read", expanded=ambiguous):
        saved = opts.get("timestamp_format")
        saved = " ; ".join(saved) if isinstance(saved, list) else (saved or "")
        given = st.text_input(
            "Timestamp format (leave empty to detect it from the values)", value=saved,
            key=f"{key}_opt_tsformat", placeholder="e.g. %m/%d/%Y %I:%M:%S %p %z",
            help="strftime codes: %Y year, %m month, %d day, %H hour (0-23), %I hour (1-12) "
                 "with %p AM/PM, %M minutes, %S seconds, %z offset such as +0000. For a date "
                 "column and a time column, the format reads both joined by a space. Several "
                 "formats: separate them with ' ; '.").strip()
        fmts = [f.strip() for f in given.split(" ; ") if f.strip()]
        if fmts:
            opts["timestamp_format"] = fmts[0] if len(fmts) == 1 else fmts
        else:
            opts.pop("timestamp_format", None)
        dayfirst = _day_order(key, timed, choices, info, opts.get("dayfirst"), ambiguous)
        if dayfirst is None:
            opts.pop("dayfirst", None)
        else:
            opts["dayfirst"] = dayfirst
        for f in timed:
            shown = mapping.time_examples(info["rows"], info["headers"], choices[f.name],
                                          fmts[0] if len(fmts) == 1 else None, dayfirst)
            st.caption(f"`{f.name}` from {' + '.join(repr(c) for c in choices[f.name])}: "
                       + "; ".join(f"{v} → **{read}**" for v, read in shown))


def _day_order(key, timed, choices, info, saved, ambiguous):
    """'Is 03/04/2024 the 3rd of April or March 4th?': detected unless answered."""
    columns = [h for f in timed for h in choices.get(f.name, [])]
    sample = mapping.date_sample(info["rows"], info["headers"], columns)
    question, answers = mapping.day_order_question(sample)
    labels = [_DETECT] + list(answers)
    index = 0 if saved is None else labels.index(next(label for label in labels[1:]
                                                      if answers[label] == saved))
    if ambiguous and saved is None:
        st.warning("Every date in the file has day and month both 12 or less, so the dates "
                   "alone cannot tell the day order: answer below.")
    answer = st.radio(question, labels, index=index, key=f"{key}_opt_dayfirst",
                      horizontal=True, help="Detected from the values when a day is above 12.")
    return None if answer in (None, _DETECT) else answers[answer]
