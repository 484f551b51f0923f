"""Population denominators: raw data.census.gov ACS exports, and overlapping race rows.

The fixture tests/fixtures/ACSDT5Y2023.B03002-Data.csv is a six-tract table B03002 written by
hand with the real export's layout (every value quoted, two header rows, a trailing comma on
each line, '*****' for a controlled estimate's margin, an annotation code -888888888). The
expected values below are read off that file by hand, not computed by the code under test.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from data import ImportRefused, MappingError, import_file, parse_profile, preview, undo_import
from data import acs, mapping
from data.cli import cli

from conftest import PROFILES, table_contents

FIXTURES = Path(__file__).resolve().parent / "fixtures"
B03002 = FIXTURES / "ACSDT5Y2023.B03002-Data.csv"
SOURCE = "ACS 2019-2023 5-year, table B03002"
TRACT_1 = "Census Tract 1; Lane County; Oregon"
TRACT_47 = "Census Tract 47; Lane County; Oregon"
TZ = "America/Los_Angeles"

# Row 3 of the file, group -> (estimate, margin of error); '*****' -> None.
TRACT_1_ROWS = {"total": (3712, None), "white": (3012, 176), "black": (41, 24),
                "aian": (38, 23), "asian": (96, 35), "nhpi": (0, 13), "other": (17, 17),
                "multiracial": (209, 49), "hispanic_latino": (299, 58)}
# Row 8; -888888888 in B03002_007M -> None.
TRACT_47_ROWS = {"total": (3919, 124), "white": (3377, 186), "black": (12, 15),
                 "aian": (140, 41), "asian": (45, 25), "nhpi": (0, None), "other": (8, 13),
                 "multiracial": (174, 45), "hispanic_latino": (163, 44)}
TOTALS = {TRACT_1: 3712, "Census Tract 2; Lane County; Oregon": 5514,
          "Census Tract 3.01; Lane County; Oregon": 3665,
          "Census Tract 10.02; Lane County; Oregon": 6590,
          "Census Tract 24.01; Lane County; Oregon": 3521, TRACT_47: 3919}


def _import(con, path, profile=None, **kw):
    return import_file(con, path, kind="population", jurisdiction=kw.pop("jurisdiction",
                       "Lane County"), timezone_name=TZ,
                       profile=parse_profile(profile) if profile else None, **kw)


def _rows(con, geography):
    return {g: (p, m) for g, p, m in con.execute(
        'SELECT "group", population, moe FROM population WHERE geography = ?',
        [geography]).fetchall()}


def _file_rows(path=B03002):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write_rows(path, rows, quoting=csv.QUOTE_ALL, trailing=True):
    out = io.StringIO()
    writer = csv.writer(out, quoting=quoting, lineterminator="\n")
    for r in rows:
        writer.writerow(r[:-1] if r and r[-1] == "" and not trailing else r)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _edit(tmp_path, name, changes):
    """A copy of the fixture with cells changed: {(file row, header): new text}."""
    rows = _file_rows()
    for (row, header), value in changes.items():
        rows[row - 1][rows[0].index(header)] = value
    return _write_rows(tmp_path / name, rows)


# --------------------------------------------------------------------------------------------
# The fixture really has the export's layout
# --------------------------------------------------------------------------------------------

def test_fixture_has_the_data_census_gov_layout():
    text = B03002.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith('"GEO_ID","NAME","B03002_001E","B03002_001M","B03002_002E"')
    assert lines[1].startswith('"Geography","Geographic Area Name","Estimate!!Total:",'
                               '"Margin of Error!!Total:"')
    assert all(line.endswith(",") for line in lines)  # the trailing comma of each line
    rows = _file_rows()
    assert len(rows) == 8 and len(rows[0]) == 2 + 21 * 2 + 1
    assert rows[2][:4] == ["1400000US41039000100", TRACT_1, "3712", "*****"]


# --------------------------------------------------------------------------------------------
# Detection and naming (pure)
# --------------------------------------------------------------------------------------------

def test_detect_finds_the_b03002_groups_by_label():
    rows = _file_rows()
    layout = acs.detect(rows[0], rows[1])
    assert layout.table == "B03002"
    assert {v.group: v.code for v in layout.variables} == {
        "total": "B03002_001E", "white": "B03002_003E", "black": "B03002_004E",
        "aian": "B03002_005E", "asian": "B03002_006E", "nhpi": "B03002_007E",
        "other": "B03002_008E", "multiracial": "B03002_009E", "hispanic_latino": "B03002_012E"}
    moe = {v.group: rows[0][v.moe_position] for v in layout.variables}
    assert moe["white"] == "B03002_003M" and moe["hispanic_latino"] == "B03002_012M"


def test_detect_ignores_other_files():
    assert acs.detect(["City", "State", "Race", "Count"], ["Newark", "NJ", "White", "5"]) is None
    # Codes without the label row (an API download) are not this layout either.
    assert acs.detect(["GEO_ID", "NAME", "B03002_001E"], ["1400000US1", "Tract 1", "5"]) is None


def test_a_table_without_race_groups_is_refused_with_the_tables_to_use():
    with pytest.raises(MappingError, match="B01003.*B03002"):
        acs.detect(["GEO_ID", "NAME", "B01003_001E", "B01003_001M", ""],
                   ["Geography", "Geographic Area Name", "Estimate!!Total",
                    "Margin of Error!!Total", ""], "ACSDT5Y2023.B01003-Data.csv")


@pytest.mark.parametrize("name, source", [
    ("ACSDT5Y2023.B03002-Data.csv", "ACS 2019-2023 5-year, table B03002"),
    ("ACSDT5Y2023.B03002-Data (1).csv", "ACS 2019-2023 5-year, table B03002"),
    ("ACSDT1Y2022.B03002-Data.csv", "ACS 2022 1-year, table B03002"),
    ("ACSDP5Y2010.DP05_data_with_overlays_2020-07-10T092814.csv",
     "ACS 2006-2010 5-year, table DP05"),
    ("lane_tracts.csv", None),
    ("ACSDT5Y2023.B03002-Data.xlsx", None),
])
def test_source_from_file_name(name, source):
    assert acs.source_from_file_name(name) == source


def test_dp05_reads_the_hispanic_section_not_the_overlapping_race_section():
    headers = ["GEO_ID", "NAME", "DP05_0001E", "DP05_0001M", "DP05_0037E", "DP05_0037M",
               "DP05_0076E", "DP05_0076M", "DP05_0076PE", "DP05_0076PM", "DP05_0077E",
               "DP05_0077M", "DP05_0082E", "DP05_0082M", "DP05_0083E", "DP05_0083M",
               "DP05_0084E", "DP05_0084M"]
    sex = "Estimate!!SEX AND AGE!!Total population"
    hisp = "Estimate!!HISPANIC OR LATINO AND RACE!!Total population"
    labels = ["Geography", "Geographic Area Name", sex, sex.replace("Estimate", "Margin of Error"),
              "Estimate!!RACE!!Total population!!One race!!White", "Margin of Error!!RACE!!x",
              hisp, "Margin of Error!!x", hisp.replace("Estimate", "Percent"), "Percent x",
              hisp + "!!Hispanic or Latino (of any race)", "Margin of Error!!x",
              hisp + "!!Not Hispanic or Latino", "Margin of Error!!x",
              hisp + "!!Not Hispanic or Latino!!White alone", "Margin of Error!!x",
              hisp + "!!Not Hispanic or Latino!!Black or African American alone",
              "Margin of Error!!x"]
    layout = acs.detect(headers, labels)
    assert layout.table == "DP05"
    assert {v.group: v.code for v in layout.variables} == {
        "total": "DP05_0076E", "hispanic_latino": "DP05_0077E", "white": "DP05_0083E",
        "black": "DP05_0084E"}
    row = ["0500000US41039", "Lane County, Oregon", "382647", "*****", "330104", "1871",
           "382647", "*****", "382647", "(X)", "37810", "*****", "344837", "*****", "305772",
           "*****", "3562", "422"]
    shaped = acs.reshape(layout, pa.table({f"c{i}": [v] for i, v in enumerate(row)}),
                         file_name="ACSDP5Y2023.DP05-Data.csv")
    got = {r["c3"]: (r["c4"], r["c5"]) for r in shaped.rows.to_pylist()}
    assert got == {"total": ("382647", None), "hispanic_latino": ("37810", None),
                   "white": ("305772", None), "black": ("3562", "422")}
    assert shaped.source == "ACS 2019-2023 5-year, table DP05"


def test_moe_of_sum_is_the_root_of_squares():
    assert acs.moe_of_sum([120, 160]) == pytest.approx(200.0)
    assert acs.moe_of_sum([120, None, 160]) == pytest.approx(200.0)  # a blank margin is exact


# --------------------------------------------------------------------------------------------
# Import with no profile
# --------------------------------------------------------------------------------------------

def test_import_reads_the_export_with_no_profile(con):
    r = _import(con, B03002)
    assert r.status == "committed" and r.profile_source == "acs"
    assert (r.rows_read, r.rows_inserted, r.rows_rejected) == (6, 54, 0)
    assert _rows(con, TRACT_1) == TRACT_1_ROWS
    assert _rows(con, TRACT_47) == TRACT_47_ROWS
    assert dict(con.execute('SELECT geography, population FROM population WHERE "group" = '
                            "'total'").fetchall()) == TOTALS
    assert con.execute("SELECT DISTINCT source FROM population").fetchall() == [(SOURCE,)]
    assert set(con.execute('SELECT dimension, "group" = \'total\' FROM population'
                           ).fetchall()) == {("race_ethnicity", False), ("total", True)}
    # Each record keeps the file row of its tract (row 3 = the first tract).
    assert dict(con.execute("SELECT geography, min(file_row) FROM population GROUP BY 1 "
                            "HAVING min(file_row) = max(file_row)").fetchall())[TRACT_47] == 8
    assert con.execute("SELECT count(DISTINCT file_row) FROM population").fetchone()[0] == 6


def test_groups_add_up_to_the_total_so_no_overlap_warning(con):
    r = _import(con, B03002)
    sums = con.execute("SELECT geography, sum(population) FILTER (WHERE dimension = "
                       "'race_ethnicity'), max(population) FILTER (WHERE \"group\" = 'total') "
                       "FROM population GROUP BY 1").fetchall()
    assert all(groups == total for _, groups, total in sums) and len(sums) == 6
    assert not any(n.startswith("warning: ") for n in r.notes)


def test_moe_symbols_become_blank_with_a_note(con):
    r = _import(con, B03002)
    text = "\n".join(r.summary_lines())
    assert "margin of error '*****' in 1 cell: the estimate is controlled" in text
    assert "margin of error not available in 1 cell ('-888888888' 1); moe stored blank" in text
    assert f"source '{SOURCE}' (from the file name)" in text
    assert con.execute("SELECT count(*) FROM population WHERE moe IS NULL").fetchone()[0] == 2
    assert r.rows_rejected == 0


def test_command_line_imports_it_without_a_profile(tmp_path):
    db = tmp_path / "cli.duckdb"
    out = CliRunner().invoke(cli, ["import", str(B03002), "--kind", "population",
                                   "--jurisdiction", "Lane County", "--timezone", TZ,
                                   "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert "rows read 6; inserted 54; updated 0; unchanged 0; merged 0; rejected 0" in out.output
    assert "mapping suggested" not in out.output  # nothing to save: detection is automatic
    assert not (tmp_path / "profiles").exists()


# --------------------------------------------------------------------------------------------
# The upload wizard's path: preview, suggested columns, the profile it builds
# --------------------------------------------------------------------------------------------

def test_preview_shows_the_long_rows_and_suggests_every_required_field(con):
    info = preview(con, B03002, kind="population", file_name=B03002.name)
    assert info["headers"] == list(acs.LONG_HEADERS)
    assert info["row_count"] == 54
    first = dict(zip(info["headers"], info["rows"][0]))
    assert first["NAME"] == TRACT_1 and first["group"] == "total" and first["estimate"] == "3712"
    choices = mapping.initial_choices("population", info["headers"], info["suggestions"])
    assert choices["geography"] == ["NAME"] and choices["population"] == ["estimate"]
    assert choices["group"] == ["group"] and choices["moe"] == ["margin of error"]
    assert mapping.missing_required("population", choices, {}) == []


def test_the_profile_the_wizard_builds_imports_the_same_rows(con):
    info = preview(con, B03002, kind="population", file_name=B03002.name)
    choices = mapping.initial_choices("population", info["headers"], info["suggestions"])
    profile = mapping.build_profile("population", info["headers"], choices, {}, {})
    dry = import_file(con, B03002, kind="population", jurisdiction="Lane County",
                      timezone_name=TZ, profile=mapping.dry_run_profile(profile), dry_run=True)
    assert (dry.status, dry.rows_read, dry.rows_inserted) == ("dry_run", 6, 54)
    assert con.execute("SELECT count(*) FROM population").fetchone()[0] == 0
    r = import_file(con, B03002, kind="population", jurisdiction="Lane County",
                    timezone_name=TZ, profile=profile)
    assert r.rows_inserted == 54 and _rows(con, TRACT_1) == TRACT_1_ROWS


# --------------------------------------------------------------------------------------------
# Profiles may change the geography and the source, nothing else
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["GEO_ID", "Geography"])
def test_profile_may_name_the_geography_by_code_or_label(con, column):
    r = _import(con, B03002, f'kind = "population"\n[columns]\ngeography = "{column}"\n'
                             '[options]\nsource = "ACS 2023 5-year (B03002), Lane County"\n')
    assert r.rows_inserted == 54
    assert _rows(con, "1400000US41039004700") == TRACT_47_ROWS
    assert con.execute("SELECT DISTINCT source FROM population").fetchall() == [
        ("ACS 2023 5-year (B03002), Lane County",)]


def test_profile_mapping_the_estimates_elsewhere_is_refused(con):
    before = table_contents(con)
    with pytest.raises(MappingError, match="may set only geography"):
        _import(con, B03002, 'kind = "population"\n[columns]\ngeography = "NAME"\n'
                             'group = "group"\npopulation = "B03002_003E"\n')
    assert table_contents(con) == before


def test_renamed_file_gets_a_source_without_the_year(con, tmp_path):
    path = shutil.copy(B03002, tmp_path / "lane_tracts.csv")
    r = _import(con, path)
    assert con.execute("SELECT DISTINCT source FROM population").fetchall() == [
        ("ACS, table B03002",)]
    assert any("the year is unknown; set source under [options]" in n for n in r.notes)


def test_unquoted_file_without_trailing_commas_reads_the_same(con, tmp_path):
    plain = _write_rows(tmp_path / "ACSDT5Y2023.B03002-Data.csv", _file_rows(),
                        quoting=csv.QUOTE_MINIMAL, trailing=False)
    assert not plain.read_text().splitlines()[2].endswith(",")
    _import(con, plain)
    assert _rows(con, TRACT_1) == TRACT_1_ROWS and _rows(con, TRACT_47) == TRACT_47_ROWS


# --------------------------------------------------------------------------------------------
# Rejects, refusals, undo, re-import
# --------------------------------------------------------------------------------------------

def test_unreadable_values_reject_their_whole_row_with_row_column_and_reason(con, tmp_path):
    path = _edit(tmp_path, "ACSDT5Y2023.B03002-Data.csv",
                 {(4, "B03002_004E"): "5x7", (5, "B03002_006M"): "about 60"})
    r = _import(con, path)
    assert (r.rows_read, r.rows_rejected, r.rows_inserted) == (6, 2, 36)
    rejects = con.execute('SELECT file_row, "column", reason, raw_values FROM rejects ORDER BY 1'
                          ).fetchall()
    assert [(row, col) for row, col, _, _ in rejects] == [(4, "B03002_004E"), (5, "B03002_006M")]
    assert rejects[0][2] == "cannot read '5x7' as an estimate (a whole number, not negative)"
    assert rejects[1][2].startswith("cannot read 'about 60' as a margin of error")
    raw = json.loads(rejects[0][3])
    assert raw["GEO_ID"] == "1400000US41039000200" and raw["B03002_004E"] == "5x7"
    # The whole tract is left out, not just the unreadable group.
    assert _rows(con, "Census Tract 2; Lane County; Oregon") == {}
    assert {x["column"] for x in r.reject_reasons} == {"B03002_004E", "B03002_006M"}
    assert "rejected 1 row(s): B03002_004E: cannot read as an estimate" in "\n".join(
        r.summary_lines())


def test_most_rows_unreadable_refuses_the_file_and_writes_nothing(con, tmp_path):
    path = _edit(tmp_path, "ACSDT5Y2023.B03002-Data.csv",
                 {(row, "B03002_001E"): "n/a" for row in (3, 4, 5, 6)})
    before = table_contents(con)
    with pytest.raises(ImportRefused, match="4 of 6 rows would be rejected.*row 3, column "
                                            "'B03002_001E'"):
        _import(con, path)
    assert table_contents(con) == before


def test_duplicate_geography_refused(con, tmp_path):
    rows = _file_rows()
    path = _write_rows(tmp_path / "ACSDT5Y2023.B03002-Data.csv", rows + [rows[2]])
    with pytest.raises(ImportRefused, match="1400000US41039000100.*rows 3 and 9"):
        _import(con, path)


def test_reimporting_the_same_file_changes_nothing(con, tmp_path):
    first = _import(con, B03002)
    before = table_contents(con)
    again = _import(con, B03002)
    assert again.status == "already_imported" and again.previous_import == first.import_id
    assert table_contents(con) == before
    # The same bytes under the browser's "(1)" name are the same file.
    copy = shutil.copy(B03002, tmp_path / "ACSDT5Y2023.B03002-Data (1).csv")
    assert _import(con, copy).status == "already_imported"
    # The same figures written without quotes: every row is recognised as unchanged.
    rows = con.execute("SELECT * FROM population ORDER BY ALL").fetchall()
    plain = _write_rows(tmp_path / "ACSDT5Y2023.B03002-Data (2).csv", _file_rows(),
                        quoting=csv.QUOTE_MINIMAL)
    r = _import(con, plain)
    assert (r.status, r.rows_inserted, r.rows_updated, r.rows_unchanged) == ("committed", 0, 0, 54)
    assert con.execute("SELECT * FROM population ORDER BY ALL").fetchall() == rows


def test_a_revised_release_updates_and_undo_restores(con, tmp_path):
    first = _import(con, B03002)
    revised = _edit(tmp_path, "ACSDT5Y2023.B03002-Data.csv",
                    {(3, "B03002_003E"): "3020", (3, "B03002_001E"): "3720",
                     (3, "B03002_003M"): "180"})
    after_first = table_contents(con)
    second = _import(con, revised)
    assert (second.rows_updated, second.rows_unchanged, second.rows_inserted) == (2, 52, 0)
    assert _rows(con, TRACT_1)["white"] == (3020, 180)
    undo_import(con, second.import_id)
    assert _rows(con, TRACT_1) == TRACT_1_ROWS
    undo_import(con, first.import_id)
    assert con.execute("SELECT count(*) FROM population").fetchone()[0] == 0
    # The first import created the jurisdiction; undoing it removes it again.
    assert con.execute("SELECT count(*) FROM jurisdictions").fetchone()[0] == 0
    assert after_first != table_contents(con)


# --------------------------------------------------------------------------------------------
# Long-format tables whose race rows overlap (Hispanic counted beside the races)
# --------------------------------------------------------------------------------------------

LONG = ('kind = "population"\n[columns]\ngeography = "City"\ngroup = "Race"\n'
        'population = "Count"\ntotal_population = "Total"\n[options]\n'
        'dimension = "race_ethnicity"\nsource = "test"\n[values.group]\n'
        '"Hispanic or Latino" = "hispanic_latino"\n"White" = "white"\n"Black" = "black"\n')


def _long(con, tmp_path, text, **kw):
    path = tmp_path / "cities.csv"
    path.write_text(text, encoding="utf-8")
    return import_file(con, path, kind="population", jurisdiction="Cities", timezone_name="UTC",
                       profile=parse_profile(LONG), **kw)


def test_overlapping_rows_warn_and_the_total_is_the_files_not_a_sum(con, tmp_path):
    r = _long(con, tmp_path, "City,Race,Count,Total\n"
                             "Alton,White,700,1000\nAlton,Black,200,1000\n"
                             "Alton,Hispanic or Latino,300,1000\n"
                             "Brook,White,400,500\nBrook,Hispanic or Latino,100,500\n")
    assert ("warning: race rows sum to 1,700, 13.3% more than the total population 1,500: "
            "Hispanic or Latino is counted beside the races; totals are not summed "
            "(1 of 2 geographies add up to more than their total)") in r.notes
    assert "  warning: race rows sum to 1,700" in "\n".join(r.summary_lines())
    totals = dict(con.execute("SELECT geography, population FROM population WHERE \"group\" = "
                              "'total' AND dimension = 'total'").fetchall())
    assert totals == {"Alton": 1000, "Brook": 500}
    assert r.rows_read == 5 and r.rows_inserted == 7  # five group rows and two total rows
    # The total row points at the first row that carried the total.
    assert con.execute("SELECT file_row FROM population WHERE geography = 'Brook' AND "
                       "\"group\" = 'total'").fetchone()[0] == 5


def test_groups_that_add_up_give_no_warning(con, tmp_path):
    r = _long(con, tmp_path, "City,Race,Count,Total\nAlton,White,700,1000\n"
                             "Alton,Black,300,1000\n")
    assert not any(n.startswith("warning: ") for n in r.notes)


def test_totals_that_disagree_within_a_city_are_refused(con, tmp_path):
    before = table_contents(con)
    with pytest.raises(ImportRefused, match="'Alton': 990, 1000 \\(rows 2, 3\\)"):
        _long(con, tmp_path, "City,Race,Count,Total\nAlton,White,700,1000\n"
                             "Alton,Black,200,990\n")
    assert table_contents(con) == before


def test_reimport_and_undo_of_derived_totals(con, tmp_path):
    text = "City,Race,Count,Total\nAlton,White,700,1000\nAlton,Hispanic or Latino,400,1000\n"
    first = _long(con, tmp_path, text)
    second = _long(con, tmp_path, text + "Alton,Black,50,1000\n")
    assert (second.rows_inserted, second.rows_unchanged) == (1, 3)
    undo_import(con, second.import_id)
    undo_import(con, first.import_id)
    assert con.execute("SELECT count(*) FROM population").fetchone()[0] == 0


def test_census_cities_overlap_is_named_and_not_summed(con, realdata):
    """The real file: race rows of 596 cities against each city's own Total Population."""
    path = realdata / "census_us_cities_race" / "us-cities-demographics.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    city_total = {(r["City"], r["State"]): int(r["Total Population"]) for r in rows}
    races, total = sum(int(r["Count"]) for r in rows), sum(city_total.values())
    assert (len(city_total), races > total) == (596, True)

    r = import_file(con, path, kind="population", jurisdiction="US cities",
                    profile=FIXTURES / "census_cities_with_total.toml")
    over = races / total - 1
    expected = (f"warning: race rows sum to {races:,}, {over:.1%} more than the total population "
                f"{total:,}: Hispanic or Latino is counted beside the races; totals are not "
                "summed")
    assert any(n.startswith(expected) for n in r.notes), r.notes
    assert (r.rows_read, r.rows_inserted, r.rows_rejected) == (2891, 2891 + 596, 0)
    got = dict(con.execute("SELECT geography, population FROM population WHERE \"group\" = "
                           "'total'").fetchall())
    assert got == {f"{c}, {s}": n for (c, s), n in city_total.items()}
    # Newark's total is the file's 281,913, not the sum of its race rows.
    newark = [int(x["Count"]) for x in rows if (x["City"], x["State"]) == ("Newark", "New Jersey")]
    assert got["Newark, New Jersey"] == 281913 != sum(newark)


