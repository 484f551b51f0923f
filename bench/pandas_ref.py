"""The Overview metrics as a careful analyst would write them in pandas (the comparison baseline).

Vectorised throughout (merges and boolean masks, no Python loop per row), from DataFrames
already in memory: loading them is timed apart. It covers the metrics the Overview page shows
(A1, A2, A3, B1, C2, D1, D2, D4, E2_30) with any of the shared filters and the groupings
``()``, ``jurisdiction`` and ``month``; a request outside that raises ``NotCovered`` so that a
change to the page shows up here instead of silently comparing different work. The results
must equal the engine's, or the benchmark stops.
"""
from __future__ import annotations

from datetime import timedelta

import pandas as pd

COVERED = {"A1", "A2", "A3", "B1", "C2", "D1", "D2", "D4", "E2_30"}
GROUPINGS = {(), ("jurisdiction",), ("month",), ("jurisdiction", "month")}


class NotCovered(Exception):
    """The Overview asks for something this pandas version does not compute."""


def load_frames(con) -> dict[str, pd.DataFrame]:
    return {
        "calls": con.execute(
            "SELECT jurisdiction, call_type, category, eligible, responder, origin, area, "
            "received_local FROM calls").df(),
        "crosswalk": con.execute("SELECT * FROM crosswalk").df(),
        "jurisdictions": con.execute("SELECT * FROM jurisdictions").df(),
        "responses": con.execute(
            "SELECT jurisdiction, team, area, requested_local, requested_at, arrived_at, "
            "call_received_at, contact_made, police_backup, transport_destination "
            "FROM responses").df(),
        "referrals": con.execute(
            "SELECT jurisdiction, referred_local, referred_at, connected_at, status "
            "FROM referrals").df(),
    }


def check_covered(requests) -> None:
    for req in requests:
        extra = set(req.metrics) - COVERED
        if extra or tuple(req.by) not in GROUPINGS or getattr(req, "counts", None):
            raise NotCovered(f"pandas baseline does not cover {sorted(extra) or req.by}")


def overview(frames: dict, requests) -> dict:
    """{(metric, group items): (numerator, denominator, median)} for every request."""
    check_covered(requests)
    out = {}
    for req in requests:
        out.update(_request(frames, req))
    return out


def _period(df, col, f):
    keep = pd.Series(True, index=df.index)
    if f.date_from:
        keep &= df[col] >= pd.Timestamp(f.date_from)
    if f.date_to:
        keep &= df[col] < pd.Timestamp(f.date_to + timedelta(days=1))
    if f.jurisdictions:
        keep &= df["jurisdiction"].isin(f.jurisdictions)
    return keep


def _calls(frames, f) -> pd.DataFrame:
    calls, cw, jur = frames["calls"], frames["crosswalk"], frames["jurisdictions"]
    c = calls.merge(cw.rename(columns={"category": "cw_category", "eligible": "cw_eligible"}),
                    on=["jurisdiction", "call_type"], how="left")
    c = c.merge(jur[["jurisdiction", "launch_date", "coverage_start_hour", "coverage_end_hour",
                     "coverage_days"]], on="jurisdiction", how="inner")
    c["category"] = c["cw_category"].fillna(c["category"])
    targets = jur[["jurisdiction", "target_categories"]].explode("target_categories").dropna()
    targets = targets.rename(columns={"target_categories": "category"}).assign(is_target=True)
    c = c.merge(targets, on=["jurisdiction", "category"], how="left")
    c["is_target"] = c["is_target"].fillna(False).astype(bool)
    days = jur[["jurisdiction", "coverage_days"]].copy()
    days["weekday"] = days["coverage_days"].fillna("").map(lambda s: [int(ch) for ch in s])
    days = days.explode("weekday").dropna(subset=["weekday"])
    days = days.assign(day_ok=True, weekday=days["weekday"].astype("int64"))
    c["weekday"] = (c["received_local"].dt.dayofweek + 1).astype("int64")
    c = c.merge(days[["jurisdiction", "weekday", "day_ok"]], on=["jurisdiction", "weekday"],
                how="left")
    c["day_ok"] = c["day_ok"].fillna(False).astype(bool) | c["coverage_days"].isna()
    hour = c["received_local"].dt.hour
    start, end = c["coverage_start_hour"], c["coverage_end_hour"]
    in_hours = (start.isna() | end.isna()
                | ((start < end) & (hour >= start) & (hour < end))
                | ((start >= end) & ((hour >= start) | (hour < end))))
    after = c["launch_date"].isna() | (c["received_local"] >= pd.to_datetime(c["launch_date"]))
    # No coverage areas are set in the benchmark cohort; a set of areas would need the same
    # explode-and-merge as the weekdays.
    if frames["jurisdictions"]["coverage_areas"].notna().any():
        raise NotCovered("coverage areas")
    derived = c["cw_eligible"].astype("boolean") & (after & in_hours & c["day_ok"])
    c["eligible_flag"] = c["eligible"].astype("boolean").fillna(derived).fillna(False).astype(bool)
    c["ar"] = c["responder"].isin(["alternative", "co_response"])
    keep = _period(c, "received_local", f)
    if f.categories:
        keep &= c["category"].isin(f.categories)
    if f.areas:
        keep &= c["area"].isin(f.areas)
    if f.origins:
        keep &= c["origin"].isin(f.origins)
    c = c[keep]
    c["month"] = c["received_local"].dt.strftime("%Y-%m")
    return c


