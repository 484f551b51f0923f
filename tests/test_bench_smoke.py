"""The benchmark suite runs end to end at a small size and reports every figure.

No timing is asserted (CI machines vary); what must hold is that every phase ran: the import
comparison, each page's queries, the pandas comparison (which the run itself requires to agree
with the engine), every page in the browser, the server's memory, the viewers during an import
through the Data page, the command-line import while serving, and the scaling measurements.

Also here, fast: the performance work the benchmark led to gives exactly the values of the
straightforward code (the importer's time-zone look-up against timezone()).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")



def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


@pytest.mark.slow  # over 10 s: left out of make test-fast
def test_import_comparison_alone_runs_and_reports_the_ratio():
    """``bench/importing.py compare`` (issue 2's check at 5 million calls) at 3,000 calls."""
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "importing.py"), "compare", "3000",
                        "2"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["calls"] == 3000 and out["rows_inserted"] == 3000 and out["rows_rejected"] == 0
    assert len(out["import_runs_s"]) == 2 and len(out["duckdb_alone_runs_s"]) == 2
    assert out["ratio"] == pytest.approx(out["import_s"] / out["duckdb_alone_s"], rel=0.01)
    assert _number(out["import_peak_mb"]) and out["import_peak_mb"] > 0


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    tmp = tmp_path_factory.mktemp("bench")
    out, md = tmp / "bench.json", tmp / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\nHand-written text stays.\n", encoding="utf-8")
    cmd = [sys.executable, str(ROOT / "bench" / "run.py"), "--calls", "20000", "--responses",
           "2000", "--out", str(out), "--markdown", str(md), "--work", str(tmp / "work"),
           "--repeat", "1", "--browser-repeat", "1", "--viewers", "3", "--viewer-lead", "1",
           "--viewer-tail", "3", "--think-min", "1", "--think-max", "2",
           "--concurrent-calls", "2000", "--no-steps"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(out.read_text(encoding="utf-8")), md.read_text(encoding="utf-8"), tmp


def _any_jurisdiction(url: str) -> str:
    return re.sub(r"(?<=[?&])j=[^&]*", "j=*", url)


@pytest.mark.playwright
@pytest.mark.slow
def test_scale_up_copies_the_cohort_and_times_every_page(figures, tmp_path):
    import duckdb

    from data.connection import connect
    from data.demo import populate_demo

    source = tmp_path / "cohort.duckdb"  # any cohort will do: the demo's, small
    con = connect(source)
    populate_demo(con, seed=0, scale=0.05)
    con.close()
    with duckdb.connect(str(source), read_only=True) as src:
        rows = {t: src.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("calls", "responses", "referrals")}
    out = tmp_path / "scale.json"
    cmd = [sys.executable, str(ROOT / "bench" / "scale_up.py"), "--from", str(source),
           "--times", "2", "--out", str(out), "--work", str(tmp_path / "scale"),
           "--address-repeat", "1", "--address-views", "overview"]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    s = json.loads(out.read_text(encoding="utf-8"))
    assert s["built"]["rows"] == {t: 2 * n for t, n in rows.items()} and rows["calls"] > 0
    # The router's pages, as the benchmark recorded them; a page opened for one jurisdiction
    # (Impact: its first) names another one in each cohort.
    pages = {_any_jurisdiction(u): info for u, info in figures[0]["pages"].items()}
    scaled = {_any_jurisdiction(u): info for u, info in s["queries"]["pages"].items()}
    assert {_any_jurisdiction(u) for u in s["worst_page_s"]} == set(pages)
    assert all(_number(v) for v in s["worst_page_s"].values())
    assert not any(p["errors"] for p in s["browser"]["pages"].values())
    for url, info in pages.items():
        assert (len(scaled[url]["requests"]) > 0) == bool(info["requests"]), url
    # Opened by its address against the floor (bench/address.py; tests/test_bench_address.py
    # checks the verdict): the view asked for, and the server's memory over both series.
    addr = s["by_address"]
    assert list(addr["views"]) == ["overview"] and addr["views"]["overview"]["errors"] == []
    assert _number(addr["floor"]["median_s"]) and _number(addr["views"]["overview"]["median_s"])
    assert s["every_view_within_floor"] == addr["views"]["overview"]["met"]
    assert s["server_peak_mb"] >= addr["dashboard_server_peak_mb"] > 0
    assert s["server_under_2gb"] == (s["server_peak_mb"] < 2048)
    assert not (tmp_path / "scale").exists()  # the copy is removed


@pytest.mark.playwright
@pytest.mark.slow
def test_cohort_has_the_requested_size(figures):
    r, _, _ = figures
    assert r["calls"] == 20000
    assert r["responses"] == 2000
    assert r["referrals"] > 0
    m = r["machine"]
    assert m["cores"] and m["ram_gb"] and m["python"] and m["duckdb"]


@pytest.mark.playwright
@pytest.mark.slow
def test_import_figures(figures):
    imp = figures[0]["import"]
    for key in ("import_s", "duckdb_alone_s", "ratio", "import_peak_mb",
                "duckdb_alone_peak_mb", "responses_s", "referrals_s"):
        assert _number(imp[key]), key
    assert imp["rows_inserted"] == 20000


@pytest.mark.playwright
@pytest.mark.slow
def test_every_page_has_query_and_browser_figures(figures):
    r = figures[0]
    pages = r["pages"]
    # The router's pages (read from dashboard.py), the analysis ones with requests and charts.
    for url in ("overview", "reach", "on-scene", "connections", "compare", "methodology"):
        assert url in pages
    for url in ("overview", "reach", "on-scene", "connections", "compare"):
        assert pages[url]["requests"] and pages[url]["charts"] > 0, url
        # Timed as the page asks: a new session hides small counts (disclosure control).
        # (None: a population look-up, which has no policy.)
        asked = [d for d in pages[url]["disclosure"] if d is not None]
        assert asked and all(asked), url
    # Each section of a split page is a view of its own (ui/sections.py), timed like a page.
    from ui import sections

    for split in sections.ALL:
        url = next(u for u, p in pages.items() if p["file"] == split.page and
                   not p.get("view_of"))
        assert pages[url]["section"] == split.labels[0]
        views = [p for p in pages.values() if p.get("view_of") == url]
        assert [v["section"] for v in views] == split.labels[1:], url
        for v in views:
            assert v["requests"] and v["charts"] == len(split.cards[v["section"]]), v
    for url in pages:
        q = r["queries"]["pages"][url]
        assert _number(q["median_s"]) and _number(q["first_s"])
        assert len(q["requests"]) == len(pages[url]["requests"])
        for kind in ("sidebar", "deep_link"):
            b = r["browser"][kind]["pages"][url]
            assert _number(b["first_s"]) and _number(b["cached_median_s"]), (kind, url)
            assert b["errors"] == [], (kind, url, b["errors"])
    for kind in ("sidebar", "deep_link"):
        assert r["browser"][kind]["offsite_requests"] == []
    assert _number(r["browser"]["server_peak_mb"]) and r["browser"]["server_peak_mb"] > 0


@pytest.mark.playwright
@pytest.mark.slow
def test_pandas_comparison_agrees(figures):
    p = figures[0]["pandas"]
    assert p["results_equal"] and p["values_compared"] > 0
    assert _number(p["speedup"]) and _number(p["pandas_s"]) and _number(p["duckdb_s"])


@pytest.mark.playwright
@pytest.mark.slow
def test_viewers_during_an_import(figures):
    cc = figures[0]["concurrency"]
    for kind in ("sessions", "tabs"):
        run = cc[kind]
        assert run["viewers"] == 3
        # The upload through a headless browser on a loaded two-core machine is occasionally
        # dropped by a rerun in flight; the benchmark records it, and the run must complete.
        # Any other import error fails the test.
        dropped = "the uploader did not take" in (run["import_error"] or "")
        assert run["import_error"] is None or dropped, run["import_error"]
        for key in ("import_upload_s", "import_check_s", "import_commit_s"):
            assert dropped or _number(run[key]), (kind, key)
        assert run["window"]["visits"] > 0
        assert _number(run["window"]["p95_s"]) and isinstance(run["window"]["errors"], int)
        # Every page and section the viewers ask for exists (a section is its page with the
        # address's query string): a load-free error the benchmark itself would cause.
        seen = run["all_visits"].get("errors_seen", [])
        assert not [e for e in seen if "page not found" in e or "no sidebar link" in e], seen
    # The command line reaches the running server through the hand-over (a dry run).
    assert cc["cli_while_serving"]["exit_code"] == 0, cc["cli_while_serving"]
    assert cc["cli_while_serving"]["message"].startswith("Would import second_calls.csv as "
                                                         "calls for Second City")


@pytest.mark.playwright
@pytest.mark.slow
def test_scaling_figures(figures):
    sc = figures[0]["scaling"]
    assert sc["parquet"]["results_equal"]
    assert _number(sc["parquet"]["overview_parquet_s"]) and sc["parquet"]["files"] > 0
    assert sc["replicas"]["all_opened"] and len(sc["replicas"]["overview_each_s"]) == 2


@pytest.mark.playwright
@pytest.mark.slow
def test_budgets_are_marked_and_written(figures):
    r, md, tmp = figures
    keys = {b["key"] for b in r["budgets"]}
    assert keys == {"import_ratio", "import_memory", "page_queries", "pandas_speedup",
                    "browser_sidebar", "browser_sidebar_cached", "browser_deep_link",
                    "server_memory", "viewers_errors", "viewers_p95", "tabs_errors",
                    "tabs_p95", "brief"}
    assert all(isinstance(b["met"], bool) for b in r["budgets"])
    assert r["brief"]["median_s"] > 0 and r["brief"]["pdf_bytes"] > 10_000  # a brief was made
    assert "Hand-written text stays." in md
    assert "<!-- bench:run calls=20000 -->" in md and "| Budget |" in md
    assert not (tmp / "work").exists()  # the big files are removed


# --------------------------------------------------------------------------------------------
# Fast time zones in the importer give exactly what timezone() gives
# --------------------------------------------------------------------------------------------

# Half-hour daylight saving (Lord Howe), half-hour zones, transitions at local midnight (Sao
# Paulo until 2019), a daylight saving suspended each Ramadan (Casablanca), none at all.
ZONES = ("America/Chicago", "Europe/London", "Australia/Lord_Howe", "America/St_Johns",
         "Asia/Kolkata", "America/Sao_Paulo", "Africa/Casablanca", "UTC")


@pytest.mark.parametrize("zone", ZONES)
def test_zone_lookup_equals_timezone(zone):
    import duckdb

    from data import importer

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # Every 1,801 s from 1988 to 2042: both ends of the look-up range, every transition
    # (including half-hour ones) and the hours around them.
    con.execute("CREATE TABLE v AS SELECT TIMESTAMP '1988-01-01' + to_seconds(i * 1801) AS nv "
                "FROM range(0, 54 * 365 * 86400 // 1801) t(i)")
    fast_utc = importer.zone_sql(con, zone, True, True, "nv", "$1")
    fast_local = importer.zone_sql(con, zone, True, False, "nv::TIMESTAMPTZ", "$1")
    n, utc_diff, local_diff = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {fast_utc} IS DISTINCT FROM timezone($1, nv)),"
        f" count(*) FILTER (WHERE {fast_local} IS DISTINCT FROM timezone($1, nv::TIMESTAMPTZ))"
        " FROM v", [zone]).fetchone()
    assert n > 900_000
    assert (utc_diff, local_diff) == (0, 0)


@pytest.mark.slow  # over 10 s: left out of make test-fast
def test_import_is_identical_with_the_zone_lookup(tmp_path, monkeypatch):
    from data import importer
    from data.importer import zones
    from data.connection import connect
    from data.demo import generate_calls_csv

    csv = generate_calls_csv(tmp_path / "calls.csv", 30_000, seed=3)  # three years, DST both ways
    profile = ROOT / "tests" / "profiles" / "demo_calls.toml"
    contents = []
    for threshold in (0, 10**12):  # the look-up for every file, then for none
        monkeypatch.setattr(zones, "_ZONE_TREE_MIN_BYTES", threshold)
        db = tmp_path / f"db{threshold}.duckdb"
        con = connect(db, readable_dirs=(tmp_path,))
        importer.import_file(con, csv, kind="calls", jurisdiction="J", profile=profile,
                             timezone_name="America/Chicago")
        contents.append([con.execute(f"SELECT * EXCLUDE (import_id) FROM {t} ORDER BY ALL")
                         .fetchall() for t in ("calls", "row_warnings")])
        con.close()
    assert len(contents[0][0]) == 30_000
    assert contents[0] == contents[1]
