"""Turning an analyst's choices (columns, options, value codes) into a mapping Profile.

The upload page asks, field by field, which column of the export fills each canonical field;
these functions hold the logic behind it so that it is testable without a browser: which
fields to show first, what to prefill, which required fields are still missing, how edited
value codes become ``[values]`` entries, and how to ask about day-first dates in plain words.
"""
from __future__ import annotations

import re
from dataclasses import replace

from . import timestamps
from .profiles import Profile, Suggestion
from .schema import FIELDS, ID_FIELD, VALUE_SETS, Field

BOOL_CODES = ("yes", "no")
BLANK = "(blank)"  # the editor's choice for "store no value" (a profile maps it to "")
_BOOL_TO_PROFILE = {"yes": True, "no": False}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
# A dry run reports every row it would reject, however many: the real import keeps the limit.
_DRY_RUN_REJECT_SHARE = 1.0
MAX_REJECTED_SHARE = 0.5
# the importer's default (data/importer/validate.py MAX_REJECTED_SHARE)
_FLAG_OPTIONS = ("unit_rows", "fingerprint_ids")


def ordered_fields(kind: str) -> list[Field]:
    """Required fields first (in schema order), then the optional ones."""
    fields = FIELDS[kind]
    return [f for f in fields if f.required] + [f for f in fields if not f.required]


def is_multi(f: Field) -> bool:
    """Fields that may take several columns: lists (reasons) and date + time split columns."""
    return f.type in ("list", "timestamp")


def initial_choices(kind: str, headers: list[str], suggestions: dict[str, Suggestion],
                    stored: Profile | None = None) -> dict[str, list[str]]:
    """Prefilled columns per field: a saved profile for these headers wins over suggestions."""
    present = set(headers)
    if stored is not None and stored.kind == kind:
        return {k: [h for h in v if h in present] for k, v in stored.columns.items()
                if any(h in present for h in v)}
    return {k: list(s.headers) for k, s in suggestions.items()}


def missing_required(kind: str, choices: dict[str, list[str]], options: dict) -> list[str]:
    """Required fields with no column; the id may be left out when fingerprints stand in."""
    missing = [f.name for f in FIELDS[kind] if f.required and not choices.get(f.name)]
    if options.get("fingerprint_ids") and kind != "population":
        missing = [m for m in missing if m != ID_FIELD[kind]]
    return missing


def build_profile(kind: str, headers: list[str], choices: dict[str, list[str]],
                  options: dict | None = None, values: dict | None = None) -> Profile:
    """A Profile from the page's choices; unset options and empty value maps are left out.

    One header may fill several fields (MCSLC's 'End Point of Dispatch' gives both contact_made
    and outcome), so choices are not deduplicated across fields.
    """
    known = {f.name for f in FIELDS[kind]}
    columns = {k: list(v) for k, v in choices.items() if k in known and v}
    # dayfirst = false is an answer; unit_rows / fingerprint_ids = false are just the default.
    opts = {k: v for k, v in (options or {}).items()
            if v is not None and not (v is False and k in _FLAG_OPTIONS)}
    vals = {k: dict(v) for k, v in (values or {}).items() if k in columns and v}
    return Profile(kind, columns, opts, vals, headers=list(headers))


def dry_run_profile(profile: Profile) -> Profile:
    """The profile for a dry run: report all rejects instead of refusing at the share limit."""
    if "max_rejected_share" in profile.options:
        return profile
    return replace(profile, options={**profile.options,
                                     "max_rejected_share": _DRY_RUN_REJECT_SHARE})


def refusal(result, profile: Profile) -> str | None:
    """Why the real import would be refused after a dry run with ``dry_run_profile``."""
    limit = profile.options.get("max_rejected_share", MAX_REJECTED_SHARE)
    if result.rows_read and result.rows_rejected > limit * result.rows_read:
        return (f"{result.rows_rejected:,} of {result.rows_read:,} rows would be rejected (more "
                f"than {limit:.0%}), so the mapping or the value codes are probably wrong: the "
                "import would be refused. See the reasons below, fix the columns or the values, "
                "and check again.")
    return None


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------

def group_value_mappings(mappings: list[dict]) -> dict[str, list[dict]]:
    """value_mappings of an ImportResult, grouped by field (most frequent value first)."""
    out: dict[str, list[dict]] = {}
    for m in sorted(mappings, key=lambda m: (m["field"], -m["rows"], str(m["raw"]))):
        out.setdefault(m["field"], []).append(m)
    return out


def code_options(f: Field) -> tuple[str, ...]:
    """The codes a value of ``f`` can be given in the value editor."""
    if f.type == "bool":
        return BOOL_CODES + (BLANK,)
    return VALUE_SETS[f.value_set] + (BLANK,) if f.value_set else ()


def display_code(f: Field, code) -> str | None:
    """An ImportResult code as the editor shows it ('true' -> 'yes'; no code -> '(blank)')."""
    if code is None:
        return BLANK
    if f.type == "bool":
        return "yes" if str(code).lower() == "true" else "no"
    return str(code)


def profile_value(f: Field, shown: str | None):
    """An editor choice as a profile [values] entry ('(blank)' -> "": the value is stored blank)."""
    if shown is None or shown == "" or shown == BLANK:
        return ""
    if f.type == "bool":
        return _BOOL_TO_PROFILE[shown]
    return shown


