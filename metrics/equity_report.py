"""The document ``python -m metrics equity --json`` prints: within-jurisdiction ratios, pooled.

The same analysis as the Equity page (``metrics.equity``) on the same rows: the decision point's
metric by jurisdiction and group, exact or — with a policy — exactly what a viewer sees
(``metrics.disclosure``, as ``report --public``), ratios recomputed from the published counts.
"""
from __future__ import annotations


from . import equity
from .disclosure import DisclosurePolicy, describe, disclose
from .engine import Filters, MetricRequest, compute
from .errors import MetricError


class EquityRequestError(MetricError):
    """A decision point, grouping or reference group that cannot be compared; says why."""


def equity_report(con, point: str, dim: str, filters: Filters = Filters(),
                  reference: str | None = None, policy: DisclosurePolicy | None = None) -> dict:
    """``{"point", "by", "reference", "rows", "pooled", ...}`` for one decision point.

    ``rows``: one per group per jurisdiction, its rate and its ratio to that jurisdiction's
    reference. ``pooled``: with several jurisdictions, each group against one reference,
    Mantel–Haenszel stratified by jurisdiction, with the crude (added-up) ratio beside it;
    None for one jurisdiction, for areas (not shared between jurisdictions) and for times.
    """
    p = _point(point, dim)
    rows, notes = _rows(con, p, dim, filters, policy)
    times = p.metric == "C2"
    if not rows:
        raise EquityRequestError(f"No records at this decision point for {_where(filters)}.")
    if reference and reference not in {equity._group(r, dim) for r in rows}:
        groups = sorted({str(equity._group(r, dim)) for r in rows
                         if equity._group(r, dim) not in equity.UNKNOWN_GROUPS})
        raise EquityRequestError(f"No {dim} group {reference!r} at this decision point; "
                                 f"groups here: {', '.join(groups) or 'none'}.")
    panels = equity.within_jurisdictions(rows, dim, reference, times=times)
    hidden = {(r.group["jurisdiction"], r.group[dim]): getattr(r, "suppressed", None) or {}
              for r in rows}
    several = len(panels) > 1
    doc = {"point": p.key, "label": p.label, "metric": p.metric, "by": dim,
           "reference": reference, "filters": filters.as_dict(),
           "compared": "ratio of medians (no interval)" if times else
                       "relative rate index: risk ratio with Katz 95% interval",
           "rows": [_row_json(panel, r, hidden) for panel in panels for r in panel.rates],
           "pooled": None, "notes": notes}
    if several and not times and dim != "area":
        ref, rule = equity.pooled_reference(rows, dim, reference)
        doc["pooled_reference"] = {"group": ref, "rule": rule}
        doc["pooled"] = [_pooled_json(g, ref) for g in equity.pooled(rows, dim, ref)]
    if policy is not None and policy.enabled:
        doc["disclosure"] = {"enabled": True, "threshold": policy.threshold,
                             "hidden_up_to": policy.hidden_up_to,
                             "rounding": policy.rounding_label,
                             "reasons": {k: describe(k, policy) for k in
                                         ("small", "protect", "withheld", "derived")}}
    return doc


def _where(filters: Filters) -> str:
    j = filters.jurisdictions
    return ("these filters" if not j else f"jurisdiction {', '.join(j)}" if len(j) == 1
            else f"jurisdictions {', '.join(j)}") + " (python -m metrics report --by " \
        "jurisdiction lists the jurisdictions with data)"


def _point(point: str, dim: str) -> equity.DecisionPoint:
    p = equity.BY_KEY.get(point)
    if p is None:
        raise EquityRequestError(f"Unknown decision point {point!r}; choose one of "
                                 f"{', '.join(equity.BY_KEY)}.")
    if dim not in p.dimensions:
        raise EquityRequestError(f"{p.label!r} is recorded by {', '.join(p.dimensions)} only; "
                                 f"--by {dim} is not available for it.")
    return p


def _rows(con, p, dim, filters, policy) -> tuple[list, list[str]]:
    """The metric by (jurisdiction, group), exact or as a public reader sees it (several
    jurisdictions: ``disclose`` widens to all and keeps the chosen, as for every view)."""
    request = MetricRequest((p.metric,), ("jurisdiction", dim), filters)
    if policy is None or not policy.enabled:
        return compute(con, request), []
    shown = disclose(con, request, policy)
    return shown.rows, shown.notes


def _row_json(panel: equity.Panel, r: equity.GroupRate, hidden: dict) -> dict:
    """One group in one jurisdiction; ``suppressed`` says why a hidden count is hidden."""
    return {"jurisdiction": panel.jurisdiction, "group": r.group,
            "reference": panel.reference, "reference_rule": panel.rule,
            "is_reference": r.is_reference, "numerator": _num(r.numerator),
            "denominator": _num(r.denominator), "rate": _round(r.rate),
            "rate_ci_low": _round(r.ci_low), "rate_ci_high": _round(r.ci_high),
            "reliability": r.reliability, "ratio": _round(r.ratio.estimate),
            "ci_low": _round(r.ratio.low), "ci_high": _round(r.ratio.high),
            "differs": r.differs, "note": None if r.is_reference else r.ratio.reason,
            "suppressed": hidden.get((panel.jurisdiction, r.group), {}),
            **({} if r.p90 is None else {"p90": _round(r.p90)})}


def _pooled_json(g: equity.PooledGroup, reference: str) -> dict:
    p = g.pooled
    return {"group": g.group, "reference": reference, "method": p.method,
            "ratio": _round(p.ratio.estimate), "ci_low": _round(p.ratio.low),
            "ci_high": _round(p.ratio.high), "homogeneity_p": _round(p.homogeneity_p),
            "crude_ratio": _round(p.crude.estimate), "crude_ci_low": _round(p.crude.low),
            "crude_ci_high": _round(p.crude.high),
            "confounded_by_jurisdiction": p.confounded, "heterogeneous": p.heterogeneous,
            "jurisdictions": list(p.strata), "left_out": list(g.left_out),
            "note": p.ratio.reason}


def _round(x):
    return None if x is None else round(float(x), 6)


def _num(x):
    return None if x is None else (int(x) if float(x).is_integer() else float(x))
