"""The Plan page's question in one call, what a viewer may see of it, and the method's text."""
from __future__ import annotations

import numpy as np

from ..errors import CapacityError
from .calibration import CALIBRATION_TOLERANCE, calibrate
from .schedules import HOURS_PER_WEEK, parse_spec
from .simulation import (DEFAULT_EXTRA_MINUTES, DEFAULT_RUNS, TRACE_RUNS, Coverage, erlang_by_hour,
                         needed_for, simulate)
from .workload import (MAX_ARRIVALS, MAX_SERVICE_MIN, MAX_WEEKS, MIN_DURATIONS, CapacityRequest,
                       Workload, load_workload)

TARGETS = (0.6, 0.7, 0.8)


def plan(con, request: CapacityRequest, specs: tuple[str, ...], *,
         extra_minutes: float = DEFAULT_EXTRA_MINUTES, max_wait_minutes: float = 0.0,
         runs: int = DEFAULT_RUNS, seed: int = 0, targets=TARGETS,
         calibration: bool = True) -> dict:
    """Schedules (short forms, ``parse_spec``) compared on the same calls, the team-hours each
    target needs, and the calibration (``calibration=False``: not computed, no key; its
    queries over the team's responses are a third of the work): plain values, for a cache and
    a page."""
    kw = dict(extra_minutes=extra_minutes, max_wait_minutes=max_wait_minutes, runs=runs,
              seed=seed)
    workload = load_workload(con, request)
    schedules = [parse_spec(s) for s in specs]
    results = simulate(workload, schedules, **kw)
    doc = {"jurisdiction": request.jurisdiction, "first_day": workload.first_day,
           "last_day": workload.last_day, "weeks": workload.weeks, "calls": len(workload.arrivals),
           "calls_in_period": workload.calls_in_period,
           "service_minutes_mean": workload.service_minutes_mean + extra_minutes,
           "service_source": workload.service_source, "durations": workload.durations,
           "extra_minutes": extra_minutes, "max_wait_minutes": max_wait_minutes, "runs": runs,
           "schedules": [_schedule_doc(workload, r, kw) for r in results],
           "needed": [f.as_dict() for f in needed_for(workload, targets, **kw)]}
    if not calibration:
        return doc
    try:  # the calibration compares point estimates: no interval needed
        doc["calibration"] = calibrate(con, request, workload=workload,
                                       **{**kw, "runs": 0}).as_dict()
    except CapacityError as e:
        doc["calibration"] = {"unavailable": str(e)}
    return doc


def _schedule_doc(workload: Workload, r: Coverage, kw: dict) -> dict:
    hour = np.arange(HOURS_PER_WEEK) % 24
    calls = np.bincount(hour, weights=r.calls_by_hour, minlength=24)
    served = np.bincount(hour, weights=r.served_by_hour, minlength=24)
    erlang = erlang_by_hour(workload, r.schedule, extra_minutes=kw["extra_minutes"],
                            max_wait_minutes=kw["max_wait_minutes"])
    return {**r.as_dict(), "erlang_coverage": erlang["coverage"], "grid": r.schedule.grid(),
            "by_hour": [{"hour": h, "calls": int(calls[h]), "served": float(served[h]),
                         "coverage": float(served[h] / calls[h]) if calls[h] else None}
                        for h in range(24)]}


def publish(doc: dict, policy) -> dict:
    """The plan as a viewer may see it: every count of calls through disclosure control
    (1 to H hidden, the rest rounded; metrics.disclosure), and each share of an hour or a
    program shown only beside a published count of its calls. Model shares of the whole
    period (coverage, its interval) rest on the period's calls and follow them."""
    out = {**doc, "calls": publish_count(doc["calls"], policy),
           "calls_in_period": publish_count(doc["calls_in_period"], policy),
           "durations": publish_count(doc["durations"], policy)}
    out["schedules"] = [_published_schedule(s, out["calls"] is None, policy)
                        for s in doc["schedules"]]
    cal = doc.get("calibration") or {}
    if "gap" in cal:
        out["calibration"] = _published_calibration(cal, policy)
    return out


_SCHEDULE_COUNTS = ("served", "missed_no_team_free", "missed_no_team_on_duty",
                    "served_after_wait")


