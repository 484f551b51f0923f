"""The rates and labels every demo jurisdiction shares: category mixes, hour and weekday
profiles, on-scene outcome shares and the original labels written beside the standard codes.
Relative weights unless said otherwise; the per-jurisdiction figures are in cohort.toml."""
from __future__ import annotations

import numpy as np

from .spec import UNMAPPED

# Category mix of public-initiated and officer-initiated calls (relative weights).
PUBLIC_MIX = {"TRAFFIC": 10, "THEFT": 9, "DISORDER": 9, "ASSAULT": 5, "MEDICAL": 14, "FIRE": 3,
               "NOISE": 6, "WELFARE_CHECK": 9, "MENTAL_HEALTH": 6, "SUICIDE_THREAT": 2,
               "INTOXICATION": 3, "TRESPASS": 5, "HOMELESS_ASSIST": 3, "OTHER": 15,
               UNMAPPED: 0.8}
OFFICER_MIX = {"TRAFFIC": 42, "THEFT": 5, "DISORDER": 9, "ASSAULT": 2, "MEDICAL": 1,
                "FIRE": 0.2, "NOISE": 2, "WELFARE_CHECK": 4, "MENTAL_HEALTH": 1.5,
                "SUICIDE_THREAT": 0.3, "INTOXICATION": 3, "TRESPASS": 7, "HOMELESS_ASSIST": 2.5,
                "OTHER": 20, UNMAPPED: 0.6}
NIGHT = {"NOISE": 2.5, "INTOXICATION": 1.8, "DISORDER": 1.5, "ASSAULT": 1.4,
          "WELFARE_CHECK": 0.8, "HOMELESS_ASSIST": 0.7, "TRAFFIC": 0.8}
PRIORITY = {"ASSAULT": 1, "FIRE": 1, "MEDICAL": 1, "SUICIDE_THREAT": 1, "TRAFFIC": 2,
             "MENTAL_HEALTH": 2, "DISORDER": 2, "WELFARE_CHECK": 3, "INTOXICATION": 3,
             "THEFT": 3, "TRESPASS": 3, "OTHER": 3, "HOMELESS_ASSIST": 4, "NOISE": 4,
             UNMAPPED: 4}
HOUR_PROFILE = np.array([0.55, 0.45, 0.38, 0.32, 0.28, 0.30, 0.42, 0.60, 0.80, 0.95, 1.05,
                          1.10, 1.15, 1.18, 1.22, 1.28, 1.32, 1.32, 1.28, 1.20, 1.10, 1.00, 0.88,
                          0.70])
WEEKDAY_PROFILE = np.array([1.00, 0.98, 0.98, 1.00, 1.08, 1.06, 0.92])  # Monday first

# Reasons for dispatch (responses.reasons) by call category.
REASON = {"MENTAL_HEALTH": "Mental health crisis", "WELFARE_CHECK": "Welfare check",
           "INTOXICATION": "Intoxication", "SUICIDE_THREAT": "Suicidal ideation",
           "TRESPASS": "Trespass / unwanted person", "HOMELESS_ASSIST": "Unhoused - basic needs",
           "NOISE": "Noise / nuisance", "DISORDER": "Disturbance", "OTHER": "Other"}
SECOND_REASONS = ("Substance use", "Housing needs", "Medical needs", "Resource connection",
                   "Conflict mediation")
SERVICE_TYPES = ("mental_health", "substance_use", "housing_shelter", "medical", "benefits_id",
                  "other")
SERVICE_MIX = {
    "MENTAL_HEALTH": (0.55, 0.12, 0.10, 0.08, 0.08, 0.07),
    "SUICIDE_THREAT": (0.70, 0.08, 0.06, 0.08, 0.04, 0.04),
    "INTOXICATION": (0.15, 0.55, 0.12, 0.08, 0.05, 0.05),
    "HOMELESS_ASSIST": (0.10, 0.08, 0.50, 0.07, 0.20, 0.05),
    None: (0.30, 0.15, 0.20, 0.10, 0.15, 0.10),
}
CONTACT_OUTCOMES = ("resolved_on_scene", "referred", "refused", "other")
CONTACT_OUTCOME_P = (0.72, 0.14, 0.11, 0.03)
DESTINATIONS = ("none", "emergency_department", "crisis_center", "sobering_detox", "shelter",
                 "other")
