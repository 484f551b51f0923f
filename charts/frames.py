"""Engine rows (dicts) as DataFrames, and the tables behind "Show data" and the CSV downloads.

Only reshaping and labelling here: every number comes from the engine (or, for a public view,
from ``metrics.disclosure``) as it is. A number disclosure control hid is None in the frame,
and the ``hidden`` column says, per field, the words a reader sees in its place ("hidden
(fewer than 11)"): tables, tooltips, tiles and sentences print those words, never a number.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from metrics.disclosure import describe

from .labels import code_label, month_label
from .theme import fmt_value

HIDDEN = "hidden"  # column: {field: words} for the fields disclosure control hid

VALUE_COLUMNS = ("numerator", "denominator", "value", "ci_low", "ci_high", "reliability",
                 "median", "p90", "n", "missing")
_TABLE_NAMES = {"metric": "Metric", "numerator": "Numerator", "denominator": "Denominator",
                "value": "Value", "ci_low": "95% CI low", "ci_high": "95% CI high",
                "reliability": "Reliability", "median": "Median (min)",
                "p90": "90th percentile (min)", "n": "Records timed",
                "missing": "Records without both times"}


def frame(rows: list[dict], by: tuple[str, ...] = (),
          words: Callable[[str], str] = describe) -> pd.DataFrame:
    """One row per (metric, group): a column per grouping dimension, then the values.

    ``words`` turns a disclosure reason (a row's ``suppressed``) into what a reader sees.
    """
    flat = [{"metric": r["metric"], **r["group"], **{k: r.get(k) for k in VALUE_COLUMNS},
             HIDDEN: {f: words(why) for f, why in (r.get("suppressed") or {}).items()}}
            for r in rows]
    columns = ["metric", *by, *VALUE_COLUMNS, HIDDEN]
    df = pd.DataFrame(flat, columns=columns) if flat else pd.DataFrame(columns=columns)
    for col in ("value", "ci_low", "ci_high", "median", "p90"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    for col in ("numerator", "denominator", "n", "missing"):  # counts stay whole numbers
        df[col] = pd.to_numeric(df[col], errors="coerce").round().astype("Int64")
    return df


def hidden(r, field: str) -> str | None:
    """The words shown in place of ``field`` of a frame row (itertuples or Series), if hidden."""
    cell = r.get(HIDDEN) if isinstance(r, (pd.Series, dict)) else getattr(r, HIDDEN, None)
    return cell.get(field) if isinstance(cell, dict) else None


def cell(r, field: str):
    """A field's number, or the words shown in its place when disclosure control hid it."""
    text = hidden(r, field)
    if text:
        return text
    value = r.get(field) if isinstance(r, (pd.Series, dict)) else getattr(r, field, None)
    return None if value is None or pd.isna(value) else value


def count_text(r, field: str) -> str:
    """A count as printed ("1,240"), its hidden words, or "—"."""
    value = cell(r, field)
    if isinstance(value, str):
        return value
    return "—" if value is None else f"{int(value):,}"


def value_text(r, unit: str, field: str = "value") -> str:
    value = cell(r, field)
    return value if isinstance(value, str) else fmt_value(value, unit)


def hidden_rows(df: pd.DataFrame, field: str = "value") -> pd.Series:
    """Which rows have ``field`` hidden by disclosure control."""
    if HIDDEN not in df.columns:
        return pd.Series(False, index=df.index)
    return df[HIDDEN].map(lambda h: isinstance(h, dict) and field in h).astype(bool)


def only(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of one metric."""
    return df[df["metric"] == metric].reset_index(drop=True)


def has_values(df: pd.DataFrame) -> bool:
    """Something to draw: a value, or one that disclosure control hid (the card says so)."""
    return not df.empty and bool((df["value"].notna() | hidden_rows(df)).any())


def data_table(df: pd.DataFrame, dims: tuple[str, ...], labels: dict[str, str] | None = None,
               names: dict[str, str] | None = None) -> pd.DataFrame:
    """The table a reader sees and downloads: readable groups, the numbers, nothing empty.

    ``labels`` maps metric ids to labels; ``names`` maps jurisdiction names (masking). A
    column with a hidden cell holds its words there (the number is not in the frame at all).
    """
    out = df.copy()
    if labels:
        out["metric"] = out["metric"].map(lambda m: labels.get(m, m))
    for dim in dims:
        out[dim] = out[dim].map(lambda v, d=dim: group_label(d, v, names))
    for col in VALUE_COLUMNS:
        if hidden_rows(out, col).any():
            # Text throughout (a column of one type, for Arrow and spreadsheets alike).
            out[col] = [_table_text(r, col) for _, r in out.iterrows()]
    keep = ["metric", *dims] + [c for c in VALUE_COLUMNS if out[c].notna().any()]
    out = out[keep]
    renamed = {d: d.replace("_", " ").capitalize() for d in dims}
    return out.rename(columns={**_TABLE_NAMES, **renamed})


def _table_text(r, col: str) -> str | None:
    value = cell(r, col)
    if value is None or isinstance(value, str):
        return value
    if col in ("numerator", "denominator", "n", "missing"):
        return str(int(value))
    # As the numeric columns are shown (four decimals at most), not a float's every digit.
    return f"{value:.4f}".rstrip("0").rstrip(".")


def group_label(dim: str, value, names: dict[str, str] | None = None) -> str:
    """How a group's value is shown: masked jurisdiction names, month names, readable codes."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "Not recorded"
    if dim == "jurisdiction":
        return (names or {}).get(value, value)
    if dim == "month":
        return month_label(value)
    if dim in ("area", "team", "age_group"):
        return str(value)
    return code_label(value)  # codes and free-text reasons: first letter capitalised


def side_by_side(df: pd.DataFrame, metrics, launches: dict, names: dict | None = None,
                 year_only: bool = False, titles: dict | None = None,
                 first: str | None = None) -> pd.DataFrame:
    """A row per measure (launch first), a column per jurisdiction: ``first``, then by label.

    Cells hold the value and, for rates, "n of N"; ``titles`` gives short measure names.
    """
    names = names or {}
    cols = sorted(set(df["jurisdiction"]), key=lambda j: (j != first, names.get(j, j)))
    table = {"Measure": ["Program launch"] + [(titles or {}).get(m.id, m.label) for m in metrics]}
    cells = {(r.metric, r.jurisdiction): r for r in df.itertuples()}
    for j in cols:
        table[names.get(j, j)] = [_launch(launches.get(j), year_only)] + [
            _cell(cells.get((m.id, j)), m) for m in metrics]
    return pd.DataFrame(table)


def _cell(r, m) -> str:
    if r is None:
        return "—"
    text = value_text(r, m.unit)
    if m.kind == "duration" and cell(r, "p90") is not None and not hidden(r, "value"):
        text += f" (90%: {value_text(r, 'minutes', 'p90')})"
    elif m.kind in ("proportion", "repeat") and cell(r, "denominator") is not None:
        if hidden(r, "numerator"):  # its reason once, not nested
            text += f", of {count_text(r, 'denominator')}"
        else:
            text += f" ({count_text(r, 'numerator')} of {count_text(r, 'denominator')})"
    if r.reliability == "insufficient":
        text += " ⚠ too few"
    return text


def _launch(day, year_only: bool) -> str:
    if day is None:
        return "not recorded"
    return str(day.year) if year_only else day.isoformat()
