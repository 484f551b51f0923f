"""Detect the timestamp formats of a column from its values, without guessing ambiguous dates.

Detection runs in Python on the distinct *shapes* of the values (digits replaced by 9), which
DuckDB computes over the whole column, plus the largest first and second date parts, so that a
format seen only once in a million rows is still found. Parsing then runs in DuckDB with
``try_strptime(value, [formats])``; a present value that parses with none is an error.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

# Formats tried, by family. "mdy"/"dmy" are decided from the data (or the profile's dayfirst).
_TIME_PARTS = ["%H:%M:%S.%f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%I:%M:%S%p",
               "%I:%M%p"]
_ZONE_SUFFIXES = ["Z", "%z"]  # literal Z first: DuckDB's %z does not read Z


def _with_times(date_fmt: str, seps=(" ", "T")) -> list[str]:
    out = []
    for sep in seps:
        out += [f"{date_fmt}{sep}{t}" for t in _TIME_PARTS]
    return out + [date_fmt]


ISO_FORMATS = _with_times("%Y-%m-%d") + _with_times("%Y/%m/%d", (" ",))
MDY_FORMATS = (_with_times("%m/%d/%Y", (" ",)) + _with_times("%m-%d-%Y", (" ",))
               + _with_times("%m/%d/%y", (" ",)))
DMY_FORMATS = (_with_times("%d/%m/%Y", (" ",)) + _with_times("%d.%m.%Y", (" ",))
               + _with_times("%d-%m-%Y", (" ",)) + _with_times("%d/%m/%y", (" ",)))
# With an offset: ISO (2016/09/20 09:36:12+00) and slash dates with a spaced offset
# (11/09/2011 10:04:00 PM +0000, a common fire-department export).
_ZONED = _ZONE_SUFFIXES + [" " + z for z in _ZONE_SUFFIXES]
AWARE_ISO = [f + z for f in ISO_FORMATS if "%H" in f or "%I" in f for z in _ZONED]
AWARE_MDY = [f + z for f in MDY_FORMATS if "%H" in f or "%I" in f for z in _ZONED]
AWARE_DMY = [f + z for f in DMY_FORMATS if "%H" in f or "%I" in f for z in _ZONED]
AWARE_FORMATS = AWARE_ISO  # kept for callers that know no day order
# Formats whose first date part is a day or month (1-31), decided by the data.
_SLASH_SHAPE = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")


@dataclass(frozen=True)
class ColumnFormats:
    """The formats that parse a column: ``utc`` values are instants, ``local`` are wall-clock."""

    local: tuple[str, ...] = ()
    utc: tuple[str, ...] = ()  # with an explicit offset (%z) or a literal Z


class UnparsedValues(Exception):
    def __init__(self, examples):
        super().__init__(", ".join(examples))
        self.examples = examples


# Hour 24 (2023-05-01T24:00, 05/01/2023 24:35) is read as 0:MM of the next day, with a row
# warning (hour_24): some CAD systems close a day at 24:00, and rejecting the row would lose a
# call that the export holds. Hour 25 and beyond is still unreadable.
HOUR_24 = re.compile(r"([T ])24:([0-5]\d)")
HOUR_24_SQL = "([T ])24:([0-5][0-9])"


def _normalise_zone(value: str) -> str:
    # Python's %z wants +HHMM; exports write +00, +00:00 or Z. DuckDB's %z takes +00.
    value = re.sub(r"([+-]\d\d)$", r"\g<1>00", value)
    return re.sub(r"([+-]\d\d):(\d\d)$", r"\1\2", value)


def _parses(value: str, fmt: str) -> bool:
    return parse(value, fmt) is not None


def parse(value: str, fmt: str) -> datetime | None:
    """``value`` read with ``fmt`` as DuckDB will read it (hour 24 -> next day), or None."""
    value = value.strip()
    v = _normalise_zone(value) if fmt.endswith("%z") else value
    v, next_day = HOUR_24.subn(r"\g<1>00:\2", v, count=1)
    try:
        out = datetime.strptime(v, fmt)
    except ValueError:
        return None
    return out + timedelta(days=1) if next_day else out


def day_order(max_first: int | None, max_second: int | None) -> str | None:
    """'dmy', 'mdy' or None (undecided) from the largest first and second date parts."""
    if max_first is not None and max_first > 12:
        return "dmy"
    if max_second is not None and max_second > 12:
        return "mdy"
    return None


def needs_day_order(examples: list[str]) -> bool:
    return any(_SLASH_SHAPE.match(e) and not re.match(r"^\d{4}", e) for e in examples)


def detect(examples: list[str], order: str | None) -> ColumnFormats:
    """Pick, for each example value (one per shape), the first format that parses it.

    ``order`` is 'mdy' or 'dmy' for slash dates; the caller decides it from the whole column
    (or the profile) and raises AmbiguousDates when it cannot.
    """
    local, utc, failed = [], [], []
    families = ISO_FORMATS + (DMY_FORMATS if order == "dmy" else MDY_FORMATS)
    aware = AWARE_ISO + (AWARE_DMY if order == "dmy" else AWARE_MDY)
    for value in examples:
        value = value.strip()
        fmt = next((f for f in aware if _parses(value, f)), None)
        if fmt:
            (utc if fmt not in utc else []).append(fmt)
            continue
        fmt = next((f for f in families if _parses(value, f)), None)
        if fmt is None:
            failed.append(value)
        elif fmt not in local:
            local.append(fmt)
    if failed:
        raise UnparsedValues(failed[:5])
    return ColumnFormats(tuple(local), tuple(utc))


# --------------------------------------------------------------------------------------------
# A date column beside a time column
# --------------------------------------------------------------------------------------------

# Many exports put a placeholder midnight in the date column (04/16/2022 12:00:00 AM beside
# 1:57:00 PM): the date comes from the first column, the time from the second. Only a midnight
# is dropped; any other time in the date column leaves a value that reads as neither, and the
# row is rejected with both values shown.
_MIDNIGHT = r"[ T]+(0?0:00(:00(\.0+)?)?|12:00(:00)? ?[Aa]\.?[Mm]\.?)$"
# A time written as HHMM (1557) or HMM (905, its leading zero lost to a number column).
_HHMM = r"[0-9]{3,4}"


def pair_sql(date_sql: str, time_sql: str) -> str:
    """SQL joining a date and a time column into one value, as ``join_date_time`` does."""
    date = f"regexp_replace({date_sql}, '{_MIDNIGHT}', '')"
    time = (f"CASE WHEN regexp_full_match({time_sql}, '{_HHMM}') THEN regexp_replace("
            f"lpad({time_sql}, 4, '0'), '^([0-9][0-9])([0-9][0-9])$', '\\1:\\2') "
            f"ELSE {time_sql} END")
    return f"nullif(concat_ws(' ', {date}, {time}), '')"


def join_date_time(date: str | None, time: str | None) -> str | None:
    """The value the importer parses for a date + time pair (the wizard shows it)."""
    date = re.sub(_MIDNIGHT, "", date.strip()) if date and date.strip() else None
    time = time.strip() if time and time.strip() else None
    if time and re.fullmatch(_HHMM, time):
        time = f"{time.zfill(4)[:2]}:{time.zfill(4)[2:]}"
    return " ".join(v for v in (date, time) if v) or None
