"""The demo cohort described as data (data/demo/cohort.toml): what the file says is what the
generator draws from."""
from __future__ import annotations

import pytest

from data.errors import DataError

from data.demo import DEMOS, load_cohort
from data.demo.spec import COHORT_FILE, UNMAPPED


def test_the_cohort_file_holds_the_five_jurisdictions_largest_first():
    assert [d.name for d in DEMOS] == ["Riverton", "Cedar Falls", "Port Avalon", "Millbrook",
                                       "Harbor County"]
    assert [d.population for d in DEMOS] == sorted((d.population for d in DEMOS), reverse=True)
    for d in DEMOS:
        assert sum(a.pop_share for a in d.areas) == pytest.approx(1.0), d.name
        assert sum(d.origin_mix) == pytest.approx(1.0), d.name
        # Shares of residents; the generator rescales them to add up (Port Avalon: 0.99).
        assert sum(d.race.values()) == pytest.approx(1.0, abs=0.02), d.name


def test_call_type_eligibility_words_become_the_generators_values():
    riverton = DEMOS[0]
    by_type = {t[0]: t for t in riverton.call_types}
    # ["SUICIDE THREAT - WEAPON", "SUICIDE_THREAT", 1, false]: never eligible.
    assert by_type["SUICIDE THREAT - WEAPON"] == ("SUICIDE THREAT - WEAPON", "SUICIDE_THREAT",
                                                  1, False)
    # "untriaged": eligibility unknown (None); absent: from the target categories ("auto").
    assert by_type["SUSPICIOUS PERSON"][3] is None
    assert by_type["WELFARE CHECK"][3] == "auto"
    assert by_type["CHECK AREA"][1] == UNMAPPED
    # Only Millbrook covers some areas; the others cover all (the key left out).
    assert [d.name for d in DEMOS if d.cov_areas] == ["Millbrook"]
    assert DEMOS[3].cov_areas == ("Old Town", "Riverside", "Mill District", "North Hill")


def test_a_jurisdiction_added_to_the_file_is_read(tmp_path):
    text = COHORT_FILE.read_text(encoding="utf-8")
    start = text.index('[[jurisdiction]]\nname = "Harbor County"')
    extra = text[start:].replace('"Harbor County"', '"Salt Flats"').replace(
        '"harbor-county"', '"salt-flats"').replace("population = 80600", "population = 12345")
    path = tmp_path / "cohort.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    cohort = load_cohort(path)
    assert [d.name for d in cohort][-2:] == ["Harbor County", "Salt Flats"]
    assert cohort[-1].population == 12345 and cohort[-1].slug == "salt-flats"
    assert cohort[-1].areas == cohort[-2].areas and cohort[-1].launch == cohort[-2].launch


def test_a_misspelt_key_is_named_with_its_jurisdiction(tmp_path):
    path = tmp_path / "cohort.toml"
    path.write_text(COHORT_FILE.read_text(encoding="utf-8").replace(
        "calls_per_resident = 0.16", "calls_per_residnet = 0.16"), encoding="utf-8")
    with pytest.raises(DataError, match="'Harbor County' cannot be read .*calls_per_residnet"):
        load_cohort(path)
