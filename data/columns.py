"""Which column is which, from the values as well as the headers.

Headers alone miss open-data exports (``CASENO``, ``EVENTDT``) and mislead on others (Seattle's
``Call Type`` holds the call's origin). Each column's first rows (a bounded sample read by the
importer with DuckDB) are described once (``describe``); ``suggest`` then gives every canonical
field one confidence from its header synonyms and from what its values look like. Where two
columns fit about equally, or two headers differ only in case, the suggestion carries the
alternatives and prefills nothing: the wizard asks instead of deciding silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import timestamps, values
from .profiles import Suggestion, _score, normalise_header
from .profiles import suggest as header_suggest
from .schema import FIELDS, MAIN_TIME, Field

SAMPLE_ROWS = 2000  # rows of the file the values are judged on
_EXAMPLES = 40  # distinct values tried as dates and times per column
PREFILL = 0.5  # below this a candidate is not prefilled
_CLOSE = 0.05  # candidates this close to the best one make the field ambiguous

_TIME_ONLY = re.compile(r"^\d{1,2}:\d\d(:\d\d(\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?$|^\d{3,4}$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")


@dataclass(frozen=True)
class ColumnFacts:
    """What a column's sampled values look like (shares are of the non-blank values)."""

    filled: int = 0
    distinct_share: float = 0.0
    distinct: int = 0
    row_index: bool = False  # 0, 1, 2 ... (or 1, 2, 3 ...) in file order
    numeric: float = 0.0
    decimals: float = 0.0  # share with a decimal point
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    datetime: float = 0.0  # share of sampled distinct values that read as a date (and time)
    midnight: float = 0.0  # share of those at 0:00 or a date alone
    time_only: float = 0.0  # share like 13:57, 1:57 PM or 1357
    call_type_words: float = 0.0  # share of distinct values the starter crosswalk recognises
    mean_length: float = 0.0
    tokens: float = 0.0  # share without inner spaces (an identifier is one token)


def describe(column: list) -> ColumnFacts:
    """Facts about one column from its sampled values (None or '' is blank)."""
    vals = [str(v).strip() for v in column if v is not None and str(v).strip()]
    if not vals:
        return ColumnFacts()
    distinct = list(dict.fromkeys(vals))
    nums = [float(v) for v in vals if _NUMBER.match(v)]
    examples = distinct[:_EXAMPLES]
    read = [_read_time(v) for v in examples]
    parsed = [r for r in read if r is not None]
    return ColumnFacts(
        filled=len(vals), distinct=len(distinct), distinct_share=len(distinct) / len(vals),
        row_index=_is_row_index(vals), numeric=len(nums) / len(vals),
        decimals=sum("." in v for v in vals if _NUMBER.match(v)) / len(vals),
        low=min(nums) if nums else None, high=max(nums) if nums else None,
        mean=sum(nums) / len(nums) if nums else None,
        datetime=len(parsed) / len(examples),
        midnight=sum(r == "midnight" for r in parsed) / len(parsed) if parsed else 0.0,
        time_only=sum(bool(_TIME_ONLY.match(v)) for v in examples) / len(examples),
        call_type_words=_call_type_share(distinct[:200]),
        mean_length=sum(map(len, vals)) / len(vals),
        tokens=sum(" " not in v for v in vals) / len(vals))


def _is_row_index(vals: list[str]) -> bool:
    if len(vals) < 3 or not all(v.isdigit() for v in vals):
        return False
    first = int(vals[0])
    return first in (0, 1) and all(int(v) == first + i for i, v in enumerate(vals))


def _read_time(value: str) -> str | None:
    """'midnight', 'time' or None (not a date) for one value, either day order."""
    if _NUMBER.match(value):  # 20230105 or 1357 are numbers first
        return None
    for order in ("mdy", "dmy"):
        try:
            fmts = timestamps.detect([value], order)
        except timestamps.UnparsedValues:
            continue
        fmt = (fmts.local or fmts.utc)[0]
        if "%H" not in fmt and "%I" not in fmt:
            return "midnight"
        t = timestamps.parse(value, fmt)
        return "midnight" if t and (t.hour, t.minute, t.second) == (0, 0, 0) else "time"
    return None


def _call_type_share(distinct: list[str]) -> float:
    from .crosswalk import starter_category  # the starter rules know call-type wording

    words = [v for v in distinct if not _NUMBER.match(v)]
    return sum(starter_category(v)[0] is not None for v in words) / len(distinct) if distinct \
        else 0.0


