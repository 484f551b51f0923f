"""Calibration: the model for a running program's own schedule beside what was measured."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import CapacityError
from ..sql import period_where
from .schedules import DAYS, Schedule, parse_days
from .simulation import DEFAULT_EXTRA_MINUTES, DEFAULT_RUNS, Coverage, simulate
from .workload import MAX_SERVICE_MIN, CapacityRequest, Workload, load_workload

CALIBRATION_TOLERANCE = 0.05


@dataclass
class Calibration:
    jurisdiction: str
    schedule: Schedule
    teams_source: str
    eligible: int                # B1's denominator in the modelled weeks
    responded: int               # B1's numerator
    no_team: int                 # eligible, not served, reason: no unit / team available
    other_losses: int            # eligible, not served for any other reason
    model: Coverage
    notes: list[str] = field(default_factory=list)

    @property
    def measured(self) -> float:
        return self.responded / self.eligible if self.eligible else 0.0

    @property
    def measured_no_team_share(self) -> float:
        return self.no_team / self.eligible if self.eligible else 0.0

    @property
    def model_no_team_share(self) -> float:
        m = self.model
        return (m.missed_busy + m.missed_off) / m.calls if m.calls else 0.0

    @property
    def modelled(self) -> float:
        """Comparable with B1: calls lost for other reasons (reassigned, cancelled, resolved
        by phone ...) are left out of the simulation at their measured rate, at random."""
        return self.model.coverage

    @property
    def gap(self) -> float:
        return self.modelled - self.measured

    @property
    def reliable(self) -> bool:
        return abs(self.gap) <= CALIBRATION_TOLERANCE

    def as_dict(self) -> dict:
        return {"jurisdiction": self.jurisdiction, "schedule": self.schedule.label,
                "teams_source": self.teams_source, "eligible": self.eligible,
                "responded": self.responded, "measured_coverage": self.measured,
                "model_coverage": self.modelled,
                "gap": self.gap, "measured_no_team_share": self.measured_no_team_share,
                "model_no_team_share": self.model_no_team_share,
                "reliable": bool(self.reliable), "notes": self.notes}


def program_settings(con, jurisdiction: str) -> dict | None:
    row = con.execute("SELECT launch_date, coverage_start_hour, coverage_end_hour, "
                      "coverage_days FROM jurisdictions WHERE jurisdiction = ?",
                      [jurisdiction]).fetchone()
    if row is None:
        return None
    return dict(zip(("launch_date", "start", "end", "days"), row))


def observed_teams(con, request: CapacityRequest) -> int:
    """Teams working at once, from the team's records: the 90th percentile over days of the
    day's highest number of responses open at the same moment (dispatch to clear)."""
    period, values = period_where("requested_local", request.date_from, request.date_to)
    where = ["jurisdiction = ?", "dispatched_at IS NOT NULL", "cleared_at > dispatched_at",
             f"epoch(cleared_at) - epoch(dispatched_at) <= {MAX_SERVICE_MIN * 60}", *period]
    params = [request.jurisdiction, *values]
    w = " AND ".join(where)
    found = con.execute(f"""
        WITH ev AS (SELECT epoch(dispatched_at) AS t, 1 AS d FROM responses WHERE {w}
                    UNION ALL SELECT epoch(cleared_at), -1 FROM responses WHERE {w}),
             level AS (SELECT t, sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS busy
                       FROM ev)
        SELECT quantile_disc(peak, 0.9) FROM (
          SELECT floor(t / 86400) AS day, max(busy) AS peak FROM level GROUP BY 1)""",
        params + params).fetchone()[0]
    return int(found or 0)


def actual_schedule(con, request: CapacityRequest, teams: int | None = None
                    ) -> tuple[Schedule, str]:
    """The schedule the program works: its coverage hours and days, with ``teams`` or the
    number of teams its records show working at once."""
    settings = program_settings(con, request.jurisdiction) or {}
    start, end = settings.get("start"), settings.get("end")
    hours = (0, 24) if start is None or end is None else (int(start), int(end) or 24)
    days = settings.get("days") or DAYS
    source = "setting"
    if teams is None:
        teams, source = observed_teams(con, request), "observed in the team's records"
    if teams < 1:
        raise CapacityError(f"{request.jurisdiction}'s records show no team at work in this "
                            "period; give the number of teams (--teams).")
    return Schedule.uniform(teams, hours, parse_days(days)), source


def calibrate(con, request: CapacityRequest, *, teams: int | None = None,
              extra_minutes: float = DEFAULT_EXTRA_MINUTES, max_wait_minutes: float = 0.0,
              runs: int = DEFAULT_RUNS, seed: int = 0, workload: Workload | None = None
              ) -> Calibration:
    """The model's coverage for the program's actual schedule beside what was measured, over
    the same weeks and the same calls (B1's eligible calls in them). ``workload``: the
    eligible-type calls already loaded for the same request (no second scan)."""
    settings = program_settings(con, request.jurisdiction)
    if not settings or settings["launch_date"] is None:
        raise CapacityError(f"{request.jurisdiction} has no launch date: there is no running "
                            "program to calibrate against.")
    w = (workload or load_workload(con, request)).only_eligible()
    if not len(w.arrivals):
        raise CapacityError(f"{request.jurisdiction} has no eligible calls (in coverage hours, "
                            "days and areas) in the modelled weeks to calibrate against.")
    weeks = replace(request, date_from=w.first_day, date_to=w.last_day)
    schedule, source = actual_schedule(con, weeks, teams)
    eligible, responded, no_team = len(w.arrivals), int(w.responded.sum()), int(w.no_team.sum())
    other = eligible - responded - no_team
    model = simulate(w, [schedule], extra_minutes=extra_minutes,
                     max_wait_minutes=max_wait_minutes, runs=runs, seed=seed,
                     need_share=1 - other / eligible)[0]
    cal = Calibration(request.jurisdiction, schedule, source, eligible, responded, no_team,
                      other, model)
    cal.notes = explain_gap(cal, w)
    return cal


def explain_gap(cal: Calibration, workload: Workload) -> list[str]:
    """Sentences saying whether the model reproduces the program, and what may explain why not."""
    pts = abs(cal.gap) * 100
    if cal.reliable:
        return [f"The model is within {pts:.1f} points of the measured coverage: its advice for "
                "this jurisdiction can be relied on as a first estimate."]
    notes = [f"The model's coverage differs from the measured coverage by {pts:.1f} points "
             f"(more than {CALIBRATION_TOLERANCE:.0%}): treat its advice as unreliable until "
             "the gap is explained."]
    capacity_gap = cal.model_no_team_share - cal.measured_no_team_share
    if cal.gap > 0 and capacity_gap < 0:
        notes.append("It predicts fewer 'no team available' misses than were recorded: the "
                     "teams may not all be on shift at all covered hours, may be busy with work "
                     "not in these records (follow-ups, team-initiated contacts), or the "
                     "number of teams read from the records is too high (give the number "
                     "yourself: --teams on the command line).")
    if cal.gap < 0:
        notes.append("It predicts more misses than were recorded: more teams may work at busy "
                     "hours than the records show at once, or calls are shorter than the "
                     "recorded dispatch-to-clear times.")
    if cal.no_team == 0 and cal.eligible - cal.responded > 0:
        notes.append("No miss is recorded as 'no unit available': the reason why eligible "
                     "calls were not served is missing from the dispatch data, so capacity "
                     "misses cannot be told from other losses.")
    if workload.service_source != "team records":
        notes.append("Service times come from police busy time, not the team's own records.")
    return notes
