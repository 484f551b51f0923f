"""The import pipeline on small exports written by the tests, with DOMAIN.md §8's quirks."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from data import ImportRefused, import_file, list_imports, parse_profile, undo_import
from data.errors import UndoRefused
from data.importer import find_stored_profile

from conftest import table_contents

CALLS_PROFILE = """
kind = "calls"
[columns]
call_id = "Call No"
received_at = "Received"
call_type = "Type"
arrived_at = "Arrived"
cleared_at = "Cleared"
[options]
timezone = "America/Chicago"
"""


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def _import(con, tmp_path, text, profile=CALLS_PROFILE, name="calls.csv", **kw):
    return import_file(con, _write(tmp_path, name, text), kind=kw.pop("kind", "calls"),
                       jurisdiction=kw.pop("jurisdiction", "Springfield"),
                       profile=parse_profile(profile), **kw)


def test_unit_rows_collapse_to_one_call(con, tmp_path):
    profile = CALLS_PROFILE + "unit_rows = true\n"
    text = ("Call No,Received,Type,Arrived,Cleared\n"
            "A1,2024-05-01 10:00,WELFARE,2024-05-01 10:20,2024-05-01 10:50\n"
            "A1,2024-05-01 10:00,WELFARE,2024-05-01 10:12,2024-05-01 11:30\n"
            "A1,2024-05-01 10:00,WELFARE,,2024-05-01 10:40\n"
            "B2,2024-05-01 11:00,NOISE,2024-05-01 11:30,2024-05-01 11:45\n")
    r = _import(con, tmp_path, text, profile)
    assert (r.rows_read, r.records, r.unit_rows, r.rows_merged) == (4, 2, (4, 2), 2)
    assert "4 rows became 2 calls" in "\n".join(r.summary_lines())
    arrived, cleared = con.execute("SELECT arrived_at, cleared_at FROM calls WHERE call_id = 'A1'"
                                   ).fetchone()
    assert arrived == _utc(2024, 5, 1, 15, 12)      # earliest arrival (CDT = UTC-5)
    assert cleared == _utc(2024, 5, 1, 16, 30)      # latest clear


@pytest.mark.parametrize("given_format", [False, True], ids=["detected", "given format"])
def test_values_lose_surrounding_spaces_and_blank_ones_are_missing(con, tmp_path, given_format):
    # Padded fields, as fixed-width CAD exports write them. Only values that start or end
    # with a space go through trim(); times are parsed untrimmed and only the ones that fail
    # are looked at again, with or without a format in the profile: the result must be the
    # same for every shape.
    profile = CALLS_PROFILE + ('timestamp_format = "%Y-%m-%d %H:%M"\n' if given_format else "")
    text = ("Call No,Received,Type,Arrived,Cleared\n"
            '" A1 ",2024-05-01 10:00,"  WELFARE CHECK",2024-05-01 10:20, \n'
            'A2 , 2024-05-01 11:00 ,NOISE  ,   ,2024-05-01 11:45\n'
            'A3,2024-05-01 12:00,"A  B",,\n'
            'A4,2024-05-01 13:00,"   ",,\n'
            'A5,  2024-05-01 14:00,EDP,"  not a time ",\n')
    r = _import(con, tmp_path, text, profile)
    # The one bad time is rejected with its value trimmed; spaces alone are blanks.
    assert (r.rows_read, r.rows_inserted, r.rows_rejected) == (5, 4, 1)
    assert [(x["file_row"], x["column"]) for x in r.rejects_preview] == [(6, "Arrived")]
    assert "'not a time'" in r.rejects_preview[0]["reason"]
    rows = con.execute("SELECT call_id, call_type, arrived_at IS NULL, cleared_at IS NULL, "
                       "received_at FROM calls ORDER BY call_id").fetchall()
    assert rows == [("A1", "WELFARE CHECK", False, True, _utc(2024, 5, 1, 15)),
                    ("A2", "NOISE", True, False, _utc(2024, 5, 1, 16)),
                    ("A3", "A  B", True, True, _utc(2024, 5, 1, 17)),   # inner spaces kept
                    ("A4", None, True, True, _utc(2024, 5, 1, 18))]     # only spaces: missing


def test_overlapping_export_updates_and_undo_restores_exactly(con, tmp_path):
    first = ("Call No,Received,Type,Arrived,Cleared\n"
             "A1,2024-05-01 10:00,WELFARE,,\n"
             "A2,2024-05-01 11:00,NOISE,,\n")
    r1 = _import(con, tmp_path, first, name="may.csv")
    before = table_contents(con)
    second = ("Call No,Received,Type,Arrived,Cleared\n"
              "A2,2024-05-01 11:00,NOISE,2024-05-01 11:20,\n"     # updated
              "A1,2024-05-01 10:00,WELFARE,,\n"                    # unchanged
              "A3,2024-05-02 09:00,EDP,,\n")                       # new
    r2 = _import(con, tmp_path, second, name="may_v2.csv")
    assert (r2.rows_inserted, r2.rows_updated, r2.rows_unchanged) == (1, 1, 1)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 3
    assert con.execute("SELECT arrived_at FROM calls WHERE call_id = 'A2'").fetchone()[0] \
        == _utc(2024, 5, 1, 16, 20)
    with pytest.raises(UndoRefused, match=f"undo #{r2.import_id} first"):
        undo_import(con, r1.import_id)
    out = undo_import(con, r2.import_id)
    assert (out["rows_removed"], out["rows_restored"]) == (2, 1)
    after = table_contents(con)
    for table in ("calls", "calls_replaced", "rejects", "row_warnings", "jurisdictions"):
        assert after[table] == before[table], table
    assert [i["status"] for i in list_imports(con)] == ["committed", "undone"]
    with pytest.raises(UndoRefused, match="already undone"):
        undo_import(con, r2.import_id)


def test_same_file_twice_changes_nothing(con, tmp_path):
    text = "Call No,Received,Type,Arrived,Cleared\nA1,2024-05-01 10:00,WELFARE,,\n"
    r1 = _import(con, tmp_path, text)
    before = table_contents(con)
    r2 = _import(con, tmp_path, text)
    assert r2.status == "already_imported" and r2.previous_import == r1.import_id
    assert "nothing changed" in r2.summary_lines()[0]
    assert table_contents(con) == before


def test_dry_run_writes_nothing(con, tmp_path):
    before = table_contents(con)
    r = _import(con, tmp_path, "Call No,Received,Type,Arrived,Cleared\nA1,2024-05-01 10:00,X,,\n",
                dry_run=True)
    assert r.status == "dry_run" and r.rows_inserted == 1
    assert table_contents(con) == before


def test_date_and_time_in_two_columns_and_two_formats_in_one(con, tmp_path):
    profile = """
