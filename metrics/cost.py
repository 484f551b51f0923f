"""What the program costs, and the police time it takes on (issue 22; DOMAIN.md §9).

Every figure is one division or multiplication of inputs that the result carries beside it,
so a reader can redo it by hand:

- **cost per team response** = the quarter's program cost ÷ its team responses; **per person
  served** = cost ÷ distinct people (F1). Costs are entered per period and funding stream
  (``data/costs.py``); a period's cost is spread evenly over its months.
- **police busy time** on the target call types: police-handled calls of a target category
  in the CAD export, cleared − dispatched (cleared − on scene where the dispatch time is
  missing), longer than 24 hours or negative left out and counted; mean and median.
- **capacity returned** = target-type calls the team answered alone × the mean police busy
  time = hours of police time freed for other work; its **value** = hours × the police
  department's fully loaded cost per unit-hour. It is capacity, not cash saved: officers'
  salaries do not fall when the team takes calls.
- **cost by funding stream** per quarter, with each stream's known end (``STREAM_ENDS``), so
  the funding cliff shows.

Per-unit figures use only *complete* quarters: quarters the team's records and the chosen
period cover whole (a launch in mid-quarter, or records ending mid-quarter, would divide a
whole quarter's cost by part of its responses). Counts come through ``compute`` /
``compute_counts`` given by the caller: exact, or published under disclosure control, where
a per-unit figure of a hidden count is hidden too (it would give the count back) and every
figure is computed from the *published* count it is shown beside.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from .disclosure import DERIVED, SMALL, DisclosurePolicy, published_count
from .engine import CountRequest, Filters, MetricRequest, compute as exact_compute
from .engine import compute_counts as exact_counts
from .sources import CALLS, DIMENSIONS
from .sql import BUSY_FROM_SCENE, BUSY_HOURS, MAX_BUSY_HOURS, busy_ok, period_where

POLICE_HOURLY = "police_hourly_cost"
CAPACITY_WORDING = ("Capacity returned is police time freed for other work, valued at the "
                    "police department's fully loaded cost per unit-hour. It is not cash "
                    "saved: officers' salaries do not fall when the team takes calls.")
# The known ends of funding streams (DOMAIN.md §9): (date, rule in words).
STREAM_ENDS = {
    "arpa_slfrf": (date(2026, 12, 31), "ARPA SLFRF must be obligated by 31 Dec 2024 and "
                                       "spent by 31 Dec 2026."),
    "medicaid": (date(2027, 3, 31), "The Medicaid mobile-crisis 85% federal match lasts 12 "
                                    "quarters from the state's start and ends by 31 Mar 2027 "
                                    "at the latest; billing goes on at the regular match."),
}
COUNTS = ("responses",)
# The method in words: the Methodology page and METRICS.md print it (metrics/methodology.py).
METHOD = f"""Program costs are entered per period and funding stream (the Data page, a costs file
or `python -m data costs`); a period's cost is spread evenly over its months and summed by
quarter.

- **Cost per team response** = the quarter's program cost ÷ its team responses; **cost per
  person served** = cost ÷ distinct people (F1) in the quarter. Only whole quarters: ones the
  records (from the launch on) and the chosen period cover entirely.
- **Police busy time** on the program's target call types: police-handled calls of a target
  category in the CAD export, cleared − dispatched, or cleared − on scene where the dispatch time
  is missing; blank, negative and over-{MAX_BUSY_HOURS}-hour times are left out and counted. Mean
  and median.
- **Capacity returned** = target-type calls the team took alone (co-responses send an officer and
  are not counted) × the mean police busy time; its value = hours × the police department's fully
  loaded cost per unit-hour (one unit per call assumed). {CAPACITY_WORDING}
- **Funding streams**: cost per quarter by stream, with each stream's known end. {' '.join(
    rule for _, rule in STREAM_ENDS.values())}