def _published_schedule(s: dict, hidden: bool, policy) -> dict:
    out = {**s, **{k: None if hidden else publish_count(s[k], policy) for k in _SCHEDULE_COUNTS}}
    if hidden:
        out.update(coverage=None, ci_low=None, ci_high=None, erlang_coverage=None)
    out["by_hour"] = []
    for h in s["by_hour"]:
        calls = publish_count(h["calls"], policy)
        # Missed is published from the exact figures, not as the difference of two rounded
        # ones (25 - 15 would print "10 calls", a small count as far as a reader can tell).
        missed = max(h["calls"] - h["served"], 0) if h["served"] is not None else None
        out["by_hour"].append({"hour": h["hour"], "calls": calls,
                               "served": None if not calls else publish_count(h["served"], policy),
                               "missed": None if not calls else publish_count(missed, policy),
                               "coverage": h["coverage"] if calls else None})
    return out


def _published_calibration(cal: dict, policy) -> dict:
    eligible = publish_count(cal["eligible"], policy)
    responded = publish_count(cal["responded"], policy)
    no_team = publish_count(cal["measured_no_team_share"] * cal["eligible"], policy)
    out = {**cal, "eligible": eligible, "responded": responded}
    if not eligible or responded is None or no_team is None:
        out.update(measured_coverage=None, measured_no_team_share=None, gap=None,
                   reliable=False, notes=["The measured coverage rests on too few calls to "
                                          "show here, so the model cannot be checked against "
                                          "it."])
        return out
    measured = responded / eligible
    gap = cal["model_coverage"] - measured
    out.update(measured_coverage=measured, measured_no_team_share=no_team / eligible, gap=gap,
               reliable=abs(gap) <= CALIBRATION_TOLERANCE)
    return out


def publish_count(count, policy):
    """A count of calls as a viewer sees it (metrics.disclosure rules); None when hidden."""
    from ..disclosure import published_count

    if count is None:
        return None
    return published_count(int(round(count)), policy)


METHODOLOGY = f"""## Planning: how many teams for what coverage (the Plan page)

`metrics/capacity/`; `python -m metrics capacity`. Built on one jurisdiction's own calls.

- **Arrivals**: its eligible-type calls at their actual local times: call types the crosswalk
  marks eligible, at any hour (eligible in coverage hours, or out of hours outside them), and
  calls of untriaged types in a category the program targets (a jurisdiction still planning
  only names categories); like eligibility, after the launch and in covered areas. The
  sidebar's period, categories and areas apply. The latest whole weeks are modelled: at most
  {MAX_WEEKS}, and about {MAX_ARRIVALS:,} calls for a busy jurisdiction.
- **Service time**: dispatch to clear (travel + on scene) from the team's own records when it
  has at least {MIN_DURATIONS}, else police busy time (dispatch to clear) on police-handled
  calls of the same types; durations over {MAX_SERVICE_MIN // 60} hours are left out as records
  left open. Drawn from their histogram of whole minutes, plus the extra minutes chosen
  (default {DEFAULT_EXTRA_MINUTES:.0f}: wrap-up and notes).
- **Schedule**: teams on duty per weekday × local hour. A call that finds every team on duty
  busy is missed, or waits for the first team to free up if that is within the tolerable
  wait (first come, first served). Teams finish a call past the end of a shift.
- **Coverage**: calls served ÷ eligible-type calls, the mean of {TRACE_RUNS} simulation runs
  over the actual call times (service times drawn afresh, seeded). The 95% interval is the
  2.5th to 97.5th percentile of runs over resampled weeks (whole weeks drawn with
  replacement, keeping weekday and hour patterns): how much a year like this one can vary.
- **Erlang cross-check**: each hour of the week as a stationary hour (its average rate, the
  mean service time, its teams): Erlang B, 1 − B(c, A) with A = calls an hour × hours per
  call, by the recursion B(n) = A·B(n−1) / (n + A·B(n−1)); with a wait, Erlang C's share
  answered within it, 1 − C·exp(−(c − A)·t / service), C = c·B / (c − A(1 − B)); weighted by
  calls over the week. It ignores calls carried over between hours.
- **Team-hours for a target**: the fewest teams, the same every day on 8-20, 7-23 or around
  the clock, whose coverage reaches 60%, 70%, 80%; the pattern with the fewest team-hours a
  week is shown.
- **Calibration** (running programs): the model is run for the schedule the program works
  (its coverage hours and days; teams = the 90th percentile over days of the day's highest
  number of its responses open at once, dispatch to clear) over B1's eligible calls in the
  same weeks, with calls lost for other reasons (reassigned, cancelled, resolved by phone)
  left out at their measured rate. Its coverage is set beside the measured coverage (B1) and
  its "no team available" misses beside the recorded ones ("no unit available" and the
  like). A gap over {CALIBRATION_TOLERANCE * 100:.0f} points is stated with what may explain it,
  and the advice is then shown as estimates only.
- **Limits**: one pool of teams for the whole jurisdiction (no travel between areas, no
  breaks); calls a team starts itself are not arrivals; a week's pattern is assumed to repeat.
"""
