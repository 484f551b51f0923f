"""The demo cohort: five fictional jurisdictions, generated into the canonical tables.

``populate_demo`` writes two and a half years of calls, team responses, referrals, population
denominators, jurisdiction settings and call-type crosswalks straight into an open database, in
one transaction, with one ``imports`` ledger row per (jurisdiction, kind) so that every row has
an import id like imported data. Everything is drawn from ``numpy.random.default_rng(seed)`` in
whole arrays (no Python loop per row) and handed to DuckDB as Arrow tables; DuckDB converts
wall-clock times to instants in each jurisdiction's time zone. The same seed gives the same
tables.

The rates are anchored to the published figures in DOMAIN.md §4 and differ between
jurisdictions on purpose, so that the charts tell a story: two programs launch inside the data
window, one is a co-response model with a high hospital share, coverage is lower in one area
with more Black residents, a few call types are left out of the crosswalk ("unmapped") and a
few are not triaged (eligibility unknown). Each program has a number of teams, and a team
takes a call only when one is free (``_free_team``): its "no unit available" misses and its
coverage come from its capacity, so the capacity model (metrics/capacity/) can be
calibrated on the demo as on a real program.

``generate_calls_csv`` writes a raw CAD export (text timestamps, local labels) of any size with
one DuckDB ``COPY`` from a generated relation; the import benchmark uses it.

Nothing here is real data: names, places, people and figures are invented.
"""
from __future__ import annotations

import hashlib
import heapq
import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import facts
from .links import refresh_links
from .errors import DataError
from .schema import ID_FIELD, MAIN_TIME, TIME_ORDER, VALUE_SETS, record_columns

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
_UNMAPPED = "_UNMAPPED"  # pseudo-category of call types left out of the crosswalk on purpose
_CATS_ALL = CATEGORIES + ("_UNMAPPED",)
NOT_SERVED = ("no unit available", "reassigned to police", "cancelled", "out of hours",
              "resolved by phone")


# --------------------------------------------------------------------------------------------
# The five jurisdictions
# --------------------------------------------------------------------------------------------

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


def _t(local, category, weight=1.0, eligible="auto"):
    return (local, category, weight, eligible)


