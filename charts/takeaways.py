"""The one sentence each chart says, computed from the same frame the chart draws.

Pure functions returning plain text (the page escapes it before display). Groups whose rate
rests on too few events (metrics.stats.MIN_EVENTS) are left out of "highest / lowest" claims
and said so. Figures that disclosure control hid (None in the frame) are never named: a
sentence counts the groups hidden, or prints the words that stand in for a hidden number
("hidden (fewer than 11)").
"""
from __future__ import annotations

import pandas as pd

from metrics.registry import Metric
from metrics.stats import FEW_EVENTS, MIN_EVENTS

from .frames import cell, count_text, group_label, hidden, hidden_rows
from .labels import WEEKDAYS, month_label, weekday_hour
from .theme import fmt_value

_LOWER_IS_BETTER = {"C1", "C2", "C3", "D2", "D3", "D6", "B3"}
# Measures with a clear better direction, the only ones a rank is stated for.
_RANKED = _LOWER_IS_BETTER | {"B1", "B2", "D1", "D4", "E1", "E2_30", "E2_90"}


def _sure(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["value"].notna() & df["reliability"].ne("insufficient")]


def _weak(df: pd.DataFrame) -> pd.Series:
    """Rows with a value that rests on too few events (left out of comparisons)."""
    return df["value"].notna() & df["reliability"].eq("insufficient")


def _left_out(df: pd.DataFrame, dim_word: str) -> str:
    gone = hidden_rows(df)
    return _left_out_note(int(_weak(df).sum()), int(gone.sum()),
                          int((df["value"].isna() & ~gone).sum()), dim_word)


def _left_out_note(weak: int, gone: int, blank: int, dim_word: str,
                   blank_words: str = "with nothing to count not shown") -> str:
    """' (1 area with fewer than 20 events left out; 1 area hidden to protect privacy)'."""
    notes = []
    if weak:
        notes.append(f"{_plural(weak, dim_word)} with {FEW_EVENTS} left out")
    if gone:
        notes.append(f"{_plural(gone, dim_word)} hidden to protect privacy")
    if blank:
        notes.append(f"{_plural(blank, dim_word)} {blank_words}")
    return f" ({'; '.join(notes)})" if notes else ""


def _all_hidden(df: pd.DataFrame) -> bool:
    return not df.empty and bool(hidden_rows(df).any()) and not df["value"].notna().any()


HIDDEN_SENTENCE = ("The figures for this selection are hidden to protect privacy: they rest on "
                   "small counts. Widen the period or the selection.")


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    return f"{n} {word[:-1] + 'ies' if word.endswith('y') else word + 's'}"


def extremes(df: pd.DataFrame, dim: str, m: Metric, names: dict | None = None,
             dim_word: str = "group") -> str:
    """'Coverage of eligible calls was highest in Millbrook (58.0%) and lowest in ... (42.0%).'"""
    sure = _sure(df)
    what = m.label[:1].upper() + m.label[1:]
    if sure.empty:
        if df["value"].notna().any():
            return (f"Every {dim_word} has {FEW_EVENTS} behind its {m.label.lower()}: "
                    f"too few to compare{_left_out(df[df['value'].isna()], dim_word)}.")
        if _all_hidden(df):
            return HIDDEN_SENTENCE
        return f"No {m.label.lower()} to show for this selection."
    top = sure.loc[sure["value"].idxmax()]
    low = sure.loc[sure["value"].idxmin()]
    top_name, low_name = _where(dim, top[dim], names), _where(dim, low[dim], names)
    if len(sure) == 1 or top["value"] == low["value"]:
        return (f"{what} was {fmt_value(top['value'], m.unit)} {top_name}"
                f"{_left_out(df, dim_word)}.")
    return (f"{what} was highest {top_name} ({fmt_value(top['value'], m.unit)}) and "
            f"lowest {low_name} ({fmt_value(low['value'], m.unit)}){_left_out(df, dim_word)}.")


def _where(dim: str, value, names: dict | None = None) -> str:
    """'in Millbrook', 'for mental health calls', 'for no unit available'."""
    label = group_label(dim, value, names)
    if dim in ("jurisdiction", "area", "month"):
        return f"in {label}"
    if dim == "category":
        return f"for {label.lower()} calls"
    return f"for {label.lower()}"


