"""Disclosure control: the one code path from metric results to what a viewer may see.

Every chart, tooltip, table, download and ``python -m metrics report --public`` turns
``metrics.compute`` / ``metrics.compute_counts`` results into public numbers here, and nowhere
else (DOMAIN.md §6). Nothing in this module imports streamlit.

Policy
------
``DisclosurePolicy(threshold=10, rounding=False, enabled=True)``; ``policy_for(role, ...)``
gives a viewer's policy (always on) or an analyst's (switchable for their own jurisdictions).
Let H be the largest hidden count: ``threshold`` (default 10), or 14 with ``rounding`` (the
Census DRB shows 1-14 as "<15").

What a viewer sees (``enabled``)
--------------------------------
1. **Small counts.** A count from 1 to H is hidden (reason ``small``); 0 is shown.
2. **Complementary suppression.** A view grouped by one or two dimensions is protected
   together with its *margins*: the same request with fewer ``by`` dimensions (the ungrouped
   total; for a two-way table also both one-way tables), which other views publish. Margins
   are decided first, each from its own data exactly as its own view decides it, so a cell
   has the same status in every view that shows it; then further cells of the view itself
   are hidden (reason ``protect``) until the audit below passes. A count shared by several
   metrics (eligible calls: A3's value, B1's, B3's and B4's denominator) is one table with
   one status. Ratios that share a count are protected together (``partners``), because a
   shown numerator bounds its denominator from below and a shown denominator its numerator
   from above. If no choice of cells passes the audit, every cell of the table is hidden
   (reason ``withheld``, which tells a reader only "0 or more"); in a two-way view so is
   every count over the same records, with the groups that have none listed (G1 below).
3. **Rounding.** Every published count is a deterministic function of the true count alone:
   the nearest multiple of 5 (halves up), never below the smallest multiple of 5 that is at
   least H + 3 (so 11 and 12 show as 15, never as 10); with ``rounding``, the Census DRB
   schedule: 15-99 to the nearest 10, 100-999 to 50, 1,000-9,999 to 100, 10,000-99,999 to
   500, 100,000-999,999 to 1,000, larger to four significant digits (halves to even, as the
   DRB's own rounder does); other numbers then to four significant digits.
4. **Derived numbers.** Values, intervals and reliability flags are recomputed from the
   *published* counts (value = published numerator / published denominator). Anything built
   on a hidden count is hidden (reason ``derived``); a median or 90th percentile is shown only
   beside a published number of intervals ``n``. Residents (the per-capita denominator) are a
   public census figure and are shown as they are.
5. **Requests.** ``public_request`` allows at most two ``by`` dimensions (the shapes the
   audit covers), one value or all values per filter (for a reader granted some
   jurisdictions, all of *theirs*: ``whole_jurisdictions``), and widens a period to whole calendar
   months, so that no single day or arbitrary set of categories can be isolated. Several
   values of a filter are allowed when the view is grouped by that dimension
   (``public_shape``): the view of all its values is computed and protected, and only the
   chosen groups are returned, which publishes nothing that view does not.

Attacker model and guarantee
----------------------------
The attacker sees every number any viewer can be shown, knows this module (threshold,
rounding buckets) and reads the reasons: a count hidden as ``small`` is in 1..H, one hidden
to ``protect`` is at least H + 1, a ``withheld`` one is at least 0, a shown 0 is 0, a group
that is absent has no records, and a ratio's numerator is at most its denominator.

G1 (totals). Take any public view together with its margins, and give the attacker every
published count in them *exactly* (not rounded, a worst case), which groups exist, the
bounds above, and the order of each hidden count against a shown partner (a shown numerator
bounds its hidden denominator, and the other way round). Then every count in 1..H hidden in
them keeps at least two values consistent with all of it: adding and subtracting totals,
rows and columns never pins it. The audit that makes this hold is exact for these tables: a
hidden count can change exactly when it lies on a cycle of hidden entries, in the residual
graph of the table with its margins, each entry able to move the way the cycle needs
(``_pinned``; the rows and columns of a two-way table with its margins form a
transportation network). tests/test_disclosure.py checks it with an integer program.
A table that has to be ``withheld`` is covered too. That happens when no pattern of hidden
cells leaves a small count free (1 + 11 + 11 = 23 pins all three, the attacker knowing the
11s are at least 11), or when the margins and the pattern of groups that exist would pin it
whatever the view hides (a row of a sparse two-way table with a single group is its margin).
Then none of that table's cells is published (each only "0 or more"); in a two-way view, no
count over the same records is published either, and the view lists every combination of
its margins' groups, those without records withheld the same way, so that which groups
exist is not known. The attacker is left with the margins, which pin nothing: the property
test checks this with the same integer program, withheld views included.

G2 (percentages, rates, intervals). Every published value, interval and reliability flag is
a function of published counts only, so it adds nothing: value x published denominator =
published numerator, and the interval is that of the published counts.

G3 (differences between two views). Take any two published counts, from any two views (any
filters, groupings or metrics), of record sets one inside the other. If the records between
them number 1..H, the two published numbers are consistent with at least min(3, H - 1)
values of that difference (3 under the default and DRB policies), even to an attacker who
knows it is in 1..H: every rounding bucket is at least 5 wide (9 under DRB) and buckets sit
at fixed positions, so "Jan-Mar minus Jan-Feb" or "all categories minus one" gives a range,
never March's count. (The tightest case: a hidden count beside a shown 20, whose bucket is
18-22, leaves 8, 9 or 10.)

What this does not claim. G1 is per view with its margins: two *different* two-way views
sharing a margin, slices of one table taken through filters, identities between different
counts (duration ``n`` + ``missing`` = responses), or many views combined (say, the same
records differenced over many periods) are protected by the rounding (G3) and the request
rules, as in statistical agencies' table builders, not by a proof. Counts of people (F1, F2)
do not add up over groups, so they get small-count hiding and rounding but no complementary
suppression. With ``enabled=False`` (an analyst's own jurisdictions) every number is shown
exactly as computed.

API
---
``DisclosurePolicy``, ``VIEWER``, ``ANALYST``, ``policy_for(role, *, showing, own,
switched_off, threshold, rounding)``.
``public_request(request, policy) -> (request, notes)``; raises ``DisclosureRefused``.
``disclose(con, request, policy) -> Disclosure`` and ``disclose_counts(con, count_request,
policy)``: public request, compute, margins and partners, protect. ``Disclosure.rows`` are
``PublicRow`` (a ``MetricRow`` plus ``suppressed``: field -> reason), ``.request`` the
request computed, ``.notes`` what was changed.
``protect(levels, policy, show=None) -> list[PublicRow]``: the pure core, for results already
computed; ``levels`` maps the grouping and every sub-tuple of it to rows (MetricRow or dict),
including rows of ``partners(ids)``.
``public_report(con, request, policy) -> dict``: what ``report --public --json`` prints.
``withheld_notes(rows, by)``: the notes for tables a view had to withhold.
``published_count(c, policy)``; ``count_bounds(shown, reason, policy)``: what a shown number
or reason tells about the true count. ``describe(reason, policy)``: words for a page;
``text(value, reason, policy)``: a field as printed ("1,240", "<15" under DRB, "hidden ...").
``public_rate_ratio(row, reference) -> Ratio``: the Katz ratio of two public rows.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from itertools import combinations, product

from .engine import (SET_FILTERS, CountRequest, MetricRequest, MetricRow, compute,
                     compute_counts, compute_levels, count_metric, derive, explain_run,
                     resolve, VALUE_FIELDS, row_json, supports)
from .errors import MetricError
from .registry import BY_ID, COUNTS, REGISTRY, Kind, Metric
from .stats import Ratio, not_estimable, rate_ratio

SMALL = "small"
PROTECT = "protect"
WITHHELD = "withheld"
DERIVED = "derived"

BASE = 5  # ordinary public rounding; ONS and table builders use 5 too
DRB_FLOOR = 14  # the DRB shows 1-14 as "<15"
MAX_PUBLIC_BY = 2  # the table shapes the audit covers exactly
_INF = math.inf


class DisclosureRefused(MetricError):
    """A request a public viewer may not make; the message says what is allowed."""


# --------------------------------------------------------------------------------------------
# Policy
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DisclosurePolicy:
    """How much a reader may see. ``threshold``: counts 1..threshold are hidden (0 = none).

    ``rounding`` switches to the Census DRB public-release schedule; ``enabled=False`` shows
    exact numbers (an analyst looking at their own jurisdiction).
    """

    threshold: int = 10
    rounding: bool = False
    enabled: bool = True
    # A reader who may see only some jurisdictions: asking for exactly those is asking for
    # "all of them" (their whole scope), not for a chosen selection of several.
    whole_jurisdictions: frozenset[str] = frozenset()

    def __post_init__(self):
        if not isinstance(self.threshold, int) or self.threshold < 0:
            raise ValueError(f"threshold must be a whole number >= 0, got {self.threshold!r}")

    @property
    def hidden_up_to(self) -> int:
        """H: the largest count that is hidden."""
        return max(self.threshold, DRB_FLOOR) if self.rounding else self.threshold

    @property
    def rounding_label(self) -> str:
        if not self.enabled:
            return "none"
        return "Census DRB" if self.rounding else f"nearest {BASE}"


VIEWER = DisclosurePolicy()
ANALYST = DisclosurePolicy(enabled=False)


def policy_for(role: str = "viewer", *, showing=(), own=(), switched_off: bool = False,
               threshold: int = 10, rounding: bool = False) -> DisclosurePolicy:
    """The policy for a reader: on for viewers always; analysts may switch it off.

    An analyst's switch applies only when every jurisdiction ``showing`` is one of ``own``
    (their jurisdictions); ``showing`` empty means all jurisdictions, so it stays on unless
    they own every one that is ``showing``. Example: ``policy_for("analyst",
    showing=("Springfield",), own=("Springfield",), switched_off=True)`` shows exact numbers.
    """
    if role not in ("viewer", "analyst"):
        raise ValueError(f"role must be 'viewer' or 'analyst', got {role!r}")
    own_view = bool(showing) and set(showing) <= set(own)
    enabled = not (role == "analyst" and switched_off and own_view)
    return DisclosurePolicy(threshold, rounding, enabled)


def describe(reason: str | None, policy: DisclosurePolicy = VIEWER) -> str:
    """Words a page prints in place of a hidden number."""
    texts = {
        SMALL: f"hidden (fewer than {policy.hidden_up_to + 1})",
        PROTECT: "hidden (protects a small count elsewhere in the table)",
        WITHHELD: "hidden (the table's small counts cannot be protected otherwise)",
        DERIVED: "hidden (built on a hidden count)",
    }
    return texts.get(reason, "")


def text(value, reason: str | None, policy: DisclosurePolicy = VIEWER) -> str:
    """A shown number or its hidden form as a page prints it: "1,240", "<15", "hidden (...)"."""
    if reason == SMALL and policy.rounding:
        return f"<{policy.hidden_up_to + 1}"
    if reason:
        return describe(reason, policy)
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


# --------------------------------------------------------------------------------------------
# Rounding
# --------------------------------------------------------------------------------------------

def published_count(c: int | None, policy: DisclosurePolicy = VIEWER) -> int | None:
    """What a reader sees for a true count ``c`` on its own: None when it is hidden as small."""
    if c is None or not policy.enabled:
        return c
    c = int(c)
    if c == 0:
        return 0
    if c <= policy.hidden_up_to:
        return None
    if policy.rounding:
        return max(_drb(c), _drb_floor(policy.hidden_up_to))
    return max((c + BASE // 2) // BASE * BASE, _base_floor(policy.hidden_up_to))


def _base_floor(h: int) -> int:
    """Smallest shown value: a multiple of 5, at least h + 3 so that its bucket is 5 wide."""
    return -(-(h + 3) // BASE) * BASE


def _drb(c: int) -> int:
    if c < 100:
        step = 10
    elif c < 1000:
        step = 50
    elif c < 10_000:
        step = 100
    elif c < 100_000:
        step = 500
    elif c < 1_000_000:
        step = 1000
    else:
        step = 10 ** (len(str(c)) - 4)
    q, r = divmod(c, step)
    if 2 * r > step or (2 * r == step and q % 2):  # halves to even
        q += 1
    return q * step


def _drb_floor(h: int) -> int:
    k = h + 1
    while _drb(k) <= h:
        k += 1
    return _drb(k)


def count_bounds(shown: int | None, reason: str | None, policy: DisclosurePolicy = VIEWER
                 ) -> tuple[int, float]:
    """The true counts a reader can infer from one shown count (or its reason): (low, high)."""
    h = policy.hidden_up_to
    if reason == SMALL:
        return 1, h
    if reason == PROTECT:
        return h + 1, _INF
    if reason == WITHHELD:
        return 0, _INF
    if not policy.enabled or shown == 0:
        return shown, shown
    lo = _first_at_least(shown, policy, h + 1)
    hi = _first_at_least(shown + 1, policy, lo) - 1
    return lo, hi


def _first_at_least(target: int, policy: DisclosurePolicy, start: int) -> int:
    """Smallest c >= start whose published count is >= target (published_count is monotone)."""
    lo, hi = start, max(start, target)
    while published_count(hi, policy) < target:
        hi *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        if published_count(mid, policy) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _sig4(x: float | None) -> float | None:
    """DRB: every other number to at most four significant digits."""
    if x is None or x == 0 or not math.isfinite(x):
        return x
    return round(x, 3 - int(math.floor(math.log10(abs(x)))))


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------

def public_shape(request, policy: DisclosurePolicy = VIEWER):
    """The request widened so that a public reader may make it, and the groups to keep.

    A filter with several values is not a public view (``public_request`` refuses it), but
    when the view is grouped by that same dimension the chosen groups are rows of the view of
    *all* its values, which is public: ask for that one and keep the chosen groups. "All" is
    the reader's whole scope (``whole_jurisdictions``) for jurisdictions. Returns ``(request,
    keep)`` with ``keep`` = {dimension: chosen values}, empty when nothing was widened.
    """
    if not policy.enabled:
        return request, {}
    keep = {dim: set(getattr(request.filters, name)) for name, dim in SET_FILTERS.items()
            if len(getattr(request.filters, name)) > 1 and dim in request.by}
    if not keep:
        return request, {}
    everything = {name: () for name, dim in SET_FILTERS.items() if dim in keep}
    if "jurisdictions" in everything:
        everything["jurisdictions"] = tuple(sorted(policy.whole_jurisdictions))
    return replace(request, filters=replace(request.filters, **everything)), keep


def _kept(rows: list, keep: dict) -> list:
    return [r for r in rows if all(r.group.get(d) in v for d, v in keep.items())]


def checked_request(request, policy: DisclosurePolicy = VIEWER):
    """The request ``disclose`` computes for ``policy`` (widened, then checked; raises
    ``DisclosureRefused``), and the notes on what was changed."""
    return public_request(public_shape(request, policy)[0], policy)


def explain(request, policy: DisclosurePolicy = VIEWER) -> str:
    """The SQL (with its parameters) that ``disclose`` runs for ``request``: the widened
    request, its margins and the ratios that share its counts, as they are computed."""
    asked, _ = checked_request(request, policy)
    if not policy.enabled:
        exact = compute_counts if isinstance(asked, CountRequest) else compute
        return explain_run(lambda con: exact(con, asked))
    return explain_run(lambda con: _levels(con, asked))


def public_request(request, policy: DisclosurePolicy = VIEWER):
    """The request a public reader may make, and notes on what was changed.

    Raises ``DisclosureRefused`` for more than two ``by`` dimensions or several values in one
    filter; widens the period to whole calendar months. Works on ``MetricRequest`` and
    ``CountRequest`` alike.
    """
    if not policy.enabled:
        return request, []
    if len(request.by) > MAX_PUBLIC_BY:
        raise DisclosureRefused(
            f"A public view groups by at most {MAX_PUBLIC_BY} dimensions; this one asks for "
            f"{len(request.by)} ({', '.join(request.by)}). Drop a --by, or sign in as an "
            f"analyst of your jurisdiction.")
    for name, label in SET_FILTERS.items():
        values = getattr(request.filters, name)
        if name == "jurisdictions" and set(values) == policy.whole_jurisdictions:
            continue
        if len(values) > 1:
            raise DisclosureRefused(
                f"A public view takes one {label} or all of them; this one asks for "
                f"{len(values)} ({', '.join(values)}). Choose one, or view them side by side "
                f"with --by {label}.")
    filters, notes = _whole_months(request.filters)
    return replace(request, filters=filters), notes


def _whole_months(filters):
    start, end = filters.date_from, filters.date_to
    new_start = start.replace(day=1) if start else None
    new_end = _month_end(end) if end else None
    if (new_start, new_end) == (start, end):
        return filters, []
    note = (f"Period widened to whole months for a public view: "
            f"{new_start or 'start'} to {new_end or 'end'}.")
    return replace(filters, date_from=new_start, date_to=new_end), [note]


def _month_end(d: date) -> date:
    first_next = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Public rows
# --------------------------------------------------------------------------------------------

@dataclass
class PublicRow(MetricRow):
    """A MetricRow as a reader sees it: hidden fields are None, ``suppressed`` says why."""

    suppressed: dict = field(default_factory=dict)


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
        return Disclosure([_as_public(r) for r in rows], request, policy, notes)
    levels = _levels(con, request)
    ids = tuple(dict.fromkeys(r.metric for r in levels[request.by] if r.metric in _asked(request)))
    keep = set(ids) | set(partners(ids))
    levels = {lv: [r for r in rows if r.metric in keep] for lv, rows in levels.items()}
    shown = _kept(protect(levels, policy, show=set(ids)), groups)
    return Disclosure(shown, request, policy, notes + withheld_notes(shown, request.by))


def _asked(request) -> set:
    return set(request.counts) if isinstance(request, CountRequest) else {
        m.id for m in resolve(request)}


def _levels(con, request) -> dict:
    """The view and its margins, for the asked metrics and every ratio that may be a partner:
    one scan per source for the metrics and their partners together (``compute_levels``)."""
    by, filters = request.by, request.filters
    wanted = _sub_groupings(by) + [by]
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
                "rounding": policy.rounding_label, "notes": shown.notes,
                "reasons": {k: describe(k, policy) for k in (SMALL, PROTECT, WITHHELD, DERIVED)}}}


def _skipped(request) -> list[str]:
    return [m.id for m in resolve(request) if not supports(m, request.by)]


def _sub_groupings(by: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every proper sub-tuple of ``by``, in order, smallest first."""
    return [sub for k in range(len(by)) for sub in combinations(by, k)]