DEMOS: tuple[Demo, ...] = (
    Demo(
        name="Riverton", slug="riverton", state="IL", tz="America/Chicago", population=912_400,
        program="Riverton Community Response Team", team="RCRT", model="alternative",
        launch=date(2022, 5, 2), cov_hours=(7, 23), cov_days="1234567", cov_areas=None,
        targets=("MENTAL_HEALTH", "WELFARE_CHECK", "INTOXICATION", "HOMELESS_ASSIST",
                 "SUICIDE_THREAT"),
        calls_per_resident=0.100, origin_mix=(0.70, 0.09, 0.20, 0.01),
        origin_raw=("911", "NON-EMERGENCY", "ON VIEW", "ALARM CO"),
        areas=(Area("Downtown", 0.09, 1.9, 1.05, 0.80),
               Area("Northside", 0.16, 0.9, 1.04, 1.00),
               Area("Eastgate", 0.14, 1.0, 1.02, 1.00),
               Area("Southport", 0.15, 1.25, 0.72, 1.15, black_share=0.62),
               Area("West End", 0.13, 1.0, 1.05, 1.00),
               Area("Lakeshore", 0.12, 0.8, 1.06, 0.95),
               Area("Millrace", 0.11, 0.9, 1.00, 1.10),
               Area("Oak Park", 0.10, 0.7, 1.02, 1.20)),
        race={"hispanic_latino": 0.24, "white": 0.38, "black": 0.26, "asian": 0.07,
              "aian": 0.003, "nhpi": 0.001, "multiracial": 0.035, "other": 0.011},
        call_types=(
            _t("MENTAL HEALTH CRISIS", "MENTAL_HEALTH", 3),
            _t("PERSON IN CRISIS", "MENTAL_HEALTH", 2),
            _t("WELFARE CHECK", "WELFARE_CHECK"),
            _t("SUICIDAL PERSON", "SUICIDE_THREAT", 3),
            _t("SUICIDE THREAT - WEAPON", "SUICIDE_THREAT", 1, False),
            _t("INTOXICATED PERSON", "INTOXICATION"), _t("UNHOUSED ASSIST", "HOMELESS_ASSIST"),
            _t("TRESPASS", "TRESPASS"), _t("NOISE COMPLAINT", "NOISE", 3),
            _t("LOUD PARTY", "NOISE", 1), _t("DISTURBANCE", "DISORDER", 3),
            _t("FIGHT", "DISORDER", 1), _t("THEFT", "THEFT", 3), _t("BURGLARY", "THEFT", 1),
            _t("SHOPLIFTING", "THEFT", 1), _t("ASSAULT", "ASSAULT", 2),
            _t("DOMESTIC DISTURBANCE", "ASSAULT", 2), _t("TRAFFIC STOP", "TRAFFIC", 3),
            _t("TRAFFIC ACCIDENT", "TRAFFIC", 2), _t("HIT AND RUN", "TRAFFIC", 0.5),
            _t("MEDICAL EMERGENCY", "MEDICAL", 4), _t("OVERDOSE", "MEDICAL", 1),
            _t("FALL", "MEDICAL", 1), _t("STRUCTURE FIRE", "FIRE", 1),
            _t("FIRE ALARM", "FIRE", 2), _t("SUSPICIOUS PERSON", "OTHER", 1.2, None),
            _t("ALARM", "OTHER", 2), _t("FOLLOW UP", "OTHER", 1),
            _t("PARKING COMPLAINT", "OTHER", 1), _t("ANIMAL COMPLAINT", "OTHER", 1),
            _t("PUBLIC ASSIST MISC", _UNMAPPED, 1), _t("CHECK AREA", _UNMAPPED, 1)),
        cov_base=0.47, cov_trend=0.05, phone_share=0.10, ar_median=16.0, onscene_median=42.0,
        contact_rate=0.90, backup_rate=0.011, arrest_rate=0.0022, injury_rate=0.003,
        destinations={"emergency_department": 0.08, "crisis_center": 0.07,
                      "sobering_detox": 0.04, "shelter": 0.03, "other": 0.01},
        referral_rate=0.52, connected_share=0.53, unknown_race=0.08, missing_arrival=0.03,
        self_share=0.05, season=0.12,
        ids={"call": ("RV", "%y", "", 7), "response": ("RCRT-", "%y", "-", 5),
             "referral": ("RCRT-R", 6)},
        labels="long", units={"police": "P", "fire": "E", "ems": "M", "alternative": "RCRT",
                              "co_response": "CR", "phone": "CLIN"},
        priority_fmt="{}",
        teams=3,
    ),
    Demo(
        name="Cedar Falls", slug="cedar-falls", state="CO", tz="America/Denver",
        population=421_700, program="Cedar Falls CARE Team", team="CARE", model="alternative",
        launch=date(2023, 9, 5), cov_hours=(0, 24), cov_days="1234567", cov_areas=None,
        targets=("MENTAL_HEALTH", "WELFARE_CHECK", "INTOXICATION", "HOMELESS_ASSIST",
                 "TRESPASS", "SUICIDE_THREAT"),
        calls_per_resident=0.120, origin_mix=(0.68, 0.12, 0.19, 0.01),
        origin_raw=("E911", "Phone", "Officer Initiated", "Walk-in"),
        areas=(Area("Civic Center", 0.12, 1.6, 1.05, 0.85),
               Area("Cedar Heights", 0.19, 0.9, 1.03, 1.00),
               Area("Falls Park", 0.18, 1.0, 1.02, 1.00),
               Area("Sunnyside", 0.17, 1.15, 0.85, 1.05, black_share=0.27),
               Area("Westridge", 0.18, 0.8, 1.04, 1.10),
               Area("Rockmont", 0.16, 0.8, 1.00, 1.25)),
        race={"hispanic_latino": 0.28, "white": 0.53, "black": 0.09, "asian": 0.04,
              "aian": 0.007, "nhpi": 0.002, "multiracial": 0.045, "other": 0.006},
        call_types=(
            _t("Behavioral Health", "MENTAL_HEALTH", 3), _t("Psych Subject", "MENTAL_HEALTH", 1),
            _t("Check Welfare", "WELFARE_CHECK"), _t("Suicidal Subject", "SUICIDE_THREAT", 3),
            _t("Suicidal w/ Weapon", "SUICIDE_THREAT", 1, False),
            _t("Intoxicated Subject", "INTOXICATION"), _t("Homeless Assist", "HOMELESS_ASSIST"),
            _t("Trespassing", "TRESPASS"), _t("Loud Noise", "NOISE"),
            _t("Disturbance", "DISORDER", 2), _t("Fight in Progress", "DISORDER", 1),
            _t("Larceny", "THEFT", 3), _t("Burglary", "THEFT", 1), _t("Auto Theft", "THEFT", 1),
            _t("Assault", "ASSAULT", 2), _t("Domestic Violence", "ASSAULT", 2),
            _t("Traffic Stop", "TRAFFIC", 3), _t("Crash w/ Injury", "TRAFFIC", 1),
            _t("Crash No Injury", "TRAFFIC", 2), _t("Medical Call", "MEDICAL", 4),
            _t("Overdose", "MEDICAL", 1), _t("Fire", "FIRE", 1), _t("Alarm - Fire", "FIRE", 2),
            _t("Suspicious Circumstances", "OTHER", 1.2, None), _t("Alarm - Burglary", "OTHER", 2),
            _t("Found Property", "OTHER", 1), _t("Civil Matter", "OTHER", 1),
            _t("Assist Other Agency", _UNMAPPED, 1), _t("Extra Patrol", _UNMAPPED, 1)),
        cov_base=0.62, cov_trend=0.0, phone_share=0.12, ar_median=13.0, onscene_median=38.0,
        contact_rate=0.93, backup_rate=0.004, arrest_rate=0.0010, injury_rate=0.002,
        destinations={"emergency_department": 0.05, "crisis_center": 0.05,
                      "sobering_detox": 0.05, "shelter": 0.04, "other": 0.01},
        referral_rate=0.58, connected_share=0.57, unknown_race=0.10, missing_arrival=0.02,
        self_share=0.07, season=0.14,
        ids={"call": ("CF-", "%Y", "-", 6), "response": ("CARE", "%Y", "", 5),
             "referral": ("CR-", 6)},
        labels="mixed", units={"police": "CFPD", "fire": "ENG", "ems": "MED",
                               "alternative": "CARE", "co_response": "CR", "phone": "911-CLIN"},
        priority_fmt="P{}",
        teams=2,
    ),
    Demo(
        name="Port Avalon", slug="port-avalon", state="WA", tz="America/Los_Angeles",
        population=262_300, program="Port Avalon Crisis Co-Responder Program", team="PACR",
        model="co_response", launch=date(2021, 10, 1), cov_hours=(10, 18), cov_days="12345",
        cov_areas=None, targets=("MENTAL_HEALTH", "SUICIDE_THREAT", "WELFARE_CHECK"),
        calls_per_resident=0.130, origin_mix=(0.66, 0.08, 0.25, 0.01),
        origin_raw=("911", "TELEPHONE", "ONVIEW", "OTHER"),
        areas=(Area("Harborfront", 0.18, 1.4, 1.00, 0.90),
               Area("Old Port", 0.20, 1.1, 1.02, 1.00),
               Area("Northgate", 0.22, 0.9, 1.00, 1.05),
               Area("Bayview", 0.21, 0.9, 0.98, 1.05),
               Area("Avalon Heights", 0.19, 0.7, 1.00, 1.20)),
        race={"hispanic_latino": 0.12, "white": 0.58, "black": 0.08, "asian": 0.13,
              "aian": 0.01, "nhpi": 0.01, "multiracial": 0.06, "other": 0.0},
        call_types=(
            _t("EDP", "MENTAL_HEALTH", 3), _t("MNTL", "MENTAL_HEALTH", 1),
            _t("WELCHK", "WELFARE_CHECK"), _t("SUICTHRT", "SUICIDE_THREAT", 2),
            _t("SUICWPN", "SUICIDE_THREAT", 1, False), _t("INTOX", "INTOXICATION"),
            _t("VAG", "HOMELESS_ASSIST"), _t("TRESPASS", "TRESPASS"), _t("NOISE", "NOISE"),
            _t("DISORD", "DISORDER", 2), _t("FIGHT", "DISORDER", 1), _t("THEFT", "THEFT", 2),
            _t("BURG", "THEFT", 1), _t("ASLT", "ASSAULT", 2), _t("DV", "ASSAULT", 1),
            _t("TS", "TRAFFIC", 3), _t("MVA", "TRAFFIC", 2), _t("MED", "MEDICAL", 4),
            _t("OD", "MEDICAL", 1), _t("FIRE", "FIRE", 1), _t("FALRM", "FIRE", 2),
            _t("SUSP", "OTHER", 1, None), _t("CITASST", "OTHER", 2), _t("ALRM", "OTHER", 2),
            _t("PARK", "OTHER", 1), _t("PREMCHK", _UNMAPPED, 1), _t("XTRA", _UNMAPPED, 1)),
        cov_base=0.56, cov_trend=0.0, phone_share=0.0, ar_median=17.0, onscene_median=52.0,
        contact_rate=0.94, backup_rate=0.003, arrest_rate=0.0020, injury_rate=0.004,
        destinations={"emergency_department": 0.44, "crisis_center": 0.08,
                      "sobering_detox": 0.02, "shelter": 0.01, "other": 0.01},
        referral_rate=0.45, connected_share=0.51, unknown_race=0.18, missing_arrival=0.04,
        self_share=0.03, season=0.08,
        ids={"call": ("PA", "%y", "-", 6), "response": ("CRP", "%y", "", 5),
             "referral": ("PAR", 5)},
        labels="short", units={"police": "3A", "fire": "E", "ems": "A", "alternative": "CRT",
                               "co_response": "CRP", "phone": "CLIN"},
        priority_fmt="{}",
        teams=1,
    ),
    Demo(
        name="Millbrook", slug="millbrook", state="AZ", tz="America/Phoenix",
        population=151_900, program="Millbrook Crisis Assistance Network", team="MCAN",
        model="alternative", launch=date(2024, 4, 15), cov_hours=(8, 20), cov_days="1234567",
        cov_areas=("Old Town", "Riverside", "Mill District", "North Hill"),
        targets=("MENTAL_HEALTH", "WELFARE_CHECK", "HOMELESS_ASSIST", "TRESPASS", "NOISE",
                 "INTOXICATION"),
        calls_per_resident=0.140, origin_mix=(0.71, 0.10, 0.18, 0.01),
        origin_raw=("9-1-1", "Non Emergency", "Self Initiated", "Text"),
        areas=(Area("Old Town", 0.22, 1.5, 1.00, 0.90),
               Area("Riverside", 0.24, 1.0, 1.02, 1.00),
               Area("Mill District", 0.20, 1.1, 0.98, 1.00),
               Area("North Hill", 0.20, 0.8, 1.00, 1.10),
               Area("Brookside Township", 0.14, 0.7, 1.00, 1.40)),
        race={"hispanic_latino": 0.35, "white": 0.50, "black": 0.05, "asian": 0.04,
              "aian": 0.025, "nhpi": 0.002, "multiracial": 0.03, "other": 0.003},
        call_types=(
            _t("25 - Mental Subject", "MENTAL_HEALTH"), _t("24 - Welfare Check", "WELFARE_CHECK"),
            _t("26 - Suicide Attempt/Threat", "SUICIDE_THREAT"),
            _t("31 - Intoxicated Person", "INTOXICATION"),
            _t("27 - Homeless Outreach", "HOMELESS_ASSIST"), _t("34 - Trespass", "TRESPASS"),
            _t("33 - Noise Complaint", "NOISE"), _t("32 - Disorderly Conduct", "DISORDER"),
            _t("40 - Theft", "THEFT", 2), _t("41 - Burglary", "THEFT", 1),
            _t("45 - Assault", "ASSAULT"), _t("46 - Domestic", "ASSAULT"),
            _t("50 - Traffic Stop", "TRAFFIC", 3), _t("51 - Traffic Collision", "TRAFFIC", 2),
            _t("10 - Medical", "MEDICAL"), _t("11 - Fire", "FIRE"),
            _t("60 - Suspicious", "OTHER", 1, None), _t("61 - Alarm", "OTHER", 2),
            _t("62 - Citizen Assist", "OTHER", 1), _t("69 - Misc", "OTHER", 1),
            _t("99 - Unknown Problem", _UNMAPPED, 1)),
        cov_base=0.70, cov_trend=0.0, phone_share=0.06, ar_median=12.5, onscene_median=48.0,
        contact_rate=0.88, backup_rate=0.008, arrest_rate=0.0015, injury_rate=0.003,
        destinations={"emergency_department": 0.12, "crisis_center": 0.06,
                      "sobering_detox": 0.03, "shelter": 0.03, "other": 0.01},
        referral_rate=0.48, connected_share=0.54, unknown_race=0.12, missing_arrival=0.03,
        self_share=0.06, season=0.05,
        ids={"call": ("", "%y", "-", 6), "response": ("MCAN-", "%Y", "-", 4),
             "referral": ("MB-REF-", 5)},
        labels="mixed", units={"police": "MPD", "fire": "E", "ems": "R", "alternative": "MCAN",
                               "co_response": "CR", "phone": "CLIN"},
        priority_fmt="Priority {}",
        teams=2,
    ),
    Demo(
        name="Harbor County", slug="harbor-county", state="NC", tz="America/New_York",
        population=80_600, program="Harbor County Mobile Crisis Team", team="HCMCT",
        model="alternative", launch=date(2023, 3, 1), cov_hours=(9, 21), cov_days="1234567",
        cov_areas=None, targets=("MENTAL_HEALTH", "WELFARE_CHECK", "SUICIDE_THREAT",
                                 "INTOXICATION"),
        calls_per_resident=0.160, origin_mix=(0.74, 0.10, 0.15, 0.01),
        origin_raw=("911", "ADMIN LINE", "FIELD INITIATED", "RADIO"),
        areas=(Area("Harbor City", 0.40, 1.3, 1.00, 0.90),
               Area("Bayside", 0.25, 1.0, 1.00, 1.00),
               Area("Pine Hollow", 0.20, 0.7, 0.90, 1.45),
               Area("Marsh Point", 0.15, 0.7, 0.88, 1.55)),
        race={"hispanic_latino": 0.10, "white": 0.62, "black": 0.22, "asian": 0.02,
              "aian": 0.01, "nhpi": 0.001, "multiracial": 0.025, "other": 0.004},
        call_types=(
            _t("MENTAL", "MENTAL_HEALTH"), _t("WELF", "WELFARE_CHECK"),
            _t("SUICIDE", "SUICIDE_THREAT", 2), _t("SUI-WPN", "SUICIDE_THREAT", 1, False),
            _t("DRUNK", "INTOXICATION"), _t("TRANSIENT", "HOMELESS_ASSIST"),
            _t("TRESP", "TRESPASS"), _t("NOISE", "NOISE"), _t("DISTURB", "DISORDER"),
            _t("THEFT", "THEFT", 2), _t("B&E", "THEFT", 1), _t("ASSAULT", "ASSAULT"),
            _t("DOMESTIC", "ASSAULT"), _t("TRAFFIC", "TRAFFIC", 3),
            _t("ACCIDENT", "TRAFFIC", 2), _t("MEDICAL", "MEDICAL"), _t("FIRE", "FIRE"),
            _t("SUSPICIOUS", "OTHER", 1, None), _t("ALARM", "OTHER", 2),
            _t("CIVIL", "OTHER", 1), _t("ANIMAL", "OTHER", 1), _t("MISC", _UNMAPPED, 1),
            _t("INFO", _UNMAPPED, 1)),
        cov_base=0.45, cov_trend=0.03, phone_share=0.0, ar_median=17.5, onscene_median=55.0,
        contact_rate=0.86, backup_rate=0.012, arrest_rate=0.0015, injury_rate=0.005,
        destinations={"emergency_department": 0.18, "crisis_center": 0.03,
                      "sobering_detox": 0.01, "shelter": 0.01, "other": 0.02},
        referral_rate=0.42, connected_share=0.50, unknown_race=0.22, missing_arrival=0.05,
        self_share=0.04, season=0.10,
        ids={"call": ("HC", "%Y", "", 6), "response": ("HCMCT", "%y", "-", 4),
             "referral": ("HCR", 5)},
        labels="short", units={"police": "HCSO", "fire": "F", "ems": "EMS",
                               "alternative": "MCT", "co_response": "CR", "phone": "CLIN"},
        priority_fmt="{}",
        teams=1,
    ),
)

# Category mix of public-initiated and officer-initiated calls (relative weights).
_PUBLIC_MIX = {"TRAFFIC": 10, "THEFT": 9, "DISORDER": 9, "ASSAULT": 5, "MEDICAL": 14, "FIRE": 3,
               "NOISE": 6, "WELFARE_CHECK": 9, "MENTAL_HEALTH": 6, "SUICIDE_THREAT": 2,
               "INTOXICATION": 3, "TRESPASS": 5, "HOMELESS_ASSIST": 3, "OTHER": 15,
               _UNMAPPED: 0.8}
_OFFICER_MIX = {"TRAFFIC": 42, "THEFT": 5, "DISORDER": 9, "ASSAULT": 2, "MEDICAL": 1,
                "FIRE": 0.2, "NOISE": 2, "WELFARE_CHECK": 4, "MENTAL_HEALTH": 1.5,
                "SUICIDE_THREAT": 0.3, "INTOXICATION": 3, "TRESPASS": 7, "HOMELESS_ASSIST": 2.5,
                "OTHER": 20, _UNMAPPED: 0.6}
_NIGHT = {"NOISE": 2.5, "INTOXICATION": 1.8, "DISORDER": 1.5, "ASSAULT": 1.4,
          "WELFARE_CHECK": 0.8, "HOMELESS_ASSIST": 0.7, "TRAFFIC": 0.8}
