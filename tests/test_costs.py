"""Costs as data (data/costs.py) and the cost figures (metrics/cost.py), on hand-worked tables.

The fixture jurisdiction "Testville" has, in 2025-Q1: $300,000 of program costs, 1,200 team
responses by 400 people, 600 target-type calls the team took alone, and six police-handled
target-type calls whose busy times are worked out below by hand.
"""
from __future__ import annotations

from datetime import date

import pytest

from data import audit, costs, facts, ledger

from service import guarded
from service.access import LOCAL, AccessDenied, Grant, Principal
from data.errors import DataError, ImportRefused, MappingError
from metrics import Filters
from metrics import cost as mcost
from metrics.disclosure import VIEWER, disclose, disclose_counts, published_count

from conftest import table_contents

J = "Testville"
Q1 = Filters((J,))

# The six police-handled calls of a target category (hand-worked busy time, hours):
POLICE = [
    # call_id, dispatched, on scene, cleared           busy time
    ("P1", "2025-01-10 10:00", "2025-01-10 10:10", "2025-01-10 11:00"),  # 1.0 from dispatch
    ("P2", "2025-02-11 12:00", None, "2025-02-11 12:30"),                # 0.5
    ("P3", None, "2025-02-12 14:00", "2025-02-12 16:00"),                # 2.0 from on scene
    ("P4", "2025-03-01 09:00", None, None),                              # no clear time
    ("P5", "2025-03-02 10:00", None, "2025-03-02 09:00"),                # cleared before: left out
    ("P6", "2025-03-03 00:00", None, "2025-03-04 06:00"),                # 30 h: left out
]
# timed = 3; hours = 1.0 + 0.5 + 2.0 = 3.5; mean = 3.5 / 3 = 1.1667; median = 1.0


def _seed(con) -> None:
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, target_categories) "
                "VALUES (?, 'UTC', ['MENTAL_HEALTH'])", [J])
    con.execute("INSERT INTO crosswalk VALUES (?, 'MH', 'MENTAL_HEALTH', true), "
                "(?, 'THEFT', 'THEFT', false)", [J, J])
    cols = ("jurisdiction, call_id, received_at, dispatched_at, arrived_at, cleared_at, "
            "call_type, responder, received_local, import_id")
    for cid, disp, scene, clear in POLICE:
        start = disp or scene
        con.execute(f"INSERT INTO calls ({cols}) VALUES (?, ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, "
                    "?::TIMESTAMPTZ, ?::TIMESTAMPTZ, 'MH', 'police', ?::TIMESTAMP, 0)",
                    [J, cid, start, disp, scene, clear, start])
    # Not counted: a police call of a category the program does not target (3 hours) ...
    con.execute(f"INSERT INTO calls ({cols}) VALUES (?, 'T1', '2025-01-05 08:00', "
                "'2025-01-05 08:00', NULL, '2025-01-05 11:00', 'THEFT', 'police', "
                "'2025-01-05 08:00', 0)", [J])
    # ... and 600 target-type calls the team took alone, the first on 1 Jan, the last on 31 Mar
    # (so the records cover the quarter whole), plus 50 co-responses (an officer went too).
    con.execute(f"INSERT INTO calls ({cols}) SELECT ?, 'A' || i, t, t, t, t + INTERVAL 1 HOUR, "
                "'MH', CASE WHEN i < 600 THEN 'alternative' ELSE 'co_response' END, t, 0 FROM "
                "(SELECT i, TIMESTAMP '2025-01-01 00:30' + INTERVAL (i * 3) HOUR AS t FROM "
                "range(650) r(i) WHERE i < 600 OR i >= 600) WHERE t < TIMESTAMP '2025-04-01'",
                [J])
    con.execute("UPDATE calls SET received_at = TIMESTAMPTZ '2025-03-31 20:00', received_local "
                "= TIMESTAMP '2025-03-31 20:00' WHERE call_id = 'A599'")
    # 1,200 team responses by 400 people.
    con.execute("INSERT INTO responses (jurisdiction, response_id, requested_at, requested_local, "
                "person_key, import_id) SELECT ?, 'R' || i, t, t, 'p' || (i % 400), 0 FROM "
                "(SELECT i, TIMESTAMP '2025-01-01 01:00' + INTERVAL (i * 1.8) HOUR AS t FROM "
                "range(1200) r(i))", [J])
    facts.refresh(con)