def _as_public(r) -> PublicRow:
    r = _as_row(r)
    return PublicRow(**{f.name: getattr(r, f.name) for f in fields(MetricRow)})


def _as_row(r) -> MetricRow:
    if isinstance(r, MetricRow):
        return r
    names = {f.name for f in fields(MetricRow)}
    return MetricRow(**{k: v for k, v in dict(r).items() if k in names})


# --------------------------------------------------------------------------------------------
# Protect: the pure core
# --------------------------------------------------------------------------------------------

def protect(levels: dict, policy: DisclosurePolicy = VIEWER, show=None) -> list[PublicRow]:
    """Public rows for the top grouping in ``levels`` (grouping -> rows).

    ``levels`` must hold the requested grouping and every sub-tuple of it (the margins), all
    computed with the same filters, and rows of every metric in ``partners(...)`` of the
    metrics shown; rows may be MetricRow objects or their dicts. ``show``: the metric ids to
    return (default: all in the top grouping), in their order there.
    """
    levels = {tuple(k): [_as_row(r) for r in v] for k, v in levels.items()}
    top = max(levels, key=len)
    missing = [s for s in _sub_groupings(top) if s not in levels]
    if missing:
        raise ValueError(f"protect needs the margins of {top}: missing {missing}")
    shown = [r for r in levels[top] if show is None or r.metric in show]
    if not policy.enabled:
        return [_as_public(r) for r in shown]
    if len(top) > MAX_PUBLIC_BY:
        raise DisclosureRefused(f"A public view groups by at most {MAX_PUBLIC_BY} dimensions.")
    present = {r.metric for r in levels[top]}
    shown_ids = tuple(dict.fromkeys(r.metric for r in shown))
    lacking = [m for m in partners(shown_ids) if m not in present]
    if lacking:
        raise ValueError(f"protect needs the rows of {', '.join(lacking)}, which share counts "
                         f"with {', '.join(shown_ids)} (disclose() computes them)")
    metrics = {m: _metric(m) for m in present}
    status = _suppress_all(levels, metrics, top, policy.hidden_up_to)
    # The records (source) of any table that had to be withheld: every table over them is.
    # (Two-way views: a one-way table's groups are its margin's, known anyway.)
    sources = {m.table for m in metrics.values() for _, key, _ in _count_fields(m)
               if len(top) == 2 and WITHHELD in status[key][top].values()}
    out = [_all_withheld(r, metrics[r.metric], policy) if metrics[r.metric].table in sources
           else _public_row(r, metrics[r.metric], top, status, policy) for r in shown]
    held = [r for r in shown if metrics[r.metric].table in sources]
    return out + (_absent_groups(held, metrics, levels, top, policy) if held else [])


