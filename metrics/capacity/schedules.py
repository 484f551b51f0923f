"""Schedules: teams on duty per weekday x local hour, from presets, short forms and TOML."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass

import numpy as np

from ..errors import CapacityError

WEEK_S = 7 * 86_400
HOURS_PER_WEEK = 168
DAYS = "1234567"
MAX_TEAMS = 40          # the reverse search stops here


@dataclass(frozen=True)
class Shift:
    teams: int
    start: int = 0      # local hour, 0-23
    end: int = 24       # exclusive, 1-24; end <= start wraps past midnight
    days: str = DAYS    # ISO weekdays the shift *starts* on

    def __post_init__(self):
        if not (0 <= self.start <= 23 and 1 <= self.end <= 24):
            raise CapacityError(f"Hours {self.start}-{self.end} are not hours of a day: use "
                                "a start from 0 to 23 and an end from 1 to 24, such as 8-20.")
        if self.teams < 0 or not self.days or set(self.days) - set(DAYS):
            raise CapacityError(f"A shift needs zero or more teams and weekdays from 1 "
                                f"(Monday) to 7 (Sunday), not {self.teams} teams on {self.days!r}.")

    def spec(self) -> str:
        return f"{self.teams}x{self.start}-{self.end}x{self.days}"


@dataclass(frozen=True)
class Schedule:
    """Teams on duty in each hour of the week: index (ISO weekday - 1) * 24 + local hour."""
    teams: tuple[int, ...]
    label: str = ""

    @classmethod
    def of(cls, shifts, label: str = "") -> "Schedule":
        grid = np.zeros(HOURS_PER_WEEK, dtype=np.int64)
        for s in shifts:
            length = (s.end - s.start) % 24 or 24
            for d in s.days:
                first = (int(d) - 1) * 24 + s.start
                grid[np.arange(first, first + length) % HOURS_PER_WEEK] += s.teams
        return cls(tuple(int(x) for x in grid), label or " + ".join(_words(s) for s in shifts))

    @classmethod
    def uniform(cls, teams: int, hours: tuple[int, int] = (0, 24), days: str = DAYS
                ) -> "Schedule":
        return cls.of([Shift(teams, hours[0], hours[1], days)])

    @property
    def team_hours_per_week(self) -> int:
        return sum(self.teams)

    @property
    def max_teams(self) -> int:
        return max(self.teams)

    def grid(self) -> list[list[int]]:
        """7 rows (Monday first) of 24 hours."""
        return [list(self.teams[d * 24:(d + 1) * 24]) for d in range(7)]


def _words(s: Shift) -> str:
    team = "team" if s.teams == 1 else "teams"
    hours = "around the clock" if (s.end - s.start) % 24 == 0 else f"{s.start}-{s.end}"
    days = "every day" if s.days == DAYS else "weekdays" if s.days == "12345" else \
        f"days {s.days}"
    return f"{s.teams} {team} {hours} {days}"


def parse_hours(text: str) -> tuple[int, int]:
    """'8-20' -> (8, 20); '19-7' wraps past midnight; '0-24' is around the clock."""
    try:
        start, end = (int(p) for p in str(text).split("-"))
    except ValueError:
        raise CapacityError(f"{text!r} is not hours like 8-20 (from 8:00 to 20:00).") from None
    Shift(1, start, end)  # checks the range
    return start, end


def parse_days(text: str) -> str:
    days = "".join(sorted(set(str(text))))
    if not days or set(days) - set(DAYS):
        raise CapacityError(f"{text!r} is not weekdays like 12345 (1 = Monday, 7 = Sunday).")
    return days


def parse_spec(spec: str) -> Schedule:
    """A schedule from its short form, shifts joined by '+': '2x8-20x1234567+1x20-24x56'."""
    shifts = []
    for part in (spec or "").split("+"):
        try:
            teams, hours, days = part.split("x")
            shifts.append(Shift(int(teams), *parse_hours(hours), parse_days(days)))
        except ValueError:
            raise CapacityError(f"{part!r} is not a shift like 2x8-20x1234567 (teams x hours "
                                "x weekdays).") from None
    return Schedule.of(shifts)


def spec_of(shifts) -> str:
    return "+".join(s.spec() for s in shifts)


def schedule_from_toml(text: str, source: str = "the schedule file") -> Schedule:
    """A schedule file: one ``[[shift]]`` table per shift (teams, hours, days); shifts add up.

    ```toml
    [[shift]]
    teams = 2
    hours = "8-20"
    days = "1234567"
    ```
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CapacityError(f"{source} is not TOML: {e}.") from None
    rows = doc.get("shift")
    if not isinstance(rows, list) or not rows:
        raise CapacityError(f"{source} has no [[shift]] table; give each shift its teams, "
                            "hours and days.")
    shifts = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row.get("teams"), int):
            raise CapacityError(f"Shift {i} in {source} needs a whole number of teams.")
        shifts.append(Shift(row["teams"], *parse_hours(row.get("hours", "0-24")),
                            parse_days(row.get("days", DAYS))))
    return Schedule.of(shifts)
