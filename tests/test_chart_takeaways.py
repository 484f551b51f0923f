"""charts/takeaways.py: the sentence each chart says, from small frames built the way the pages
build them (``charts.frames.frame`` over engine rows). Numbers are worked out in comments."""
import pytest

import metrics
from charts import takeaways
from charts.frames import frame
from charts.takeaways import HIDDEN_SENTENCE

B1, C2, C5, C6 = (metrics.BY_ID[k] for k in ("B1", "C2", "C5", "C6"))
A4 = metrics.BY_ID["A4"]
SMALL = "hidden (fewer than 11)"
DERIVED = "hidden (built on a hidden count)"


def _row(metric, group, value, reliability="ok", suppressed=None, **counts):
    return {"metric": metric, "group": group, "value": value, "reliability": reliability,
            "suppressed": suppressed, **counts}


def _rates(dim, groups, metric="B1"):
    """groups: (name, value, reliability) or (name, None, 'hidden')."""
    rows = []
    for name, value, rel in groups:
        if rel == "hidden":
            rows.append(_row(metric, {dim: name}, None, None,
                             {"numerator": "small", "value": "derived"}, denominator=40))
        else:
            rows.append(_row(metric, {dim: name}, value, rel))
    return frame(rows, (dim,))


# --------------------------------------------------------------------------------------------
# extremes
# --------------------------------------------------------------------------------------------

def test_extremes_leaves_out_weak_and_hidden_groups_and_says_so():
    df = _rates("area", [("North", 0.58, "ok"), ("South", 0.42, "ok"),
                         ("East", 0.90, "insufficient"), ("West", None, "hidden")])
    text = takeaways.extremes(df, "area", B1, dim_word="area")
    # East (90.0%) would be highest if counted: it rests on too few events, so is left out.
    assert text == ("Coverage of eligible calls was highest in North (58.0%) and lowest in "
                    "South (42.0%) (1 area with fewer than 20 events left out; 1 area hidden "
                    "to protect privacy).")
    assert "90.0%" not in text


def test_extremes_plural_words_and_blank_groups():
    rows = [_row("B1", {"category": "MENTAL_HEALTH"}, 0.6),
            _row("B1", {"category": "WELFARE_CHECK"}, 0.3),
            _row("B1", {"category": "SUBSTANCE_USE"}, 0.1, "insufficient"),
            _row("B1", {"category": "INTOXICATION"}, 0.95, "insufficient"),
            _row("B1", {"category": "DISPUTE"}, None, None, {"value": "derived"}),
            _row("B1", {"category": "NOISE"}, None, None, {"value": "derived"}),
            _row("B1", {"category": "TRESPASS"}, None, None)]  # no eligible calls at all
    df = frame(rows, ("category",))
    text = takeaways.extremes(df, "category", B1, dim_word="category")
    assert text == ("Coverage of eligible calls was highest for mental health calls (60.0%) "
                    "and lowest for welfare check calls (30.0%) (2 categories with fewer than "
                    "20 events left out; 2 categories hidden to protect privacy; 1 category "
                    "with nothing to count not shown).")


def test_extremes_with_one_sure_group_states_its_value():
    df = _rates("area", [("North", 0.58, "ok"), ("East", 0.9, "insufficient")])
    assert takeaways.extremes(df, "area", B1, dim_word="area") == (
        "Coverage of eligible calls was 58.0% in North (1 area with fewer than 20 events "
        "left out).")


def test_extremes_names_masked_jurisdictions_only():
    df = _rates("jurisdiction", [("Riverton", 0.5, "ok"), ("Millbrook", 0.7, "ok")])
    text = takeaways.extremes(df, "jurisdiction", B1, {"Millbrook": "Jurisdiction A"})
    assert text == ("Coverage of eligible calls was highest in Jurisdiction A (70.0%) and "
                    "lowest in Riverton (50.0%).")
    assert "Millbrook" not in text


