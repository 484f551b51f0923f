"""The audit: residual cycles in a table with its margins.

A table with its margins is written as one array Y whose every row and column sums to zero:
cells +x, row and column margins -x, the grand total +x (for a one-way table: cells +x and
the total -x on a single row). Any other table consistent with the published numbers
differs from the true one by a sum of cycles that alternately add and subtract 1 along rows
and columns. So a hidden count can change, within the bounds its reason reveals, exactly when
it lies on such a cycle of hidden entries, each of which can move the required way.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .policy import INF, PROTECT, SMALL, WITHHELD


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


def _bounds(reason: str, h: int, limit=(0, INF)) -> tuple[float, float]:
    lo, hi = {SMALL: (1, h), PROTECT: (h + 1, INF), WITHHELD: (0, INF)}[reason]
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


def _harden(entries: list[_Entry], candidates: list[_Entry], must_be_free: set,
            lost: dict | None = None):
    """Move candidates into ``entries`` (hidden, reason protect) until no small count is pinned.

    ``lost``: entry key -> rates its hiding would newly hide (fewer is better). Returns the
    keys hidden, or None when even hiding every candidate leaves one pinned.
    """
    lost = lost or {}
    hidden_keys = []
    pinned = _pinned(entries, must_be_free)
    while pinned:
        if not candidates:
            return None
        pick, closes = _best_candidate(pinned[0], entries, candidates, lost)
        picks = [pick] if closes else (_rectangle(pinned[0], entries, candidates, lost)
                                       or [pick])
        for p in picks:
            candidates.remove(p)
            entries.append(p)
            hidden_keys.append(p.key)
        arcs = _arcs(entries)
        pinned = [e for e in pinned if not _free(e, arcs)]
    return hidden_keys


def _rectangle(target: _Entry, entries: list[_Entry], candidates: list[_Entry], lost: dict):
    """The cheapest other three corners of a rectangle through ``target`` (two-way tables).

    A rectangle of hidden cells is the shortest cycle that can free a cell: the classic
    complementary pattern. Corners already hidden cost nothing; among the rest, corners that
    can move both ways, then fewer rates newly hidden, then smaller counts. Returns the new
    corners.
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
            cost = (sum(not (c.up and c.down) for c in new),
                    sum(lost.get(c.key, 0) for c in new), sum(c.value for c in new))
            if best_cost is None or cost < best_cost:
                best, best_cost = new, cost
    return best


def _best_candidate(target: _Entry, entries: list[_Entry], candidates: list[_Entry],
                    lost: dict):
    """The published cell whose hiding best frees ``target``, and whether it alone does.

    First one that closes a cycle through it; then one that touches the nodes it can reach;
    then one that hides the fewest rates not hidden already (``lost``: a group whose rate is
    gone with its other count costs no rate); among equals a cell of at least H + 2 (it can
    move both ways), the smallest such, else the largest (least information lost, most
    protection).
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
        return (not closes(c), not touches, lost.get(c.key, 0), not two_way,
                c.value if two_way else -c.value, _sort_key(c.key))

    pick = min(candidates, key=rank)
    return pick, closes(pick)


def _sort_key(key) -> str:
    return repr(key)


def protect_one_way(table: dict, status: dict, dims: tuple, h: int, limits: dict,
                    lost: dict | None = None) -> dict:
    """Statuses of a one-way table given its (already decided) total.

    ``lost``: group -> rates that hiding its count would newly hide (complements go where
    it is least)."""
    cells, own = table.get(dims, {}), dict(status.get(dims, {}))
    p, q = ("P",), ("Q",)
    entries, candidates = [], []
    for g, c in cells.items():
        reason = own[g] or PROTECT
        e = _Entry(g, p, q, +1, c, *_bounds(reason, h, limits.get((dims, g), (0, INF))))
        if own[g]:
            entries.append(e)
        elif c > 0:
            candidates.append(e)
    total_reason = status.get((), {}).get(())
    if total_reason:
        entries.append(_Entry(("__total__",), p, q, -1, table[()][()],
                              *_bounds(total_reason, h, limits.get(((), ()), (0, INF)))))
    return _finish(entries, candidates, own, h, lambda key: key, lost)


def _finish(entries, candidates, own: dict, h: int, cell_of, lost: dict | None) -> dict:
    small = {e.key for e in entries if 1 <= e.value <= h}
    if not small:
        return own
    by_key = {c.key: (lost or {}).get(cell_of(c.key), 0) for c in candidates}
    hidden = _harden(entries, candidates, small, by_key)
    if hidden is None:
        return {g: WITHHELD for g in own}
    own.update({cell_of(k): PROTECT for k in hidden})
    return own


_STAR = "*"


def protect_two_way(table: dict, status: dict, top: tuple, h: int, limits: dict,
                    lost: dict | None = None) -> dict:
    """Statuses of a two-way table given its already decided margins (``lost``: as for
    ``protect_one_way``, per cell)."""
    a, b = top
    own = dict(status.get(top, {}))
    entries, candidates = [], []
    for (i, j), c in table.get(top, {}).items():
        reason = own[(i, j)] or PROTECT
        e = _Entry(("cell", i, j), ("r", i), ("c", j), +1, c,
                   *_bounds(reason, h, limits.get((top, (i, j)), (0, INF))))
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
                                      *_bounds(reason, h, limits.get((dims, g), (0, INF)))))
    return _finish(entries, candidates, own, h, lambda key: (key[1], key[2]), lost)