def _absent_groups(shown, metrics, levels, top, policy) -> list[PublicRow]:
    """For records one of whose tables in this view cannot be protected.

    None of their counts is published (any of them would tell which groups exist), and a
    two-way view also lists the combinations of its margins' groups that have no records,
    withheld the same way: the pattern of which groups exist, with the margins, could
    otherwise pin a small count (a row with a single group is its margin). A reader then
    learns only the margins. These are the rows for the groups without records.
    """
    out = []
    if len(top) == 2:
        for metric in dict.fromkeys(r.metric for r in shown):
            have = {_gkey(r, top) for r in shown if r.metric == metric}
            a, b = ([g for g in dict.fromkeys(_gkey(r, (d,))[0] for r in levels[(d,)]
                                              if r.metric == metric)] for d in top)
            for combo in product(a, b):
                if combo not in have:
                    absent = MetricRow(metric, dict(zip(top, combo)))
                    for name, _, _ in _count_fields(metrics[metric]):
                        setattr(absent, name, 0)
                    out.append(_all_withheld(absent, metrics[metric], policy))
    return out


def _all_withheld(r, m: Metric, policy) -> PublicRow:
    row = _as_public(r)
    for name, _, _ in _count_fields(m):
        if getattr(row, name) is not None:
            setattr(row, name, None)
            row.suppressed[name] = WITHHELD
    _recompute(row, m, policy)
    return row


