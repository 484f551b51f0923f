"""Column suggestions from the values as well as the headers (data/columns.py), the wizard's
helpers around them (data/mapping.py), and what they suggest for real exports."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from data import columns, mapping
from data.importer import preview


def _suggest(kind, table: list[list]):
    """Suggestions for a small table given as rows (the first is the header)."""
    headers, rows = table[0], table[1:]
    return columns.suggest(kind, headers, [list(c) for c in zip(*rows)])


def _calls(n=12):
    """A CAD-like table with neutral headers: only the values can tell the columns apart."""
    types = ["DISTURBANCE", "WELFARE CHECK", "MENTAL SUBJECT", "THEFT REPORT"]
    rows = [["", "A", "B", "C", "D", "E"]]
    for i in range(n):
        rows.append([str(i), f"24-{1000 + i}", f"03/{10 + i % 9:02d}/2024 12:00:00 AM",
                     f"{(i * 7) % 24}:{(i * 13) % 60:02d}", types[i % 4],
                     f"{44.05 + i / 1000:.5f}"])
    return rows


def test_values_alone_find_identifier_date_time_pair_call_type_and_latitude():
    s = _suggest("calls", _calls())
    assert s["call_id"].headers == ("A",)            # distinct tokens
    assert s["received_at"].headers == ("B", "C")    # date at 0:00 beside a time of day
    assert s["call_type"].headers == ("D",)          # repeated call-type wording
    assert s["lat"].headers == ("E",)                # decimals within +-90
    assert all(x.how == "values" for x in s.values())
    # The unnamed 0, 1, 2 ... column is a row index: suggested for nothing.
    assert not any("" in x.headers for x in s.values())


def test_a_row_index_is_not_an_identifier_even_when_its_header_says_id():
    table = [["id", "Case Number", "Date"]] + [
        [str(i + 1), f"C{i * 37 % 101:04d}", f"2024-05-{i + 1:02d} 10:{i:02d}"]
        for i in range(10)]
    facts = columns.describe([r[0] for r in table[1:]])
    assert facts.row_index
    s = _suggest("calls", table)
    assert s["call_id"].headers == ("Case Number",)
    assert s["received_at"].headers == ("Date",)


def test_headers_equal_up_to_case_are_asked_not_chosen():
    table = [["Call_ID", "call_id", "Received", "Nature"]] + [
        [f"X{i}", f"{i}X", f"2024-05-01 1{i}:00", "WELFARE CHECK"] for i in range(6)]
    s = _suggest("calls", table)
    assert s["call_id"].headers == ()  # nothing prefilled
    assert set(s["call_id"].alternatives) == {"Call_ID", "call_id"}
    assert mapping.initial_choices("calls", table[0], s)["call_id"] == []


def test_two_equally_good_columns_are_asked_and_stay_free():
    table = [["X", "Y", "latitude", "longitude"]] + [
        [f"-82.{i}1", f"42.{i}2", f"42.{i}2", f"-82.{i}1"] for i in range(1, 8)]
    s = _suggest("calls", table)
    assert s["lat"].headers == () and set(s["lat"].alternatives) == {"Y", "latitude"}
    assert s["lon"].headers == () and set(s["lon"].alternatives) == {"X", "longitude"}


def test_the_values_overrule_a_header_that_misleads():
    # Seattle's 'Call Type' holds how the call came in: 911, ONVIEW, TELEPHONE OTHER.
    origins = ["911", "ONVIEW", "TELEPHONE OTHER, NOT 911", "ALARM CALL (NOT POLICE ALARM)"]
    kinds = ["DISTURBANCE, MISCELLANEOUS/OTHER", "SUICIDE - IP/JO SUICIDAL PERSON",
             "THEFT - ALL OTHER", "WELFARE CHECK", "TRAFFIC - BLOCKING", "ASSAULTS, OTHER",
             "MVC - WITH INJURIES", "NOISE - DISTURBANCE", "BURG - RES", "DUI",
             "SUSPICIOUS PERSON", "FIGHT - IP"]
    table = [["Event", "Call Type", "Initial Call Type", "Queued"]] + [
        [f"E{i}", origins[i % 4], kinds[i % 12], f"2023-01-01 0{i % 10}:00"] for i in range(60)]
    s = _suggest("calls", table)
    assert s["call_type"].headers == ("Initial Call Type",)
    assert s["origin"].headers == ("Call Type",)  # its values are origins


def test_duplicate_and_unnamed_headers_are_named_alike_everywhere():
    headers = ["", "Call No", "Type", "Call No", ""]
    assert columns.duplicate_headers(headers) == [("", [1, 5]), ("Call No", [2, 4])]
    assert mapping.column_names(headers) == {"": "column 1", "Call No": "Call No",
                                             "Type": "Type"}


def test_preview_suggests_from_values_and_lists_duplicates(con, tmp_path):
    path = tmp_path / "police.csv"
    path.write_text("CASENO,OFFENSE,EVENTDT,EVENTTM,OFFENSE\n"
                    "22-1,DISTURBANCE,04/16/2022 12:00:00 AM,1:57:00 PM,X\n"
                    "22-2,WELFARE CHECK,04/17/2022 12:00:00 AM,15:15,Y\n")
    info = preview(con, path, kind="calls", limit=1)
    assert len(info["rows"]) == 1
    s = info["suggestions"]
    assert s["call_id"].headers == ("CASENO",)
    assert s["received_at"].headers == ("EVENTDT", "EVENTTM")
    assert info["duplicates"] == [("OFFENSE", [2, 5])]


def test_time_examples_read_as_the_importer_reads():
    headers = ["EVENTDT", "EVENTTM", "alarm"]
    rows = [("04/16/2022 12:00:00 AM", "1:57:00 PM", "11/19/2011 10:04:00 PM +0000"),
            ("04/16/2022 12:00:00 AM", "2340", " 2011-11-20T03:15:00+00:00"),
            ("04/17/2022 12:00:00 AM", "noon", None)]
    assert mapping.time_examples(rows, headers, ["EVENTDT", "EVENTTM"], None, None) == [
        ("04/16/2022 1:57:00 PM", "Sat 16 Apr 2022, 13:57"),
        ("04/16/2022 23:40", "Sat 16 Apr 2022, 23:40"),
        ("04/17/2022 noon", "not a date and time")]
    assert mapping.time_examples(rows, headers, ["alarm"], None, None) == [
        ("11/19/2011 10:04:00 PM +0000", "Sat 19 Nov 2011, 22:04 (offset +00:00)"),
        ("2011-11-20T03:15:00+00:00", "Sun 20 Nov 2011, 03:15 (offset +00:00)")]
    # A format given by the analyst is used as given; day first reads 04/05 as 4 May.
    assert mapping.time_examples([("04/05/2022 10:00",)], ["d"], ["d"], "%d/%m/%Y %H:%M",
                                 None) == [("04/05/2022 10:00", "Wed 04 May 2022, 10:00")]
    assert mapping.time_examples([("04/05/2022 10:00",)], ["d"], ["d"], "%Y-%m-%d",
                                 None)[0][1] == "not a date and time with this format"


def test_rows_and_records_agree_or_are_explained():
    r = SimpleNamespace(rows_read=1771, rows_rejected=0, rows_inserted=1770, rows_updated=0,
                        rows_unchanged=0, rows_merged=1, unit_rows=None)
    assert mapping.rows_and_records(r) == (
        "The 1,771 rows give 1,770 records (1 rows repeating another row's identifier are "
        "merged into one record each): 1,770 new.")
    same = SimpleNamespace(rows_read=10, rows_rejected=2, rows_inserted=8, rows_updated=0,
                           rows_unchanged=0, rows_merged=0, unit_rows=None)
    assert mapping.rows_and_records(same) is None


# --------------------------------------------------------------------------------------------
# Real exports
# --------------------------------------------------------------------------------------------

def _real(con, realdata, rel, kind="calls"):
    info = preview(con, realdata / rel, kind=kind, limit=1)
    return {k: s.headers for k, s in info["suggestions"].items() if s.headers}, \
        {k: s.alternatives for k, s in info["suggestions"].items() if s.alternatives}


def test_real_seattle_export_is_mapped_sensibly(con, realdata):
    chosen, asked = _real(con, realdata, "seattle_spd_calldata/db_call_data_2018-2023.csv")
    assert chosen == {
        "call_id": ("CAD Event Number",), "received_at": ("Original Time Queued",),
        "arrived_at": ("Arrived Time",), "call_type": ("Initial Call Type",),
        "call_type_final": ("Final Call Type",), "origin": ("Call Type",),
        "priority": ("Priority",), "disposition": ("Event Clearance Description",),
        "lat": ("Blurred_Latitude",), "lon": ("Blurred_Longitude",)}
    assert set(asked) == {"area"} and set(asked["area"]) == {"Beat", "Precinct", "Sector"}


def test_real_milwaukee_export_is_mapped_sensibly(con, realdata):
    chosen, asked = _real(con, realdata, "milwaukee_mpd/data.csv")
    assert chosen == {"call_id": ("id",), "received_at": ("time",), "call_type": ("nature",),
                      "lat": ("latitude",), "lon": ("longitude",), "disposition": ("status",),
                      "area": ("district",)}
    assert asked == {}


def test_real_montgomery_export_has_no_identifier_suggested(con, realdata):
    chosen, _ = _real(con, realdata, "montgomery_pa/911.csv")
    # 'desc' is distinct on every row but it is text with spaces, not an identifier.
    assert "call_id" not in chosen
    assert chosen["call_type"] == ("title",) and chosen["received_at"] == ("timeStamp",)
    assert (chosen["lat"], chosen["lon"]) == (("lat",), ("lng",))


def test_real_mcslc_export_keeps_its_request_time(con, realdata):
    chosen, asked = _real(con, realdata, "lane_county_mcslc/MCSLC.csv", "responses")
    assert chosen["response_id"] == ("ID",)
    assert chosen["requested_at"] == ("Dispatch Request Date & Time",)
    assert chosen["reasons"] == tuple(f"Reason for Dispatch #{i}" for i in range(1, 6))
    assert "requested_at" not in asked


# --------------------------------------------------------------------------------------------
# Duration tiles with nothing timed
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("metric, n, missing, hidden, expected", [
    ("C2", 0, 0, None, "no team data"),                    # no team responses at all
    ("C6", 0, 0, None, "no team data"),                    # no call the team answered
    ("C1", 0, 0, None, "no calls with both times"),
    ("C2", 0, 12, None, "no timed records: none has both times"),
    ("C2", 0, None, {"missing": "hidden (fewer than 11)"},
     "no timed records: none has both times"),
    ("C2", 25, 0, None, None),                             # timed: the usual detail
    ("C2", None, None, {"n": "hidden (fewer than 11)"}, None),
])
def test_a_duration_tile_with_nothing_timed_says_why(metric, n, missing, hidden, expected):
    from charts.frames import HIDDEN
    from metrics.registry import BY_ID
    from ui.components import _nothing_timed

    row = SimpleNamespace(n=float("nan") if n is None else n,
                          missing=float("nan") if missing is None else missing)
    setattr(row, HIDDEN, hidden)
    assert _nothing_timed(BY_ID[metric], row) == expected