_PRIORITY = {"ASSAULT": 1, "FIRE": 1, "MEDICAL": 1, "SUICIDE_THREAT": 1, "TRAFFIC": 2,
             "MENTAL_HEALTH": 2, "DISORDER": 2, "WELFARE_CHECK": 3, "INTOXICATION": 3,
             "THEFT": 3, "TRESPASS": 3, "OTHER": 3, "HOMELESS_ASSIST": 4, "NOISE": 4,
             _UNMAPPED: 4}
_HOUR_PROFILE = np.array([0.55, 0.45, 0.38, 0.32, 0.28, 0.30, 0.42, 0.60, 0.80, 0.95, 1.05,
                          1.10, 1.15, 1.18, 1.22, 1.28, 1.32, 1.32, 1.28, 1.20, 1.10, 1.00, 0.88,
                          0.70])
_WEEKDAY_PROFILE = np.array([1.00, 0.98, 0.98, 1.00, 1.08, 1.06, 0.92])  # Monday first

# Reasons for dispatch (responses.reasons) by call category.
_REASON = {"MENTAL_HEALTH": "Mental health crisis", "WELFARE_CHECK": "Welfare check",
           "INTOXICATION": "Intoxication", "SUICIDE_THREAT": "Suicidal ideation",
           "TRESPASS": "Trespass / unwanted person", "HOMELESS_ASSIST": "Unhoused - basic needs",
           "NOISE": "Noise / nuisance", "DISORDER": "Disturbance", "OTHER": "Other"}
_SECOND_REASONS = ("Substance use", "Housing needs", "Medical needs", "Resource connection",
                   "Conflict mediation")
_SERVICE_TYPES = ("mental_health", "substance_use", "housing_shelter", "medical", "benefits_id",
                  "other")
_SERVICE_MIX = {
    "MENTAL_HEALTH": (0.55, 0.12, 0.10, 0.08, 0.08, 0.07),
    "SUICIDE_THREAT": (0.70, 0.08, 0.06, 0.08, 0.04, 0.04),
    "INTOXICATION": (0.15, 0.55, 0.12, 0.08, 0.05, 0.05),
    "HOMELESS_ASSIST": (0.10, 0.08, 0.50, 0.07, 0.20, 0.05),
    None: (0.30, 0.15, 0.20, 0.10, 0.15, 0.10),
}
_CONTACT_OUTCOMES = ("resolved_on_scene", "referred", "refused", "other")
_CONTACT_OUTCOME_P = (0.72, 0.14, 0.11, 0.03)
_DESTINATIONS = ("none", "emergency_department", "crisis_center", "sobering_detox", "shelter",
                 "other")
_AGE_MIX = (0.04, 0.11, 0.24, 0.23, 0.17, 0.13, 0.08)
_GENDERS = ("male", "female", "nonbinary", "other", "unknown")
_GENDER_MIX = (0.58, 0.385, 0.015, 0.005, 0.015)
# Over-representation of groups among people the teams meet, relative to residents.
_CONTACT_RACE_FACTOR = {"hispanic_latino": 0.9, "white": 1.0, "black": 1.8, "asian": 0.45,
                        "aian": 2.0, "nhpi": 1.2, "multiracial": 1.1, "other": 1.0}

# Original labels written beside the standard codes (*_raw), by label style.
_RAW = {
    "long": {
        "race_ethnicity": {"hispanic_latino": "Hispanic or Latino", "white": "White",
                           "black": "Black or African American", "asian": "Asian",
                           "aian": "American Indian or Alaska Native",
                           "nhpi": "Native Hawaiian or Other Pacific Islander",
                           "multiracial": "Two or more races", "other": "Some other race",
                           "unknown": "Unknown"},
        "gender": {"male": "Male", "female": "Female", "nonbinary": "Non-binary",
                   "other": "Other", "unknown": "Unknown"},
        "outcome": {"resolved_on_scene": "Resolved on scene", "transported": "Transported",
                    "referred": "Referred to services", "refused": "Refused services",
                    "unable_to_locate": "Unable to locate", "cancelled": "Cancelled en route",
                    "other": "Other"},
        "transport_destination": {"none": "None", "emergency_department": "Emergency Department",
                                  "crisis_center": "Crisis Center",
                                  "sobering_detox": "Sobering Center", "shelter": "Shelter",
                                  "other": "Other"},
    },
    "mixed": {
        "race_ethnicity": {"hispanic_latino": "Hispanic/Latino", "white": "White",
                           "black": "Black", "asian": "Asian", "aian": "Native American",
                           "nhpi": "Pacific Islander", "multiracial": "Multiracial",
                           "other": "Other", "unknown": "Not recorded"},
        "gender": {"male": "Man", "female": "Woman", "nonbinary": "Nonbinary", "other": "Other",
                   "unknown": "Unknown"},
        "outcome": {"resolved_on_scene": "Remained in community", "transported": "Transport",
                    "referred": "Referred", "refused": "Client declined to engage",
                    "unable_to_locate": "Unable to locate client",
                    "cancelled": "Dispatch canceled before arrival", "other": "Other"},
        "transport_destination": {"none": "No transport",
                                  "emergency_department": "Emergency Room",
                                  "crisis_center": "Crisis Walk-in Center",
                                  "sobering_detox": "Sobering/Detox Facility",
                                  "shelter": "Shelter", "other": "Other"},
    },
    "short": {
        "race_ethnicity": {"hispanic_latino": "H", "white": "W", "black": "B", "asian": "A",
                           "aian": "I", "nhpi": "P", "multiracial": "M", "other": "O",
                           "unknown": "U"},
        "gender": {"male": "M", "female": "F", "nonbinary": "X", "other": "O", "unknown": "U"},
        "outcome": {"resolved_on_scene": "RESOLVED", "transported": "TRANSPORT",
                    "referred": "REFERRAL", "refused": "REFUSED", "unable_to_locate": "GOA",
                    "cancelled": "CXL", "other": "OTHER"},
        "transport_destination": {"none": "NONE", "emergency_department": "ED",
                                  "crisis_center": "CRISIS CTR", "sobering_detox": "DETOX",
                                  "shelter": "SHELTER", "other": "OTHER"},
    },
}
_SERVICE_RAW = {"mental_health": "Behavioral Health", "substance_use": "Substance Use",
                "housing_shelter": "Housing/Shelter", "medical": "Medical",
                "benefits_id": "Benefits/ID", "other": "Other"}
_STATUS_RAW = {"made": "Referral made", "connected": "Connected", "declined": "Declined",
               "unknown": "Unknown"}
_MODEL_RAW = {"alternative": "Alternative response", "co_response": "Co-responder"}
_POLICE_DISPOS = ("REPORT TAKEN", "ADVISED", "GONE ON ARRIVAL", "ASSISTED", "NO ACTION",
                  "ARREST")
_POLICE_DISPO_P = (0.22, 0.30, 0.12, 0.20, 0.13, 0.03)
_MEDICAL_DISPOS = ("TRANSPORTED", "TREATED AND RELEASED", "REFUSED CARE", "CANCELLED")
_MEDICAL_DISPO_P = (0.55, 0.20, 0.18, 0.07)


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------

def populate_demo(con, seed: int = 0, scale: float = 1.0) -> dict[str, int]:
    """Write the demo cohort into the canonical tables of ``con``; return rows per table.

    One transaction: all of it or nothing. Refuses (DataError) when a demo jurisdiction is
    already in the database. ``scale`` multiplies the call volume (1.0: about 520,000 calls).
    """
    if scale <= 0:
        raise DataError("scale must be positive.")
    names = [d.name for d in DEMOS]
    present = [r[0] for r in con.execute(
        "SELECT jurisdiction FROM jurisdictions WHERE list_contains(?::VARCHAR[], jurisdiction)"
        " UNION SELECT DISTINCT jurisdiction FROM calls "
        "WHERE list_contains(?::VARCHAR[], jurisdiction) ORDER BY 1", [names, names]).fetchall()]
    if present:
        raise DataError(f"The demo cohort is already loaded (found {', '.join(present)}); use "
                        "a fresh database file (--db) to load it again.")
    rng = np.random.default_rng(seed)
    gens = [_generate(d, rng, scale) for d in DEMOS]
    con.begin()
    registered = []
    try:
        ids = {}
        for d in DEMOS:
            for kind in ("calls", "responses", "referrals", "population"):
                ids[(d.name, kind)] = con.execute("SELECT nextval('import_seq')").fetchall()[0][0]
        registered = _register(con, gens, ids)
        counts = _write(con, ids, seed)
        refresh_links(con)
        facts.refresh(con)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        for name in registered:
            try:
                con.unregister(name)
            except Exception:  # pragma: no cover - the view is gone with the transaction
                pass
    return counts


def generate_calls_csv(path, n_calls: int, seed: int = 0) -> Path:
    """Write a raw CAD export of ``n_calls`` calls to ``path`` (CSV, one row per call).

    Headers: Call Number, Received, Dispatched, Arrived, Cleared, Call Type, Priority, Origin,
    Responder, Disposition, Beat. Times are local wall-clock text ``MM/DD/YYYY HH:MM:SS``
    spread over three years from 2022-01-01 following the hour-of-day profile, in order of the
    call number; a few per cent of arrivals are blank. Generated by one DuckDB COPY from a
    relation over ``range(n_calls)`` with hash-based random numbers, so the file is the same
    for the same seed and size, on any number of threads.
    """
    import duckdb

    n_calls = int(n_calls)
    if n_calls < 1:
        raise DataError("n_calls must be at least 1.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    try:
        con.execute("SET TimeZone = 'UTC'")
        sql = _csv_sql(n_calls, int(seed))
        target = str(path).replace("'", "''")
        con.execute(f"COPY ({sql}) TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',')")
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------------------------
# Generation (numpy), one jurisdiction at a time
# --------------------------------------------------------------------------------------------

def _lognormal(rng, median, sigma, size):
    return median * np.exp(sigma * rng.standard_normal(size))


def _choice(rng, p, size):
    """Indices drawn with probabilities ``p`` (inverse CDF on one uniform draw per row)."""
    cum = np.cumsum(np.asarray(p, dtype=float))
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(cum) - 1)


def _epoch_s(d: date) -> int:
    return int((np.datetime64(d, "s") - np.datetime64("1970-01-01T00:00:00", "s"))
               .astype(np.int64))


def _in_hours(hour, dow_iso, d: Demo):
    start, end = d.cov_hours
    if start < end:
        ok = (hour >= start) & (hour < end)
    else:
        ok = (hour >= start) | (hour < end)
    days = np.array([str(i) in d.cov_days for i in range(8)])
    return ok & days[dow_iso]


def _generate(d: Demo, rng, scale) -> dict:
    """All arrays of one jurisdiction: calls, responses, referrals, population."""
    g = {"demo": d}
    _gen_calls(d, rng, scale, g)
    _gen_responses(d, rng, g)
    _gen_people(d, rng, g)
    _gen_referrals(d, rng, g)
    _finish_calls(d, rng, g)
    g["population"] = _gen_population(d, rng)
    return g


