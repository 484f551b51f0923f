"""The person-key secret lives outside every folder the locked DuckDB connection may read, and
an existing deployment's key is moved there (issue 27)."""
from __future__ import annotations

import duckdb
import pytest

from data.connection import connect, migrate_person_key, person_key_path
from data.errors import DataError
from data.importer.stage import person_secret


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("A911_PERSON_KEY", raising=False)
    return tmp_path / "site" / "cohort.duckdb"


def test_the_key_is_made_outside_the_readable_folders_and_duckdb_cannot_read_it(db):
    con = connect(db)
    try:
        secret = person_secret(con)
        key = person_key_path(db)
        assert key.read_text().strip() == secret and key.stat().st_mode & 0o077 == 0
        assert key.parent == db.parent.parent / "site.keys"
        allowed = con.execute("SELECT current_setting('allowed_directories')").fetchone()[0]
        assert not any(str(key).startswith(d) for d in allowed)
        for sql in ("SELECT * FROM read_text(?)", "SELECT * FROM read_csv(?, header=false)",
                    "SELECT * FROM read_blob(?)"):
            with pytest.raises(duckdb.PermissionException):
                con.execute(sql, [str(key)]).fetchall()
        # The same functions do read the database's own folder: the refusal is the folder's.
        (db.parent / "probe.csv").write_text("a\n1\n")
        assert con.execute("SELECT * FROM read_csv(?)", [str(db.parent / "probe.csv")]
                           ).fetchall() == [(1,)]
    finally:
        con.close()


def test_an_existing_key_beside_the_database_is_moved_and_kept(db):
    db.parent.mkdir(parents=True)
    (db.parent / ".person_key").write_text("old-secret\n")
    con = connect(db)
    try:
        assert person_secret(con) == "old-secret"  # people still link to earlier imports
    finally:
        con.close()
    assert not (db.parent / ".person_key").exists()
    assert person_key_path(db).read_text().strip() == "old-secret"


def test_two_different_keys_stop_with_both_named(db):
    db.parent.mkdir(parents=True)
    (db.parent / ".person_key").write_text("one")
    person_key_path(db).parent.mkdir(parents=True)
    person_key_path(db).write_text("two")
    with pytest.raises(DataError, match="Two person-key secrets"):
        migrate_person_key(db)
    assert (db.parent / ".person_key").exists()  # nothing deleted


def test_a_key_placed_in_a_readable_folder_is_refused(db, monkeypatch):
    monkeypatch.setenv("A911_PERSON_KEY", str(db.parent / "inside.key"))
    con = connect(db)
    try:
        with pytest.raises(DataError, match="in the database's folder"):
            person_secret(con)
    finally:
        con.close()
