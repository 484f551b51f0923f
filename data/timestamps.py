"""Detect the timestamp formats of a column from its values, without guessing ambiguous dates.

Detection runs in Python on the distinct *shapes* of the values (digits replaced by 9), which
DuckDB computes over the whole column, plus the largest first and second date parts, so that a
format seen only once in a million rows is still found. Parsing then runs in DuckDB with
``try_strptime(value, [formats])``; a present value that parses with none is an error.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

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
AWARE_FORMATS = [f + z for f in ISO_FORMATS if "%H" in f for z in _ZONE_SUFFIXES]
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


def _normalise_zone(value: str) -> str:
    # Python's %z wants +HHMM; exports write +00, +00:00 or Z. DuckDB's %z takes +00.
    value = re.sub(r"([+-]\d\d)$", r"\g<1>00", value)
    return re.sub(r"([+-]\d\d):(\d\d)$", r"\1\2", value)


def _parses(value: str, fmt: str) -> bool:
    try:
        v = _normalise_zone(value) if fmt.endswith("%z") else value
        datetime.strptime(v, fmt)
        return True
    except ValueError:
        return False


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
    for value in examples:
        value = value.strip()
        fmt = next((f for f in AWARE_FORMATS if _parses(value, f)), None)
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


def duck_format(fmt: str) -> str:
    """DuckDB's strptime reads a literal 'Z' as text; '%z' the same as Python."""
    return fmt
