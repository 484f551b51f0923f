"""Program costs: per period and funding stream, and the police cost per unit-hour (issue 22).

Costs come in three ways, all through ``import_rows`` (one validation, one write, one ledger
row, undo like every import):

- a costs file (CSV, CSV.gz or XLSX, read by ``data.readers`` like every export):
  ``import_costs(con, "costs.csv", jurisdiction="Riverton")``;
- the Data page's form and ``python -m data costs``: ``enter_costs(con, jurisdiction, rows)``.

A file's columns are found from their headers (``HEADERS``): ``period``, ``stream``,
``amount`` and optionally ``fte``. Periods are whole months: ``2025-Q1``, ``2025-03``, ``2025``
or ``2024-07..2025-06`` (a fiscal year); a cost is spread evenly over its months. The stream
``police_hourly_cost`` holds the police department's fully loaded cost per unit-hour; its
period may be blank (it then holds for every period without a rate of its own).

Money must be complete or absent: one unreadable row refuses the whole file, naming every bad
row and column, and nothing is written. A row replaces the row of the same period and stream
(the replaced row is kept for undo); the same file twice changes nothing.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .errors import DataError, ImportRefused, MappingError
from .importer import ImportResult, one_transaction, write_ledger
from .profiles import normalise_header, normalise_value
from .readers import stage_file
from .schema import COST_COLUMNS, COST_STREAMS, POLICE_HOURLY, VALUE_SETS

MAX_ROWS = 5_000  # a row per period and stream: decades of quarters fit many times over
_SHOWN_ISSUES = 12

# Normalised headers (letters and digits only) that name each column.
HEADERS = {
    "period": ("period", "quarter", "month", "year", "fiscalperiod", "costperiod"),
    "stream": ("stream", "fundingstream", "fundingsource", "source", "fund", "funding", "item"),
    "amount": ("amount", "cost", "costs", "dollars", "usd", "expenditure", "expenditures",
               "spent", "budget", "total"),
    "fte": ("fte", "ftes", "staff", "fulltimeequivalents", "positions"),
}
REQUIRED = ("period", "stream", "amount")

# How streams are written in budget tables -> the standard code.
STREAM_WORDS = {
    "general fund": "general_fund", "general": "general_fund", "city general fund":
    "general_fund", "county general fund": "general_fund",
    "arpa": "arpa_slfrf", "slfrf": "arpa_slfrf", "arpa slfrf": "arpa_slfrf",
    "arpa/slfrf": "arpa_slfrf", "american rescue plan": "arpa_slfrf",
    "state and local fiscal recovery funds": "arpa_slfrf",
    "arpa state and local fiscal recovery funds": "arpa_slfrf",
    "medicaid": "medicaid", "medicaid billing": "medicaid",
    "opioid": "opioid_settlement", "opioid settlement": "opioid_settlement",
    "opioid settlement funds": "opioid_settlement",
    "988": "fees_988", "988 fees": "fees_988", "988 fee": "fees_988", "fees 988": "fees_988",
    "grant": "grant", "grants": "grant", "other": "other",
    "police hourly cost": POLICE_HOURLY, "police cost per hour": POLICE_HOURLY,
    "police hourly": POLICE_HOURLY, "police unit hour": POLICE_HOURLY,
}


@dataclass(frozen=True)
class Period:
    label: str         # as stored: 2025-Q1, 2025-03, 2025, 2024-07..2025-06
    start: date        # first day of the first month
    months: int


@dataclass(frozen=True)
class CostRow:
    """One validated row: a program cost (a funding stream) or the police rate."""

    period: Period | None
    stream: str
    amount: float
    fte: float | None
    file_row: int | None = None

    @property
    def key(self) -> str:
        return f"{self.period.label if self.period else '*'}|{self.stream}"


# --------------------------------------------------------------------------------------------
# Reading one value (pure)
# --------------------------------------------------------------------------------------------

_QUARTER = [re.compile(r"^(\d{4})\s*[-/ ]?\s*q([1-4])$"),
            re.compile(r"^q([1-4])\s*[-/ ]?\s*(\d{4})$")]
_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4})[-/](\d{1,2})\s*(?:\.\.|to|–|—)\s*(\d{4})[-/](\d{1,2})$")


def parse_period(text: str | None) -> Period | None:
    """'2025-Q1' / 'Q1 2025', '2025-03', '2025', '2024-07..2025-06' -> Period; '' -> None.

    Raises ValueError with the reason for anything else.
    """
    t = normalise_value(text or "")
    if not t:
        return None
    for i, rx in enumerate(_QUARTER):
        m = rx.match(t)
        if m:
            year, q = (m[1], m[2]) if i == 0 else (m[2], m[1])
            return _period(f"{year}-Q{q}", int(year), 3 * int(q) - 2, 3)
    m = _MONTH.match(t)
    if m:
        return _period(f"{m[1]}-{int(m[2]):02d}", int(m[1]), int(m[2]), 1)
    m = _YEAR.match(t)
    if m:
        return _period(m[1], int(m[1]), 1, 12)
    m = _RANGE.match(t)
    if m:
        y1, m1, y2, m2 = (int(x) for x in m.groups())
        months = (y2 * 12 + m2) - (y1 * 12 + m1) + 1
        if months < 1:
            raise ValueError(f"the range {text!r} ends before it starts")
        return _period(f"{y1}-{m1:02d}..{y2}-{m2:02d}", y1, m1, months)
    raise ValueError(f"cannot read {text!r} as a period (use 2025-Q1, 2025-03, 2025 or "
                     "2024-07..2025-06)")


def _period(label: str, year: int, month: int, months: int) -> Period:
    if not 1 <= month <= 12 or not 1990 <= year <= 2100:
        raise ValueError(f"{label!r} is not a month between 1990 and 2100")
    return Period(label, date(year, month, 1), months)


def parse_stream(text: str | None) -> str:
    t = normalise_value(text or "")
    code = t.replace(" ", "_")
    if code in COST_STREAMS:
        return code
    if t in STREAM_WORDS:
        return STREAM_WORDS[t]
    raise ValueError(f"cannot read {text!r} as a funding stream (use one of "
                     f"{', '.join(COST_STREAMS)})" if t else "blank funding stream")


def parse_money(text, what: str = "an amount in dollars") -> float:
    """'$250,000.00', '250000', 250000 -> 250000.0; negative, blank or words -> ValueError."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        t = re.sub(r"[\s$,]", "", str(text or ""))
        if not t:
            raise ValueError(f"blank {what.split(' ', 1)[-1]}")
        try:
            value = float(t)
        except ValueError:
            raise ValueError(f"cannot read {text!r} as {what}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"cannot read {text!r} as {what}")
    if value < 0:
        raise ValueError(f"{text!r} is negative; enter costs as positive amounts")
    return value


def parse_row(period, stream, amount, fte=None, file_row=None) -> tuple[CostRow | None, list]:
    """(row, [(column, reason)]): every problem of one row, not just the first."""
    issues, values = [], {}
    for name, parse, raw in (("period", parse_period, period), ("stream", parse_stream, stream),
                             ("amount", parse_money, amount)):
        try:
            values[name] = parse(raw)
        except ValueError as e:
            issues.append((name, str(e)))
    values["fte"] = None
    if fte not in (None, "") and str(fte).strip():
        try:
            values["fte"] = parse_money(fte, "a number of full-time equivalents")
        except ValueError as e:
            issues.append(("fte", str(e)))
    if not issues:
        if values["period"] is None and values["stream"] != POLICE_HOURLY:
            issues.append(("period", "blank period: only the police cost per unit-hour may "
                                     "leave it blank (it then holds for every period)"))
        if values["stream"] == POLICE_HOURLY and values["fte"] is not None:
            issues.append(("fte", "FTEs go with a program cost, not the police cost per hour"))
    if issues:
        return None, issues
    return CostRow(values["period"], values["stream"], values["amount"], values["fte"],
                   file_row), []


# --------------------------------------------------------------------------------------------
# A file -> rows
# --------------------------------------------------------------------------------------------

def read_cost_file(con, path, file_name: str, work_dir) -> tuple[list[CostRow], str]:
    """The file's rows, validated; ImportRefused (naming every bad row) or MappingError."""
    staged = stage_file(con, path, file_name=file_name, work_dir=work_dir)
    try:
        columns = _find_columns(staged.headers, file_name)
        count = con.execute("SELECT count(*) FROM staged_raw").fetchone()[0]
        if count == 0:
            raise ImportRefused(f"{file_name} has a header but no data rows; nothing to import.")
        if count > MAX_ROWS:
            raise ImportRefused(f"{file_name} has {count:,} rows; a costs file has one row per "
                                f"period and funding stream (at most {MAX_ROWS:,}). Is this "
                                "the right file?")
        cols = ", ".join(f"c{columns[name]}" if name in columns else "NULL"
                         for name in ("period", "stream", "amount", "fte"))
        raw = con.execute(f"SELECT {cols} FROM staged_raw").fetchall()
        sha = staged.sha256
    finally:
        staged.close()
        con.execute("DROP VIEW IF EXISTS staged_raw")
        con.execute("DROP TABLE IF EXISTS staged_raw")
    labels = {name: staged.headers[i] for name, i in columns.items()}
    rows, issues = [], []
    for n, values in enumerate(raw, start=2):  # row 1 is the header, as a spreadsheet shows it
        if all(v is None or not str(v).strip() for v in values):
            continue  # a blank line between blocks of a budget sheet
        row, problems = parse_row(*values, file_row=n)
        issues += [(n, labels.get(col, col), why) for col, why in problems]
        if row:
            rows.append(row)
    _refuse(issues, file_name)
    return rows, sha


def _find_columns(headers: list[str], file_name: str) -> dict[str, int]:
    found = {}
    for i, h in enumerate(headers):
        norm = normalise_header(h or "")
        for name, words in HEADERS.items():
            if name not in found and norm in words:
                found[name] = i
                break
    missing = [n for n in REQUIRED if n not in found]
    if missing:
        raise MappingError(
            f"{file_name}: no column for {', '.join(missing)}. A costs file has the columns "
            "period (2025-Q1, 2025-03, 2025 or 2024-07..2025-06), stream (one of "
            f"{', '.join(COST_STREAMS)}), amount (dollars) and optionally fte. Its headers are "
            + ", ".join(repr(h) for h in headers[:20]) + ".")
    return found


def _refuse(issues: list[tuple], where: str) -> None:
    if not issues:
        return
    shown = "; ".join(f"row {r}, column '{c}': {why}" if r else f"{c}: {why}"
                      for r, c, why in issues[:_SHOWN_ISSUES])
    more = f" (and {len(issues) - _SHOWN_ISSUES:,} more)" if len(issues) > _SHOWN_ISSUES else ""
    raise ImportRefused(f"{where}: {len(issues):,} problem(s): {shown}{more}. Nothing was "
                        "imported: costs are all of a file or none of it.",
                        issues=[tuple(i) for i in issues[:_SHOWN_ISSUES]])


# --------------------------------------------------------------------------------------------
# Checks against each other and against what is stored
# --------------------------------------------------------------------------------------------

def _months(p: Period) -> set[int]:
    first = p.start.year * 12 + p.start.month - 1
    return set(range(first, first + p.months))


def _check_together(con, jurisdiction: str, rows: list[CostRow], where: str) -> None:
    """No key twice in the input; no two periods of one stream that share a month (its cost
    would be counted twice), against the stored rows these do not replace."""
    issues, seen = [], {}
    for r in rows:
        if r.key in seen:
            issues.append((r.file_row, "period", f"{r.period.label if r.period else 'blank'} "
                           f"{r.stream} appears twice (also row {seen[r.key]})"))
        seen[r.key] = r.file_row
    new_keys = {r.key for r in rows}
    stored = [(k, s, p, m) for k, s, p, m in con.execute(
        "SELECT cost_key, stream, period, months FROM costs WHERE jurisdiction = ? AND "
        "period IS NOT NULL", [jurisdiction]).fetchall() if k not in new_keys]
    kept = [(s, parse_period(p)) for _, s, p, _ in stored]
    new = [(r.file_row, r.stream, r.period) for r in rows if r.period]
    for i, (row, stream, p) in enumerate(new):
        others = [(f"row {o}" if o else "another entry", s, q) for o, s, q in new[:i]]
        others += [("the costs already stored", s, q) for s, q in kept]
        for where_other, other_stream, q in others:
            if stream == other_stream and _months(p) & _months(q):
                issues.append((row, "period", f"{p.label} {stream} overlaps {q.label} in "
                               f"{where_other}: a month's cost would be counted twice (undo "
                               "or replace that one first)"))
    _refuse(issues, where)


# --------------------------------------------------------------------------------------------
# Import: the one write path
# --------------------------------------------------------------------------------------------

def import_costs(con, path, *, jurisdiction: str, file_name: str | None = None,
                 dry_run: bool = False, work_dir=None) -> ImportResult:
    """Import a costs file for ``jurisdiction``: all rows or none (DataError, nothing written).

    Example: import_costs(con, "riverton-costs.csv", jurisdiction="Riverton")
    """
    jurisdiction = _known_jurisdiction(con, jurisdiction)
    file_name = file_name or Path(path).name
    work = Path(work_dir) if work_dir else _work_dir(con)
    rows, sha = read_cost_file(con, path, file_name, work)
    prior = con.execute("SELECT import_id FROM imports WHERE file_sha256 = ? AND jurisdiction = ? "
                        "AND kind = 'costs' AND status = 'committed'", [sha, jurisdiction]
                        ).fetchone()
    if prior:
        return ImportResult("costs", jurisdiction, file_name, sha, "already_imported",
                            previous_import=prior[0])
    return import_rows(con, jurisdiction, rows, file_name=file_name, sha=sha, dry_run=dry_run)


def enter_costs(con, jurisdiction: str, entries: list[dict], *, source: str = "the Data page",
                dry_run: bool = False) -> ImportResult:
    """Costs typed in (the Data page's form, ``python -m data costs``): each entry a dict with
    period, stream, amount and optionally fte. Same checks and ledger as a file; entries that
    change nothing write nothing (status ``unchanged``)."""
    jurisdiction = _known_jurisdiction(con, jurisdiction)
    rows, issues = [], []
    for i, e in enumerate(entries, start=1):
        row, problems = parse_row(e.get("period"), e.get("stream"), e.get("amount"),
                                  e.get("fte"))
        issues += [(None, f"entry {i} {col}" if len(entries) > 1 else col, why)
                   for col, why in problems]
        if row:
            rows.append(row)
    _refuse(issues, f"The costs entered on {source}")
    if not rows:
        raise DataError("Enter at least one cost.")
    text = json.dumps([[r.key, r.amount, r.fte] for r in rows])
    sha = hashlib.sha256(text.encode()).hexdigest()
    return import_rows(con, jurisdiction, rows, file_name=f"entered on {source}", sha=sha,
                       dry_run=dry_run, skip_if_unchanged=True)


def import_rows(con, jurisdiction: str, rows: list[CostRow], *, file_name: str, sha: str,
                dry_run: bool = False, skip_if_unchanged: bool = False) -> ImportResult:
    """Write validated rows in one transaction, with a ledger row; replaced rows kept for undo."""
    _check_together(con, jurisdiction, rows, file_name)
    result = ImportResult("costs", jurisdiction, file_name, sha, "committed",
                          rows_read=len(rows), records=len(rows))
    current = {k: (a, f) for k, a, f in con.execute(
        "SELECT cost_key, amount, fte FROM costs WHERE jurisdiction = ?", [jurisdiction]
    ).fetchall()}
    changed = [r for r in rows if current.get(r.key) != (r.amount, r.fte)]
    result.rows_unchanged = len(rows) - len(changed)
    result.rows_updated = sum(r.key in current for r in changed)
    result.rows_inserted = len(changed) - result.rows_updated
    result.notes = _notes(rows)
    if skip_if_unchanged and not changed:
        result.status = "unchanged"
        return result
    with one_transaction(con, dry_run):
        result.import_id = con.execute("SELECT nextval('import_seq')").fetchone()[0]
        _write(con, jurisdiction, changed, result.import_id)
        write_ledger(con, result, False)
    result.status = "dry_run" if dry_run else "committed"
    return result


def _write(con, jurisdiction, rows: list[CostRow], import_id: int) -> None:
    names = ", ".join(f'"{c}"' for c, _ in COST_COLUMNS)
    keys = [r.key for r in rows]
    con.execute(f"INSERT INTO costs_replaced SELECT {names}, ? FROM costs WHERE jurisdiction = ? "
                "AND list_contains(?::VARCHAR[], cost_key)", [import_id, jurisdiction, keys])
    con.execute("DELETE FROM costs WHERE jurisdiction = ? AND list_contains(?::VARCHAR[], "
                "cost_key)", [jurisdiction, keys])
    con.executemany(f"INSERT INTO costs ({names}) VALUES ({', '.join('?' * len(COST_COLUMNS))})",
                    [[jurisdiction, r.key, r.period.label if r.period else None,
                      r.period.start if r.period else None, r.period.months if r.period else None,
                      r.stream, r.amount, r.fte, import_id, r.file_row] for r in rows])


def _notes(rows: list[CostRow]) -> list[str]:
    program = [r for r in rows if r.stream != POLICE_HOURLY]
    notes = []
    if program:
        streams = sorted({r.stream for r in program}, key=COST_STREAMS.index)
        notes.append(f"program costs: ${sum(r.amount for r in program):,.2f} over "
                     f"{len({r.period.label for r in program}):,} period(s), streams "
                     f"{', '.join(streams)}")
    for r in rows:
        if r.stream == POLICE_HOURLY:
            notes.append(f"police cost per unit-hour ${r.amount:,.2f} "
                         f"({r.period.label if r.period else 'every period without its own'})")
    return notes


def _known_jurisdiction(con, jurisdiction: str) -> str:
    jurisdiction = (jurisdiction or "").strip()
    if not jurisdiction:
        raise DataError("Say which jurisdiction the costs belong to (--jurisdiction NAME).")
    if not con.execute("SELECT count(*) FROM jurisdictions WHERE jurisdiction = ?",
                       [jurisdiction]).fetchone()[0]:
        raise DataError(f"There is no jurisdiction '{jurisdiction}' yet: import its calls or "
                        "responses first (or add it on the Admin page), then its costs.")
    return jurisdiction


def _work_dir(con) -> Path:
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                     "current_database()").fetchone()[0]
    return (Path(db).resolve().parent if db else Path.cwd()) / ".staging"


