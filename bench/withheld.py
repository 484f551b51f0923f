"""How many figures the pages withhold from a public reader: hidden counts and lost rates.

    python bench/capture.py --db DEMO.duckdb --out pages.pkl
    python bench/withheld.py --db DEMO.duckdb --pages pages.pkl

Every metric and count request the pages make (recorded by bench/capture.py, so no second list
of them can drift) is disclosed under the viewer's policy, once for the whole cohort as the
pages open and once with each jurisdiction chosen in turn (the sidebar's one-jurisdiction
view). Counted over the rows the pages receive:

- counts hidden: numerators, denominators, timed records, by reason (``small``: 1 to 10;
  ``protect``: complementary cells; ``withheld``: whole tables);
- values hidden: rates, shares, medians and counts a reader does not see (the figure drawn).

Complementary suppression is judged by ``protect`` counts and by values hidden although none
of their own counts is small (``values lost to protection``): what it costs beyond the small
groups themselves.
"""
from __future__ import annotations

import argparse
import pickle
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNT_FIELDS = ("numerator", "denominator", "n", "missing")


def tally(rows) -> Counter:
    """Counts and values of public rows: shown, and hidden by reason."""
    out: Counter = Counter()
    for r in rows:
        why = r.suppressed
        for f in COUNT_FIELDS:
            if f in why:
                out[f"counts hidden: {why[f]}"] += 1
            elif getattr(r, f) is not None:
                out["counts shown"] += 1
        if "value" in why:
            out["values hidden"] += 1
            if not any(why.get(f) == "small" for f in COUNT_FIELDS):
                out["values lost to protection"] += 1
        elif r.value is not None:
            out["values shown"] += 1
    return out


def requests(pages: dict):
    """(view, request) for every metric or count request a page made."""
    from metrics import CountRequest, MetricRequest

    for url, page in pages.items():
        for req in page["requests"]:
            if isinstance(req, (MetricRequest, CountRequest)):
                yield url, req


def count(con, pages: dict, jurisdictions: list[str]) -> dict[str, Counter]:
    """Tallies per scope ("cohort", then each jurisdiction) over every page's requests."""
    from metrics import CountRequest
    from metrics.disclosure import VIEWER, DisclosureRefused, disclose, disclose_counts

    scopes = {"cohort": ()} | {j: (j,) for j in jurisdictions}
    out = {}
    for scope, chosen in scopes.items():
        total: Counter = Counter()
        for _, req in requests(pages):
            if chosen and "jurisdiction" in req.by:
                continue  # side by side: the same rows as the cohort's
            req = replace(req, filters=replace(req.filters, jurisdictions=chosen))
            run = disclose_counts if isinstance(req, CountRequest) else disclose
            try:
                total += tally(run(con, req, VIEWER).rows)
            except DisclosureRefused:
                total["refused"] += 1
        out[scope] = total
    return out


REPORT_BY = ("area", "category", "team", "race_ethnicity", "age_group", "gender")


def reports(con, jurisdictions: list[str]) -> dict[str, Counter]:
    """Tallies of ``python -m metrics report --public --by DIM`` (every metric), per
    jurisdiction, for each one-way dimension in ``REPORT_BY``: the public reports by area,
    category and group that the issue's finding is about."""
    from metrics import Filters, MetricRequest
    from metrics.disclosure import VIEWER, disclose

    out = {}
    for dim in REPORT_BY:
        total: Counter = Counter()
        for j in jurisdictions:
            total += tally(disclose(con, MetricRequest((), (dim,), Filters((j,))), VIEWER).rows)
        out[f"report --by {dim}"] = total
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--pages", required=True, help="the pickle bench/capture.py wrote")
    ap.add_argument("--reports", action="store_true",
                    help="also every metric's public report by one dimension, per jurisdiction")
    args = ap.parse_args()
    from data.connection import connect

    pages = pickle.loads(Path(args.pages).read_bytes())
    con = connect(args.db, read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT DISTINCT jurisdiction FROM calls ORDER BY 1").fetchall()]
        result = count(con, pages, names)
        if args.reports:
            result |= reports(con, names)
    finally:
        con.close()
    keys = sorted({k for c in result.values() for k in c})
    print("scope\t" + "\t".join(keys))
    for scope, c in result.items():
        print(scope + "\t" + "\t".join(str(c[k]) for k in keys))
    all_ = sum(result.values(), Counter())
    print("all\t" + "\t".join(str(all_[k]) for k in keys))


if __name__ == "__main__":
    main()
