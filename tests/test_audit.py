"""The audit trail: a hash chain that names the first entry edited, deleted, inserted or moved."""
from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from click.testing import CliRunner

from data import audit
from data.cli import cli
from data.connection import connect


def _fill(con, n=6):
    for i in range(1, n + 1):
        audit.record(con, actor=f"person{i}@example.org", action="import",
                     jurisdiction="Springfield" if i % 2 else "Shelbyville",
                     target=f"import #{i}", file_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                     outcome="denied" if i == 4 else "allowed", detail={"i": i, "name": "Zoë"})


def test_entries_chain_from_genesis_and_verify_intact(con):
    _fill(con)
    rows = audit.entries(con)
    assert [e.seq for e in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
    assert rows[3].outcome == "denied"
    assert json.loads(rows[0].detail) == {"i": 1, "name": "Zoë"}
    assert rows[0].logged_at.endswith("Z") and len(rows[0].logged_at) == 27
    assert audit.verify(con) is None
    assert audit.head(con) == (6, rows[-1].hash)


def test_hash_is_sha256_of_the_documented_serialisation(con):
    e = audit.record(con, actor="a@example.org", action="undo", jurisdiction="Springfield",
                     target="import #3", detail={"b": 1, "a": [1, 2]})
    text = json.dumps([e.seq, e.logged_at, "a@example.org", "undo", "Springfield", "import #3",
                       None, "allowed", '{"a":[1,2],"b":1}', audit.GENESIS],
                      separators=(",", ":")).encode()
    assert e.hash == hashlib.sha256(text).hexdigest()
    stored = con.execute("SELECT hash, detail FROM audit_log WHERE seq = 1").fetchone()
    assert stored == (e.hash, '{"a":[1,2],"b":1}')


def test_record_refuses_an_unknown_outcome(con):
    with pytest.raises(ValueError, match="outcome"):
        audit.record(con, actor="a@example.org", action="x", outcome="maybe")
    assert audit.count(con) == 0


@pytest.mark.parametrize("column,value", [
    ("actor", "'someone.else@example.org'"),
    ("action", "'sign_in'"),
    ("outcome", "'allowed'"),          # turning a refusal into an allowed action
    ("jurisdiction", "NULL"),
    ("target", "'import #99'"),
    ("file_sha256", "NULL"),
    ("detail", "'{}'"),
    ("logged_at", "logged_at + INTERVAL 1 MICROSECOND"),
])
def test_an_edited_entry_is_named(con, column, value):
    _fill(con)
    con.execute(f"UPDATE audit_log SET {column} = {value} WHERE seq = 4")
    broken = audit.check(con)
    assert broken.seq == 4
    assert str(broken) == ("entry #4: it was changed after it was written (its content does "
                           "not match its hash)")


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(con):
    _fill(con)
    e = audit.entries(con)[2]
    forged = audit.entry_hash(3, e.logged_at, "intruder@example.org", e.action, e.jurisdiction,
                              e.target, e.file_sha256, e.outcome, e.detail, e.prev_hash)
    con.execute("UPDATE audit_log SET actor = 'intruder@example.org', hash = ? WHERE seq = 3",
                [forged])
    broken = audit.check(con)
    assert (broken.seq, broken.problem) == (
        4, "it does not follow entry #3 (an entry was inserted, deleted or moved before it)")


@pytest.mark.parametrize("seq", [1, 3, 5])
def test_a_deleted_entry_is_named(con, seq):
    _fill(con)
    con.execute("DELETE FROM audit_log WHERE seq = ?", [seq])
    assert audit.verify(con) == seq
    assert audit.check(con).problem == "it is missing (deleted)"


def test_a_deleted_and_renumbered_entry_is_named(con):
    _fill(con)
    con.execute("DELETE FROM audit_log WHERE seq = 3")
    for seq in (4, 5, 6):  # close the gap, one at a time (seq is the primary key)
        con.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq = ?", [seq])
    assert audit.verify(con) == 3


def test_the_last_entry_cut_off_is_caught_by_the_anchor(con):
    _fill(con)
    anchor = audit.head(con)
    con.execute("DELETE FROM audit_log WHERE seq = 6")
    assert audit.verify(con) is None  # a chain alone cannot know it had a sixth entry
    broken = audit.check(con, anchor)
    assert (broken.seq, broken.problem) == (
        6, "it is missing: the log ends at #5, but an earlier check saw #6 (entries were cut "
           "off the end)")
    audit.record(con, actor="x@example.org", action="import")  # a new #6 is not the old one
    assert audit.check(con, anchor).seq == 6
    assert audit.verify(con) is None


def test_an_entry_inserted_at_the_end_is_named(con):
    _fill(con)
    con.execute("INSERT INTO audit_log SELECT 7, now(), 'intruder@example.org', 'role.grant', "
                "NULL, NULL, NULL, 'allowed', NULL, hash, 'f00d' FROM audit_log WHERE seq = 6")
    assert audit.verify(con) == 7


def test_an_entry_inserted_in_the_middle_is_named(con):
    _fill(con)
    for seq in (6, 5, 4, 3):  # make room at #3, from the top down
        con.execute("UPDATE audit_log SET seq = seq + 1 WHERE seq = ?", [seq])
    prev = con.execute("SELECT hash FROM audit_log WHERE seq = 2").fetchone()[0]
    con.execute("INSERT INTO audit_log VALUES (3, now(), 'intruder@example.org', 'undo', NULL, "
                "NULL, NULL, 'allowed', NULL, ?, ?)", [prev, "0" * 64])
    assert audit.verify(con) == 3


def test_an_entry_inserted_before_the_first_is_named(con):
    _fill(con, 2)
    con.execute("INSERT INTO audit_log VALUES (0, now(), 'x', 'y', NULL, NULL, NULL, 'allowed', "
                "NULL, ?, ?)", [audit.GENESIS, "0" * 64])
    broken = audit.check(con)
    assert (broken.seq, broken.problem) == (
        0, "it should not exist: the log starts at #1 (inserted)")


def test_two_entries_swapped_are_named(con):
    _fill(con)
    con.execute("UPDATE audit_log SET seq = 100 WHERE seq = 2")
    con.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
    con.execute("UPDATE audit_log SET seq = 3 WHERE seq = 100")
    assert audit.verify(con) == 2


def test_export_is_every_entry_and_csv_round_trips(con):
    _fill(con, 3)
    con.execute("UPDATE audit_log SET actor = '=HYPERLINK(1)' WHERE seq = 2")  # a formula
    rows = audit.export(con)
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert list(rows[0]) == list(audit.COLUMNS)
    parsed = list(csv.DictReader(io.StringIO(audit.to_csv(rows))))
    assert [r["hash"] for r in parsed] == [r["hash"] for r in rows]
    assert parsed[1]["actor"] == "'=HYPERLINK(1)"  # defused for spreadsheets
    assert parsed[0]["detail"] == rows[0]["detail"]


# --------------------------------------------------------------------------------------------
# Command line: exit codes and exact messages
# --------------------------------------------------------------------------------------------

@pytest.fixture
def filled_db(tmp_path):
    path = tmp_path / "audit.duckdb"
    c = connect(path)
    _fill(c)
    c.close()
    return path


def _tamper(path, sql):
    c = connect(path)
    c.execute(sql)
    c.close()


def test_cli_verify_intact(filled_db):
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(filled_db)])
    assert result.exit_code == 0, result.output
    c = connect(filled_db)
    seq, digest = audit.head(c)
    c.close()
    assert result.output == (
        "chain intact, 6 entries\n"
        f"last entry #6, hash {digest}; keep it elsewhere and pass --anchor 6:{digest} next "
        "time to prove nothing was cut off the end\n")


