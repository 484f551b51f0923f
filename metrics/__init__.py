"""Metrics: each defined once (registry), computed in DuckDB for any grouping (engine)."""
from .engine import (build_sql, compute, compute_counts, compute_levels, count_metric, explain,
                     previous_period, report)
from .errors import MetricError, UnknownDimension, UnknownMetric
from .request import SET_FILTERS, CountRequest, Filters, MetricRequest, MetricRow
from .registry import BY_ID, COUNTS, QUESTIONS, REGISTRY, Kind, Metric
from .sources import DIMENSION_LABELS, DIMENSIONS, SOURCES
from .stats import FEW_EVENTS, MIN_EVENTS

__all__ = ["SET_FILTERS", "CountRequest", "Filters", "MetricRequest", "MetricRow", "build_sql",
           "compute", "compute_counts", "compute_levels", "count_metric", "explain",
           "previous_period", "report", "MetricError", "UnknownDimension", "UnknownMetric",
           "BY_ID", "COUNTS", "QUESTIONS", "REGISTRY", "Kind", "Metric", "DIMENSION_LABELS",
           "DIMENSIONS", "SOURCES", "FEW_EVENTS", "MIN_EVENTS"]