def withheld_notes(rows: list[PublicRow], by: tuple[str, ...]) -> list[str]:
    """One note per metric whose table in this view is withheld, for the page to print."""
    ids = dict.fromkeys(r.metric for r in rows if WITHHELD in r.suppressed.values())
    return [f"{_metric(m).label} by {' and '.join(by) or 'nothing'}: the table is withheld; "
            f"with the totals and the groups that exist, any other pattern of hidden cells "
            f"would give away a small count." for m in ids]


_RATIOS = (Kind.PROPORTION, Kind.RATE_PER_1000)


def partners(metric_ids) -> tuple[str, ...]:
    """Registry ratios linked to these metrics (or named counts) through shared counts.

    The attacker reads them too: a published numerator is a lower bound on its denominator and
    a published denominator an upper bound on its numerator, so a count's protection depends
    on every ratio it takes part in, and on theirs in turn (the closure is returned).
    ``disclose`` computes them alongside the request.
    """
    ids = list(metric_ids)
    keys = {key for m in ids for key in _ratio_keys(_metric(m))}
    grew = True
    while grew:
        grew = False
        for m in REGISTRY:
            if m.kind in _RATIOS and m.id not in ids and _ratio_keys(m) & keys:
                ids.append(m.id)
                keys |= _ratio_keys(m)
                grew = True
    return tuple(i for i in ids if i not in metric_ids)


