"""What is asked of the engine: the filters, a request for metrics or for named counts, and a
result row. Plain frozen values: they key caches and travel through every layer."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date


# Each filter that takes a set of values, and the column (and dimension) it restricts: the one
# map the engine's WHERE, disclosure's request rules and the pages' privacy notes all read.
SET_FILTERS = {"jurisdictions": "jurisdiction", "categories": "category", "areas": "area",
               "origins": "origin", "teams": "team"}


@dataclass(frozen=True)
class Filters:
    jurisdictions: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    categories: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        d = asdict(self)
        return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple)
                    else v) for k, v in d.items()}


@dataclass(frozen=True)
class MetricRequest:
    metrics: tuple[str, ...] = ()  # empty = every metric
    by: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class CountRequest:
    """Plain volumes: named counts (keys of ``registry.COUNTS``) per group."""

    counts: tuple[str, ...]
    by: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)


@dataclass
class MetricRow:
    metric: str
    group: dict
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    reliability: str | None = None
    median: float | None = None
    p90: float | None = None
    n: int | None = None
    missing: int | None = None
