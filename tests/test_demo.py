"""The demo cohort (data/demo/): deterministic, plausible, consistent with the model."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

import data
from data.connection import connect
from data.demo import (AGE_GROUPS, DEMOS, POPULATION_SOURCE, WINDOW_END, WINDOW_START,
                       generate_calls_csv, populate_demo)
from data.errors import DataError
from data.schema import FIELDS, VALUE_SETS

from conftest import PROFILES

RECORD_TABLES = ("calls", "responses", "referrals", "population")
AR = "responder IN ('alternative', 'co_response')"


def _person_key(tmp_path_factory) -> str:
    """One person-key secret for the demo databases of this module: person keys are hashed
    with the database's secret, so two databases agree only when they share it."""
    return str(tmp_path_factory.getbasetemp() / "demo-tests.person_key")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One full demo cohort (seed 0) shared by the read-only tests of this module; its export
    files are kept in exports/ beside the database."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("A911_PERSON_KEY", _person_key(tmp_path_factory))
        con = connect(folder / "demo.duckdb")
        start = time.perf_counter()
        counts = populate_demo(con, seed=0, folder=folder / "exports")
        seconds = time.perf_counter() - start
    yield con, counts, seconds
    con.close()


def _digest(con, tables=("calls", "responses", "referrals", "population", "crosswalk",
                         "jurisdictions")) -> dict[str, str]:
    """A digest of each table's full content (every row as text), computed in DuckDB."""
    return {t: _one(con, f"SELECT count(*)::VARCHAR || ':' || coalesce(md5(string_agg(h, ',' "
                         f"ORDER BY h)), '') FROM (SELECT md5(t::VARCHAR) AS h FROM {t} t)")
            for t in tables}


def _one(con, sql, params=()):
    return con.execute(sql, list(params)).fetchall()[0][0]


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

@pytest.mark.slow  # over 10 s: left out of make test-fast
def test_demo_loads_quickly_and_reports_counts(demo):
    con, counts, seconds = demo
    # Twenty files written and read back through the importer: about twice the CPU time of
    # writing the rows directly, as it was before (20 s then).
    assert seconds < 40, f"demo took {seconds:.1f} s"
    for t in ("jurisdictions", "crosswalk", *RECORD_TABLES):
        assert counts[t] == _one(con, f"SELECT count(*) FROM {t}"), t
    assert counts["jurisdictions"] == 5
    assert 400_000 <= counts["calls"] <= 600_000
    assert counts["responses"] > 10_000 and counts["referrals"] > 5_000
    assert counts["imports"] == 20


@pytest.mark.slow  # over 10 s: left out of make test-fast
def test_same_seed_same_tables_other_seed_differs(demo, tmp_path, tmp_path_factory,
                                                  monkeypatch):
    con0, _, _ = demo
    monkeypatch.setenv("A911_PERSON_KEY", _person_key(tmp_path_factory))
    with connect(tmp_path / "again.duckdb") as again:
        populate_demo(again, seed=0)
        assert _digest(again) == _digest(con0)
    with connect(tmp_path / "other.duckdb") as other:
        populate_demo(other, seed=1, scale=0.1)
        d1 = _digest(other)
    assert d1["calls"] != _digest(con0)["calls"]
    assert d1["jurisdictions"] == _digest(con0)["jurisdictions"]  # settings do not depend on it


def test_scale_changes_volume(con):
    counts = populate_demo(con, seed=3, scale=0.05)
    assert 15_000 < counts["calls"] < 40_000
    assert counts["responses"] > 500


@pytest.mark.slow  # over 10 s: left out of make test-fast
def test_refuses_to_load_twice_and_changes_nothing(demo):
    con, _, _ = demo
    before = _digest(con, RECORD_TABLES + ("imports",))
    with pytest.raises(DataError, match="already loaded"):
        populate_demo(con, seed=0)
    assert _digest(con, RECORD_TABLES + ("imports",)) == before


