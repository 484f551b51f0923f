"""The README's data-model section, generated from data/schema.py so it cannot drift."""
from __future__ import annotations

from . import aggregates, facts
from .schema import FIELDS, KINDS, MAIN_TIME, VALUE_SETS, history_table, record_columns

_EXTRA = {
    "jurisdiction": "Set by the person importing; never read from the file",
    "population_key": "geography|dimension|group|source (the row's identity)",
    "has_referral": "Derived: whether any referral was made during the response (its "
                    "`response_id`), refreshed by every import and undo of responses and "
                    "referrals",
    "call_received_at": "Derived: `received_at` of the linked call, refreshed by every import "
                        "and undo",
    "import_id": "The import that wrote the row (see `imports`)",
    "file_row": "Row number in the source file as a spreadsheet shows it (header = row 1)",
}
_FIXED = {
    "jurisdictions": [
        ("jurisdiction", "Name (key)"), ("state", "State"), ("time_zone", "IANA time zone; "
         "local months, weekdays and hours use it"), ("population", "Residents (per-capita rates)"),
        ("program_name", "Program name"), ("launch_date", "Program launch (calls before it are "
         "never eligible)"), ("coverage_start_hour", "Team on duty from this local hour; NULL = "
         "around the clock"), ("coverage_end_hour", "…until this hour (may wrap past midnight)"),
        ("coverage_days", "ISO weekdays covered, e.g. `12345`"), ("coverage_areas", "Areas "
         "covered; NULL = everywhere"), ("target_categories", "Categories the program targets")],
    "crosswalk": [("jurisdiction", ""), ("call_type", "Local call type exactly as imported"),
                  ("category", "Standard category"), ("eligible", "true / false / NULL = not "
                                                      "triaged (unknown)")],
    "crosswalk_auto": [("jurisdiction", ""), ("call_type", ""),
                       ("category", "The category written automatically (suggested with "
                        "confidence; NULL when no suggestion was confident)"),
                       ("eligible", "The eligibility written with it"),
                       ("confidence", "The suggestion's confidence (0-1)"),
                       ("import_id", "The import that wrote the row (NULL: `python -m data "
                        "crosswalk`); undo removes the rows it wrote. A row leaves this table "
                        "when a person saves or accepts it: then it is *confirmed*")],
    "imports": [("import_id", "Ledger id"), ("kind", "calls / responses / referrals / population / "
                 "boundaries / costs"),
                ("jurisdiction", ""), ("file_name", ""), ("file_sha256", "The same file again "
                 "changes nothing"), ("profile", "The mapping profile used (TOML)"),
                ("imported_at", ""), ("rows_read … rows_warned", "The summary counts"),
                ("summary", "JSON: value mappings, warnings, reject reasons"),
                ("status", "committed / undone"), ("undone_at", "")],
    "rejects": [("import_id", ""), ("file_row", "Spreadsheet row number"), ("column", "Source "
                 "header"), ("reason", "Why, with the value"), ("raw_values", "JSON of the whole "
                                                                 "source row")],
    "row_warnings": [("import_id", ""), ("kind", ""), ("jurisdiction", ""), ("record_id", ""),
                     ("file_row", ""), ("column", ""), ("warning", "missing_time / "
                      "time_placeholder (0:00) / hour_24 (24:MM read as the next day) / "
                      "implausible_date / out_of_order"),
                     ("value", "")],
    "audit_log": [("seq", "1, 2, 3 … without gaps"), ("logged_at", "When (UTC)"),
                  ("actor", "The signed-in e-mail address, or `local`"),
                  ("action", "sign_in / sign_out / session_expired / import / undo / "
                   "crosswalk.edit / role.grant / download …"), ("jurisdiction", ""),
                  ("target", "What it was about (import #, e-mail address, file …)"),
                  ("file_sha256", "The file's hash, for imports"),
                  ("outcome", "allowed / denied"), ("detail", "JSON: counts, the reason of a "
                   "refusal …"), ("prev_hash", "The previous entry's hash"),
                  ("hash", "SHA-256 of the entry's fields and prev_hash; `python -m data audit "
                   "verify` checks the chain")],
    "people": [("email", "Lower case, as the identity provider reports it (key)"),
               ("name", ""), ("active", "false = can no longer sign in"), ("added_at", "")],
    "roles": [("email", ""), ("role", "admin / analyst / viewer"),
              ("jurisdiction", "NULL for admin and for a cohort-wide viewer")],
    "settings": [("key", ""), ("value", "JSON"), ("updated_at", ""), ("updated_by", "")],
    "area_boundaries": [("jurisdiction", ""), ("area", "The area as the calls and responses "
                         "write it (maps join on it)"),
                        ("geometry", "GeoJSON Polygon or MultiPolygon in longitude/latitude, "
                         "from `python -m data import FILE.geojson --kind boundaries`; "
                         "`area_boundaries_replaced` keeps what an import replaced, for undo"),
                        ("import_id", "")],
    "costs": [("jurisdiction", ""), ("cost_key", "period|stream (the row's identity; `*` for a "
               "blank period)"),
              ("period", "`2025-Q1`, `2025-03`, `2025` or `2024-07..2025-06` (whole months); "
               "blank only for the police rate (every period without its own)"),
              ("period_start", "First day of the period's first month"),
              ("months", "Months in the period; a cost is spread evenly over them"),
              ("stream", "A `funding_stream` code, or `police_hourly_cost`"),
              ("amount", "Dollars for the period; for `police_hourly_cost`, dollars per police "
               "unit-hour, fully loaded"),
              ("fte", "Full-time equivalents paid from it (optional)"),
              ("import_id", "The import (file, form or `python -m data costs`) that wrote it; "
               "`costs_replaced` keeps what an import replaced, for undo"),
              ("file_row", "Row number in the costs file (blank for entries)")],
}


