"""A catalogue of bad inputs: each is refused with a named error that says what is wrong and
changes nothing; the awkward-but-valid ones import with the right values and row numbers.

Every input is generated here, into tmp_path. Each refused case first imports a small good calls
file (so the database is not empty), takes a digest of every table, tries the bad import, and
checks: the DataError subclass, that the message names the file and the problem, that it reads as
one plain paragraph (no traceback, no library error chain), that every table is unchanged, and
that no private copy is left in the staging folder.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import pty
import random
import re
import resource
import select
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from data.cli import cli
from data.connection import connect
from data.errors import (AmbiguousDates, DataError, ImportRefused, MappingError, ProfileError,
                         ReadError)
from data.importer import import_file
from data.profiles import parse_profile
from data.readers import MAX_COLUMNS, MAX_LINE_BYTES, SNIFF_BYTES

from conftest import ROOT, table_contents

JURISDICTION = "Springfield"
HEADER = ["Call ID", "Received", "Call Type", "Dispatched", "Arrived"]
CALLS_TOML = """\
kind = "calls"

[columns]
call_id = "Call ID"
received_at = "Received"
call_type = "Call Type"
dispatched_at = "Dispatched"
arrived_at = "Arrived"

[options]
timezone = "America/Chicago"
"""
SQL_HEADER_1 = "call_id; DROP TABLE calls;--"
SQL_HEADER_2 = "\"); SELECT * FROM read_csv('/etc/passwd')--"

# Text that means a message leaked internals instead of saying what is wrong.
_INTERNALS = ("Traceback", "Exception", "Invalid Input Error", "Conversion Error", "Context:",
              "calamine", "_duckdb", "Possible fixes")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def csv_text(rows, delimiter=",", newline="\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buf.getvalue()


def calls_csv(rows, header=HEADER, **kw) -> str:
    return csv_text([header, *rows], **kw)


def good_rows(prefix="C", n=3):
    return [[f"{prefix}{i}", f"2024-03-0{i} 10:00", "WELFARE CHECK", f"2024-03-0{i} 10:03",
             f"2024-03-0{i} 10:20"] for i in range(1, n + 1)]


def calls_profile(extra_options: str = "", replace: dict | None = None, name="calls.toml"):
    text = CALLS_TOML
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    return parse_profile(text + extra_options, name=name)


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def write_xlsx(path: Path, rows, sheet="Calls") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def run_import(con, path, **kw):
    kw.setdefault("kind", "calls")
    kw.setdefault("jurisdiction", JURISDICTION)
    if "profile" not in kw:
        kw["profile"] = calls_profile()
    return import_file(con, path, **kw)


def plain_message_problems(msg: str) -> list[str]:
    """A user-facing message is one paragraph of plain text, without traceback or internals."""
    problems = []
    if "\n" in msg.strip():
        problems.append("message spans several lines (should be one paragraph)")
    if re.search(r'File ".*", line \d+', msg):
        problems.append("message holds a traceback frame")
    for word in _INTERNALS:
        if word in msg:
            problems.append(f"message leaks internal text {word!r}")
    return problems


def missing_words(msg: str, words) -> list[str]:
    """Each item of ``words`` is a key word, or a tuple of alternatives, found
    case-insensitively."""
    low = msg.lower()
    out = []
    for w in words:
        alts = w if isinstance(w, tuple) else (w,)
        if not any(a.lower() in low for a in alts):
            out.append(" or ".join(repr(a) for a in alts))
    return out


def staging_leftovers(tmp_path: Path) -> list[str]:
    staging = tmp_path / ".staging"
    return sorted(p.name for p in staging.iterdir()) if staging.is_dir() else []


@pytest.fixture
def seeded(con, tmp_path):
    """The `con` database after one good import of three calls."""
    good = write(tmp_path / "seed" / "good_calls.csv", calls_csv(good_rows("G")))
    result = run_import(con, good)
    assert result.status == "committed" and result.rows_inserted == 3
    return con


# --------------------------------------------------------------------------------------------
# The catalogue of refused inputs
# --------------------------------------------------------------------------------------------

_DEFAULT = object()


@dataclass
class Bad:
    """A refused import: the file, how it is imported, and what the error must say."""

    path: Path
    error: type[DataError] | tuple[type[DataError], ...]
    words: list
    names: object = _DEFAULT  # what the message must name: default the file's name
    kind: str = "calls"
    jurisdiction: str = JURISDICTION
    profile: object = _DEFAULT  # default: the calls profile; None: no profile (suggestions)
    timezone_name: str | None = None


CASES = {}


def case(fn=None, *, marks=()):
    def register(f):
        CASES[f.__name__.removeprefix("case_")] = (f, marks)
        return f
    return register(fn) if fn else register


# -- Not a table at all ------------------------------------------------------------------------

@case
def case_empty_file(d):
    return Bad(write(d / "calls.csv", b""), ReadError, ["empty", "0 bytes"])


@case
def case_header_only(d):
    return Bad(write(d / "calls.csv", calls_csv([])), ImportRefused, ["no data rows"])


@case
def case_whitespace_only(d):
    return Bad(write(d / "calls.csv", "  \n\t\n   \r\n"), ReadError,
               [("no text", "empty", "blank")])


@case
def case_random_bytes(d):
    rnd = random.Random(7)
    data = bytes(rnd.getrandbits(8) for _ in range(8192))
    return Bad(write(d / "calls.csv", data), ReadError, ["binary"])


def _png() -> bytes:
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    rnd = random.Random(3)
    pixels = zlib.compress(bytes(rnd.getrandbits(8) for _ in range(16 * 49)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


@case
def case_png_image(d):
    return Bad(write(d / "calls.csv", _png()), ReadError, ["binary"])


@case
def case_pdf_document(d):
    stream = zlib.compress(b"BT /F1 24 Tf 100 700 Td (Calls for service 2024) Tj ET" * 20)
    pdf = (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
           b"4 0 obj\n<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\n"
           b"stream\n" + stream + b"\nendstream\nendobj\nxref\n0 5\n0000000000 65535 f \n"
           b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n9\n%%EOF\n")
    return Bad(write(d / "calls_report.pdf", pdf), ReadError, [("binary", "table export")])


@case
def case_html_page_saved_as_csv(d):
    html = ("<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
            "<body><p>Your session expired. Please sign in again.</p></body></html>\n")
    return Bad(write(d / "calls.csv", html), ReadError, [("delimiter", "table export")])


@case
def case_json_instead_of_csv(d):
    text = json.dumps([{"Call ID": "J1", "Received": "2024-03-01 10:00"},
                       {"Call ID": "J2", "Received": "2024-03-01 11:00"}], indent=2)
    return Bad(write(d / "calls.csv", text), ReadError, [("delimiter", "table export")])


@case
def case_fixed_width_text_report(d):
    text = ("Call ID   Received          Call Type\n"
            "F1        2024-03-01 10:00  WELFARE\n"
            "F2        2024-03-01 11:00  INTOX\n")
    return Bad(write(d / "calls.txt", text), ReadError, ["delimiter"])


@case
def case_nonexistent_file(d):
    return Bad(d / "no_such_export.csv", ReadError, ["no such file"])


@case
def case_nul_byte_in_a_value(d):
    rows = good_rows("N")
    rows[1][2] = "WEL\x00FARE"
    return Bad(write(d / "calls.csv", calls_csv(rows)), ReadError, [("NUL", "binary")])


# -- Broken CSV structure ----------------------------------------------------------------------

@case
def case_header_comma_rows_semicolon(d):
    # The header line was written with commas, the rows by a spreadsheet set to semicolons:
    # every row is one field, so none has the header's columns.
    rows = csv_text(good_rows("S"), delimiter=";")
    return Bad(write(d / "calls.csv", ",".join(HEADER) + "\n" + rows), (ReadError, ImportRefused),
               ["column"])


@case
def case_2000_columns(d):
    header = [f"col{i}" for i in range(2000)]
    return Bad(write(d / "calls.csv", csv_text([header, ["x"] * 2000])), ReadError,
               ["2,000 columns", str(MAX_COLUMNS)])


@case
def case_line_beyond_max_line_bytes(d):
    rows = good_rows("L")
    rows[1][2] = "W" * (MAX_LINE_BYTES + 10_000)  # row 3 (file line 3)
    return Bad(write(d / "calls.csv", calls_csv(rows)), ReadError,
               ["line 3", f"{MAX_LINE_BYTES:,} bytes"])


@case
def case_row_with_more_fields_than_header(d):
    text = calls_csv(good_rows("M")).splitlines(keepends=True)
    text[2] = text[2].rstrip("\n") + ",extra,fields\n"  # file line 3
    return Bad(write(d / "calls.csv", "".join(text)), ReadError, ["line 3", "columns"])


@case
def case_unclosed_quote(d):
    text = (",".join(HEADER) + "\n"
            "Q1,2024-03-01 10:00,WELFARE,2024-03-01 10:03,2024-03-01 10:20\n"
            'Q2,2024-03-02 10:00,"WELFARE CHECK,2024-03-02 10:03,2024-03-02 10:20\n'
            "Q3,2024-03-03 10:00,INTOX,2024-03-03 10:03,2024-03-03 10:20\n")
    return Bad(write(d / "calls.csv", text), ReadError, ["quote", "line 3"])


@case
def case_empty_header_row(d):
    return Bad(write(d / "calls.csv", ",,,,\n" + csv_text(good_rows("E"))), ReadError,
               ["first row", "column names"])


@case
def case_rows_of_delimiters_only(d):
    return Bad(write(d / "calls.csv", calls_csv([[""] * 5] * 3)), ImportRefused,
               ["3 of 3", "blank identifier", "'Call ID'"])


@case
def case_invalid_utf8_past_first_megabyte(d):
    path = d / "calls.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write((",".join(HEADER) + "\n").encode())
        n = 0
        while f.tell() < SNIFF_BYTES + 100_000:
            n += 1
            f.write(f"V{n},2024-03-01 10:00,WELFARE CHECK,,\n".encode())
        f.write("V_last,2024-03-01 10:00,Caf\u00e9,,\n".encode("cp1252"))
    return Bad(path, ReadError, [f"line {n + 2}", ("UTF-8", "encoding")])


# -- Compressed and spreadsheet files ----------------------------------------------------------

def _big_calls_bytes(n=60_000) -> bytes:
    rows = [f"Z{i},2024-03-01 10:00,WELFARE CHECK NUMBER {i * 7919 % 1000003},,\n"
            for i in range(n)]
    return (",".join(HEADER) + "\n" + "".join(rows)).encode()


@case
def case_truncated_gzip_small(d):
    gz = gzip.compress(calls_csv(good_rows("Z", 9)).encode())
    return Bad(write(d / "calls.csv.gz", gz[: len(gz) // 2]), ReadError,
               [("decompress", "truncated", "incomplete", "gzip")])


@case
def case_truncated_gzip_beyond_first_megabyte(d):
    # The first megabyte decompresses; the break comes while the copy is transcoded.
    gz = gzip.compress(_big_calls_bytes())
    return Bad(write(d / "calls.csv.gz", gz[: len(gz) * 3 // 4]), ReadError,
               [("decompress", "truncated", "incomplete", "gzip")])


@case
def case_corrupt_gzip_crc(d):
    gz = bytearray(gzip.compress(_big_calls_bytes()))
    gz[-6] ^= 0xFF  # the CRC-32 in the trailer
    return Bad(write(d / "calls.csv.gz", bytes(gz)), ReadError,
               [("decompress", "corrupt", "damaged", "crc", "gzip")])


@case
def case_zip_renamed_to_xlsx(d):
    path = d / "calls.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("calls.csv", calls_csv(good_rows("X")))
    return Bad(path, ReadError, ["XLSX"])


@case
def case_truncated_xlsx(d):
    src = write_xlsx(d / "whole.xlsx", [HEADER, *good_rows("X")])
    data = src.read_bytes()
    return Bad(write(d / "calls.xlsx", data[: len(data) // 2]), ReadError, ["XLSX"])


@case
def case_old_xls_signature(d):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)
    return Bad(write(d / "calls.xls", data), ReadError, [".xls", ".xlsx"])


@case
def case_xlsx_sheet_not_found(d):
    path = write_xlsx(d / "calls.xlsx", [HEADER, *good_rows("X")])
    return Bad(path, ReadError, ["Nope", "sheet"],
               profile=calls_profile('sheet = "Nope"\n'))


@case
def case_xlsx_header_only(d):
    return Bad(write_xlsx(d / "calls.xlsx", [HEADER]), ImportRefused, ["no data rows"])


@case
def case_xlsx_too_many_columns(d):
    header = [f"c{i}" for i in range(600)]
    return Bad(write_xlsx(d / "calls.xlsx", [header, ["v"] * 600]), ReadError, ["600 columns"])


@case
def case_xlsx_duplicate_mapped_header(d):
    rows = [[*r, "OTHER-ID"] for r in good_rows("X")]
    path = write_xlsx(d / "calls.xlsx", [[*HEADER, "Call ID"], *rows])
    return Bad(path, MappingError, ["'Call ID'", "columns 1 and 6"])


# -- Columns and mapping -----------------------------------------------------------------------

@case
def case_wrong_kind_responses_file_as_calls(d):
    text = csv_text([["ID", "Dispatch Request Date & Time", "Reason for Dispatch #1",
                      "End Point of Dispatch"],
                     ["1", "2024-03-01 10:00", "Welfare check", "Engaged client"],
                     ["2", "2024-03-01 11:00", "Intoxication", "Engaged client"]])
    return Bad(write(d / "mcit_responses.csv", text), MappingError,
               ["received_at", "call_type"], profile=None)


@case
def case_missing_required_column(d):
    header = [h for h in HEADER if h != "Call Type"]
    rows = [[v for i, v in enumerate(r) if i != 2] for r in good_rows("M")]
    return Bad(write(d / "calls.csv", calls_csv(rows, header=header)), MappingError,
               ["'Call Type'", "call_type", "missing"])


@case
def case_duplicate_headers_mapped_by_profile(d):
    rows = [[*r, "OTHER-ID"] for r in good_rows("D")]
    return Bad(write(d / "calls.csv", calls_csv(rows, header=[*HEADER, "Call ID"])),
               MappingError, ["'Call ID'", "columns 1 and 6"])


@case
def case_headers_differing_only_in_case(d):
    header = ["ID", "Received", "Call Type", "Dispatched", "Arrived", "id"]
    rows = [[*r, f"row{i}"] for i, r in enumerate(good_rows("K"))]
    return Bad(write(d / "calls.csv", calls_csv(rows, header=header)), MappingError,
               ["'Id'", "case"], profile=calls_profile(replace={'"Call ID"': '"Id"'}))


@case
def case_date_column_mapped_to_text(d):
    return Bad(write(d / "calls.csv", calls_csv(good_rows("T"))), MappingError,
               ["'Call Type'", "not dates"],
               profile=calls_profile(replace={'received_at = "Received"':
                                              'received_at = "Call Type"'}))


@case
def case_unparseable_dates_in_most_rows(d):
    rows = good_rows("U", 9) + good_rows("V", 9) + good_rows("W", 2)  # 20 rows
    for i, r in enumerate(rows):
        if i % 4:
            r[1] = f"garbage {i}"  # 15 of 20 rows: rows 3, 4, 5, 7, ...
    return Bad(write(d / "calls.csv", calls_csv(rows)), ImportRefused,
               ["15 of 20", "row 3", "'Received'", "garbage 1"])


@case
def case_ambiguous_dates(d):
    return Bad(write(d / "calls.csv", _ambiguous_calls()), AmbiguousDates,
               ["'Received'", "dayfirst"])


def _ambiguous_calls() -> str:
    # Day and month both <= 12 in every date, in every timestamp column.
    rows = [[f"A{i}", f"{i:02d}/{13 - i:02d}/2024 10:00", "WELFARE",
             f"{i:02d}/{13 - i:02d}/2024 10:05", ""] for i in range(1, 13)]
    return calls_csv(rows)


@case
def case_conflicting_duplicate_ids_without_unit_rows(d):
    rows = good_rows("K")
    rows.append(["K1", "2024-03-09 18:00", "INTOX", "", ""])  # file row 5, differs from row 2
    return Bad(write(d / "calls.csv", calls_csv(rows)), ImportRefused,
               ["'K1'", "rows 2, 5", "unit_rows"])


# -- Profiles ----------------------------------------------------------------------------------

def _profile_case(d, toml_text: str | bytes, words, error=ProfileError, names=None):
    prof = write(d / "springfield_calls.toml", toml_text)
    data = write(d / "calls.csv", calls_csv(good_rows("P")))
    return Bad(data, error, words, names=names or prof.name, profile=prof)


@case
def case_profile_unknown_field(d):
    text = CALLS_TOML.replace('call_type = "Call Type"',
                              'call_type = "Call Type"\nsiren_colour = "Colour"')
    return _profile_case(d, text, ["siren_colour", "not a field"])


@case
def case_profile_not_toml(d):
    return _profile_case(d, 'kind = calls\n[columns\ncall_id = "Call ID"\n', ["TOML"])


@case
def case_profile_unknown_kind(d):
    return _profile_case(d, CALLS_TOML.replace('"calls"', '"incidents"'), ["kind", "incidents"])


@case
def case_profile_for_another_kind(d):
    text = ('kind = "responses"\n[columns]\nresponse_id = "Call ID"\n'
            'requested_at = "Received"\n')
    # The message names both kinds; it does not name the profile file (see the report).
    return _profile_case(d, text, ["responses", "calls"], error=MappingError, names="responses")


@case
def case_profile_not_utf8(d):
    return _profile_case(d, CALLS_TOML.encode("utf-16"), [("UTF-8", "encoding", "text")])


@case
def case_profile_file_missing(d):
    bad = _profile_case(d, CALLS_TOML, ["cannot read"])
    bad.profile = d / "no_such_profile.toml"
    bad.names = "no_such_profile.toml"
    return bad


@case
def case_profile_unknown_option(d):
    return _profile_case(d, CALLS_TOML + 'colour = "red"\n', ["'colour'", "option"])


@case
def case_profile_option_wrong_type(d):
    return _profile_case(d, CALLS_TOML + 'dayfirst = "yes"\n', ["dayfirst", "type"])


@case
def case_profile_column_not_a_header(d):
    text = CALLS_TOML.replace('call_id = "Call ID"', "call_id = 5")
    return _profile_case(d, text, ["call_id", "header"])


@case
def case_profile_unknown_encoding(d):
    bad = _profile_case(d, CALLS_TOML + 'encoding = "klingon"\n', ["klingon", "encoding"])
    bad.names = (bad.names, "calls.csv")  # found when the profile is read or the file is
    return bad


@case
def case_profile_invalid_timestamp_format(d):
    bad = _profile_case(d, CALLS_TOML + 'timestamp_format = "%Y-%m-%d %Q"\n',
                        ["%Q", "timestamp_format"])
    bad.names = (bad.names, "calls.csv")
    return bad


# -- The request -------------------------------------------------------------------------------

@case
def case_unknown_time_zone(d):
    return Bad(write(d / "calls.csv", calls_csv(good_rows("Z"))), DataError,
               ["time zone"], names="Mars/Olympus_Mons", timezone_name="Mars/Olympus_Mons")


@case
def case_new_jurisdiction_without_time_zone(d):
    return Bad(write(d / "calls.csv", calls_csv(good_rows("J"))), DataError,
               ["time zone", "new"], names="Shelbyville", jurisdiction="Shelbyville",
               profile=calls_profile(replace={'timezone = "America/Chicago"': ""}))


@case
def case_blank_jurisdiction(d):
    return Bad(write(d / "calls.csv", calls_csv(good_rows("B"))), DataError,
               ["jurisdiction"], names=None, jurisdiction="   ")


@case
def case_unknown_kind(d):
    return Bad(write(d / "calls.csv", calls_csv(good_rows("B"))), DataError,
               ["kind"], names="incidents", kind="incidents", profile=None)


@case(marks=(pytest.mark.slow,))
def case_one_gigabyte_single_line(d):
    # ~1 GB apparent size, ~2 MB on disk: the first 2 MB are text without a line break, the
    # rest a hole. The reader must stop after its 1 MB sample, not load the line.
    path = d / "calls.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write((",".join(HEADER) + ",").encode() + b"x" * (2 * MAX_LINE_BYTES))
        f.seek(1024 ** 3 - 1)
        f.write(b"\n")
    return Bad(path, ReadError, ["line 1", f"{MAX_LINE_BYTES:,} bytes"])


@pytest.mark.parametrize("name", [pytest.param(n, marks=m, id=n) for n, (_, m) in CASES.items()])
def test_bad_input_is_refused_and_changes_nothing(seeded, tmp_path, name):
    con = seeded
    bad = CASES[name][0](tmp_path / "in")
    before = table_contents(con)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problems, err = [], None
    try:
        run_import(con, bad.path, kind=bad.kind, jurisdiction=bad.jurisdiction,
                   timezone_name=bad.timezone_name,
                   **({} if bad.profile is _DEFAULT else {"profile": bad.profile}))
        problems.append(f"the import succeeded; expected {_names_of(bad.error)}")
    except DataError as e:
        err = e
    except Exception as e:  # noqa: BLE001 - the point is to report what escaped
        problems.append(f"{type(e).__module__}.{type(e).__name__} escaped instead of "
                        f"{_names_of(bad.error)}: {str(e)[:300]!r}")
    if err is not None:
        msg = str(err)
        if not isinstance(err, bad.error):
            problems.append(f"{type(err).__name__} instead of {_names_of(bad.error)}: {msg!r}")
        expected_names = bad.path.name if bad.names is _DEFAULT else bad.names
        if expected_names is not None:
            alts = expected_names if isinstance(expected_names, tuple) else (expected_names,)
            if not any(a in msg for a in alts):
                problems.append(f"message does not name {' or '.join(alts)}: {msg!r}")
        lacking = missing_words(msg, bad.words)
        if lacking:
            problems.append(f"message lacks {', '.join(lacking)}: {msg!r}")
        problems += [f"{p}: {msg!r}" for p in plain_message_problems(msg)]
    if table_contents(con) != before:
        problems.append("the database changed")
    leftovers = staging_leftovers(tmp_path)
    if leftovers:
        problems.append(f"private copies left in .staging: {leftovers}")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    if grown_mb > 400:
        problems.append(f"peak memory grew by {grown_mb:.0f} MB")
    assert not problems, "\n".join(problems)


def _names_of(error) -> str:
    return " or ".join(e.__name__ for e in (error if isinstance(error, tuple) else (error,)))


def test_catalogue_is_large_enough():
    assert len(CASES) >= 30


# --------------------------------------------------------------------------------------------
# Awkward but valid inputs: they import, with the right values and row numbers
# --------------------------------------------------------------------------------------------

def _calls(con, import_id, cols="call_id, call_type"):
    return con.execute(f"SELECT {cols} FROM calls WHERE import_id = ? ORDER BY file_row",
                       [import_id]).fetchall()


def _says_cannot_read(reason: str, value: str, what: str) -> bool:
    """'cannot read VALUE as WHAT', the value quoted or not."""
    return re.fullmatch(rf"cannot read '?{re.escape(value)}'? as (a )?{what}", reason) is not None


def _rejects(con, import_id):
    return con.execute('SELECT file_row, "column", reason, raw_values FROM rejects '
                       "WHERE import_id = ? ORDER BY file_row, \"column\"", [import_id]).fetchall()


def test_sql_looking_headers_and_values_are_stored_literally(seeded, tmp_path):
    con = seeded
    header = [SQL_HEADER_1, SQL_HEADER_2, "Call Type"]
    rows = [["'; DROP TABLE calls;--", "2024-03-01 10:00", "x'); DELETE FROM imports;--"],
            ["", "2024-03-01 11:00", "INTOX"],
            ["S3", "2024-03-01 12:00", "=HYPERLINK(\"http://x\")"]]
    path = write(tmp_path / "in" / "calls.csv", csv_text([header, *rows]))
    prof = ('kind = "calls"\n[columns]\n'
            f"call_id = {json.dumps(SQL_HEADER_1)}\nreceived_at = {json.dumps(SQL_HEADER_2)}\n"
            'call_type = "Call Type"\n')
    result = run_import(con, path, profile=parse_profile(prof, name="sql.toml"))
    assert (result.status, result.rows_inserted, result.rows_rejected) == ("committed", 2, 1)
    # Every table is still there, and the seeded calls and the ledger are intact.
    assert set(table_contents(con)) >= {"calls", "imports", "rejects"}
    assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 2
    assert [r[0] for r in _calls(con, 1)] == ["G1", "G2", "G3"]
    assert _calls(con, result.import_id) == [
        ("'; DROP TABLE calls;--", "x'); DELETE FROM imports;--"),
        ("S3", "=HYPERLINK(\"http://x\")")]
    [(file_row, column, reason, raw)] = _rejects(con, result.import_id)
    assert (file_row, column, reason) == (3, SQL_HEADER_1, "blank identifier")
    assert json.loads(raw) == {SQL_HEADER_1: None, SQL_HEADER_2: "2024-03-01 11:00",
                               "Call Type": "INTOX"}
    dump = repr(con.execute("SELECT * FROM calls").fetchall())
    assert "root:" not in dump  # nothing was read from /etc/passwd


def test_semicolon_file_with_the_comma_profile_is_sniffed(seeded, tmp_path):
    con = seeded
    rows = good_rows("S")
    rows[0][2] = "WELFARE, CHECK"  # a comma inside a value must not split it
    path = write(tmp_path / "in" / "calls.csv", calls_csv(rows, delimiter=";"))
    result = run_import(con, path)
    assert result.rows_inserted == 3
    assert _calls(con, result.import_id) == [("S1", "WELFARE, CHECK"), ("S2", "WELFARE CHECK"),
                                             ("S3", "WELFARE CHECK")]


def test_csv_renamed_to_xlsx_is_read_by_its_content(seeded, tmp_path):
    con = seeded
    path = write(tmp_path / "in" / "calls.xlsx", calls_csv(good_rows("R")))
    result = run_import(con, path)
    assert [r[0] for r in _calls(con, result.import_id)] == ["R1", "R2", "R3"]


@pytest.mark.parametrize("dayfirst, expected", [
    (True, [datetime(2024, 12, 1, 10), datetime(2024, 11, 2, 10)]),
    (False, [datetime(2024, 1, 12, 10), datetime(2024, 2, 11, 10)])])
def test_ambiguous_dates_import_once_the_profile_says_the_order(seeded, tmp_path, dayfirst,
                                                                 expected):
    con = seeded
    path = write(tmp_path / "in" / "calls.csv", _ambiguous_calls())
    result = run_import(con, path,
                        profile=calls_profile(f"dayfirst = {str(dayfirst).lower()}\n"))
    assert result.rows_inserted == 12 and result.rows_rejected == 0
    local = [r[0] for r in _calls(con, result.import_id, "received_local")]
    assert local[:2] == expected


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_imports_with_the_right_values(seeded, tmp_path, codec):
    con = seeded
    rows = good_rows("U")
    rows[0][2], rows[1][2] = "Café", "Zoë – welfare"
    text = calls_csv(rows, newline="\r\n")
    path = write(tmp_path / "in" / "calls.csv", text.encode(codec))
    result = run_import(con, path)
    assert _calls(con, result.import_id) == [("U1", "Café"), ("U2", "Zoë – welfare"),
                                             ("U3", "WELFARE CHECK")]


def test_windows_1252_file_keeps_accents_and_curly_quotes(seeded, tmp_path):
    con = seeded
    rows = good_rows("W")
    rows[0][2] = "Personne âgée – l’appel"
    rows[2][2] = "Café “noise”"
    path = write(tmp_path / "in" / "calls.csv", calls_csv(rows).encode("cp1252"))
    result = run_import(con, path)
    assert _calls(con, result.import_id) == [("W1", "Personne âgée – l’appel"),
                                             ("W2", "WELFARE CHECK"), ("W3", "Café “noise”")]


def test_bare_cr_line_endings_import(seeded, tmp_path):
    con = seeded
    rows = good_rows("R")
    rows[1][0] = ""  # a reject shows the row numbers are right too
    path = write(tmp_path / "in" / "calls.csv", calls_csv(rows, newline="\r"))
    result = run_import(con, path)
    assert _calls(con, result.import_id, "call_id, file_row") == [("R1", 2), ("R3", 4)]
    assert [r[:2] for r in _rejects(con, result.import_id)] == [(3, "Call ID")]


def test_byte_order_mark_is_not_part_of_the_first_header(seeded, tmp_path):
    con = seeded
    path = write(tmp_path / "in" / "calls.csv",
                 b"\xef\xbb\xbf" + calls_csv(good_rows("B"), newline="\r\n").encode())
    result = run_import(con, path)
    assert [r[0] for r in _calls(con, result.import_id)] == ["B1", "B2", "B3"]


def test_quoted_newlines_keep_row_numbers_of_later_rows(seeded, tmp_path):
    con = seeded
    header = ["Call ID", "Received", "Call Type", "Address"]
    rows = [["N1", "2024-03-01 10:00", "WELFARE", "12 Main St\nApt 4\nSpringfield"],  # row 2
            ["N2", "2024-03-01 11:00", "WELFARE", "1 Elm St"],                       # row 3
            ["", "2024-03-01 12:00", "INTOX", "9 Oak St\nRear"],                     # row 4
            ["N4", "2024-03-01 13:00", "WELFARE", "2 Pine St"],                      # row 5
            ["N5", "yesterday", "WELFARE", "3 Ash St"],                              # row 6
            ["N6", "2024-03-01 15:00", "TRESPASS", "4 Fir St"]]                      # row 7
    path = write(tmp_path / "in" / "calls.csv", csv_text([header, *rows]))
    prof = calls_profile(replace={'dispatched_at = "Dispatched"\narrived_at = "Arrived"':
                                  'area = "Address"'})
    result = run_import(con, path, profile=prof)
    assert _calls(con, result.import_id, "call_id, file_row, area") == [
        ("N1", 2, "12 Main St\nApt 4\nSpringfield"), ("N2", 3, "1 Elm St"),
        ("N4", 5, "2 Pine St"), ("N6", 7, "4 Fir St")]
    got = _rejects(con, result.import_id)
    assert [r[:2] for r in got] == [(4, "Call ID"), (6, "Received")]
    assert got[0][2] == "blank identifier"
    assert _says_cannot_read(got[1][2], "yesterday", "date and time")
    assert json.loads(got[0][3])["Address"] == "9 Oak St\nRear"


def test_blank_call_ids_go_to_rejects_with_row_column_and_raw_values(seeded, tmp_path):
    con = seeded
    rows = good_rows("C", 6)
    rows[1][0] = ""     # file row 3
    rows[3][0] = "   "  # file row 5: blank once trimmed
    path = write(tmp_path / "in" / "calls.csv", calls_csv(rows))
    result = run_import(con, path)
    assert (result.status, result.rows_read, result.rows_inserted, result.rows_rejected) == (
        "committed", 6, 4, 2)
    assert [r[0] for r in _calls(con, result.import_id)] == ["C1", "C3", "C5", "C6"]
    got = _rejects(con, result.import_id)
    assert [r[:3] for r in got] == [(3, "Call ID", "blank identifier"),
                                    (5, "Call ID", "blank identifier")]
    assert json.loads(got[0][3]) == dict(zip(HEADER, [None, *rows[1][1:]]))
    assert json.loads(got[1][3]) == dict(zip(HEADER, rows[3]))


@pytest.mark.parametrize("bad_value", [
    "next tuesday",      # a shape no other value has
    "2024-03-31 25:10",  # the shape of the good values, an impossible hour
    "2024-02-30 10:05",  # the shape of the good values, an impossible day (sorts first)
    "0000-00-00 00:00",  # a 'zero date' placeholder, as some databases export (sorts first)
])
def test_one_unparseable_date_rejects_only_that_row(seeded, tmp_path, bad_value):
    con = seeded
    rows = good_rows("D", 6)
    rows[1][1] = bad_value  # file row 3
    path = write(tmp_path / "in" / "calls.csv", calls_csv(rows))
    result = run_import(con, path)
    assert result.rows_inserted == 5 and result.rows_rejected == 1
    assert [r[0] for r in _calls(con, result.import_id)] == ["D1", "D3", "D4", "D5", "D6"]
    [(file_row, column, reason, raw)] = _rejects(con, result.import_id)
    assert (file_row, column) == (3, "Received")
    assert _says_cannot_read(reason, bad_value, "date and time")
    assert json.loads(raw)["Received"] == bad_value


def test_midnight_placeholder_and_out_of_order_times_are_warnings(seeded, tmp_path):
    con = seeded
    rows = [["P1", "2024-03-01 0:00", "WELFARE", "2024-03-01 10:02", "2024-03-01 10:15"],
            ["P2", "2024-03-01 10:00", "WELFARE", "2024-03-01 09:50", "2024-03-01 10:15"],
            ["P3", "2024-03-01 10:00", "WELFARE", "2024-03-01 10:02", "2024-03-01 10:01"],
            ["P4", "2024-03-01 10:00", "WELFARE", "2024-03-01 10:02", "2024-03-01 10:15"]]
    path = write(tmp_path / "in" / "calls.csv", calls_csv(rows))
    result = run_import(con, path)
    assert (result.rows_inserted, result.rows_rejected, result.rows_warned) == (4, 0, 3)
    assert _rejects(con, result.import_id) == []
    warnings = con.execute('SELECT record_id, file_row, "column", warning FROM row_warnings '
                           "WHERE import_id = ? ORDER BY file_row", [result.import_id]).fetchall()
    assert warnings == [("P1", 2, "Received", "time_placeholder"),
                        ("P2", 3, "Dispatched", "out_of_order"),
                        ("P3", 4, "Arrived", "out_of_order")]


def test_case_only_header_difference_is_fine_when_the_profile_is_exact(seeded, tmp_path):
    con = seeded
    header = ["ID", "Received", "Call Type", "Dispatched", "Arrived", "id"]
    rows = [[*r, f"other{i}"] for i, r in enumerate(good_rows("K"))]
    path = write(tmp_path / "in" / "calls.csv", calls_csv(rows, header=header))
    result = run_import(con, path, profile=calls_profile(replace={'"Call ID"': '"ID"'}))
    assert [r[0] for r in _calls(con, result.import_id)] == ["K1", "K2", "K3"]


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------

def _cli_empty(d):
    return [str(write(d / "calls.csv", b""))], ["calls.csv", "empty"]


def _cli_missing_column(d):
    header = [h for h in HEADER if h != "Call Type"]
    rows = [[v for i, v in enumerate(r) if i != 2] for r in good_rows("M")]
    path = write(d / "calls.csv", calls_csv(rows, header=header))
    prof = write(d / "calls.toml", CALLS_TOML)
    return [str(path), "--profile", str(prof)], ["calls.csv", "'Call Type'", "missing"]


def _cli_unknown_time_zone(d):
    path = write(d / "calls.csv", calls_csv(good_rows("Z")))
    prof = write(d / "calls.toml", CALLS_TOML)
    return ([str(path), "--profile", str(prof), "--timezone", "Mars/Olympus_Mons"],
            ["Mars/Olympus_Mons", "time zone"])


def _cli_profile_not_toml(d):
    path = write(d / "calls.csv", calls_csv(good_rows("P")))
    prof = write(d / "calls.toml", 'kind = calls\n[columns\n')
    return [str(path), "--profile", str(prof)], ["calls.toml", "TOML"]


def _cli_dayfirst_on_binary_file(d):
    path = write(d / "calls.csv", _png())
    return [str(path), "--dayfirst", "--timezone", "UTC"], ["calls.csv", "binary"]


def _cli_truncated_gzip(d):
    gz = gzip.compress(_big_calls_bytes())
    path = write(d / "calls.csv.gz", gz[: len(gz) * 3 // 4])
    prof = write(d / "calls.toml", CALLS_TOML)
    return [str(path), "--profile", str(prof)], ["calls.csv.gz"]


def _cli_invalid_utf8_late(d):
    bad = case_invalid_utf8_past_first_megabyte(d)
    prof = write(d / "calls.toml", CALLS_TOML)
    return [str(bad.path), "--profile", str(prof)], ["calls.csv", "encoding"]


CLI_CASES = {f.__name__.removeprefix("_cli_"): f for f in (
    _cli_empty, _cli_missing_column, _cli_unknown_time_zone, _cli_profile_not_toml,
    _cli_dayfirst_on_binary_file, _cli_truncated_gzip, _cli_invalid_utf8_late)}


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_bad_input_gives_one_error_line(db_path, tmp_path, name):
    seed = connect(db_path, readable_dirs=(tmp_path,))
    run_import(seed, write(tmp_path / "seed" / "good_calls.csv", calls_csv(good_rows("G"))))
    before = table_contents(seed)
    seed.close()
    args, words = CLI_CASES[name](tmp_path / "in")
    result = CliRunner().invoke(cli, ["import", *args, "--kind", "calls",
                                      "--jurisdiction", JURISDICTION, "--db", str(db_path)])
    out = result.output
    problems = []
    if result.exit_code == 0:
        problems.append("exit code 0")
    if not isinstance(result.exception, SystemExit):
        exc = result.exception
        problems.append(f"{type(exc).__name__} escaped the command (a traceback for the "
                        f"user): {str(exc)[:300]!r}")
    if not out.startswith("Error:"):
        problems.append(f"output does not start with 'Error:': {out[:300]!r}")
    if "Traceback" in out:
        problems.append("output holds a traceback")
    lacking = missing_words(out, words)
    if lacking:
        problems.append(f"message lacks {', '.join(lacking)}: {out!r}")
    import_options = {o for p in cli.commands["import"].params for o in p.opts + p.secondary_opts}
    for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", out):
        if flag not in import_options:
            problems.append(f"message suggests {flag}, which `import` does not accept: {out!r}")
    after = connect(db_path, readable_dirs=(tmp_path,))
    try:
        if table_contents(after) != before:
            problems.append("the database changed")
    finally:
        after.close()
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# A process killed in the middle of an import
# --------------------------------------------------------------------------------------------

KILL_ROWS = 300_000


@pytest.fixture(scope="module")
def big_calls(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "calls_300k.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join([*HEADER, "Address"]) + "\n")
        for i in range(KILL_ROWS):
            day, m = 1 + i % 28, i % 60
            f.write(f"K{i},2024-03-{day:02d} 10:{m:02d},WELFARE CHECK,2024-03-{day:02d} 11:{m:02d},"
                    f"2024-03-{day:02d} 12:{m:02d},{i} Main St\n")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["validating", "writing"])
def test_killed_import_leaves_the_database_as_before(db_path, tmp_path, big_calls, phase):
    """SIGKILL while the import runs (seen from its progress output on a terminal): the next
    open shows exactly the state before, and the same file then imports."""
    folder = big_calls.parent
    prof = write(tmp_path / "calls.toml", CALLS_TOML)
    seed = connect(db_path, readable_dirs=(tmp_path, folder))
    run_import(seed, write(tmp_path / "seed" / "good_calls.csv", calls_csv(good_rows("G"))))
    before = table_contents(seed)
    seed.close()

    master, slave = pty.openpty()  # the CLI shows its progress only on a terminal
    proc = subprocess.Popen(
        [sys.executable, "-m", "data", "import", str(big_calls), "--kind", "calls",
         "--jurisdiction", JURISDICTION, "--profile", str(prof), "--db", str(db_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen, deadline = b"", time.monotonic() + 60
    try:
        while phase.encode() not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        assert phase.encode() in seen, f"the import never reached '{phase}': {seen!r}"
        time.sleep(0.1)  # well inside the step (it takes several tenths of a second)
        while select.select([master], [], [], 0)[0]:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
        assert proc.poll() is None and b"done" not in seen, (
            f"the import finished before the kill: {seen!r}")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == -signal.SIGKILL

    con = connect(db_path, readable_dirs=(tmp_path, folder))
    try:
        assert table_contents(con) == before
        result = run_import(con, big_calls)
        assert (result.status, result.rows_inserted) == ("committed", KILL_ROWS)
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == KILL_ROWS + 3
    finally:
        con.close()
