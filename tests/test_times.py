"""Times of day kept through the quirks of real exports (issue 21), on small files in
tests/fixtures/times written for these tests. Every expected time is worked out by hand from
the file's text; stored local times are read back from DuckDB."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import table_contents

from data import ImportRefused, import_file, parse_profile, timestamps

TIMES = Path(__file__).resolve().parent / "fixtures" / "times"
PAIR = """
kind = "calls"
[columns]
call_id = "CASENO"
received_at = ["EVENTDT", "EVENTTM"]
call_type = "OFFENSE"
"""


def _import(con, name, profile, **kw):
    return import_file(con, TIMES / name, kind="calls", jurisdiction="Springfield",
                       profile=parse_profile(profile), timezone_name="America/Chicago", **kw)


def _local(con):
    return dict(con.execute("SELECT call_id, received_local FROM calls").fetchall())


def test_am_pm_with_a_numeric_offset_and_iso_rows_with_spaces(con):
    profile = ('kind = "calls"\n[columns]\ncall_id = "incident_number"\n'
               'received_at = "alarm_dttm"\ncall_type = "call_type_description"\n')
    r = _import(con, "fire_ampm_offset.csv", profile)
    assert (r.rows_read, r.rows_rejected, r.rows_warned) == (6, 0, 0)
    # Offsets are instants; local time is Chicago's (CST, UTC-6, in November 2011).
    assert _local(con) == {
        "111090001": datetime(2011, 11, 19, 16, 4),       # 10:04 PM +0000
        "111090002": datetime(2011, 11, 19, 17, 58, 30),  # 11:58:30 PM +0000, trailing space
        "111100003": datetime(2011, 11, 19, 21, 15),      # ISO 03:15+00:00, leading space
        "111100004": datetime(2011, 11, 20, 3, 0),        # 09:00 AM +0000
        "111100005": datetime(2011, 11, 20, 8, 45, 10),   # ISO +0000, spaces both sides
        "111100006": datetime(2011, 11, 20, 11, 30),      # 12:30 PM -0500 = 17:30 UTC
    }


def test_date_with_placeholder_midnight_beside_an_am_pm_time(con):
    r = _import(con, "police_date_time_ampm.csv", PAIR)
    assert (r.rows_read, r.rows_rejected, r.midnight_only) == (6, 0, [])
    assert r.warnings_by_type == {}  # no 0:00 placeholder: the time column gives every time
    assert _local(con) == {
        "22-017001": datetime(2022, 4, 16, 13, 57), "22-017002": datetime(2022, 4, 16, 23, 5),
        "22-017003": datetime(2022, 4, 17, 0, 10), "22-017004": datetime(2022, 4, 17, 12, 45),
        "22-017005": datetime(2022, 4, 18, 9, 3), "22-017006": datetime(2022, 4, 18, 19, 30)}


def test_date_with_placeholder_midnight_beside_24_hour_times_in_three_shapes(con):
    r = _import(con, "police_date_time_24h.csv", PAIR)
    assert (r.rows_read, r.rows_rejected) == (6, 0)
    assert _local(con) == {
        "23-000101": datetime(2023, 1, 13, 15, 15),       # H:MM
        "23-000102": datetime(2023, 1, 13, 8, 5, 9),      # HH:MM:SS
        "23-000103": datetime(2023, 1, 14, 23, 40),       # HHMM
        "23-000104": datetime(2023, 1, 14, 9, 5),         # HMM, leading zero lost
        "23-000105": datetime(2023, 1, 15, 0, 20),
        "23-000106": datetime(2023, 1, 15, 23, 59, 59)}


def test_hour_24_is_the_next_days_midnight_hour_with_a_row_warning(con):
    profile = ('kind = "calls"\n[columns]\ncall_id = "Event Number"\n'
               'received_at = "Received DateTime"\ncall_type = "Event Type"\n')
    r = _import(con, "hour24.csv", profile)
    assert (r.rows_read, r.rows_rejected) == (5, 0)
    assert _local(con) == {
        "E1": datetime(2023, 5, 1, 22, 10), "E2": datetime(2023, 5, 2, 0, 0),
        "E3": datetime(2023, 5, 2, 0, 35), "E4": datetime(2023, 5, 2, 6, 30),
        "E5": datetime(2023, 6, 1, 0, 15)}                # 31 May 24:15: month rolls over
    assert r.warnings_by_type == {"hour_24": 3}  # 24:00 is not taken for a placeholder 0:00
    rows = con.execute("SELECT record_id, file_row, \"column\" FROM row_warnings "
                       "WHERE warning = 'hour_24' ORDER BY file_row").fetchall()
    assert rows == [("E2", 3, "Received DateTime"), ("E3", 4, "Received DateTime"),
                    ("E5", 6, "Received DateTime")]


def test_bad_times_are_rejected_with_row_and_column(con):
    r = _import(con, "bad_times.csv", PAIR)
    assert (r.rows_read, r.rows_rejected, r.rows_inserted) == (8, 3, 5)
    rejects = con.execute("SELECT file_row, \"column\", reason FROM rejects ORDER BY 1").fetchall()
    assert rejects == [
        (3, "EVENTDT + EVENTTM", "cannot read '04/16/2022 25:10' as a date and time"),
        (4, "EVENTDT + EVENTTM", "cannot read '04/31/2022 10:00' as a date and time"),
        (5, "EVENTDT + EVENTTM", "cannot read '04/17/2022 noon' as a date and time")]
    assert _local(con)["22-7"] == datetime(2022, 4, 18, 14, 30)


def test_too_many_bad_times_refuse_the_file_and_change_nothing(con):
    _import(con, "police_date_time_ampm.csv", PAIR)
    before = table_contents(con)
    with pytest.raises(ImportRefused, match=r"row 3, column 'EVENTDT \+ EVENTTM'"):
        _import(con, "bad_times.csv", PAIR + "[options]\nmax_rejected_share = 0.2\n")
    assert table_contents(con) == before


def test_a_date_mapped_alone_is_flagged_when_every_time_reads_midnight(con):
    profile = PAIR.replace('["EVENTDT", "EVENTTM"]', '"EVENTDT"')
    r = _import(con, "police_date_time_ampm.csv", profile, dry_run=True)
    assert r.midnight_only == ["received_at"]
    assert any("every time in 'EVENTDT' (received_at) reads 0:00" in line
               for line in r.summary_lines())
    # With the time column beside it, nothing is flagged (test above); a file with one real
    # time among placeholders is not "every time" either.
    r = _import(con, "hour24.csv", 'kind = "calls"\n[columns]\ncall_id = "Event Number"\n'
                'received_at = "Received DateTime"\ncall_type = "Event Type"\n', dry_run=True)
    assert r.midnight_only == []


@pytest.mark.parametrize("date, time, joined", [
    ("04/16/2022 12:00:00 AM", "1:57:00 PM", "04/16/2022 1:57:00 PM"),
    ("04/16/2022 12:00 am", "15:15", "04/16/2022 15:15"),
    ("2022-04-16T00:00:00.000", "905", "2022-04-16 09:05"),
    ("2022-04-16 00:00", "2340", "2022-04-16 23:40"),
    (" 04/16/2022 ", " 08:05:09 ", "04/16/2022 08:05:09"),
    ("04/16/2022 12:00:00 PM", "1:57 PM", "04/16/2022 12:00:00 PM 1:57 PM"),  # noon: kept
    ("04/16/2022", None, "04/16/2022"),
    (None, None, None),
])
def test_the_wizards_joining_of_date_and_time_is_the_importers(date, time, joined):
    assert timestamps.join_date_time(date, time) == joined
    sql = timestamps.pair_sql("nullif(trim($1), '')", "nullif(trim($2), '')")
    assert duckdb.execute(f"SELECT {sql}", [date, time]).fetchone()[0] == joined


def test_detection_reads_offsets_after_am_pm_and_hour_24():
    fmts = timestamps.detect([" 11/09/2011 10:04:00 PM +0000", "2011-11-10T03:15:00+00:00 "],
                             "mdy")
    assert fmts.local == () and len(fmts.utc) == 2
    assert timestamps.parse("2023-05-31T24:15:00", "%Y-%m-%dT%H:%M:%S") == \
        datetime(2023, 6, 1, 0, 15)
    assert timestamps.parse("2023-05-31T25:15:00", "%Y-%m-%dT%H:%M:%S") is None


def test_without_a_profile_the_date_and_time_pair_is_suggested_and_saved(con, tmp_path):
    # The command line's path: no profile, no saved one; the values make the pair.
    r = import_file(con, TIMES / "police_date_time_24h.csv", kind="calls",
                    jurisdiction="Springfield", timezone_name="America/Chicago",
                    profile_dir=tmp_path / "profiles")
    assert r.profile_source == "suggested" and r.profile_path
    assert r.profile.columns["received_at"] == ["EVENTDT", "EVENTTM"]
    assert _local(con)["23-000103"] == datetime(2023, 1, 14, 23, 40)


def test_without_a_profile_an_ambiguous_identifier_is_refused_with_the_candidates(con, tmp_path):
    path = tmp_path / "twins.csv"
    path.write_text("Call_ID,call_id,Received,Nature\n" + "".join(
        f"X{i},{i}X,2024-05-01 1{i}:00,WELFARE CHECK\n" for i in range(6)))
    before = table_contents(con)
    with pytest.raises(Exception, match=r"call_id: 'Call_ID' or 'call_id'"):
        import_file(con, path, kind="calls", jurisdiction="Springfield",
                    timezone_name="America/Chicago", profile_dir=tmp_path / "profiles")
    assert table_contents(con) == before
