"""Synthetic exports for the benchmark: a CAD calls file, the team's responses and referrals.

The calls file is ``data.demo.generate_calls_csv`` (the demo cohort's hour-of-day profile and
call-type mix). Responses and referrals are derived from it here, in one DuckDB COPY each, with
the rates of the demo's first jurisdiction (``data.demo.DEMOS[0]``): its contact, back-up,
arrest and injury rates, transport destinations, referral and connection shares, age, gender and
race mixes. Every random number is a hash of the row number and the seed, so the same seed and
sizes give the same files on any number of threads.

Responses are the crisis-team calls of the calls file (``Responder = CRISIS TEAM``, about one
call in ten), linked by call number; when more responses are asked for than there are such
calls, the rest are team-initiated (no call). People repeat: person keys are drawn from a pool
half the size of the responses with a skewed draw, so a few people have dozens of contacts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from data import demo

ROOT = Path(__file__).resolve().parent.parent
PROFILES = Path(__file__).resolve().parent / "profiles"
CALLS_PROFILE = ROOT / "tests" / "profiles" / "demo_calls.toml"
RESPONSES_PROFILE = PROFILES / "bench_responses.toml"
REFERRALS_PROFILE = PROFILES / "bench_referrals.toml"
TIMEZONE = "America/Chicago"  # the calls profile's zone
JURISDICTION = "Bench City"  # the one jurisdiction every benchmark export is imported as
FMT = "%m/%d/%Y %H:%M:%S"      # the calls file's timestamp format
WINDOW_END = "2025-01-01"       # generate_calls_csv spans 2022-01-01 .. 2024-12-31

# The reason for dispatch a crisis-team call gets, by its call type.
_REASONS = {"WELFARE CHECK": "Welfare check", "MENTAL HEALTH CRISIS": "Mental health crisis",
            "SUICIDAL PERSON": "Suicidal ideation", "INTOXICATED PERSON": "Intoxication",
            "UNHOUSED ASSIST": "Unhoused - basic needs"}
_SERVICE_BY_REASON = {"Mental health crisis": "MENTAL_HEALTH",
                      "Suicidal ideation": "SUICIDE_THREAT",
                      "Intoxication": "INTOXICATION", "Unhoused - basic needs": "HOMELESS_ASSIST"}
_OUTCOME_LABEL = {"resolved_on_scene": "Resolved on scene", "referred": "Referred",
                  "refused": "Refused services", "other": "Other"}
_DEST_LABEL = {"none": "None", "emergency_department": "Emergency Department",
               "crisis_center": "Crisis Center", "sobering_detox": "Sobering Center",
               "shelter": "Shelter", "other": "Other"}
_SERVICE_LABEL = {"mental_health": "Behavioral Health", "substance_use": "Substance Use",
                  "housing_shelter": "Housing/Shelter", "medical": "Medical",
                  "benefits_id": "Benefits/ID", "other": "Other"}
_RACE_LABEL = {"hispanic_latino": "Hispanic or Latino", "white": "White",
               "black": "Black or African American", "asian": "Asian",
               "aian": "American Indian or Alaska Native",
               "nhpi": "Native Hawaiian or Other Pacific Islander",
               "multiracial": "Two or more races", "other": "Some other race"}


@dataclass(frozen=True)
class Exports:
    calls: Path
    responses: Path
    referrals: Path


def jurisdiction_settings(n_calls: int) -> dict:
    """The program settings of the benchmark jurisdiction: the demo's first, at this size."""
    d = demo.DEMOS[0]
    return {"state": d.state, "population": max(1000, n_calls // 2), "program_name": d.program,
            "launch_date": "2022-05-02", "coverage_start_hour": d.cov_hours[0],
            "coverage_end_hour": d.cov_hours[1], "coverage_days": d.cov_days,
            "target_categories": list(d.targets)}


def write_exports(folder: Path, n_calls: int, n_responses: int, seed: int = 0,
                  name: str = "bench") -> Exports:
    folder.mkdir(parents=True, exist_ok=True)
    out = Exports(folder / f"{name}_calls.csv", folder / f"{name}_responses.csv",
                  folder / f"{name}_referrals.csv")
    demo.generate_calls_csv(out.calls, n_calls, seed=seed)
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        _copy(con, responses_sql(out.calls, n_responses, seed), out.responses)
        _copy(con, referrals_sql(out.responses, seed), out.referrals)
    finally:
        con.close()
    return out


def _copy(con, sql: str, target: Path) -> None:
    path = str(target).replace("'", "''")
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT csv, HEADER true, DELIMITER ',')")


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _uniform(k: int, seed: int, row: str = "k") -> str:
    """A uniform in (0, 1) from the row number ``row`` and stream ``k`` (hash never sees 0)."""
    key = f"(({row} + 1) * 64 + {k} + {seed % 1_000_000 + 7} * 1099511627776)"
    return f"((hash({key}) >> 11)::DOUBLE + 0.5) / 9007199254740992.0"