def _ratio_keys(m: Metric) -> set:
    return {key for _, key, additive in _count_fields(m) if additive and key[0] == "k"}


def _suppress_all(levels: dict, metrics: dict, top: tuple, h: int) -> dict:
    """table key -> grouping -> {group key: reason or None}, for every count in the view.

    Stage by stage, margins first (the total, then each one-way table, then the two-way
    table), each decided from its own data and lower stages only, as its own view would.
    Within a stage the tables are protected again until none changes, because a published
    partner bounds a hidden count (numerator <= denominator); hiding only ever grows, so this
    ends.
    """
    tables = _tables(levels, metrics)
    status = {key: {dims: {g: (SMALL if 1 <= c <= h else None) for g, c in cells.items()}
                    for dims, cells in t.items()}
              for key, (t, _) in tables.items()}
    additive = sorted((key for key, (_, add) in tables.items() if add), key=repr)
    stages = [(d,) for d in top] + ([top] if len(top) == 2 else [])
    for stage in stages:
        changed = True
        while changed:
            changed = False
            limits = _link_limits(levels, metrics, status)
            for key in additive:
                if stage not in tables[key][0]:
                    continue
                protect_stage = _protect_one_way if len(stage) == 1 else _protect_two_way
                new = protect_stage(tables[key][0], status[key], stage, h, limits.get(key, {}))
                if new != status[key][stage]:
                    status[key][stage] = new
                    changed = True
    return status