def largest_share(df: pd.DataFrame, dim: str, m: Metric, noun: str) -> str:
    """'Most team responses ended resolved on scene: 20,589 of 41,273 (49.9%).'"""
    sure = df[df["value"].notna()]
    if sure.empty or not sure["value"].sum():
        return HIDDEN_SENTENCE if _all_hidden(df) else f"No {noun} to show for this selection."
    top = sure.loc[sure["value"].idxmax()]
    gone = int(hidden_rows(df).sum())
    if gone:  # the shown groups do not add up to the whole: no share of it
        return (f"The largest group of {noun} shown is {group_label(dim, top[dim]).lower()}: "
                f"{int(top['value']):,} ({_plural(gone, 'group')} hidden to protect privacy).")
    total = sure["value"].sum()
    return (f"The largest group of {noun} is {group_label(dim, top[dim]).lower()}: "
            f"{int(top['value']):,} of {int(total):,} ({top['value'] / total:.1%}).")


def trend(df: pd.DataFrame, series: str | None, m: Metric) -> str:
    """First to last month, for the series that moved most (or the only one)."""
    best = None
    for name, part in ([(None, df)] if series is None else df.groupby(series)):
        part = _sure(part).sort_values("month")
        if len(part) < 2:
            continue
        first, last = part.iloc[0], part.iloc[-1]
        change = last["value"] - first["value"]
        if best is None or abs(change) > abs(best[1]):
            best = (name, change, first, last)
    if best is None:
        return (f"Too few months with {MIN_EVENTS} or more events to describe a trend in "
                f"{m.label.lower()}.")
    name, change, first, last = best
    who = f" in {name}" if name is not None else ""
    several = series is not None and df[series].nunique() > 1
    lead = "The largest change: " if several else ""
    if several and not change:  # the largest change is none: no series moved
        lead = f"No {dim_word(series)} changed: "
    what = m.label[:1].lower() + m.label[1:] if lead else m.label
    if not change:
        return (f"{lead}{what}{who} stayed at {fmt_value(first['value'], m.unit)} from "
                f"{month_label(first['month'])} to {month_label(last['month'])}.")
    verb = "rose" if change > 0 else "fell"
    return (f"{lead}{what}{who} {verb} from {fmt_value(first['value'], m.unit)} in "
            f"{month_label(first['month'])} to {fmt_value(last['value'], m.unit)} in "
            f"{month_label(last['month'])}.")


def unserved(b3: pd.DataFrame, by_reason: pd.DataFrame) -> str:
    """'36.0% of eligible calls (12,000 of 33,000) got no team response; most often: ...'"""
    row = b3.iloc[0] if not b3.empty else None
    if row is not None and hidden(row, "value"):
        lead = (f"The share of eligible calls that got no team response is "
                f"{hidden(row, 'value')}")
    elif row is None or pd.isna(row["value"]):
        return "No eligible calls in this selection."
    else:
        lead = (f"{fmt_value(row['value'], 'share')} of eligible calls "
                f"({count_text(row, 'numerator')} of {count_text(row, 'denominator')}) got no "
                "team response")
    shown = by_reason[by_reason["value"].notna()]
    if shown.empty:
        return lead + "."
    top = shown.loc[shown["value"].idxmax()]
    gone = int(hidden_rows(by_reason).sum())
    return (f"{lead}; the most common reason{' shown' if gone else ''}: "
            f"{group_label('not_served_reason', top['not_served_reason'])} "
            f"({int(top['value']):,}).")


def connected(within_30, within_90) -> str:
    """'Of 26,100 referrals old enough to judge, 9,990 (38.3%) connected within 30 days; ...'.

    Each rate has its own base: referrals made at least 30 (or 90) days before the latest data.
    """
    if within_30 is None or not cell(within_30, "denominator"):
        return "No referrals old enough to judge (made 30 days or more before the latest data)."
    text = (f"Of {count_text(within_30, 'denominator')} referrals made 30 days or more before "
            f"the latest data, {count_text(within_30, 'numerator')}{_share(within_30)} "
            f"connected within 30 days")
    if within_90 is not None and cell(within_90, "denominator"):
        text += (f"; of {count_text(within_90, 'denominator')} made 90 days or more before, "
                 f"{count_text(within_90, 'numerator')}{_share(within_90)} within 90 days")
    if within_30.reliability == "insufficient":
        text += f" (fewer than {MIN_EVENTS} connections: insufficient data)"
    return text + "."


