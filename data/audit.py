"""The audit trail: an append-only, hash-chained log of sign-ins, refusals, writes and downloads.

Each entry's ``hash`` is the SHA-256 of a canonical serialisation of the entry (a JSON array of
its fields in column order, ``prev_hash`` last), so it covers the previous entry's hash too. An
entry edited, deleted, inserted or moved after the fact breaks the chain at that entry, and
``verify`` names it. Nothing in the application updates or deletes audit rows; DuckDB has no
triggers, so that is enforced by there being no code for it and checked by ``verify``.

Someone who can write the database file *and* recompute every later hash could rewrite the
tail consistently; keeping the last entry's hash outside the database (``head``, printed by
``python -m data audit verify``) and passing it back as an anchor catches that, and catches an
entry cut off the end.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .quality import csv_safe

GENESIS = "0" * 64  # the prev_hash of entry #1
OUTCOMES = ("allowed", "denied")
COLUMNS = ("seq", "logged_at", "actor", "action", "jurisdiction", "target", "file_sha256",
           "outcome", "detail", "prev_hash", "hash")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_SELECT = ("SELECT seq, epoch_us(logged_at), actor, action, jurisdiction, target, file_sha256, "
           "outcome, detail, prev_hash, hash FROM audit_log ORDER BY seq")
_BATCH = 2000
# Every session of the dashboard writes through cursors of one connection: one writer at a
# time, so that two entries never claim the same seq (the primary key would refuse the second).
_write_lock = threading.Lock()


@dataclass(frozen=True)
class Entry:
    seq: int
    logged_at: str  # ISO 8601 UTC with microseconds, e.g. 2026-05-01T12:03:04.123456Z
    actor: str
    action: str
    jurisdiction: str | None
    target: str | None
    file_sha256: str | None
    outcome: str
    detail: str | None  # canonical JSON text
    prev_hash: str
    hash: str

    def as_dict(self) -> dict:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass(frozen=True)
class Break:
    """Where the chain first fails: the entry's number and a sentence saying what is wrong."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"entry #{self.seq}: {self.problem}"


def canonical(seq: int, logged_at: str, actor: str, action: str, jurisdiction, target,
              file_sha256, outcome: str, detail, prev_hash: str) -> bytes:
    """The bytes an entry's hash covers: its fields as a compact JSON array, in column order."""
    fields = [seq, logged_at, actor, action, jurisdiction, target, file_sha256, outcome, detail,
              prev_hash]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(*fields) -> str:
    return hashlib.sha256(canonical(*fields)).hexdigest()


def detail_json(detail: dict | None) -> str | None:
    """Detail as canonical JSON (sorted keys), the exact text stored and hashed."""
    if detail is None:
        return None
    return json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def record(con, *, actor: str, action: str, outcome: str = "allowed",
           jurisdiction: str | None = None, target=None, file_sha256: str | None = None,
           detail: dict | None = None) -> Entry:
    """Append one entry (in its own transaction) and return it.

    ``con`` must not be inside a transaction: the entry commits on its own, so that a refusal
    is on record even when the caller's work is rolled back.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    if not actor or not action:
        raise ValueError("an audit entry needs an actor and an action")
    at = datetime.now(timezone.utc)
    target = None if target is None else str(target)
    text = detail_json(detail)
    with _write_lock:
        con.begin()
        try:
            seq, prev = _head_in(con)
            seq += 1
            digest = entry_hash(seq, _iso(_us(at)), actor, action, jurisdiction, target,
                                file_sha256, outcome, text, prev)
            con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [seq, at, actor, action, jurisdiction, target, file_sha256, outcome,
                         text, prev, digest])
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return Entry(seq, _iso(_us(at)), actor, action, jurisdiction, target, file_sha256, outcome,
                 text, prev, digest)


def head(con) -> tuple[int, str] | None:
    """(seq, hash) of the last entry, to keep outside the database as an anchor; None if empty."""
    seq, digest = _head_in(con)
    return (seq, digest) if seq else None


def check(con, anchor: tuple[int, str] | None = None) -> Break | None:
    """The first broken entry, or None when every entry is intact and in place.

    ``anchor`` is a (seq, hash) pair read earlier (``head``): the entry with that number must
    still exist and still have that hash, which detects entries cut off the end.
    """
    expected, prev, seen = 1, GENESIS, {}
    cur = con.execute(_SELECT)
    while rows := cur.fetchmany(_BATCH):
        for row in rows:
            broken = _check_row(row, expected, prev)
            if broken:
                return broken
            if anchor and row[0] == anchor[0]:
                seen[row[0]] = row[10]
            prev, expected = row[10], expected + 1
    return _check_anchor(anchor, seen, expected - 1)


def verify(con, anchor: tuple[int, str] | None = None) -> int | None:
    """The seq of the first broken entry, or None when the chain is intact."""
    broken = check(con, anchor)
    return broken.seq if broken else None


def entries(con) -> list[Entry]:
    """Every entry, oldest first."""
    out = []
    cur = con.execute(_SELECT)
    while rows := cur.fetchmany(_BATCH):
        out += [Entry(r[0], _iso(r[1]), *r[2:]) for r in rows]
    return out


def export(con) -> list[dict]:
    """Every entry as a dict (the columns of ``audit_log``, times as ISO 8601 UTC text)."""
    return [e.as_dict() for e in entries(con)]


def to_csv(rows: list[dict]) -> str:
    """Exported entries as CSV; a text cell a spreadsheet would run as a formula gets a quote."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([csv_safe(r[c]) for c in COLUMNS])
    return out.getvalue()


def count(con) -> int:
    return con.execute("SELECT count(*) FROM audit_log").fetchone()[0]


# --------------------------------------------------------------------------------------------

def _head_in(con) -> tuple[int, str]:
    row = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def _check_row(row, expected: int, prev: str) -> Break | None:
    seq, us, *fields, prev_hash, digest = row
    if seq > expected:
        return Break(expected, "it is missing (deleted)")
    if seq < expected:  # only a row numbered 0 or below can come before #1
        return Break(seq, "it should not exist: the log starts at #1 (inserted)")
    if us is None or entry_hash(seq, _iso(us), *fields, prev_hash) != digest:
        return Break(seq, "it was changed after it was written (its content does not match "
                          "its hash)")
    if prev_hash != prev:
        return Break(seq, f"it does not follow entry #{seq - 1} (an entry was inserted, "
                          "deleted or moved before it)")
    return None


def _check_anchor(anchor, seen: dict, last: int) -> Break | None:
    if not anchor:
        return None
    seq, digest = anchor
    if seq not in seen:
        return Break(seq, f"it is missing: the log ends at #{last}, but an earlier check saw "
                          f"#{seq} (entries were cut off the end)")
    if seen[seq] != digest:
        return Break(seq, "it is not the entry an earlier check saw (its hash differs: the "
                          "log was rewritten from there on)")
    return None


def _us(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _iso(us: int) -> str:
    return (_EPOCH + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