def _link_limits(levels: dict, metrics: dict, status: dict) -> dict:
    """table key -> {(grouping, group): (low, high)} that published partners reveal.

    A published numerator is a lower bound on its denominator, a published denominator an
    upper bound on its numerator. A protection found under these bounds moves one count while
    its published partners stay as they are, so it is a table no reader can rule out.
    """
    limits: dict = {}
    for dims, rows in levels.items():
        for r in rows:
            m = metrics.get(r.metric)
            if m is None or m.kind not in _RATIOS or r.numerator is None or not r.denominator:
                continue
            if r.numerator > r.denominator:  # not a sub-count here: no such inference
                continue
            g = _gkey(r, dims)
            num, den = ("k", m.numerator), ("k", m.denominator)
            for key, partner, bound in ((den, num, (r.numerator, _INF)),
                                        (num, den, (0, r.denominator))):
                if status.get(partner, {}).get(dims, {}).get(g):
                    continue  # a hidden partner reveals only its reason's bounds
                lo, hi = limits.setdefault(key, {}).get((dims, g), (0, _INF))
                limits[key][(dims, g)] = (max(lo, bound[0]), min(hi, bound[1]))
    return limits


def _metric(metric_id: str) -> Metric:
    if metric_id in BY_ID:
        return BY_ID[metric_id]
    if metric_id in COUNTS:
        return count_metric(metric_id)
    raise ValueError(f"unknown metric or count {metric_id!r}")


def _count_fields(m: Metric) -> list[tuple[str, tuple, bool]]:
    """(row field, table key, additive) for each count a metric's row shows.

    Rows of different metrics that show the same count share one table, so the count has one
    status wherever it appears.
    """
    if m.kind == Kind.COUNT:
        return [("numerator", ("k", m.numerator), True)]
    if m.kind in (Kind.PROPORTION, Kind.RATE_PER_1000):
        return [("numerator", ("k", m.numerator), True),
                ("denominator", ("k", m.denominator), True)]
    if m.kind == Kind.PER_CAPITA:
        return [("numerator", ("k", m.numerator), True)]  # residents are public
    if m.kind == Kind.DURATION:
        return [("n", ("n", m.id), True), ("missing", ("missing", m.id), True)]
    if m.kind == Kind.DISTINCT:
        return [("numerator", ("people",), False)]
    if m.kind == Kind.REPEAT:
        return [("numerator", ("repeat", m.numerator), False),
                ("denominator", ("people",), False)]
    raise ValueError(f"no disclosure rule for metric kind {m.kind!r}")


def _gkey(row: MetricRow, dims: tuple[str, ...]) -> tuple:
    return tuple(row.group.get(d) for d in dims)


def _tables(levels: dict, metrics: dict) -> dict:
    """table key -> ({grouping: {group key: count}}, additive)."""
    tables: dict = {}
    for dims, rows in levels.items():
        for r in rows:
            if r.metric not in metrics:
                continue
            for name, key, additive in _count_fields(metrics[r.metric]):
                value = getattr(r, name)
                if value is None:
                    continue
                t = tables.setdefault(key, ({}, additive))[0]
                t.setdefault(dims, {})[_gkey(r, dims)] = int(value)
    return tables


# --------------------------------------------------------------------------------------------
# The audit: residual cycles in a table with its margins
# --------------------------------------------------------------------------------------------
# A table with its margins is written as one array Y whose every row and column sums to zero:
# cells +x, row and column margins -x, the grand total +x (for a one-way table: cells +x and
# the total -x on a single row). Any other table consistent with the published numbers
# differs from the true one by a sum of cycles that alternately add and subtract 1 along rows
# and columns. So a hidden count can change, within the bounds its reason reveals, exactly when
# it lies on such a cycle of hidden entries, each of which can move the required way.

@dataclass
class _Entry:
    key: tuple
    u: tuple  # row node
    v: tuple  # column node
    sign: int
    value: int
    lb: float
    ub: float

    @property
    def up(self) -> bool:  # can Y = sign * value grow by 1?
        return self.value < self.ub if self.sign > 0 else self.value > self.lb

    @property
    def down(self) -> bool:
        return self.value > self.lb if self.sign > 0 else self.value < self.ub