def test_extremes_when_nothing_is_sure_enough():
    weak = _rates("area", [("North", 0.8, "insufficient"), ("South", 0.2, "insufficient"),
                           ("West", None, "hidden")])
    text = takeaways.extremes(weak, "area", B1, dim_word="area")
    assert text == ("Every area has fewer than 20 events behind its coverage of eligible "
                    "calls: too few to compare (1 area hidden to protect privacy).")
    assert "80.0%" not in text and "20.0%" not in text
    hidden = _rates("area", [("North", None, "hidden"), ("South", None, "hidden")])
    assert takeaways.extremes(hidden, "area", B1) == HIDDEN_SENTENCE
    empty = frame([_row("B1", {"area": "North"}, None, None)], ("area",))
    assert takeaways.extremes(empty, "area", B1) == (
        "No coverage of eligible calls to show for this selection.")


# --------------------------------------------------------------------------------------------
# largest_share, peak_month, unserved
# --------------------------------------------------------------------------------------------

def _counts(dim, values, metric="responses"):
    rows = [_row(metric, {dim: k}, v, None, {"value": "small"} if v is None else None)
            for k, v in values]
    return frame(rows, (dim,))


def test_largest_share_of_the_whole():
    df = _counts("outcome", [("resolved_on_scene", 20589), ("transported", 15000),
                             ("refused", 5684)])
    # 20,589 + 15,000 + 5,684 = 41,273; 20,589 / 41,273 = 0.49885 -> 49.9%.
    assert takeaways.largest_share(df, "outcome", None, "team responses") == (
        "The largest group of team responses is resolved on scene: 20,589 of 41,273 (49.9%).")


def test_largest_share_with_a_hidden_group_gives_no_share():
    df = _counts("outcome", [("resolved_on_scene", 20589), ("transported", 15000),
                             ("refused", None), ("other", None)])
    # The shown groups do not add up to the whole: no "of 35,589", no percentage.
    text = takeaways.largest_share(df, "outcome", None, "team responses")
    assert text == ("The largest group of team responses shown is resolved on scene: 20,589 "
                    "(2 groups hidden to protect privacy).")
    assert "%" not in text and "35,589" not in text


def test_largest_share_when_all_hidden_or_nothing():
    assert takeaways.largest_share(_counts("outcome", [("a", None)]), "outcome", None,
                                   "referrals") == HIDDEN_SENTENCE
    assert takeaways.largest_share(_counts("outcome", [("a", 0), ("b", 0)]), "outcome", None,
                                   "referrals") == "No referrals to show for this selection."


def _a4_months(values):
    rows = [_row("A4", {"month": m}, v, None, {"value": "small"} if v is None else None)
            for m, v in values]
    return frame(rows, ("month",))


def test_peak_month_total_and_peak():
    df = _a4_months([("2024-01", 100), ("2024-02", 250), ("2024-03", 150)])
    # 100 + 250 + 150 = 500; the most in February (250).
    assert takeaways.peak_month(df, A4) == (
        "500 out-of-hours eligible-type calls in the period; the most in Feb 2024 (250).")


def test_peak_month_with_a_hidden_month_gives_no_total():
    df = _a4_months([("2024-01", 100), ("2024-02", 250), ("2024-03", None)])
    text = takeaways.peak_month(df, A4)
    assert text == ("The most out-of-hours eligible-type calls in one month: 250, in Feb 2024 "
                    "(1 month hidden to protect privacy).")
    assert "350" not in text  # 100 + 250 would pass for the period's total
    assert takeaways.peak_month(_a4_months([("2024-01", None)]), A4) == HIDDEN_SENTENCE


def _b3(value, numerator, denominator, suppressed=None):
    return frame([_row("B3", {}, value, "ok", suppressed, numerator=numerator,
                       denominator=denominator)])


def test_unserved_share_and_most_common_reason():
    reasons = _counts("not_served_reason", [("no_unit_available", 7000), (None, 4000),
                                            ("team_busy", 1000)], "calls_eligible_not_served")
    # 12,000 / 33,000 = 0.3636 -> 36.4%.
    assert takeaways.unserved(_b3(12000 / 33000, 12000, 33000), reasons) == (
        "36.4% of eligible calls (12,000 of 33,000) got no team response; the most common "
        "reason: No unit available (7,000).")


