"""Engine rows (dicts) as DataFrames, and the tables behind "Show data" and the CSV downloads.

Only reshaping and labelling here: every number comes from the engine as it is.
"""
from __future__ import annotations

import pandas as pd

from .labels import code_label, month_label
from .theme import fmt_value

VALUE_COLUMNS = ("numerator", "denominator", "value", "ci_low", "ci_high", "reliability",
                 "median", "p90", "n", "missing")
_TABLE_NAMES = {"metric": "Metric", "numerator": "Numerator", "denominator": "Denominator",
                "value": "Value", "ci_low": "95% CI low", "ci_high": "95% CI high",
                "reliability": "Reliability", "median": "Median (min)",
                "p90": "90th percentile (min)", "n": "Records timed",
                "missing": "Records without both times"}


def frame(rows: list[dict], by: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (metric, group): a column per grouping dimension, then the values."""
    flat = [{"metric": r["metric"], **r["group"], **{k: r.get(k) for k in VALUE_COLUMNS}}
            for r in rows]
    columns = ["metric", *by, *VALUE_COLUMNS]
    df = pd.DataFrame(flat, columns=columns) if flat else pd.DataFrame(columns=columns)
    for col in ("value", "ci_low", "ci_high", "median", "p90"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    for col in ("numerator", "denominator", "n", "missing"):  # counts stay whole numbers
        df[col] = pd.to_numeric(df[col], errors="coerce").round().astype("Int64")
    return df


def only(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of one metric."""
    return df[df["metric"] == metric].reset_index(drop=True)


def has_values(df: pd.DataFrame) -> bool:
    return not df.empty and df["value"].notna().any()


def data_table(df: pd.DataFrame, dims: tuple[str, ...], labels: dict[str, str] | None = None,
               names: dict[str, str] | None = None) -> pd.DataFrame:
    """The table a reader sees and downloads: readable groups, the numbers, nothing empty.

    ``labels`` maps metric ids to labels; ``names`` maps jurisdiction names (masking).
    """
    out = df.copy()
    if labels:
        out["metric"] = out["metric"].map(lambda m: labels.get(m, m))
    for dim in dims:
        out[dim] = out[dim].map(lambda v, d=dim: group_label(d, v, names))
    keep = ["metric", *dims] + [c for c in VALUE_COLUMNS if out[c].notna().any()]
    out = out[keep]
    renamed = {d: d.replace("_", " ").capitalize() for d in dims}
    return out.rename(columns={**_TABLE_NAMES, **renamed})


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
    text = fmt_value(r.value, m.unit)
    if m.kind == "duration" and not pd.isna(r.p90):
        text += f" (90%: {fmt_value(r.p90, 'minutes')})"
    elif m.kind in ("proportion", "repeat") and not pd.isna(r.denominator):
        text += f" ({int(r.numerator):,} of {int(r.denominator):,})"
    if r.reliability == "insufficient":
        text += " ⚠ too few"
    return text


def _launch(day, year_only: bool) -> str:
    if day is None:
        return "not recorded"
    return str(day.year) if year_only else day.isoformat()
