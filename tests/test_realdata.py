"""Every real export in ../shared/realdata, imported with its profile in tests/profiles.

Each expectation is computed here, independently of the importer, from the raw file (Python's csv
module, openpyxl for the workbook, zoneinfo for time zones) or written down by hand from facts
checked against the file and its README. The importer must agree with the file, not the other
way round.
"""
from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from data.importer import import_file

from conftest import PROFILES, table_contents

UTC = timezone.utc


# --------------------------------------------------------------------------------------------
# Independent readers
# --------------------------------------------------------------------------------------------

def read_rows(path: Path, delimiter: str = ",") -> tuple[list[str], list[dict]]:
    """Header and rows of a CSV, read with the standard library (BOM dropped)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader)
        rows = [dict(zip(header, r)) for r in reader]
    return header, rows


def by_key(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows}


def utc(raw: str, fmt: str, tz: str) -> datetime:
    """A wall-clock value of the file, in the zone ``tz``, as a UTC instant."""
    return datetime.strptime(raw, fmt).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def instants(naive: datetime, tz: str) -> set[datetime]:
    """The UTC instants a wall-clock time can mean: two in the hour repeated when DST ends."""
    z = ZoneInfo(tz)
    return {naive.replace(tzinfo=z, fold=f).astimezone(UTC) for f in (0, 1)}


def blank(v: str | None) -> bool:
    return v is None or not v.strip()


def one(con, sql: str, params=()):
    return con.execute(sql, list(params)).fetchone()


def scalar(con, sql: str, params=()):
    return one(con, sql, params)[0]


def mappings(result, field: str) -> dict[str, tuple[str | None, int]]:
    """Value mappings of a field in an import summary: raw -> (code, rows)."""
    return {m["raw"]: (m["code"], m["rows"]) for m in result.value_mappings
            if m["field"] == field}


def imp(con, path, kind, profile, jurisdiction, **kw):
    return import_file(con, path, kind=kind, jurisdiction=jurisdiction,
                       profile=PROFILES / profile, **kw)


# --------------------------------------------------------------------------------------------
# Lane County MCSLC (responses), CSV
# --------------------------------------------------------------------------------------------

MCSLC_CSV = "lane_county_mcslc/MCSLC.csv"
MCSLC_XLSX = "lane_county_mcslc/MCSLC.xlsx"
MCSLC_TZ = "America/Los_Angeles"
MCSLC_FMT = "%m/%d/%Y %H:%M"
MCSLC_TIMES = ["Dispatch Request Date & Time", "Dispatch Date & Time",
               "Arrival on Scene Date & Time", "Engagement with Client Date & Time",
               "MCIT Departure Date & Time"]


@pytest.fixture
def mcslc_raw(realdata):
    header, rows = read_rows(realdata / MCSLC_CSV)
    return header, rows


@pytest.fixture
def mcslc(con, realdata):
    result = imp(con, realdata / MCSLC_CSV, "responses", "mcslc.toml", "Lane County")
    return con, result


def test_mcslc_raw_file_facts(mcslc_raw, realdata):
    """What the README says about the file is true (guards the expectations below)."""
    header, rows = mcslc_raw
    assert len(header) == 18 and len(rows) == 4682
    assert header[14] == "Minutes: Request ? Dispatch"  # the arrow lost to the encoding
    assert (realdata / MCSLC_CSV).read_bytes().count(b"\r\n") == 4683  # CRLF, header included
    disp = Counter(r["Disposition"] for r in rows)
    assert disp == {"Remained in community": 3750, "Emergency Department": 652, "Other": 230,
                    "Sobering/Detox Facility": 26, "Sobering or Detox Facility": 2,
                    "Arrest": 16, "Respite": 3, "Crisis walk-in Center": 3}


def test_mcslc_counts(mcslc, mcslc_raw):
    con, r = mcslc
    _, rows = mcslc_raw
    ids = {row["ID"] for row in rows}
    assert r.status == "committed"
    assert r.rows_read == len(rows) == 4682
    assert len(ids) == 4682  # no duplicate identifiers, none blank
    assert r.rows_inserted == 4682 and r.rows_rejected == 0 and r.rows_merged == 0
    assert r.rows_updated == 0 and r.rows_unchanged == 0
    assert scalar(con, "SELECT count(*) FROM responses WHERE jurisdiction = 'Lane County'") == 4682
    got = {x[0] for x in con.execute("SELECT response_id FROM responses").fetchall()}
    assert got == ids


def test_mcslc_dispositions(mcslc, mcslc_raw):
    con, r = mcslc
    _, rows = mcslc_raw
    disp = Counter(row["Disposition"] for row in rows)
    arrests = scalar(con, "SELECT count(*) FROM responses WHERE arrest")
    assert arrests == disp["Arrest"] == 16
    assert scalar(con, "SELECT count(*) FROM responses WHERE NOT arrest") == 4682 - 16
    dest = dict(con.execute("SELECT transport_destination, count(*) FROM responses GROUP BY 1")
                .fetchall())
    assert dest["emergency_department"] == disp["Emergency Department"] == 652
    # Two spellings of one destination, both standardised.
    sob = disp["Sobering/Detox Facility"] + disp["Sobering or Detox Facility"]
    assert (disp["Sobering/Detox Facility"], disp["Sobering or Detox Facility"]) == (26, 2)
    assert dest["sobering_detox"] == sob == 28
    assert dest["crisis_center"] == disp["Crisis walk-in Center"] == 3
    assert dest["none"] == disp["Remained in community"] + disp["Arrest"] == 3766
    assert dest["other"] == disp["Other"] + disp["Respite"] == 233
    m = mappings(r, "transport_destination")
    assert m["Sobering/Detox Facility"] == ("sobering_detox", 26)
    assert m["Sobering or Detox Facility"] == ("sobering_detox", 2)
    assert m["Emergency Department"] == ("emergency_department", 652)
    # The original label is kept beside the standard code.
    raw = dict(con.execute("SELECT transport_destination_raw, count(*) FROM responses "
                           "WHERE transport_destination = 'sobering_detox' GROUP BY 1").fetchall())
    assert raw == {"Sobering/Detox Facility": 26, "Sobering or Detox Facility": 2}


def test_mcslc_outcomes_ignore_case_and_spacing(mcslc, mcslc_raw):
    con, r = mcslc
    _, rows = mcslc_raw
    end = Counter(row["End Point of Dispatch"] for row in rows)
    # Labels that differ only in case or spacing are in the file.
    assert end["Engaged Client"] == 1107 and end["Engaged client"] == 228
    assert end["Client declined to engage"] == 27 and end["Client declined  to engage"] == 19
    outcome = dict(con.execute("SELECT outcome, count(*) FROM responses GROUP BY 1").fetchall())
    assert outcome["resolved_on_scene"] == end["Engaged Client"] + end["Engaged client"]
    assert outcome["refused"] == (end["Refused"] + end["Client declined to engage"]
                                  + end["Client declined  to engage"]) == 578
    assert outcome["unable_to_locate"] == end["Unable to Locate"] + end["Unable to locate client"]
    assert outcome["cancelled"] == end["Cancelled"] + end["Dispatch canceled before arrival"]
    assert outcome["other"] == end["Other"] + end["No contact due to safety concern"] == 24
    assert outcome[None] == end[""] == 1592
    contact = dict(con.execute("SELECT contact_made, count(*) FROM responses GROUP BY 1")
                   .fetchall())
    assert contact[True] == 1335
    assert contact[None] == 1592
    assert contact[False] == 4682 - 1335 - 1592
    # The one label no rule knows is reported, not silently dropped.
    m = {x["raw"]: x for x in r.value_mappings if x["field"] == "outcome"}
    assert m["No contact due to safety concern"]["how"] == "not recognised"
    assert m["No contact due to safety concern"]["rows"] == 19
    assert m["Client declined  to engage"]["code"] == "refused"


def test_mcslc_records(mcslc, mcslc_raw):
    con, _ = mcslc
    _, rows = mcslc_raw
    raw = by_key(rows, "ID")
    sql = ("SELECT requested_at, dispatched_at, arrived_at, engaged_at, cleared_at, "
           "requested_local, team, reasons, outcome, transport_destination, arrest, file_row "
           "FROM responses WHERE response_id = ?")

    # 12485: the first row, summer (PDT, UTC-7).
    assert raw["12485"]["Dispatch Request Date & Time"] == "8/18/2024 14:12"
    got = one(con, sql, ["12485"])
    assert got[0] == datetime(2024, 8, 18, 21, 12, tzinfo=UTC)
    assert list(got[:5]) == [utc(raw["12485"][c], MCSLC_FMT, MCSLC_TZ) for c in MCSLC_TIMES]
    assert got[5] == datetime(2024, 8, 18, 14, 12)  # local wall clock kept
    assert got[6:11] == ("Eugene", ["Substance use"], "resolved_on_scene", "none", False)
    assert got[11] == 2

    # 13209: winter (PST, UTC-8), Springfield, two reasons.
    assert raw["13209"]["Dispatch Request Date & Time"] == "12/17/2025 2:57"
    got = one(con, sql, ["13209"])
    assert got[0] == datetime(2025, 12, 17, 10, 57, tzinfo=UTC)
    assert list(got[:5]) == [utc(raw["13209"][c], MCSLC_FMT, MCSLC_TZ) for c in MCSLC_TIMES]
    assert got[6] == "Springfield"
    assert got[7] == ["Agitation or disruptive behavior", "Difficulty functioning"]

    # 12311: an arrest.
    got = one(con, sql, ["12311"])
    assert raw["12311"]["Disposition"] == "Arrest"
    assert got[10] is True and got[9] == "none"
    assert got[7] == ["Difficulty functioning", "Disorganized behavior",
                      "Adult Social/interpersonal problems", "Substance use"]

    # 12519: every time blank -> kept, with NULL times.
    assert all(raw["12519"][c] == "" for c in MCSLC_TIMES)
    got = one(con, sql, ["12519"])
    assert got[:6] == (None,) * 6 and got[11] == 4607


def test_mcslc_warnings(mcslc, mcslc_raw):
    con, r = mcslc
    _, rows = mcslc_raw
    missing = [row["ID"] for row in rows if blank(row["Dispatch Request Date & Time"])]
    assert len(missing) == 77
    assert r.warnings_by_type["missing_time"] == 77
    ids = {x[0] for x in con.execute("SELECT record_id FROM row_warnings "
                                     "WHERE warning = 'missing_time'").fetchall()}
    assert ids == set(missing)
    # (DOMAIN.md says "77 responses with every time blank"; in fact 71 have all five blank.)
    assert sum(all(blank(row[c]) for c in MCSLC_TIMES) for row in rows) == 71
    assert scalar(con, "SELECT count(*) FROM responses WHERE requested_at IS NULL") == 77

    # The one 2005 date (a departure in a 2024-2025 file).
    dated_2005 = [(row["ID"], c, row[c]) for row in rows for c in MCSLC_TIMES
                  if "/2005 " in row[c]]
    assert dated_2005 == [("14322", "MCIT Departure Date & Time", "5/23/2005 1:01")]
    assert r.warnings_by_type["implausible_date"] == 1
    assert con.execute("SELECT record_id, \"column\" FROM row_warnings "
                       "WHERE warning = 'implausible_date'").fetchall() == [
        ("14322", "MCIT Departure Date & Time")]
    assert scalar(con, "SELECT cleared_at FROM responses WHERE response_id = '14322'") == \
        utc("5/23/2005 1:01", MCSLC_FMT, MCSLC_TZ)

    # 0:00 written where the time is unknown: one warning per such value.
    zero = sum(1 for row in rows for c in MCSLC_TIMES if row[c].endswith(" 0:00"))
    assert zero == 1262
    assert r.warnings_by_type["time_placeholder"] == zero

    # Times out of order: a time earlier than any earlier step's time (blank steps skipped).
    out_of_order, warned = 0, set()
    for row in rows:
        v = [datetime.strptime(row[c], MCSLC_FMT) if row[c] else None for c in MCSLC_TIMES]
        if v[0] is None or any(t and (t.year == 2005 or (t.hour, t.minute) == (0, 0))
                               for t in v):
            warned.add(row["ID"])
        for j in range(1, 5):
            earlier = [t for t in v[:j] if t]
            if v[j] and earlier and v[j] < max(earlier):
                out_of_order += 1
                warned.add(row["ID"])
    assert (out_of_order, len(warned)) == (1277, 1031)
    assert r.warnings_by_type["out_of_order"] == out_of_order
    assert r.rows_warned == len(warned)
    # Engagement before arrival (both real times) is flagged on the engagement.
    assert raw_pair(rows, "12290") == ("8/18/2024 20:20", "8/18/2024 20:02")
    assert one(con, "SELECT count(*) FROM row_warnings WHERE warning = 'out_of_order' AND "
               "record_id = '12290' AND \"column\" = 'Engagement with Client Date & Time'")[0] == 1


def test_mcslc_every_row(mcslc, mcslc_raw):
    """Every time, reason list and team of every row, against the raw file."""
    con, _ = mcslc
    _, rows = mcslc_raw
    cols = ["requested_at", "dispatched_at", "arrived_at", "engaged_at", "cleared_at"]
    got = {x[0]: x[1:] for x in con.execute(
        f"SELECT response_id, {', '.join(cols)}, requested_local, reasons, team, file_row "
        "FROM responses").fetchall()}
    ambiguous = []
    for i, row in enumerate(rows):
        g = got[row["ID"]]
        for j, c in enumerate(MCSLC_TIMES):
            if blank(row[c]):
                assert g[j] is None, (row["ID"], c)
                continue
            can = instants(datetime.strptime(row[c], MCSLC_FMT), MCSLC_TZ)
            if len(can) > 1:
                ambiguous.append((row["ID"], row[c]))
            assert g[j] in can, (row["ID"], c, row[c], g[j])
        req = row["Dispatch Request Date & Time"]
        assert g[5] == (datetime.strptime(req, MCSLC_FMT) if req else None)
        reasons = [row[f"Reason for Dispatch #{n}"] for n in range(1, 6)
                   if not blank(row[f"Reason for Dispatch #{n}"])]
        assert (g[6] or []) == reasons, row["ID"]
        assert g[7] == row["City"] and g[8] == i + 2
    # Wall-clock times in the hour repeated when DST ended (2 Nov 2025): either instant is right.
    assert sorted(ambiguous) == [("12585", "11/2/2025 1:01"), ("12585", "11/2/2025 1:35"),
                                 ("14537", "11/2/2025 1:09")]


def raw_pair(rows, rid):
    row = by_key(rows, "ID")[rid]
    return row["Arrival on Scene Date & Time"], row["Engagement with Client Date & Time"]


# --------------------------------------------------------------------------------------------
# MCSLC, the Excel copy
# --------------------------------------------------------------------------------------------

def _xlsx_rows(path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        assert wb.sheetnames == ["Abbrev list", "Notes"]
        values = list(wb["Abbrev list"].iter_rows(values_only=True))
    finally:
        wb.close()
    header = [str(h) for h in values[0]]
    return header, [dict(zip(header, v)) for v in values[1:]]


def test_mcslc_xlsx_same_as_csv(con, realdata, mcslc_raw):
    _, csv_rows = mcslc_raw
    x_header, x_rows = _xlsx_rows(realdata / MCSLC_XLSX)
    assert x_header[14] == "Minutes: Request \u2192 Dispatch"
    assert len(x_rows) == len(csv_rows) == 4682
    rc = imp(con, realdata / MCSLC_CSV, "responses", "mcslc.toml", "Lane County (csv)")
    rx = imp(con, realdata / MCSLC_XLSX, "responses", "mcslc_xlsx.toml", "Lane County (xlsx)")
    assert rx.status == "committed"
    assert rx.rows_read == rc.rows_read == 4682
    assert rx.rows_inserted == rc.rows_inserted == 4682 and rx.rows_rejected == 0
    per = dict(con.execute("SELECT jurisdiction, count(*) FROM responses GROUP BY 1").fetchall())
    assert per == {"Lane County (csv)": 4682, "Lane County (xlsx)": 4682}
    # Identifiers are numbers in the workbook; they must read as '12485', not '12485.0'.
    x_ids = {str(int(v["ID"])) for v in x_rows}
    assert x_ids == {r["ID"] for r in csv_rows}
    got = {x[0] for x in con.execute("SELECT response_id FROM responses WHERE "
                                     "jurisdiction = 'Lane County (xlsx)'").fetchall()}
    assert got == x_ids
    for j in per:
        assert scalar(con, "SELECT count(*) FROM responses WHERE jurisdiction = ? AND arrest",
                      [j]) == 16
        assert scalar(con, "SELECT count(*) FROM responses WHERE jurisdiction = ? AND "
                      "transport_destination = 'emergency_department'", [j]) == 652
        assert scalar(con, "SELECT count(*) FROM responses WHERE jurisdiction = ? AND "
                      "transport_destination = 'sobering_detox'", [j]) == 28
    assert rx.warnings_by_type["missing_time"] == 77
    assert rx.warnings_by_type["implausible_date"] == 1


def test_mcslc_xlsx_times(con, realdata, mcslc_raw):
    """The workbook's date-times (local wall clock, some with seconds) become the same instants."""
    _, csv_rows = mcslc_raw
    _, x_rows = _xlsx_rows(realdata / MCSLC_XLSX)
    imp(con, realdata / MCSLC_XLSX, "responses", "mcslc_xlsx.toml", "Lane County (xlsx)")
    got = dict(con.execute("SELECT response_id, requested_at FROM responses").fetchall())
    assert len(got) == len(x_rows) == 4682
    ambiguous = []
    for v in x_rows:
        rid, t = str(int(v["ID"])), v["Dispatch Request Date & Time"]
        if t is None:
            assert got[rid] is None, rid
            continue
        can = instants(t, MCSLC_TZ)
        if len(can) > 1:  # 1:00-1:59 on the night DST ends: either reading is right
            ambiguous.append(rid)
        assert got[rid] in can, (rid, t, got[rid])
    assert ambiguous == ["12585"]  # 11/2/2025 1:01
    # The CSV drops seconds that the workbook keeps: same minute everywhere, 46 differ in seconds.
    csv_req = {r["ID"]: r["Dispatch Request Date & Time"] for r in csv_rows}
    xl_req = {str(int(v["ID"])): v["Dispatch Request Date & Time"] for v in x_rows}
    assert sum(1 for t in xl_req.values() if t is not None and t.second) == 46
    for i, t in xl_req.items():
        assert (t is None) == (csv_req[i] == "")
        if t is not None:
            assert t.replace(second=0) == datetime.strptime(csv_req[i], MCSLC_FMT)
    # 12697: 2025-12-17 04:59:18 PST in the workbook, '12/17/2025 4:59' in the CSV; it is the
    # workbook's first data row (row 2 as Excel shows it) but row 4606 of the CSV.
    assert x_rows[0]["ID"] == 12697
    assert got["12697"] == datetime(2025, 12, 17, 12, 59, 18, tzinfo=UTC)
    assert one(con, "SELECT requested_local, file_row FROM responses WHERE response_id = '12697'"
               ) == (datetime(2025, 12, 17, 4, 59, 18), 2)