For a viewer every count is the published one, and a cost per response or per person is worked
out from the published count beside it, and hidden when that count is hidden.
"""
STREAM_LABELS = {
    "general_fund": "General fund", "arpa_slfrf": "ARPA SLFRF", "medicaid": "Medicaid",
    "opioid_settlement": "Opioid settlement", "fees_988": "988 fees", "grant": "Grants",
    "other": "Other", POLICE_HOURLY: "Police cost per unit-hour",
}


class NoCosts(Exception):
    """No program costs are entered for the jurisdiction (in the period)."""


# --------------------------------------------------------------------------------------------
# Quarters
# --------------------------------------------------------------------------------------------

def quarter_of(d: date) -> str:
    return f"{d.year}-Q{(d.month + 2) // 3}"


def quarter_bounds(label: str) -> tuple[date, date]:
    """'2025-Q1' -> (2025-01-01, 2025-03-31)."""
    year, q = int(label[:4]), int(label[-1])
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
    return start, end


# --------------------------------------------------------------------------------------------
# Inputs read from the database (DuckDB computes; parameters bound)
# --------------------------------------------------------------------------------------------

def _month_window(filters: Filters) -> tuple[date | None, date | None]:
    start = filters.date_from.replace(day=1) if filters.date_from else None
    return start, filters.date_to


def cost_by_quarter(con, jurisdiction: str, filters: Filters) -> list[dict]:
    """Program cost per quarter and stream (and FTEs), each period spread over its months;
    only months inside the chosen period."""
    start, end = _month_window(filters)
    rows = con.execute(
        "WITH m AS (SELECT stream, amount / months AS per_month, fte, "
        "date_add(period_start, to_months(k::INTEGER))::DATE AS month FROM (SELECT *, "
        "unnest(range(months)) AS k FROM costs WHERE jurisdiction = ? AND period IS NOT NULL "
        "AND stream <> ?)) "
        "SELECT year(month) AS y, quarter(month) AS q, stream, sum(per_month) AS cost, "
        "sum(coalesce(fte, 0)) / 3 AS fte, count(*) AS months FROM m "
        "WHERE (?::DATE IS NULL OR month >= ?::DATE) AND (?::DATE IS NULL OR month <= ?::DATE) "
        "GROUP BY ALL ORDER BY y, q, stream",
        [jurisdiction, POLICE_HOURLY, start, start, end, end]).fetchall()
    return [{"quarter": f"{y}-Q{q}", "stream": s, "cost": c, "fte": f, "months": n}
            for y, q, s, c, f, n in rows]


def police_rates(con, jurisdiction: str) -> list[dict]:
    """The police cost per unit-hour as entered: {period, start, months, rate}."""
    rows = con.execute("SELECT period, period_start, months, amount FROM costs WHERE "
                       "jurisdiction = ? AND stream = ? ORDER BY period_start NULLS FIRST",
                       [jurisdiction, POLICE_HOURLY]).fetchall()
    return [{"period": p, "start": s, "months": m, "rate": a} for p, s, m, a in rows]


def rate_for_month(rates: list[dict], month: date) -> float | None:
    """The rate of a month: one entered for a period holding it (the shortest such period);
    else the one with a blank period; else that of the period that ended last before it; else
    the earliest (a single figure entered holds for every month)."""
    index = month.year * 12 + month.month - 1
    dated = [r for r in rates if r["start"] is not None]
    for r in sorted(dated, key=lambda r: r["months"]):  # the most specific period first
        first = r["start"].year * 12 + r["start"].month - 1
        if first <= index < first + r["months"]:
            return r["rate"]
    blank = [r for r in rates if r["start"] is None]
    if blank:
        return blank[0]["rate"]
    def end(r):  # the month after the period
        return r["start"].year * 12 + r["start"].month - 1 + r["months"]

    before = [r for r in dated if end(r) <= index]
    if before:  # the period that ended last, the later start on a tie
        return max(before, key=lambda r: (end(r), r["start"]))["rate"]
    return min(dated, key=lambda r: r["start"])["rate"] if dated else None


def rate_for_quarter(rates: list[dict], label: str) -> float | None:
    """The mean of the quarter's three monthly rates (the one rate when it does not change)."""
    start, _ = quarter_bounds(label)
    months = [date(start.year, start.month + i, 1) for i in range(3)]
    found = [rate_for_month(rates, m) for m in months]
    return None if None in found else sum(found) / 3


def _period_where(jurisdiction: str, filters: Filters) -> tuple[list[str], list]:
    period, params = period_where("local_ts", filters.date_from, filters.date_to)
    return ["jurisdiction = ?", *period], [jurisdiction, *params]


def team_calls_sql(jurisdiction: str, filters: Filters) -> tuple[str, list]:
    """SQL and parameters: per quarter, the target-type calls the team took alone."""
    where, params = _period_where(jurisdiction, filters)
    # Filtered, not count_if over every call: a third of the time over ten million calls (a
    # quarter with none is absent, and counted as 0).
    where += ["is_target", "responder = 'alternative'"]
    return (f"WITH base AS ({CALLS}) SELECT {DIMENSIONS['quarter']} AS q, count(*) AS n "
            f"FROM base WHERE {' AND '.join(where)} GROUP BY ALL"), params


