"""The locked-down data layer (DOMAIN §7): through the application's own connection, nothing
outside the allowed folders can be read or written, the locked settings cannot be changed, and
crafted filter values are only ever values."""
from __future__ import annotations

import os

import duckdb
import pytest

import metrics
from data import import_file, parse_profile
from data.connection import SERVER_MEMORY_LIMIT, connect

PASSWD = "/etc/passwd"
CRAFTED = [
    "x'); SELECT * FROM read_csv('/etc/passwd'); --",
    "' OR 1=1 --",
    "Springfield' UNION SELECT * FROM read_text('/etc/passwd') --",
    "\"; COPY (SELECT 1) TO '/tmp/pwned.csv'; --",
]
PROFILE = parse_profile("""
kind = "calls"
[columns]
call_id = "Call No"
received_at = "Received"
call_type = "Type"
area = "Beat"
[options]
timezone = "America/Chicago"
""")


@pytest.fixture
def app_con(tmp_path):
    """The connection the dashboard opens: the database file's folder is the only one allowed."""
    folder = tmp_path / "deploy"
    c = connect(folder / "cohort.duckdb", memory_limit=SERVER_MEMORY_LIMIT)
    yield c
    c.close()


@pytest.fixture(params=["connection", "cursor"])
def handle(request, app_con):
    # The pages use cursors of the one cached connection (ui/cache.py): both must be locked.
    if request.param == "connection":
        yield app_con
    else:
        cur = app_con.cursor()
        yield cur
        cur.close()


def _permission_error(handle, sql, params=None):
    with pytest.raises(duckdb.PermissionException) as e:
        handle.execute(sql, params or []).fetchall()
    return str(e.value)


@pytest.mark.parametrize("sql", [
    f"SELECT * FROM read_csv('{PASSWD}')",
    f"SELECT * FROM read_csv('{PASSWD}', sep=':', header=false)",
    f"SELECT * FROM read_text('{PASSWD}')",
    f"SELECT * FROM read_blob('{PASSWD}')",
    f"SELECT * FROM read_json('{PASSWD}')",
    f"SELECT * FROM sniff_csv('{PASSWD}')",
    "SELECT * FROM glob('/etc/*')",
])
def test_reading_outside_the_allowed_folders_fails(handle, sql):
    assert "file system operations are disabled by configuration" in _permission_error(handle,
                                                                                        sql)


def test_path_tricks_from_inside_the_allowed_folder_fail(handle, app_con, tmp_path):
    inside = tmp_path / "deploy"
    (inside / "fine.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "outside.csv").write_text("a,b\n3,4\n", encoding="utf-8")
    os.symlink(PASSWD, inside / "link.csv")
    # The control: a file inside the allowed folder reads.
    assert handle.execute(f"SELECT * FROM read_csv('{inside / 'fine.csv'}')").fetchall() == [
        (1, 2)]
    for path in (f"{inside}/../outside.csv", f"{inside}/./../../../../../../etc/passwd",
                 f"{inside}/link.csv"):
        _permission_error(handle, f"SELECT * FROM read_csv('{path}')")


def test_a_path_given_as_a_parameter_is_refused_too(handle):
    _permission_error(handle, "SELECT * FROM read_csv(?)", [PASSWD])


@pytest.mark.parametrize("sql", [
    "COPY (SELECT 42) TO '{out}'",
    "ATTACH '{db}' AS other",
    "EXPORT DATABASE '{dir}'",
])
def test_writing_or_attaching_outside_fails(handle, tmp_path, sql):
    out, db, d = tmp_path / "leak.csv", tmp_path / "other.duckdb", tmp_path / "exported"
    _permission_error(handle, sql.format(out=out, db=db, dir=d))
    assert not out.exists() and not db.exists() and not d.exists()


@pytest.mark.parametrize("sql", ["INSTALL httpfs", "LOAD httpfs", "LOAD '/tmp/x.duckdb_extension'"])
def test_extensions_cannot_be_installed_or_loaded(handle, sql):
    _permission_error(handle, sql)


@pytest.mark.parametrize("sql", [
    "SET lock_configuration = false",
    "RESET lock_configuration",
    "SET GLOBAL lock_configuration = false",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "SET allowed_paths = ['/etc/passwd']",
    "SET autoload_known_extensions = true",
    "SET autoinstall_known_extensions = true",
    "SET allow_community_extensions = true",
    "SET memory_limit = '100GB'",
])
def test_locked_settings_cannot_be_changed(handle, sql):
    with pytest.raises(duckdb.InvalidInputException, match="the configuration has been locked"):
        handle.execute(sql)
    _permission_error(handle, f"SELECT * FROM read_csv('{PASSWD}')")  # still locked after


def test_the_settings_are_as_domain_7_says(app_con, tmp_path):
    settings = dict(app_con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', "
        "'autoinstall_known_extensions', 'autoload_known_extensions', 'lock_configuration', "
        "'allow_community_extensions', 'TimeZone')").fetchall())
    assert settings == {"enable_external_access": "false", "autoinstall_known_extensions":
                        "false", "autoload_known_extensions": "false",
                        "lock_configuration": "true", "allow_community_extensions": "false",
                        "TimeZone": "UTC"}
    allowed = app_con.execute("SELECT current_setting('allowed_directories')").fetchone()[0]
    folder = str((tmp_path / "deploy").resolve()) + os.sep
    assert folder in allowed  # the data folder (uploads live below it) ...
    assert all(a.startswith(folder) for a in allowed)  # ... and nothing else
    limit = app_con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    plain = duckdb.connect()  # DuckDB reports the limit in its own units: compare like with like
    plain.execute("SET memory_limit = ?", [SERVER_MEMORY_LIMIT])
    assert limit == plain.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    plain.execute("SET memory_limit = '3GB'")
    assert limit != plain.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    plain.close()