# --------------------------------------------------------------------------------------------
# San Diego (calls)
# --------------------------------------------------------------------------------------------

SD = "sandiego_sdpd/pd_calls_for_service_2023_datasd.csv"
SD_TZ = "America/Los_Angeles"


def test_sandiego(con, realdata):
    text = (realdata / SD).read_text(encoding="utf-8")
    assert text.startswith('"incident_num","date_time",')  # every field quoted
    header, rows = read_rows(realdata / SD)
    assert len(header) == 14 and len(rows) == 26595
    ids = {r["incident_num"] for r in rows}
    assert len(ids) == 26595
    beat_minus_one = sum(r["beat"] == "-1" for r in rows)
    blank_type = sum(blank(r["call_type"]) for r in rows)
    assert (beat_minus_one, blank_type) == (402, 19)

    r = imp(con, realdata / SD, "calls", "sandiego_sdpd.toml", "San Diego")
    assert r.rows_read == 26595
    assert r.rows_inserted == 26595 and r.rows_rejected == 0 and r.rows_merged == 0
    assert scalar(con, "SELECT count(DISTINCT call_id) FROM calls") == 26595
    assert {x[0] for x in con.execute("SELECT call_id FROM calls").fetchall()} == ids
    # beat -1 -> NULL area, and no '-1' left.
    assert scalar(con, "SELECT count(*) FROM calls WHERE area IS NULL") == beat_minus_one
    assert scalar(con, "SELECT count(*) FROM calls WHERE area = '-1'") == 0
    # Blank call types are kept (only a blank identifier rejects a row).
    assert scalar(con, "SELECT count(*) FROM calls WHERE call_type IS NULL") == blank_type
    assert dict(con.execute("SELECT call_type, count(*) FROM calls GROUP BY 1").fetchall()) == \
        Counter(r["call_type"] or None for r in rows)
    assert dict(con.execute("SELECT disposition, count(*) FROM calls GROUP BY 1").fetchall()) == \
        Counter(r["disposition"] or None for r in rows)

    assert dict(con.execute("SELECT priority, count(*) FROM calls GROUP BY 1").fetchall()) == \
        Counter(r["priority"] for r in rows)
    # Every received time, against zoneinfo (no time in the file falls in a DST change).
    got = dict(con.execute("SELECT call_id, received_at FROM calls").fetchall())
    assert got == {r["incident_num"]: utc(r["date_time"], "%Y-%m-%d %H:%M:%S", SD_TZ)
                   for r in rows}

    raw = by_key(rows, "incident_num")
    sql = ("SELECT received_at, received_local, call_type, disposition, priority, area "
           "FROM calls WHERE call_id = ?")
    # First call of the year: 00:00:05 PST = 08:00:05 UTC.
    assert raw["E23010000001"]["date_time"] == "2023-01-01 00:00:05"
    assert one(con, sql, ["E23010000001"]) == (
        datetime(2023, 1, 1, 8, 0, 5, tzinfo=UTC), datetime(2023, 1, 1, 0, 0, 5),
        "FD", "CAN", "2", "523")
    # beat -1 on a real record.
    rec = raw["E23010000002"]
    assert rec["beat"] == "-1" and rec["call_type"] == "SHOPS"
    assert one(con, sql, ["E23010000002"]) == (
        utc(rec["date_time"], "%Y-%m-%d %H:%M:%S", SD_TZ), datetime(2023, 1, 1, 0, 0, 30),
        "SHOPS", "W", "4", None)
    # The last row: 2023-01-20 23:56:51 PST = 2023-01-21 07:56:51 UTC.
    assert one(con, sql, ["E23010028629"]) == (
        datetime(2023, 1, 21, 7, 56, 51, tzinfo=UTC), datetime(2023, 1, 20, 23, 56, 51),
        "AU1171", "DUP", "1", "837")
    # A blank call type: kept as NULL.
    assert raw["E23010002860"]["call_type"] == ""
    assert one(con, sql, ["E23010002860"])[2] is None
    m = mappings(r, "area")
    assert m.get("-1") == (None, beat_minus_one)