def police_busy_sql(jurisdiction: str, filters: Filters) -> tuple[str, list]:
    """SQL and parameters: police busy time on target-type calls over the period, in hours,
    and why calls were left out. A scan of its own: filtered first, so that only these calls'
    times are read (in one scan with the team's calls, every call's three times were read)."""
    where, params = _period_where(jurisdiction, filters)
    where += ["is_target", "responder = 'police'"]
    ok = busy_ok("h")
    sql = (f"WITH base AS ({CALLS}), t AS (SELECT {BUSY_FROM_SCENE} AS from_scene, "
           f"{BUSY_HOURS} AS h FROM base "
           f"WHERE {' AND '.join(where)}) "
           f"SELECT count(*) AS calls, count_if({ok}) AS timed, "
           f"count_if({ok} AND from_scene) AS from_on_scene, count_if(h IS NULL) AS no_times, "
           f"count_if(h < 0) AS out_of_order, count_if(h > {MAX_BUSY_HOURS}) AS over_limit, "
           f"sum(h) FILTER (WHERE {ok}) AS hours, avg(h) FILTER (WHERE {ok}) AS mean_hours, "
           f"median(h) FILTER (WHERE {ok}) AS median_hours FROM t")
    return sql, params


def team_calls(con, jurisdiction: str, filters: Filters) -> dict:
    """{'2025-Q1': target-type calls the team took alone}."""
    return {f"{q // 10}-Q{q % 10}": n for q, n in
            con.execute(*team_calls_sql(jurisdiction, filters)).fetchall() if q is not None}


def police_busy_time(con, jurisdiction: str, filters: Filters) -> dict:
    cur = con.execute(*police_busy_sql(jurisdiction, filters))
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone()))


def records_span(con, jurisdiction: str) -> tuple[date | None, date | None]:
    """First and last local day of the calls and team responses, from the launch on
    (quarters outside them are not complete)."""
    lo, hi = con.execute(
        "SELECT min(d)::DATE, max(e)::DATE FROM (SELECT min(requested_local) AS d, "
        "max(requested_local) AS e FROM responses WHERE jurisdiction = ? UNION ALL "
        "SELECT min(received_local), max(received_local) FROM calls WHERE jurisdiction = ?)",
        [jurisdiction, jurisdiction]).fetchone()
    launch = con.execute("SELECT launch_date FROM jurisdictions WHERE jurisdiction = ?",
                         [jurisdiction]).fetchone()
    if lo is not None and launch and launch[0] and launch[0] > lo:
        lo = launch[0]  # before the launch there was no team: its quarter is part-worked
    return lo, hi


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------

def report(con, jurisdiction: str, filters: Filters, *, compute=None, compute_counts=None,
           policy: DisclosurePolicy | None = None, per_response_only: bool = False) -> dict:
    """Every cost figure of one jurisdiction with its inputs (the JSON of `metrics cost`).

    ``compute`` / ``compute_counts`` take a request and return rows (default: exact, from the
    engine); ``policy`` (enabled) marks the police busy time hidden when it rests on a small
    number of calls. ``per_response_only``: the figures cost per team response needs and no
    others (Compare, one row for every jurisdiction: the people, the team's target-type calls
    and the police busy time are three scans more each, and are left None). Raises
    ``NoCosts`` when no program cost is entered in the period.
    """
    compute = compute or (lambda r: exact_compute(con, r))
    compute_counts = compute_counts or (lambda r: exact_counts(con, r))
    filters = replace(filters, jurisdictions=(jurisdiction,))
    costs = cost_by_quarter(con, jurisdiction, filters)
    if not costs:
        raise NoCosts(_no_costs(con, jurisdiction, filters))
    rates = police_rates(con, jurisdiction)
    span = records_span(con, jurisdiction)
    counts = _by_quarter(compute_counts(CountRequest(COUNTS, ("quarter",), filters)))
    if per_response_only:
        people, police = {}, {"hidden": {"mean_hours": DERIVED}, "mean_hours": None}
    else:
        counts.update({("calls_target_team", q): _published(n, policy)
                       for q, n in team_calls(con, jurisdiction, filters).items()})
        people = _by_quarter(compute(MetricRequest(("F1",), ("quarter",), filters)))
        police = _police(police_busy_time(con, jurisdiction, filters), policy)
    quarters = _quarters(costs, counts, people, rates, police, span, filters)
    totals = _totals(quarters, police, None if per_response_only else compute, filters)
    return {"jurisdiction": jurisdiction, "from": _iso(filters.date_from),
            "to": _iso(filters.date_to), "records_from": _iso(span[0]),
            "records_to": _iso(span[1]), "quarters": quarters, "totals": totals,
            "streams": _streams(costs), "police": police, "police_rates": [
                {"period": r["period"] or "every period without its own", "rate": r["rate"]}
                for r in rates],
            "stream_ends": {k: {"date": v[0].isoformat(), "rule": v[1]}
                            for k, v in STREAM_ENDS.items()},
            "capacity_wording": CAPACITY_WORDING,
            "disclosure": bool(policy and policy.enabled)}


