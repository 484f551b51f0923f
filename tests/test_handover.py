"""The import hand-over (data/handover.py, service/handover.py), with the server side running in
this process over a real database file: authentication, the places it reads, the same summary
as a direct import, and a client that goes away mid-import."""
from __future__ import annotations

import os
import socket
import stat
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from data import handover
from data.cli import cli
from data.connection import connect
from data.errors import DataError
from data.uploads import uploads_dir
from service import guarded
from service.handover import Listener

from conftest import table_contents

J = "Springfield"
HEADER = "Call ID,Received,Call Type,Dispatched,Arrived\n"
PROFILE = """\
kind = "calls"

[columns]
call_id = "Call ID"
received_at = "Received"
call_type = "Call Type"
dispatched_at = "Dispatched"
arrived_at = "Arrived"

[options]
timezone = "America/Chicago"
"""


def calls(path: Path, n: int, prefix: str = "C") -> Path:
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        for i in range(n):
            d, m = 1 + i % 28, i % 60
            f.write(f"{prefix}{i},2024-03-{d:02d} 10:{m:02d},WELFARE CHECK,"
                    f"2024-03-{d:02d} 11:{m:02d},2024-03-{d:02d} 12:{m:02d}\n")
    return path


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A database held by this process, with a listener taking imports for it (as the
    dashboard's ui/cache.py starts one), and a first import so that it is not empty."""
    monkeypatch.delenv("A911_IMPORT_DIR", raising=False)
    db = tmp_path / "db" / "cohort.duckdb"
    con = connect(db, readable_dirs=(tmp_path,))
    listener = Listener(db, con.cursor).start()
    out = handover.hand_over(db, _request(calls(tmp_path / "seed.csv", 3, "S")))
    assert out["result"]["status"] == "committed"
    yield db, con, listener
    listener.stop()
    con.close()


def _request(path: Path, **kw) -> dict:
    return {"file": str(path), "file_name": path.name, "kind": "calls", "jurisdiction": J,
            "dry_run": False, "timezone": None, "profile": PROFILE, **kw}


def _raw(db, message: dict) -> list[dict]:
    """Send one request as any local program could, and read every answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(handover.socket_path(db)))
        stream = s.makefile("rwb")
        handover.send(stream, message)
        answers = []
        while (m := handover.receive(stream)) is not None:
            answers.append(m)
    return answers


def test_token_socket_and_folder_are_the_servers_alone(served):
    db, _, listener = served
    assert stat.S_IMODE(handover.token_path(db).stat().st_mode) == 0o600
    assert stat.S_IMODE(listener.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(handover.keys_dir(db).stat().st_mode) == 0o700
    assert len(handover.read_token(db)) == 64
    # Outside every folder the locked connection may read (the database's own folder).
    assert not handover.token_path(db).resolve().is_relative_to(db.resolve().parent)


def test_a_wrong_token_is_refused_and_nothing_is_read(served, tmp_path):
    db, con, _ = served
    before = table_contents(con)
    path, _ = handover.place_file(calls(tmp_path / "new.csv", 5, "N"), db)
    for token in ("0" * 64, "", None, handover.read_token(db)[:-1]):
        answers = _raw(db, {**_request(path), "token": token})
        assert answers == [{"error": "The import token does not match the dashboard's: the "
                                     "request was refused.", "refused": True}]
    assert table_contents(con) == before


@pytest.mark.parametrize("where", ["elsewhere", "dotdot", "link"])
def test_a_file_outside_the_servers_folders_is_refused(served, tmp_path, where):
    db, con, _ = served
    before = table_contents(con)
    secret = calls(tmp_path / "secret.csv", 4, "X")  # readable by SQL here, but not offered
    path = {"elsewhere": secret,
            "dotdot": uploads_dir(db) / ".." / ".." / "secret.csv"}.get(where)
    if where == "link":  # a generated-looking name that leads out of the uploads folder
        uploads_dir(db).mkdir(parents=True, exist_ok=True)
        path = uploads_dir(db) / ("upload-" + "a" * 32 + ".csv")
        path.symlink_to(secret)
    answers = _raw(db, {**_request(path), "token": handover.read_token(db)})
    assert len(answers) == 1 and answers[0]["refused"] is True
    assert "the dashboard reads no other files" in answers[0]["error"]
    assert table_contents(con) == before


def test_names_in_the_import_folder(tmp_path):
    folder = tmp_path / "imports"
    (folder / "2024").mkdir(parents=True)
    calls(folder / "2024" / "march.csv", 2)
    (folder / "notes.pdf").write_text("x")
    (tmp_path / "outside.csv").write_text(HEADER)
    (folder / "escape.csv").symlink_to(tmp_path / "outside.csv")
    assert handover.file_in_folder(folder, "2024/march.csv") == folder / "2024" / "march.csv"
    refused = {"../outside.csv": "without '..'", "2024/../../outside.csv": "without '..'",
               str(tmp_path / "outside.csv"): "without '..'", "": "without '..'",
               "escape.csv": "leads outside", "missing.csv": "There is no file",
               "2024": "There is no file"}
    for name, words in refused.items():
        with pytest.raises(handover.HandoverRefused, match=words):
            handover.file_in_folder(folder, name)
    with pytest.raises(Exception, match="not a CSV"):
        handover.file_in_folder(folder, "notes.pdf")
    with pytest.raises(handover.HandoverRefused, match="No import folder"):
        handover.file_in_folder(None, "2024/march.csv")


def test_a_file_in_the_import_folder_is_read_in_place(tmp_path, monkeypatch):
    folder = tmp_path / "imports"
    folder.mkdir()
    monkeypatch.setenv("A911_IMPORT_DIR", str(folder))
    db = tmp_path / "db" / "cohort.duckdb"
    con = connect(db, readable_dirs=(folder,))
    listener = Listener(db, con.cursor).start()
    try:
        path = calls(folder / "march.csv", 6)
        assert handover.place_file(path, db) == (path.resolve(), False)
        out = handover.hand_over(db, _request(path, timezone="America/Chicago"))
        assert (out["result"]["status"], out["result"]["rows_inserted"]) == ("committed", 6)
        assert path.exists()  # the analyst's file is theirs: never removed
    finally:
        listener.stop()
        con.close()


def test_the_summary_is_the_one_a_direct_import_prints(tmp_path, monkeypatch):
    """The same command against a database held by a server and against one that is not."""
    monkeypatch.delenv("A911_IMPORT_DIR", raising=False)
    (tmp_path / "calls.toml").write_text(PROFILE)
    path = calls(tmp_path / "march.csv", 7)
    args = ["import", str(path), "--kind", "calls", "--jurisdiction", J, "--profile",
            str(tmp_path / "calls.toml"), "--db"]
    direct = CliRunner().invoke(cli, [*args, str(tmp_path / "a" / "cohort.duckdb")])
    held = tmp_path / "b" / "cohort.duckdb"
    con = connect(held)
    listener = Listener(held, con.cursor).start()
    try:
        handed = CliRunner().invoke(cli, [*args, str(held)])
        again = CliRunner().invoke(cli, [*args, str(held)])
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 7
    finally:
        listener.stop()
        con.close()
    assert direct.exit_code == handed.exit_code == 0
    assert handed.output == direct.output
    assert handed.output.startswith("Import #1: march.csv as calls for Springfield\n"
                                    "  rows read 7; inserted 7;")
    assert again.exit_code == 0
    assert again.output == ("march.csv was already imported as import #1 for Springfield "
                            "(calls); nothing changed.\n")
    assert not list(uploads_dir(held).iterdir())  # the linked copies are gone


def test_no_server_means_a_direct_import(tmp_path, monkeypatch):
    monkeypatch.delenv("A911_IMPORT_DIR", raising=False)
    db = tmp_path / "db" / "cohort.duckdb"
    handover.private_dir(handover.socket_path(db).parent)
    # A server that was killed leaves its socket file behind: nobody answers on it.
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(handover.socket_path(db)))
    with pytest.raises(handover.NoServer):
        handover.hand_over(db, _request(calls(tmp_path / "c.csv", 2)))
    r = CliRunner().invoke(cli, ["import", str(tmp_path / "c.csv"), "--kind", "calls",
                                 "--jurisdiction", J, "--timezone", "America/Chicago",
                                 "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Import #1: c.csv as calls for Springfield")


@pytest.mark.slow
def test_a_client_that_goes_away_cancels_its_import(served, tmp_path):
    db, con, listener = served
    before = table_contents(con)
    path, _ = handover.place_file(calls(tmp_path / "big.csv", 300_000, "B"), db)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(handover.socket_path(db)))
        stream = s.makefile("rwb")
        handover.send(stream, {**_request(path), "token": handover.read_token(db)})
        first = handover.receive(stream)
        assert first["progress"][0] == "reading"  # the import has begun; now the client dies
        stream.close()  # (the socket's descriptor closes with its last file object)
    time.sleep(0.2)
    assert guarded.WRITES.acquire(timeout=120)  # the server is done with it
    guarded.WRITES.release()
    assert table_contents(con) == before
    assert not path.exists()  # its upload removed
    # The same file then imports whole: nothing of the cancelled one stands in its way.
    out = handover.hand_over(db, _request(calls(tmp_path / "big.csv", 300_000, "B")))
    assert (out["result"]["status"], out["result"]["rows_inserted"]) == ("committed", 300_000)


def test_a_handed_over_import_waits_for_a_write_of_the_data_page(served, tmp_path):
    """One write at a time in the server (guarded.WRITES): while a Data page write holds it,
    the command line's import says it waits, and runs when the write is done."""
    import threading

    db, con, listener = served
    seen, out = [], {}
    guarded.WRITES.acquire()  # a Data page import (or undo, or crosswalk edit) under way
    try:
        client = threading.Thread(target=lambda: out.update(handover.hand_over(
            db, _request(calls(tmp_path / "w.csv", 4, "W")),
            progress=lambda step, fraction: seen.append((step, fraction)))))
        client.start()
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen and seen[0][0] == "waiting for another import"
        assert not out  # still waiting
    finally:
        guarded.WRITES.release()
    client.join(60)
    assert out["result"]["status"] == "committed"
    assert con.execute("SELECT count(*) FROM calls WHERE call_id LIKE 'W%'").fetchone()[0] == 4


def test_uploads_folder_is_readable_by_the_locked_connection(tmp_path):
    """The server reads linked files with its locked-down connection: they must sit inside
    the database's folder (data/uploads.py), never in the keys folder."""
    db = tmp_path / "db" / "cohort.duckdb"
    assert uploads_dir(db).is_relative_to(db.resolve().parent)
    assert os.path.commonpath([handover.keys_dir(db), db.resolve().parent]) != str(
        db.resolve().parent)


def test_the_import_folder_is_never_the_keys_folder(tmp_path, monkeypatch):
    db = tmp_path / "db" / "cohort.duckdb"
    monkeypatch.setenv("A911_DB", str(db))
    for folder in (tmp_path, handover.keys_dir(db), handover.keys_dir(db) / "inner"):
        monkeypatch.setenv("A911_IMPORT_DIR", str(folder))
        with pytest.raises(DataError, match="keys folder"):
            handover.import_folder()
    monkeypatch.setenv("A911_IMPORT_DIR", str(tmp_path / "exports"))
    assert handover.import_folder() == (tmp_path / "exports").resolve()
