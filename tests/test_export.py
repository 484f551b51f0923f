"""CSV downloads cannot smuggle spreadsheet formulas (OWASP CSV injection), and keep numbers."""
from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from data.quality import rejects_csv
from ui.export import safe_csv


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)",
                                  "\tcmd", "\rcmd", "=cmd|' /C calc'!A0"])
def test_text_that_a_spreadsheet_would_run_is_quoted(text):
    df = pd.DataFrame({"area": [text], "calls": [12]})
    rows = list(csv.reader(io.StringIO(safe_csv(df).decode("utf-8-sig"), newline="")))
    assert rows[0] == ["area", "calls"]
    assert rows[1] == ["'" + text, "12"]


def test_numbers_and_plain_text_are_unchanged():
    df = pd.DataFrame({"group": ["Riverton", "-5", "North-East"], "value": [-0.25, 1.5, 3.0]})
    text = safe_csv(df).decode("utf-8-sig")
    assert text.splitlines() == ["group,value", "Riverton,-0.25", "-5,1.5", "North-East,3.0"]
    assert safe_csv(df).startswith(b"\xef\xbb\xbf")  # Excel reads accents right


def test_a_header_from_an_upload_is_quoted_too():
    df = pd.DataFrame({"=1+1": ["x"]})
    assert safe_csv(df).decode("utf-8-sig").splitlines()[0] == "'=1+1"


def test_rejected_rows_download_quotes_raw_values():
    rows = [{"file_row": 7, "column": "Call Type", "reason": "blank call_id",
             "raw_values": {"Call Type": "=2+5", "Notes": "@evil", "Count": "-3"}}]
    out = list(csv.reader(io.StringIO(rejects_csv(rows))))
    assert out[0] == ["file_row", "column", "reason", "Call Type", "Notes", "Count"]
    assert out[1] == ["7", "Call Type", "blank call_id", "'=2+5", "'@evil", "-3"]