def _no_costs(con, jurisdiction: str, filters: Filters) -> str:
    any_cost = con.execute("SELECT count(*) FROM costs WHERE jurisdiction = ? AND stream <> ?",
                           [jurisdiction, POLICE_HOURLY]).fetchone()[0]
    if any_cost:
        return (f"{jurisdiction} has program costs, but none in the chosen period: widen the "
                "period.")
    return (f"No program costs are entered for {jurisdiction}. Enter them on the Data page "
            "(Program costs), import a costs file (python -m data import costs.csv --kind costs "
            f"--jurisdiction \"{jurisdiction}\"), or use python -m data costs.")


def _by_quarter(rows: list) -> dict:
    """{(metric, quarter): (value, reason)} from engine or public rows (objects or dicts)."""
    out = {}
    for r in rows:
        r = r if isinstance(r, dict) else r.__dict__
        hidden = (r.get("suppressed") or {})
        value = r["numerator"] if r["numerator"] is not None else r["value"]
        reason = hidden.get("numerator") or hidden.get("value")
        out[(r["metric"], r["group"].get("quarter"))] = (value, reason)
    return out


def _published(n: int, policy) -> tuple[int | None, str | None]:
    """(count as shown, reason it is hidden): rounded, and 1 to H hidden, for a public view.

    The team's target-type calls are counted here (one grouped scan), not through the
    engine's disclosure, which would add its margins and partner ratios. Their quarters are
    published alone (no total of them is published anywhere but as the sum of the quarters
    shown), so hiding a small quarter needs no complementary cell: nothing can be subtracted
    from a published total."""
    if policy is None or not policy.enabled:
        return n, None
    shown = published_count(n, policy)
    return shown, (SMALL if shown is None else None)


def _police(busy: dict, policy) -> dict:
    """Busy time as shown: the hours, mean and median hidden (``hidden``) when they rest on a
    small number of calls; for a public view the counts of calls published (rounded, a small
    one hidden: ``hidden_counts``)."""
    out = {k: (float(v) if isinstance(v, float) else v) for k, v in busy.items()}
    out["start"] = ("cleared − dispatched; cleared − on scene for "
                    f"{out['from_on_scene']:,} calls without a dispatch time")
    out["hidden"], out["hidden_counts"] = {}, {}
    if policy is None or not policy.enabled:
        return out
    if 0 < (busy["timed"] or 0) <= policy.hidden_up_to:
        for k in ("hours", "mean_hours", "median_hours"):
            out[k] = None
            out["hidden"][k] = SMALL
    for k in ("calls", "timed", "from_on_scene", "no_times", "out_of_order", "over_limit"):
        out[k] = published_count(busy[k], policy)
        if out[k] is None:
            out["hidden_counts"][k] = SMALL
    out["start"] = "cleared − dispatched; cleared − on scene where dispatch is missing"
    return out


def _quarters(costs, counts, people, rates, police, span, filters) -> list[dict]:
    by_q: dict[str, dict] = {}
    for c in costs:
        q = by_q.setdefault(c["quarter"], {"quarter": c["quarter"], "cost": 0.0, "streams": {},
                                            "fte": 0.0, "months_costed": 0})
        q["cost"] += c["cost"]
        q["streams"][c["stream"]] = round(c["cost"], 2)
        q["fte"] += c["fte"]
        q["months_costed"] = max(q["months_costed"], c["months"])
    out = []
    for label in sorted(by_q):
        q = by_q[label]
        start, end = quarter_bounds(label)
        q["cost"], q["fte"] = round(q["cost"], 2), round(q["fte"], 2) or None
        q["complete"] = _complete(start, end, span, filters)
        q["hidden"] = {}
        if span[1] is None or start > span[1]:  # budgeted ahead: no records to divide by
            q.update(responses=None, team_target_calls=None, people=None,
                     cost_per_response=None, cost_per_person=None, hours_returned=None,
                     capacity_value=None, police_hourly_cost=rate_for_quarter(rates, label),
                     ahead=True)
            out.append(q)
            continue
        q["ahead"] = False
        for name, key in (("responses", ("responses", label)),
                          ("team_target_calls", ("calls_target_team", label)),
                          ("people", ("F1", label))):
            value, reason = (people if name == "people" else counts).get(key, (0, None))
            q[name] = value
            if reason:
                q["hidden"][name] = reason
        q["cost_per_response"] = _per(q, "responses", "cost_per_response")
        q["cost_per_person"] = _per(q, "people", "cost_per_person")
        q["police_hourly_cost"] = rate_for_quarter(rates, label)
        _capacity(q, police)
        out.append(q)
    return out