def test_census_cities_without_a_total_column_say_so(con, realdata):
    path = realdata / "census_us_cities_race" / "us-cities-demographics.csv"
    r = import_file(con, path, kind="population", jurisdiction="US cities",
                    profile=PROFILES / "census_us_cities_race.toml")
    assert any(n.startswith("596 geographies have race/ethnicity rows but no total row; their "
                            "groups are never summed") for n in r.notes)
    assert con.execute("SELECT count(*) FROM population WHERE \"group\" = 'total'"
                       ).fetchone()[0] == 0


# --------------------------------------------------------------------------------------------
# Reading the denominators back (data/population.py)
# --------------------------------------------------------------------------------------------

def test_denominators_by_tract_and_for_the_whole_county(con):
    from data import population

    _import(con, B03002)
    assert population.sources(con, "Lane County") == [SOURCE]
    tracts = population.by_geography(con, "Lane County")
    assert len(tracts) == 6
    assert tracts[TRACT_1] == {g: (p, None if m is None else float(m))
                               for g, (p, m) in TRACT_1_ROWS.items()}
    whole = population.for_jurisdiction(con, "Lane County")
    assert whole["total"][0] == sum(TOTALS.values()) == 26921
    # Black residents: 41 + 57 + 130 + 78 + 210 + 12 = 528; MOE = sqrt(24² + 28² + 40² + 32² +
    # 49² + 15²) = sqrt(576 + 784 + 1600 + 1024 + 2401 + 225) = sqrt(6610) = 81.302 (margins
    # read off the file).
    assert whole["black"][0] == 528
    assert whole["black"][1] == pytest.approx(81.302, abs=1e-3)