COSTS_CSV = ("period,stream,amount,fte\n"
             '2025-Q1,general_fund,"$200,000",3\n'
             "2025-Q1,arpa_slfrf,100000,\n"
             "2026,grant,120000,\n"
             "2025,police_hourly_cost,150,\n")


@pytest.fixture
def town(con, tmp_path):
    _seed(con)
    path = tmp_path / "testville-costs.csv"
    path.write_text(COSTS_CSV)
    return con, path


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# --------------------------------------------------------------------------------------------
# Reading values
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, label, start, months", [
    ("2025-Q1", "2025-Q1", date(2025, 1, 1), 3), ("Q3 2024", "2024-Q3", date(2024, 7, 1), 3),
    ("2025q4", "2025-Q4", date(2025, 10, 1), 3), ("2025-03", "2025-03", date(2025, 3, 1), 1),
    ("2025", "2025", date(2025, 1, 1), 12),
    ("2024-07..2025-06", "2024-07..2025-06", date(2024, 7, 1), 12),
    ("2024-07 to 2024-09", "2024-07..2024-09", date(2024, 7, 1), 3)])
def test_periods_are_whole_months(text, label, start, months):
    p = costs.parse_period(text)
    assert (p.label, p.start, p.months) == (label, start, months)


@pytest.mark.parametrize("text, why", [
    ("2025-Q5", "cannot read '2025-Q5' as a period"), ("2025-13", "not a month"),
    ("2025-06..2025-01", "ends before it starts"), ("last year", "cannot read")])
def test_bad_periods_say_why(text, why):
    with pytest.raises(ValueError, match=why):
        costs.parse_period(text)


def test_streams_and_amounts_read_as_budget_tables_write_them():
    assert costs.parse_stream("ARPA") == "arpa_slfrf"
    assert costs.parse_stream("Opioid Settlement") == "opioid_settlement"
    assert costs.parse_stream("988 fees") == "fees_988"
    assert costs.parse_stream("general_fund") == "general_fund"
    assert costs.parse_money("$1,250,000.50") == 1_250_000.5
    with pytest.raises(ValueError, match="negative"):
        costs.parse_money("-5")
    with pytest.raises(ValueError, match="funding stream"):
        costs.parse_stream("bake sale")


# --------------------------------------------------------------------------------------------
# Import: validated whole or not at all, idempotent, undoable
# --------------------------------------------------------------------------------------------

def test_a_file_with_bad_rows_names_each_and_changes_nothing(town, tmp_path):
    con, _ = town
    before = table_contents(con)
    bad = _write(tmp_path, "bad.csv", "Period,Funding source,Amount,FTE\n"
                                      "2025-Q1,general_fund,200000,3\n"
                                      "2025-Q5,arpa,100000,\n"
                                      "2025-Q2,bake sale,12x,\n"
                                      ",general_fund,5,\n")
    with pytest.raises(ImportRefused) as e:
        costs.import_costs(con, bad, jurisdiction=J)
    text = str(e.value)
    assert "4 problem(s)" in text
    assert "row 3, column 'Period': cannot read '2025-Q5' as a period" in text
    assert "row 4, column 'Funding source': cannot read 'bake sale' as a funding stream" in text
    assert "row 4, column 'Amount': cannot read '12x' as an amount in dollars" in text
    assert "row 5, column 'Period': blank period" in text
    assert "Nothing was imported" in text
    assert table_contents(con) == before


def test_a_file_without_an_amount_column_says_which_columns_it_needs(town, tmp_path):
    con, _ = town
    with pytest.raises(MappingError, match="no column for amount"):
        costs.import_costs(con, _write(tmp_path, "x.csv", "period,stream,notes\n2025,grant,x\n"),
                           jurisdiction=J)