def test_unserved_with_hidden_share_and_reasons():
    reasons = _counts("not_served_reason", [("team_busy", 40), ("refused", None)],
                      "calls_eligible_not_served")
    b3 = _b3(None, None, 33000, {"numerator": "small", "value": "derived"})
    assert takeaways.unserved(b3, reasons) == (
        f"The share of eligible calls that got no team response is {DERIVED}; the most "
        "common reason shown: Team busy (40).")
    assert takeaways.unserved(_b3(None, None, None), reasons) == (
        "No eligible calls in this selection.")
    none_shown = _counts("not_served_reason", [("refused", None)])
    assert takeaways.unserved(_b3(0.25, 10, 40), none_shown) == (
        "25.0% of eligible calls (10 of 40) got no team response.")


# --------------------------------------------------------------------------------------------
# trend, heatmap
# --------------------------------------------------------------------------------------------

def _b1_months(series):
    rows = []
    for j, months in series.items():
        for m, v, rel in months:
            group = {"month": m} if j is None else {"jurisdiction": j, "month": m}
            rows.append(_row("B1", group, v, rel, None if v is not None else
                             {"value": "derived"}))
    return frame(rows, ("month",) if None in series else ("jurisdiction", "month"))


def test_trend_one_series_skips_weak_months():
    df = _b1_months({None: [("2024-03", 0.55, "ok"), ("2024-01", 0.40, "ok"),
                            ("2024-04", 0.95, "insufficient"), ("2024-05", None, None)]})
    # Sure months: Jan 40.0% and Mar 55.0% (April rests on too few events, May is hidden).
    assert takeaways.trend(df, None, B1) == (
        "Coverage of eligible calls rose from 40.0% in Jan 2024 to 55.0% in Mar 2024.")


def test_trend_names_the_series_that_moved_most():
    df = _b1_months({"Riverton": [("2024-01", 0.40, "ok"), ("2024-03", 0.45, "ok")],
                     "Jurisdiction A": [("2024-01", 0.60, "ok"), ("2024-03", 0.30, "ok")]})
    # Riverton +0.05, Jurisdiction A -0.30: the larger change is the fall.
    assert takeaways.trend(df, "jurisdiction", B1) == (
        "The largest change: coverage of eligible calls in Jurisdiction A fell from 60.0% in "
        "Jan 2024 to 30.0% in Mar 2024.")


def test_trend_with_too_few_months():
    df = _b1_months({None: [("2024-01", 0.4, "ok"), ("2024-02", 0.9, "insufficient")]})
    assert takeaways.trend(df, None, B1) == (
        "Too few months with 20 or more events to describe a trend in coverage of eligible "
        "calls.")


def test_heatmap_lowest_highest_gaps_and_hidden():
    rows = [_row("B1", {"weekday_hour": "1-08"}, 0.2),
            _row("B1", {"weekday_hour": "3-14"}, 0.8),
            _row("B1", {"weekday_hour": "5-20"}, 0.95, "insufficient"),
            _row("B1", {"weekday_hour": "7-03"}, None, None, {"value": "derived"})]
    df = frame(rows, ("weekday_hour",))
    # 168 cells - 3 with a value - 1 hidden = 164 with no eligible calls. Fri 20:00 (95.0%)
    # rests on too few events and is not the "highest".
    text = takeaways.heatmap(df, B1)
    assert text == ("Coverage of eligible calls was lowest on Mon 08:00 (20.0%) and highest "
                    "on Wed 14:00 (80.0%); 164 of 168 weekday-hours had none (outside "
                    "coverage hours); 1 hidden to protect privacy; 1 weekday-hour with fewer "
                    "than 20 events left out.")


def test_heatmap_with_nothing_sure():
    df = frame([_row("B1", {"weekday_hour": "2-09"}, 0.5, "insufficient")],
               ("weekday_hour",))
    assert takeaways.heatmap(df, B1) == (
        "Too few events per hour to compare; 167 of 168 weekday-hours had none (outside "
        "coverage hours).")


# --------------------------------------------------------------------------------------------
# connected, funnel
# --------------------------------------------------------------------------------------------

def _referrals(metric, numerator, denominator, reliability="ok", suppressed=None):
    value = None if suppressed else numerator / denominator
    return next(frame([_row(metric, {}, value, reliability, suppressed, numerator=numerator,
                            denominator=denominator)]).itertuples())


