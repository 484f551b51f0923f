"""Every metric, defined once: what it counts, over what, in words and in SQL references.

A metric's numerator and denominator *reference* named counts (a flag over one source); they are
not free SQL. Labels, definitions and caveats here feed the charts, the methodology page,
METRICS.md and the command line alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

QUESTIONS = {
    1: "How is the program performing?",
    2: "What percentage of eligible calls is the team handling?",
    3: "What happens on scene?",
    4: "Are people being connected to services?",
}


@dataclass(frozen=True)
class Count:
    """A named count: rows of ``source`` where ``where`` (a boolean over its columns) holds."""

    source: str
    where: str | None
    label: str


COUNTS: dict[str, Count] = {
    "calls": Count("calls", None, "calls for service"),
    "calls_public": Count("calls", "public_initiated", "public-initiated calls"),
    "calls_officer": Count("calls", "NOT public_initiated", "officer-initiated calls"),
    "calls_target": Count("calls", "is_target", "calls of a target category"),
    "calls_eligible": Count("calls", "eligible", "eligible calls"),
    "calls_eligibility_unknown": Count("calls", "eligible IS NULL",
                                       "calls whose eligibility is unknown"),
    "calls_out_of_hours": Count("calls", "out_of_hours",
                                "eligible-type calls outside coverage hours"),
    "calls_ar": Count("calls", "ar_responded", "calls the team responded to"),
    "calls_eligible_ar": Count("calls", "eligible AND ar_responded",
                               "eligible calls the team responded to"),
    "calls_eligible_not_served": Count("calls", "eligible AND NOT ar_responded",
                                       "eligible calls the team did not respond to"),
    "calls_public_ar": Count("calls", "public_initiated AND ar_responded",
                             "public-initiated calls the team responded to"),
    "calls_phone": Count("calls", "responder = 'phone'", "calls resolved by phone"),
    "calls_eligible_phone": Count("calls", "eligible AND responder = 'phone'",
                                  "eligible calls resolved by phone"),
    "calls_unmapped": Count("calls", "type_unmapped", "calls whose type is not in the crosswalk"),
    "responses": Count("responses", None, "team responses"),
    "responses_contact_known": Count("responses", "contact_made IS NOT NULL",
                                     "responses with contact recorded"),
    "responses_contact": Count("responses", "contact_made", "responses with contact made"),
    "responses_backup_known": Count("responses", "police_backup IS NOT NULL",
                                    "responses with back-up recorded"),
    "responses_backup": Count("responses", "police_backup", "responses with police back-up"),
    "responses_arrest_known": Count("responses", "arrest IS NOT NULL",
                                    "responses with arrest recorded"),
    "responses_arrest": Count("responses", "arrest", "responses ending in an arrest"),
    "responses_injury_known": Count("responses", "injury IS NOT NULL",
                                    "responses with injury recorded"),
    "responses_injury": Count("responses", "injury", "responses with an injury"),
    "contacts_no_transport": Count("responses", "contact_made AND transport_destination = 'none'",
                                   "contacts with no transport"),
    "contacts_destination_known": Count(
        "responses", "contact_made AND transport_destination IS NOT NULL",
        "contacts with destination recorded"),
    "responses_destination_known": Count("responses", "transport_destination IS NOT NULL",
                                         "responses with destination recorded"),
    "contacts_referred": Count("responses", "contact_made AND has_referral",
                               "contacts with at least one referral"),
    "referrals": Count("referrals", None, "referrals"),
    "referrals_mature_30": Count("referrals", "mature_30",
                                 "referrals made at least 30 days before the latest data"),
    "referrals_mature_90": Count("referrals", "mature_90",
                                 "referrals made at least 90 days before the latest data"),
    "referrals_connected_30": Count("referrals", "mature_30 AND connected_30",
                                    "of those, referrals connected within 30 days"),
    "referrals_connected_90": Count("referrals", "mature_90 AND connected_90",
                                    "of those, referrals connected within 90 days"),
}
for _dest, _label in (("emergency_department", "an emergency department"),
                      ("crisis_center", "a crisis or walk-in centre"),
                      ("sobering_detox", "sobering / detox"), ("shelter", "a shelter"),
                      ("other", "another destination")):
    COUNTS[f"responses_to_{_dest}"] = Count("responses", f"transport_destination = '{_dest}'",
                                            f"responses transported to {_label}")


@dataclass(frozen=True)
class Duration:
    """Minutes from ``start`` to ``end`` over ``source``; median and 90th percentile."""

    source: str
    start: str
    end: str
    where: str | None = None  # a flag over the source: only these rows are timed


class Kind(StrEnum):
    """What a metric is, which decides how it is counted, derived and protected."""

    COUNT = "count"                  # a count of records
    PROPORTION = "proportion"        # numerator / denominator, with a Wilson interval
    RATE_PER_1000 = "rate_per_1000"  # as a proportion, per 1,000
    DURATION = "duration"            # median and 90th percentile of an interval, minutes
    DISTINCT = "distinct"            # distinct people
    REPEAT = "repeat"                # people with at least k responses / people
    PER_CAPITA = "per_capita"        # a count per 1,000 residents


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    question: int
    kind: Kind  # given as its value ("count"); an unknown kind fails at import
    definition: str
    unit: str
    numerator: str | None = None  # a COUNTS key (or a special count for distinct/per_capita)
    denominator: str | None = None
    duration: Duration | None = None
    caveats: str = ""
    source: str = ""
    additive: bool = field(default=False)  # numerators add up across groups

    def __post_init__(self):
        object.__setattr__(self, "kind", Kind(self.kind))

    @property
    def short_label(self) -> str:
        """The label where room is short (a chart panel, a legend, a table row)."""
        return SHORT_LABELS.get(self.id, self.label)

    @property
    def numerator_label(self) -> str:
        """What the numerator counts, in words ("eligible calls the team responded to")."""
        count = COUNTS.get(self.numerator or "")
        return count.label if count else self.label.lower()

    @property
    def table(self) -> str:
        if self.duration:
            return self.duration.source
        if self.kind in ("distinct", "repeat"):
            return "responses"
        return COUNTS[self.numerator].source


GPL = "Harvard Kennedy School Government Performance Lab, Essential Metrics (2024)"
M = Metric
REGISTRY: tuple[Metric, ...] = (
    M("A1", "Calls for service", 1, "count", "All calls for service in the period, whatever "
      "their origin; split by origin to separate public- from officer-initiated calls.",
      "calls", "calls", additive=True, source=GPL),
    M("A1P", "Public-initiated calls", 1, "count", "Calls that were not officer-initiated "
      "(911, non-emergency lines and unknown origin).", "calls", "calls_public", additive=True,
      caveats="Calls with no recorded origin count as public-initiated.", source=GPL),
    M("A2", "Target-type calls", 1, "count", "Calls whose standard category (from the "
      "jurisdiction's crosswalk) is one the program targets.", "calls", "calls_target",
      additive=True, source=GPL),
    M("A3", "Eligible calls", 2, "count", "Target-type calls received after launch, inside "
      "coverage hours, days and areas, whose call type the crosswalk marks eligible (or that "
      "the export marks eligible).", "calls", "calls_eligible", additive=True,
      caveats="Calls whose type was never triaged are counted apart (A3U), never as "
      "ineligible.", source=GPL),
    M("A3U", "Eligibility unknown", 2, "count", "Calls whose type is unmapped or not triaged "
      "in the crosswalk and whose export says nothing about eligibility.", "calls",
      "calls_eligibility_unknown", additive=True, source=GPL),
    M("A4", "Out-of-hours eligible-type calls", 2, "count", "Calls of an eligible type, after "
      "launch and in a covered area, received outside the team's coverage hours.", "calls",
      "calls_out_of_hours", additive=True,
      source="New York City Comptroller, audit of B-HEARD (2024): >14,000 unserved overnight"),
    M("B1", "Coverage of eligible calls", 2, "proportion", "Eligible calls the alternative "
      "team (or a co-response team) responded to, as a share of eligible calls.", "share",
      "calls_eligible_ar", "calls_eligible", additive=True,
      caveats="Published benchmarks: STAR 44-46%; B-HEARD 53-73%.", source=GPL),
    M("B2", "Share of public calls diverted", 2, "proportion", "Public-initiated calls the team "
      "responded to, as a share of all public-initiated calls.", "share", "calls_public_ar",
      "calls_public", additive=True, caveats="CAHOOTS: 17-20% of call volume; true diversion "
      "from police 3-8%.", source=GPL),
    M("B3", "Eligible but not served", 2, "proportion", "Eligible calls with no team response, "
      "as a share of eligible calls; group by reason not served to see why.", "share",
      "calls_eligible_not_served", "calls_eligible", additive=True,
      caveats="NYC audit: 35% unserved and reasons untracked. 'not recorded' is a reason too.",
      source=GPL),
    M("B4", "Resolved by phone", 2, "proportion", "Eligible calls resolved by a clinician in the "
      "911 centre without dispatch, as a share of eligible calls.", "share",
      "calls_eligible_phone", "calls_eligible", additive=True, source=GPL),
    M("C1", "Call processing time", 1, "duration", "Minutes from call received to first "
      "dispatch, all calls.", "minutes", duration=Duration("calls", "received_at",
                                                             "dispatched_at"),
      caveats="NFPA 1225: 90% of calls processed within 60 s. Calls without both times are "
      "counted as missing, not as zero.", source="NFPA 1225 (2022)"),
    M("C2", "Team response time", 1, "duration", "Minutes from request received (the linked "
      "call's receipt, or the team's own request time when no call is linked) to the team on "
      "scene.", "minutes", duration=Duration("responses", "request_received_at", "arrived_at"),
      caveats="Median and 90th percentile, never the mean alone. Negative intervals (times out "
      "of order) are left out and counted as missing.", source=GPL),
    M("C3", "Team travel time", 1, "duration", "Minutes from team dispatched to on scene.",
      "minutes", duration=Duration("responses", "dispatched_at", "arrived_at"), source=GPL),
    M("C4", "Time on scene", 3, "duration", "Minutes from team on scene to cleared.",
      "minutes", duration=Duration("responses", "arrived_at", "cleared_at"),
      caveats="Madison CARES: 53-60 minutes.", source=GPL),
    M("C5", "Police response time, target-type calls", 3, "duration", "Minutes from call "
      "received to first unit on scene, for calls of a target category that police answered "
      "(CAD times).", "minutes", duration=Duration("calls", "received_at", "arrived_at",
                                                    "is_target AND responder = 'police'"),
      caveats="Compare with C6 on the same categories, not with C2: both come from the CAD "
      "export, so the clock starts and stops the same way. Calls without an arrival time are "
      "counted as missing.", source=GPL),
    M("C6", "Team response time, target-type calls", 3, "duration", "Minutes from call "
      "received to first unit on scene, for calls of a target category the alternative or "
      "co-response team answered (CAD times).", "minutes",
      duration=Duration("calls", "received_at", "arrived_at", "is_target AND ar_responded"),
      caveats="The like-for-like partner of C5. Needs arrival times in the CAD export; C2 "
      "uses the team's own records instead.", source=GPL),
    M("D1", "Contact rate", 3, "proportion", "Responses where the team made contact with the "
      "person, as a share of responses with contact recorded.", "share", "responses_contact",
      "responses_contact_known", additive=True, source=GPL),
    M("D2", "Police back-up requested", 3, "proportion", "Responses where the team requested "
      "police back-up, as a share of responses with back-up recorded.", "share",
      "responses_backup", "responses_backup_known", additive=True,
      caveats="CAHOOTS about 0.6%; STAR 0 of 748 in its pilot.", source=GPL),
    M("D3", "Arrests on team calls", 3, "proportion", "Responses ending in an arrest, as a "
      "share of responses with arrest recorded.", "share", "responses_arrest",
      "responses_arrest_known", additive=True,
      caveats="Portland Street Response: 1 in 7,418.", source=GPL),
    M("D4", "Resolved on scene", 3, "proportion", "Contacts with no transport, as a share of "
      "contacts with a destination recorded.", "share", "contacts_no_transport",
      "contacts_destination_known", additive=True, source=GPL),
    M("D5ED", "Transported to an emergency department", 3, "proportion", "Responses that "
      "ended with transport to an emergency department, as a share of responses with a "
      "destination recorded.", "share", "responses_to_emergency_department",
      "responses_destination_known", additive=True,
      caveats="Denominator is responses with a destination, not contacts: exports record "
      "transports on responses without a recorded contact. B-HEARD 49-51%; PSR 2.5%.",
      source=GPL),
    M("D5CC", "Transported to a crisis or walk-in centre", 3, "proportion", "As D5ED, for "
      "crisis and walk-in centres.", "share", "responses_to_crisis_center",
      "responses_destination_known", additive=True, source=GPL),
    M("D5SD", "Transported to sobering / detox", 3, "proportion", "As D5ED, for sobering and "
      "detox facilities.", "share", "responses_to_sobering_detox",
      "responses_destination_known", additive=True, source=GPL),
    M("D5SH", "Transported to a shelter", 3, "proportion", "As D5ED, for shelters and "
      "respite.", "share", "responses_to_shelter", "responses_destination_known",
      additive=True, source=GPL),
    M("D5OT", "Transported elsewhere", 3, "proportion", "As D5ED, for any other destination.",
      "share", "responses_to_other", "responses_destination_known", additive=True, source=GPL),
    M("D6", "Injuries", 3, "rate_per_1000", "Responses with an injury to anyone, per 1,000 "
      "responses with injury recorded.", "per 1,000 responses", "responses_injury",
      "responses_injury_known", additive=True, source=GPL),
    M("E1", "Contacts referred", 4, "proportion", "Contacts with at least one referral, as a "
      "share of contacts.", "share", "contacts_referred", "responses_contact", additive=True,
      source=GPL),
    M("E1N", "Referrals made", 4, "count", "Referrals made; group by service type to see "
      "which services.", "referrals", "referrals", additive=True, source=GPL),
    M("E2_30", "Connected to care within 30 days", 4, "proportion", "Referrals whose person "
      "was connected to the service within 30 days, as a share of referrals made at least 30 "
      "days before the latest referral data.", "share",
      "referrals_connected_30", "referrals_mature_30", additive=True,
      caveats="B-HEARD 42-44%; Madison 40% within 6 months. Referrals from the last 30 days "
      "of the data are left out: they cannot have connected yet, and counting them would "
      "make the latest months look worse. 'Latest data' is the latest referral or connection "
      "time the jurisdiction has uploaded.", source=GPL),
    M("E2_90", "Connected to care within 90 days", 4, "proportion", "As E2_30, within 90 days, "
      "over referrals made at least 90 days before the latest referral data.",
      "share", "referrals_connected_90", "referrals_mature_90", additive=True, source=GPL),
    M("F1", "People served", 4, "distinct", "Distinct people (pseudonymous person keys) the "
      "team responded to.", "people", caveats="Responses with no person key are not counted; "
      "people are not additive across groups.", source=GPL),
    M("F2_5", "People with 5+ contacts", 4, "repeat", "People with at least 5 team responses "
      "in the period (Durham's 'familiar neighbors'), as a share of people served.", "share",
      numerator="5", caveats="Choose a 12-month period for the standard figure.", source=GPL),
    M("F2_10", "People with 10+ contacts", 4, "repeat", "As F2_5, with at least 10.", "share",
      numerator="10", source=GPL),
    M("F2_20", "People with 20+ contacts", 4, "repeat", "As F2_5, with at least 20.", "share",
      numerator="20", source=GPL),
    M("F2_40", "People with 40+ contacts", 4, "repeat", "As F2_5, with at least 40.", "share",
      numerator="40", source=GPL),
    M("P1", "Calls per 1,000 residents", 1, "per_capita", "Calls for service per 1,000 "
      "residents of the jurisdiction, for the period.", "per 1,000 residents", "calls",
      caveats="Residents from the jurisdiction's population figure.", source=GPL),
    M("P2", "Team responses per 1,000 residents", 1, "per_capita", "Team responses per 1,000 "
      "residents, for the period.", "per 1,000 residents", "responses", source=GPL),
    M("Q1", "Calls with an unmapped type", 1, "proportion", "Calls whose call type has no "
      "category in the crosswalk (and none in the export), as a share of calls: the gap in "
      "the crosswalk.", "share", "calls_unmapped", "calls", additive=True,
      caveats="A data-quality figure: eligibility of these calls is unknown."),
)

BY_ID = {m.id: m for m in REGISTRY}

# Short labels, one per metric, for every page, chart and brief that lacks room for the label.
SHORT_LABELS = {
    "B1": "Coverage", "C2": "Team response, min", "D2": "Police back-up",
    "D5ED": "Emergency dept.", "D5CC": "Crisis centre", "D5SD": "Sobering / detox",
    "D5SH": "Shelter", "D5OT": "Other", "E2_30": "Connected ≤30 days",
    "E2_90": "Connected ≤90 days", "P1": "Calls /1,000 residents",
    "P2": "Responses /1,000 residents", "C6": "Team, target-type calls",
    "C5": "Police, target-type calls", "F1": "People served", "F2_5": "5+ contacts",
    "F2_10": "10+ contacts", "F2_20": "20+ contacts", "F2_40": "40+ contacts",
}