# --------------------------------------------------------------------------------------------
# Milwaukee (calls)
# --------------------------------------------------------------------------------------------

MKE = "milwaukee_mpd/data.csv"
MKE_TZ = "America/Chicago"


def test_milwaukee(con, realdata):
    assert (realdata / MKE).read_bytes().count(b"\r\n") == 33969  # CRLF
    header, rows = read_rows(realdata / MKE)
    assert header == ["id", "time", "location", "latitude", "longitude", "district", "nature",
                      "status"]
    assert len(rows) == 33968
    ids = {r["id"] for r in rows}
    assert len(ids) == 33968
    no_coords = [r["id"] for r in rows if blank(r["latitude"])]
    assert len(no_coords) == 11
    districts = Counter(r["district"] for r in rows)
    assert districts["CITY"] == 56 and districts["7"] == 5647

    r = imp(con, realdata / MKE, "calls", "milwaukee_mpd.toml", "Milwaukee")
    assert r.rows_read == 33968
    assert r.rows_inserted == 33968 and r.rows_rejected == 0 and r.rows_merged == 0
    assert scalar(con, "SELECT count(DISTINCT call_id) FROM calls") == 33968
    assert {x[0] for x in con.execute("SELECT call_id FROM calls WHERE lat IS NULL "
                                      "AND lon IS NULL").fetchall()} == set(no_coords)
    assert dict(con.execute("SELECT area, count(*) FROM calls GROUP BY 1").fetchall()) == \
        dict(districts)

    got = {x[0]: x[1:] for x in con.execute(
        "SELECT call_id, received_at, call_type, disposition, lat, lon FROM calls").fetchall()}
    assert got == {r["id"]: (utc(r["time"], "%Y-%m-%d %H:%M:%S", MKE_TZ), r["nature"],
                             r["status"], float(r["latitude"]) if r["latitude"] else None,
                             float(r["longitude"]) if r["longitude"] else None) for r in rows}

    sql = ("SELECT received_at, received_local, call_type, disposition, area, lat, lon "
           "FROM calls WHERE call_id = ?")
    raw = by_key(rows, "id")
    # May: CDT, UTC-5.
    assert raw["1211372"]["time"] == "2018-05-01 00:10:28"
    assert one(con, sql, ["1211372"]) == (
        datetime(2018, 5, 1, 5, 10, 28, tzinfo=UTC), datetime(2018, 5, 1, 0, 10, 28),
        "TRBL W/SUBJ", "Unable to Locate Complainant", "4", 43.1127987, -87.95674149999999)
    # No coordinates, district a word.
    rec = raw["1223384"]
    assert (rec["latitude"], rec["district"]) == ("", "SPD")
    assert one(con, sql, ["1223384"]) == (
        utc(rec["time"], "%Y-%m-%d %H:%M:%S", MKE_TZ), datetime(2018, 5, 6, 0, 13, 25),
        "SPECIAL ASSIGN", "Service in Progress", "SPD", None, None)
    # The last row.
    assert one(con, sql, ["1257277"])[:5] == (
        datetime(2018, 5, 21, 19, 14, 42, tzinfo=UTC), datetime(2018, 5, 21, 14, 14, 42),
        "BUSINESS CHECK", "Assignment Completed", "7")