def _group_keys(df, by):
    return [df[d] for d in by]


def _request(frames, req) -> dict:
    f, by, ids = req.filters, tuple(req.by), set(req.metrics)
    out = {}

    def put(metric, key, num, den=None, median=None):
        group = tuple(sorted(zip(by, key if isinstance(key, tuple) else (key,)))) if by else ()
        out[(metric, group)] = (num, den, median)

    def each(df, fn):
        if not by:
            yield (), fn(df)
            return
        for key, part in df.groupby(list(by), sort=False):
            yield key, fn(part)

    if ids & {"A1", "A2", "A3", "B1"}:
        c = _calls(frames, f)
        for key, part in each(c, lambda p: (len(p), int(p["is_target"].sum()),
                                            int(p["eligible_flag"].sum()),
                                            int((p["eligible_flag"] & p["ar"]).sum()))):
            n, target, elig, elig_ar = part
            if "A1" in ids:
                put("A1", key, n)
            if "A2" in ids:
                put("A2", key, target)
            if "A3" in ids:
                put("A3", key, elig)
            if "B1" in ids:
                put("B1", key, elig_ar, elig)
    if ids & {"C2", "D1", "D2", "D4"}:
        r = frames["responses"]
        keep = _period(r, "requested_local", f)
        if f.areas:
            keep &= r["area"].isin(f.areas)
        if f.teams:
            keep &= r["team"].isin(f.teams)
        r = r[keep]
        r = r.assign(month=r["requested_local"].dt.strftime("%Y-%m"))
        for key, p in each(r, lambda p: p):
            start = p["call_received_at"].fillna(p["requested_at"])
            mins = (p["arrived_at"] - start).dt.total_seconds() / 60
            contact = p["contact_made"].astype("boolean")
            backup = p["police_backup"].astype("boolean")
            has_dest = contact.fillna(False) & p["transport_destination"].notna()
            if "C2" in ids:
                timed = mins[mins >= 0]
                put("C2", key, None, None, float(timed.median()) if len(timed) else None)
            if "D1" in ids:
                put("D1", key, int(contact.fillna(False).sum()), int(contact.notna().sum()))
            if "D2" in ids:
                put("D2", key, int(backup.fillna(False).sum()), int(backup.notna().sum()))
            if "D4" in ids:
                put("D4", key, int((has_dest & (p["transport_destination"] == "none")).sum()),
                    int(has_dest.sum()))
    if "E2_30" in ids:
        ref = frames["referrals"]
        # Only referrals old enough to judge: 30 days before the jurisdiction's latest time.
        latest = ref["connected_at"].fillna(ref["referred_at"]).where(
            ref["connected_at"].fillna(ref["referred_at"]) > ref["referred_at"],
            ref["referred_at"])
        as_of = latest.groupby(ref["jurisdiction"]).transform("max")
        mature = ref["referred_at"] <= as_of - pd.Timedelta(days=30)
        ref = ref.assign(mature=mature)[_period(ref, "referred_local", f)]
        ref = ref.assign(month=ref["referred_local"].dt.strftime("%Y-%m"))
        for key, p in each(ref, lambda p: p):
            conn = ((p["status"] == "connected") & p["connected_at"].notna()
                    & (p["connected_at"] <= p["referred_at"] + pd.Timedelta(days=30)))
            put("E2_30", key, int((conn & p["mature"]).sum()), int(p["mature"].sum()))
    return out


def engine_values(rows, by) -> dict:
    """The engine's MetricRows in the same shape as ``overview``."""
    out = {}
    for r in rows:
        group = tuple(sorted((d, r.group[d]) for d in by))
        out[(r.metric, group)] = (r.numerator, r.denominator, r.median)
    return out


def differences(engine: dict, pandas: dict) -> list[str]:
    diffs = []
    for key in sorted(set(engine) | set(pandas), key=str):
        a, b = engine.get(key), pandas.get(key)
        if a is None or b is None:
            # The engine has no row for an empty group that pandas drops, and vice versa.
            present = a or b
            if present[0] in (0, None) and present[1] in (0, None):
                continue
            diffs.append(f"{key}: engine {a} vs pandas {b}")
            continue
        same = (_num(a[0]) == _num(b[0]) and _num(a[1]) == _num(b[1])
                and (a[2] is None and b[2] is None
                     or a[2] is not None and b[2] is not None
                     and abs(float(a[2]) - float(b[2])) < 1e-6))
        if not same:
            diffs.append(f"{key}: engine {a} vs pandas {b}")
    return diffs


def _num(v):
    return None if v is None else int(v)