def test_denominators_use_the_jurisdictions_own_row_and_ask_for_a_source(con, tmp_path):
    from data import DataError, population

    path = tmp_path / "pop.csv"
    path.write_text("geography,dimension,group,population,moe,source\n"
                    "Cedar,total,total,1000,,A\nCedar,race_ethnicity,white,600,40,A\n"
                    "North,race_ethnicity,white,350,30,A\nCedar,race_ethnicity,white,610,41,B\n",
                    encoding="utf-8")
    import_file(con, path, kind="population", jurisdiction="Cedar", timezone_name="UTC",
                profile=parse_profile('kind = "population"\n[columns]\ngeography = "geography"\n'
                                      'dimension = "dimension"\ngroup = "group"\n'
                                      'population = "population"\nmoe = "moe"\n'
                                      'source = "source"\n'))
    with pytest.raises(DataError, match="several sources \\(A; B\\)"):
        population.for_jurisdiction(con, "Cedar")
    assert population.for_jurisdiction(con, "Cedar", source="A") == {
        "total": (1000, None), "white": (600, 40.0)}


def test_the_equity_pages_residents_come_from_these_rules(con, tmp_path):
    """metrics.catalog (the Equity page's per-resident benchmark) reads the same rules: a
    county imported as tracts gets its groups added up over the tracts, and a jurisdiction with
    two sources uses its latest import's, never both added together."""
    from metrics.catalog import population_by_group, population_sources

    _import(con, B03002)
    tracts = population_by_group(con, ("Lane County",), "race_ethnicity")
    assert tracts["black"][0] == 528  # 41 + 57 + 130 + 78 + 210 + 12, as above
    assert tracts["black"][1] == pytest.approx(81.302, abs=1e-3)
    profile = parse_profile('kind = "population"\n[columns]\ngeography = "geography"\n'
                            'dimension = "dimension"\ngroup = "group"\n'
                            'population = "population"\nmoe = "moe"\nsource = "source"\n')
    for year, white in (("2022", 600), ("2023", 610)):  # the second import is the latest
        path = tmp_path / f"pop{year}.csv"
        path.write_text("geography,dimension,group,population,moe,source\n"
                        f"Cedar,total,total,1000,,ACS {year}\n"
                        f"Cedar,race_ethnicity,white,{white},40,ACS {year}\n", encoding="utf-8")
        import_file(con, path, kind="population", jurisdiction="Cedar", timezone_name="UTC",
                    profile=profile)
    assert population_by_group(con, ("Cedar",), "race_ethnicity") == {"white": (610, 40.0)}
    assert population_sources(con, ("Cedar",)) == ["ACS 2023"]
    # Both jurisdictions: their groups add up, margins as the root of the summed squares.
    both = population_by_group(con, ("Cedar", "Lane County"), "race_ethnicity")
    white_lane = tracts["white"]
    assert both["white"][0] == 610 + white_lane[0]
    assert both["white"][1] == pytest.approx((40 ** 2 + white_lane[1] ** 2) ** 0.5)


def test_headers_without_rows_are_refused(con, tmp_path):
    path = _write_rows(tmp_path / "ACSDT5Y2023.B03002-Data.csv", _file_rows()[:2])
    with pytest.raises(ImportRefused, match="two header rows but no geography rows"):
        _import(con, path)