# --------------------------------------------------------------------------------------------
# Montgomery County PA (calls, no identifier)
# --------------------------------------------------------------------------------------------

MONT = "montgomery_pa/911.csv"
MONT_TZ = "America/New_York"


def test_montgomery(con, realdata):
    header, rows = read_rows(realdata / MONT)
    assert header == ["lat", "lng", "desc", "zip", "title", "timeStamp", "twp", "addr", "e"]
    assert len(rows) == 9226
    distinct_rows = {tuple(r.values()) for r in rows}
    identical = len(rows) - len(distinct_rows)
    assert identical == 0  # the file has no two identical rows
    titles = Counter(r["title"] for r in rows)
    assert Counter(t.split(":")[0] for t in titles.elements()) == {
        "EMS": 4607, "Traffic": 3354, "Fire": 1265}
    no_twp = sum(blank(r["twp"]) for r in rows)
    assert no_twp == 7

    r = imp(con, realdata / MONT, "calls", "montgomery_pa.toml", "Montgomery PA")
    assert r.rows_read == 9226
    assert r.fingerprint_merged == identical
    assert r.rows_inserted == len(distinct_rows) and r.rows_rejected == 0
    assert "  row fingerprints used as identifiers; 0 identical rows merged" in r.summary_lines()
    assert scalar(con, "SELECT count(DISTINCT call_id) FROM calls") == len(distinct_rows)
    assert scalar(con, "SELECT count(*) FROM calls WHERE length(call_id) = 32") == 9226
    assert dict(con.execute("SELECT call_type, count(*) FROM calls GROUP BY 1").fetchall()) == \
        dict(titles)
    assert scalar(con, "SELECT count(*) FROM calls WHERE area IS NULL") == no_twp

    got = {x[0]: x[1:] for x in con.execute(
        "SELECT file_row, received_at, call_type, area, lat, lon FROM calls").fetchall()}
    assert got == {i + 2: (utc(r["timeStamp"], "%Y-%m-%d %H:%M:%S", MONT_TZ), r["title"],
                           r["twp"] or None, float(r["lat"]), float(r["lng"]))
                   for i, r in enumerate(rows)}

    sql = ("SELECT received_at, received_local, call_type, area, lat, lon FROM calls "
           "WHERE file_row = ?")
    # Row 2 (first data row): December, EST = UTC-5.
    assert rows[0]["timeStamp"] == "2015-12-10 17:40:00"
    assert one(con, sql, [2]) == (
        datetime(2015, 12, 10, 22, 40, tzinfo=UTC), datetime(2015, 12, 10, 17, 40),
        "EMS: BACK PAINS/INJURY", "NEW HANOVER", 40.2978759, -75.5812935)
    # The last row, in January.
    last = rows[-1]
    assert (last["timeStamp"], last["title"]) == ("2016-01-04 19:37:00", "Fire: GAS-ODOR/LEAK")
    assert one(con, sql, [9227]) == (
        utc(last["timeStamp"], "%Y-%m-%d %H:%M:%S", MONT_TZ), datetime(2016, 1, 4, 19, 37),
        "Fire: GAS-ODOR/LEAK", "HORSHAM", 40.2060806, -75.2246178)
    # Row 484: no township.
    assert rows[482]["twp"] == "" and rows[482]["title"] == "Fire: VEHICLE ACCIDENT"
    assert one(con, sql, [484])[2:4] == ("Fire: VEHICLE ACCIDENT", None)