def test_overlapping_periods_of_one_stream_are_refused(town, tmp_path):
    con, path = town
    costs.import_costs(con, path, jurisdiction=J)
    before = table_contents(con)
    with pytest.raises(ImportRefused, match="2025-03 general_fund overlaps 2025-Q1 in the "
                                            "costs already stored"):
        costs.enter_costs(con, J, [{"period": "2025-03", "stream": "general_fund",
                                    "amount": 1}])
    assert table_contents(con) == before


def test_same_file_twice_changes_nothing_and_undo_restores(town, tmp_path):
    con, path = town
    first = costs.import_costs(con, path, jurisdiction=J)
    assert first.status == "committed" and first.rows_inserted == 4
    after_first = table_contents(con)
    again = costs.import_costs(con, path, jurisdiction=J)
    assert again.status == "already_imported" and again.previous_import == first.import_id
    assert table_contents(con) == after_first
    # A second file changes one amount: the old row is kept for undo.
    second = costs.import_costs(con, _write(tmp_path, "v2.csv", "period,stream,amount\n"
                                            "2025-Q1,general_fund,250000\n"), jurisdiction=J)
    assert (second.rows_updated, second.rows_inserted) == (1, 0)
    assert con.execute("SELECT amount FROM costs WHERE cost_key = '2025-Q1|general_fund'"
                       ).fetchone()[0] == 250000
    ledger.undo_import(con, second.import_id)
    now = table_contents(con)  # the ledger keeps the undone import, marked undone
    assert {k: v for k, v in now.items() if k not in ("imports", "_sequence")} == {
        k: v for k, v in after_first.items() if k not in ("imports", "_sequence")}
    assert con.execute("SELECT amount FROM costs WHERE cost_key = '2025-Q1|general_fund'"
                       ).fetchone()[0] == 200000
    ledger.undo_import(con, first.import_id)
    assert con.execute("SELECT count(*) FROM costs").fetchone()[0] == 0


def test_entered_costs_are_audited_and_the_same_entry_twice_writes_nothing(town):
    con, _ = town
    entry = [{"period": "2025-Q2", "stream": "medicaid", "amount": "80,000", "fte": "1.5"}]
    r = guarded.enter_costs(con, LOCAL, J, entry, source="the Data page")
    assert r.status == "committed" and r.file_name == "entered on the Data page"
    last = audit.export(con)[-1]
    assert (last["action"], last["jurisdiction"], last["target"]) == (
        "import", J, f"import #{r.import_id}")
    again = guarded.enter_costs(con, LOCAL, J, entry)
    assert again.status == "unchanged"
    assert audit.export(con)[-1]["seq"] == last["seq"]  # nothing recorded: nothing changed
    assert con.execute("SELECT amount, fte FROM costs WHERE jurisdiction = ?", [J]
                       ).fetchall() == [(80000.0, 1.5)]


def test_a_viewer_may_not_enter_costs(town):
    con, _ = town
    viewer = Principal("vera@example.org", roles=(Grant("viewer", J),))
    with pytest.raises(AccessDenied):
        guarded.enter_costs(con, viewer, J, [{"period": "2025", "stream": "grant",
                                              "amount": 1}])
    assert con.execute("SELECT count(*) FROM costs").fetchone()[0] == 0


def test_costs_need_a_known_jurisdiction(con):
    with pytest.raises(DataError, match="There is no jurisdiction 'Nowhere' yet"):
        costs.enter_costs(con, "Nowhere", [{"period": "2025", "stream": "grant", "amount": 1}])


# --------------------------------------------------------------------------------------------
# The figures, by hand
# --------------------------------------------------------------------------------------------

