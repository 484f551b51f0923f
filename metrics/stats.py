"""Interval estimates and reliability flags (DOMAIN.md §5). Pure arithmetic on counts."""
from __future__ import annotations

import math

Z95 = 1.96


def wilson(x: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for x successes in n trials; (None, None) when n is 0."""
    if not n:
        return None, None
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def reliability(events: int | None) -> str | None:
    """'ok', 'unstable' or 'insufficient' from the number of events behind a rate.

    RSE = 1/sqrt(x): normal below 0.30, unstable 0.30-0.50, insufficient above 0.50 or for
    fewer than 20 events (so in practice: fewer than 20 events is insufficient).
    """
    if events is None:
        return None
    if events < 20:
        return "insufficient"
    rse = 1 / math.sqrt(events)
    if rse > 0.5:
        return "insufficient"
    return "unstable" if rse >= 0.3 else "ok"