AGE_MIX = (0.04, 0.11, 0.24, 0.23, 0.17, 0.13, 0.08)
GENDERS = ("male", "female", "nonbinary", "other", "unknown")
GENDER_MIX = (0.58, 0.385, 0.015, 0.005, 0.015)
# Over-representation of groups among people the teams meet, relative to residents.
CONTACT_RACE_FACTOR = {"hispanic_latino": 0.9, "white": 1.0, "black": 1.8, "asian": 0.45,
                        "aian": 2.0, "nhpi": 1.2, "multiracial": 1.1, "other": 1.0}

# Original labels written beside the standard codes (*_raw), by label style.
RAW = {
    "long": {
        "race_ethnicity": {"hispanic_latino": "Hispanic or Latino", "white": "White",
                           "black": "Black or African American", "asian": "Asian",
                           "aian": "American Indian or Alaska Native",
                           "nhpi": "Native Hawaiian or Other Pacific Islander",
                           "multiracial": "Two or more races", "other": "Some other race",
                           "unknown": "Unknown"},
        "gender": {"male": "Male", "female": "Female", "nonbinary": "Non-binary",
                   "other": "Other", "unknown": "Unknown"},
        "outcome": {"resolved_on_scene": "Resolved on scene", "transported": "Transported",
                    "referred": "Referred to services", "refused": "Refused services",
                    "unable_to_locate": "Unable to locate", "cancelled": "Cancelled en route",
                    "other": "Other"},
        "transport_destination": {"none": "None", "emergency_department": "Emergency Department",
                                  "crisis_center": "Crisis Center",
                                  "sobering_detox": "Sobering Center", "shelter": "Shelter",
                                  "other": "Other"},
    },
    "mixed": {
        "race_ethnicity": {"hispanic_latino": "Hispanic/Latino", "white": "White",
                           "black": "Black", "asian": "Asian", "aian": "Native American",
                           "nhpi": "Pacific Islander", "multiracial": "Multiracial",
                           "other": "Other", "unknown": "Not recorded"},
        "gender": {"male": "Man", "female": "Woman", "nonbinary": "Nonbinary", "other": "Other",
                   "unknown": "Unknown"},
        "outcome": {"resolved_on_scene": "Remained in community", "transported": "Transport",
                    "referred": "Referred", "refused": "Client declined to engage",
                    "unable_to_locate": "Unable to locate client",
                    "cancelled": "Dispatch canceled before arrival", "other": "Other"},
        "transport_destination": {"none": "No transport",
                                  "emergency_department": "Emergency Room",
                                  "crisis_center": "Crisis Walk-in Center",
                                  "sobering_detox": "Sobering/Detox Facility",
                                  "shelter": "Shelter", "other": "Other"},
    },
    "short": {
        "race_ethnicity": {"hispanic_latino": "H", "white": "W", "black": "B", "asian": "A",
                           "aian": "I", "nhpi": "P", "multiracial": "M", "other": "O",
                           "unknown": "U"},
        "gender": {"male": "M", "female": "F", "nonbinary": "X", "other": "O", "unknown": "U"},
        "outcome": {"resolved_on_scene": "RESOLVED", "transported": "TRANSPORT",
                    "referred": "REFERRAL", "refused": "REFUSED", "unable_to_locate": "GOA",
                    "cancelled": "CXL", "other": "OTHER"},
        "transport_destination": {"none": "NONE", "emergency_department": "ED",
                                  "crisis_center": "CRISIS CTR", "sobering_detox": "DETOX",
                                  "shelter": "SHELTER", "other": "OTHER"},
    },
}
SERVICE_RAW = {"mental_health": "Behavioral Health", "substance_use": "Substance Use",
                "housing_shelter": "Housing/Shelter", "medical": "Medical",
                "benefits_id": "Benefits/ID", "other": "Other"}
STATUS_RAW = {"made": "Referral made", "connected": "Connected", "declined": "Declined",
               "unknown": "Unknown"}
MODEL_RAW = {"alternative": "Alternative response", "co_response": "Co-responder"}
POLICE_DISPOS = ("REPORT TAKEN", "ADVISED", "GONE ON ARRIVAL", "ASSISTED", "NO ACTION",
                  "ARREST")
POLICE_DISPO_P = (0.22, 0.30, 0.12, 0.20, 0.13, 0.03)
MEDICAL_DISPOS = ("TRANSPORTED", "TREATED AND RELEASED", "REFUSED CARE", "CANCELLED")
MEDICAL_DISPO_P = (0.55, 0.20, 0.18, 0.07)