kind = "calls"
[columns]
call_id = "ID"
received_at = ["Date", "Time"]
call_type = "Type"
cleared_at = "Closed"
[options]
timezone = "America/New_York"
"""
    text = ("ID;Date;Time;Type;Closed\n"
            "1;03/14/2024;1:05 PM;EDP;2024-03-14T18:30:00Z\n"
            "2;03/15/2024;23:10;EDP;03/16/2024 00:10\n")
    r = _import(con, tmp_path, text, profile)
    assert r.rows_rejected == 0
    rows = dict(con.execute("SELECT call_id, received_at FROM calls").fetchall())
    assert rows["1"] == _utc(2024, 3, 14, 17, 5)      # 1:05 PM EDT
    assert rows["2"] == _utc(2024, 3, 16, 3, 10)      # 23:10 EDT
    closed = dict(con.execute("SELECT call_id, cleared_at FROM calls").fetchall())
    assert closed["1"] == _utc(2024, 3, 14, 18, 30)   # Z: already an instant
    assert closed["2"] == _utc(2024, 3, 16, 4, 10)    # second format in the same column


def test_day_first_decided_by_the_data(con, tmp_path):
    text = ("Call No,Received,Type,Arrived,Cleared\n"
            "1,05/04/2024 10:00,EDP,,\n"
            "2,25/04/2024 10:00,EDP,,\n")
    _import(con, tmp_path, text)
    rows = dict(con.execute("SELECT call_id, received_local FROM calls").fetchall())
    assert rows["1"] == datetime(2024, 4, 5, 10, 0)   # 25/04 proves day-first for the file


def test_values_standardised_with_original_kept(con, tmp_path):
    profile = """
