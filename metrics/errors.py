"""Errors of the metric layer: a request names something the registry does not have."""


class MetricError(Exception):
    """A request that cannot be answered; the message says what is allowed."""


class UnknownMetric(MetricError):
    pass


class UnknownDimension(MetricError):
    pass