def test_connected_with_both_bases():
    w30 = _referrals("E2_30", 9990, 26100)  # 9,990 / 26,100 = 0.38276 -> 38.3%
    w90 = _referrals("E2_90", 10000, 20000)  # 50.0%
    assert takeaways.connected(w30, w90) == (
        "Of 26,100 referrals made 30 days or more before the latest data, 9,990 (38.3%) "
        "connected within 30 days; of 20,000 made 90 days or more before, 10,000 (50.0%) "
        "within 90 days.")


def test_connected_hidden_and_insufficient():
    w30 = _referrals("E2_30", None, 60, "insufficient",
                     {"numerator": "small", "value": "derived"})
    text = takeaways.connected(w30, None)
    assert text == (f"Of 60 referrals made 30 days or more before the latest data, {SMALL} "
                    "connected within 30 days (fewer than 20 connections: insufficient "
                    "data).")
    assert "%" not in text
    assert takeaways.connected(None, None).startswith("No referrals old enough to judge")
    assert takeaways.connected(_referrals("E2_30", 0, 0, suppressed={"value": "x"}),
                               None).startswith("No referrals old enough")


def test_funnel_sentence():
    # 12,000 of 33,000 eligible calls: 36.4%.
    assert takeaways.funnel(41273, 33000, 12000, 12000 / 33000) == (
        "Of 41,273 calls, 33,000 were eligible for the team and it responded to 12,000 of "
        "them (36.4%).")
    # A hidden count prints its words; a hidden coverage prints nothing in its place.
    assert takeaways.funnel(41273, 33000, SMALL, DERIVED) == (
        f"Of 41,273 calls, 33,000 were eligible for the team and it responded to {SMALL} of "
        "them.")
    assert takeaways.funnel(0, 0, 0, None) == "No calls in this selection."
    assert takeaways.funnel(500, 0, 0, None) == (
        "Of 500 calls, none was eligible for the team in this selection.")


# --------------------------------------------------------------------------------------------
# durations, team_vs_police, rank
# --------------------------------------------------------------------------------------------

def _times(metric, values):
    return [_row(metric, {"jurisdiction": j}, v, rel, None if v is not None else
                 {"value": "small", "p90": "small"}, p90=p90) for j, v, p90, rel in values]


def test_durations_shortest_and_longest():
    df = frame(_times("C2", [("Riverton", 12.0, 30.0, "ok"), ("Jurisdiction A", 18.5, 41.0, "ok"),
                             ("Jurisdiction B", 15.0, 35.0, "ok")]), ("jurisdiction",))
    assert takeaways.durations(df, "jurisdiction", C2) == (
        "Team response time was shortest in Riverton (median 12.0 min, 90% within 30.0 min) "
        "and longest in Jurisdiction A (median 18.5 min, 90% within 41.0 min).")
    one = frame(_times("C2", [("Riverton", 12.0, 30.0, "ok")]), ("jurisdiction",))
    assert takeaways.durations(one, "jurisdiction", C2) == (
        "Team response time: median 12.0 min, 90% within 30.0 min in Riverton.")


def test_durations_leave_out_weak_groups():
    df = frame(_times("C2", [("Riverton", 12.0, 30.0, "ok"), ("Jurisdiction A", 18.5, 41.0, "ok"),
                             ("Jurisdiction B", 2.0, 5.0, "insufficient")]), ("jurisdiction",))
    text = takeaways.durations(df, "jurisdiction", C2)
    assert "Jurisdiction B" not in text and "median 2.0 min" not in text
    assert text.startswith("Team response time was shortest in Riverton")


def test_durations_say_what_they_left_out():
    df = frame(_times("C2", [("Riverton", 12.0, 30.0, "ok"), ("Jurisdiction A", 18.5, 41.0, "ok"),
                             ("Jurisdiction B", 2.0, 5.0, "insufficient"),
                             ("Jurisdiction C", None, None, None)]), ("jurisdiction",))
    text = takeaways.durations(df, "jurisdiction", C2)
    assert "fewer than 20 events left out" in text
    assert "hidden to protect privacy" in text
    assert text == ("Team response time was shortest in Riverton (median 12.0 min, 90% within "
                    "30.0 min) and longest in Jurisdiction A (median 18.5 min, 90% within "
                    "41.0 min) (1 jurisdiction with fewer than 20 events left out; 1 "
                    "jurisdiction hidden to protect privacy).")