# --------------------------------------------------------------------------------------------
# Detroit (calls, UTC timestamps, padded codes)
# --------------------------------------------------------------------------------------------

DET = "detroit_dpd/detroit_911.csv"


def test_detroit(con, realdata):
    header, rows = read_rows(realdata / DET)
    assert len(header) == 26 and len(rows) == 500
    ids = {r["incident_id"] for r in rows}
    assert len(ids) == 500
    assert all(re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\+00", r["call_timestamp"])
               for r in rows)
    padded = sum(r["category"] != r["category"].rstrip() for r in rows)
    assert padded == 336 and all(r["agency"] == "DPD " for r in rows)
    categories = Counter(r["category"].strip() for r in rows)
    precincts = Counter(r["precinct_sca"].strip() or None for r in rows)
    assert precincts[None] == 32
    priorities = Counter(r["priority"].strip() or None for r in rows)
    assert priorities[None] == 9
    flags = Counter(r["officerinitiated"] for r in rows)
    assert flags == {"No": 391, "Yes": 109}

    r = imp(con, realdata / DET, "calls", "detroit_dpd.toml", "Detroit")
    assert r.rows_read == 500 and r.rows_inserted == 500 and r.rows_rejected == 0
    assert scalar(con, "SELECT count(DISTINCT call_id) FROM calls") == 500
    # Trailing spaces trimmed from codes.
    assert scalar(con, "SELECT count(*) FROM calls WHERE call_type <> rtrim(call_type) OR "
                  "area <> rtrim(area) OR priority <> trim(priority)") == 0
    assert dict(con.execute("SELECT call_type, count(*) FROM calls GROUP BY 1").fetchall()) == \
        dict(categories)
    assert dict(con.execute("SELECT area, count(*) FROM calls GROUP BY 1").fetchall()) == \
        dict(precincts)
    assert dict(con.execute("SELECT priority, count(*) FROM calls GROUP BY 1").fetchall()) == \
        dict(priorities)
    assert dict(con.execute("SELECT origin, count(*) FROM calls GROUP BY 1").fetchall()) == {
        "officer_initiated": flags["Yes"], "911": flags["No"]}
    assert dict(con.execute("SELECT responder, count(*) FROM calls GROUP BY 1").fetchall()) == {
        "police": 500}

    got = dict(con.execute("SELECT call_id, received_at FROM calls").fetchall())
    assert got == {r["incident_id"]: datetime.strptime(r["call_timestamp"], "%Y/%m/%d %H:%M:%S+00")
                   .replace(tzinfo=UTC) for r in rows}

    sql = ("SELECT received_at, received_local, call_type, priority, area, origin, responder, "
           "lat, lon FROM calls WHERE call_id = ?")
    raw = by_key(rows, "incident_id")
    # +00: a UTC instant; Detroit wall clock is EDT (UTC-4) in September.
    assert (raw["201626400002"]["call_timestamp"], raw["201626400002"]["category"]) == (
        "2016/09/20 09:36:12+00", "DISTURB ")
    assert one(con, sql, ["201626400002"]) == (
        datetime(2016, 9, 20, 9, 36, 12, tzinfo=UTC), datetime(2016, 9, 20, 5, 36, 12),
        "DISTURB", "3", "910A", "911", "police", 42.4083576622369, -82.9869617954524)
    assert raw["201626400032"]["precinct_sca"] == "76A "
    assert one(con, sql, ["201626400032"])[:5] == (
        datetime(2016, 9, 20, 9, 55, 59, tzinfo=UTC), datetime(2016, 9, 20, 5, 55, 59),
        "UNKPROB", "2", "76A")
    # An officer-initiated call and a call with a blank precinct ('    ').
    oi = next(x for x in rows if x["officerinitiated"] == "Yes")
    assert one(con, sql, [oi["incident_id"]])[5] == "officer_initiated"
    assert one(con, sql, [oi["incident_id"]])[0] == datetime.strptime(
        oi["call_timestamp"] + "00", "%Y/%m/%d %H:%M:%S%z")
    nb = next(x for x in rows if x["precinct_sca"] == "    ")
    assert one(con, sql, [nb["incident_id"]])[4] is None