def test_police_busy_time_by_hand(town):
    con, _ = town
    p = mcost.police_busy_time(con, J, Q1)
    assert (p["calls"], p["timed"], p["from_on_scene"], p["no_times"], p["out_of_order"],
            p["over_limit"]) == (6, 3, 1, 1, 1, 1)
    assert p["hours"] == pytest.approx(3.5)
    assert p["mean_hours"] == pytest.approx(3.5 / 3)
    assert p["median_hours"] == pytest.approx(1.0)


def test_cost_per_response_and_person_by_hand(town):
    con, path = town
    costs.import_costs(con, path, jurisdiction=J)
    rep = mcost.report(con, J, Filters(date_to=date(2025, 3, 31)))
    (q,) = rep["quarters"]
    assert q["quarter"] == "2025-Q1" and q["complete"]
    assert q["cost"] == 300_000 and q["streams"] == {"arpa_slfrf": 100_000,
                                                     "general_fund": 200_000}
    assert (q["responses"], q["people"]) == (1200, 400)
    assert q["cost_per_response"] == 250.0          # 300,000 / 1,200
    assert q["cost_per_person"] == 750.0            # 300,000 / 400
    assert q["fte"] == 3
    # Capacity: 600 calls x 7/6 h = 700 h; x $150 = $105,000.
    assert q["team_target_calls"] == 600
    assert q["hours_returned"] == pytest.approx(700.0)
    assert q["police_hourly_cost"] == 150
    assert q["capacity_value"] == pytest.approx(105_000.0)
    t = rep["totals"]
    assert (t["quarters"], t["cost"], t["cost_per_response"], t["cost_per_person"]) == (
        ["2025-Q1"], 300_000, 250.0, 750.0)
    assert t["capacity_value"] == pytest.approx(105_000.0)


def test_compares_lean_report_gives_the_same_cost_per_response(town):
    # Compare asks for cost per team response alone (no people, police time or team calls).
    con, path = town
    costs.import_costs(con, path, jurisdiction=J)
    whole = mcost.report(con, J, Filters(date_to=date(2025, 3, 31)))
    lean = mcost.report(con, J, Filters(date_to=date(2025, 3, 31)), per_response_only=True)
    assert lean["totals"]["cost_per_response"] == whole["totals"]["cost_per_response"] == 250.0
    assert (lean["totals"]["cost"], lean["totals"]["responses"]) == (300_000, 1200)
    assert lean["quarters"][0]["hours_returned"] is None  # not worked out for Compare


def test_a_longer_period_is_spread_over_its_months_and_later_quarters_are_budget(town):
    con, path = town
    costs.import_costs(con, path, jurisdiction=J)
    rep = mcost.report(con, J, Filters())
    later = {q["quarter"]: q for q in rep["quarters"] if q["quarter"].startswith("2026")}
    assert sorted(later) == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert all(q["cost"] == 30_000 and q["ahead"] and q["cost_per_response"] is None
               for q in later.values())  # 120,000 / 4; no records to divide by yet
    assert rep["totals"]["quarters"] == ["2025-Q1"]  # only whole quarters with records


def test_a_quarter_the_records_cover_in_part_gets_no_per_unit_figure(town):
    con, path = town
    costs.import_costs(con, path, jurisdiction=J)
    costs.enter_costs(con, J, [{"period": "2024-Q4", "stream": "general_fund",
                                "amount": 10_000}])
    rep = mcost.report(con, J, Filters(date_from=date(2025, 2, 1)))
    (q,) = [q for q in rep["quarters"] if q["quarter"] == "2025-Q1"]
    assert not q["complete"] and q["cost_per_response"] is None
    assert q["cost"] == pytest.approx(200_000)  # February and March only: 2/3 of 300,000
    assert "2024-Q4" not in {q["quarter"] for q in rep["quarters"]}


