"""Standardising values: raw labels -> standard codes, and the many spellings of true/false.

The mapping runs on the *distinct* raw values of a column (a few hundred at most), in Python;
DuckDB then joins the small mapping table back onto the rows. The original value is kept
beside the standard code, and the import summary lists what was mapped to what.
"""
from __future__ import annotations

from .profiles import normalise_value
from .schema import FALLBACK_CODE, VALUE_SETS

# Normalised labels seen in real exports -> standard code. Codes map to themselves as well.
BUILTIN_SYNONYMS: dict[str, dict[str, str]] = {
    "origin": {
        "911": "911", "e911": "911", "9-1-1": "911", "emergency": "911",
        "onview": "officer_initiated", "on view": "officer_initiated",
        "officer initiated": "officer_initiated", "self initiated": "officer_initiated",
        "self-initiated": "officer_initiated", "field initiated": "officer_initiated",
        "non emergency": "non_emergency", "non-emergency": "non_emergency",
        "telephone other, not 911": "non_emergency", "telephone": "non_emergency",
        "phone": "non_emergency", "311": "non_emergency",
    },
    "responder": {
        "police": "police", "pd": "police", "law enforcement": "police", "fire": "fire",
        "fd": "fire", "ems": "ems", "medic": "ems", "ambulance": "ems",
        "alternative": "alternative", "crisis team": "alternative", "mobile crisis": "alternative",
        "co-response": "co_response", "coresponse": "co_response", "co response": "co_response",
        "phone": "phone", "phone resolved": "phone", "none": "none",
    },
    "model": {"alternative only": "alternative", "co-response": "co_response",
              "co response": "co_response"},
    "outcome": {
        "resolved": "resolved_on_scene", "resolved on scene": "resolved_on_scene",
        "remained in community": "resolved_on_scene", "transported": "transported",
        "transport": "transported", "referred": "referred", "refused": "refused",
        "refused services": "refused", "client declined to engage": "refused",
        "declined": "refused", "unable to locate": "unable_to_locate",
        "unable to locate client": "unable_to_locate", "gone on arrival": "unable_to_locate",
        "goa": "unable_to_locate", "cancelled": "cancelled", "canceled": "cancelled",
        "cancelled en route": "cancelled", "dispatch canceled before arrival": "cancelled",
        "dispatch cancelled before arrival": "cancelled",
    },
    "transport_destination": {
        "none": "none", "no transport": "none", "remained in community": "none",
        "emergency department": "emergency_department", "ed": "emergency_department",
        "er": "emergency_department", "hospital": "emergency_department",
        "emergency room": "emergency_department", "crisis center": "crisis_center",
        "crisis centre": "crisis_center", "crisis walk-in center": "crisis_center",
        "walk-in center": "crisis_center", "sobering": "sobering_detox", "detox": "sobering_detox",
        "sobering/detox": "sobering_detox", "sobering/detox facility": "sobering_detox",
        "sobering or detox facility": "sobering_detox", "sobering center": "sobering_detox",
        "shelter": "shelter", "respite": "shelter",
    },
    "race_ethnicity": {
        "white": "white", "white non-hispanic": "white", "caucasian": "white", "w": "white",
        "black": "black", "black or african american": "black",
        "black or african-american": "black", "african american": "black", "b": "black",
        "hispanic": "hispanic_latino", "latino": "hispanic_latino", "latinx": "hispanic_latino",
        "hispanic or latino": "hispanic_latino", "hispanic/latino": "hispanic_latino",
        "h": "hispanic_latino", "asian": "asian", "a": "asian",
        "american indian and alaska native": "aian", "american indian or alaska native": "aian",
        "native american": "aian", "ai/an": "aian",
        "native hawaiian or other pacific islander": "nhpi", "pacific islander": "nhpi",
        "native hawaiian and other pacific islander": "nhpi",
        "middle eastern or north african": "mena", "middle eastern": "mena",
        "two or more races": "multiracial", "multiracial": "multiracial",
        "multi-racial": "multiracial",
        "other": "other", "some other race": "other", "unknown": "unknown", "refused": "unknown",
        "not recorded": "unknown", "declined": "unknown", "u": "unknown",
    },
    "gender": {"f": "female", "female": "female", "woman": "female", "m": "male", "male": "male",
               "man": "male", "non-binary": "nonbinary", "nonbinary": "nonbinary",
               "u": "unknown", "unknown": "unknown", "other": "other"},
    "service_type": {
        "mental health": "mental_health", "behavioral health": "mental_health",
        "substance use": "substance_use", "substance use disorder": "substance_use",
        "sud": "substance_use", "housing": "housing_shelter", "shelter": "housing_shelter",
        "housing/shelter": "housing_shelter", "medical": "medical", "primary care": "medical",
        "benefits": "benefits_id", "id": "benefits_id", "benefits/id": "benefits_id",
    },
    "referral_status": {"made": "made", "referred": "made", "connected": "connected",
                        "engaged": "connected", "declined": "declined", "refused": "declined",
                        "unknown": "unknown"},
}