kind = "responses"
[columns]
response_id = "Id"
requested_at = "Requested"
race_ethnicity = "Race"
police_backup = "Backup"
person_key = "Client"
[options]
timezone = "UTC"
[values.race_ethnicity]
"Afr. American" = "black"
"""
    text = ("Id,Requested,Race,Backup,Client\n"
            "1,2024-01-01 10:00,White,X,Jane Doe 1970\n"
            "2,2024-01-01 11:00,afr.  american,,John Roe 1980\n"
            "3,2024-01-01 12:00,Klingon,,Jane Doe 1970\n")
    r = _import(con, tmp_path, text, profile, kind="responses")
    rows = con.execute("SELECT response_id, race_ethnicity, race_ethnicity_raw, police_backup, "
                       "person_key FROM responses ORDER BY 1").fetchall()
    assert [x[1:4] for x in rows] == [("white", "White", True),
                                      ("black", "afr.  american", False),   # X marks: blank = no
                                      ("unknown", "Klingon", False)]
    assert rows[0][4] == rows[2][4] != rows[1][4]      # same person, same key
    assert "Jane" not in rows[0][4] and len(rows[0][4]) == 20
    unrecognised = [m for m in r.value_mappings if m["how"] == "not recognised"]
    assert unrecognised == [{"field": "race_ethnicity", "raw": "Klingon", "code": "unknown",
                             "how": "not recognised", "rows": 1}]


def test_fingerprint_ids_merge_identical_rows(con, tmp_path):
    profile = """
kind = "calls"
[columns]
received_at = "When"
call_type = "What"
[options]
timezone = "UTC"
fingerprint_ids = true
"""
    text = ("When,What\n2024-01-01 10:00,EDP\n2024-01-01 10:00,EDP\n2024-01-01 10:05,EDP\n")
    r = _import(con, tmp_path, text, profile)
    assert (r.records, r.fingerprint_merged) == (2, 1)
    assert "1 identical rows merged" in "\n".join(r.summary_lines())


def test_suggested_profile_is_saved_and_reused(con, tmp_path):
    profiles = tmp_path / "profiles"
    text = "Call Number,Call Timestamp,Call Type\n1,2024-01-01 10:00:00,EDP\n"
    path = _write(tmp_path, "export.csv", text)
    r = import_file(con, path, kind="calls", jurisdiction="Springfield", profile_dir=profiles,
                    timezone_name="UTC")
    assert r.profile_source == "suggested" and r.profile_path
    stored = find_stored_profile(profiles, "calls", ["Call Number", "Call Timestamp",
                                                     "Call Type"], "Springfield")
    assert stored is not None
    text2 = "Call Number,Call Timestamp,Call Type\n2,2024-02-01 10:00:00,EDP\n"
    r2 = import_file(con, _write(tmp_path, "export2.csv", text2), kind="calls",
                     jurisdiction="Springfield", profile_dir=profiles)
    assert r2.profile_source == "stored" and r2.rows_inserted == 1


def test_warnings_are_flags_not_fixes(con, tmp_path):
    text = ("Call No,Received,Type,Arrived,Cleared\n"
            "1,2024-05-01 10:00,EDP,2024-05-01 0:00,2024-05-01 11:00\n"   # placeholder, order
            "2,,EDP,,\n"                                                   # missing time: kept
            "3,2005-05-01 10:00,EDP,,\n"                                  # implausible
            "4,2024-05-02 10:00,EDP,,\n")
    r = _import(con, tmp_path, text)
    assert r.rows_inserted == 4 and r.rows_rejected == 0
    assert r.warnings_by_type == {"time_placeholder": 1, "out_of_order": 1, "missing_time": 1,
                                  "implausible_date": 1}
    kept = con.execute("SELECT arrived_at FROM calls WHERE call_id = '1'").fetchone()[0]
    assert kept == _utc(2024, 5, 1, 5, 0)   # the 0:00 value is kept as it was, not "fixed"


def test_a_large_file_estimates_its_date_range_from_every_kth_row(con, tmp_path, monkeypatch):
    # 40 calls a day apart in 2024 and one from 2005; with the range estimated from every
    # 4th row (as every 25th of a 5-million-row file is), the 2005 call is still the only one
    # flagged, and whether it falls in the sample or not does not matter.
    from data.importer import validate

    monkeypatch.setattr(validate, "_RANGE_SAMPLE_ROWS", 10)
    rows = [f"{i},2024-03-{1 + i % 28:02d} 10:00,EDP,," for i in range(1, 41)]
    rows.insert(20, "999,2005-05-01 10:00,EDP,,")
    r = _import(con, tmp_path, "Call No,Received,Type,Arrived,Cleared\n" + "\n".join(rows) + "\n")
    assert r.rows_inserted == 41
    assert r.warnings_by_type == {"implausible_date": 1}
    assert con.execute("SELECT record_id FROM row_warnings WHERE warning = 'implausible_date'"
                       ).fetchall() == [("999",)]


def test_reject_share_limit_refuses_the_file(con, tmp_path):
    text = "Call No,Received,Type,Arrived,Cleared\n" + "".join(
        f"{i},not a date {i},EDP,,\n" for i in range(6)) + "9,2024-01-01 10:00,EDP,,\n"
    with pytest.raises(ImportRefused, match="6 of 7 rows would be rejected"):
        _import(con, tmp_path, text)


def test_response_time_follows_a_call_imported_later(con, tmp_path):
    from metrics import Filters, MetricRequest, compute

    responses = """
