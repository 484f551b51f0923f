"""Standard codes and yes/no readings for raw values, as the importer applies them."""
from __future__ import annotations

import pytest

from data.values import boolean, standard_code


@pytest.mark.parametrize("raw,expected", [("Y", True), ("no", False), ("TRUE", True),
                                          ("0", False), ("x", True), ("Checked", True)])
def test_common_spellings_of_yes_and_no(raw, expected):
    assert boolean(raw, {}, x_marks=False) == (expected, "standard")


@pytest.mark.parametrize("raw,expected", [("Engaged Client", True), ("Engaged  client", True),
                                          ("Unable to Locate", False),
                                          ("Dispatch canceled before arrival", False)])
def test_contact_words_from_an_outcome_column(raw, expected):
    assert boolean(raw, {}, False, "contact_made") == (expected, "standard")


def test_ambiguous_contact_words_are_left_to_the_analyst():
    # The person refused: contact may or may not have been made.
    assert boolean("Refused", {}, False, "contact_made") == (None, "unreadable")
    assert boolean("Client declined to engage", {}, False, "contact_made") == (None,
                                                                               "unreadable")
    # ...and the profile's answer wins over every built-in reading.
    assert boolean("Refused", {"refused": True}, False, "contact_made") == (True, "profile")
    assert boolean("Refused", {"*": False}, False, "contact_made") == (False, "profile")
    assert boolean("Unable to locate", {"unable to locate": True}, False,
                   "contact_made") == (True, "profile")


def test_field_words_do_not_leak_into_other_fields():
    assert boolean("Engaged client", {}, False, "arrest") == (None, "unreadable")
    assert boolean("Arrest", {}, False, "arrest") == (True, "standard")


def test_standard_codes_ignore_case_and_spaces_and_keep_unknowns_visible():
    assert standard_code("transport_destination", "Sobering or  Detox Facility", {}) == (
        "sobering_detox", "standard")
    assert standard_code("outcome", "Remained in community", {}) == ("resolved_on_scene",
                                                                     "standard")
    code, how = standard_code("outcome", "Beamed up", {})
    assert how == "not recognised" and code == "other"
