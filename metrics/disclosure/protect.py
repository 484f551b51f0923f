"""Protect: the pure core. Small counts hidden, then complementary cells, margins first, until
the audit finds no small count pinned; a table that cannot be protected is withheld."""
from __future__ import annotations

from itertools import combinations, product

from ..request import MetricRow
from ..registry import REGISTRY, Kind, Metric
from .audit import protect_one_way, protect_two_way
from .policy import (INF, MAX_PUBLIC_BY, SMALL, VIEWER, WITHHELD, DisclosurePolicy,
                     DisclosureRefused)
from .rows import (PublicRow, as_public, as_row, count_fields, group_key, metric_of,
                   public_row, recompute)


def protect(levels: dict, policy: DisclosurePolicy = VIEWER, show=None) -> list[PublicRow]:
    """Public rows for the top grouping in ``levels`` (grouping -> rows).

    ``levels`` must hold the requested grouping and every sub-tuple of it (the margins), all
    computed with the same filters, and rows of every metric in ``partners(...)`` of the
    metrics shown; rows may be MetricRow objects or their dicts. ``show``: the metric ids to
    return (default: all in the top grouping), in their order there.
    """
    levels = {tuple(k): [as_row(r) for r in v] for k, v in levels.items()}
    top = max(levels, key=len)
    missing = [s for s in sub_groupings(top) if s not in levels]
    if missing:
        raise ValueError(f"protect needs the margins of {top}: missing {missing}")
    shown = [r for r in levels[top] if show is None or r.metric in show]
    if not policy.enabled:
        return [as_public(r) for r in shown]
    if len(top) > MAX_PUBLIC_BY:
        raise DisclosureRefused(f"A public view groups by at most {MAX_PUBLIC_BY} dimensions.")
    present = {r.metric for r in levels[top]}
    shown_ids = tuple(dict.fromkeys(r.metric for r in shown))
    lacking = [m for m in partners(shown_ids) if m not in present]
    if lacking:
        raise ValueError(f"protect needs the rows of {', '.join(lacking)}, which share counts "
                         f"with {', '.join(shown_ids)} (disclose() computes them)")
    metrics = {m: metric_of(m) for m in present}
    status = _suppress_all(levels, metrics, top, policy.hidden_up_to)
    # The records (source) of any table that had to be withheld: every table over them is.
    # (Two-way views: a one-way table's groups are its margin's, known anyway.)
    sources = {m.table for m in metrics.values() for _, key, _ in count_fields(m)
               if len(top) == 2 and WITHHELD in status[key][top].values()}
    out = [_all_withheld(r, metrics[r.metric], policy) if metrics[r.metric].table in sources
           else public_row(r, metrics[r.metric], top, status, policy) for r in shown]
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
            have = {group_key(r, top) for r in shown if r.metric == metric}
            a, b = ([g for g in dict.fromkeys(group_key(r, (d,))[0] for r in levels[(d,)]
                                              if r.metric == metric)] for d in top)
            for combo in product(a, b):
                if combo not in have:
                    absent = MetricRow(metric, dict(zip(top, combo)))
                    for name, _, _ in count_fields(metrics[metric]):
                        setattr(absent, name, 0)
                    out.append(_all_withheld(absent, metrics[metric], policy))
    return out


def _all_withheld(r, m: Metric, policy) -> PublicRow:
    row = as_public(r)
    for name, _, _ in count_fields(m):
        if getattr(row, name) is not None:
            setattr(row, name, None)
            row.suppressed[name] = WITHHELD
    recompute(row, m, policy)
    return row


def withheld_notes(rows: list[PublicRow], by: tuple[str, ...]) -> list[str]:
    """One note per metric whose table in this view is withheld, for the page to print."""
    ids = dict.fromkeys(r.metric for r in rows if WITHHELD in r.suppressed.values())
    return [f"{metric_of(m).label} by {' and '.join(by) or 'nothing'}: the table is withheld; "
            f"with the totals and the groups that exist, any other pattern of hidden cells "
            f"would give away a small count." for m in ids]


RATIOS = (Kind.PROPORTION, Kind.RATE_PER_1000)


def partners(metric_ids) -> tuple[str, ...]:
    """Registry ratios linked to these metrics (or named counts) through shared counts.

    The attacker reads them too: a published numerator is a lower bound on its denominator and
    a published denominator an upper bound on its numerator, so a count's protection depends
    on every ratio it takes part in, and on theirs in turn (the closure is returned).
    ``disclose`` computes them alongside the request.
    """
    ids = list(metric_ids)
    keys = {key for m in ids for key in _ratio_keys(metric_of(m))}
    grew = True
    while grew:
        grew = False
        for m in REGISTRY:
            if m.kind in RATIOS and m.id not in ids and _ratio_keys(m) & keys:
                ids.append(m.id)
                keys |= _ratio_keys(m)
                grew = True
    return tuple(i for i in ids if i not in metric_ids)