# --------------------------------------------------------------------------------------------
# Seattle (calls; Call Type is the origin)
# --------------------------------------------------------------------------------------------

SEA = "seattle_spd_calldata/db_call_data_2018-2023.csv"
SEA_TZ = "America/Los_Angeles"
SEA_FMT = "%m/%d/%Y %I:%M:%S %p"


def test_seattle(con, realdata):
    data = (realdata / SEA).read_bytes()
    assert not data.endswith(b"\n")  # the last row has no line ending
    header, rows = read_rows(realdata / SEA)
    assert len(header) == 13 and len(rows) == 222
    ids = {r["CAD Event Number"] for r in rows}
    assert len(ids) == 222
    origins = Counter(r["Call Type"] for r in rows)
    assert origins == {"911": 107, "TELEPHONE OTHER, NOT 911": 66,
                       "ALARM CALL (NOT POLICE ALARM)": 36, "ONVIEW": 13}
    no_arrival = sum(blank(r["Arrived Time"]) for r in rows)
    assert no_arrival == 36

    r = imp(con, realdata / SEA, "calls", "seattle_spd.toml", "Seattle")
    assert r.rows_read == 222 and r.rows_inserted == 222 and r.rows_rejected == 0
    assert scalar(con, "SELECT count(DISTINCT call_id) FROM calls") == 222
    assert {x[0] for x in con.execute("SELECT call_id FROM calls").fetchall()} == ids
    assert dict(con.execute("SELECT origin, count(*) FROM calls GROUP BY 1").fetchall()) == {
        "911": 107, "officer_initiated": 13, "non_emergency": 66, "other": 36}
    assert dict(con.execute("SELECT origin_raw, origin FROM calls GROUP BY ALL").fetchall()) == {
        "911": "911", "ONVIEW": "officer_initiated", "TELEPHONE OTHER, NOT 911": "non_emergency",
        "ALARM CALL (NOT POLICE ALARM)": "other"}
    assert scalar(con, "SELECT count(*) FROM calls WHERE arrived_at IS NULL") == no_arrival
    assert dict(con.execute("SELECT call_type, count(*) FROM calls GROUP BY 1").fetchall()) == \
        Counter(r["Initial Call Type"] for r in rows)
    assert dict(con.execute("SELECT call_type_final, count(*) FROM calls GROUP BY 1")
                .fetchall()) == Counter(r["Final Call Type"] for r in rows)
    # Every received time, against zoneinfo.
    got = dict(con.execute("SELECT call_id, received_at FROM calls").fetchall())
    assert got == {r["CAD Event Number"]: utc(r["Original Time Queued"], SEA_FMT, SEA_TZ)
                   for r in rows}

    sql = ("SELECT received_at, arrived_at, received_local, call_type, call_type_final, origin, "
           "priority, disposition, area FROM calls WHERE call_id = ?")
    raw = by_key(rows, "CAD Event Number")
    # 6:08:26 PM PDT on 4 Nov 2023 (the day before DST ended) = 01:08:26 UTC on 5 Nov.
    assert raw["2023000319821"]["Original Time Queued"] == "11/04/2023 6:08:26 PM"
    assert one(con, sql, ["2023000319821"]) == (
        datetime(2023, 11, 5, 1, 8, 26, tzinfo=UTC), datetime(2023, 11, 5, 1, 51, 6, tzinfo=UTC),
        datetime(2023, 11, 4, 18, 8, 26), "BURN - RECKLESS BURNING",
        "--SUSPICIOUS CIRCUM. - SUSPICIOUS PERSON", "911", "2",
        "UNABLE TO LOCATE INCIDENT OR COMPLAINANT", "C3")
    # ONVIEW, winter (PST = UTC-8).
    assert one(con, sql, ["2019000026022"]) == (
        datetime(2019, 1, 20, 15, 42, 4, tzinfo=UTC), datetime(2019, 1, 20, 15, 42, 4, tzinfo=UTC),
        datetime(2019, 1, 20, 7, 42, 4), "PREMISE CHECK, OFFICER INITIATED ONVIEW ONLY",
        "--PREMISE CHECKS - CRIME PREVENTION", "officer_initiated", "7", "ASSISTANCE RENDERED",
        "C3")
    # 12:03:35 AM is three minutes past midnight, not noon.
    assert raw["2019000287033"]["Original Time Queued"] == "08/04/2019 12:03:35 AM"
    assert one(con, sql, ["2019000287033"])[:3] == (
        datetime(2019, 8, 4, 7, 3, 35, tzinfo=UTC), datetime(2019, 8, 4, 7, 13, 32, tzinfo=UTC),
        datetime(2019, 8, 4, 0, 3, 35))
    # The last row, which has no line ending.
    assert raw["2023000067240"]["Call Type"] == "TELEPHONE OTHER, NOT 911"
    assert one(con, sql, ["2023000067240"])[5] == "non_emergency"


