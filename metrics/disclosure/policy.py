"""Who sees what: the policy (threshold, rounding, on or off), the reasons a number is
hidden and the words a page prints for each."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import MetricError


SMALL = "small"


PROTECT = "protect"


WITHHELD = "withheld"


DERIVED = "derived"


BASE = 5  # ordinary public rounding; ONS and table builders use 5 too


DRB_FLOOR = 14  # the DRB shows 1-14 as "<15"


MAX_PUBLIC_BY = 2  # the table shapes the audit covers exactly


INF = math.inf


class DisclosureRefused(MetricError):
    """A request a public viewer may not make; the message says what is allowed."""


@dataclass(frozen=True)
class DisclosurePolicy:
    """How much a reader may see. ``threshold``: counts 1..threshold are hidden (0 = none).

    ``rounding`` switches to the Census DRB public-release schedule; ``enabled=False`` shows
    exact numbers (an analyst looking at their own jurisdiction).
    """

    threshold: int = 10
    rounding: bool = False
    enabled: bool = True
    # A reader who may see only some jurisdictions: asking for exactly those is asking for
    # "all of them" (their whole scope), not for a chosen selection of several.
    whole_jurisdictions: frozenset[str] = frozenset()

    def __post_init__(self):
        if not isinstance(self.threshold, int) or self.threshold < 0:
            raise ValueError(f"threshold must be a whole number >= 0, got {self.threshold!r}")

    @property
    def hidden_up_to(self) -> int:
        """H: the largest count that is hidden."""
        return max(self.threshold, DRB_FLOOR) if self.rounding else self.threshold

    @property
    def rounding_label(self) -> str:
        if not self.enabled:
            return "none"
        return "Census DRB" if self.rounding else f"nearest {BASE}"


VIEWER = DisclosurePolicy()


ANALYST = DisclosurePolicy(enabled=False)


def policy_for(role: str = "viewer", *, showing=(), own=(), switched_off: bool = False,
               threshold: int = 10, rounding: bool = False) -> DisclosurePolicy:
    """The policy for a reader: on for viewers always; analysts may switch it off.

    An analyst's switch applies only when every jurisdiction ``showing`` is one of ``own``
    (their jurisdictions); ``showing`` empty means all jurisdictions, so it stays on unless
    they own every one that is ``showing``. Example: ``policy_for("analyst",
    showing=("Springfield",), own=("Springfield",), switched_off=True)`` shows exact numbers.
    """
    if role not in ("viewer", "analyst"):
        raise ValueError(f"role must be 'viewer' or 'analyst', got {role!r}")
    own_view = bool(showing) and set(showing) <= set(own)
    enabled = not (role == "analyst" and switched_off and own_view)
    return DisclosurePolicy(threshold, rounding, enabled)


def describe(reason: str | None, policy: DisclosurePolicy = VIEWER) -> str:
    """Words a page prints in place of a hidden number."""
    texts = {
        SMALL: f"hidden (fewer than {policy.hidden_up_to + 1})",
        PROTECT: "hidden (protects a small count elsewhere in the table)",
        WITHHELD: "hidden (the table's small counts cannot be protected otherwise)",
        DERIVED: "hidden (built on a hidden count)",
    }
    return texts.get(reason, "")


def rule(policy: DisclosurePolicy = VIEWER) -> str:
    """The rule applied, in one short sentence: printed beside every chart, table, download,
    report and brief of figures disclosure control touched (issue 24)."""
    if not policy.enabled:
        return "Exact figures: no count is rounded or hidden."
    how = ("by the Census DRB schedule (coarser for larger counts)" if policy.rounding
           else f"to the nearest {BASE}")
    return (f"Privacy rule: counts from 1 to {policy.hidden_up_to}, and any figure that would "
            f"reveal one, are hidden; other counts are rounded {how} and rates are worked out "
            f"from them.")


def rounded_label(policy: DisclosurePolicy = VIEWER) -> str | None:
    """What a table row or tooltip says of published counts: "rounded (nearest 5)", as the
    tiles say it."""
    return f"rounded ({policy.rounding_label})" if policy.enabled else None


def text(value, reason: str | None, policy: DisclosurePolicy = VIEWER) -> str:
    """A shown number or its hidden form as a page prints it: "1,240", "<15", "hidden (...)"."""
    if reason == SMALL and policy.rounding:
        return f"<{policy.hidden_up_to + 1}"
    if reason:
        return describe(reason, policy)
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