def test_durations_when_nothing_is_sure():
    weak = frame(_times("C2", [("Riverton", 2.0, 5.0, "insufficient"),
                               ("Jurisdiction C", None, None, None)]), ("jurisdiction",))
    assert takeaways.durations(weak, "jurisdiction", C2) == (
        "Every jurisdiction has fewer than 20 events behind its team response time: too few "
        "to compare (1 jurisdiction hidden to protect privacy).")
    gone = frame(_times("C2", [("Riverton", None, None, None)]), ("jurisdiction",))
    assert takeaways.durations(gone, "jurisdiction", C2) == HIDDEN_SENTENCE


def test_team_vs_police_counts_and_largest_gap():
    rows = (_times("C6", [("A", 10.0, None, "ok"), ("B", 20.0, None, "ok"),
                          ("C", 8.0, None, "ok"), ("D", 1.0, None, "insufficient")])
            + _times("C5", [("A", 14.0, None, "ok"), ("B", 15.0, None, "ok"),
                            ("C", 9.0, None, "ok"), ("D", 30.0, None, "ok")]))
    df = frame(rows, ("jurisdiction",))
    # D's team time rests on too few events: compared are A, B, C. Faster in A (10 < 14) and
    # C (8 < 9): 2 of 3. Gaps: A 4, B 5, C 1 -> B, where the team is slower.
    assert takeaways.team_vs_police(df, "jurisdiction", C6, C5) == (
        "On target-type calls the team's median arrival was faster than police in 2 of 3 "
        "jurisdictions (1 jurisdiction with fewer than 20 events left out); the largest gap is "
        "in B (20.0 min vs 15.0 min, team slower).")


def test_team_vs_police_one_or_no_group():
    one = frame(_times("C6", [("A", 10.0, None, "ok")]) + _times("C5", [("A", 14.0, None, "ok")]),
                ("jurisdiction",))
    assert takeaways.team_vs_police(one, "jurisdiction", C6, C5) == (
        "In A, the team's median time to arrive on target-type calls was 10.0 min, police's "
        "14.0 min.")
    none = frame(_times("C6", [("A", 10.0, None, "ok")]) + _times("C5", [("B", 14.0, None, "ok")]),
                 ("jurisdiction",))
    assert takeaways.team_vs_police(none, "jurisdiction", C6, C5) == (
        "Not enough timed calls of target types to compare the team with police.")


def test_rank_higher_and_lower_is_better():
    rows = [_row("B1", {"jurisdiction": j}, v, rel) for j, v, rel in
            [("Riverton", 0.5, "ok"), ("Millbrook", 0.6, "ok"), ("Ashby", 0.4, "ok"),
             ("Cedar Falls", 0.99, "insufficient")]]
    rows += [_row("C2", {"jurisdiction": j}, v) for j, v in
             [("Riverton", 10.0), ("Millbrook", 12.0), ("Ashby", 15.0)]]
    rows += [_row("A4", {"jurisdiction": j}, v) for j, v in [("Riverton", 5), ("Ashby", 9)]]
    df = frame(rows, ("jurisdiction",))
    # B1 (higher is better), Cedar Falls too weak to rank: Millbrook 60%, Riverton 50%,
    # Ashby 40% -> 2nd of 3. C2 (lower is better): 10 < 12 < 15 -> 1st of 3. A4 has no
    # better direction: not ranked.
    text = takeaways.rank(df, "Riverton", [B1, C2, A4], {"Riverton": "Riverton"})
    assert text == ("Riverton ranks 2nd of 3 on coverage of eligible calls, 1st of 3 on team "
                    "response time (1st = best).")
    assert takeaways.rank(df, "Nowhere", [B1]) == (
        "Too few comparable figures to rank Nowhere in this selection.")


@pytest.mark.parametrize("n, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                     (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"),
                                     (22, "22nd"), (101, "101st"), (111, "111th")])
def test_ordinal(n, text):
    assert takeaways._ordinal(n) == text