def stored_costs(con, jurisdiction: str) -> list[dict]:
    """The jurisdiction's cost rows as stored (the Data page's table, the CLI's listing)."""
    cur = con.execute("SELECT period, stream, amount, fte, import_id FROM costs WHERE "
                      "jurisdiction = ? ORDER BY period_start NULLS FIRST, months DESC, stream",
                      [jurisdiction])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


# --------------------------------------------------------------------------------------------
# The demo cohort's costs (data/demo_costs.csv), loaded through this import kind
# --------------------------------------------------------------------------------------------

DEMO_COSTS = Path(__file__).resolve().parent / "demo_costs.csv"


def load_demo_costs(con) -> int:
    """Import each demo jurisdiction's block of ``demo_costs.csv`` as a costs file (the
    jurisdiction is a column of that one file only, so that the cohort's costs sit in one
    place; each block is written to a file of its own and imported as an analyst would)."""
    import csv
    import tempfile

    with open(DEMO_COSTS, newline="", encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    known = {j for (j,) in con.execute("SELECT jurisdiction FROM jurisdictions").fetchall()}
    blocks: dict[str, list[dict]] = {}
    for line in lines:
        if line["jurisdiction"] in known:
            blocks.setdefault(line["jurisdiction"], []).append(line)
    work = _work_dir(con)
    work.mkdir(parents=True, exist_ok=True)
    done = 0
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        for j, block in blocks.items():
            path = Path(tmp) / f"{re.sub(r'[^a-z0-9]+', '-', j.lower())}-costs.csv"
            with open(path, "w", newline="", encoding="utf-8") as out:
                w = csv.writer(out)
                w.writerow(["period", "stream", "amount", "fte"])
                w.writerows([line["period"], line["stream"], line["amount"], line["fte"]]
                            for line in block)
            import_costs(con, path, jurisdiction=j, work_dir=tmp)
            done += len(block)
    return done


__all__ = ["CostRow", "Period", "VALUE_SETS", "enter_costs", "import_costs",
           "import_rows", "load_demo_costs", "parse_period", "parse_row", "stored_costs"]
