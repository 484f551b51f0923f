"""charts/frames.py and charts/labels.py: engine rows as frames, the "Show data" table, and
the labels a reader sees (codes, months, weekday-hours, masked peer names)."""
from datetime import date

import pandas as pd
import pytest

import metrics
from charts import frames, labels
from charts.frames import HIDDEN, frame

SMALL = "hidden (fewer than 11)"  # describe("small") under the viewer policy (threshold 10)
DERIVED = "hidden (built on a hidden count)"


def _b1(group, numerator, denominator, value, suppressed=None, reliability="ok", **more):
    return {"metric": "B1", "group": group, "numerator": numerator,
            "denominator": denominator, "value": value, "reliability": reliability,
            "suppressed": suppressed, **more}


def _areas():
    # North: 20 of 40 = 0.5. South: numerator 3 hidden (1-10), so its value is hidden too.
    return frame([_b1({"area": "North"}, 20, 40, 0.5, ci_low=0.35, ci_high=0.65),
                  _b1({"area": "South"}, None, 40, None,
                      {"numerator": "small", "value": "derived"})], ("area",))


# --------------------------------------------------------------------------------------------
# frame, hidden, cell, count_text, value_text
# --------------------------------------------------------------------------------------------

def test_frame_has_a_row_per_metric_and_group_and_the_words_for_hidden_fields():
    df = _areas()
    assert list(df.columns[:3]) == ["metric", "area", "numerator"]
    assert list(df["area"]) == ["North", "South"]
    # Counts are whole numbers even when the engine hands back floats; rates stay floats.
    assert str(df["numerator"].dtype) == "Int64" and str(df["value"].dtype) == "float64"
    assert df.loc[0, "numerator"] == 20 and df.loc[0, "value"] == 0.5
    assert df.loc[0, HIDDEN] == {}
    assert df.loc[1, HIDDEN] == {"numerator": SMALL, "value": DERIVED}
    assert pd.isna(df.loc[1, "numerator"]) and pd.isna(df.loc[1, "value"])


def test_frame_rounds_float_counts_and_coerces_text_numbers():
    df = frame([_b1({}, 12.0, "40", "0.3")])
    assert df.loc[0, "numerator"] == 12 and df.loc[0, "denominator"] == 40
    assert df.loc[0, "value"] == pytest.approx(0.3)


def test_frame_of_no_rows_has_the_columns():
    df = frame([], ("jurisdiction", "month"))
    assert df.empty
    assert list(df.columns) == ["metric", "jurisdiction", "month", *frames.VALUE_COLUMNS,
                                HIDDEN]


def test_frame_takes_the_words_it_is_given():
    df = frame([_b1({}, None, 40, None, {"numerator": "small"})],
               words=lambda why: f"<15 ({why})")
    assert df.loc[0, HIDDEN] == {"numerator": "<15 (small)"}


def test_hidden_and_cell_read_series_dicts_and_itertuples_alike():
    df = _areas()
    north, south = list(df.itertuples())
    for r in (south, df.iloc[1], df.iloc[1].to_dict()):
        assert frames.hidden(r, "value") == DERIVED
        assert frames.cell(r, "value") == DERIVED  # the words, never a number
        assert frames.cell(r, "denominator") == 40
        assert frames.hidden(r, "denominator") is None
    assert frames.cell(north, "value") == 0.5
    assert frames.cell(north, "p90") is None  # NaN reads as nothing


def test_count_text_prints_thousands_words_or_a_dash():
    r = {"numerator": 1240, "denominator": None, HIDDEN: {"value": SMALL}, "value": None}
    assert frames.count_text(r, "numerator") == "1,240"
    assert frames.count_text(r, "denominator") == "—"
    assert frames.count_text(r, "value") == SMALL


def test_value_text_formats_by_unit_or_gives_the_words():
    north, south = list(_areas().itertuples())
    assert frames.value_text(north, "share") == "50.0%"
    assert frames.value_text(north, "share", "ci_high") == "65.0%"
    assert frames.value_text(south, "share") == DERIVED
    r = {"value": 12.25, "p90": 1234.5, HIDDEN: {}}
    assert frames.value_text(r, "minutes", "p90") == "1,234.5 min"


# --------------------------------------------------------------------------------------------
# hidden_rows, only, has_values
# --------------------------------------------------------------------------------------------

def test_hidden_rows_per_field():
    df = _areas()
    assert list(frames.hidden_rows(df)) == [False, True]
    assert list(frames.hidden_rows(df, "numerator")) == [False, True]
    assert list(frames.hidden_rows(df, "denominator")) == [False, False]
    plain = pd.DataFrame({"value": [1.0, None]})  # no hidden column: nothing hidden
    assert list(frames.hidden_rows(plain)) == [False, False]