def _gen_calls(d: Demo, rng, scale, g):
    start_s, end_s = _epoch_s(WINDOW_START), _epoch_s(WINDOW_END)
    hours = np.arange(start_s, end_s, 3600, dtype=np.int64)
    days = hours // 86400
    hod = (hours // 3600) % 24
    dow = (days + 3) % 7  # Monday = 0
    dt_days = hours.astype("datetime64[s]").astype("datetime64[D]")
    doy = (dt_days - dt_days.astype("datetime64[Y]")).astype(np.int64)
    month = dt_days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (dt_days - dt_days.astype("datetime64[M]")).astype(np.int64) + 1
    years = _years(hours, start_s)
    w = (_HOUR_PROFILE[hod] * _WEEKDAY_PROFILE[dow]
         * (1 + d.season * np.cos(2 * np.pi * (doy - 196) / 365.25)) * (1 + 0.04 * years))
    fri_sat_night = (((dow == 4) | (dow == 5)) & (hod >= 22)) | (((dow == 5) | (dow == 6))
                                                                 & (hod < 3))
    w = w * np.where(fri_sat_night, 1.25, 1.0)
    july4 = (month == 7) & (dom == 4) & (hod >= 18)
    w = w * np.where(july4, 1.3, 1.0)
    n = int(round(d.calls_per_resident * d.population * (end_s - start_s) / (365.25 * 86400)
                  * scale))
    counts = rng.multinomial(n, w / w.sum())
    local = np.repeat(hours, counts) + rng.integers(0, 3600, n)
    local.sort()
    hour = (local // 3600) % 24
    dow_iso = ((local // 86400) + 3) % 7 + 1
    night = (hour >= 22) | (hour < 5)

    # Origin, area, call type.
    origin = _choice(rng, d.origin_mix, n)  # 0 911, 1 non-emergency, 2 officer, 3 other
    area_p = np.array([a.pop_share * a.call_factor for a in d.areas])
    area = _choice(rng, area_p, n)
    types = d.call_types
    type_cat = [t[1] for t in types]
    type_w = np.array([t[2] for t in types], dtype=float)
    cat_total = {c: type_w[[i for i, tc in enumerate(type_cat) if tc == c]].sum()
                 for c in set(type_cat)}
    ctype = np.empty(n, dtype=np.int64)
    for officer in (False, True):
        mix = _OFFICER_MIX if officer else _PUBLIC_MIX
        for is_night in (False, True):
            p = np.array([mix[c] * (_NIGHT.get(c, 1.0) if is_night else 1.0) * type_w[i]
                          / cat_total[c] for i, c in enumerate(type_cat)])
            m = ((origin == 2) == officer) & (night == is_night)
            ctype[m] = _choice(rng, p, int(m.sum()))
    cat_of_type = np.array(type_cat, dtype=object)
    # Crosswalk eligibility of each local type: True / False / None (untriaged or unmapped).
    xw = []
    for _name, cat, _, override in types:
        if cat == _UNMAPPED:
            xw.append(None)
        elif override != "auto":
            xw.append(override)
        else:
            xw.append(cat in d.targets)
    xw_true = np.array([x is True for x in xw])[ctype]
    xw_none = np.array([x is None for x in xw])[ctype]
    is_target = np.array([c in d.targets for c in type_cat])[ctype]

    launch_s = _epoch_s(d.launch)
    post = local >= launch_s
    in_hours = _in_hours(hour, dow_iso, d)
    area_ok = np.array([d.cov_areas is None or a.name in d.cov_areas for a in d.areas])[area]
    ctx = post & in_hours & area_ok
    # eligible: 1 true, 0 false, -1 unknown (type not triaged, or not in the crosswalk). The
    # column agrees with what metrics/sources.py derives from the crosswalk and coverage.
    eligible = np.where(xw_none, -1, np.where(xw_true & ctx, 1, 0))

    # Who responded.
    months_in = (local - launch_s) / (30.44 * 86400)
    ramp = np.clip(0.55 + 0.45 * months_in / 8, 0.55, 1.0)
    cov_f = np.array([a.cov_factor for a in d.areas])[area]
    peak = np.where((hour >= 14) & (hour < 19), 0.88, 1.0)
    p_ar = np.clip((d.cov_base + d.cov_trend * _years(local, start_s)) * cov_f * ramp * peak,
                   0, 0.95)
    u = rng.random(n)
    # The dispatcher would send the team to this share of eligible calls; whether one of its
    # teams is free decides which of them it takes (_gen_responses: capacity, issue 23).
    p_send = np.minimum(p_ar * _SEND_FACTOR, 0.97)
    ar = ((eligible == 1) & (u < p_send)) \
        | ((eligible == -1) & ctx & (u < 0.06 * p_ar)) \
        | ((eligible == 0) & ctx & ~is_target & np.isin(cat_of_type[ctype], ["DISORDER", "OTHER"])
           & (u < 0.006))
    u2 = rng.random(n)
    phone = (eligible == 1) & ~ar & (u2 < d.phone_share)
    # Reason an eligible call was not served.
    last_hour = (hour == (d.cov_hours[1] - 1) % 24) & (d.cov_hours != (0, 24))
    # Not sent: reassigned / cancelled. "No unit available" comes from capacity alone.
    reason = _choice(rng, (0.0, 0.6, 0.4), n)  # no unit / reassigned / cancelled
    reason = np.where(last_hour & (rng.random(n) < 0.7), 3, reason)
    unserved = (eligible == 1) & ~ar & ~phone
    reason = np.where(unserved, reason, np.where(phone, 4, -1))

    cat_arr = cat_of_type[ctype]
    medical = cat_arr == "MEDICAL"
    fire = cat_arr == "FIRE"
    # responder codes: 0 police, 1 fire, 2 ems, 3 alternative, 4 co_response, 5 phone, 6 none
    u3 = rng.random(n)
    responder = np.where(medical, np.where(u3 < 0.75, 2, 1), np.where(fire, 1, 0))
    responder = np.where(~medical & ~fire & (u3 < 0.035), 6, responder)  # cancelled, no unit
    responder = np.where(reason == 2, 6, responder)
    responder = np.where((reason == 0) & (u3 < 0.15), 2, np.where(reason == 0, 0, responder))
    responder = np.where(reason == 1, 0, responder)
    responder = np.where(reason == 3, 0, responder)
    responder = np.where(phone, 5, responder)
    responder = np.where(ar, 4 if d.model == "co_response" else 3, responder)

    # Priority.
    prio = np.array([_PRIORITY[c] for c in type_cat])[ctype]
    bump = rng.random(n)
    prio = np.clip(prio + np.where(bump < 0.08, -1, np.where(bump > 0.9, 1, 0)), 1, 4)

    # Times (seconds after received) for non-team responders.
    officer = origin == 2
    police_med = np.array([0, 7, 12, 22, 35], dtype=float)[prio] * 60
    total = _lognormal(rng, 1.0, 0.75, n) * police_med
    total = np.where((responder == 1) | (responder == 2), _lognormal(rng, 450, 0.4, n), total)
    total = np.where(officer, rng.integers(0, 90, n).astype(float), total)
    proc = _lognormal(rng, 1.0, 0.8, n) * np.array([0, 60, 100, 180, 420], dtype=float)[prio]
    proc = np.where(officer, rng.integers(0, 15, n).astype(float), proc)
    proc = np.minimum(proc, 0.6 * total)
    enr = np.minimum(_lognormal(rng, 40, 0.7, n), 0.5 * (total - proc))
    onscene = np.where((responder == 1) | (responder == 2), _lognormal(rng, 1500, 0.5, n),
                       _lognormal(rng, 1700, 0.8, n))
    disp_s = proc
    enr_s = proc + enr
    arr_s = total
    clr_s = total + onscene
    none = responder == 6
    nan = np.full(n, np.nan)
    # No unit went: cancelled before anyone arrived (sometimes after a dispatch).
    went = rng.random(n) < 0.4
    disp_s = np.where(none & ~went, nan, disp_s)
    enr_s = np.where(none, nan, enr_s)
    arr_s = np.where(none, nan, arr_s)
    clr_s = np.where(none, _lognormal(rng, 600, 0.6, n) + np.nan_to_num(disp_s), clr_s)
    # Phone: a clinician in the 911 centre, no dispatch.
    ph = responder == 5
    disp_s = np.where(ph, nan, disp_s)
    enr_s = np.where(ph, nan, enr_s)
    arr_s = np.where(ph, nan, arr_s)
    clr_s = np.where(ph, _lognormal(rng, 1100, 0.5, n), clr_s)

    unit_no = rng.integers(1, 98, n)
    dispo_u = rng.random(n)
    g.update(n=n, local=local, unit_no=unit_no, dispo_u=dispo_u, origin=origin, area=area,
             ctype=ctype, cat=cat_arr, eligible=eligible, ar=ar, responder=responder,
             reason=reason, prio=prio, disp_s=disp_s, enr_s=enr_s, arr_s=arr_s, clr_s=clr_s,
             ctx=ctx, start_s=start_s, end_s=end_s)


def _years(local_s, start_s):
    """Years since ``start_s`` (both in seconds)."""
    return (local_s - start_s) / (365.25 * 86400)


def _gen_responses(d: Demo, rng, g):
    """Team responses: one per team-responded call, plus team-initiated ones with no call."""
    linked = np.flatnonzero(g["ar"])
    n_link = len(linked)
    n_self = int(round(n_link * d.self_share / (1 - d.self_share)))
    # Team-initiated responses happen when and where the team works: borrow the hour, weekday
    # and area of random eligible in-coverage calls, a whole number of weeks away.
    pool = np.flatnonzero(g["ctx"] & (g["eligible"] == 1))
    if len(pool) == 0:
        pool = linked if n_link else np.arange(g["n"])
    src = pool[rng.integers(0, len(pool), n_self)]
    shift = rng.integers(-3, 4, n_self) * 7 * 86400 + rng.integers(0, 900, n_self)
    self_local = g["local"][src] + shift
    lo, hi = max(_epoch_s(d.launch), g["start_s"]), g["end_s"] - 3600
    self_local = np.where((self_local < lo) | (self_local >= hi), g["local"][src], self_local)
    order = np.argsort(self_local, kind="stable")
    src, self_local = src[order], self_local[order]
    m = n_link + n_self
    base_local = np.concatenate([g["local"][linked], self_local])
    call_idx = np.concatenate([linked, np.full(n_self, -1)])
    area = np.concatenate([g["area"][linked], g["area"][src]])
    cat = np.concatenate([g["cat"][linked],
                          np.where(rng.random(n_self) < 0.6, "HOMELESS_ASSIST", "WELFARE_CHECK")
                          .astype(object)])
    is_self = call_idx < 0

    travel_f = np.array([a.travel_factor for a in d.areas])[area]
    req = np.where(is_self, 0.0, _lognormal(rng, 100, 0.6, m))
    disp = req + np.where(is_self, rng.integers(0, 60, m), _lognormal(rng, 45, 0.8, m))
    total = _lognormal(rng, d.ar_median * 60, 0.6, m) * travel_f
    total = np.where(is_self, disp + rng.integers(0, 180, m), np.maximum(total, disp + 120))
    enr = disp + np.minimum(_lognormal(rng, 60, 0.7, m), 0.5 * (total - disp))
    contact = rng.random(m) < np.where(is_self, min(0.98, d.contact_rate + 0.05),
                                       d.contact_rate)
    # Outcomes.
    dest_p = [1 - sum(d.destinations.values())] + [d.destinations[k] for k in _DESTINATIONS[1:]]
    dest = np.where(contact, _choice(rng, dest_p, m), -1)
    outcome = np.array(_CONTACT_OUTCOMES, dtype=object)[_choice(rng, _CONTACT_OUTCOME_P, m)]
    outcome = np.where(dest > 0, "transported", outcome)
    cancelled = ~contact & (rng.random(m) < 0.35)
    outcome = np.where(~contact, np.where(cancelled, "cancelled", "unable_to_locate"), outcome)
    engaged = total + _lognormal(rng, 90, 0.8, m)
    onscene = _lognormal(rng, d.onscene_median * 60, 0.55, m)
    onscene = np.where(dest > 0, onscene * 0.6, onscene)
    onscene = np.where(~contact, _lognormal(rng, 600, 0.6, m), onscene)
    clr = total + onscene
    nan = np.full(m, np.nan)
    arr = np.where(cancelled, nan, total)
    engaged = np.where(contact, engaged, nan)
    clr = np.where(cancelled, disp + _lognormal(rng, 420, 0.5, m), clr)
    # Engagement logged before arrival now and then (a real export quirk).
    quirk = contact & (rng.random(m) < 0.004)
    engaged = np.where(quirk, total - rng.integers(60, 600, m), engaged)

    backup = rng.random(m) < d.backup_rate
    if d.model == "co_response":
        arrest = rng.random(m) < d.arrest_rate
    else:  # an arrest needs police on scene: only after a back-up request
        arrest = backup & (rng.random(m) < d.arrest_rate / max(d.backup_rate, 1e-9))
    injury = rng.random(m) < d.injury_rate
    second = np.where(rng.random(m) < 0.3, _choice(rng, [1] * len(_SECOND_REASONS), m), -1)

    # A handful of team records with every time blank (MCSLC has 77 such rows).
    blank = np.zeros(m, dtype=bool)
    if d.slug == "harbor-county" and n_self:
        blank[np.flatnonzero(is_self)[rng.permutation(n_self)[:min(12, n_self)]]] = True

    resp = dict(base_local=base_local, call_idx=call_idx, area=area, cat=cat,
                req=req, disp=disp, enr=enr, arr=arr, eng=engaged, clr=clr,
                contact=contact, dest=dest, outcome=outcome, backup=backup, arrest=arrest,
                injury=injury, second=second, blank=blank, is_self=is_self)
    # Capacity (issue 23): a dispatch goes ahead only when one of the program's teams is
    # free; a team is busy from dispatch to clear plus a wrap-up. A dispatch that finds every
    # team busy does not happen: its call becomes "no unit available" (police respond), a
    # team-initiated contact is not made. So the coverage is what the teams' capacity gives.
    keep = _free_team(base_local + disp, clr - disp + _WRAP_UP_S, d.teams)
    dropped = call_idx[~keep & ~is_self]
    g["ar"][dropped] = False
    g["reason"][dropped] = np.where(g["eligible"][dropped] == 1, 0, -1)
    g["responder"][dropped] = 0
    g["resp"] = {k: v[keep] for k, v in resp.items()}
    g["resp"]["m"] = m = int(keep.sum())
    n_link = int((~g["resp"]["is_self"]).sum())
    linked = g["resp"]["call_idx"][:n_link]
    # The linked calls show the team's times.
    r = g["resp"]
    g["disp_s"][linked] = r["disp"][:n_link]
    g["enr_s"][linked] = r["enr"][:n_link]
    g["arr_s"][linked] = r["arr"][:n_link]
    g["clr_s"][linked] = r["clr"][:n_link]
    outcomes = VALUE_SETS["outcome"]
    g["ar_outcome"] = np.full(g["n"], -1, dtype=np.int32)
    g["ar_outcome"][linked] = _index_of(r["outcome"][:n_link], outcomes)


_SEND_FACTOR = 1.6  # dispatches wanted per eligible call, against the coverage before capacity
_WRAP_UP_S = 600     # notes after clearing: the Plan page's default extra minutes


def _free_team(start, busy, teams: int) -> np.ndarray:
    """Which dispatches (in order of ``start``) find one of ``teams`` teams free."""
    keep = np.zeros(len(start), dtype=bool)
    ends: list[float] = []
    for i in np.argsort(start, kind="stable").tolist():
        t = float(start[i])
        while ends and ends[0] <= t:
            heapq.heappop(ends)
        if len(ends) < teams:
            heapq.heappush(ends, t + float(busy[i]))
            keep[i] = True
    return keep


def _gen_people(d: Demo, rng, g):
    """Pseudonymous people for the contacts, with repeat contacts (familiar neighbours)."""
    r = g["resp"]
    contacts = np.flatnonzero(r["contact"] & ~r["blank"])
    contacts = contacts[np.argsort(r["base_local"][contacts], kind="stable")]
    keyed = rng.random(len(contacts)) >= 0.06  # 6% of contacts give no identity
    kc = contacts[keyed]
    n = len(kc)
    person = np.full(r["m"], -1, dtype=np.int64)
    if n:
        draws = rng.zipf(2.3, n)
        draws = np.where(draws > 120, 40 + draws % 80, draws)
        cum = np.cumsum(draws)
        k = int(np.searchsorted(cum, n)) + 1
        counts = draws[:k].copy()
        counts[-1] -= cum[k - 1] - n
        counts = counts[counts > 0]
        p = len(counts)
        span_days = max(1.0, (r["base_local"][kc[-1]] - r["base_local"][kc[0]]) / 86400)
        per_day = n / span_days
        win_days = np.where(counts >= 20, rng.uniform(200, 360, p),
                            np.where(counts >= 2, rng.uniform(30, 540, p), 0.0))
        win = np.minimum(win_days * per_day, n)
        start = rng.random(p) * (n - win)
        owner = np.repeat(np.arange(p), counts)
        desired = np.repeat(start, counts) + rng.random(n) * np.repeat(win, counts)
        person[kc] = owner[np.argsort(desired, kind="stable")]
    else:
        p = 0
    # People without a key each stand alone (for their demographics only).
    nk = contacts[~keyed]
    anon = np.full(r["m"], -1, dtype=np.int64)
    anon[nk] = p + np.arange(len(nk))
    who = np.where(person >= 0, person, anon)  # -1 for non-contacts
    total = p + len(nk)
    # Each person's area: where they were first met.
    first_area = np.zeros(total, dtype=np.int64)
    has = who >= 0
    idx = np.flatnonzero(has)
    idx = idx[np.argsort(r["base_local"][idx], kind="stable")]
    people, first = np.unique(who[idx], return_index=True)
    first_area[people] = r["area"][idx[first]]
    comp = _area_race(d)  # areas x groups, residents
    contact_p = comp * np.array([_CONTACT_RACE_FACTOR[gr] for gr in RACE_GROUPS])
    cum = np.cumsum(contact_p, axis=1)
    cum /= cum[:, -1:]
    race_p = np.minimum((rng.random(total)[:, None] >= cum[first_area]).sum(axis=1),
                        len(RACE_GROUPS) - 1)
    age_p = _choice(rng, _AGE_MIX, total)
    gender_p = _choice(rng, _GENDER_MIX, total)
    race = np.where(has, race_p[np.maximum(who, 0)], -1)
    race = np.where(has & (rng.random(r["m"]) < d.unknown_race), -1, race)  # not recorded
    gender = np.where(has, gender_p[np.maximum(who, 0)], 4)
    gender = np.where(has & (rng.random(r["m"]) < 0.02), 4, gender)
    age = np.where(has, age_p[np.maximum(who, 0)], -1)
    r.update(person=person, race=race, gender=gender, age=age)


def _gen_referrals(d: Demo, rng, g):
    r = g["resp"]
    src = np.flatnonzero(r["contact"] & ~r["blank"] & (rng.random(r["m"]) < d.referral_rate))
    n_each = 1 + (rng.random(len(src)) < 0.3)
    resp = np.repeat(src, n_each)
    second_of = np.zeros(len(resp), dtype=bool)
    second_of[1:] = resp[1:] == resp[:-1]
    # Referrals recorded with no response (walk-ins, follow-ups): about 2%.
    n_orphan = int(round(0.02 * len(resp)))
    keyed_resp = np.flatnonzero(r["person"] >= 0)
    orphan_src = (keyed_resp[rng.integers(0, len(keyed_resp), n_orphan)] if len(keyed_resp)
                  else np.zeros(0, dtype=np.int64))
    k = len(resp) + n_orphan
    all_src = np.concatenate([resp, orphan_src])
    is_orphan = np.arange(k) >= len(resp)
    cats = r["cat"][all_src]
    service = np.empty(k, dtype=np.int64)
    for cat, mix in _SERVICE_MIX.items():
        m = (cats == cat) if cat else ~np.isin(cats, [c for c in _SERVICE_MIX if c])
        m = m & ~np.concatenate([second_of, np.zeros(n_orphan, dtype=bool)])
        service[m] = _choice(rng, mix, int(m.sum()))
    m2 = np.concatenate([second_of, np.zeros(n_orphan, dtype=bool)])
    service[m2] = _choice(rng, _SERVICE_MIX[None], int(m2.sum()))
    after = np.where(np.isnan(r["clr"][all_src]), r["disp"][all_src] + 1800, r["clr"][all_src])
    referred = after + _lognormal(rng, 1800, 1.2, k)
    referred = np.where(is_orphan, after + rng.uniform(2, 60, k) * 86400, referred)
    base = r["base_local"][all_src]
    connected = rng.random(k) < d.connected_share
    days = _lognormal(rng, 12, 1.1, k)
    conn_s = referred + days * 86400
    late = base + conn_s >= g["end_s"]  # not connected yet when the data was pulled
    connected = connected & ~late
    rest = _choice(rng, (0.55, 0.25, 0.20), k)  # made / declined / unknown
    status = np.where(connected, 1, np.array([0, 2, 3])[rest])
    conn_s = np.where(connected, conn_s, np.nan)
    keep = base + referred < g["end_s"]
    g["ref"] = dict(k=int(keep.sum()), src=all_src[keep], orphan=is_orphan[keep],
                    service=service[keep], referred=referred[keep], connected=conn_s[keep],
                    status=status[keep], base_local=base[keep])


def _finish_calls(d: Demo, rng, g):
    """Export quirks on the calls: missing arrivals, times out of order."""
    n = g["n"]
    has_arr = ~np.isnan(g["arr_s"])
    drop = has_arr & (rng.random(n) < d.missing_arrival)
    g["arr_s"] = np.where(drop, np.nan, g["arr_s"])
    late_enroute = ~np.isnan(g["arr_s"]) & (rng.random(n) < 0.003)
    g["enr_s"] = np.where(late_enroute, g["arr_s"] + rng.integers(30, 240, n), g["enr_s"])


def _area_race(d: Demo) -> np.ndarray:
    """Residents' race/ethnicity shares per area (areas x RACE_GROUPS)."""
    base = np.array([d.race[gr] for gr in RACE_GROUPS])
    rows = []
    for i, a in enumerate(d.areas):
        # A fixed, gentle tilt per area so that areas differ without any random draw.
        tilt = 1 + 0.25 * np.sin(np.arange(len(RACE_GROUPS)) * (i + 1.7))
        s = base * tilt
        s = s / s.sum()
        if a.black_share is not None:
            b = RACE_GROUPS.index("black")
            others = np.delete(s, b)
            s = np.insert(others / others.sum() * (1 - a.black_share), b, a.black_share)
        rows.append(s)
    rows = np.array(rows)
    return rows


def _gen_population(d: Demo, rng) -> list[tuple]:
    """(geography, dimension, group, population, moe) rows: areas, then the whole."""
    shares = np.array([a.pop_share for a in d.areas])
    area_pop = _allocate(d.population, shares)
    comp = _area_race(d)
    age_base = np.array([0.22, 0.10, 0.15, 0.13, 0.12, 0.12, 0.16])
    rows = []
    race_tot = np.zeros(len(RACE_GROUPS), dtype=np.int64)
    age_tot = np.zeros(len(AGE_GROUPS), dtype=np.int64)
    area_moe2 = np.zeros(len(RACE_GROUPS) + len(AGE_GROUPS) + 1)

    def moe(x):
        return np.round(1.645 * (2.4 * np.sqrt(x) + 12)).astype(np.int64)

    for a, pop, s in zip(d.areas, area_pop, comp):
        race = _allocate(int(pop), s)
        age = _allocate(int(pop), age_base * rng.uniform(0.85, 1.15, len(AGE_GROUPS)))
        race_tot += race
        age_tot += age
        m_race, m_age, m_tot = moe(race), moe(age), int(round(1.645 * 1.5 * math.sqrt(pop)))
        area_moe2 += np.concatenate([m_race, m_age, [m_tot]]).astype(float) ** 2
        rows.append((a.name, "total", "total", int(pop), m_tot))
        rows += [(a.name, "race_ethnicity", gr, int(v), int(m))
                 for gr, v, m in zip(RACE_GROUPS, race, m_race)]
        rows += [(a.name, "age_group", gr, int(v), int(m))
                 for gr, v, m in zip(AGE_GROUPS, age, m_age)]
    whole = np.round(np.sqrt(area_moe2)).astype(np.int64)  # ACS approximation for sums
    nr = len(RACE_GROUPS)
    rows.append((d.name, "total", "total", int(d.population), int(round(0.002 * d.population))))
    rows += [(d.name, "race_ethnicity", gr, int(v), int(m))
             for gr, v, m in zip(RACE_GROUPS, race_tot, whole[:nr])]
    rows += [(d.name, "age_group", gr, int(v), int(m))
             for gr, v, m in zip(AGE_GROUPS, age_tot, whole[nr:nr + len(AGE_GROUPS)])]
    return rows


def _allocate(total: int, shares) -> np.ndarray:
    """Integers proportional to ``shares`` that add up to ``total`` (largest remainder)."""
    shares = np.asarray(shares, dtype=float)
    raw = total * shares / shares.sum()
    out = np.floor(raw).astype(np.int64)
    short = total - int(out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return out


# --------------------------------------------------------------------------------------------
# Arrow tables -> DuckDB
# --------------------------------------------------------------------------------------------

def _strings(values, idx):
    """A dictionary-encoded string column from small ``values`` and int indices (-1 = null)."""
    idx = np.asarray(idx, dtype=np.int32)
    null = idx < 0
    return pa.DictionaryArray.from_arrays(pa.array(np.maximum(idx, 0), mask=null,
                                                   type=pa.int32()),
                                          pa.array(list(values), type=pa.string()))


def _codes(arr: np.ndarray):
    """Dictionary-encode an array of a few distinct strings."""
    vals = sorted(set(np.unique(np.asarray(arr, dtype=str)).tolist()))
    return _strings(vals, _index_of(arr, vals))


def _nullable_int(x):
    x = np.asarray(x, dtype=float)
    bad = np.isnan(x)
    return pa.array(np.where(bad, 0, np.round(x)).astype(np.int64), mask=bad, type=pa.int64())


def _ts(local_s):
    return pa.array(np.asarray(local_s, dtype=np.int64), type=pa.timestamp("s"))


def _register(con, gens, ids) -> list[str]:
    """Hand the generated arrays to DuckDB as Arrow tables (names returned for unregister)."""
    calls, resps, refs, pops, xws, meta = [], [], [], [], [], []
    for g in gens:
        d = g["demo"]
        n, r, f = g["n"], g["resp"], g["ref"]
        type_names = [t[0] for t in d.call_types]
        responders = ("police", "fire", "ems", "alternative", "co_response", "phone", "none")
        calls.append(pa.table({
            "jurisdiction": _strings([d.name], np.zeros(n)),
            "gen_idx": pa.array(np.arange(n, dtype=np.int64)),
            "local_ts": _ts(g["local"]),
            "call_type": _strings(type_names, g["ctype"]),
            "category": _strings(list(CATEGORIES), np.array(
                [CATEGORIES.index(t[1]) if t[1] in CATEGORIES else -1
                 for t in d.call_types])[g["ctype"]]),
            "priority": _strings([d.priority_fmt.format(i) for i in range(1, 5)], g["prio"] - 1),
            "origin": _strings(("911", "non_emergency", "officer_initiated", "other"),
                               g["origin"]),
            "origin_raw": _strings(d.origin_raw, g["origin"]),
            "responder": _strings(responders, g["responder"]),
            "unit_no": pa.array(g["unit_no"], type=pa.int64()),
            "area": _strings([a.name for a in d.areas], g["area"]),
            "eligible": pa.array(g["eligible"] == 1, mask=g["eligible"] < 0, type=pa.bool_()),
            "not_served_reason": _strings(NOT_SERVED, g["reason"]),
            "ar_outcome": _strings(VALUE_SETS["outcome"], g["ar_outcome"]),
            "dispo_u": pa.array(g["dispo_u"], type=pa.float64()),
            "disp_s": _nullable_int(g["disp_s"]), "enr_s": _nullable_int(g["enr_s"]),
            "arr_s": _nullable_int(g["arr_s"]), "clr_s": _nullable_int(g["clr_s"]),
        }))
        raw = _RAW[d.labels]
        m = r["m"]
        reasons1 = np.array([_REASON.get(c, "Other") for c in _CATS_ALL])[
            _index_of(r["cat"], _CATS_ALL)]
        reason_vals = sorted(set(_REASON.values()))
        blank = r["blank"]
        resps.append(pa.table({
            "jurisdiction": _strings([d.name], np.zeros(m)),
            "gen_idx": pa.array(np.arange(m, dtype=np.int64)),
            "call_idx": pa.array(r["call_idx"], mask=r["call_idx"] < 0, type=pa.int64()),
            "base_local": _ts(r["base_local"]),
            "blank": pa.array(blank),
            "req_s": _nullable_int(r["req"]), "disp_s": _nullable_int(r["disp"]),
            "arr_s": _nullable_int(r["arr"]), "eng_s": _nullable_int(r["eng"]),
            "clr_s": _nullable_int(r["clr"]),
            "reason1": _strings(reason_vals, _index_of(reasons1, reason_vals)),
            "reason2": _strings(_SECOND_REASONS, r["second"]),
            "contact_made": pa.array(r["contact"]),
            "police_backup": pa.array(r["backup"]), "arrest": pa.array(r["arrest"]),
            "injury": pa.array(r["injury"]),
            "outcome": _codes(r["outcome"]),
            "transport_destination": _strings(_DESTINATIONS, r["dest"]),
            "transport_destination_raw": _strings(
                [raw["transport_destination"][x] for x in _DESTINATIONS], r["dest"]),
            "person": pa.array(r["person"], mask=r["person"] < 0, type=pa.int64()),
            "race_ethnicity": _strings(RACE_GROUPS + ("unknown",),
                                       np.where(r["race"] < 0, len(RACE_GROUPS), r["race"])),
            "race_raw": _strings([raw["race_ethnicity"][x] for x in RACE_GROUPS + ("unknown",)],
                                 np.where(r["race"] < 0, len(RACE_GROUPS), r["race"])),
            "gender": _strings(_GENDERS, r["gender"]),
            "gender_raw": _strings([raw["gender"][x] for x in _GENDERS], r["gender"]),
            "age_group": _strings(AGE_GROUPS, r["age"]),
            "area": _strings([a.name for a in d.areas], r["area"]),
        }))
        refs.append(pa.table({
            "jurisdiction": _strings([d.name], np.zeros(f["k"])),
            "gen_idx": pa.array(np.arange(f["k"], dtype=np.int64)),
            "resp_idx": pa.array(f["src"], type=pa.int64()),
            "orphan": pa.array(f["orphan"]),
            "base_local": _ts(f["base_local"]),
            "referred_s": _nullable_int(f["referred"]),
            "connected_s": _nullable_int(f["connected"]),
            "service_type": _strings(_SERVICE_TYPES, f["service"]),
            "status": _strings(("made", "connected", "declined", "unknown"), f["status"]),
        }))
        pops += [(d.name,) + row for row in g["population"]]
        for local, cat, _, override in d.call_types:
            if cat == _UNMAPPED:
                continue
            elig = (cat in d.targets) if override == "auto" else override
            xws.append((d.name, local, cat, elig))
        meta.append((d.name, d.slug, d.tz, d.model, d.team, *d.ids["call"], *d.ids["response"],
                     *d.ids["referral"], d.units["police"], d.units["fire"], d.units["ems"],
                     d.units["alternative"], d.units["co_response"], d.units["phone"],
                     ids[(d.name, "calls")], ids[(d.name, "responses")],
                     ids[(d.name, "referrals")], ids[(d.name, "population")]))
        g["outcome_raw"] = raw["outcome"]
    tables = {
        "demo_calls_in": pa.concat_tables(calls, promote_options="permissive"),
        "demo_responses_in": pa.concat_tables(resps, promote_options="permissive"),
        "demo_referrals_in": pa.concat_tables(refs, promote_options="permissive"),
        "demo_population_in": pa.table(list(zip(*pops)), names=[
            "jurisdiction", "geography", "dimension", "group", "population", "moe"]),
        "demo_crosswalk_in": pa.table(list(zip(*xws)), names=[
            "jurisdiction", "call_type", "category", "eligible"]),
        "demo_meta": pa.table(list(zip(*meta)), names=[
            "jurisdiction", "slug", "tz", "model", "team", "call_prefix", "call_yfmt",
            "call_sep", "call_width", "resp_prefix", "resp_yfmt", "resp_sep", "resp_width",
            "ref_prefix", "ref_width", "u_police", "u_fire", "u_ems", "u_alternative",
            "u_co_response", "u_phone", "id_calls", "id_responses", "id_referrals",
            "id_population"]),
        "demo_outcome_raw": pa.table(list(zip(*[
            (g["demo"].name, code, label) for g in gens
            for code, label in g["outcome_raw"].items()])),
            names=["jurisdiction", "code", "label"]),
    }
    for name, table in tables.items():
        con.register(name, table)
    return list(tables)


def _index_of(values, vocab):
    """Position of each value in ``vocab`` (-1 when absent), without a loop over rows."""
    arr = np.asarray(values, dtype=str)
    out = np.full(len(arr), -1, dtype=np.int32)
    for i, v in enumerate(vocab):
        out[arr == v] = i
    return out


# --------------------------------------------------------------------------------------------
# SQL: arrays -> canonical rows
# --------------------------------------------------------------------------------------------

def _idfmt(prefix, yfmt, sep, width, ts, seq):
    year = f"CASE {yfmt} WHEN '%Y' THEN strftime({ts}, '%Y') ELSE strftime({ts}, '%y') END"
    return (f"{prefix} || {year} || {sep} || "
            f"lpad({seq}::VARCHAR, greatest({width}, length({seq}::VARCHAR))::INTEGER, '0')")


def _write(con, ids, seed) -> dict[str, int]:
    police = "'" + "', '".join(_POLICE_DISPOS) + "'"
    medical = "'" + "', '".join(_MEDICAL_DISPOS) + "'"
    pcum = np.cumsum(_POLICE_DISPO_P) / sum(_POLICE_DISPO_P)
    mcum = np.cumsum(_MEDICAL_DISPO_P) / sum(_MEDICAL_DISPO_P)
    pick_p = "[" + police + "][1 + " + " + ".join(f"(dispo_u >= {c:.6f})::INT"
                                                    for c in pcum[:-1]) + "]"
    pick_m = "[" + medical + "][1 + " + " + ".join(f"(dispo_u >= {c:.6f})::INT"
                                                     for c in mcum[:-1]) + "]"
    con.execute("DROP TABLE IF EXISTS demo_calls")
    con.execute(f"""
CREATE TEMP TABLE demo_calls AS
WITH c AS (
  SELECT *, timezone(m.tz, c.local_ts::TIMESTAMP) AS received_at,
    row_number() OVER (PARTITION BY c.jurisdiction, year(c.local_ts)
                       ORDER BY c.local_ts, c.gen_idx) AS seq
  FROM demo_calls_in c JOIN demo_meta m USING (jurisdiction)
)
SELECT
  jurisdiction, gen_idx, id_calls AS import_id,
  {_idfmt('call_prefix', 'call_yfmt', 'call_sep', 'call_width', 'local_ts', 'seq')} AS call_id,
  received_at,
  received_at + to_seconds(disp_s) AS dispatched_at,
  received_at + to_seconds(enr_s) AS enroute_at,
  received_at + to_seconds(arr_s) AS arrived_at,
  received_at + to_seconds(clr_s) AS cleared_at,
  call_type::VARCHAR AS call_type, category::VARCHAR AS category,
  priority::VARCHAR AS priority, origin::VARCHAR AS origin, origin_raw::VARCHAR AS origin_raw,
  responder::VARCHAR AS responder,
  CASE responder::VARCHAR
    WHEN 'police' THEN u_police || (100 + unit_no * 7)::VARCHAR
    WHEN 'fire' THEN u_fire || (unit_no % 30 + 1)::VARCHAR
    WHEN 'ems' THEN u_ems || (unit_no % 40 + 1)::VARCHAR
    WHEN 'alternative' THEN u_alternative || (unit_no % 6 + 1)::VARCHAR
    WHEN 'co_response' THEN u_co_response || (unit_no % 4 + 1)::VARCHAR
    WHEN 'phone' THEN u_phone
    ELSE NULL END AS responder_raw,
  CASE
    WHEN responder::VARCHAR = 'none' THEN 'CANCELLED'
    WHEN responder::VARCHAR = 'phone' THEN 'RESOLVED BY PHONE'
    WHEN responder::VARCHAR = 'fire' AND category::VARCHAR = 'FIRE'
      THEN ['FALSE ALARM', 'INVESTIGATED', 'EXTINGUISHED', 'CANCELLED'][
        1 + floor(dispo_u * 3.999)::INT]
    WHEN responder::VARCHAR IN ('fire', 'ems') THEN {pick_m}
    WHEN responder::VARCHAR = 'police' THEN {pick_p}
    WHEN ar_outcome IS NOT NULL
      THEN upper(team || ' - ' || replace(ar_outcome::VARCHAR, '_', ' '))
    ELSE NULL END AS disposition,
  area::VARCHAR AS area, eligible, not_served_reason::VARCHAR AS not_served_reason,
  timezone(tz, received_at) AS received_local,
  row_number() OVER (PARTITION BY jurisdiction ORDER BY local_ts, gen_idx) + 1 AS file_row
FROM c
""")
    con.execute("DROP TABLE IF EXISTS demo_responses")
    con.execute(f"""
CREATE TEMP TABLE demo_responses AS
WITH r AS (
  SELECT *, timezone(m.tz, r.base_local::TIMESTAMP) AS base_at,
    row_number() OVER (PARTITION BY r.jurisdiction, year(r.base_local)
                       ORDER BY r.base_local, r.gen_idx) AS seq,
    row_number() OVER (PARTITION BY r.jurisdiction ORDER BY r.base_local, r.gen_idx) + 1
      AS file_row
  FROM demo_responses_in r JOIN demo_meta m USING (jurisdiction)
)
SELECT
  r.jurisdiction, r.gen_idx, r.id_responses AS import_id, r.file_row,
  {_idfmt('r.resp_prefix', 'r.resp_yfmt', 'r.resp_sep', 'r.resp_width', 'r.base_local', 'r.seq')}
    AS response_id,
  c.call_id, r.team,
  r.model, CASE r.model WHEN 'co_response' THEN '{_MODEL_RAW["co_response"]}'
    ELSE '{_MODEL_RAW["alternative"]}' END AS model_raw,
  CASE WHEN NOT r.blank THEN r.base_at + to_seconds(r.req_s) END AS requested_at,
  CASE WHEN NOT r.blank THEN r.base_at + to_seconds(r.disp_s) END AS dispatched_at,
  CASE WHEN NOT r.blank THEN r.base_at + to_seconds(r.arr_s) END AS arrived_at,
  CASE WHEN NOT r.blank THEN r.base_at + to_seconds(r.eng_s) END AS engaged_at,
  CASE WHEN NOT r.blank THEN r.base_at + to_seconds(r.clr_s) END AS cleared_at,
  list_filter([r.reason1::VARCHAR, r.reason2::VARCHAR], lambda x: x IS NOT NULL) AS reasons,
  r.contact_made, r.police_backup, r.arrest, r.injury,
  r.outcome::VARCHAR AS outcome, o.label AS outcome_raw,
  CASE WHEN r.contact_made THEN r.transport_destination::VARCHAR END AS transport_destination,
  CASE WHEN r.contact_made THEN r.transport_destination_raw::VARCHAR END
    AS transport_destination_raw,
  CASE WHEN r.person IS NOT NULL
    THEN left(sha256(r.slug || '|' || {int(seed)} || '|' || r.person::VARCHAR), 20) END
    AS person_key,
  r.race_ethnicity::VARCHAR AS race_ethnicity,
  r.race_raw::VARCHAR AS race_ethnicity_raw,
  r.gender::VARCHAR AS gender, r.gender_raw::VARCHAR AS gender_raw,
  r.age_group::VARCHAR AS age_group, r.area::VARCHAR AS area,
  CASE WHEN NOT r.blank THEN timezone(r.tz, r.base_at + to_seconds(r.req_s)) END
    AS requested_local
FROM r
LEFT JOIN demo_calls c ON c.jurisdiction = r.jurisdiction AND c.gen_idx = r.call_idx
LEFT JOIN demo_outcome_raw o ON o.jurisdiction = r.jurisdiction AND o.code = r.outcome::VARCHAR
""")
    con.execute("DROP TABLE IF EXISTS demo_referrals")
    con.execute("""
CREATE TEMP TABLE demo_referrals AS
WITH f AS (
  SELECT *, timezone(m.tz, f.base_local::TIMESTAMP) AS base_at
  FROM demo_referrals_in f JOIN demo_meta m USING (jurisdiction)
), g AS (
  SELECT f.*, f.base_at + to_seconds(f.referred_s) AS referred_at,
    row_number() OVER (PARTITION BY f.jurisdiction
                       ORDER BY f.base_at + to_seconds(f.referred_s), f.gen_idx) AS seq
  FROM f
)
SELECT
  g.jurisdiction, g.id_referrals AS import_id, g.seq + 1 AS file_row,
  g.ref_prefix || lpad(g.seq::VARCHAR, greatest(g.ref_width, length(g.seq::VARCHAR))::INTEGER, '0')
    AS referral_id,
  CASE WHEN NOT g.orphan THEN r.response_id END AS response_id, r.person_key,
  g.service_type::VARCHAR AS service_type, s.label AS service_type_raw,
  g.referred_at, g.status::VARCHAR AS status, t.label AS status_raw,
  g.base_at + to_seconds(g.connected_s) AS connected_at,
  timezone(g.tz, g.referred_at) AS referred_local
FROM g
JOIN demo_responses r ON r.jurisdiction = g.jurisdiction AND r.gen_idx = g.resp_idx
JOIN (SELECT unnest(?::VARCHAR[]) AS code, unnest(?::VARCHAR[]) AS label) s
  ON s.code = g.service_type::VARCHAR
JOIN (SELECT unnest(?::VARCHAR[]) AS code, unnest(?::VARCHAR[]) AS label) t
  ON t.code = g.status::VARCHAR
""", [list(_SERVICE_RAW), list(_SERVICE_RAW.values()), list(_STATUS_RAW),
      list(_STATUS_RAW.values())])

    # --- canonical tables ---
    jur_rows = [(d.name, d.state, d.tz, d.population, d.program, d.launch, d.cov_hours[0],
                 d.cov_hours[1], d.cov_days, list(d.cov_areas) if d.cov_areas else None,
                 list(d.targets)) for d in DEMOS]
    con.executemany("INSERT INTO jurisdictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    jur_rows)
    con.execute("INSERT INTO crosswalk SELECT jurisdiction, call_type, category, eligible "
                "FROM demo_crosswalk_in")
    _insert(con, "calls", "demo_calls")
    _insert(con, "responses", "demo_responses")
    _insert(con, "referrals", "demo_referrals")
    con.execute("""
INSERT INTO population (jurisdiction, population_key, geography, dimension, "group",
                        population, moe, source, import_id, file_row)
SELECT p.jurisdiction, concat_ws('|', p.geography, p.dimension, p."group", ?),
  p.geography, p.dimension, p."group", p.population, p.moe, ?, m.id_population,
  row_number() OVER (PARTITION BY p.jurisdiction ORDER BY p.geography = p.jurisdiction,
                     p.geography, p.dimension, p."group") + 1
FROM demo_population_in p JOIN demo_meta m USING (jurisdiction)
""", [POPULATION_SOURCE, POPULATION_SOURCE])
    _warnings(con)
    _ledger(con, ids, seed)
    for t in ("demo_calls", "demo_responses", "demo_referrals"):
        con.execute(f"DROP TABLE {t}")
    counts = {}
    for t in ("jurisdictions", "crosswalk", "calls", "responses", "referrals", "population",
              "row_warnings", "imports"):
        where = ("" if t in ("jurisdictions", "crosswalk") else
                 " WHERE import_id IN (SELECT unnest(?::BIGINT[]))")
        params = [] if not where else [list(ids.values())]
        if t in ("jurisdictions", "crosswalk"):
            where, params = " WHERE list_contains(?::VARCHAR[], jurisdiction)", [
                [d.name for d in DEMOS]]
        counts[t] = con.execute(f"SELECT count(*) FROM {t}{where}", params).fetchone()[0]
    return counts


def _insert(con, kind, temp):
    cols = [c for c, _ in record_columns(kind)]
    have = {r[0] for r in con.execute(f"DESCRIBE {temp}").fetchall()}
    select = [f'"{c}"' if c in have else "NULL" for c in cols]
    quoted = ", ".join(f'"{c}"' for c in cols)
    con.execute(f"INSERT INTO {kind} ({quoted}) SELECT {', '.join(select)} FROM {temp}")


def _warnings(con):
    """Row warnings as the importer would record them (missing main time, 0:00, order)."""
    for kind in ("calls", "responses", "referrals"):
        idf, main = ID_FIELD[kind], MAIN_TIME[kind]
        base = (f"INSERT INTO row_warnings SELECT t.import_id, '{kind}', t.jurisdiction, "
                f"t.{idf}, t.file_row, ")
        demo = (f" AND t.import_id IN (SELECT id_{kind} FROM demo_meta)")
        con.execute(base + f"'{main}', 'missing_time', NULL FROM {kind} t "
                    f"WHERE t.{main} IS NULL" + demo)
        tz = "(SELECT tz FROM demo_meta m WHERE m.jurisdiction = t.jurisdiction)"
        for c in TIME_ORDER[kind]:
            con.execute(base + f"'{c}', 'time_placeholder', "
                        f"strftime(timezone({tz}, t.{c}), '%Y-%m-%d %H:%M') FROM {kind} t "
                        f"WHERE t.{c} IS NOT NULL AND timezone({tz}, t.{c})::TIME = '00:00:00'"
                        + demo)
        order = TIME_ORDER[kind]
        for j in range(1, len(order)):
            earlier = ", ".join(f"t.{x}" for x in order[:j])
            latest = f"greatest({earlier})" if j > 1 else f"t.{order[0]}"
            con.execute(base + f"'{order[j]}', 'out_of_order', t.{order[j]}::VARCHAR "
                        f"FROM {kind} t WHERE t.{order[j]} < {latest}" + demo)


def _ledger(con, ids, seed):
    for d in DEMOS:
        for kind in ("calls", "responses", "referrals", "population"):
            import_id = ids[(d.name, kind)]
            rows = con.execute(f"SELECT count(*) FROM {kind} WHERE import_id = ?",
                               [import_id]).fetchone()[0]
            warned = con.execute("SELECT count(DISTINCT file_row) FROM row_warnings "
                                 "WHERE import_id = ?", [import_id]).fetchone()[0]
            by_type = dict(con.execute("SELECT warning, count(*) FROM row_warnings WHERE "
                                       "import_id = ? GROUP BY 1 ORDER BY 1",
                                       [import_id]).fetchall())
            sha = hashlib.sha256(f"demo|{seed}|{d.name}|{kind}".encode()).hexdigest()
            summary = {"value_mappings": [], "unit_rows": None, "fingerprint_merged": None,
                       "warnings": by_type, "reject_reasons": [],
                       "created_jurisdiction": True, "demo": True, "seed": seed,
                       "notes": [f"demo data (fictional), generated with seed {seed}"]}
            con.execute(
                "INSERT INTO imports VALUES (?, ?, ?, ?, ?, NULL, now(), ?, ?, 0, 0, 0, 0, ?, ?,"
                " 'committed', NULL)",
                [import_id, kind, d.name, f"demo:{d.slug}-{kind}", sha, rows, rows, warned,
                 json.dumps(summary)])


# --------------------------------------------------------------------------------------------
# The raw CAD export for the benchmark
# --------------------------------------------------------------------------------------------

_CSV_TYPES = (  # (call type, weight, priority, responder mix key)
    ("WELFARE CHECK", 9, 3, "ar"), ("MENTAL HEALTH CRISIS", 5, 2, "ar"),
    ("SUICIDAL PERSON", 2, 1, "ar"), ("INTOXICATED PERSON", 3, 3, "ar"),
    ("UNHOUSED ASSIST", 3, 4, "ar"), ("TRESPASS", 5, 3, "police"),
    ("NOISE COMPLAINT", 6, 4, "police"), ("DISTURBANCE", 9, 2, "police"),
    ("THEFT", 9, 3, "police"), ("ASSAULT", 5, 1, "police"), ("TRAFFIC STOP", 8, 3, "police"),
    ("TRAFFIC ACCIDENT", 5, 2, "police"), ("MEDICAL EMERGENCY", 12, 1, "medical"),
    ("STRUCTURE FIRE", 1, 1, "fire"), ("FIRE ALARM", 2, 2, "fire"),
    ("SUSPICIOUS PERSON", 7, 3, "police"), ("ALARM", 5, 3, "police"),
    ("PUBLIC ASSIST MISC", 4, 4, "police"))


def _csv_sql(n: int, seed: int) -> str:
    """SELECT producing the benchmark export from ``range(n)``; r1..r12 are uniforms in (0, 1)."""
    def pick(values, weights, col):
        cum = np.cumsum(weights) / sum(weights)
        lits = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)
        steps = " + ".join(f"({col} >= {c:.6f})::INT" for c in cum[:-1])
        return f"[{lits}][1 + {steps}]"

    days = 3 * 365 + 1  # 2022-01-01 .. 2024-12-31
    # Seconds after midnight at 1,001 evenly spaced quantiles of the hour-of-day profile: the
    # calls of one day, in call-number order, get increasing times following the profile.
    cdf = np.concatenate([[0], np.cumsum(_HOUR_PROFILE)]) / _HOUR_PROFILE.sum()
    secs = np.interp(np.arange(1001) / 1000, cdf, np.arange(25) * 3600)
    lookup = "[" + ", ".join(f"{x:.1f}" for x in secs) + "]"
    def uniform(k):
        # hash() of one integer is a 64-bit mixer; hash(0) is 0, so never hash a zero.
        key = f"((i + 1) * 64 + {k} + {seed % 1_000_000} * 1099511627776)"
        return f"((hash({key}) >> 11)::DOUBLE + 0.5) / 9007199254740992.0"

    uniforms = ", ".join(f"{uniform(k)} AS r{k}" for k in range(1, 13))
    types = pick([t[0] for t in _CSV_TYPES], [t[1] for t in _CSV_TYPES], "r3")
    origin = pick(["911", "NON-EMERGENCY", "ONVIEW"], [0.70, 0.10, 0.20], "r4")
    prio = " ".join(f"WHEN '{t}' THEN {p}" for t, _, p, _ in _CSV_TYPES)
    mix = " ".join(f"WHEN '{t}' THEN '{k}'" for t, _, _, k in _CSV_TYPES)
    fmt = "'%m/%d/%Y %H:%M:%S'"
    return f"""
WITH base AS (
  -- x: the call's position in days, increasing with the call number (jittered within its own
  -- slot); day = whole days, q = position within the day on a 0-1000 scale.
  SELECT i, floor(x)::BIGINT AS day, least(999.9999, 1000.0 * (x - floor(x))) AS q, * EXCLUDE (i, x)
  FROM (
    SELECT i, (i + {uniform(0)}) * {days} / {n} AS x, {uniforms}
    FROM range({n}) t(i))
), typed AS (
  SELECT *,
    TIMESTAMP '2022-01-01' + to_days(day::INT) + to_seconds(least(86399, floor(
      {lookup}[1 + floor(q)::INT] + (q - floor(q))
      * ({lookup}[2 + floor(q)::INT] - {lookup}[1 + floor(q)::INT]))::BIGINT)) AS received,
    {types} AS call_type,
    {origin} AS origin,
    sqrt(-2 * ln(r5)) * cos(2 * pi() * r6) AS z1,
    sqrt(-2 * ln(r5)) * sin(2 * pi() * r6) AS z2,
    sqrt(-2 * ln(r7)) * cos(2 * pi() * r8) AS z3
  FROM base
), classed AS (
  SELECT *, CASE call_type {prio} END AS prio, CASE call_type {mix} END AS mix FROM typed
), timed AS (
  SELECT *,
    CASE
      WHEN mix = 'ar' AND r9 < 0.45 THEN 'CRISIS TEAM'
      WHEN mix = 'ar' AND r9 < 0.50 THEN 'PHONE'
      WHEN mix = 'medical' THEN CASE WHEN r9 < 0.8 THEN 'EMS' ELSE 'FIRE' END
      WHEN mix = 'fire' THEN 'FIRE'
      ELSE 'POLICE' END AS responder,
    CASE WHEN origin = 'ONVIEW' THEN r10 * 15 ELSE 75 * exp(0.8 * z1) * prio END AS proc_s
  FROM classed
), delays AS (
  SELECT *,
    CASE
      WHEN origin = 'ONVIEW' THEN proc_s + r10 * 60
      WHEN responder = 'CRISIS TEAM' THEN greatest(proc_s + 120, 900 * exp(0.6 * z2))
      WHEN responder IN ('EMS', 'FIRE') THEN greatest(proc_s + 60, 450 * exp(0.4 * z2))
      ELSE greatest(proc_s + 60, 60 * [7, 12, 22, 35][prio] * exp(0.75 * z2)) END AS arr_s,
    CASE WHEN responder = 'CRISIS TEAM' THEN 2700 ELSE 1700 END * exp(0.7 * z3) AS scene_s
  FROM timed
)
SELECT
  strftime(received, '%y')
    || lpad((i + 1)::VARCHAR, greatest(8, length((i + 1)::VARCHAR))::INTEGER, '0')
    AS "Call Number",
  strftime(received, {fmt}) AS "Received",
  CASE WHEN responder = 'PHONE' THEN NULL
       ELSE strftime(received + to_seconds(round(proc_s)::BIGINT), {fmt}) END AS "Dispatched",
  CASE WHEN responder = 'PHONE' OR r11 < 0.03 THEN NULL
       ELSE strftime(received + to_seconds(round(arr_s)::BIGINT), {fmt}) END AS "Arrived",
  CASE WHEN r12 < 0.01 THEN NULL
       ELSE strftime(received + to_seconds(round(CASE WHEN responder = 'PHONE'
         THEN 900 + scene_s / 3 ELSE arr_s + scene_s END)::BIGINT), {fmt}) END AS "Cleared",
  call_type AS "Call Type",
  prio::VARCHAR AS "Priority",
  origin AS "Origin",
  responder AS "Responder",
  CASE
    WHEN responder = 'CRISIS TEAM' THEN ['CRT RESOLVED', 'CRT TRANSPORT', 'CRT REFERRAL',
                                         'GONE ON ARRIVAL'][1 + floor(r10 * 3.999)::INT]
    WHEN responder = 'PHONE' THEN 'RESOLVED BY PHONE'
    WHEN responder IN ('EMS', 'FIRE') THEN ['TRANSPORTED', 'TREATED AND RELEASED',
                                            'REFUSED CARE'][1 + floor(r10 * 2.999)::INT]
    ELSE ['REPORT TAKEN', 'ADVISED', 'GONE ON ARRIVAL', 'ASSISTED', 'NO ACTION',
          'ARREST'][1 + floor(r10 * 5.999)::INT] END AS "Disposition",
  'B' || lpad((1 + floor(r9 * 997)::INT % 24)::VARCHAR, 2, '0') AS "Beat"
FROM delays
"""