def _share(r) -> str:
    """' (38.3%)' after a count, or nothing when the share is hidden."""
    return "" if hidden(r, "value") else f" ({fmt_value(r.value, 'share')})"


def peak_month(df: pd.DataFrame, m: Metric) -> str:
    sure = df[df["value"].notna()]
    if sure.empty or not sure["value"].sum():
        return HIDDEN_SENTENCE if _all_hidden(df) else f"No {m.label.lower()} in this selection."
    by_month = sure.groupby("month")["value"].sum()
    gone = int(hidden_rows(df).sum())
    if gone:  # the shown months do not add up to the period
        return (f"The most {m.label[:1].lower() + m.label[1:]} in one month: "
                f"{int(by_month.max()):,}, in {month_label(by_month.idxmax())} "
                f"({_plural(gone, 'month')} hidden to protect privacy).")
    return (f"{int(by_month.sum()):,} {m.label.lower()} in the period; the most in "
            f"{month_label(by_month.idxmax())} ({int(by_month.max()):,}).")


def heatmap(df: pd.DataFrame, m: Metric) -> str:
    """Lowest and highest weekday-hour, and how many had no denominator (coverage gaps)."""
    sure = _sure(df)
    gone = int(hidden_rows(df).sum())
    blank = 7 * 24 - int(df["value"].notna().sum()) - gone
    gap = (f"; {blank} of 168 weekday-hours had none (outside coverage hours)" if blank else "")
    if gone:
        gap += f"; {gone} hidden to protect privacy"
    if sure.empty:
        return f"Too few events per hour to compare{gap}."
    weak = int(_weak(df).sum())
    if weak:
        gap += f"; {_plural(weak, 'weekday-hour')} with {FEW_EVENTS} left out"

    def when(v):
        d, h = weekday_hour(v)
        return f"{WEEKDAYS[d - 1]} {h:02d}:00"
    low, top = sure.loc[sure["value"].idxmin()], sure.loc[sure["value"].idxmax()]
    return (f"{m.label} was lowest on {when(low['weekday_hour'])} "
            f"({fmt_value(low['value'], m.unit)}) and highest on {when(top['weekday_hour'])} "
            f"({fmt_value(top['value'], m.unit)}){gap}.")


def funnel(calls, eligible, handled, coverage) -> str:
    """Each figure a number, or the words shown for it when it is hidden (``frames.cell``)."""
    if not calls:
        return "No calls in this selection."
    if not eligible:
        return f"Of {_n(calls)} calls, none was eligible for the team in this selection."
    share = "" if isinstance(coverage, str) else f" ({fmt_value(coverage, 'share')})"
    return (f"Of {_n(calls)} calls, {_n(eligible)} were eligible for the team and it "
            f"responded to {_n(handled or 0)} of them{share}.")


def _n(x) -> str:
    return x if isinstance(x, str) else f"{int(x):,}"


def durations(df: pd.DataFrame, dim: str, m: Metric, names: dict | None = None) -> str:
    """Shortest and longest median; groups with too few events or hidden are left out, and
    said so."""
    sure = _sure(df)
    word = dim_word(dim)
    if sure.empty:
        if df["value"].notna().any():
            return (f"Every {word} has {FEW_EVENTS} behind its {m.label.lower()}: "
                    f"too few to compare{_left_out(df[df['value'].isna()], word)}.")
        if _all_hidden(df):
            return HIDDEN_SENTENCE
        return f"No {m.label.lower()} recorded for this selection."
    fast, slow = sure.loc[sure["value"].idxmin()], sure.loc[sure["value"].idxmax()]
    note = _left_out(df, word)
    if len(sure) == 1:
        return (f"{m.label}: median {fmt_value(fast['value'], 'minutes')}, 90% within "
                f"{fmt_value(fast['p90'], 'minutes')} in {group_label(dim, fast[dim], names)}"
                f"{note}.")
    return (f"{m.label} was shortest in {group_label(dim, fast[dim], names)} {_spread(fast)} "
            f"and longest in {group_label(dim, slow[dim], names)} {_spread(slow)}{note}.")


