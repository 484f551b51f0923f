"""The demo cohort's description: the jurisdictions (data/demo/cohort.toml) and the vocabularies
the generator draws from. Nothing here is real data: names, places and figures are invented."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import DataError

COHORT_FILE = Path(__file__).resolve().parent / "cohort.toml"

# Local dates of the data window: [WINDOW_START, WINDOW_END).
WINDOW_START = date(2023, 1, 1)
WINDOW_END = date(2025, 7, 1)
POPULATION_SOURCE = "Demo ACS 2019-23 5-year (fictional)"

RACE_GROUPS = ("hispanic_latino", "white", "black", "asian", "aian", "nhpi", "multiracial",
               "other")
AGE_GROUPS = ("0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
CATEGORIES = ("MENTAL_HEALTH", "WELFARE_CHECK", "INTOXICATION", "SUICIDE_THREAT", "TRESPASS",
              "HOMELESS_ASSIST", "NOISE", "DISORDER", "THEFT", "ASSAULT", "TRAFFIC", "MEDICAL",
              "FIRE", "OTHER")
UNMAPPED = "_UNMAPPED"  # pseudo-category of call types with no category in the crosswalk
CATS_ALL = CATEGORIES + (UNMAPPED,)
NOT_SERVED = ("no unit available", "reassigned to police", "cancelled", "out of hours",
              "resolved by phone")
# A call type's eligibility in the cohort file: absent = the category is a target.
_ELIGIBLE = {"untriaged": None, False: False, True: True}


@dataclass(frozen=True)
class Area:
    name: str
    pop_share: float      # share of the jurisdiction's residents
    call_factor: float    # calls per resident relative to the jurisdiction
    cov_factor: float     # team coverage of eligible calls relative to the jurisdiction
    travel_factor: float  # team response time relative to the jurisdiction
    black_share: float | None = None  # override of the Black share of residents


@dataclass(frozen=True)
class Demo:
    name: str
    slug: str
    state: str
    tz: str
    population: int
    program: str
    team: str
    model: str                       # alternative | co_response
    launch: date
    cov_hours: tuple[int, int]       # local start and end hour
    cov_days: str                    # ISO weekdays
    cov_areas: tuple[str, ...] | None
    targets: tuple[str, ...]
    calls_per_resident: float        # calls per resident per year
    origin_mix: tuple[float, float, float, float]  # 911, non_emergency, officer, other
    origin_raw: tuple[str, str, str, str]
    areas: tuple[Area, ...]
    race: dict                       # residents' race/ethnicity shares
    call_types: tuple                # (local, category, weight[, eligible override])
    cov_base: float                  # share of eligible calls the team reaches
    cov_trend: float                 # change of that share per year of data
    phone_share: float               # of eligible calls the team did not reach
    ar_median: float                 # team response time, minutes (received -> on scene)
    onscene_median: float            # minutes
    contact_rate: float
    backup_rate: float
    arrest_rate: float
    injury_rate: float
    destinations: dict               # transport destination shares of contacts
    referral_rate: float             # contacts with at least one referral
    connected_share: float           # referrals that connect (eventually)
    unknown_race: float
    missing_arrival: float
    self_share: float                # team-initiated responses with no call
    season: float                    # amplitude of the summer peak
    ids: dict                        # id formats
    labels: str                      # 'long' | 'short' label style for *_raw values
    units: dict                      # responder -> unit id prefix in responder_raw
    priority_fmt: str
    teams: int = 1                   # teams on duty in coverage hours (capacity, issue 23)


def load_cohort(path=COHORT_FILE) -> tuple[Demo, ...]:
    """The jurisdictions described in ``path`` (the file's order: the largest first)."""
    with open(path, "rb") as f:
        spec = tomllib.load(f)
    out = []
    for j in spec.get("jurisdiction", []):
        try:
            out.append(_demo(j))
        except (TypeError, KeyError) as e:  # a key missing, misspelt or unknown
            raise DataError(f"{path}: jurisdiction {j.get('name', '?')!r} cannot be read "
                            f"({e}); the keys are listed at the top of the file.") from None
    return tuple(out)


def _demo(j: dict) -> Demo:
    j = dict(j)
    areas = tuple(Area(**a) for a in j.pop("area"))
    ids = j.pop("ids")
    return Demo(**{k: v for k, v in j.items() if k not in ("cov_hours", "cov_areas", "targets",
                                                            "origin_mix", "origin_raw",
                                                            "call_types")},
                areas=areas,
                cov_hours=tuple(j["cov_hours"]),
                cov_areas=tuple(j["cov_areas"]) if "cov_areas" in j else None,
                targets=tuple(j["targets"]),
                origin_mix=tuple(j["origin_mix"]), origin_raw=tuple(j["origin_raw"]),
                call_types=tuple(_call_type(*t) for t in j["call_types"]),
                ids={"call": tuple(ids["call"]), "response": tuple(ids["response"]),
                     "referral": tuple(ids["referral"])})


def _call_type(local, category, weight=1.0, eligible="auto"):
    """(local wording, category, weight, eligibility: 'auto' from the targets, else fixed)."""
    return (local, category, weight, eligible if eligible == "auto" else _ELIGIBLE[eligible])


DEMOS: tuple[Demo, ...] = load_cohort()
