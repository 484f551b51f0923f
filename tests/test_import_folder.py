"""The import folder (service/import_folder.py, ui/import_folder.py): exports larger than a
browser upload, named on the Data page and read in place through the same wizard."""
from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

from data import audit
from data.connection import connect
from data.importer import import_file
from data.profiles import parse_profile
from service import import_folder
from service.access import AccessDenied, Grant, Principal

from conftest import ROOT
from test_handover import PROFILE, calls

ANALYST = Principal("ana@springfield.gov", (Grant("analyst", "Springfield"),))
OTHER = Principal("ola@riverton.gov", (Grant("analyst", "Riverton"),))
VIEWER = Principal("vic@springfield.gov", (Grant("viewer", "Springfield"),))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    root = tmp_path / "imports"
    (root / "2024").mkdir(parents=True)
    calls(root / "2024" / "march.csv", 6, "M")
    (root / "readme.txt.bak").write_text("not an export")
    (tmp_path / "secret.csv").write_text("x\n")
    (root / "leak.csv").symlink_to(tmp_path / "secret.csv")
    monkeypatch.setenv("A911_IMPORT_DIR", str(root))
    return root


@pytest.fixture
def seeded(tmp_path):
    db = tmp_path / "db" / "cohort.duckdb"
    con = connect(db, readable_dirs=(tmp_path,))
    import_file(con, calls(tmp_path / "seed.csv", 3, "S"), kind="calls",
                jurisdiction="Springfield", profile=parse_profile(PROFILE))
    yield db, con
    con.close()


def test_files_listed_for_those_who_may_import(folder):
    assert import_folder.configured()
    assert import_folder.files(ANALYST) == ["2024/march.csv"]  # not the link leading out
    assert import_folder.files(VIEWER) == []


def test_a_file_only_for_a_writer_of_the_jurisdiction(folder, seeded):
    _, con = seeded
    path = import_folder.file(con, ANALYST, "Springfield", "2024/march.csv")
    assert path == folder / "2024" / "march.csv"
    for who, jurisdiction in ((OTHER, "Springfield"), (VIEWER, "Springfield"), (ANALYST, "")):
        with pytest.raises(AccessDenied):
            import_folder.file(con, who, jurisdiction, "2024/march.csv")
    denied = con.execute("SELECT actor, target FROM audit_log WHERE outcome = 'denied' "
                         "ORDER BY seq").fetchall()
    assert denied == [(OTHER.email, "2024/march.csv"), (VIEWER.email, "2024/march.csv"),
                      (ANALYST.email, "2024/march.csv")]
    assert audit.check(con) is None
    for name in ("../secret.csv", "leak.csv", "/etc/passwd", "2024/../../secret.csv"):
        with pytest.raises(import_folder.HandoverRefused):
            import_folder.file(con, ANALYST, "Springfield", name)


def test_the_wizard_imports_a_file_from_the_folder(folder, seeded, monkeypatch):
    db, con = seeded
    con.close()
    monkeypatch.setenv("A911_DB", str(db))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/data.py").run()
    (hint,) = at.main.info
    assert hint.value.endswith("copy them to the server's import folder and choose them above, "
                               "or run `python -m data import` on the server.")
    at.radio(key="upload_source").set_value("A file in the server's import folder").run()
    assert not at.exception and not at.error
    at.selectbox(key="upload_folder").set_value("2024/march.csv").run()
    assert "2024/march.csv: 0.5 kB, read in place on the server." in [
        c.value.replace("\\", "") for c in at.main.caption]
    at.button(key="upload_check").click().run()
    at.button(key="upload_commit").click().run()
    assert not at.exception and not at.error
    (done,) = at.main.success
    assert "march.csv as calls for Springfield" in done.value.replace("\\", "")
    assert (folder / "2024" / "march.csv").exists()  # read in place, never removed
    check = connect(db)
    try:
        assert check.execute("SELECT count(*) FROM calls WHERE call_id LIKE 'M%'"
                             ).fetchone()[0] == 6
    finally:
        check.close()
