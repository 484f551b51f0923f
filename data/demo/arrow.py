"""The generated arrays handed to DuckDB as Arrow tables (dictionary-encoded strings), the
input of the SQL that shapes canonical rows (data/demo/canonical.py)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..schema import VALUE_SETS
from .generate import index_of
from .rates import DESTINATIONS, GENDERS, RAW, REASON, SECOND_REASONS, SERVICE_TYPES
from .spec import AGE_GROUPS, CATEGORIES, CATS_ALL, NOT_SERVED, RACE_GROUPS

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
    return _strings(vals, index_of(arr, vals))


def _nullable_int(x):
    x = np.asarray(x, dtype=float)
    bad = np.isnan(x)
    return pa.array(np.where(bad, 0, np.round(x)).astype(np.int64), mask=bad, type=pa.int64())


def _ts(local_s):
    return pa.array(np.asarray(local_s, dtype=np.int64), type=pa.timestamp("s"))


def register(con, gens) -> list[str]:
    """Hand the generated arrays to DuckDB as Arrow tables (names returned for unregister)."""
    calls, resps, refs, pops, meta = [], [], [], [], []
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
        raw = RAW[d.labels]
        m = r["m"]
        reasons1 = np.array([REASON.get(c, "Other") for c in CATS_ALL])[
            index_of(r["cat"], CATS_ALL)]
        reason_vals = sorted(set(REASON.values()))
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
            "reason1": _strings(reason_vals, index_of(reasons1, reason_vals)),
            "reason2": _strings(SECOND_REASONS, r["second"]),
            "contact_made": pa.array(r["contact"]),
            "police_backup": pa.array(r["backup"]), "arrest": pa.array(r["arrest"]),
            "injury": pa.array(r["injury"]),
            "outcome": _codes(r["outcome"]),
            "transport_destination": _strings(DESTINATIONS, r["dest"]),
            "transport_destination_raw": _strings(
                [raw["transport_destination"][x] for x in DESTINATIONS], r["dest"]),
            "person": pa.array(r["person"], mask=r["person"] < 0, type=pa.int64()),
            "race_ethnicity": _strings(RACE_GROUPS + ("unknown",),
                                       np.where(r["race"] < 0, len(RACE_GROUPS), r["race"])),
            "race_raw": _strings([raw["race_ethnicity"][x] for x in RACE_GROUPS + ("unknown",)],
                                 np.where(r["race"] < 0, len(RACE_GROUPS), r["race"])),
            "gender": _strings(GENDERS, r["gender"]),
            "gender_raw": _strings([raw["gender"][x] for x in GENDERS], r["gender"]),
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
            "service_type": _strings(SERVICE_TYPES, f["service"]),
            "status": _strings(("made", "connected", "declined", "unknown"), f["status"]),
        }))
        pops += [(d.name,) + row for row in g["population"]]
        meta.append((d.name, d.slug, d.tz, d.model, d.team, *d.ids["call"], *d.ids["response"],
                     *d.ids["referral"], d.units["police"], d.units["fire"], d.units["ems"],
                     d.units["alternative"], d.units["co_response"], d.units["phone"]))
        g["outcome_raw"] = raw["outcome"]
    tables = {
        "demo_calls_in": pa.concat_tables(calls, promote_options="permissive"),
        "demo_responses_in": pa.concat_tables(resps, promote_options="permissive"),
        "demo_referrals_in": pa.concat_tables(refs, promote_options="permissive"),
        "demo_population_in": pa.table(list(zip(*pops)), names=[
            "jurisdiction", "geography", "dimension", "group", "population", "moe"]),
        "demo_meta": pa.table(list(zip(*meta)), names=[
            "jurisdiction", "slug", "tz", "model", "team", "call_prefix", "call_yfmt",
            "call_sep", "call_width", "resp_prefix", "resp_yfmt", "resp_sep", "resp_width",
            "ref_prefix", "ref_width", "u_police", "u_fire", "u_ems", "u_alternative",
            "u_co_response", "u_phone"]),
        "demo_outcome_raw": pa.table(list(zip(*[
            (g["demo"].name, code, label) for g in gens
            for code, label in g["outcome_raw"].items()])),
            names=["jurisdiction", "code", "label"]),
    }
    for name, table in tables.items():
        con.register(name, table)
    return list(tables)
