"""The demo cohort as exports: one CSV file per (jurisdiction, kind), headers named as the
fields, labels as the export writes them, and the profile that maps each file (its value maps
read from the file's own labels and the codes they stand for). ``populate_demo`` imports them
through the importer (data/importer/), the path every real export takes.

Times are written as the jurisdiction's wall clock, as exports do; a time whose wall clock
names two instants (the hour repeated when the clocks go back) is written in UTC with its
offset, so every time reads back as the instant it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..profiles import Profile, normalise_value
from ..schema import FIELDS
from .spec import POPULATION_SOURCE, UNMAPPED

# Per kind: (field, SQL over the shaped row ``t`` giving the file's text). Coded fields hold
# the export's label (the ``_raw`` column); the profile maps each label to its code.
_TS = "ts"  # marks a time column, written by _time_text
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S%z")  # wall clock; UTC with its offset
# A person's identifier in the program's records (the import hashes it into person_key):
# the jurisdiction's own numbering, so two programs never share a person.
_PERSON = "z.slug || '-' || t.person::VARCHAR"
_COLUMNS = {
    "calls": [
        ("call_id", "call_id"), ("received_at", _TS), ("dispatched_at", _TS),
        ("enroute_at", _TS), ("arrived_at", _TS), ("cleared_at", _TS),
        ("call_type", "call_type"), ("category", "category"), ("priority", "priority"),
        ("origin", "origin_raw"),
        # A call no unit went to has no unit id: the export says NONE.
        ("responder", "coalesce(responder_raw, upper(responder))"),
        ("disposition", "disposition"), ("area", "area"),
        ("eligible", "eligible::VARCHAR"), ("not_served_reason", "not_served_reason")],
    "responses": [
        ("response_id", "response_id"), ("call_id", "call_id"), ("team", "team"),
        ("model", "model_raw"), ("requested_at", _TS), ("dispatched_at", _TS),
        ("arrived_at", _TS), ("engaged_at", _TS), ("cleared_at", _TS),
        ("reasons", "array_to_string(reasons, '; ')"),
        ("contact_made", "contact_made::VARCHAR"), ("police_backup", "police_backup::VARCHAR"),
        ("arrest", "arrest::VARCHAR"), ("injury", "injury::VARCHAR"),
        ("outcome", "outcome_raw"), ("transport_destination", "transport_destination_raw"),
        ("person_key", _PERSON),
        ("race_ethnicity", "race_ethnicity_raw"), ("gender", "gender_raw"),
        ("age_group", "age_group"), ("area", "area")],
    "referrals": [
        ("referral_id", "referral_id"), ("response_id", "response_id"),
        ("person_key", _PERSON),
        ("service_type", "service_type_raw"), ("referred_at", _TS), ("status", "status_raw"),
        ("connected_at", _TS)],
}
_CODES = {  # coded field -> the shaped row's code column beside its label
    "calls": {"origin": "origin", "responder": "responder"},
    "responses": {"model": "model", "outcome": "outcome",
                  "transport_destination": "transport_destination",
                  "race_ethnicity": "race_ethnicity", "gender": "gender"},
    "referrals": {"service_type": "service_type", "status": "status"},
}


@dataclass(frozen=True)
class Export:
    """One generated file and how to import it."""

    jurisdiction: str
    kind: str
    path: Path
    profile: Profile
    file_name: str  # the name the ledger records


def _time_text(col: str) -> str:
    """The wall clock of ``col`` in zone ``z.tz``; in UTC with its offset when that wall clock's
    hour is one the zone repeats (``z.repeated``), where the wall clock names two instants."""
    local = f"timezone(z.tz, t.{col})"
    return (f"CASE WHEN list_contains(z.repeated, date_trunc('hour', {local})) "
            f"THEN strftime(timezone('UTC', t.{col}), '%Y-%m-%d %H:%M:%S') || '+00:00' "
            f"ELSE strftime({local}, '%Y-%m-%d %H:%M:%S') END")


def _repeated_hours(con, tz: str) -> list:
    """The local hours ``tz`` repeats when its clocks go back, over the demo's years."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT date_trunc('hour', timezone(?, h)) FROM (SELECT unnest(range("
        "TIMESTAMPTZ '2022-01-01 00:00:00+00', TIMESTAMPTZ '2027-01-01 00:00:00+00', "
        "INTERVAL 1 HOUR)) AS h) WHERE timezone(?, timezone(?, h)) <> h", [tz, tz, tz]
    ).fetchall()]