# --------------------------------------------------------------------------------------------
# Census cities (population)
# --------------------------------------------------------------------------------------------

CENSUS = "census_us_cities_race/us-cities-demographics.csv"
RACE_CODES = {"Hispanic or Latino": "hispanic_latino", "White": "white",
              "Black or African-American": "black", "Asian": "asian",
              "American Indian and Alaska Native": "aian"}


def test_census_population(con, realdata):
    header, rows = read_rows(realdata / CENSUS, delimiter=";")
    assert len(header) == 12 and len(rows) == 2891
    cities = {(r["City"], r["State"]) for r in rows}
    assert len(cities) == 596
    assert len({(r["City"], r["State"], r["Race"]) for r in rows}) == 2891  # no duplicate keys
    by_group = Counter(RACE_CODES[r["Race"]] for r in rows)
    total = sum(int(r["Count"]) for r in rows)

    r = imp(con, realdata / CENSUS, "population", "census_us_cities_race.toml", "US cities")
    assert r.status == "committed"
    assert r.rows_read == 2891 and r.rows_inserted == 2891 and r.rows_rejected == 0
    assert scalar(con, "SELECT count(*) FROM population") == 2891
    assert scalar(con, "SELECT count(DISTINCT population_key) FROM population") == 2891
    assert scalar(con, "SELECT count(DISTINCT geography) FROM population") == 596
    assert scalar(con, "SELECT sum(population) FROM population") == total
    assert dict(con.execute('SELECT "group", count(*) FROM population GROUP BY 1').fetchall()) \
        == dict(by_group)
    assert con.execute("SELECT DISTINCT dimension, source FROM population").fetchall() == [
        ("race_ethnicity", "ACS 2015 via OpenDataSoft")]
    # Row 2: Newark;New Jersey;...;White;76402
    assert (rows[0]["City"], rows[0]["State"], rows[0]["Race"], rows[0]["Count"]) == (
        "Newark", "New Jersey", "White", "76402")
    assert scalar(con, "SELECT population FROM population WHERE geography = 'Newark, New Jersey'"
                  " AND \"group\" = 'white'") == 76402
    # Non-ASCII city names survive.
    may = {r["Race"]: int(r["Count"]) for r in rows if r["City"] == "Mayag\u00fcez"}
    got = dict(con.execute("SELECT \"group\", population FROM population WHERE geography = ?",
                           ["Mayag\u00fcez, Puerto Rico"]).fetchall())
    assert got == {RACE_CODES[k]: v for k, v in may.items()}


