"""The requests a public reader may make: at most two dimensions, one value or all per filter
(several when the view is grouped by it), whole calendar months."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from ..request import SET_FILTERS
from .policy import MAX_PUBLIC_BY, VIEWER, DisclosurePolicy, DisclosureRefused


def public_shape(request, policy: DisclosurePolicy = VIEWER):
    """The request widened so that a public reader may make it, and the groups to keep.

    A filter with several values is not a public view (``public_request`` refuses it), but
    when the view is grouped by that same dimension the chosen groups are rows of the view of
    *all* its values, which is public: ask for that one and keep the chosen groups. "All" is
    the reader's whole scope (``whole_jurisdictions``) for jurisdictions. Returns ``(request,
    keep)`` with ``keep`` = {dimension: chosen values}, empty when nothing was widened.
    """
    if not policy.enabled:
        return request, {}
    keep = {dim: set(getattr(request.filters, name)) for name, dim in SET_FILTERS.items()
            if len(getattr(request.filters, name)) > 1 and dim in request.by}
    if not keep:
        return request, {}
    everything = {name: () for name, dim in SET_FILTERS.items() if dim in keep}
    if "jurisdictions" in everything:
        everything["jurisdictions"] = tuple(sorted(policy.whole_jurisdictions))
    return replace(request, filters=replace(request.filters, **everything)), keep


def kept_groups(rows: list, keep: dict) -> list:
    return [r for r in rows if all(r.group.get(d) in v for d, v in keep.items())]


def checked_request(request, policy: DisclosurePolicy = VIEWER):
    """The request ``disclose`` computes for ``policy`` (widened, then checked; raises
    ``DisclosureRefused``), and the notes on what was changed."""
    return public_request(public_shape(request, policy)[0], policy)


def public_request(request, policy: DisclosurePolicy = VIEWER):
    """The request a public reader may make, and notes on what was changed.

    Raises ``DisclosureRefused`` for more than two ``by`` dimensions or several values in one
    filter; widens the period to whole calendar months. Works on ``MetricRequest`` and
    ``CountRequest`` alike.
    """
    if not policy.enabled:
        return request, []
    if len(request.by) > MAX_PUBLIC_BY:
        raise DisclosureRefused(
            f"A public view groups by at most {MAX_PUBLIC_BY} dimensions; this one asks for "
            f"{len(request.by)} ({', '.join(request.by)}). Drop a --by, or sign in as an "
            f"analyst of your jurisdiction.")
    for name, label in SET_FILTERS.items():
        values = getattr(request.filters, name)
        if name == "jurisdictions" and set(values) == policy.whole_jurisdictions:
            continue
        if len(values) > 1:
            raise DisclosureRefused(
                f"A public view takes one {label} or all of them; this one asks for "
                f"{len(values)} ({', '.join(values)}). Choose one, or view them side by side "
                f"with --by {label}.")
    filters, notes = _whole_months(request.filters)
    return replace(request, filters=filters), notes


def _whole_months(filters):
    start, end = filters.date_from, filters.date_to
    new_start = start.replace(day=1) if start else None
    new_end = _month_end(end) if end else None
    if (new_start, new_end) == (start, end):
        return filters, []
    note = (f"Period widened to whole months for a public view: "
            f"{new_start or 'start'} to {new_end or 'end'}.")
    return replace(filters, date_from=new_start, date_to=new_end), [note]


def _month_end(d: date) -> date:
    first_next = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)
