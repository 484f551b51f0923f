"""What a brief says: every figure through ``service.guarded``, as the pages and
``python -m metrics report`` get them, under the same disclosure policy.

``gather`` asks the same requests the Overview, On scene, Connections, Equity, Impact and Cost
pages ask, and turns them into sentences and figures with the same ``charts`` functions, so a
brief never says something the dashboard would not. Hidden numbers are None in the frames and
their words stand in their place, as on the pages.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd

import metrics
from charts import cost as cost_charts
from charts import figures, takeaways, theme
from charts.frames import cell, count_text, frame, has_values, hidden, only, value_text
from charts.labels import code_label, mask_names
from metrics import disclosure, equity
from metrics.disclosure import DisclosurePolicy
from service import guarded
from service.access import AccessDenied, Principal

# The headline: the Overview's tiles, (metric, field, label).
HEADLINE = [("A1", "value", "All calls"), ("A3", "value", "Eligible calls"),
            ("B1", "numerator", "Handled by the team"),
            ("B1", "value", "Coverage of eligible calls"),
            ("C2", "value", "Median team response"), ("D2", "value", None),
            ("E2_30", "value", "Connected in 30 days")]
FUNNEL = ["A1", "A2", "A3", "B1", "D1", "D4"]
# Asked together, once: the headline, the funnel and the referral follow-through. The same
# request as `python -m metrics report --public --jurisdiction J --metric ...` with these ids.
TOTALS = tuple(dict.fromkeys([m for m, _, _ in HEADLINE] + FUNNEL + ["E2_90"]))
DEFINED = ("A1", "A3", "B1", "C2", "D2", "D4", "E2_30")
B1, D2 = metrics.BY_ID["B1"], metrics.BY_ID["D2"]
RESPONSES = metrics.count_metric("responses")


@dataclass
class Tile:
    label: str
    text: str
    detail: str | None


@dataclass
class Section:
    key: str
    title: str
    sentence: str
    figure: object | None = None  # a plotly figure, or None for a sentence alone
    note: str | None = None
    height: int = 300  # the figure's height in the brief, in CSS pixels


@dataclass
class Brief:
    scope: str  # the jurisdiction's name as shown (masked when asked), or the cohort
    period: str
    as_of: str
    public: bool
    rules: str
    tiles: list[Tile]
    sections: list[Section]
    definitions: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Alternative response brief: {self.scope}"


class BriefRefused(Exception):
    """The brief cannot be made for this request (an unknown jurisdiction ...)."""


def gather(con, principal: Principal, filters: metrics.Filters, *,
           policy: DisclosurePolicy = disclosure.VIEWER, mask: bool = False,
           own: str | None = None, on_section=None) -> Brief:
    """The brief's figures and sentences for ``principal``. ``policy`` not enabled asks for
    exact figures: refused (``AccessDenied``) unless the principal may see them, as on the
    dashboard, where the switch is disabled for such a view."""
    known = guarded.filter_options(con, principal)
    unknown = [j for j in filters.jurisdictions if j not in known["jurisdictions"]]
    if unknown:
        raise BriefRefused(f"There is no jurisdiction {unknown[0]!r} that you may see; known: "
                           f"{', '.join(known['jurisdictions']) or 'none'}.")
    required = guarded.needs_disclosure(principal, filters)
    if required and not policy.enabled:
        raise AccessDenied(f"{principal.actor} may not have exact figures for this view: exact "
                           "figures need the analyst role of every jurisdiction in it.",
                           action="aggregates.read")
    public = policy.enabled or required
    if public and not policy.enabled:
        policy = replace(policy, enabled=True)
    shown, notes = disclosure.public_request(metrics.MetricRequest((), (), filters),
                                             policy) if public else (None, [])
    shown_filters = shown.filters if shown else filters
    names = mask_names(known["jurisdictions"], own) if mask else {}
    ask = _Asker(con, principal, filters, policy, names)
    one = filters.jurisdictions[0] if len(filters.jurisdictions) == 1 else None
    scope = names.get(one, one) if one else (
        "the masked cohort" if mask else "all jurisdictions in view")
    totals = ask.metrics(TOTALS)
    makers = [lambda: _funnel(totals), lambda: _coverage(ask, con, principal),
              lambda: _outcomes(ask), lambda: _connections(totals), lambda: _equity(ask)]
    if one:
        makers += [lambda: _impact(ask, one), lambda: _cost(ask, one)]
    sections = []
    for make in makers:
        section = make()
        if section is not None:
            sections.append(section)
            if on_section:  # e.g. render its chart while the next figures are asked for
                on_section(section)
    return Brief(scope=scope, period=_period(shown_filters, known), as_of=_day(known["last_day"]),
                 public=public, rules=rules(policy if public else None),
                 tiles=_tiles(totals, ask.policy),
                 sections=sections, notes=notes,
                 definitions=[(metrics.BY_ID[m].label, metrics.BY_ID[m].definition)
                              for m in DEFINED])


def rules(policy: DisclosurePolicy | None) -> str:
    """The disclosure rules in one paragraph, as applied to this brief."""
    if policy is None:
        return ("Exact figures: no count is hidden or rounded (for the analysts of these "
                "jurisdictions; not for publication).")
    return (f"Public rules: counts from 1 to {policy.hidden_up_to} are hidden, with any figure "
            "that would give them away (shown as \"hidden\" with the reason); the other counts "
            f"are rounded ({policy.rounding_label}), and so are the rates built on them. The "
            "period is widened to whole calendar months.")


class _Asker:
    """Frames for the brief: guarded results as the pages' frames, peers' names masked."""

    def __init__(self, con, principal, filters, policy, names):
        self.con, self.principal, self.filters = con, principal, filters
        self.policy, self.names = policy, names

    def words(self, reason: str) -> str:
        return disclosure.describe(reason, self.policy)

    def metrics(self, ids, by=()) -> pd.DataFrame:
        rows = guarded.compute(self.con, self.principal,
                               metrics.MetricRequest(tuple(ids), tuple(by), self.filters),
                               policy=self.policy)
        return self._mask(frame([_as_dict(r) for r in rows], tuple(by), self.words))

    def counts(self, keys, by=()) -> pd.DataFrame:
        rows = guarded.compute_counts(self.con, self.principal,
                                      metrics.CountRequest(tuple(keys), tuple(by), self.filters),
                                      policy=self.policy)
        return self._mask(frame([_as_dict(r) for r in rows], tuple(by), self.words))

    def _mask(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.names and "jurisdiction" in df.columns:
            df = df.assign(jurisdiction=df["jurisdiction"].map(lambda j: self.names.get(j, j)))
        return df


def _as_dict(row) -> dict:
    return {"suppressed": {}, **row.__dict__}


def _tiles(totals: pd.DataFrame, policy: DisclosurePolicy) -> list[Tile]:
    rows = {r.metric: r for r in totals.itertuples()}
    out = []
    for mid, fld, label in HEADLINE:
        m, r = metrics.BY_ID[mid], rows.get(mid)
        unit = m.unit if fld == "value" else "count"
        shown = hidden(r, fld) if r is not None else None
        text = shown or theme.fmt_value(None if r is None or pd.isna(getattr(r, fld))
                                        else float(getattr(r, fld)), unit)
        out.append(Tile(label or m.label, text, _detail(m, r, fld, shown, policy)))
    return out


def _detail(m, r, fld, shown, policy) -> str | None:
    if r is None:
        return None
    parts = []
    if fld == "numerator":
        parts.append(m.numerator_label)
    elif m.kind == "duration":
        n = hidden(r, "n") or (None if pd.isna(r.n) else f"{int(r.n):,}")
        parts.append(f"90% within {value_text(r, 'minutes', 'p90')}; {n} timed" if n else None)
    elif hidden(r, "denominator") or not pd.isna(r.denominator):
        parts.append(f"{count_text(r, 'numerator')} of {count_text(r, 'denominator')}")
    if r.reliability == "insufficient":
        parts.append(f"{metrics.FEW_EVENTS}: insufficient data")
    if policy.enabled and not shown:
        count = fld == "numerator" or m.kind in ("count", "distinct")
        parts.append(f"rounded ({policy.rounding_label})" if count
                     else f"counts rounded ({policy.rounding_label})")
    return "; ".join(p for p in parts if p) or None


def _funnel(totals: pd.DataFrame) -> Section:
    v = {r.metric: r for r in totals.itertuples()}
    steps = [("All calls", cell(v["A1"], "value"), ""),
             ("Target call types", cell(v["A2"], "value"), ""),
             ("Eligible", cell(v["A3"], "value"), ""),
             ("Team responded", cell(v["B1"], "numerator"), ""),
             ("Contact made", cell(v["D1"], "numerator"), ""),
             ("Resolved on scene", cell(v["D4"], "numerator"), "")]
    return Section(
        "funnel", "From call to resolution",
        takeaways.funnel(cell(v["A1"], "value"), cell(v["A3"], "value"),
                         cell(v["B1"], "numerator"), cell(v["B1"], "value")),
        figures.funnel(steps, "Calls (blue), then team responses (green)", 4),
        "The last two steps count team responses, including those the team started itself "
        "(no 911 call).", height=300)


def _coverage(ask: _Asker, con, principal) -> Section:
    trend = only(ask.metrics(("B1",), ("jurisdiction", "month")), "B1")
    if not has_values(trend):
        return Section("coverage-trend", "Coverage of eligible calls by month",
                       "No eligible calls in this selection.")
    chosen = set(ask.filters.jurisdictions)
    launches = [(ask.names.get(j["jurisdiction"], j["jurisdiction"]), j["launch_date"])
                for j in guarded.jurisdiction_profiles(con, principal)
                if not chosen or j["jurisdiction"] in chosen]
    return Section("coverage-trend", "Coverage of eligible calls by month",
                   takeaways.trend(trend, "jurisdiction", B1),
                   figures.line_by_month(trend, "jurisdiction", B1, launches),
                   "Dotted line: the program's launch; calls before it are never eligible. "
                   "Open circles: months with too few eligible calls to judge.", height=290)


def _outcomes(ask: _Asker) -> Section:
    by_outcome = only(ask.counts(("responses",), ("outcome",)), "responses")
    if not (has_values(by_outcome) and by_outcome["value"].sum()):
        return Section("outcomes", "Team responses by outcome", "No team responses here.")
    return Section("outcomes", "On scene: team responses by outcome",
                   takeaways.largest_share(by_outcome, "outcome", RESPONSES, "team responses"),
                   figures.bar_by_group(by_outcome, "outcome", RESPONSES), height=280)


def _connections(totals: pd.DataFrame) -> Section:
    t = {r.metric: r for r in totals.itertuples()}
    if not has_values(totals[totals["metric"].isin(["E2_30", "E2_90"])]):
        return Section("connected", "Connections: from referral to connection",
                       "No referrals old enough to judge in this selection.")
    steps = [("Referrals ≥ 30 days old", cell(t["E2_30"], "denominator"), ""),
             ("Connected within 30 days", cell(t["E2_30"], "numerator"), ""),
             ("Referrals ≥ 90 days old", cell(t["E2_90"], "denominator"), ""),
             ("Connected within 90 days", cell(t["E2_90"], "numerator"), "")]
    return Section("connected", "Connections: from referral to connection",
                   takeaways.connected(t["E2_30"], t["E2_90"]),
                   figures.funnel(steps, "Referrals"),
                   "Only referrals made long enough before the latest data to judge.",
                   height=230)


def _equity(ask: _Asker) -> Section:
    """The equity highlight: police back-up by race/ethnicity, within each jurisdiction."""
    df = only(ask.metrics((D2.id,), ("jurisdiction", "race_ethnicity")), D2.id)
    title = "Equity: police back-up by race/ethnicity"
    if not has_values(df):
        return Section("equity", title, "No team responses with race/ethnicity recorded.")
    rows = [_light(r) for _, r in df.iterrows()]
    panels = equity.within_jurisdictions(rows, "race_ethnicity", "white")
    sentence = _equity_words(panels)
    one = df if len(panels) == 1 else None
    fig = figures.bar_by_group(one, "race_ethnicity", D2) if one is not None else None
    return Section("equity", title, sentence, fig,
                   "Each group's rate against White residents' rate within the same "
                   "jurisdiction (relative rate index, 95% Katz interval); never added up "
                   "across jurisdictions.", height=260)


def _equity_words(panels) -> str:
    """One sentence per jurisdiction that can be compared; the others named together."""
    named = len(panels) > 1
    none = [p.jurisdiction for p in panels if not _comparable(p)]
    said = [_equity_sentence(p, named) for p in panels if _comparable(p)]
    if none:
        said.append(("In " + _and(none) + " " if named else "")
                    + "no group can be compared with White residents (too few records, or "
                      "counts hidden).")
    text = " ".join(said)
    return text[:1].upper() + text[1:]


def _comparable(p) -> bool:
    return p.reference is not None and any(g.ratio.estimable for g in p.rates
                                           if not g.is_reference)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _equity_sentence(p, named: bool) -> str:
    where = f"{p.jurisdiction}: " if named else ""
    clear = [g for g in p.rates if g.differs]
    if not clear:
        return (f"{where}no group's back-up rate differs clearly from White residents' "
                "(every 95% interval includes 1).")
    g = max(clear, key=lambda x: abs(x.ratio.estimate - 1))
    return (f"{where}{code_label(g.group)} residents' back-up rate is "
            f"{g.ratio.estimate:.2f}× White residents' (95% interval "
            f"{g.ratio.low:.2f}–{g.ratio.high:.2f}).")


def _light(r):
    from types import SimpleNamespace

    def num(v):
        return None if pd.isna(v) else (int(v) if float(v).is_integer() else float(v))
    return SimpleNamespace(group={"jurisdiction": r["jurisdiction"],
                                  "race_ethnicity": None if pd.isna(r["race_ethnicity"])
                                  else r["race_ethnicity"]},
                           numerator=num(r["numerator"]), denominator=num(r["denominator"]),
                           value=num(r["value"]), ci_low=num(r["ci_low"]),
                           ci_high=num(r["ci_high"]), reliability=r["reliability"],
                           n=num(r["n"]), missing=num(r["missing"]))


def _impact(ask: _Asker, jurisdiction: str) -> Section | None:
    from metrics.impact import ImpactRefused

    filters = replace(ask.filters, jurisdictions=(jurisdiction,))
    try:
        analysis = guarded.impact(ask.con, ask.principal, filters, "police_calls",
                                  policy=ask.policy)
    except (ImpactRefused, metrics.MetricError) as e:
        return Section("impact", "Impact: what changed after launch", str(e))
    for method, words in (("its", "what the trend of the months before launch predicted"),
                          ("yoy", "those of the same months a year before")):
        est = analysis.results.get(method)
        if est is None or isinstance(est, Exception) or est.rate_ratio is None:
            continue
        ci = (f" (95% interval {est.ci_low:.2f}–{est.ci_high:.2f})"
              if est.ci_low is not None else "")
        verdict = "" if est.plausible else (" This is larger than the calls the team took: "
                                            "not plausible as the team's effect alone.")
        return Section("impact", "Impact: what changed after launch",
                       f"Police-handled calls of the target types after launch were "
                       f"{est.rate_ratio:.2f} times {words}{ci}.{verdict}",
                       note=est.caveats[0] if est.caveats else None)
    reasons = [str(r) for r in analysis.results.values() if isinstance(r, Exception)]
    return Section("impact", "Impact: what changed after launch",
                   reasons[0] if reasons else "No estimate for this jurisdiction.")


def _cost(ask: _Asker, jurisdiction: str) -> Section | None:
    from metrics.cost import NoCosts

    try:
        # Cost per team response alone, as Compare asks (the whole cost report took 1.8 s
        # at 10 million calls; this 0.3 s).
        rep = guarded.cost_report(ask.con, ask.principal, jurisdiction, ask.filters,
                                  policy=ask.policy, per_response_only=True)
    except NoCosts:
        return None  # "where available": a brief without costs leaves the section out
    return Section("cost", "Cost per team response",
                   cost_charts.per_unit_sentence(rep, ask.words),
                   note="Whole quarters only; a cost entered for a longer period is spread "
                        "evenly over its months.")


def _period(f: metrics.Filters, known: dict) -> str:
    start = f.date_from or known.get("first_day")
    end = f.date_to or known.get("last_day")
    return f"{_day(start)} to {_day(end)}"


def _day(d) -> str:
    return d.strftime("%-d %B %Y") if isinstance(d, date) else "—"