def write_exports(con, demos, folder: Path) -> list[Export]:
    """Write the shaped temp tables (data/demo/canonical.py) and the population as files in
    ``folder``: calls, responses, referrals, population for each jurisdiction, in that order
    (an import of responses finds its calls)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for d in demos:
        repeated = _repeated_hours(con, d.tz)
        for kind in ("calls", "responses", "referrals"):
            cols = _COLUMNS[kind]
            select = ", ".join(
                f'{_time_text(f) if sql == _TS else sql} AS "{f}"' for f, sql in cols)
            # Shaped columns are read with the alias t (times) or bare (the rest).
            path = folder / f"{d.slug}-{kind}.csv"
            con.sql(f"SELECT {select} FROM (SELECT * FROM demo_{kind} WHERE jurisdiction = ?) t, "
                    "(SELECT ?::VARCHAR AS tz, ?::TIMESTAMP[] AS repeated, ?::VARCHAR AS slug) z "
                    "ORDER BY t.file_row", params=[d.name, d.tz, repeated, d.slug]
                    ).write_csv(str(path), header=True)
            values = {f: _value_map(con, kind, d.name, label, code)
                      for f, code in _CODES[kind].items()
                      for label in [dict(cols)[f]]}
            out.append(_export(d, kind, path, [f for f, _ in cols], values))
        out.append(_population(con, d, folder))
    return out


def _export(d, kind, path, headers, values) -> Export:
    # The formats are given, as a profile saved for a known export gives them: nothing to
    # detect, and the few times written with their offset parse in the same pass.
    options = {"timezone": d.tz, "timestamp_format": list(_FORMATS)}
    profile = Profile(kind, {h: [h] for h in headers}, options=options,
                      values={f: v for f, v in values.items() if v}, headers=list(headers),
                      name=f"demo {d.slug} {kind}")
    return Export(d.name, kind, path, profile, f"demo:{d.slug}-{kind}")


def _value_map(con, kind, jurisdiction, label_sql, code_col) -> dict:
    """{label: code} of a coded field, from the shaped rows (a label means one code)."""
    pairs = con.execute(f"SELECT DISTINCT {label_sql}, {code_col} FROM demo_{kind} "
                        f"WHERE jurisdiction = ? AND {label_sql} IS NOT NULL", [jurisdiction]
                        ).fetchall()
    out: dict[str, str] = {}
    for label, code in pairs:
        key = normalise_value(label)
        if out.get(key, code) != code:
            raise DataError(f"demo {kind}: the label {label!r} stands for two codes.")
        out[key] = code
    return out


def _population(con, d, folder) -> Export:
    """The jurisdiction's population table (areas, then the whole), one row per group."""
    path = folder / f"{d.slug}-population.csv"
    con.sql(
        "SELECT geography, dimension, \"group\", round(population)::BIGINT::VARCHAR AS population,"
        " round(moe)::BIGINT::VARCHAR AS moe, ? AS source FROM demo_population_in "
        "WHERE jurisdiction = ? ORDER BY geography = jurisdiction, geography, dimension, \"group\"",
        params=[POPULATION_SOURCE, d.name]).write_csv(str(path), header=True)
    headers = [f.name for f in FIELDS["population"] if f.name != "total_population"]
    return _export(d, "population", path, headers, {})


def settings_rows(demos) -> tuple[list[tuple], list[tuple]]:
    """(jurisdictions rows, crosswalk rows): each program's settings and its crosswalk. A type
    left out on purpose has a row with no category: it stays unmapped, as in a crosswalk
    someone has not finished."""
    settings = [(d.name, d.state, d.tz, d.population, d.program, d.launch, d.cov_hours[0],
                 d.cov_hours[1], d.cov_days, list(d.cov_areas) if d.cov_areas else None,
                 list(d.targets)) for d in demos]
    crosswalk = []
    for d in demos:
        for local, cat, _, override in d.call_types:
            if cat == UNMAPPED:
                crosswalk.append((d.name, local, None, None))
            else:
                crosswalk.append((d.name, local, cat,
                                  (cat in d.targets) if override == "auto" else override))
    return settings, crosswalk
