"""CSV downloads that a spreadsheet cannot turn into formulas (OWASP CSV injection).

A text cell that begins with = + - @, a tab or a carriage return gets a leading apostrophe, so
that Excel, LibreOffice and Google Sheets show it as text instead of evaluating it. Numbers stay
numbers (a negative number is not text). Pure pandas: no Streamlit here, so it is unit-tested.
"""
from __future__ import annotations

import pandas as pd

from data.quality import csv_safe as defuse  # one rule for every CSV the tool writes


def safe_csv(df: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV (with a byte-order mark, so Excel reads accents right)."""
    out = df.copy()
    out.columns = [defuse(str(c)) for c in out.columns]
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])):
            out[col] = out[col].map(defuse, na_action="ignore")
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