def test_only_keeps_one_metric_with_a_fresh_index():
    df = frame([_b1({"area": "North"}, 20, 40, 0.5),
                {"metric": "A4", "group": {"area": "North"}, "value": 7},
                _b1({"area": "South"}, 10, 40, 0.25)], ("area",))
    b1 = frames.only(df, "B1")
    assert list(b1["area"]) == ["North", "South"]
    assert list(b1.index) == [0, 1]
    assert list(frames.only(df, "A4")["value"]) == [7.0]
    assert frames.only(df, "C2").empty


def test_has_values_counts_hidden_figures_as_something_to_show():
    assert not frames.has_values(frame([], ("area",)))
    nothing = frame([_b1({"area": "North"}, None, None, None)], ("area",))
    assert not frames.has_values(nothing)
    only_hidden = frame([_b1({"area": "North"}, None, 40, None, {"value": "derived"})],
                        ("area",))
    assert frames.has_values(only_hidden)  # the card says it is hidden
    assert frames.has_values(_areas())


# --------------------------------------------------------------------------------------------
# data_table, group_label
# --------------------------------------------------------------------------------------------

def test_data_table_puts_the_words_where_a_number_was_hidden():
    table = frames.data_table(_areas(), ("area",), {"B1": "Coverage of eligible calls"})
    assert list(table.columns) == ["Metric", "Area", "Numerator", "Denominator", "Value",
                                   "95% CI low", "95% CI high", "Reliability"]
    assert list(table["Metric"]) == ["Coverage of eligible calls"] * 2
    # A column with a hidden cell is text throughout: counts as whole numbers.
    assert list(table["Numerator"]) == ["20", SMALL]
    assert list(table["Value"]) == ["0.5", DERIVED]
    # The denominator has nothing hidden: it stays a number column.
    assert list(table["Denominator"]) == [40, 40]
    assert table["95% CI low"].tolist()[0] == 0.35 and pd.isna(table["95% CI low"].tolist()[1])


def test_data_table_shows_a_text_columns_rates_as_the_number_columns_do():
    rows = _areas()
    rows.loc[0, "value"] = 0.01178234790059983  # a rate's every digit, not four decimals
    table = frames.data_table(rows, ("area",))
    assert list(table["Value"]) == ["0.0118", DERIVED]


def test_data_table_leaves_out_empty_columns_and_names_dimensions():
    df = frame([{"metric": "NS", "group": {"not_served_reason": "no_unit_available"},
                 "value": 7000},
                {"metric": "NS", "group": {"not_served_reason": None}, "value": 5000}],
               ("not_served_reason",))
    table = frames.data_table(df, ("not_served_reason",))
    # Only value has anything in it; numerator, CI, median, ... are dropped.
    assert list(table.columns) == ["Metric", "Not served reason", "Value"]
    assert list(table["Not served reason"]) == ["No unit available", "Not recorded"]
    assert list(table["Metric"]) == ["NS", "NS"]  # no label given: the id


def test_data_table_masks_peer_names_and_reads_months():
    df = frame([_b1({"jurisdiction": "Riverton", "month": "2024-03"}, 20, 40, 0.5),
                _b1({"jurisdiction": "Millbrook", "month": "2024-11"}, 30, 40, 0.75)],
               ("jurisdiction", "month"))
    names = {"Millbrook": "Jurisdiction A", "Riverton": "Riverton"}
    table = frames.data_table(df, ("jurisdiction", "month"), names=names)
    assert list(table["Jurisdiction"]) == ["Riverton", "Jurisdiction A"]
    assert list(table["Month"]) == ["Mar 2024", "Nov 2024"]
    assert "Millbrook" not in table.to_csv()


@pytest.mark.parametrize("dim, value, expected", [
    ("jurisdiction", "Millbrook", "Jurisdiction A"),
    ("jurisdiction", "Cedar Falls", "Cedar Falls"),  # not in names: as it is
    ("month", "2024-01", "Jan 2024"),
    ("area", "north_east", "north_east"),  # area names as uploaded
    ("team", "TEAM 2", "TEAM 2"),
    ("age_group", "18-24", "18-24"),
    ("category", "MENTAL_HEALTH", "Mental health"),
    ("not_served_reason", "no unit available", "No unit available"),
    ("outcome", None, "Not recorded"),
    ("area", float("nan"), "Not recorded"),
])
def test_group_label(dim, value, expected):
    assert frames.group_label(dim, value, {"Millbrook": "Jurisdiction A"}) == expected


# --------------------------------------------------------------------------------------------
# side_by_side (Compare)
# --------------------------------------------------------------------------------------------

def _compare_frame():
    c2 = metrics.BY_ID["C2"]
    return frame([
        _b1({"jurisdiction": "Riverton"}, 20, 40, 0.5),
        _b1({"jurisdiction": "Millbrook"}, None, 40, None,
            {"numerator": "small", "value": "derived"}),
        _b1({"jurisdiction": "Cedar Falls"}, 5, 12, 5 / 12, reliability="insufficient"),
        {"metric": c2.id, "group": {"jurisdiction": "Riverton"}, "value": 12.5, "p90": 30.0,
         "n": 200, "reliability": "ok"},
    ], ("jurisdiction",))


