"""Rounding: what a reader sees for a true count (nearest 5, or the Census DRB schedule), and
what a shown count or its reason tells about the true one."""
from __future__ import annotations

import math

from .policy import BASE, INF, PROTECT, SMALL, VIEWER, WITHHELD, DisclosurePolicy


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
        return h + 1, INF
    if reason == WITHHELD:
        return 0, INF
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


def sig4(x: float | None) -> float | None:
    """DRB: every other number to at most four significant digits."""
    if x is None or x == 0 or not math.isfinite(x):
        return x
    return round(x, 3 - int(math.floor(math.log10(abs(x)))))