def _bounds(reason: str, h: int, limit=(0, _INF)) -> tuple[float, float]:
    lo, hi = {SMALL: (1, h), PROTECT: (h + 1, _INF), WITHHELD: (0, _INF)}[reason]
    return max(lo, limit[0]), min(hi, limit[1])


def _arcs(entries: list[_Entry]) -> dict:
    out: dict = {}
    for e in entries:
        if e.up:
            out.setdefault(e.u, []).append((e.v, e.key))
        if e.down:
            out.setdefault(e.v, []).append((e.u, e.key))
    return out


def _reach(arcs: dict, start, skip_key, reverse: bool = False) -> set:
    if reverse:
        rev: dict = {}
        for a, outs in arcs.items():
            for b, key in outs:
                rev.setdefault(b, []).append((a, key))
        arcs = rev
    seen, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        for nxt, key in arcs.get(node, ()):
            if key != skip_key and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _free(e: _Entry, arcs: dict) -> bool:
    """Can e move by one (up or down) along a cycle of other hidden entries?"""
    if e.up and e.u in _reach(arcs, e.v, e.key):
        return True
    return e.down and e.v in _reach(arcs, e.u, e.key)


def _pinned(entries: list[_Entry], must_be_free: set) -> list[_Entry]:
    arcs = _arcs(entries)
    return [e for e in entries if e.key in must_be_free and not _free(e, arcs)]


def _harden(entries: list[_Entry], candidates: list[_Entry], must_be_free: set):
    """Move candidates into ``entries`` (hidden, reason protect) until no small count is pinned.

    Returns the keys hidden, or None when even hiding every candidate leaves one pinned.
    """
    hidden_keys = []
    pinned = _pinned(entries, must_be_free)
    while pinned:
        if not candidates:
            return None
        pick, closes = _best_candidate(pinned[0], entries, candidates)
        picks = [pick] if closes else (_rectangle(pinned[0], entries, candidates) or [pick])
        for p in picks:
            candidates.remove(p)
            entries.append(p)
            hidden_keys.append(p.key)
        arcs = _arcs(entries)
        pinned = [e for e in pinned if not _free(e, arcs)]
    return hidden_keys


def _rectangle(target: _Entry, entries: list[_Entry], candidates: list[_Entry]):
    """The cheapest other three corners of a rectangle through ``target`` (two-way tables).

    A rectangle of hidden cells is the shortest cycle that can free a cell: the classic
    complementary pattern. Corners already hidden cost nothing; returns the new corners.
    """
    hidden = {(e.u, e.v): e for e in entries}
    open_ = {(c.u, c.v): c for c in candidates}
    rows = {u for u, _ in hidden} | {u for u, _ in open_}
    cols = {v for _, v in hidden} | {v for _, v in open_}
    best, best_cost = None, None
    for u2 in sorted(rows - {target.u}, key=repr):
        for v2 in sorted(cols - {target.v}, key=repr):
            corners = [(target.u, v2), (u2, target.v), (u2, v2)]
            if not all(c in hidden or c in open_ for c in corners):
                continue
            new = [open_[c] for c in corners if c not in hidden]
            if not new:
                continue
            cost = (sum(not (c.up and c.down) for c in new), sum(c.value for c in new))
            if best_cost is None or cost < best_cost:
                best, best_cost = new, cost
    return best


def _best_candidate(target: _Entry, entries: list[_Entry], candidates: list[_Entry]):
    """The published cell whose hiding best frees ``target``, and whether it alone does.

    First one that closes a cycle through it; then one that touches the nodes it can reach;
    among equals a cell of at least H + 2 (it can move both ways), the smallest such, else the
    largest (least information lost, most protection).
    """
    arcs = _arcs(entries)
    from_v, to_u = _reach(arcs, target.v, target.key), _reach(arcs, target.u, target.key, True)
    from_u, to_v = _reach(arcs, target.u, target.key), _reach(arcs, target.v, target.key, True)

    def closes(c: _Entry) -> bool:
        links = [(c.u, c.v)] if c.up else []
        links += [(c.v, c.u)] if c.down else []
        up = target.up and any(a in from_v and b in to_u for a, b in links)
        down = target.down and any(a in from_u and b in to_v for a, b in links)
        return up or down

    near = from_v | to_u | from_u | to_v

    def rank(c: _Entry):
        touches = c.u in near or c.v in near
        two_way = c.up and c.down
        return (not closes(c), not touches, not two_way, c.value if two_way else -c.value,
                _sort_key(c.key))

    pick = min(candidates, key=rank)
    return pick, closes(pick)


def _sort_key(key) -> str:
    return repr(key)