def _pick(labels, weights, u: str) -> str:
    cum = np.cumsum(weights) / sum(weights)
    lits = ", ".join("'" + str(v).replace("'", "''") + "'" for v in labels)
    steps = " + ".join(f"({u} >= {c:.6f})::INT" for c in cum[:-1]) or "0"
    return f"[{lits}][1 + {steps}]"


def _lognormal(median_s: float, sigma: float, u1: str, u2: str) -> str:
    return f"{median_s} * exp({sigma} * sqrt(-2 * ln({u1})) * cos(2 * pi() * {u2}))"


def _fmt(expr: str) -> str:
    return f"strftime({expr}, '{FMT}')"


def responses_sql(calls_csv: Path, m: int, seed: int) -> str:
    d = demo.DEMOS[0]
    u = {k: _uniform(k, seed) for k in range(1, 20)}
    dest_w = ([1 - sum(d.destinations.values())]
              + [d.destinations[k] for k in demo._DESTINATIONS[1:]])
    dest = _pick([_DEST_LABEL[k] for k in demo._DESTINATIONS], dest_w, u[3])
    contact_outcome = _pick([_OUTCOME_LABEL[k] for k in demo._CONTACT_OUTCOMES],
                            demo._CONTACT_OUTCOME_P, u[4])
    race_w = [d.race[g] * demo._CONTACT_RACE_FACTOR[g] for g in _RACE_LABEL]
    # Demographics belong to the person: drawn from the person number, not the row.
    race = _pick(list(_RACE_LABEL.values()), race_w, _uniform(1, seed, "person"))
    gender = _pick(["Male", "Female", "Non-binary", "Other", "Unknown"], demo._GENDER_MIX,
                   _uniform(2, seed, "person"))
    age = _pick(demo.AGE_GROUPS, demo._AGE_MIX, _uniform(3, seed, "person"))
    reason = " ".join(f"WHEN '{t}' THEN '{r}'" for t, r in _REASONS.items())
    second = _pick(demo._SECOND_REASONS, [1] * len(demo._SECOND_REASONS), u[12])
    pool = max(1, int(m * 0.5))
    days = 3 * 365 + 1
    return f"""
WITH calls AS (
  SELECT "Call Number" AS call_id, strptime("Received", '{FMT}') AS received,
    strptime("Dispatched", '{FMT}') AS dispatched, strptime("Arrived", '{FMT}') AS arrived,
    strptime("Cleared", '{FMT}') AS cleared, "Call Type" AS call_type, "Beat" AS beat
  FROM read_csv({_lit(calls_csv)}, all_varchar = true) WHERE "Responder" = 'CRISIS TEAM'
), linked AS (
  SELECT * FROM calls
  QUALIFY row_number() OVER (ORDER BY hash(call_id, {seed})) <= {m}
), self_made AS (
  -- Team-initiated responses (outreach): day time, anywhere, no call.
  SELECT NULL::VARCHAR AS call_id, TIMESTAMP '2022-01-01' + to_days(floor(a * {days})::INT)
      + to_seconds((8 * 3600 + floor(b * 12 * 3600))::BIGINT) AS received,
    NULL::TIMESTAMP AS dispatched, NULL::TIMESTAMP AS arrived, NULL::TIMESTAMP AS cleared,
    'OUTREACH' AS call_type, 'B' || lpad((1 + floor(b * 997)::INT % 24)::VARCHAR, 2, '0') AS beat
  FROM (SELECT {_uniform(1, seed + 1, 'i')} AS a, {_uniform(2, seed + 1, 'i')} AS b
        FROM range({m} - (SELECT count(*) FROM linked)) t(i))
), rows AS (
  SELECT row_number() OVER (ORDER BY received, call_id) - 1 AS k, * FROM (
    SELECT * FROM linked UNION ALL SELECT * FROM self_made)
), drawn AS (
  SELECT *, {', '.join(f'{expr} AS u{k}' for k, expr in u.items())} FROM rows
), timed AS (
  SELECT *,
    u1 < {d.contact_rate} AS contact,
    call_id IS NULL AS self,
    received + to_seconds(CASE WHEN dispatched IS NULL THEN 0
      ELSE epoch(dispatched - received)::BIGINT // 2 END) AS requested,
    coalesce(dispatched, received + to_seconds(floor(u5 * 60)::BIGINT)) AS t_dispatched
  FROM drawn
), outcomes AS (
  SELECT *,
    CASE WHEN contact THEN {dest} END AS destination,
    NOT contact AND u6 < 0.35 AS cancelled,
    CASE WHEN self THEN t_dispatched + to_seconds(floor(u7 * 180)::BIGINT) ELSE arrived END
      AS t_arrived
  FROM timed
), people AS (
  SELECT *,
    CASE WHEN contact AND u8 >= 0.06 THEN floor({pool} * pow(u9, 3))::BIGINT END AS person
  FROM outcomes
)
SELECT
  'R' || lpad((k + 1)::VARCHAR, 9, '0') AS "Response ID",
  call_id AS "CAD Number",
  '{d.team}' AS "Team",
  '{d.model}' AS "Model",
  {_fmt('requested')} AS "Requested",
  {_fmt('t_dispatched')} AS "Dispatched",
  CASE WHEN NOT cancelled THEN {_fmt('t_arrived')} END AS "Arrived",
  CASE WHEN contact AND t_arrived IS NOT NULL
    THEN {_fmt("t_arrived + to_seconds(round(" + _lognormal(90, 0.8, 'u10', 'u11') + ")::BIGINT)")}
  END AS "Engaged",
  {_fmt("coalesce(cleared, coalesce(t_arrived, t_dispatched) + to_seconds(round("
        + _lognormal(d.onscene_median * 60, 0.55, 'u13', 'u14') + ")::BIGINT))")} AS "Cleared",
  coalesce(CASE call_type {reason} END, CASE WHEN u15 < 0.6 THEN 'Unhoused - basic needs'
    ELSE 'Welfare check' END) || CASE WHEN u12 < 0.3 THEN '; ' || {second} ELSE '' END
    AS "Reasons",
  CASE WHEN contact THEN 'Yes' ELSE 'No' END AS "Contact",
  CASE WHEN u16 < {d.backup_rate} THEN 'Yes' ELSE 'No' END AS "Police Backup",
  CASE WHEN u16 < {d.backup_rate} AND u17 < {d.arrest_rate / d.backup_rate:.4f} THEN 'Yes'
    ELSE 'No' END AS "Arrest",
  CASE WHEN u18 < {d.injury_rate} THEN 'Yes' ELSE 'No' END AS "Injury",
  CASE WHEN destination IS NOT NULL AND destination <> 'None' THEN 'Transported'
       WHEN contact THEN {contact_outcome}
       WHEN cancelled THEN 'Cancelled' ELSE 'Unable to locate' END AS "Outcome",
  destination AS "Destination",
  CASE WHEN person IS NOT NULL THEN 'P' || lpad(person::VARCHAR, 8, '0') END AS "Client ID",
  CASE WHEN person IS NULL THEN NULL WHEN u19 < {d.unknown_race} THEN 'Unknown'
    ELSE {race} END AS "Race",
  CASE WHEN person IS NOT NULL THEN {gender} END AS "Gender",
  CASE WHEN person IS NOT NULL THEN {age} END AS "Age Group",
  beat AS "Area"
FROM people
ORDER BY k
"""


