"""A jurisdiction's program settings read from words (the command line), and what still keeps
its pages empty or wrong after an import (the next steps, named).

Both the command line (``python -m data settings``, the import summary) and the Data page's
wizard use these, so they say the same thing.
"""
from __future__ import annotations

import re
from datetime import date

from .errors import DataError

_DAYS = {"MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6, "SUN": 7}


def parse_hours(text: str) -> tuple[int | None, int | None]:
    """'8-20' -> (8, 20); '19-7' wraps past midnight; '24h', 'all' or 'none' -> around the clock."""
    t = text.strip().lower()
    if t in ("24h", "24/7", "all", "none", "always"):
        return None, None
    m = re.fullmatch(r"(\d{1,2})(?::00)?\s*-\s*(\d{1,2})(?::00)?", t)
    if not m:
        raise DataError(f"--coverage-hours {text!r}: give the local hours as START-END, e.g. "
                        "8-20 (or 19-7 overnight), or 24h for around the clock.")
    start, end = int(m.group(1)), int(m.group(2))
    if not (0 <= start <= 23 and 1 <= end <= 24) or start == end:
        raise DataError(f"--coverage-hours {text!r}: the start is an hour 0-23 and the end an "
                        "hour 1-24, different from the start.")
    return start, end


def parse_days(text: str) -> str | None:
    """'12345', '1-5', 'Mon-Fri' or 'Mon,Wed,Fri' -> ISO weekday digits; 'all' -> every day."""
    t = text.strip().upper()
    if t in ("ALL", "NONE", "EVERY DAY", "1234567"):
        return None
    if re.fullmatch(r"[1-7]+", t):
        return "".join(sorted(set(t)))
    days: set[int] = set()
    for part in re.split(r"\s*,\s*", t):
        ends = [p.strip()[:3] for p in part.split("-")]
        try:
            nums = [int(e) if e.isdigit() else _DAYS[e] for e in ends]
        except KeyError:
            raise DataError(f"--coverage-days {text!r}: use ISO weekday numbers (1 = Monday, "
                            "e.g. 12345) or names such as Mon-Fri or Mon,Wed,Fri.") from None
        if len(nums) == 1:
            days.add(nums[0])
        else:
            a, b = nums[0], nums[-1]
            days.update(range(a, b + 1) if a <= b else [*range(a, 8), *range(1, b + 1)])
    if not days or not days <= set(range(1, 8)):
        raise DataError(f"--coverage-days {text!r}: weekdays are 1 (Monday) to 7 (Sunday).")
    return None if len(days) == 7 else "".join(str(d) for d in sorted(days))


def parse_list(text: str) -> list[str] | None:
    """'A, B' -> ['A', 'B']; 'all' or '' -> None (everywhere / nothing chosen)."""
    items = [x.strip() for x in text.split(",") if x.strip()]
    return None if not items or [i.lower() for i in items] == ["all"] else items


def parse_categories(text: str, known: list[str]) -> list[str] | None:
    chosen = parse_list(text)
    if chosen is None:
        return None
    by_upper = {k.upper(): k for k in known}
    unknown = [c for c in chosen if c.upper() not in by_upper]
    if unknown:
        raise DataError(f"--target-categories: {', '.join(unknown)} is not a category of this "
                        f"database; choose from {', '.join(known)}.")
    return [by_upper[c.upper()] for c in chosen]


def parse_date(text: str) -> date | None:
    if text.strip().lower() in ("none", ""):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DataError(f"--launch-date {text!r}: give the date as YYYY-MM-DD.") from None


def current(con, jurisdiction: str) -> dict | None:
    cur = con.execute("SELECT * FROM jurisdictions WHERE jurisdiction = ?", [jurisdiction])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def describe(s: dict) -> list[str]:
    """The settings in words, one line each."""
    start, end = s.get("coverage_start_hour"), s.get("coverage_end_hour")
    hours = "around the clock" if start is None or end is None else f"{start}:00-{end}:00"
    days = s.get("coverage_days")
    return [
        f"launch date: {s.get('launch_date') or 'not set'}",
        f"coverage hours: {hours}",
        f"coverage days: {days if days else 'every day'} (1 = Monday)",
        "coverage areas: "
        f"{', '.join(s['coverage_areas']) if s.get('coverage_areas') else 'everywhere'}",
        "target categories: "
        f"{', '.join(s['target_categories']) if s.get('target_categories') else 'none set'}",
        f"population: {s['population']:,}" if s.get("population") else "population: not set",
        f"time zone: {s.get('time_zone')}",
    ]


# --------------------------------------------------------------------------------------------
# What still keeps the pages empty or wrong
# --------------------------------------------------------------------------------------------

def next_steps(con, jurisdiction: str) -> list[dict]:
    """What still keeps this jurisdiction's pages empty or wrong, most important first.

    Each step: ``key`` (what it is about: crosswalk, targets, coverage, launch, responses,
    population), ``text`` (one sentence: what is missing and what it does to the figures) and
    ``where`` (where to fix it). An empty list: nothing is missing.
    """
    s = current(con, jurisdiction)
    if s is None:
        return []
    calls, unmapped, untriaged, eligible = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE type_unmapped), "
        "count(*) FILTER (WHERE effective_eligible IS NULL AND NOT type_unmapped), "
        "count(*) FILTER (WHERE effective_eligible) FROM calls WHERE jurisdiction = ?",
        [jurisdiction]).fetchone()
    responses = con.execute("SELECT count(*) FROM responses WHERE jurisdiction = ?",
                            [jurisdiction]).fetchone()[0]
    steps = []
    if not calls:
        steps.append(_step("calls", "No 911/CAD calls yet: every page stays empty.",
                           "Data page, Import a file (kind: Calls)"))
    if calls and unmapped:
        steps.append(_step("crosswalk", f"{unmapped / calls:.0%} of calls ({unmapped:,} of "
                           f"{calls:,}) have a call type without a category: they count as "
                           "neither target-type nor eligible (eligibility unknown).",
                           "Data page, Call-type crosswalk tab (accept the confident "
                           "suggestions), or `python -m data crosswalk suggest`"))
    if calls and untriaged:
        steps.append(_step("eligibility", f"{untriaged:,} calls have a category but no "
                           "eligibility decided (unknown, not ineligible).",
                           "Data page, Call-type crosswalk tab (column eligible)"))
    if not s.get("target_categories"):
        steps.append(_step("targets", "No target categories set: no call is target-type (A2) "
                           "or eligible (A3) until the program says which categories it takes.",
                           _settings_where("--target-categories MENTAL_HEALTH,WELFARE_CHECK")))
    if s.get("coverage_start_hour") is None:
        steps.append(_step("coverage", "No coverage hours set: every hour counts as covered, so "
                           "no call is out of hours (A4 is 0).",
                           _settings_where("--coverage-hours 8-20 --coverage-days Mon-Fri")))
    if s.get("launch_date") is None:
        steps.append(_step("launch", "No launch date: calls from before the program count as "
                           "eligible, and charts mark no launch.",
                           _settings_where("--launch-date YYYY-MM-DD")))
    if calls and not eligible and not unmapped and s.get("target_categories"):
        steps.append(_step("eligible", "No call is eligible yet: no call type is marked eligible "
                           "for the team (or all fall outside coverage and launch).",
                           "Data page, Call-type crosswalk tab (column eligible)"))
    if not responses:
        steps.append(_step("responses", "No team responses yet: coverage of eligible calls "
                           "(B1), team response times and what happens on scene stay empty.",
                           "Data page, Import a file (kind: Team responses)"))
    if not s.get("population"):
        steps.append(_step("population", "No population: per-capita figures (per 1,000 "
                           "residents) are not shown.", _settings_where("--population N")))
    return steps