def test_cli_verify_empty_log(tmp_path):
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(tmp_path / "new.duckdb")])
    assert (result.exit_code, result.output) == (0, "chain intact, 0 entries\n")


def test_cli_verify_names_an_edited_entry(filled_db):
    _tamper(filled_db, "UPDATE audit_log SET outcome = 'allowed' WHERE seq = 4")
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(filled_db)])
    assert result.exit_code == 1
    assert result.output == ("Error: chain broken at entry #4: it was changed after it was "
                             "written (its content does not match its hash)\n")


def test_cli_verify_names_a_deleted_entry(filled_db):
    _tamper(filled_db, "DELETE FROM audit_log WHERE seq = 2")
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(filled_db)])
    assert result.exit_code == 1
    assert result.output == "Error: chain broken at entry #2: it is missing (deleted)\n"


def test_cli_verify_with_anchor_catches_a_cut_tail(filled_db):
    c = connect(filled_db)
    seq, digest = audit.head(c)
    c.close()
    _tamper(filled_db, "DELETE FROM audit_log WHERE seq >= 5")
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(filled_db), "--anchor",
                                      f"{seq}:{digest}"])
    assert result.exit_code == 1
    assert result.output == ("Error: chain broken at entry #6: it is missing: the log ends at "
                             "#4, but an earlier check saw #6 (entries were cut off the end)\n")


def test_cli_verify_rejects_a_malformed_anchor(filled_db):
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(filled_db), "--anchor",
                                      "six"])
    assert result.exit_code == 2
    assert "Invalid value for --anchor: use SEQ:HASH" in result.output


def test_cli_export_writes_csv_and_records_the_export(filled_db, tmp_path):
    out = tmp_path / "audit.csv"
    result = CliRunner().invoke(cli, ["audit", "export", "--db", str(filled_db), "--out",
                                      str(out)])
    assert (result.exit_code, result.output) == (0, f"exported 6 entries to {out}\n")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [int(r["seq"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    c = connect(filled_db)
    last = audit.entries(c)[-1]
    assert audit.verify(c) is None
    c.close()
    assert (last.seq, last.actor, last.action, json.loads(last.detail)) == (
        7, "local", "audit.export", {"entries": 6})


def test_cli_export_to_stdout(filled_db):
    result = CliRunner().invoke(cli, ["audit", "export", "--db", str(filled_db)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == ",".join(audit.COLUMNS)
    assert len(lines) == 7