def test_failure_rolls_back_everything(con, monkeypatch):
    """The ledger step of the importer fails at the tenth of the twenty imports: the nine
    before it, the settings and the crosswalk are rolled back with it."""
    import data.importer.pipeline as pipeline

    ledger, written = pipeline.write_ledger, []

    def boom(*args, **kwargs):
        if len(written) == 9:
            raise RuntimeError("disk full")
        written.append(args[1].file_name)
        return ledger(*args, **kwargs)

    monkeypatch.setattr(pipeline, "write_ledger", boom)
    with pytest.raises(RuntimeError):
        populate_demo(con, seed=0, scale=0.02)
    assert len(written) == 9
    for t in ("jurisdictions", "crosswalk", "crosswalk_auto", "imports", "row_warnings",
              *RECORD_TABLES):
        assert _one(con, f"SELECT count(*) FROM {t}") == 0, t
    # The connection is usable afterwards and the demo can load.
    monkeypatch.undo()
    assert populate_demo(con, seed=0, scale=0.02)["calls"] > 0


@pytest.mark.slow  # over 10 s: left out of make test-fast
def test_cli_demo_command(cli_demo):
    from data.cli import cli

    db, result = cli_demo  # `demo --db` (conftest.py)
    assert result.exit_code == 0, result.output
    assert "Loaded the demo cohort" in result.output and "calls" in result.output
    again = CliRunner().invoke(cli, ["demo", "--db", str(db), "--if-empty"])
    assert again.exit_code == 0 and "already holds calls" in again.output
    twice = CliRunner().invoke(cli, ["demo", "--db", str(db)])
    assert twice.exit_code != 0 and "already loaded" in twice.output
    assert "Traceback" not in twice.output


# --------------------------------------------------------------------------------------------
# Jurisdictions, crosswalk, population
# --------------------------------------------------------------------------------------------