def value_edits(f: Field, rows: list[dict], chosen: list[str | None]) -> dict[str, object]:
    """[values] entries for the rows whose chosen code differs from the one the check used."""
    out = {}
    for m, new in zip(rows, chosen):
        if (new or BLANK) != display_code(f, m["code"]):
            out[m["raw"]] = profile_value(f, new)
    return out


def merge_values(base: dict, edits: dict[str, dict]) -> dict[str, dict]:
    """Profile values with the editor's edits laid over them (field by field)."""
    out = {k: dict(v) for k, v in (base or {}).items()}
    for fname, entries in edits.items():
        if entries:
            out.setdefault(fname, {}).update(entries)
    return {k: v for k, v in out.items() if v}


def value_note(how: str) -> str:
    """Plain words for the importer's 'how' of a value mapping."""
    return {"profile": "your choice", "standard": "recognised", "unreadable":
            "not yes/no: rows rejected", "not recognised": "not recognised"}.get(how, how)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_SLASH_DATE = re.compile(r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{2,4})\b")


def date_sample(rows: list, headers: list[str], columns: list[str]) -> str | None:
    """The first value of ``columns`` in the preview rows that looks like 03/04/2024."""
    idx = [headers.index(c) for c in columns if c in headers]
    for row in rows:
        for i in idx:
            value = row[i]
            if value and _SLASH_DATE.match(str(value)):
                return str(value)
    return None


def day_order_question(sample: str | None) -> tuple[str, dict[str, bool]]:
    """('Is 03/04/2024 the 3rd of April or March 4th?', {answer label: dayfirst})."""
    m = _SLASH_DATE.match(sample or "")
    if not m or int(m.group(1)) > 12 or int(m.group(3)) > 12 or int(m.group(1)) == 0 \
            or int(m.group(3)) == 0:
        m = _SLASH_DATE.match("03/04/2024")
    a, sep, b, year = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
    shown = f"{m.group(1)}{sep}{m.group(3)}{sep}{year}"
    day_first = f"the {_ordinal(a)} of {_MONTHS[b - 1]} (day first)"
    month_first = f"{_MONTHS[a - 1]} {_ordinal(b)} (month first)"
    question = (f"Is {shown} the {_ordinal(a)} of {_MONTHS[b - 1]} or "
                f"{_MONTHS[a - 1]} {_ordinal(b)}?")
    return question, {day_first: True, month_first: False}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --------------------------------------------------------------------------------------------
# Rows and records
# --------------------------------------------------------------------------------------------

def rows_and_records(result) -> str | None:
    """Why the rows to import and the records they give differ ('Import 1,771 rows' beside
    '1,770 new records'), in one sentence; None when they are the same figure."""
    rows = result.rows_read - result.rows_rejected
    records = result.rows_inserted + result.rows_updated + result.rows_unchanged
    if rows == records == result.rows_inserted:
        return None
    parts = [f"{result.rows_inserted:,} new"]
    if result.rows_updated:
        parts.append(f"{result.rows_updated:,} replacing records imported before")
    if result.rows_unchanged:
        parts.append(f"{result.rows_unchanged:,} already stored exactly so")
    why = ""
    if result.rows_merged:
        how = ("unit rows of one call" if result.unit_rows else
               "rows repeating another row's identifier")
        why = f" ({result.rows_merged:,} {how} are merged into one record each)"
    return (f"The {rows:,} rows give {records:,} records{why}: {', '.join(parts)}.")


# --------------------------------------------------------------------------------------------
# Columns as the wizard names them, and how dates will be read
# --------------------------------------------------------------------------------------------

def column_names(headers: list[str]) -> dict[str, str]:
    """Header -> the name shown in the preview and every drop-down ('column 1' if unnamed)."""
    out = {}
    for i, h in enumerate(headers):
        out.setdefault(h, h if h else f"column {i + 1}")
    return out


def time_examples(rows: list, headers: list[str], columns: list[str], fmt: str | None,
                  dayfirst: bool | None, limit: int = 3) -> list[tuple[str, str]]:
    """(value as the importer joins it, how it reads) for the first preview rows.

    A date + time pair is joined as the importer joins it; 'not a date and time' when neither
    the given format nor detection reads it.
    """
    idx = [headers.index(c) for c in columns if c in headers]
    out = []
    for row in rows:
        vals = [row[i] for i in idx]
        value = (timestamps.join_date_time(*vals) if len(vals) == 2 else
                 (str(vals[0]).strip() or None) if vals and vals[0] is not None else None)
        if not value or any(v == value for v, _ in out):
            continue
        out.append((value, _reads_as(value, fmt, dayfirst)))
        if len(out) == limit:
            break
    return out


def _reads_as(value: str, fmt: str | None, dayfirst: bool | None) -> str:
    order = None if dayfirst is None else ("dmy" if dayfirst else "mdy")
    fmts = [fmt] if fmt else []
    if not fmts:
        try:
            found = timestamps.detect([value], order or "mdy")
            fmts = list(found.utc + found.local)
        except timestamps.UnparsedValues:
            return "not a date and time"
    t = next((t for t in (timestamps.parse(value, f) for f in fmts) if t), None)
    if t is None:
        return "not a date and time" + (" with this format" if fmt else "")
    shown = t.strftime("%a %d %b %Y, %H:%M")
    if t.tzinfo is not None:
        shown += f" (offset {t.strftime('%z')[:3]}:{t.strftime('%z')[3:]})"
    return shown