def test_side_by_side_cells_launches_and_column_order():
    b1, c2 = metrics.BY_ID["B1"], metrics.BY_ID["C2"]
    names = {"Millbrook": "Jurisdiction B", "Cedar Falls": "Jurisdiction A"}
    table = frames.side_by_side(
        _compare_frame(), [b1, c2],
        {"Riverton": date(2023, 4, 1), "Millbrook": None, "Cedar Falls": date(2022, 9, 12)},
        names, titles={"B1": "Coverage"}, first="Riverton")
    # Own first, then the peers by their (masked) label: A before B.
    assert list(table.columns) == ["Measure", "Riverton", "Jurisdiction A", "Jurisdiction B"]
    assert list(table["Measure"]) == ["Program launch", "Coverage", "Team response time"]
    assert list(table["Riverton"]) == ["2023-04-01", "50.0% (20 of 40)",
                                       "12.5 min (90%: 30.0 min)"]
    # 5 / 12 = 41.666...% -> 41.7%, flagged as resting on too few events.
    assert list(table["Jurisdiction A"]) == ["2022-09-12", "41.7% (5 of 12) ⚠ too few", "—"]
    # The hidden rate gives its reason once, then the shown denominator.
    assert list(table["Jurisdiction B"]) == ["not recorded", f"{DERIVED}, of 40", "—"]
    assert "Millbrook" not in table.to_csv() and "Cedar Falls" not in table.to_csv()


def test_side_by_side_year_only_launches():
    table = frames.side_by_side(_compare_frame(), [metrics.BY_ID["B1"]],
                                {"Riverton": date(2023, 4, 1)}, year_only=True)
    assert table.loc[0, "Riverton"] == "2023"
    # No names: columns sorted by real name.
    assert list(table.columns) == ["Measure", "Cedar Falls", "Millbrook", "Riverton"]


# --------------------------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, expected", [
    ("MENTAL_HEALTH", "Mental health"),
    ("emergency_department", "Emergency department"),
    ("crisis_center", "Crisis or walk-in centre"),
    ("NONE", "No transport"),
    ("WELFARE_CHECK", "Welfare check"),
    ("resolved_on_scene", "Resolved on scene"),
    ("Refused service", "Refused service"),  # free text: only the first letter
    ("no unit available", "No unit available"),
    (None, "Not recorded"),
    (7, "7"),
])
def test_code_label(code, expected):
    assert labels.code_label(code) == expected


@pytest.mark.parametrize("month, label, start", [
    ("2024-03", "Mar 2024", date(2024, 3, 1)),
    ("2023-12", "Dec 2023", date(2023, 12, 1)),
    ("2024-01-17", "Jan 2024", date(2024, 1, 1)),  # a day in the month: its month
])
def test_month_label_and_start(month, label, start):
    assert labels.month_label(month) == label
    assert labels.month_start(month) == start


def test_weekday_hour():
    assert labels.weekday_hour("6-02") == (6, 2)
    assert labels.weekday_hour("1-23") == (1, 23)
    assert labels.WEEKDAYS[7 - 1] == "Sun"  # ISO 7


def test_mask_names_keeps_own_and_hides_every_peer():
    names = ["Riverton", "Millbrook", "Cedar Falls", "Ashby"]
    masked = labels.mask_names(names, own="Riverton")
    assert masked["Riverton"] == "Riverton"
    peers = {masked[n] for n in ("Millbrook", "Cedar Falls", "Ashby")}
    assert peers == {"Jurisdiction A", "Jurisdiction B", "Jurisdiction C"}
    for real in ("Millbrook", "Cedar Falls", "Ashby"):
        assert not any(real in shown for shown in masked.values())


def test_mask_names_is_deterministic_and_not_alphabetical():
    names = [f"Town {c}" for c in "ABCDEFGH"]
    masked = labels.mask_names(names)
    assert labels.mask_names(list(reversed(names))) == masked  # input order does not matter
    assert labels.mask_names(names + ["Town A"]) == masked  # nor repeats
    # Letters follow a hash of the name, not its alphabetical place (which would give
    # "Town A" -> "Jurisdiction A" ... "Town H" -> "Jurisdiction H" away).
    assert [masked[n] for n in names] != [f"Jurisdiction {c}" for c in "ABCDEFGH"]
    # Own absent from the names: nothing added for it.
    assert "Elsewhere" not in labels.mask_names(names, own="Elsewhere")


def test_mask_names_beyond_26_peers_stays_unique():
    names = [f"Town {i}" for i in range(53)]
    shown = set(labels.mask_names(names).values())
    assert len(shown) == 53
    # 0-25 -> A..Z, 26 -> AA, 51 -> AZ, 52 -> BA (i // 26 - 1, i % 26).
    assert {"Jurisdiction A", "Jurisdiction Z", "Jurisdiction AA", "Jurisdiction AZ",
            "Jurisdiction BA"} <= shown
    assert "Jurisdiction BB" not in shown