def test_five_different_jurisdictions(demo):
    con, _, _ = demo
    rows = con.execute("SELECT jurisdiction, state, time_zone, population, program_name, "
                       "launch_date, coverage_start_hour, coverage_end_hour, coverage_days, "
                       "target_categories FROM jurisdictions ORDER BY population DESC").fetchall()
    assert [r[0] for r in rows] == [d.name for d in DEMOS]
    assert len({r[2] for r in rows}) == 5  # five time zones
    assert rows[0][3] > 800_000 and rows[-1][3] < 100_000
    assert len({r[5] for r in rows}) == 5
    in_window = [r for r in rows if WINDOW_START < r[5] < WINDOW_END]
    assert len(in_window) >= 2  # the trend shows a launch
    hours = {(r[6], r[7]) for r in rows}
    assert (0, 24) in hours and len(hours) == 5
    assert all(r[4] and r[8] and r[9] for r in rows)
    # Every zone is one DuckDB knows.
    for r in rows:
        assert _one(con, "SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [r[2]]) == 1


def test_crosswalk_unmapped_and_untriaged_are_small_but_visible(demo):
    con, _, _ = demo
    # Unmapped: the crosswalk gives the type no category (the quality figure's meaning).
    unmapped = con.execute(
        "SELECT jurisdiction, avg((w.category IS NULL)::INT), count(*) FILTER (WHERE "
        "w.call_type IS NULL), avg(type_unmapped::INT) FROM calls c LEFT JOIN crosswalk w "
        "USING (jurisdiction, call_type) GROUP BY 1").fetchall()
    assert len(unmapped) == 5
    assert all(0.002 < share < 0.02 for _, share, _, _ in unmapped), unmapped
    assert all(missing == 0 and abs(derived - share) < 1e-12
               for _, share, missing, derived in unmapped)
    assert _one(con, "SELECT count(*) FROM crosswalk WHERE eligible IS NULL") >= 5
    assert _one(con, "SELECT count(DISTINCT category) FROM crosswalk") == 14
    # calls.category comes from the crosswalk; the local wordings differ by jurisdiction.
    assert _one(con, "SELECT count(*) FROM calls c JOIN crosswalk w USING (jurisdiction, "
                     "call_type) WHERE c.category IS DISTINCT FROM w.category") == 0
    assert _one(con, "SELECT count(*) FROM calls c WHERE category IS NOT NULL AND NOT EXISTS "
                     "(SELECT 1 FROM crosswalk w WHERE w.jurisdiction = c.jurisdiction AND "
                     "w.call_type = c.call_type)") == 0
    welfare = {r[0] for r in con.execute("SELECT call_type FROM crosswalk "
                                         "WHERE category = 'WELFARE_CHECK'").fetchall()}
    assert len(welfare) == 5


def test_population_denominators(demo):
    con, _, _ = demo
    assert _one(con, "SELECT count(*) FROM population p JOIN jurisdictions j USING "
                     "(jurisdiction) WHERE p.geography = p.jurisdiction AND p.dimension = "
                     "'total' AND p.population <> j.population") == 0
    assert _one(con, "SELECT count(*) FROM jurisdictions j WHERE NOT EXISTS (SELECT 1 FROM "
                     "population p WHERE p.jurisdiction = j.jurisdiction AND p.geography = "
                     "j.jurisdiction AND p.dimension = 'total')") == 0
    # Groups add up to the total of each geography.
    bad = con.execute("""
        SELECT g.jurisdiction, g.geography, g.dimension FROM population g
        JOIN population t ON t.jurisdiction = g.jurisdiction AND t.geography = g.geography
          AND t.dimension = 'total'
        WHERE g.dimension <> 'total'
        GROUP BY g.jurisdiction, g.geography, g.dimension, t.population
        HAVING sum(g.population) <> t.population""").fetchall()
    assert bad == []
    groups = {r[0] for r in con.execute("SELECT DISTINCT \"group\" FROM population WHERE "
                                        "dimension = 'race_ethnicity'").fetchall()}
    assert groups == {"hispanic_latino", "white", "black", "asian", "aian", "nhpi",
                      "multiracial", "other"}
    assert _one(con, "SELECT count(*) FROM population WHERE population_key <> concat_ws('|', "
                     "geography, dimension, \"group\", source) OR source <> ? OR moe IS NULL",
                [POPULATION_SOURCE]) == 0
    areas = con.execute("SELECT jurisdiction, count(DISTINCT area) FROM calls GROUP BY 1"
                        ).fetchall()
    assert all(4 <= n <= 8 for _, n in areas)


# --------------------------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------------------------

def test_calls_fall_in_the_window(demo):
    con, _, _ = demo
    lo, hi = con.execute("SELECT min(received_local), max(received_local) FROM calls"
                         ).fetchall()[0]
    assert lo >= datetime.combine(WINDOW_START, datetime.min.time())
    assert hi < datetime.combine(WINDOW_END, datetime.min.time())
    lo_at, hi_at = con.execute("SELECT min(received_at), max(received_at) FROM calls"
                               ).fetchall()[0]
    start = datetime.combine(WINDOW_START, datetime.min.time(), timezone.utc)
    end = datetime.combine(WINDOW_END, datetime.min.time(), timezone.utc)
    assert start <= lo_at and hi_at < end + timedelta(hours=12)
    assert _one(con, "SELECT count(*) FROM calls WHERE received_at IS NULL OR call_id IS NULL "
                     "OR call_type IS NULL") == 0
    # received_local is the wall clock of the jurisdiction's zone.
    assert _one(con, "SELECT count(*) FROM calls c JOIN jurisdictions j USING (jurisdiction) "
                     "WHERE c.received_local <> timezone(j.time_zone, c.received_at)") == 0


def test_call_patterns(demo):
    con, _, _ = demo
    origin = dict(con.execute("SELECT origin, avg(1) * count(*) / (SELECT count(*) FROM calls) "
                              "FROM calls GROUP BY 1").fetchall())
    assert 0.6 < origin["911"] < 0.8 and 0.15 < origin["officer_initiated"] < 0.25
    july, feb = con.execute(
        "SELECT count(*) FILTER (WHERE month(received_local) = 7), "
        "count(*) FILTER (WHERE month(received_local) = 2) * 31 / 28.5 FROM calls "
        "WHERE year(received_local) IN (2023, 2024)").fetchall()[0]
    assert july > 1.1 * feb  # summer peak
    night, afternoon = con.execute(
        "SELECT count(*) FILTER (WHERE hour(received_local) = 4), "
        "count(*) FILTER (WHERE hour(received_local) = 16) FROM calls").fetchall()[0]
    assert afternoon > 3 * night
    # Before a launch inside the window the team answers no call; after it, it does.
    millbrook = [d for d in DEMOS if d.name == "Millbrook"][0]
    before, after = con.execute(
        f"SELECT count(*) FILTER (WHERE {AR} AND received_local < ?), "
        f"count(*) FILTER (WHERE {AR} AND received_local >= ?) FROM calls "
        "WHERE jurisdiction = 'Millbrook'", [millbrook.launch, millbrook.launch]).fetchall()[0]
    assert before == 0 and after > 500


def test_coverage_of_eligible_calls(demo):
    con, _, _ = demo
    rows = con.execute(f"""
        SELECT jurisdiction, count(*) FILTER (WHERE eligible AND {AR}) / count(*) FILTER
          (WHERE eligible) FROM calls GROUP BY 1""").fetchall()
    assert len(rows) == 5
    for name, coverage in rows:
        assert 0.35 <= coverage <= 0.75, (name, coverage)
    assert max(c for _, c in rows) - min(c for _, c in rows) > 0.08  # real differences
    # The team works only inside coverage: no eligible call outside it, none before launch.
    assert _one(con, """
        SELECT count(*) FROM calls c JOIN jurisdictions j USING (jurisdiction)
        WHERE c.eligible AND (c.received_local < j.launch_date
          OR hour(c.received_local) < j.coverage_start_hour
          OR hour(c.received_local) >= j.coverage_end_hour
          OR NOT contains(j.coverage_days, isodow(c.received_local)::VARCHAR)
          OR (j.coverage_areas IS NOT NULL AND NOT list_contains(j.coverage_areas, c.area)))
        """) == 0
    assert _one(con, "SELECT count(*) FROM calls WHERE eligible IS NULL") > 0


def test_coverage_lower_in_the_area_with_more_black_residents(demo):
    con, _, _ = demo
    cov = dict(con.execute(f"""
        SELECT area = 'Southport', count(*) FILTER (WHERE eligible AND {AR}) / count(*) FILTER
          (WHERE eligible) FROM calls WHERE jurisdiction = 'Riverton' GROUP BY 1""").fetchall())
    assert cov[True] < cov[False] - 0.08
    top = con.execute("""
        SELECT p.geography FROM population p JOIN population t ON t.jurisdiction =
          p.jurisdiction AND t.geography = p.geography AND t.dimension = 'total'
        WHERE p.jurisdiction = 'Riverton' AND p."group" = 'black'
          AND p.geography <> 'Riverton'
        ORDER BY p.population / t.population DESC LIMIT 1""").fetchall()[0][0]
    assert top == "Southport"


def test_not_served_reasons_only_on_eligible_calls_without_the_team(demo):
    con, _, _ = demo
    assert _one(con, f"SELECT count(*) FROM calls WHERE not_served_reason IS NOT NULL AND "
                     f"(eligible IS NOT TRUE OR {AR})") == 0
    reasons = {r[0] for r in con.execute("SELECT DISTINCT not_served_reason FROM calls WHERE "
                                         "not_served_reason IS NOT NULL").fetchall()}
    assert {"no unit available", "out of hours", "reassigned to police",
            "cancelled"} <= reasons
    assert _one(con, "SELECT count(*) FROM calls WHERE responder = 'phone'") > 0


def test_eligibility_agrees_with_the_metric_engine(demo):
    metrics = pytest.importorskip("metrics")
    con, _, _ = demo
    rows = metrics.compute(con, metrics.MetricRequest(("A3", "B1"), ("jurisdiction",)))
    got = {(r.metric, r.group["jurisdiction"]): (r.numerator, r.denominator) for r in rows}
    direct = con.execute(f"""
        SELECT jurisdiction, count(*) FILTER (WHERE eligible),
          count(*) FILTER (WHERE eligible AND {AR}) FROM calls GROUP BY 1""").fetchall()
    for name, eligible, served in direct:
        assert got[("A3", name)][0] == eligible
        assert got[("B1", name)] == (served, eligible)


def test_call_timestamps_mostly_in_order_and_plausible(demo):
    con, _, _ = demo
    n, ordered = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE
            coalesce(dispatched_at, received_at) >= received_at
          AND coalesce(arrived_at, dispatched_at, received_at)
            >= coalesce(dispatched_at, received_at)
          AND coalesce(cleared_at, arrived_at, received_at) >= coalesce(arrived_at, received_at))
        FROM calls""").fetchall()[0]
    assert ordered / n > 0.99
    missing_arrival = _one(con, "SELECT avg((arrived_at IS NULL)::INT) FROM calls WHERE "
                                "responder IN ('police', 'fire', 'ems', 'alternative', "
                                "'co_response')")
    assert 0.01 < missing_arrival < 0.08
    # Team response time (C2): median 12-18 min, p90 under 45 min in every jurisdiction.
    for name, med, p90 in con.execute("""
            SELECT r.jurisdiction, median(epoch(r.arrived_at - c.received_at) / 60),
              quantile_cont(epoch(r.arrived_at - c.received_at) / 60, 0.9)
            FROM responses r JOIN calls c USING (jurisdiction, call_id) GROUP BY 1""").fetchall():
        assert 11 <= med <= 19 and 25 <= p90 <= 45, (name, med, p90)
    warned = _one(con, "SELECT count(*) FROM row_warnings WHERE warning = 'out_of_order'")
    assert 0 < warned < 0.01 * n


# --------------------------------------------------------------------------------------------
# Responses and referrals
# --------------------------------------------------------------------------------------------

def test_responses_link_to_calls_of_the_same_jurisdiction(demo):
    con, _, _ = demo
    assert _one(con, "SELECT count(*) FROM responses r WHERE call_id IS NOT NULL AND NOT EXISTS "
                     "(SELECT 1 FROM calls c WHERE c.jurisdiction = r.jurisdiction AND "
                     "c.call_id = r.call_id)") == 0
    # One response per team-responded call, and every team-responded call has its response.
    assert _one(con, f"SELECT count(*) FROM calls c WHERE {AR} AND NOT EXISTS (SELECT 1 FROM "
                     "responses r WHERE r.jurisdiction = c.jurisdiction AND "
                     "r.call_id = c.call_id)") == 0
    assert _one(con, "SELECT count(*) FROM (SELECT jurisdiction, call_id FROM responses WHERE "
                     "call_id IS NOT NULL GROUP BY ALL HAVING count(*) > 1)") == 0
    unlinked = _one(con, "SELECT avg((call_id IS NULL)::INT) FROM responses")
    assert 0.02 < unlinked < 0.09
    # Linked responses share the call's times.
    assert _one(con, "SELECT count(*) FROM responses r JOIN calls c USING (jurisdiction, "
                     "call_id) WHERE r.requested_at < c.received_at OR r.dispatched_at IS "
                     "DISTINCT FROM c.dispatched_at") == 0
    models = dict(con.execute("SELECT jurisdiction, any_value(model) FROM responses GROUP BY 1"
                              ).fetchall())
    assert sorted(models.values()).count("co_response") == 1
    co = [j for j, m in models.items() if m == "co_response"][0]
    assert _one(con, "SELECT count(*) FROM calls WHERE jurisdiction = ? AND responder = "
                     "'alternative'", [co]) == 0


def test_referrals_link_to_responses(demo):
    con, _, _ = demo
    assert _one(con, "SELECT count(*) FROM referrals f WHERE response_id IS NOT NULL AND NOT "
                     "EXISTS (SELECT 1 FROM responses r WHERE r.jurisdiction = f.jurisdiction "
                     "AND r.response_id = f.response_id)") == 0
    assert _one(con, "SELECT count(*) FROM referrals f JOIN responses r USING (jurisdiction, "
                     "response_id) WHERE f.person_key IS DISTINCT FROM r.person_key") == 0
    orphans = _one(con, "SELECT count(*) FROM referrals WHERE response_id IS NULL")
    assert 0 < orphans < 0.05 * _one(con, "SELECT count(*) FROM referrals")
    assert _one(con, "SELECT count(*) FROM referrals WHERE (status = 'connected') <> "
                     "(connected_at IS NOT NULL) OR connected_at < referred_at") == 0


def test_on_scene_rates_are_plausible(demo):
    con, _, _ = demo
    rows = con.execute("""
        SELECT jurisdiction, any_value(model), avg(contact_made::INT), avg(police_backup::INT),
          avg(arrest::INT), count(*) FILTER (WHERE transport_destination = 'emergency_department')
            / count(transport_destination)
        FROM responses GROUP BY 1""").fetchall()
    for name, model, contact, backup, arrest, ed in rows:
        assert 0.84 <= contact <= 0.96, (name, contact)
        assert backup < 0.02, (name, backup)
        assert arrest < 0.006, (name, arrest)
        assert (ed > 0.3) if model == "co_response" else (0.03 < ed < 0.25), (name, ed)
    backup_all, arrest_all, injury_all = con.execute(
        "SELECT avg(police_backup::INT), avg(arrest::INT), avg(injury::INT) FROM responses"
    ).fetchall()[0]
    assert backup_all < 0.02 and 0.0005 < arrest_all < 0.003 and injury_all < 0.01


def test_referral_and_connection_rates(demo):
    con, _, _ = demo
    referred = _one(con, """
        SELECT avg((EXISTS (SELECT 1 FROM referrals f WHERE f.jurisdiction = r.jurisdiction AND
          f.response_id = r.response_id))::INT) FROM responses r WHERE contact_made""")
    assert 0.4 <= referred <= 0.6
    c30, c90 = con.execute("""
        SELECT avg((status = 'connected' AND connected_at <= referred_at + INTERVAL 30 DAY)::INT),
               avg((status = 'connected' AND connected_at <= referred_at + INTERVAL 90 DAY)::INT)
        FROM referrals""").fetchall()[0]
    assert 0.35 <= c30 <= 0.45 and 0.45 <= c90 <= 0.55, (c30, c90)
    assert _one(con, "SELECT count(DISTINCT service_type) FROM referrals") == 6


def test_repeat_people(demo):
    con, _, _ = demo
    keys = con.execute("SELECT DISTINCT person_key FROM responses WHERE person_key IS NOT NULL "
                       "LIMIT 50").fetchall()
    assert all(len(k) == 20 and int(k, 16) >= 0 for (k,) in keys)
    counts = con.execute("""
        WITH p AS (SELECT jurisdiction, person_key, count(*) AS n FROM responses
                   WHERE person_key IS NOT NULL AND requested_local >= DATE '2024-07-01'
                   GROUP BY ALL)
        SELECT count(*) FILTER (WHERE n >= 5), count(*) FILTER (WHERE n >= 10),
               count(*) FILTER (WHERE n >= 20), count(*) FILTER (WHERE n >= 40),
               count(*) FILTER (WHERE n = 1) / count(*) FROM p""").fetchall()[0]
    assert counts[0] > counts[1] > counts[2] > counts[3] > 0, counts
    assert counts[4] > 0.4
    # Demographics of a person stay the same across their contacts (race may be unrecorded).
    assert _one(con, "SELECT count(*) FROM (SELECT person_key FROM responses WHERE person_key "
                     "IS NOT NULL AND race_ethnicity <> 'unknown' GROUP BY 1 "
                     "HAVING count(DISTINCT race_ethnicity) > 1)") == 0


def test_code_columns_hold_standard_codes(demo):
    con, _, _ = demo
    for kind in ("calls", "responses", "referrals"):
        for f in FIELDS[kind]:
            if f.type != "code":
                continue
            values = {r[0] for r in con.execute(f'SELECT DISTINCT "{f.name}" FROM {kind}'
                                                ).fetchall()} - {None}
            assert values, (kind, f.name)
            assert values <= set(VALUE_SETS[f.value_set]), (kind, f.name, values)
            raws = _one(con, f'SELECT count(*) FROM {kind} WHERE "{f.name}_raw" IS NOT NULL')
            assert raws > 0, (kind, f.name)
    ages = {r[0] for r in con.execute("SELECT DISTINCT age_group FROM responses").fetchall()}
    assert ages - {None} == set(AGE_GROUPS)
    raw = _one(con, "SELECT count(*) FROM responses WHERE race_ethnicity_raw = "
                    "'Black or African American'")
    assert raw > 0
    assert _one(con, "SELECT count(*) FROM responses WHERE len(reasons) = 0 OR reasons IS "
                     "NULL") == 0


def test_every_row_belongs_to_a_committed_demo_import(demo):
    con, counts, _ = demo
    for kind in RECORD_TABLES:
        assert _one(con, f"SELECT count(*) FROM {kind} t LEFT JOIN imports i USING (import_id) "
                         "WHERE i.import_id IS NULL OR i.kind <> ? OR i.jurisdiction <> "
                         "t.jurisdiction OR i.status <> 'committed' OR t.file_row IS NULL",
                    [kind]) == 0
    ledger = con.execute("SELECT kind, jurisdiction, file_name, file_sha256, rows_read, "
                         "rows_inserted, import_id FROM imports ORDER BY import_id").fetchall()
    assert len(ledger) == 20
    exports = Path(_one(con, "SELECT path FROM duckdb_databases() WHERE database_name = "
                             "current_database()")).parent / "exports"
    for kind, name, file_name, sha, read, inserted, import_id in ledger:
        slug = [d.slug for d in DEMOS if d.name == name][0]
        assert file_name == f"demo:{slug}-{kind}"
        # The ledger holds the hash of the file that was imported.
        assert sha == hashlib.sha256((exports / f"{slug}-{kind}.csv").read_bytes()).hexdigest()
        assert read == inserted == _one(con, f"SELECT count(*) FROM {kind} WHERE import_id = ?",
                                        [import_id])
        # file_row numbers the rows of each import like a spreadsheet (header = row 1).
        lo, hi = con.execute(f"SELECT min(file_row), max(file_row) FROM {kind} "
                             "WHERE import_id = ?", [import_id]).fetchall()[0]
        assert (lo, hi) == (2, inserted + 1)


def test_demo_imports_can_be_undone(tmp_path):
    with connect(tmp_path / "undo.duckdb") as con:
        populate_demo(con, seed=0, scale=0.02)
        ids = [r[0] for r in con.execute("SELECT import_id FROM imports WHERE jurisdiction = "
                                         "'Millbrook' ORDER BY import_id").fetchall()]
        for import_id in ids:
            data.undo_import(con, import_id)
        for kind in RECORD_TABLES:
            assert _one(con, f"SELECT count(*) FROM {kind} WHERE jurisdiction = 'Millbrook'") == 0
        assert _one(con, "SELECT count(*) FROM calls") > 0


# --------------------------------------------------------------------------------------------
# The raw CAD export for the benchmark
# --------------------------------------------------------------------------------------------

CSV_HEADER = ("Call Number,Received,Dispatched,Arrived,Cleared,Call Type,Priority,Origin,"
              "Responder,Disposition,Beat")


def test_generate_calls_csv_writes_n_rows(tmp_path):
    path = generate_calls_csv(tmp_path / "calls.csv", 2000, seed=0)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == CSV_HEADER
    assert len(lines) == 2001
    ids = [line.split(",")[0] for line in lines[1:]]
    assert len(set(ids)) == 2000
    same = generate_calls_csv(tmp_path / "same.csv", 2000, seed=0)
    other = generate_calls_csv(tmp_path / "other.csv", 2000, seed=1)
    assert same.read_bytes() == path.read_bytes()
    assert other.read_bytes() != path.read_bytes()
    with pytest.raises(DataError):
        generate_calls_csv(tmp_path / "none.csv", 0)


def test_generated_csv_imports_cleanly(con, tmp_path):
    n = 2000
    path = generate_calls_csv(tmp_path / "bench_calls.csv", n, seed=0)
    result = data.import_file(con, path, kind="calls", jurisdiction="Bench",
                              profile=PROFILES / "demo_calls.toml",
                              timezone_name="America/Chicago")
    assert result.status == "committed"
    assert result.rows_read == n and result.rows_inserted == n and result.rows_rejected == 0
    origins = dict(con.execute("SELECT origin, count(*) FROM calls GROUP BY 1").fetchall())
    assert set(origins) == {"911", "non_emergency", "officer_initiated"}
    responders = {r[0] for r in con.execute("SELECT DISTINCT responder FROM calls").fetchall()}
    assert responders == {"police", "fire", "ems", "alternative", "phone"}
    lo, hi = con.execute("SELECT min(received_local), max(received_local) FROM calls"
                         ).fetchall()[0]
    assert lo.date() >= date(2022, 1, 1) and hi.date() <= date(2024, 12, 31)
    arrived_missing = _one(con, "SELECT avg((arrived_at IS NULL)::INT) FROM calls "
                                "WHERE responder <> 'phone'")
    assert 0.005 < arrived_missing < 0.08
