"""Interval estimates and reliability flags (DOMAIN.md §5). Pure arithmetic on counts.

Public API
----------
``wilson(x, n)``
    Wilson score interval for one proportion: ``(low, high)``, ``(None, None)`` when n is 0.
``rate_ratio(a, n1, c, n2)``
    Ratio of two proportions, (a/n1) / (c/n2), with the Katz log interval
    ``exp(ln RR ± z·√(1/a − 1/n1 + 1/c − 1/n2))``. Use it for the relative rate index of a
    decision point: group rate over reference-group rate, each over the previous stage.
``rate_ratio_per_resident(x1, N1, x2, N2, moe1=None, moe2=None)``
    Ratio of two rates per resident, (x1/N1) / (x2/N2), with the log interval
    ``exp(ln IRR ± z·√(1/x1 + 1/x2 + (SE_N1/N1)² + (SE_N2/N2)²))``, where ``SE = MOE / 1.645``
    for ACS denominators published with a 90% margin of error (None: an exact count).
``reliability(events)``
    'ok', 'unstable' or 'insufficient' from the number of events behind a rate.

Both ratio functions return a :class:`Ratio` ``(estimate, low, high, reason)``. A ratio is
*not estimable* when a count on either side is zero or a denominator is zero or unknown: then
``estimate``, ``low`` and ``high`` are all None and ``reason`` says why, in words a page can
print. They never return inf or NaN. Impossible inputs (negative counts, more events than
trials) are programmer mistakes and raise ``ValueError``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

Z95 = 1.96
# ACS margins of error are published at the 90% level: SE = MOE / 1.645 (ACS handbook).
ACS_Z90 = 1.645


class Ratio(NamedTuple):
    """A ratio with its interval, or why it cannot be estimated (then all three are None)."""

    estimate: float | None
    low: float | None
    high: float | None
    reason: str | None = None

    @property
    def estimable(self) -> bool:
        return self.estimate is not None


def not_estimable(reason: str) -> Ratio:
    return Ratio(None, None, None, reason)


def wilson(x: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for x successes in n trials; (None, None) when n is 0."""
    if not n:
        return None, None
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_ratio(a: int, n1: int, c: int, n2: int, z: float = Z95) -> Ratio:
    """(a/n1) / (c/n2) with the Katz log interval.

    Example: 120 of 400 against 300 of 700 gives RR 0.70, 95% CI 0.59-0.83.
    """
    _check_proportion(a, n1, "a", "n1")
    _check_proportion(c, n2, "c", "n2")
    if not n1 or not n2:
        return not_estimable("a group has no records at this stage (zero denominator)")
    if not a or not c:
        # ln(0) has no interval: the ratio is 0 or infinite, which says nothing reliable.
        return not_estimable("a group has no events (zero count): the ratio is not estimable")
    rr = (a / n1) / (c / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return _log_interval(rr, se, z)


def rate_ratio_per_resident(x1: int, N1: float | None, x2: int, N2: float | None,
                            moe1: float | None = None, moe2: float | None = None,
                            z: float = Z95) -> Ratio:
    """(x1/N1) / (x2/N2), events per resident, with the log interval.

    ``moe1``/``moe2`` are 90% margins of error of the populations (ACS); None treats a
    population as exact. Example: 900 of 60,000 residents against 1,500 of 250,000 gives
    2.50, 95% CI 2.30-2.72.
    """
    for name, value in (("x1", x1), ("x2", x2), ("moe1", moe1), ("moe2", moe2)):
        if value is not None and value < 0:
            raise ValueError(f"{name} must not be negative, got {value!r}")
    if N1 is None or N2 is None:
        return not_estimable("the population of a group is unknown")
    if N1 <= 0 or N2 <= 0:
        return not_estimable("a group has no residents (zero denominator)")
    if not x1 or not x2:
        return not_estimable("a group has no events (zero count): the ratio is not estimable")
    irr = (x1 / N1) / (x2 / N2)
    var = 1 / x1 + 1 / x2 + _relative_var(moe1, N1) + _relative_var(moe2, N2)
    return _log_interval(irr, math.sqrt(var), z)


def _relative_var(moe: float | None, population: float) -> float:
    if moe is None:
        return 0.0
    return (moe / ACS_Z90 / population) ** 2


def _log_interval(ratio: float, se: float, z: float) -> Ratio:
    log = math.log(ratio)
    return Ratio(ratio, math.exp(log - z * se), math.exp(log + z * se))


def _check_proportion(x: int, n: int, xname: str, nname: str) -> None:
    if x < 0 or n < 0:
        raise ValueError(f"counts must not be negative, got {xname}={x!r}, {nname}={n!r}")
    if x > n:
        raise ValueError(f"{xname}={x!r} is more than its denominator {nname}={n!r}")


# A rate resting on fewer events is "insufficient data" (DOMAIN.md §5); every text says so
# through FEW_EVENTS, never with its own number.
MIN_EVENTS = 20
FEW_EVENTS = f"fewer than {MIN_EVENTS} events"


def reliability(events: int | None) -> str | None:
    """'ok', 'unstable' or 'insufficient' from the number of events behind a rate.

    RSE = 1/sqrt(x): normal below 0.30, unstable 0.30-0.50, insufficient above 0.50 or for
    fewer than MIN_EVENTS events (so in practice: fewer than 20 events is insufficient).
    """
    if events is None:
        return None
    if events < MIN_EVENTS:
        return "insufficient"
    rse = 1 / math.sqrt(events)
    if rse > 0.5:
        return "insufficient"
    return "unstable" if rse >= 0.3 else "ok"