# --------------------------------------------------------------------------------------------
# Crafted values through the metrics engine: values are parameters, never SQL
# --------------------------------------------------------------------------------------------

@pytest.fixture
def data_con(tmp_path):
    folder = tmp_path / "deploy"
    c = connect(folder / "cohort.duckdb")
    (folder / "uploads").mkdir()
    path = folder / "uploads" / "calls.csv"
    path.write_text("Call No,Received,Type,Beat\n" + "".join(
        f"C{i},2024-05-0{1 + i % 5} 10:00,WELFARE CHECK,North\n" for i in range(30)),
        encoding="utf-8")
    import_file(c, path, kind="calls", jurisdiction="Springfield", profile=PROFILE)
    yield c
    c.close()


@pytest.mark.parametrize("crafted", CRAFTED)
@pytest.mark.parametrize("field", ["jurisdictions", "categories", "areas", "origins", "teams"])
def test_a_crafted_filter_value_matches_nothing_and_leaks_nothing(data_con, crafted, field):
    filters = metrics.Filters(**{field: (crafted,)})
    grouped = metrics.compute(data_con, metrics.MetricRequest((), ("jurisdiction",), filters))
    ungrouped = metrics.compute(data_con, metrics.MetricRequest((), (), filters))
    if field != "teams":  # the data are calls only, and the calls source has no team filter
        assert grouped == []
        assert all(not r.numerator and not r.n for r in ungrouped), "the value matched rows"
    text = repr(grouped + ungrouped)
    assert "root:" not in text and "/bin/" not in text
    sql = [line for line in metrics.explain(metrics.MetricRequest((), (), filters)).splitlines()
           if not line.startswith("-- parameters:")]
    assert sql and crafted not in "\n".join(sql)  # it travels as a bound parameter
    assert not os.path.exists("/tmp/pwned.csv")


def test_the_unfiltered_request_does_see_the_rows(data_con):
    # The control for the test above: the same request without the crafted value counts calls.
    rows = metrics.compute(data_con, metrics.MetricRequest(("A1",), ("jurisdiction",)))
    assert [r.group for r in rows] == [{"jurisdiction": "Springfield"}]


@pytest.mark.parametrize("request_", [
    metrics.MetricRequest(("A1",), ("jurisdiction; DROP TABLE calls --",)),
    metrics.MetricRequest(("A1') FROM read_csv('/etc/passwd') --",)),
])
def test_names_outside_the_allowlists_are_refused(data_con, request_):
    with pytest.raises(metrics.MetricError) as e:
        metrics.compute(data_con, request_)
    assert "Known:" in str(e.value)
    assert data_con.execute("SELECT count(*) FROM calls").fetchone()[0] == 30


# --------------------------------------------------------------------------------------------
# Cursors and second connections get the same locked settings
# --------------------------------------------------------------------------------------------

def test_cursors_compute_in_utc_whatever_the_servers_zone(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    script = ("from data.connection import connect\n"
              f"con = connect({str(tmp_path / 'tz.duckdb')!r})\n"
              "cur = con.cursor()\n"
              "print(cur.execute(\"SELECT current_setting('TimeZone'), "
              "(TIMESTAMPTZ '2024-05-01 03:00:00+00')::DATE\").fetchone())\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                         text=True, env={**os.environ, "TZ": "America/Chicago"}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "('UTC', datetime.date(2024, 5, 1))"


def test_a_second_connection_in_the_same_program_is_locked_too(app_con, tmp_path):
    again = connect(tmp_path / "deploy" / "cohort.duckdb")
    try:
        _permission_error(again, f"SELECT * FROM read_csv('{PASSWD}')")
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            again.execute("SET enable_external_access = true")
    finally:
        again.close()
    from data.errors import DatabaseBusy

    with pytest.raises(DatabaseBusy, match="cannot be added to a locked database"):
        connect(tmp_path / "deploy" / "cohort.duckdb", readable_dirs=("/etc",))