def _spread(r) -> str:
    """'(median 12.0 min, 90% within 30.0 min)'."""
    return (f"(median {fmt_value(r['value'], 'minutes')}, 90% within "
            f"{fmt_value(r['p90'], 'minutes')})")


def team_vs_police(df: pd.DataFrame, dim: str, team: Metric, police: Metric,
                   names: dict | None = None) -> str:
    """'On target-type calls the team's median arrival was faster than police in 3 of 5 ...'."""
    sure = _sure(df)
    t = sure[sure["metric"] == team.id].set_index(dim)["value"]
    p = sure[sure["metric"] == police.id].set_index(dim)["value"]
    both = t.index.intersection(p.index)
    if both.empty:
        return "Not enough timed calls of target types to compare the team with police."
    note = _not_compared(df[df["metric"].isin([team.id, police.id])], dim, both)
    faster = [g for g in both if t[g] < p[g]]
    if len(both) == 1:
        g = both[0]
        return (f"In {group_label(dim, g, names)}, the team's median time to arrive on "
                f"target-type calls was {fmt_value(t[g], 'minutes')}, police's "
                f"{fmt_value(p[g], 'minutes')}{note}.")
    gap = max(both, key=lambda g: abs(t[g] - p[g]))
    word = "faster" if t[gap] < p[gap] else "slower"
    return (f"On target-type calls the team's median arrival was faster than police in "
            f"{len(faster)} of {len(both)} {dim_plural(dim)}{note}; the largest gap is in "
            f"{group_label(dim, gap, names)} ({fmt_value(t[gap], 'minutes')} vs "
            f"{fmt_value(p[gap], 'minutes')}, team {word}).")


def _not_compared(df: pd.DataFrame, dim: str, both) -> str:
    """The groups on the chart that the team-police count leaves out, and why (one reason
    each: hidden, then too few events, then a time missing on one side)."""
    rest = df[~df[dim].isin(both)]
    gone = weak = blank = 0
    for _, part in rest.groupby(dim, dropna=False):
        if hidden_rows(part).any():
            gone += 1
        elif _weak(part).any():
            weak += 1
        else:
            blank += 1
    return _left_out_note(weak, gone, blank, dim_word(dim), "with no time to compare")


def dim_word(dim: str) -> str:
    return dim if dim in ("jurisdiction", "area", "month") else "group"


def dim_plural(dim: str) -> str:
    return {"jurisdiction": "jurisdictions", "area": "areas", "month": "months"}.get(dim, "groups")


def rank(df: pd.DataFrame, own: str, metrics: list[Metric], names: dict | None = None) -> str:
    """'Riverton ranks 2nd of 5 on coverage ..., 4th of 5 on ...' (1st = best)."""
    parts = []
    for m in metrics:
        if m.id not in _RANKED:
            continue  # no better or worse: transports, volumes per resident
        sure = _sure(df[df["metric"] == m.id])
        if own not in set(sure["jurisdiction"]) or len(sure) < 2:
            continue
        asc = m.id in _LOWER_IS_BETTER
        ordered = sure.sort_values("value", ascending=asc)["jurisdiction"].tolist()
        parts.append(f"{_ordinal(ordered.index(own) + 1)} of {len(ordered)} on "
                     f"{m.label[:1].lower() + m.label[1:]}")
    name = (names or {}).get(own, own)
    if not parts:
        return f"Too few comparable figures to rank {name} in this selection."
    return f"{name} ranks " + ", ".join(parts) + " (1st = best)."


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def change(now, before, unit: str) -> str | None:
    """The change shown under a tile: relative for counts, points for shares, minutes."""
    if now is None or before is None or now != now or before != before:
        return None
    if unit == "share":
        text = f"{(now - before) * 100:+.1f} pts"
    elif unit == "minutes":
        text = f"{now - before:+.1f} min"
    elif not before:
        return None
    else:
        text = f"{(now - before) / before:+.1%}"
    # "+0.0" or "-0.0" would show an arrow (and a colour) for no change at all.
    return text[1:] if text[1:].startswith(("0.0 ", "0.0%")) else text


def lower_is_better(metric_id: str) -> bool:
    return metric_id in _LOWER_IS_BETTER