def test_police_rate_of_a_month(town):
    rates = [{"period": "2025", "start": date(2025, 1, 1), "months": 12, "rate": 150},
             {"period": "2025-Q3", "start": date(2025, 7, 1), "months": 3, "rate": 180}]
    assert mcost.rate_for_month(rates, date(2025, 8, 1)) == 180  # the most specific period
    assert mcost.rate_for_month(rates, date(2025, 2, 1)) == 150
    assert mcost.rate_for_month(rates, date(2026, 2, 1)) == 150  # the latest before it
    assert mcost.rate_for_month(rates, date(2024, 2, 1)) == 150  # the earliest, before any
    blank = rates + [{"period": None, "start": None, "months": None, "rate": 99}]
    assert mcost.rate_for_month(blank, date(2026, 2, 1)) == 99
    assert mcost.rate_for_quarter(rates, "2025-Q3") == 180


def test_streams_carry_their_known_end(town):
    con, path = town
    costs.import_costs(con, path, jurisdiction=J)
    costs.enter_costs(con, J, [{"period": "2027-Q1", "stream": "arpa_slfrf", "amount": 5}])
    rep = mcost.report(con, J, Filters())
    arpa = next(s for s in rep["streams"] if s["stream"] == "arpa_slfrf")
    assert arpa["ends"] == "2026-12-31" and arpa["after_end"] == 5
    assert rep["stream_ends"]["medicaid"]["date"] == "2027-03-31"
    assert "not cash saved" in rep["capacity_wording"]


def test_no_costs_is_a_sentence_naming_where_to_enter_them(town):
    con, _ = town
    with pytest.raises(mcost.NoCosts, match="No program costs are entered for Testville. "
                                            "Enter them on the Data page"):
        mcost.report(con, J, Filters())


def test_a_cost_per_response_from_a_hidden_count_is_hidden(town):
    """Eight responses in a quarter: the count is hidden for a viewer, so is its cost."""
    con, path = town
    costs.import_costs(con, path, jurisdiction=J)
    con.execute("DELETE FROM responses WHERE response_id NOT IN ('R1', 'R2', 'R3', 'R4', 'R5', "
                "'R6', 'R7', 'R8')")
    rep = mcost.report(con, J, Filters((J,), None, date(2025, 3, 31)), policy=VIEWER,
                       compute=lambda r: disclose(con, r, VIEWER).rows,
                       compute_counts=lambda r: disclose_counts(con, r, VIEWER).rows)
    (q,) = rep["quarters"]
    assert q["responses"] is None and q["hidden"]["responses"] == "small"
    assert q["cost_per_response"] is None and q["hidden"]["cost_per_response"] == "derived"
    assert rep["totals"]["cost_per_response"] is None
    # The team's 600 calls are shown (rounded); the police busy time rests on 3 timed calls,
    # so it is hidden, and the capacity built on it too.
    assert q["team_target_calls"] == published_count(600)
    assert rep["police"]["mean_hours"] is None and rep["police"]["hidden"]["mean_hours"] == "small"
    assert q["hours_returned"] is None and q["hidden"]["hours_returned"] == "derived"


def test_small_counts_of_police_calls_are_hidden_in_words(town):
    """One call left out for each reason: a viewer sees those counts hidden, not a crash."""
    con, path = town
    costs.import_costs(con, path, jurisdiction=J)
    rep = mcost.report(con, J, Filters((J,), None, date(2025, 3, 31)), policy=VIEWER,
                       compute=lambda r: disclose(con, r, VIEWER).rows,
                       compute_counts=lambda r: disclose_counts(con, r, VIEWER).rows)
    p = rep["police"]
    assert p["no_times"] is None and p["hidden_counts"]["no_times"] == "small"
    assert p["out_of_order"] is None and p["over_limit"] is None
    from charts.cost import capacity_sentence
    from metrics.disclosure import describe

    assert capacity_sentence(rep, describe) == ("Police busy time on these call types rests on "
                                                "too few calls to show: hidden (fewer than 11).")


def test_the_method_is_on_the_methodology_page_in_the_capacity_wording():
    from metrics.methodology import methodology_markdown

    text = methodology_markdown()
    method = text.split("## What does it cost?", 1)[1]
    assert "cleared − on scene where the dispatch time" in method
    assert "It is not cash saved" in method and "31 Dec 2026" in method
    assert "saving" not in method.lower()