# --------------------------------------------------------------------------------------------
# change (tiles), lower_is_better
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("now, before, unit, text", [
    (0.45, 0.40, "share", "+5.0 pts"),          # (0.45 - 0.40) * 100
    (0.40, 0.4000001, "share", "0.0 pts"),      # -0.00001 pts: no sign, no arrow
    (12.0, 14.5, "minutes", "-2.5 min"),
    (110, 100, "calls", "+10.0%"),              # (110 - 100) / 100
    (90, 120, "calls", "-25.0%"),               # -30 / 120
    (100, 100, "calls", "0.0%"),
    (5, 0, "calls", None),                      # no base to be relative to
    (None, 3, "calls", None),
    (float("nan"), 3, "share", None),
])
def test_change(now, before, unit, text):
    assert takeaways.change(now, before, unit) == text


def test_lower_is_better():
    assert takeaways.lower_is_better("C2") and takeaways.lower_is_better("B3")
    assert not takeaways.lower_is_better("B1") and not takeaways.lower_is_better("A4")


# --------------------------------------------------------------------------------------------
# Faults found by the test review (fixed): what a sentence leaves out, it says
# --------------------------------------------------------------------------------------------

def test_trend_with_no_change_reads_as_english():
    df = _b1_months({None: [("2024-01", 0.40, "ok"), ("2024-03", 0.40, "ok")]})
    text = takeaways.trend(df, None, B1)
    assert "stayed from" not in text
    assert text == "Coverage of eligible calls stayed at 40.0% from Jan 2024 to Mar 2024."
    # Several series, none moved: the sentence says so rather than "the largest change".
    flat = _b1_months({"Riverton": [("2024-01", 0.40, "ok"), ("2024-03", 0.40, "ok")],
                       "Jurisdiction A": [("2024-01", 0.60, "ok"), ("2024-02", 0.60, "ok")]})
    assert takeaways.trend(flat, "jurisdiction", B1) == (
        "No jurisdiction changed: coverage of eligible calls in Jurisdiction A stayed at 60.0% "
        "from Jan 2024 to Feb 2024.")


def test_heatmap_says_weak_cells_were_left_out():
    rows = [_row("B1", {"weekday_hour": "1-08"}, 0.2), _row("B1", {"weekday_hour": "3-14"}, 0.8),
            _row("B1", {"weekday_hour": "5-20"}, 0.95, "insufficient")]
    text = takeaways.heatmap(frame(rows, ("weekday_hour",)), B1)
    assert "fewer than 20 events" in text
    # 168 - 3 cells with a value = 165 with none; Fri 20:00 (95.0%) is not the highest.
    assert text == ("Coverage of eligible calls was lowest on Mon 08:00 (20.0%) and highest "
                    "on Wed 14:00 (80.0%); 165 of 168 weekday-hours had none (outside "
                    "coverage hours); 1 weekday-hour with fewer than 20 events left out.")


def test_team_vs_police_says_weak_groups_were_left_out():
    rows = (_times("C6", [("A", 10.0, None, "ok"), ("B", 20.0, None, "ok"),
                          ("C", 8.0, None, "ok"), ("D", 1.0, None, "insufficient")])
            + _times("C5", [("A", 14.0, None, "ok"), ("B", 15.0, None, "ok"),
                            ("C", 9.0, None, "ok"), ("D", 30.0, None, "ok")]))
    text = takeaways.team_vs_police(frame(rows, ("jurisdiction",)), "jurisdiction", C6, C5)
    assert "left out" in text


def test_team_vs_police_says_hidden_and_one_sided_groups_were_left_out():
    # A and B compared (faster in A: 10 < 14). C's team time is hidden; D has team times but
    # no police times; E's police time rests on too few events.
    rows = (_times("C6", [("A", 10.0, None, "ok"), ("B", 20.0, None, "ok"),
                          ("C", None, None, None), ("D", 9.0, None, "ok"),
                          ("E", 12.0, None, "ok")])
            + _times("C5", [("A", 14.0, None, "ok"), ("B", 15.0, None, "ok"),
                            ("C", 9.0, None, "ok"), ("E", 3.0, None, "insufficient")]))
    text = takeaways.team_vs_police(frame(rows, ("jurisdiction",)), "jurisdiction", C6, C5)
    assert text == (
        "On target-type calls the team's median arrival was faster than police in 1 of 2 "
        "jurisdictions (1 jurisdiction with fewer than 20 events left out; 1 jurisdiction "
        "hidden to protect privacy; 1 jurisdiction with no time to compare); the largest gap "
        "is in B (20.0 min vs 15.0 min, team slower).")