# --------------------------------------------------------------------------------------------
# Content scores: how well a column's values fit a field (negative: they rule it out)
# --------------------------------------------------------------------------------------------

def content_score(kind: str, f: Field, c: ColumnFacts) -> float | None:
    """0-0.8 when the values fit ``f``, negative when they rule it out, None: no opinion."""
    if c.filled == 0:
        return None
    if c.row_index:  # a spreadsheet's row numbers fit no field
        return -1.0
    if f.type == "id":
        if c.datetime > 0.5 or c.time_only > 0.5 or c.decimals > 0.5:
            return -1.0
        if c.distinct_share >= 0.98 and c.filled >= 5 and c.tokens >= 0.9:
            return 0.7
        return -0.5 if c.distinct_share < 0.5 or c.tokens < 0.5 else None
    if f.type == "timestamp":
        if c.datetime >= 0.9:
            if f.name == MAIN_TIME.get(kind):
                return 0.5 if c.midnight >= 0.9 else 0.75
            return 0.3
        return -0.6  # a time of day alone (13:57) is half of a date + time pair
    if f.name in ("call_type", "call_type_final"):
        if c.numeric > 0.5 or c.datetime > 0.5:
            return -0.5
        # A handful of values is an origin or a status (Seattle's 'Call Type': 911, ONVIEW);
        # a CAD has dozens to hundreds of call types (a small file shows fewer).
        few = c.distinct < 10 and c.filled >= 50
        if c.call_type_words >= 0.2 and c.distinct_share < 0.5 and not few:
            return 0.7 if f.name == "call_type" else 0.3
        return -0.5 if few else None
    if f.name in ("lat", "lon"):
        return _coordinate(f.name, c)
    if f.name == "area":
        # Beats and districts are short codes that repeat (523, C3, NORTH); a value on nearly
        # every row its own is an address. Codes alone are too common to suggest an area.
        if c.distinct_share > 0.9 and c.filled >= 20:
            return -0.5
        return 0.3 if c.mean_length <= 12 and c.distinct_share <= 0.3 else None
    if f.type == "code" and f.value_set:
        return None  # judged on the distinct values themselves (code_share)
    return None


def _coordinate(name: str, c: ColumnFacts) -> float | None:
    if c.numeric < 0.9 or c.decimals < 0.5 or c.low is None:
        return -0.5 if c.numeric < 0.5 else None
    widest = max(abs(c.low), abs(c.high))
    if widest > 180:
        return -1.0
    if name == "lat":  # this project's jurisdictions are north and west of Greenwich
        return 0.6 if widest <= 90 and c.mean >= 0 else -0.5
    return 0.6 if widest > 90 or c.mean < 0 else None


def code_share(value_set: str, column: list) -> float:
    """Share of the sampled rows whose value the value set recognises ('911', 'ONVIEW')."""
    vals = [str(v).strip() for v in column if v is not None and str(v).strip()]
    if not vals:
        return 0.0
    known = {v for v in set(vals) if values.standard_code(value_set, v, {})[1] == "standard"}
    return sum(v in known for v in vals) / len(vals)


# --------------------------------------------------------------------------------------------
# One confidence per field and column; then the assignment
# --------------------------------------------------------------------------------------------

def _combined(header: float, content: float | None) -> float:
    if content is None:
        return header
    if content < 0:  # the values say no, whatever the header says
        return min(header, 0.4) if content > -1 else 0.0
    if header > 0.6:  # an exact synonym (profiles._score: 1 - 0.001 per place in the list)
        return min(1.0, header + 0.15)
    if header:  # a partial header match: the values make it likely, never sure
        return min(0.85, max(header, content) + 0.1)
    return content