kind = "responses"
[columns]
response_id = "Id"
call_id = "Call"
requested_at = "Requested"
arrived_at = "Arrived"
[options]
timezone = "America/Chicago"
"""
    _import(con, tmp_path, "Id,Call,Requested,Arrived\nR1,A1,2024-05-01 10:05,2024-05-01 10:20\n",
            responses, kind="responses", name="team.csv")
    c2 = compute(con, MetricRequest(("C2",), (), Filters()))[0]
    assert c2.median == pytest.approx(15.0)          # from the team's own request time
    r = _import(con, tmp_path, "Call No,Received,Type,Arrived,Cleared\n"
                "A1,2024-05-01 10:00,EDP,,\n", name="cad.csv")
    c2 = compute(con, MetricRequest(("C2",), (), Filters()))[0]
    assert c2.median == pytest.approx(20.0)          # now from the linked call's receipt
    undo_import(con, r.import_id)
    assert compute(con, MetricRequest(("C2",), (), Filters()))[0].median == pytest.approx(15.0)


RESPONSES_PROFILE = """
kind = "responses"
[columns]
response_id = "Run"
requested_at = "Requested"
contact_made = "Contact"
[options]
timezone = "America/Chicago"
"""
REFERRALS_PROFILE = """
kind = "referrals"
[columns]
referral_id = "Ref"
response_id = "Run"
referred_at = "Referred"
[options]
timezone = "America/Chicago"
"""


def test_a_response_knows_whether_it_had_a_referral_through_imports_and_undo(con, tmp_path):
    """``responses.has_referral`` (E1's flag, stored so no query joins all the referrals)
    follows every import and undo of responses and referrals, in either order."""
    def flags():
        return dict(con.execute("SELECT response_id, has_referral FROM responses").fetchall())

    def e1():
        from metrics import MetricRequest, compute
        (row,) = compute(con, MetricRequest(("E1",)))
        return row.numerator, row.denominator

    # Referrals first: R2's referral names a response not imported yet.
    refs = _import(con, tmp_path, "Ref,Run,Referred\nF1,R2,2024-05-01 12:00\n",
                   REFERRALS_PROFILE, name="refs.csv", kind="referrals")
    runs = ("Run,Requested,Contact\nR1,2024-05-01 10:00,yes\nR2,2024-05-01 11:00,yes\n"
            "R3,2024-05-01 12:00,no\n")
    first = _import(con, tmp_path, runs, RESPONSES_PROFILE, name="runs.csv", kind="responses")
    assert flags() == {"R1": False, "R2": True, "R3": False}
    assert e1() == (1, 2)  # one of two contacts referred
    more = _import(con, tmp_path, "Ref,Run,Referred\nF2,R1,2024-05-01 10:30\n"
                   "F3,R1,2024-05-01 10:40\n", REFERRALS_PROFILE, name="refs2.csv",
                   kind="referrals")
    assert flags() == {"R1": True, "R2": True, "R3": False}
    assert e1() == (2, 2)
    # The same responses again, in a newer export: the stored links are not imported values,
    # so nothing counts as changed.
    again = _import(con, tmp_path, runs + "R4,2024-05-01 13:00,yes\n", RESPONSES_PROFILE,
                    name="runs2.csv", kind="responses")
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (1, 0, 3)
    assert flags() == {"R1": True, "R2": True, "R3": False, "R4": False}
    undo_import(con, again.import_id)
    undo_import(con, more.import_id)
    assert flags() == {"R1": False, "R2": True, "R3": False}
    undo_import(con, refs.import_id)
    assert flags() == {"R1": False, "R2": False, "R3": False}
    assert first.rows_inserted == 3


def test_record_identifiers_are_stored_uncompressed(con, tmp_path):
    # A dictionary cannot fit nearly distinct identifiers, and DuckDB's attempt at one was the
    # costliest column of writing a large import (data/schema.py, UNCOMPRESSED); other text
    # columns keep their compression.
    rows = "".join(f"CAD-2024-{i:06d},2024-05-01 10:00,WELFARE CHECK,,\n" for i in range(3000))
    _import(con, tmp_path, "Call No,Received,Type,Arrived,Cleared\n" + rows)
    con.execute("CHECKPOINT")
    compression = dict(con.execute(
        "SELECT column_name, any_value(compression) FROM pragma_storage_info('calls') "
        "WHERE column_name IN ('call_id', 'call_type') AND segment_type = 'VARCHAR' "
        "GROUP BY 1").fetchall())
    assert compression["call_id"] == "Uncompressed"
    assert compression["call_type"] != "Uncompressed"


# --------------------------------------------------------------------------------------------
# Saved profiles belong to a jurisdiction (issue 27)
# --------------------------------------------------------------------------------------------

_HEADERS = ["Call Number", "Call Timestamp", "Call Type"]


def _saved_by_springfield(con, tmp_path):
    profiles = tmp_path / "profiles"
    text = "Call Number,Call Timestamp,Call Type\n1,2024-01-01 10:00:00,EDP\n"
    import_file(con, _write(tmp_path, "export.csv", text), kind="calls",
                jurisdiction="Springfield", profile_dir=profiles, timezone_name="UTC",
                saved_by="ana@example.org")
    return profiles


def test_a_saved_profile_records_its_jurisdiction_and_who_saved_it(con, tmp_path):
    from data import load_profile

    path = find_stored_profile(_saved_by_springfield(con, tmp_path), "calls", _HEADERS,
                               "Springfield")
    saved = load_profile(path)
    assert (saved.jurisdiction, saved.saved_by) == ("Springfield", "ana@example.org")


def test_another_jurisdictions_profile_is_never_found_nor_applied(con, tmp_path):
    profiles = _saved_by_springfield(con, tmp_path)
    assert find_stored_profile(profiles, "calls", _HEADERS, "Shelbyville") is None
    text = "Call Number,Call Timestamp,Call Type\n9,2024-03-01 10:00:00,EDP\n"
    r = import_file(con, _write(tmp_path, "other.csv", text), kind="calls",
                    jurisdiction="Shelbyville", profile_dir=profiles, timezone_name="UTC",
                    dry_run=True)
    assert r.profile_source == "suggested"  # guessed from the headers, not Springfield's


def test_a_profile_copied_under_another_jurisdictions_name_is_refused(con, tmp_path):
    """The file name is not the owner when the profile says otherwise."""
    profiles = _saved_by_springfield(con, tmp_path)
    springfield = find_stored_profile(profiles, "calls", _HEADERS, "Springfield")
    springfield.rename(springfield.with_name(springfield.name.replace("springfield",
                                                                      "shelbyville")))
    assert find_stored_profile(profiles, "calls", _HEADERS, "Shelbyville") is None


def test_a_profile_saved_before_ownership_was_recorded_is_its_file_names_only(con, tmp_path):
    profiles = _saved_by_springfield(con, tmp_path)
    path = find_stored_profile(profiles, "calls", _HEADERS, "Springfield")
    path.write_text(path.read_text().split("[saved]")[0])  # as an earlier version wrote it
    assert find_stored_profile(profiles, "calls", _HEADERS, "Springfield") == path
    assert find_stored_profile(profiles, "calls", _HEADERS, "Shelbyville") is None
