"""SQL from the registered arrays to each export's rows: ids in each export's format, instants
from local wall-clock times in each jurisdiction's zone, labels beside codes, rows numbered
like a spreadsheet (file_row, the order data/demo/files.py writes them in)."""
from __future__ import annotations

import numpy as np

from .rates import (MEDICAL_DISPO_P, MEDICAL_DISPOS, MODEL_RAW, POLICE_DISPO_P, POLICE_DISPOS,
                    SERVICE_RAW, STATUS_RAW)

def _idfmt(prefix, yfmt, sep, width, ts, seq):
    year = f"CASE {yfmt} WHEN '%Y' THEN strftime({ts}, '%Y') ELSE strftime({ts}, '%y') END"
    return (f"{prefix} || {year} || {sep} || "
            f"lpad({seq}::VARCHAR, greatest({width}, length({seq}::VARCHAR))::INTEGER, '0')")


def shape(con) -> None:
    """The temp tables demo_calls, demo_responses and demo_referrals: the rows of each export,
    from the registered arrays (data/demo/arrow.py), written out by data/demo/files.py."""
    _calls(con)
    _responses(con)
    _referrals(con)


def drop_temporaries(con) -> None:
    for t in ("demo_calls", "demo_responses", "demo_referrals"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _dispositions(values, shares) -> str:
    """A SQL pick from ``values`` with ``shares`` by the row's uniform ``dispo_u``."""
    cum = np.cumsum(shares) / sum(shares)
    return ("['" + "', '".join(values) + "'][1 + "
            + " + ".join(f"(dispo_u >= {c:.6f})::INT" for c in cum[:-1]) + "]")


def _placed(a: str, table: str, local: str, at: str) -> str:
    """Rows of ``table`` (alias ``a``) with their instant ``at`` from the local ``local`` in
    the jurisdiction's zone, their number within the local year (``seq``, for ids) and their
    row in the file (``file_row``: header = row 1, in local time order)."""
    return f"""
  SELECT *, timezone(m.tz, {a}.{local}::TIMESTAMP) AS {at},
    row_number() OVER (PARTITION BY {a}.jurisdiction, year({a}.{local})
                       ORDER BY {a}.{local}, {a}.gen_idx) AS seq,
    row_number() OVER (PARTITION BY {a}.jurisdiction ORDER BY {a}.{local}, {a}.gen_idx) + 1
      AS file_row
  FROM {table} {a} JOIN demo_meta m USING (jurisdiction)
"""


def _calls(con) -> None:
    pick_p = _dispositions(POLICE_DISPOS, POLICE_DISPO_P)
    pick_m = _dispositions(MEDICAL_DISPOS, MEDICAL_DISPO_P)
    con.execute("DROP TABLE IF EXISTS demo_calls")
    con.execute(f"""
CREATE TEMP TABLE demo_calls AS
WITH c AS ({_placed('c', 'demo_calls_in', 'local_ts', 'received_at')})
SELECT
  jurisdiction, gen_idx,
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
  file_row
FROM c
""")


def _responses(con) -> None:
    con.execute("DROP TABLE IF EXISTS demo_responses")
    con.execute(f"""
CREATE TEMP TABLE demo_responses AS
WITH r AS ({_placed('r', 'demo_responses_in', 'base_local', 'base_at')})
SELECT
  r.jurisdiction, r.gen_idx, r.file_row,
  {_idfmt('r.resp_prefix', 'r.resp_yfmt', 'r.resp_sep', 'r.resp_width', 'r.base_local', 'r.seq')}
    AS response_id,
  c.call_id, r.team,
  r.model, CASE r.model WHEN 'co_response' THEN '{MODEL_RAW["co_response"]}'
    ELSE '{MODEL_RAW["alternative"]}' END AS model_raw,
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
  r.person AS person,
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


def _referrals(con) -> None:
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
  g.jurisdiction, g.seq + 1 AS file_row,
  g.ref_prefix || lpad(g.seq::VARCHAR, greatest(g.ref_width, length(g.seq::VARCHAR))::INTEGER, '0')
    AS referral_id,
  CASE WHEN NOT g.orphan THEN r.response_id END AS response_id, r.person,
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
""", [list(SERVICE_RAW), list(SERVICE_RAW.values()), list(STATUS_RAW),
      list(STATUS_RAW.values())])
