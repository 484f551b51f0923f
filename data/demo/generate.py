"""The demo cohort's arrays, drawn with numpy in whole arrays (no Python loop per row), one
jurisdiction at a time: calls, team responses (a team takes a call only when one is free),
people, referrals, export quirks and population denominators. The same ``rng`` state gives
the same arrays."""
from __future__ import annotations

import heapq
import math
from datetime import date

import numpy as np

from ..schema import VALUE_SETS
from .rates import (AGE_MIX, CONTACT_OUTCOME_P, CONTACT_OUTCOMES, CONTACT_RACE_FACTOR,
                    DESTINATIONS, GENDER_MIX, HOUR_PROFILE, NIGHT, OFFICER_MIX, PRIORITY,
                    PUBLIC_MIX, SECOND_REASONS, SERVICE_MIX, WEEKDAY_PROFILE)
from .spec import AGE_GROUPS, RACE_GROUPS, UNMAPPED, WINDOW_END, WINDOW_START, Demo

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


def generate(d: Demo, rng, scale) -> dict:
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
    w = (HOUR_PROFILE[hod] * WEEKDAY_PROFILE[dow]
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
        mix = OFFICER_MIX if officer else PUBLIC_MIX
        for is_night in (False, True):
            p = np.array([mix[c] * (NIGHT.get(c, 1.0) if is_night else 1.0) * type_w[i]
                          / cat_total[c] for i, c in enumerate(type_cat)])
            m = ((origin == 2) == officer) & (night == is_night)
            ctype[m] = _choice(rng, p, int(m.sum()))
    cat_of_type = np.array(type_cat, dtype=object)
    # Crosswalk eligibility of each local type: True / False / None (untriaged or unmapped).
    xw = []
    for _name, cat, _, override in types:
        if cat == UNMAPPED:
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
    prio = np.array([PRIORITY[c] for c in type_cat])[ctype]
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
    dest_p = [1 - sum(d.destinations.values())] + [d.destinations[k] for k in DESTINATIONS[1:]]
    dest = np.where(contact, _choice(rng, dest_p, m), -1)
    outcome = np.array(CONTACT_OUTCOMES, dtype=object)[_choice(rng, CONTACT_OUTCOME_P, m)]
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
    second = np.where(rng.random(m) < 0.3, _choice(rng, [1] * len(SECOND_REASONS), m), -1)

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
    g["ar_outcome"][linked] = index_of(r["outcome"][:n_link], outcomes)


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
    contact_p = comp * np.array([CONTACT_RACE_FACTOR[gr] for gr in RACE_GROUPS])
    cum = np.cumsum(contact_p, axis=1)
    cum /= cum[:, -1:]
    race_p = np.minimum((rng.random(total)[:, None] >= cum[first_area]).sum(axis=1),
                        len(RACE_GROUPS) - 1)
    age_p = _choice(rng, AGE_MIX, total)
    gender_p = _choice(rng, GENDER_MIX, total)
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
    for cat, mix in SERVICE_MIX.items():
        m = (cats == cat) if cat else ~np.isin(cats, [c for c in SERVICE_MIX if c])
        m = m & ~np.concatenate([second_of, np.zeros(n_orphan, dtype=bool)])
        service[m] = _choice(rng, mix, int(m.sum()))
    m2 = np.concatenate([second_of, np.zeros(n_orphan, dtype=bool)])
    service[m2] = _choice(rng, SERVICE_MIX[None], int(m2.sum()))
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


def index_of(values, vocab):
    """Position of each value in ``vocab`` (-1 when absent), without a loop over rows."""
    arr = np.asarray(values, dtype=str)
    out = np.full(len(arr), -1, dtype=np.int32)
    for i, v in enumerate(vocab):
        out[arr == v] = i
    return out