TRUE_WORDS = {"y", "yes", "true", "t", "1", "x", "on", "checked"}
FALSE_WORDS = {"n", "no", "false", "f", "0", "off", "unchecked"}

# Yes/no fields that exports record as words in an outcome-like column (MCSLC's "End Point of
# Dispatch" holds contact as "Engaged client" / "Unable to locate"). Only unambiguous words:
# "Refused" or "Client declined to engage" may or may not mean contact, so the analyst decides.
BOOLEAN_SYNONYMS: dict[str, dict[str, bool]] = {
    "contact_made": {
        "engaged client": True, "engaged": True, "contact made": True, "contacted": True,
        "unable to locate": False, "unable to locate client": False, "no contact": False,
        "no contact due to safety concern": False, "gone on arrival": False, "goa": False,
        "cancelled": False, "canceled": False, "dispatch canceled before arrival": False,
        "dispatch cancelled before arrival": False, "cancelled en route": False,
    },
    "arrest": {"arrest": True, "arrested": True, "custodial arrest": True,
               "no arrest": False},
    "police_backup": {"backup requested": True, "police requested": True,
                      "no backup": False},
    "injury": {"injury": True, "injured": True, "no injury": False},
}


def standard_code(value_set: str, raw: str,
                  profile_map: dict[str, object]) -> tuple[str | None, str]:
    """(code, how) for one raw value; how is 'profile', 'standard' or 'not recognised'."""
    key = normalise_value(raw)
    if key in profile_map:
        return _as_text(profile_map[key]), "profile"
    if key in VALUE_SETS[value_set] or key.replace(" ", "_") in VALUE_SETS[value_set]:
        return key.replace(" ", "_"), "standard"
    if key in BUILTIN_SYNONYMS.get(value_set, {}):
        return BUILTIN_SYNONYMS[value_set][key], "standard"
    if "*" in profile_map:
        return _as_text(profile_map["*"]), "profile"
    return FALLBACK_CODE[value_set], "not recognised"


def boolean(raw: str, profile_map: dict[str, object], x_marks: bool,
            field: str | None = None) -> tuple[bool | None, str]:
    """(value, how); how is 'unreadable' when the value means neither true nor false."""
    key = normalise_value(raw)
    if key in profile_map:
        v = profile_map[key]
        return (None if v == "" else bool(v)), "profile"
    if key in TRUE_WORDS:
        return True, "standard"
    if key in FALSE_WORDS:
        return False, "standard"
    if key in BOOLEAN_SYNONYMS.get(field or "", {}):
        return BOOLEAN_SYNONYMS[field][key], "standard"
    if "*" in profile_map:
        return bool(profile_map["*"]), "profile"
    return None, "unreadable"


def text_replacement(raw: str, profile_map: dict[str, object]) -> str | None:
    key = normalise_value(raw)
    if key in profile_map:
        v = _as_text(profile_map[key])
        return v or None
    return raw


def _as_text(v) -> str | None:
    if v is None or v == "":
        return None
    return str(v)