def _complete(start: date, end: date, span, filters: Filters) -> bool:
    lo, hi = span
    if lo is None or start < lo or end > hi:
        return False
    return not ((filters.date_from and start < filters.date_from)
                or (filters.date_to and end > filters.date_to))


def _per(q: dict, bottom: str, name: str) -> float | None:
    """cost ÷ ``bottom`` for a complete quarter (or the totals); hidden when bottom is."""
    if bottom in q["hidden"]:
        q["hidden"][name] = DERIVED
        return None
    if not q.get("complete", True) or not q[bottom] or q["cost"] is None:
        return None
    return round(q["cost"] / q[bottom], 2)


def _capacity(q: dict, police: dict) -> None:
    """Hours of police time the team's target-type calls stand for, and their value."""
    mean = police.get("mean_hours")
    if "team_target_calls" in q["hidden"] or police["hidden"]:
        q["hours_returned"] = q["capacity_value"] = None
        q["hidden"]["hours_returned"] = q["hidden"]["capacity_value"] = DERIVED
        return
    q["hours_returned"] = round(q["team_target_calls"] * mean, 1) if mean is not None else None
    rate = q["police_hourly_cost"]
    q["capacity_value"] = (round(q["hours_returned"] * rate, 2)
                           if q["hours_returned"] is not None and rate is not None else None)


def _totals(quarters, police, compute, filters) -> dict:
    """Over the complete quarters: their cost, the sums of their counts as shown, and the
    people of their whole span (people do not add up over quarters)."""
    done = [q for q in quarters if q["complete"]]
    if not done:
        return {"quarters": [], "note": "No complete quarter has costs: per-unit figures need "
                "a quarter the team's records and the chosen period cover whole."}
    start, end = quarter_bounds(done[0]["quarter"])[0], quarter_bounds(done[-1]["quarter"])[1]
    inside = [q for q in quarters if start <= quarter_bounds(q["quarter"])[0] <= end]
    people = {} if compute is None else _by_quarter(compute(MetricRequest(("F1",), (), replace(
        filters, date_from=start, date_to=end))))
    t = {"quarters": [q["quarter"] for q in done], "from": start.isoformat(),
         "to": end.isoformat(), "cost": round(sum(q["cost"] for q in inside), 2), "hidden": {},
         "complete": True}
    gaps = [q["quarter"] for q in inside if not q["complete"]]
    if gaps:  # a hole in the span: its records are counted, so its cost is too
        t["note"] = f"includes {', '.join(gaps)} (not complete) inside the span"
    for name in ("responses", "team_target_calls"):
        # The sum of the quarters shown: a hidden quarter hides the total (it would give the
        # quarter back by subtraction).
        if any(name in q["hidden"] for q in inside):
            t[name] = None
            t["hidden"][name] = DERIVED
        else:
            t[name] = sum(q[name] or 0 for q in inside)
    t["people"], reason = people.get(("F1", None), (0, None))
    if reason:
        t["hidden"]["people"] = reason
    t["cost_per_response"] = _per(t, "responses", "cost_per_response")
    t["cost_per_person"] = _per(t, "people", "cost_per_person")
    rates = [q["police_hourly_cost"] for q in done if q["police_hourly_cost"] is not None]
    t["police_hourly_cost"] = round(sum(rates) / len(rates), 2) if len(rates) == len(done) \
        else None
    _capacity(t, police)
    return t


def _streams(costs: list[dict]) -> list[dict]:
    out: dict[str, dict] = {}
    for c in costs:
        s = out.setdefault(c["stream"], {"stream": c["stream"], "total": 0.0,
                                         "first_quarter": c["quarter"]})
        s["total"] += c["cost"]
        s["last_quarter"] = c["quarter"]
    for s in out.values():
        s["total"] = round(s["total"], 2)
        end = STREAM_ENDS.get(s["stream"])
        s["ends"] = end[0].isoformat() if end else None
        s["after_end"] = round(sum(c["cost"] for c in costs if c["stream"] == s["stream"]
                                   and end and quarter_bounds(c["quarter"])[0] > end[0]), 2)
    return list(out.values())


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None