def _protect_one_way(table: dict, status: dict, dims: tuple, h: int, limits: dict) -> dict:
    """Statuses of a one-way table given its (already decided) total."""
    cells, own = table.get(dims, {}), dict(status.get(dims, {}))
    p, q = ("P",), ("Q",)
    entries, candidates = [], []
    for g, c in cells.items():
        reason = own[g] or PROTECT
        e = _Entry(g, p, q, +1, c, *_bounds(reason, h, limits.get((dims, g), (0, _INF))))
        if own[g]:
            entries.append(e)
        elif c > 0:
            candidates.append(e)
    total_reason = status.get((), {}).get(())
    if total_reason:
        entries.append(_Entry(("__total__",), p, q, -1, table[()][()],
                              *_bounds(total_reason, h, limits.get(((), ()), (0, _INF)))))
    return _finish(entries, candidates, own, h, lambda key: key)


def _finish(entries, candidates, own: dict, h: int, cell_of) -> dict:
    small = {e.key for e in entries if 1 <= e.value <= h}
    if not small:
        return own
    hidden = _harden(entries, candidates, small)
    if hidden is None:
        return {g: WITHHELD for g in own}
    own.update({cell_of(k): PROTECT for k in hidden})
    return own


_STAR = "*"


def _protect_two_way(table: dict, status: dict, top: tuple, h: int, limits: dict) -> dict:
    """Statuses of a two-way table given its already decided margins."""
    a, b = top
    own = dict(status.get(top, {}))
    entries, candidates = [], []
    for (i, j), c in table.get(top, {}).items():
        reason = own[(i, j)] or PROTECT
        e = _Entry(("cell", i, j), ("r", i), ("c", j), +1, c,
                   *_bounds(reason, h, limits.get((top, (i, j)), (0, _INF))))
        if own[(i, j)]:
            entries.append(e)
        elif c > 0:
            candidates.append(e)
    margins = [((a,), lambda g: (("r", g[0]), ("c", _STAR)), -1),
               ((b,), lambda g: (("r", _STAR), ("c", g[0])), -1),
               ((), lambda g: (("r", _STAR), ("c", _STAR)), +1)]
    for dims, nodes, sign in margins:
        for g, reason in status.get(dims, {}).items():
            if reason:
                u, v = nodes(g)
                entries.append(_Entry((dims, g), u, v, sign, table[dims][g],
                                      *_bounds(reason, h, limits.get((dims, g), (0, _INF)))))
    return _finish(entries, candidates, own, h, lambda key: (key[1], key[2]))


# --------------------------------------------------------------------------------------------
# Public rows: published counts, and numbers recomputed from them
# --------------------------------------------------------------------------------------------

def _public_row(r: MetricRow, m: Metric, top: tuple, status: dict, policy: DisclosurePolicy
                ) -> PublicRow:
    out = _as_public(r)
    g = _gkey(r, top)
    for name, key, _ in _count_fields(m):
        true = getattr(r, name)
        if true is None:
            continue
        reason = status[key][top].get(g)
        if reason:
            setattr(out, name, None)
            out.suppressed[name] = reason
        else:
            setattr(out, name, _shown(int(true), policy))
    _recompute(out, m, policy)
    return out


def _shown(c: int, policy: DisclosurePolicy) -> int:
    shown = published_count(c, policy)
    if shown is None:  # the tables hide every small count first; never publish one anyway
        raise RuntimeError(f"a count of {c} reached publication unprotected")
    return shown


# What each kind's value is built on, and the fields built on it (the rest: a share or rate).
_BUILT_ON = {Kind.DURATION: ("n",), Kind.PER_CAPITA: ("numerator",)}
_BUILT = {Kind.DURATION: ("value", "median", "p90", "reliability"),
          "per_capita": ("value", "reliability")}


def _recompute(row: PublicRow, m: Metric, policy: DisclosurePolicy) -> None:
    """Values from the published counts only (G2); hidden when a count they use is hidden."""
    hidden = any(c in row.suppressed for c in _BUILT_ON.get(m.kind, ("numerator",
                                                                      "denominator")))
    if m.kind in (Kind.COUNT, Kind.DISTINCT):
        derive(row, m)  # the value is the count: hidden for the same reason
        if hidden:
            row.suppressed["value"] = row.suppressed["numerator"]
    else:
        if not hidden:
            derive(row, m)
        _derived(row, hidden, _BUILT.get(m.kind, ("value", "ci_low", "ci_high", "reliability")))
    if policy.rounding:
        for name in VALUE_FIELDS:
            setattr(row, name, _sig4(getattr(row, name)))


def _derived(row: PublicRow, hidden: bool, names) -> None:
    if hidden:
        for name in names:
            setattr(row, name, None)
            row.suppressed[name] = DERIVED


def public_rate_ratio(row: PublicRow, reference: PublicRow) -> Ratio:
    """The Katz ratio of two public proportion rows; not estimable when a count is hidden."""
    counts = (row.numerator, row.denominator, reference.numerator, reference.denominator)
    if any(c is None for c in counts):
        return not_estimable("a count behind it is hidden to protect privacy")
    return rate_ratio(*counts)
