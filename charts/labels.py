"""Readable labels for codes, months and weekdays, and the masking of peer jurisdictions' names."""
from __future__ import annotations

import hashlib
import string
from datetime import date

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # ISO 1..7
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Codes whose plain "underscores to spaces" reading would be wrong or unclear.
_CODE_LABELS = {
    "emergency_department": "Emergency department",
    "crisis_center": "Crisis or walk-in centre",
    "sobering_detox": "Sobering / detox",
    "housing_shelter": "Housing / shelter",
    "benefits_id": "Benefits / ID",
    "substance_use": "Substance use",
    "mental_health": "Mental health",
    "co_response": "Co-response",
    "non_emergency": "Non-emergency line",
    "officer_initiated": "Officer-initiated",
    "aian": "American Indian / Alaska Native",
    "nhpi": "Native Hawaiian / Pacific Islander",
    "mena": "Middle Eastern / North African",
    "hispanic_latino": "Hispanic / Latino",
    "none": "No transport",
}


def code_label(code) -> str:
    """'MENTAL_HEALTH' -> 'Mental health'; 'emergency_department' -> 'Emergency department'."""
    if code is None:
        return "Not recorded"
    text = str(code)
    if text.lower() in _CODE_LABELS:
        return _CODE_LABELS[text.lower()]
    if "_" in text or text.isupper():
        text = text.replace("_", " ").strip().lower()
    return text[:1].upper() + text[1:]


def month_label(month: str) -> str:
    """'2024-03' -> 'Mar 2024'."""
    year, mon = str(month).split("-")[:2]
    return f"{_MONTHS[int(mon) - 1]} {year}"


def month_start(month: str) -> date:
    year, mon = str(month).split("-")[:2]
    return date(int(year), int(mon), 1)


def weekday_hour(value: str) -> tuple[int, int]:
    """'6-02' (ISO weekday, hour) -> (6, 2)."""
    day, hour = str(value).split("-")
    return int(day), int(hour)


def mask_names(names, own: str | None = None) -> dict[str, str]:
    """Peer names -> 'Jurisdiction A', 'Jurisdiction B', ...; ``own`` keeps its name.

    Letters follow a fixed scrambled order (not the alphabetical order of the real names, which
    would give them away), and stay the same whatever else is on screen.
    """
    peers = sorted({n for n in names if n != own}, key=_scramble)
    out = {n: f"Jurisdiction {_letters(i)}" for i, n in enumerate(peers)}
    if own is not None and own in set(names):
        out[own] = own
    return out


def _scramble(name: str) -> str:
    return hashlib.sha256(("jurisdiction-mask-v1:" + name).encode()).hexdigest()


def _letters(i: int) -> str:
    letters = string.ascii_uppercase
    return letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]