def _kind_table(kind: str) -> list[str]:
    docs = {f.name: f for f in FIELDS[kind]}
    main = MAIN_TIME[kind]
    lines = [f"**{kind}**", "", "| column | type | meaning |", "|---|---|---|"]
    for col, sql_type in record_columns(kind):
        t = sql_type.replace(" NOT NULL", "")
        if col in docs:
            f = docs[col]
            req = " (required)" if f.required else ""
            vs = f" — codes: {', '.join(f'`{c}`' for c in VALUE_SETS[f.value_set])}" \
                if f.value_set else ""
            lines.append(f"| `{col}` | {t} | {f.doc}{req}{vs} |")
        elif col.endswith("_raw"):
            lines.append(f"| `{col}` | {t} | The original value of `{col[:-4]}` |")
        elif main and col == main.replace("_at", "_local"):
            lines.append(f"| `{col}` | {t} | `{main}` as wall-clock time in the jurisdiction's "
                         "zone |")
        else:
            lines.append(f"| `{col}` | {t} | {_EXTRA.get(col, '')} |")
    derived = facts.DERIVED if kind == "calls" else []
    lines += [f"| `{col}` | {t} | Derived: {meaning[:1].lower()}{meaning[1:]} |"
              for col, t, _, meaning in derived]
    kept = "the imported columns" if derived else "same columns"
    lines += ["", f"`{history_table(kind)}` holds the rows an import replaced ({kept} plus "
              "`replaced_by`), so that undo restores them.", ""]
    return lines


def data_model_markdown() -> str:
    lines = ["Timestamps are `TIMESTAMPTZ` instants (durations are correct across daylight-"
             "saving changes); each record's main time is also kept as local wall-clock time.", ""]
    for kind in KINDS:
        lines += _kind_table(kind)
    for table, cols in _FIXED.items():
        lines += [f"**{table}**", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{c}` | {d} |" for c, d in cols] + [""]
    for table, cols in aggregates.columns_doc().items():
        lines += [f"**{table}** (maintained)", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{c}` | {d} |" for c, d in cols] + [""]
    lines += ["The maintained tables (data/aggregates.py) hold the calls and the team "
              "responses counted per month and group, in the same transaction as every write: "
              "an import of calls counts its months again, every refresh of the calls' derived "
              "columns (undo, crosswalk and settings edits) its jurisdiction, and every import "
              "or undo of responses or referrals the jurisdiction's responses and referrals "
              "(a referral's maturity reads the jurisdiction's latest referral, its people "
              "columns its response). Each keeps every column a count's condition reads, so a "
              "count of the registry is `sum(calls)` (or `sum(responses)`, `sum(referrals)`) "
              "over the rows where its condition holds; the engine reads them for whole-month "
              "requests within their columns (`metrics/rollup.py`). People served and repeat "
              "contacts (F1, F2) are counted from `people_monthly`, each person's responses "
              "per month summed per person (`metrics/people.py`), when grouped by "
              "jurisdiction or time only (with no period, from `people_total`, each person's "
              "responses per jurisdiction over all time, the pages' default); `person_numbers` "
              "gives each person key a number once "
              "(exact, never reused). The histograms of durations (`calls_durations`, "
              "`responses_durations`, data/duration_tables.py) are kept by the same writes; "
              "the engine reads the medians and 90th percentiles of whole months off them "
              "(`metrics/duration_rollup.py`).", ""]
    lines += ["The derived columns of **calls** (`effective_category` … `public_initiated`, "
              "data/facts.py) are worked out from the crosswalk and the program settings: the "
              "import writes them with each call, and undo and the crosswalk and settings "
              "editors refresh them in the same transaction (`python -m data refresh` after "
              "hand edits). The calls metrics read them as `category` and `eligible` "
              "(`metrics/sources.py`).", ""]
    lines += ["Standard value sets (the original value is kept in `<field>_raw`):", "",
              "| field | codes |", "|---|---|"]
    lines += [f"| {name} | {', '.join(f'`{c}`' for c in codes)} |"
              for name, codes in VALUE_SETS.items()]
    return "\n".join(lines) + "\n"


START, END = "<!-- data-model:start -->", "<!-- data-model:end -->"


def replace_data_model(readme: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{data_model_markdown()}{END}{tail}"
