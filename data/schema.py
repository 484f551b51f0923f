"""The canonical model: tables, their columns, and the standard value sets.

This module is the contract that analysts may query directly (see README "Data model"). Every
import maps a jurisdiction's export onto these tables; every metric reads only these tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# --- Standard value sets (DOMAIN.md §3). Defined once; documented in the README from here. ---
VALUE_SETS: dict[str, tuple[str, ...]] = {
    "origin": ("911", "non_emergency", "officer_initiated", "other"),
    "responder": ("police", "fire", "ems", "alternative", "co_response", "phone", "none"),
    "model": ("alternative", "co_response"),
    "outcome": ("resolved_on_scene", "transported", "referred", "refused", "unable_to_locate",
                "cancelled", "other"),
    "transport_destination": ("none", "emergency_department", "crisis_center", "sobering_detox",
                              "shelter", "other"),
    "race_ethnicity": ("hispanic_latino", "white", "black", "asian", "aian", "nhpi", "mena",
                       "multiracial", "other", "unknown"),
    "gender": ("female", "male", "nonbinary", "other", "unknown"),
    "service_type": ("mental_health", "substance_use", "housing_shelter", "medical", "benefits_id",
                     "other"),
    "referral_status": ("made", "connected", "declined", "unknown"),
    # Where a program's money comes from (DOMAIN.md §9): costs are entered per stream, so that
    # each stream's end (SLFRF, the Medicaid enhanced match) shows as a funding cliff.
    "funding_stream": ("general_fund", "arpa_slfrf", "medicaid", "opioid_settlement", "fees_988",
                       "grant", "other"),
}

# The code a value set falls back to when a present value matches nothing (the raw value is kept).
FALLBACK_CODE = {
    "origin": "other", "responder": None, "model": None, "outcome": "other",
    "transport_destination": "other", "race_ethnicity": "unknown", "gender": "unknown",
    "service_type": "other", "referral_status": "unknown",
}

KINDS = ("calls", "responses", "referrals", "population")
# What `python -m data import --kind` accepts: the record kinds, and area boundaries (GeoJSON,
# data/boundaries.py), which fill the table area_boundaries instead of a table of their name.
IMPORT_KINDS = KINDS + ("boundaries", "costs")


@dataclass(frozen=True)
class Field:
    """One canonical column that an import can fill from a source column."""

    name: str
    type: str  # id | text | timestamp | bool | number | integer | code | list
    required: bool = False
    value_set: str | None = None  # for type == "code"
    doc: str = ""
    synonyms: tuple[str, ...] = field(default_factory=tuple)
    stored: bool = True  # False: read from the file but not a column of the table


def _f(name, type_, doc, *synonyms, required=False, value_set=None, stored=True):
    return Field(name, type_, required, value_set, doc, tuple(synonyms), stored)


# Synonyms are normalised header names seen in real exports (lower case, letters and digits only).
FIELDS: dict[str, tuple[Field, ...]] = {
    "calls": (
        _f("call_id", "id", "Identifier of the call in the CAD system", "callid", "callnumber",
           "incidentnum", "incidentnumber", "incidentid", "cadeventnumber", "eventnumber",
           "eventid",
           "id", "callno", "cadnumber", "cfsnumber", "incident",
           # common open-data headers
           "caseno", "casenumber", "incidentno", "incno", "incnum", "eventno", "eventnum",
           "cadincidentnumber", "cadeventid", "cfsno", "cfsid", "callkey", "inciid",
           required=True),
        _f("received_at", "timestamp", "When the call was received (first ring / call created)",
           "receivedat", "datetime", "calltimestamp", "originaltimequeued", "time", "timestamp",
           "calltime", "received", "receiveddatetime", "callreceived", "createdat", "calldatetime",
           "incidentdate", "date",
           # common open-data headers (a date column beside a time column: data/columns.py)
           "eventdt", "eventdate", "eventdatetime", "calldate", "calldt", "datereceived",
           "receivedtime", "receiveddttm", "alarmdttm", "entrydttm", "createddate",
           "createdatetime", "datetimereceived", "timereceived", "incidentdatetime",
           "dateofcall", "eventtm", "eventtime", required=True),
        _f("dispatched_at", "timestamp", "First unit dispatched", "dispatchedat", "dispatchtime",
           "dispatchdatetime", "timedispatched", "firstdispatch", "dispatchdttm"),
        _f("enroute_at", "timestamp", "First unit en route", "enrouteat", "enroutetime",
           "timeenroute"),
        _f("arrived_at", "timestamp", "First unit on scene", "arrivedat", "arrivedtime",
           "arrivaltime", "onscenetime", "timeonscene", "arrivaldatetime", "onscenedttm"),
        _f("cleared_at", "timestamp", "Last unit cleared", "clearedat", "clearedtime", "cleartime",
           "closedtime", "timeclosed", "closeddatetime"),
        _f("call_type", "text", "Local call type as exported (initial if there are two)",
           "calltype", "initialcalltype", "nature", "calldescription", "type", "title",
           "incidenttype", "natureofcall", "problem", "eventtype",
           # common open-data headers
           "offense", "calltypedescription", "calltypedesc", "calltypetext",
           "incidenttypedescription", "eventtypedescription", "typedescription", "calldesc",
           "naturecode", "natureofincident", "initialtypedescription", "eventdesc",
           required=True),
        _f("call_type_final", "text", "Final call type, when the export has initial and final",
           "finalcalltype", "finaltype", "closedcalltype"),
        _f("category", "text", "Standard category (from the crosswalk, or from the file)",
           "category", "callcategory"),
        _f("priority", "text", "Priority as exported", "priority", "callpriority",
           "initialpriority", "pri", "prioritydescription"),
        _f("origin", "code", "How the call came in", "origin", "callorigin", "source", "callsource",
           "officerinitiated", value_set="origin"),
        _f("responder", "code", "Who responded", "responder", "respondertype", "agency",
           "respondingagency", "unittype", value_set="responder"),
        _f("disposition", "text", "Disposition as exported", "disposition", "status",
           "eventclearancedescription", "clearancedescription", "dispo", "finaldisposition",
           "dispositiondescription", "dispositiondesc", "closecode", "clearancecode"),
        _f("area", "text", "District / beat / precinct / neighbourhood", "area", "beat",
           "district", "precinct", "neighborhood", "neighbourhood", "sector", "zone", "twp",
           "councildistrict", "precinctsca", "battalion", "policebeat", "policedistrict",
           "reportingarea", "ward", "servicearea", "patrolarea"),
        _f("census_tract", "text", "Census tract", "censustract", "tract"),
        _f("lat", "number", "Latitude (may be blurred by the publisher)", "lat", "latitude",
           "blurredlatitude", "y"),
        _f("lon", "number", "Longitude (may be blurred by the publisher)", "lon", "lng",
           "longitude", "blurredlongitude", "x"),
        _f("eligible", "bool", "Eligible for alternative response (blank = unknown)", "eligible",
           "areligible"),
        _f("not_served_reason", "text", "Why an eligible call got no alternative response",
           "notservedreason", "reasonnotserved"),
    ),
    "responses": (
        _f("response_id", "id", "Identifier of the dispatch in the team's records", "responseid",
           "id", "dispatchid", "recordid", "encounterid", "caseid", "incidentid", required=True),
        _f("call_id", "text", "The linked 911/CAD call, when known", "callid", "callnumber",
           "cadnumber", "incidentnumber", "cadeventnumber"),
        _f("team", "text", "Team or unit name", "team", "unit", "teamname", "program", "city"),
        _f("model", "code", "alternative-only or co-response", "model", "responsemodel",
           value_set="model"),
        _f("requested_at", "timestamp", "When the team was requested",
           "requestedat", "dispatchrequestdatetime", "requesttime", "requestdatetime",
           "datetime", "received", required=True),
        _f("dispatched_at", "timestamp", "Team dispatched", "dispatchedat", "dispatchdatetime",
           "dispatchtime"),
        _f("arrived_at", "timestamp", "Team on scene", "arrivedat", "arrivalonscenedatetime",
           "arrivaltime", "onscenetime", "arriveddatetime"),
        _f("engaged_at", "timestamp", "Team engaged the person",
           "engagedat", "engagementwithclientdatetime", "engagementtime"),
        _f("cleared_at", "timestamp", "Team left / cleared", "clearedat", "mcitdeparturedatetime",
           "departuretime", "cleartime", "departuredatetime"),
        _f("reasons", "list", "Reasons for dispatch (one or more columns)", "reasons",
           "reasonfordispatch", "reason"),
        _f("contact_made", "bool", "The team made contact with the person", "contactmade",
           "contact", "endpointofdispatch"),
        _f("police_backup", "bool", "The team requested police back-up", "policebackup",
           "backuprequested", "policebackuprequested"),
        _f("arrest", "bool", "An arrest resulted", "arrest", "arrestmade"),
        _f("injury", "bool", "Anyone was injured", "injury", "injuries"),
        _f("outcome", "code", "Outcome of the response", "outcome", "result", "disposition",
           value_set="outcome"),
        _f("transport_destination", "code", "Where the person was taken, if anywhere",
           "transportdestination", "destination", "transportedto",
           value_set="transport_destination"),
        _f("person_key", "text", "Pseudonymous person identifier (hashed at import)", "personkey",
           "personid", "clientid", "patientid"),
        _f("race_ethnicity", "code", "Race/ethnicity as recorded", "raceethnicity", "race",
           "ethnicity", value_set="race_ethnicity"),
        _f("gender", "code", "Gender as recorded", "gender", "sex", value_set="gender"),
        _f("age_group", "text", "Age group", "agegroup", "age", "ageband"),
        _f("area", "text", "Area where the team responded", "area", "neighborhood", "district",
           "beat", "zone"),
    ),
    "referrals": (
        _f("referral_id", "id", "Identifier of the referral", "referralid", "id", required=True),
        _f("response_id", "text", "The response during which the referral was made",
           "responseid", "dispatchid", "encounterid"),
        _f("person_key", "text", "Pseudonymous person identifier (hashed at import)", "personkey",
           "personid", "clientid"),
        _f("service_type", "code", "Kind of service", "servicetype", "service", "referraltype",
           "type", value_set="service_type"),
        _f("referred_at", "timestamp", "When the referral was made", "referredat", "referraldate",
           "date", required=True),
        _f("status", "code", "Made / connected / declined / unknown", "status", "referralstatus",
           value_set="referral_status"),
        _f("connected_at", "timestamp", "When the person was connected to the service",
           "connectedat", "connectiondate", "connecteddate"),
    ),
    "population": (
        _f("geography", "text", "Whole jurisdiction or an area name", "geography", "area", "geo",
           "name", "city", required=True),
        _f("dimension", "text", "race_ethnicity, age_group, gender or total", "dimension"),
        _f("group", "text", "Group within the dimension. A geography's only total is its `total` "
           "row (dimension `total`): from a total row in the file, an ACS table's total estimate "
           "or a `total_population` column, never a sum of groups, because race rows may overlap "
           "(long-format city tables count Hispanic or Latino beside the races)", "group", "race",
           "raceethnicity", "category", required=True),
        _f("population", "integer", "Residents", "population", "count", "estimate", "total",
           required=True),
        _f("moe", "integer", "Margin of error (90%)", "moe", "marginoferror"),
        _f("source", "text", "Where the figures come from (e.g. ACS 2019-23 5-year)", "source"),
        # Not a column: long-format city tables repeat the city's total on every race row.
        _f("total_population", "integer", "The geography's total, repeated on each row: becomes "
           "its `total` row", "totalpopulation", "totalpop", stored=False),
    ),
}

# The record identifier and the main timestamp of each kind (used for keys and period views).
ID_FIELD = {"calls": "call_id", "responses": "response_id", "referrals": "referral_id",
            "population": "population_key"}
MAIN_TIME = {"calls": "received_at", "responses": "requested_at", "referrals": "referred_at",
             "population": None}
# Expected order of a record's timestamps; a later one earlier than an earlier one is flagged.
TIME_ORDER = {
    "calls": ("received_at", "dispatched_at", "enroute_at", "arrived_at", "cleared_at"),
    "responses": ("requested_at", "dispatched_at", "arrived_at", "engaged_at", "cleared_at"),
    "referrals": ("referred_at", "connected_at"),
    "population": (),
}

_SQL_TYPE = {"id": "VARCHAR", "text": "VARCHAR", "timestamp": "TIMESTAMPTZ", "bool": "BOOLEAN",
             "number": "DOUBLE", "integer": "BIGINT", "code": "VARCHAR", "list": "VARCHAR[]"}


def fields(kind: str) -> tuple[Field, ...]:
    return FIELDS[kind]


def field_of(kind: str, name: str) -> Field:
    for f in FIELDS[kind]:
        if f.name == name:
            return f
    raise KeyError(f"{kind}.{name}")


# Area boundaries (issue 5): one row per area of a jurisdiction, from its GeoJSON upload
# (data/boundaries.py). `area` is written as the calls' and responses' `area` values are, so
# that a map joins on it; `geometry` is the GeoJSON Polygon or MultiPolygon, longitude/latitude.
BOUNDARY_COLUMNS = [("jurisdiction", "VARCHAR NOT NULL"), ("area", "VARCHAR NOT NULL"),
                    ("geometry", "VARCHAR NOT NULL"), ("import_id", "BIGINT NOT NULL")]


# Program costs (issue 22): one row per period and funding stream of a jurisdiction, from a
# costs file, the Data page's form or `python -m data costs` (data/costs.py). The stream
# `police_hourly_cost` holds the police department's fully loaded cost per unit-hour instead
# of a program cost; its period may be blank (then it holds for every period without its own).
# Periods are whole months: a quarter, a month, a year or a range of months, each cost spread
# evenly over its months.
POLICE_HOURLY = "police_hourly_cost"
COST_STREAMS = VALUE_SETS["funding_stream"] + (POLICE_HOURLY,)
COST_COLUMNS = [("jurisdiction", "VARCHAR NOT NULL"), ("cost_key", "VARCHAR NOT NULL"),
                ("period", "VARCHAR"), ("period_start", "DATE"), ("months", "INTEGER"),
                ("stream", "VARCHAR NOT NULL"), ("amount", "DOUBLE NOT NULL"),
                ("fte", "DOUBLE"), ("import_id", "BIGINT NOT NULL"), ("file_row", "BIGINT")]


def table_of(kind: str) -> str:
    """The table an import of ``kind`` fills."""
    return "area_boundaries" if kind == "boundaries" else kind


def record_columns(kind: str) -> list[tuple[str, str]]:
    """(column, SQL type) of a record table, in table order."""
    if kind == "boundaries":
        return list(BOUNDARY_COLUMNS)
    if kind == "costs":
        return list(COST_COLUMNS)
    cols = [("jurisdiction", "VARCHAR NOT NULL")]
    if kind == "population":
        # Population rows have no id in any source: geography|dimension|group|source is the key.
        cols.append(("population_key", "VARCHAR NOT NULL"))
    for f in FIELDS[kind]:
        if not f.stored:
            continue
        cols.append((f.name, _SQL_TYPE[f.type]))
        if f.type == "code":
            cols.append((f"{f.name}_raw", "VARCHAR"))  # the original value beside the standard one
    main = MAIN_TIME[kind]
    if main:
        # Wall-clock time in the jurisdiction's zone: months, weekdays and hours are local.
        cols.append((main.replace("_at", "_local"), "TIMESTAMP"))
    if kind == "responses":
        # Derived: the linked call's receipt, refreshed by every import and undo
        # (data/links.py), so that response times need no join with millions of calls.
        cols.append(("call_received_at", "TIMESTAMPTZ"))
        # Derived the same way: whether any referral was made during the response (E1).
        cols.append(("has_referral", "BOOLEAN"))
    cols += [("import_id", "BIGINT NOT NULL"), ("file_row", "BIGINT")]
    return cols


# Record identifiers are nearly all distinct: no dictionary fits them, and DuckDB's attempt at
# one (dictionary, then FSST) was the costliest column of writing an import (about a sixth of
# writing 5 million calls). Stored as they are, they take some 10 bytes more per row.
UNCOMPRESSED = frozenset({"call_id", "response_id", "referral_id"})


def _table_ddl(name: str, cols: list[tuple[str, str]], key: str | None,
               uncompressed: frozenset = frozenset()) -> str:
    body = ",\n  ".join(f'"{c}" {t}' + (" USING COMPRESSION uncompressed" if c in uncompressed
                                         else "") for c, t in cols)
    if key:
        body += f",\n  PRIMARY KEY ({key})"
    return f"CREATE TABLE IF NOT EXISTS {name} (\n  {body}\n)"


DDL_FIXED = [
    """CREATE TABLE IF NOT EXISTS jurisdictions (
  jurisdiction VARCHAR PRIMARY KEY,
  state VARCHAR,
  time_zone VARCHAR NOT NULL DEFAULT 'UTC',
  population BIGINT,
  program_name VARCHAR,
  launch_date DATE,
  coverage_start_hour SMALLINT,   -- local hour the team starts (0-23); NULL = around the clock
  coverage_end_hour SMALLINT,     -- local hour the team stops (1-24); may wrap past midnight
  coverage_days VARCHAR,          -- ISO weekdays covered, e.g. '1234567'
  coverage_areas VARCHAR[],       -- NULL = whole jurisdiction
  target_categories VARCHAR[]     -- categories the program targets
)""",
    """CREATE TABLE IF NOT EXISTS crosswalk (
  jurisdiction VARCHAR NOT NULL,
  call_type VARCHAR NOT NULL,
  category VARCHAR,
  eligible BOOLEAN,               -- NULL = not triaged (unknown), never counted as ineligible
  PRIMARY KEY (jurisdiction, call_type)
)""",
    # Crosswalk rows written automatically (at import, or by the starter command) that no person
    # has saved or accepted since: not "confirmed", so other jurisdictions do not learn from
    # them, and undoing the import that wrote them removes them again.
    """CREATE TABLE IF NOT EXISTS crosswalk_auto (
  jurisdiction VARCHAR NOT NULL,
  call_type VARCHAR NOT NULL,
  category VARCHAR,
  eligible BOOLEAN,
  confidence DOUBLE,
  import_id BIGINT,               -- the import that wrote it; NULL = the starter command
  PRIMARY KEY (jurisdiction, call_type)
)""",
    """CREATE SEQUENCE IF NOT EXISTS import_seq START 1""",
    """CREATE TABLE IF NOT EXISTS imports (
  import_id BIGINT PRIMARY KEY,
  kind VARCHAR NOT NULL,
  jurisdiction VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL,
  file_sha256 VARCHAR NOT NULL,
  profile VARCHAR,                -- the mapping profile's TOML text, as used
  imported_at TIMESTAMPTZ NOT NULL,
  rows_read BIGINT, rows_inserted BIGINT, rows_updated BIGINT, rows_unchanged BIGINT,
  rows_merged BIGINT, rows_rejected BIGINT, rows_warned BIGINT,
  summary VARCHAR,                -- JSON: value mappings, unit rows collapsed, notes
  status VARCHAR NOT NULL,        -- committed | undone
  undone_at TIMESTAMPTZ
)""",
    """CREATE TABLE IF NOT EXISTS rejects (
  import_id BIGINT NOT NULL,
  file_row BIGINT,                -- row number as a spreadsheet shows it (header = row 1)
  "column" VARCHAR,
  reason VARCHAR NOT NULL,
  raw_values VARCHAR              -- JSON object: source header -> value
)""",
    """CREATE TABLE IF NOT EXISTS row_warnings (
  import_id BIGINT NOT NULL,
  kind VARCHAR NOT NULL,
  jurisdiction VARCHAR NOT NULL,
  record_id VARCHAR,
  file_row BIGINT,
  "column" VARCHAR,
  -- warning: time_placeholder | implausible_date | out_of_order | missing_time
  warning VARCHAR NOT NULL,
  value VARCHAR
)""",
    # Shared deployments (issue 6): who may do what, and the append-only trail of what was done.
    # The audit log is written only by data/audit.py (never updated or deleted); each entry's
    # hash covers its content and the previous entry's hash, so `python -m data audit verify`
    # finds any edit, deletion, insertion or reordering.
    """CREATE TABLE IF NOT EXISTS audit_log (
  seq BIGINT PRIMARY KEY,         -- 1, 2, 3 ... without gaps
  logged_at TIMESTAMPTZ NOT NULL, -- when, in UTC
  actor VARCHAR NOT NULL,         -- the signed-in e-mail address, or 'local'
  action VARCHAR NOT NULL,        -- sign_in | import | undo | crosswalk.edit | role.grant ...
  jurisdiction VARCHAR,
  target VARCHAR,                 -- what the action was about (import #, file name, e-mail ...)
  file_sha256 VARCHAR,
  outcome VARCHAR NOT NULL,       -- allowed | denied
  detail VARCHAR,                 -- JSON
  prev_hash VARCHAR NOT NULL,
  hash VARCHAR NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS people (
  email VARCHAR PRIMARY KEY,      -- lower case, as the identity provider reports it
  name VARCHAR,
  active BOOLEAN NOT NULL DEFAULT true,
  added_at TIMESTAMPTZ NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS roles (
  email VARCHAR NOT NULL,
  role VARCHAR NOT NULL,          -- admin | analyst | viewer
  jurisdiction VARCHAR            -- NULL for admin and for a cohort-wide viewer
)""",
    """CREATE TABLE IF NOT EXISTS settings (
  key VARCHAR PRIMARY KEY,
  value VARCHAR,                  -- JSON
  updated_at TIMESTAMPTZ NOT NULL,
  updated_by VARCHAR NOT NULL
)""",
    # Sign-outs and ended sessions (issue 27): an identity cookie copied before the end must
    # not open the dashboard again. Keyed on the identity and the token's issue time (0 when
    # the provider gives none): a new sign-in is a new token, never refused.
    """CREATE TABLE IF NOT EXISTS revoked_sessions (
  email VARCHAR NOT NULL,
  issued_at DOUBLE NOT NULL,      -- the ID token's iat, seconds since 1970 (0: not given)
  revoked_at TIMESTAMPTZ NOT NULL,
  reason VARCHAR NOT NULL,        -- signed out | idle
  PRIMARY KEY (email, issued_at)
)""",
]


def history_table(kind: str) -> str:
    return f"{table_of(kind)}_replaced"


def table_columns(kind: str) -> list[tuple[str, str]]:
    """(column, SQL type) of a record table: the imported columns, then, for calls, the
    derived ones (category and eligibility, data/facts.py). History tables keep only the
    imported columns: the derived ones are worked out again when rows are restored."""
    from . import facts  # the derived columns live beside their derivation

    return record_columns(kind) + (facts.columns() if kind == "calls" else [])


def ddl() -> list[str]:
    from . import aggregates  # the maintained tables live beside their maintenance

    stmts = list(DDL_FIXED) + aggregates.ddl()
    for kind in IMPORT_KINDS:
        cols = record_columns(kind)
        # No PRIMARY KEY on record tables: the importer guarantees one row per
        # (jurisdiction, id), and an index on millions of text keys would cost more time and
        # memory than the whole rest of an import.
        stmts.append(_table_ddl(table_of(kind), table_columns(kind), None, UNCOMPRESSED))
        # Rows an import replaced, so that undo restores exactly the state before it.
        hist = [(c, t.replace(" NOT NULL", "")) for c, t in cols]
        stmts.append(_table_ddl(history_table(kind), hist + [("replaced_by", "BIGINT NOT NULL")],
                                None))
    return stmts


# Columns of a record table worked out from other tables (data/links.py), not imported: an
# import compares and merges the imported columns only.
DERIVED_LINKS = {"responses": ("call_received_at", "has_referral")}


def create_schema(con) -> None:
    for stmt in ddl():
        con.execute(stmt)
    had = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'responses' "
        "AND table_schema = 'main'").fetchall()}
    # A database made by an earlier version gains the columns added since.
    for kind in KINDS:
        for table in (kind, history_table(kind)):
            for col, sql_type in record_columns(kind):
                con.execute(f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "{col}" '
                            f'{sql_type.replace(" NOT NULL", "")}')
    from . import aggregates, facts
    from .links import refresh_links

    facts.ensure_current(con)
    aggregates.ensure_current(con)
    if "has_referral" not in had and con.execute("SELECT count(*) FROM responses").fetchone()[0]:
        refresh_links(con, changed="referrals")  # the new column, worked out once


def data_tables() -> list[str]:
    """Every table of the model, for content comparisons and exports."""
    names = ["jurisdictions", "crosswalk", "crosswalk_auto", "imports", "rejects",
             "row_warnings"]
    for kind in IMPORT_KINDS:
        names += [table_of(kind), history_table(kind)]
    from .aggregates import TABLES

    return names + ["audit_log", "people", "roles", "settings", "revoked_sessions", *TABLES]