def referrals_sql(responses_csv: Path, seed: int) -> str:
    d = demo.DEMOS[0]
    mixes = []
    for reason, cat in list(_SERVICE_BY_REASON.items()) + [(None, None)]:
        mix = demo._SERVICE_MIX.get(cat, demo._SERVICE_MIX[None])
        pick = _pick([_SERVICE_LABEL[s] for s in demo._SERVICE_TYPES], mix, "u3")
        mixes.append((reason, pick))
    service = ("CASE " + " ".join(f"WHEN reason = '{r}' THEN {p}" for r, p in mixes if r)
               + f" ELSE {mixes[-1][1]} END")
    u = {k: _uniform(k, seed + 2) for k in range(1, 9)}
    status_rest = _pick(["Made", "Declined", "Unknown"], (0.55, 0.25, 0.20), "u7")
    return f"""
WITH responses AS (
  SELECT row_number() OVER () - 1 AS r, "Response ID" AS response_id, "Client ID" AS person,
    split_part("Reasons", ';', 1) AS reason, strptime("Cleared", '{FMT}') AS cleared
  FROM read_csv({_lit(responses_csv)}, all_varchar = true) WHERE "Contact" = 'Yes'
), chosen AS (
  -- A referral for about half the contacts; three in ten of them get a second one.
  SELECT * FROM responses, (SELECT unnest([0, 1]) AS nth)
  WHERE {_uniform(1, seed + 3, 'r')} < {d.referral_rate}
    AND (nth = 0 OR {_uniform(2, seed + 3, 'r')} < 0.3)
), rows AS (
  SELECT row_number() OVER (ORDER BY r, nth) - 1 AS k, * FROM chosen
), drawn AS (
  SELECT *, {', '.join(f'{expr} AS u{k}' for k, expr in u.items())} FROM rows
), dated AS (
  SELECT *,
    cleared + to_seconds(round({_lognormal(1800, 1.2, 'u1', 'u2')})::BIGINT) AS referred,
    to_seconds(round({_lognormal(12 * 86400, 1.1, 'u4', 'u5')})::BIGINT) AS wait
  FROM drawn
)
SELECT
  'F' || lpad((k + 1)::VARCHAR, 9, '0') AS "Referral ID",
  response_id AS "Response ID",
  person AS "Client ID",
  {service} AS "Service",
  {_fmt('referred')} AS "Referred",
  CASE WHEN u6 < {d.connected_share} AND referred + wait < TIMESTAMP '{WINDOW_END}'
    THEN 'Connected' ELSE {status_rest} END AS "Status",
  CASE WHEN u6 < {d.connected_share} AND referred + wait < TIMESTAMP '{WINDOW_END}'
    THEN {_fmt('referred + wait')} END AS "Connected"
FROM dated
WHERE referred < TIMESTAMP '{WINDOW_END}'
ORDER BY k
"""