# --------------------------------------------------------------------------------------------
# Every export: importing the same file twice changes nothing the second time
# --------------------------------------------------------------------------------------------

EXPORTS = [
    (MCSLC_CSV, "responses", "mcslc.toml"),
    (MCSLC_XLSX, "responses", "mcslc_xlsx.toml"),
    (SD, "calls", "sandiego_sdpd.toml"),
    (MKE, "calls", "milwaukee_mpd.toml"),
    (MONT, "calls", "montgomery_pa.toml"),
    (DET, "calls", "detroit_dpd.toml"),
    (SEA, "calls", "seattle_spd.toml"),
    (CENSUS, "population", "census_us_cities_race.toml"),
]


@pytest.mark.slow  # over 10 s: left out of make test-fast
@pytest.mark.parametrize("path,kind,profile", EXPORTS, ids=[e[2][:-5] for e in EXPORTS])
def test_import_twice_changes_nothing(con, realdata, path, kind, profile):
    first = imp(con, realdata / path, kind, profile, "Twice")
    assert first.status == "committed" and first.rows_inserted > 0
    sha = hashlib.sha256((realdata / path).read_bytes()).hexdigest()
    assert con.execute("SELECT import_id, file_sha256, status FROM imports").fetchall() == [
        (first.import_id, sha, "committed")]
    before = table_contents(con)
    second = imp(con, realdata / path, kind, profile, "Twice")
    assert second.status == "already_imported"
    assert second.previous_import == first.import_id
    assert "already imported" in second.summary_lines()[0]
    assert table_contents(con) == before


# --------------------------------------------------------------------------------------------
# The command line, on a real file
# --------------------------------------------------------------------------------------------

def test_cli_import_real_file(realdata, tmp_path):
    from click.testing import CliRunner

    from data.cli import cli
    from data.connection import connect

    _, rows = read_rows(realdata / SEA)
    db = tmp_path / "cli.duckdb"
    res = CliRunner().invoke(cli, ["import", str(realdata / SEA), "--kind", "calls",
                                   "--jurisdiction", "Seattle", "--profile",
                                   str(PROFILES / "seattle_spd.toml"), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "db_call_data_2018-2023.csv as calls for Seattle" in res.output
    assert f"rows read {len(rows)}; inserted {len(rows)};" in res.output
    assert "rejected 0" in res.output
    con = connect(db)
    try:
        assert scalar(con, "SELECT count(*) FROM calls WHERE jurisdiction = 'Seattle'") == 222
        assert scalar(con, "SELECT time_zone FROM jurisdictions") == SEA_TZ
    finally:
        con.close()
    # A second run reports the earlier import and still exits 0.
    again = CliRunner().invoke(cli, ["import", str(realdata / SEA), "--kind", "calls",
                                     "--jurisdiction", "Seattle", "--profile",
                                     str(PROFILES / "seattle_spd.toml"), "--db", str(db)])
    assert again.exit_code == 0, again.output
    assert "already imported" in again.output


def test_mcslc_metrics_report(mcslc, db_path):
    """`python -m metrics report --json` on the imported export: arrests 16 of 4,682, ED 652."""
    import json

    from click.testing import CliRunner

    from metrics.cli import cli

    con, _ = mcslc
    con.close()  # the command opens the file itself
    out = CliRunner().invoke(cli, ["report", "--db", str(db_path), "--metric", "D3", "--metric",
                                   "D5ED", "--jurisdiction", "Lane County", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["metric"]: r for r in json.loads(out.output)["rows"]}
    assert (rows["D3"]["numerator"], rows["D3"]["denominator"]) == (16, 4682)
    assert rows["D5ED"]["numerator"] == 652
    assert rows["D3"]["reliability"] == "insufficient"  # 16 events: too few for a stable rate
