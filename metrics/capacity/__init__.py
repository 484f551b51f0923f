"""Capacity: how many teams on which hours reach what share of eligible calls (DOMAIN.md §9).

The jurisdiction's own calls answer it. *Arrivals* are its eligible-type calls: call types the
crosswalk marks eligible, or, where the crosswalk has not triaged a type (a jurisdiction still
planning), calls of its target categories; at any hour, whatever the program's current
coverage hours. A team is busy for a call's *service time*: dispatch to clear (travel + on
scene) from the team's own response records where it has at least ``MIN_DURATIONS`` of them,
else the police's busy time (dispatch to clear) on calls of the same types, plus adjustable
extra minutes (wrap-up, notes). A *schedule* is teams on duty per weekday × local hour.

A call that finds every team on duty busy is missed, or, with a tolerable wait, served by the
first team that frees up within it (first come, first served; a caller who would wait longer
is missed). Teams finish a call past the end of their shift.

Answers (``simulate``): expected coverage for each schedule from a trace-driven discrete-event
simulation over the actual call times (a few runs with service times drawn afresh), and a 95%
interval from runs over *resampled weeks* (whole weeks drawn with replacement, so weekday and
hour patterns stay intact; service times drawn afresh): how much a year like this one can
vary. Erlang-B and Erlang-C (``erlang_b``, ``erlang_c``, ``erlang_by_hour``) give the textbook
figures for a stationary hour as a cross-check. ``smallest_schedule`` answers the reverse
question: the fewest teams (on given hours and days) reaching a target, as team-hours per week.
``calibrate`` puts the model's figure for the schedule a running program works beside its
measured coverage (B1) and its measured "no unit available" misses.

DuckDB does the counting: arrivals come back as one array of epoch seconds for the latest
whole weeks, at most ``MAX_WEEKS`` of them and about ``MAX_ARRIVALS`` calls, durations as a
histogram of whole minutes. No streamlit here.

Modules: schedules, workload (DuckDB), simulation (with the Erlang formulas and the reverse
question), calibration, plan (the Plan page's one call, disclosure, the method's text).
"""
from ..errors import CapacityError
from .calibration import (CALIBRATION_TOLERANCE, Calibration, actual_schedule, calibrate,
                          explain_gap, observed_teams, program_settings)
from .plan import METHODOLOGY, TARGETS, plan, publish, publish_count
from .schedules import (DAYS, HOURS_PER_WEEK, MAX_TEAMS, WEEK_S, Schedule, Shift, parse_days,
                        parse_hours, parse_spec, schedule_from_toml, spec_of)
from .simulation import (DEFAULT_EXTRA_MINUTES, DEFAULT_RUNS, PATTERNS, TRACE_RUNS, Coverage,
                         Found, _loss_queue, answered_within, erlang_b, erlang_by_hour, erlang_c,
                         needed_for, simulate, smallest_schedule)
from .workload import (MAX_ARRIVALS, MAX_SERVICE_MIN, MAX_WEEKS, MIN_DURATIONS, CapacityRequest,
                       Workload, hour_of_week, load_workload)

__all__ = ["CapacityError", "CALIBRATION_TOLERANCE", "Calibration", "actual_schedule",
           "calibrate", "explain_gap", "observed_teams", "program_settings", "METHODOLOGY",
           "TARGETS", "plan", "publish", "publish_count", "DAYS", "HOURS_PER_WEEK", "MAX_TEAMS",
           "WEEK_S", "Schedule", "Shift", "parse_days", "parse_hours", "parse_spec",
           "schedule_from_toml", "spec_of", "DEFAULT_EXTRA_MINUTES", "DEFAULT_RUNS", "PATTERNS",
           "TRACE_RUNS", "Coverage", "Found", "_loss_queue", "answered_within", "erlang_b",
           "erlang_by_hour", "erlang_c", "needed_for", "simulate", "smallest_schedule",
           "MAX_ARRIVALS", "MAX_SERVICE_MIN", "MAX_WEEKS", "MIN_DURATIONS", "CapacityRequest",
           "Workload", "hour_of_week", "load_workload"]