def candidates(kind: str, headers: list[str], samples: list[list]) -> list[tuple]:
    """(confidence, field, (headers,), how) for every field and column worth considering."""
    facts = [describe(col) for col in samples]
    norms = [normalise_header(h) for h in headers]
    out = []
    for f in FIELDS[kind]:
        if f.type == "list":
            continue  # numbered reason columns: left to the header rule (profiles.suggest)
        for h, n, c, col in zip(headers, norms, facts, samples):
            header = _score(n, f.synonyms) if n else 0.0
            content = content_score(kind, f, c)
            if f.type == "code" and f.value_set and c.distinct <= 30 and c.filled:
                share = code_share(f.value_set, col)
                content = 0.6 if share >= 0.6 else (None if header else -0.5)
            score = _combined(header, content)
            if f.name == MAIN_TIME.get(kind) and c.datetime >= 0.9 and c.midnight >= 0.9:
                score = min(score, 0.6)  # a date alone: a date + time pair fits better
            if score > 0:
                how = ("header and values" if header and content and content > 0 else
                       "header" if header else "values")
                out.append((score + (0.0001 if f.required else 0), f.name, (h,), how))
    out += _date_time_pairs(kind, headers, norms, facts)
    return out


def _stem(norm: str) -> str:
    return re.sub(r"(date|time|dt|tm|dttm)$", "", norm)


def _date_time_pairs(kind, headers, norms, facts) -> list[tuple]:
    """The main time from a date column (dates alone or at 0:00) and a time column."""
    main = MAIN_TIME.get(kind)
    if not main:
        return []
    main_field = next(f for f in FIELDS[kind] if f.name == main)
    dates = [i for i, c in enumerate(facts) if c.datetime >= 0.9 and c.midnight >= 0.9]
    times = [i for i, c in enumerate(facts) if c.time_only >= 0.9 and c.datetime < 0.5
             and not c.row_index]
    out = []
    for d in dates:
        # A time column of the same stem (EVENTDT + EVENTTM) first; else the only one.
        same = [t for t in times if _stem(norms[t]) == _stem(norms[d]) and _stem(norms[d])]
        named = _score(norms[d], main_field.synonyms) >= 0.6  # EVENTDT: a receipt date
        for t in same or (times if len(times) == 1 else []):
            out.append(((0.8 if same else 0.65) + (0.1 if named else 0), main,
                        (headers[d], headers[t]), "header and values" if named else "values"))
    return out


def suggest(kind: str, headers: list[str], samples: list[list]) -> dict[str, Suggestion]:
    """The best column(s) per field; ambiguous fields carry their alternatives, unprefilled."""
    found = sorted(candidates(kind, headers, samples), key=lambda c: -c[0])
    lists = [(s.confidence, s.field, s.headers, "header")
             for s in header_suggest(kind, headers).values()
             if any(f.name == s.field and f.type == "list" for f in FIELDS[kind])]
    found = sorted(found + lists, key=lambda c: -c[0])
    twins = _case_twins(headers)
    chosen, used = {}, set()
    for score, name, hs, how in found:
        if name in chosen or any(h in used for h in hs) or score < PREFILL:
            continue
        close = tuple(dict.fromkeys(
            " + ".join(o[2]) for o in found if o[1] == name and o[2] != hs
            and not any(h in used for h in o[2]) and o[0] >= max(PREFILL, score - _CLOSE)
            and not set(o[2]) & set(hs)))
        twin = tuple(t for h in hs for t in twins.get(h, ()))
        alternatives = tuple(dict.fromkeys(close + twin))
        if alternatives:  # asked, not decided: the headers stay free for other fields
            chosen[name] = Suggestion(name, (), round(min(score, 1.0), 2), how,
                                      (" + ".join(hs),) + alternatives)
            continue
        chosen[name] = Suggestion(name, hs, round(min(score, 1.0), 2), how)
        used.update(hs)
    return chosen


def _case_twins(headers: list[str]) -> dict[str, tuple[str, ...]]:
    """Headers that differ only in case or punctuation ('Call_ID', 'call_id'), or repeat."""
    by_norm: dict[str, list[str]] = {}
    for h in headers:
        if normalise_header(h):
            by_norm.setdefault(normalise_header(h), []).append(h)
    return {h: tuple(o for o in group if o != h) or (h,) for group in by_norm.values()
            if len(group) > 1 for h in group}


def duplicate_headers(headers: list[str]) -> list[tuple[str, list[int]]]:
    """(header, 1-based column numbers) for headers that appear more than once."""
    seen: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        seen.setdefault(h, []).append(i + 1)
    return [(h, cols) for h, cols in seen.items() if len(cols) > 1]


def column_label(headers: list[str], header: str) -> str:
    """How a column is named in the preview and in every drop-down ('column 1' when unnamed)."""
    if header:
        return header
    return f"column {headers.index(header) + 1}" if header in headers else "column ?"