def _step(key, text, where) -> dict:
    return {"key": key, "text": text, "where": where}


def _settings_where(example: str) -> str:
    return f"Admin page, Jurisdictions, or `python -m data settings {example}`"


def why_no_eligible_calls(con, jurisdictions: list[str]) -> list[str]:
    """One sentence per jurisdiction that has no eligible call at all: the true reason, first
    missing step first (no calls; types without a category; no type marked eligible; launch
    after the latest call; coverage leaving none). No counts, so any reader may see it."""
    out = []
    for j in jurisdictions:
        calls, eligible, unmapped, latest = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE effective_eligible), "
            "count(*) FILTER (WHERE type_unmapped), max(received_local) FROM calls "
            "WHERE jurisdiction = ?", [j]).fetchone()
        if eligible:
            continue
        s = current(con, j) or {}
        marked = con.execute("SELECT count(*) FROM crosswalk WHERE jurisdiction = ? AND eligible",
                             [j]).fetchone()[0]
        if not calls:
            out.append(f"{j} has no 911/CAD calls yet: upload its calls export on the Data page.")
        elif not s.get("target_categories"):
            out.append(f"{j} has no target categories set, so no call is target-type or "
                       "eligible yet: set them on the Admin page (Jurisdictions) or with "
                       "`python -m data settings --target-categories ...`.")
        elif not marked and unmapped:
            out.append(f"{j}'s call types have no category or eligibility yet: map them on the "
                       "Data page, Call-type crosswalk tab (accept the confident suggestions).")
        elif not marked:
            out.append(f"No call type of {j} is marked eligible for the team: mark them on the "
                       "Data page, Call-type crosswalk tab.")
        elif s.get("launch_date") and latest and s["launch_date"] > latest.date():
            out.append(f"{j}'s launch date ({s['launch_date']}) is after its latest call: "
                       "calls before the launch are never eligible.")
        else:
            out.append(f"{j}'s coverage hours, days or areas leave none of its eligible-type "
                       "calls covered: check its settings (Admin page, Jurisdictions).")
    return out