def _ratio_keys(m: Metric) -> set:
    return {key for _, key, additive in count_fields(m) if additive and key[0] == "k"}


def _suppress_all(levels: dict, metrics: dict, top: tuple, h: int) -> dict:
    """table key -> grouping -> {group key: reason or None}, for every count in the view.

    Stage by stage, margins first (the total, then each one-way table, then the two-way
    table), each decided from its own data and lower stages only, as its own view would.
    Within a stage the tables are protected again until none changes, because a published
    partner bounds a hidden count (numerator <= denominator); hiding only ever grows, so this
    ends.

    Tables are taken largest first (a denominator before its numerators), and a complementary
    cell is sought first in the groups whose rate is already hidden (``_rates_lost``): the
    numerator and the denominator of a small group are then protected by the same other group,
    which loses one rate, not two (issue 24).
    """
    tables = _tables(levels, metrics)
    status = {key: {dims: {g: (SMALL if 1 <= c <= h else None) for g, c in cells.items()}
                    for dims, cells in t.items()}
              for key, (t, _) in tables.items()}
    additive = sorted((key for key, (_, add) in tables.items() if add),
                      key=lambda k: (-tables[k][0].get((), {}).get((), 0), repr(k)))
    links = _ratio_links(metrics)
    stages = [(d,) for d in top] + ([top] if len(top) == 2 else [])
    for stage in stages:
        changed = True
        while changed:
            changed = False
            limits = _link_limits(levels, metrics, status)
            for key in additive:
                if stage not in tables[key][0]:
                    continue
                protect_stage = protect_one_way if len(stage) == 1 else protect_two_way
                lost = _rates_lost(key, stage, links, tables, status)
                new = protect_stage(tables[key][0], status[key], stage, h, limits.get(key, {}),
                                    lost)
                if new != status[key][stage]:
                    status[key][stage] = new
                    changed = True
    return status


def _ratio_links(metrics: dict) -> dict:
    """table key -> the table keys it makes a rate with (numerator <-> denominator)."""
    links: dict = {}
    for m in metrics.values():
        if m.kind in RATIOS:
            num, den = ("k", m.numerator), ("k", m.denominator)
            links.setdefault(num, set()).add(den)
            links.setdefault(den, set()).add(num)
    return links


def _rates_lost(key, stage, links: dict, tables: dict, status: dict) -> dict:
    """group -> how many rates hiding this table's count of the group would newly hide.

    A rate whose other count is already hidden there is hidden anyway: a complement in that
    group costs one count and no rate, the least information a complement can take away.
    """
    partners = [status[other][stage] for other in links.get(key, ())
                if stage in status.get(other, {})]
    return {g: sum(1 for p in partners if g in p and not p[g])
            for g in tables[key][0].get(stage, {})}


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
            if m is None or m.kind not in RATIOS or r.numerator is None or not r.denominator:
                continue
            if r.numerator > r.denominator:  # not a sub-count here: no such inference
                continue
            g = group_key(r, dims)
            num, den = ("k", m.numerator), ("k", m.denominator)
            for key, partner, bound in ((den, num, (r.numerator, INF)),
                                        (num, den, (0, r.denominator))):
                if status.get(partner, {}).get(dims, {}).get(g):
                    continue  # a hidden partner reveals only its reason's bounds
                lo, hi = limits.setdefault(key, {}).get((dims, g), (0, INF))
                limits[key][(dims, g)] = (max(lo, bound[0]), min(hi, bound[1]))
    return limits


def _tables(levels: dict, metrics: dict) -> dict:
    """table key -> ({grouping: {group key: count}}, additive)."""
    tables: dict = {}
    for dims, rows in levels.items():
        for r in rows:
            if r.metric not in metrics:
                continue
            for name, key, additive in count_fields(metrics[r.metric]):
                value = getattr(r, name)
                if value is None:
                    continue
                t = tables.setdefault(key, ({}, additive))[0]
                t.setdefault(dims, {})[group_key(r, dims)] = int(value)
    return tables


def sub_groupings(by: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every proper sub-tuple of ``by``, in order, smallest first."""
    return [sub for k in range(len(by)) for sub in combinations(by, k)]
