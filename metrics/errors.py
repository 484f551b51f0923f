"""Errors of the metric layer: a request names something the registry does not have."""


class MetricError(Exception):
    """A request that cannot be answered; the message says what is allowed."""


class UnknownMetric(MetricError):
    pass


class UnknownDimension(MetricError):
    pass


class CapacityError(MetricError):
    """The capacity model cannot answer from the data (no eligible call types, no durations
    ...): the message says what is missing and what to do (metrics/capacity)."""
