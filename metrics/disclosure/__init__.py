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
   from above. Complements withhold as little as they can: tables go largest first (a
   denominator before its numerators), and a complement is taken first where a partner count
   is already hidden, so a small group's numerator and denominator are covered by the same
   other group (one rate lost, not two); among the rest, the smallest count that can move
   both ways. If no choice of cells passes the audit, every cell of the table is hidden
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

Modules
-------
``policy`` (the policy, the reasons and their words), ``rounding`` (published counts and what
they reveal), ``requests`` (what a public reader may ask), ``publish`` (compute with margins
and partners, protect, return; ``explain``), ``protect`` (the core: which cells to hide),
``audit`` (the residual-cycle check behind G1), ``rows`` (public rows, derived numbers).

API
---
``public_shape(request, policy) -> (request, keep)``: several values of a filter the view is
grouped by, widened to all of them (keep: the chosen groups); ``checked_request`` applies it
and ``public_request``; ``explain(request, policy)``: the SQL ``disclose`` runs.
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
``rule(policy)``: the rule applied, in the one short sentence every chart, table, report and
brief prints beside its figures; ``rounded_label(policy)``: what a count's header or tooltip
adds ("rounded (nearest 5)"), None for exact figures.
``public_rate_ratio(row, reference) -> Ratio``: the Katz ratio of two public rows.
"""
from .policy import (ANALYST, BASE, DERIVED, DRB_FLOOR, MAX_PUBLIC_BY, PROTECT, SMALL, VIEWER,
                     WITHHELD, DisclosurePolicy, DisclosureRefused, describe, policy_for,
                     rounded_label, rule, text)
from .protect import partners, protect, withheld_notes
from .publish import Disclosure, disclose, disclose_counts, explain, public_report
from .requests import checked_request, public_request, public_shape
from .rounding import count_bounds, published_count
from .rows import PublicRow, public_rate_ratio

__all__ = ["ANALYST", "BASE", "DERIVED", "DRB_FLOOR", "MAX_PUBLIC_BY", "PROTECT", "SMALL",
           "VIEWER", "WITHHELD", "DisclosurePolicy", "DisclosureRefused", "describe",
           "policy_for", "rounded_label", "rule", "text", "partners", "protect",
           "withheld_notes", "Disclosure",
           "disclose", "disclose_counts", "explain", "public_report", "checked_request",
           "public_request", "public_shape", "count_bounds", "published_count", "PublicRow",
           "public_rate_ratio"]