def settle_jurisdiction(con, jurisdiction: str, n_calls: int) -> None:
    """Program settings and the starter crosswalk, as an administrator would set them up."""
    from data import facts
    from data.crosswalk import apply_starter_crosswalk, repropose_eligibility

    s = jurisdiction_settings(n_calls)
    con.execute(
        "UPDATE jurisdictions SET state = ?, population = ?, program_name = ?, "
        "launch_date = ?::DATE, coverage_start_hour = ?, coverage_end_hour = ?, "
        "coverage_days = ?, target_categories = ?::VARCHAR[] WHERE jurisdiction = ?",
        [s["state"], s["population"], s["program_name"], s["launch_date"],
         s["coverage_start_hour"], s["coverage_end_hour"], s["coverage_days"],
         s["target_categories"], jurisdiction])
    # Settings edited here by hand, as guarded does: the crosswalk rows the import wrote
    # take their eligibility from the target categories, then the calls are worked out again.
    repropose_eligibility(con, jurisdiction)
    facts.refresh(con, jurisdiction)
    apply_starter_crosswalk(con, jurisdiction)
    enter_costs(con, jurisdiction)


def enter_costs(con, jurisdiction: str) -> None:
    """Program costs for every quarter of the calls and the police rate, through the costs
    import kind, so that the Cost page draws (and is timed on) real figures."""
    from data.costs import enter_costs as enter

    first, last = con.execute("SELECT min(received_local), max(received_local) FROM calls "
                              "WHERE jurisdiction = ?", [jurisdiction]).fetchone()
    if first is None:
        return
    entries = [{"period": f"{y}-Q{q}", "stream": stream, "amount": amount}
               for y in range(first.year, last.year + 1) for q in range(1, 5)
               for stream, amount in (("general_fund", 400_000), ("arpa_slfrf", 250_000))]
    enter(con, jurisdiction, entries + [{"period": "", "stream": "police_hourly_cost",
                                         "amount": 150}], source="the benchmark")
