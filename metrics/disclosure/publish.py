"""Publish: a request computed with its margins and partner ratios, protected, and returned
as a reader may see it; the JSON of ``report --public``; the SQL it runs."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..engine import (CountRequest, MetricRequest, compute, compute_counts, compute_levels,
                      explain_run, resolve, row_json, supports)
from ..registry import BY_ID
from .policy import (DERIVED, PROTECT, SMALL, VIEWER, WITHHELD, DisclosurePolicy, describe,
                     rule)
from .protect import partners, protect, sub_groupings, withheld_notes
from .requests import checked_request, kept_groups, public_shape
from .rows import PublicRow, as_public


@dataclass
class Disclosure:
    rows: list[PublicRow]
    request: object  # the request actually computed (after public_request)
    policy: DisclosurePolicy
    notes: list[str] = field(default_factory=list)


def disclose(con, request: MetricRequest, policy: DisclosurePolicy = VIEWER) -> Disclosure:
    """Compute a request and return what a reader under ``policy`` may see.

    Computes the request's margins (fewer ``by``) and the ratios that share its counts
    (``partners``), which the protection needs; returns only the rows asked for.
    """
    return _disclose(con, request, policy, compute)


def disclose_counts(con, request: CountRequest, policy: DisclosurePolicy = VIEWER
                    ) -> Disclosure:
    """As ``disclose``, for named counts (``metrics.compute_counts``)."""
    return _disclose(con, request, policy, compute_counts)


def _disclose(con, request, policy, exact) -> Disclosure:
    groups = public_shape(request, policy)[1]
    request, notes = checked_request(request, policy)
    if not policy.enabled:
        rows = exact(con, request)
        return Disclosure([as_public(r) for r in rows], request, policy, notes)
    levels = _levels(con, request)
    ids = tuple(dict.fromkeys(r.metric for r in levels[request.by] if r.metric in _asked(request)))
    keep = set(ids) | set(partners(ids))
    levels = {lv: [r for r in rows if r.metric in keep] for lv, rows in levels.items()}
    shown = kept_groups(protect(levels, policy, show=set(ids)), groups)
    return Disclosure(shown, request, policy, notes + withheld_notes(shown, request.by))


def _asked(request) -> set:
    return set(request.counts) if isinstance(request, CountRequest) else {
        m.id for m in resolve(request)}


def _levels(con, request) -> dict:
    """The view and its margins, for the asked metrics and every ratio that may be a partner:
    one scan per source for the metrics and their partners together (``compute_levels``)."""
    by, filters = request.by, request.filters
    wanted = sub_groupings(by) + [by]
    if isinstance(request, CountRequest):
        candidates = tuple(request.counts)
        levels = compute_levels(con, request, wanted, quantiles_at=[by])
    else:
        candidates = tuple(m.id for m in resolve(request) if supports(m, by))
        levels = {lv: [] for lv in wanted}
    extra = [m for m in partners(candidates) if supports(BY_ID[m], by)]
    ids = tuple(extra) if isinstance(request, CountRequest) else candidates + tuple(extra)
    if ids:
        more = compute_levels(con, MetricRequest(ids, by, filters), wanted, quantiles_at=[by])
        levels = {lv: rows + more[lv] for lv, rows in levels.items()}
    return levels


def explain(request, policy: DisclosurePolicy = VIEWER) -> str:
    """The SQL (with its parameters) that ``disclose`` runs for ``request``: the widened
    request, its margins and the ratios that share its counts, as they are computed."""
    asked, _ = checked_request(request, policy)
    if not policy.enabled:
        exact = compute_counts if isinstance(asked, CountRequest) else compute
        return explain_run(lambda con: exact(con, asked))
    return explain_run(lambda con: _levels(con, asked))


def public_report(con, request: MetricRequest, policy: DisclosurePolicy = VIEWER) -> dict:
    """The JSON document ``python -m metrics report --public --json`` prints.

    The shape of ``metrics.report`` (filters, by, skipped, rows), each row with its
    ``suppressed`` reasons, plus a ``disclosure`` block: the policy, the rounding, the notes of
    ``public_request`` and the words for each reason.
    """
    shown = disclose(con, request, policy)
    return {"filters": shown.request.filters.as_dict(), "by": list(shown.request.by),
            "skipped": _skipped(shown.request),
            "rows": [row_json(r) for r in shown.rows],
            "disclosure": {
                "enabled": policy.enabled, "threshold": policy.threshold,
                "hidden_up_to": policy.hidden_up_to if policy.enabled else 0,
                "rounding": policy.rounding_label, "rule": rule(policy), "notes": shown.notes,
                "reasons": {k: describe(k, policy) for k in (SMALL, PROTECT, WITHHELD, DERIVED)}}}


def _skipped(request) -> list[str]:
    return [m.id for m in resolve(request) if not supports(m, request.by)]
