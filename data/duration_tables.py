"""Durations kept per month, so that medians and 90th percentiles need not read every call
(issue 25).

Each table is a histogram: per jurisdiction, local month, interval (the columns it is timed
from and to), the columns a duration's condition reads, and the duration in whole
microseconds (``epoch_us(to) - epoch_us(from)``, as metrics/sql.py times a row; -1 when
missing: either time blank, or out of order), the number of records. CAD clocks give whole
seconds, so a month has a few thousand distinct durations: the tables grow with the months
and the spread of the times, not with the number of calls.

A duration metric (metrics.registry, Kind.DURATION) over one of these intervals, whose
condition reads only the stored columns, is then read off the table's cumulative counts
exactly as the histogram over the rows is (metrics/duration_rollup.py); every other one
reads the rows. Intervals are listed here, not taken from the registry, as the counted flags
of data/aggregates.py are: the data layer does not import the metrics; a metric whose
interval or condition is not here is simply answered from the rows.

Maintained with the monthly counts, by the same writes, in the same transaction
(``aggregates.refresh`` calls ``refresh`` here with the groups it counts again).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import facts
from .table_checks import differing_rows


@dataclass(frozen=True)
class DurationTable:
    """Durations of ``source``'s records over ``intervals`` (from, to column pairs), by
    jurisdiction, month and ``flags`` (name, SQL type): the number of records per value in
    the column named after the source."""

    table: str
    source: str
    intervals: tuple[tuple[str, str], ...]
    flags: tuple[tuple[str, str], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return ("jurisdiction", "local_month", "from_time", "to_time",
                *(f for f, _ in self.flags), "duration_us")

    @property
    def count(self) -> str:
        return self.source


DURATION_TABLES = (
    # C1 (received -> dispatched); C5 and C6 (received -> on scene, for target-type calls by
    # responder: the columns their conditions read).
    DurationTable("calls_durations", "calls",
                  (("received_at", "dispatched_at"), ("received_at", "arrived_at")),
                  (("is_target", "BOOLEAN"), ("responder", "VARCHAR"),
                   ("ar_responded", "BOOLEAN"))),
    # C2 (request received -> on scene), C3 (dispatched -> on scene), C4 (on scene -> cleared).
    DurationTable("responses_durations", "responses",
                  (("request_received_at", "arrived_at"), ("dispatched_at", "arrived_at"),
                   ("arrived_at", "cleared_at")), ()),
)
TABLES = tuple(t.table for t in DURATION_TABLES)

# The rows each source's table counts, with the columns the intervals read named as the
# metrics' sources name them (metrics/sources.py: C2 starts at the linked call's receipt, or
# the team's own request time when unlinked).
_ROWS = {"calls": facts.source_select(),
         "responses": "SELECT *, coalesce(call_received_at, requested_at) AS "
                      f"request_received_at, {facts.month_number('requested_local')} AS "
                      "local_month FROM responses"}


def ddl() -> list[str]:
    """CREATE TABLE statements of the histograms (data/schema.py runs them)."""
    out = []
    for t in DURATION_TABLES:
        flags = "".join(f'"{f}" {sql_type}, ' for f, sql_type in t.flags)
        out.append(f"CREATE TABLE IF NOT EXISTS {t.table} (jurisdiction VARCHAR, local_month "
                   f"INTEGER, from_time VARCHAR, to_time VARCHAR, {flags}duration_us BIGINT, "
                   f"{t.count} BIGINT NOT NULL)")
    return out


def _fresh(t: DurationTable, where: str) -> str:
    """The table's rows for the records where ``where`` holds: one scan, a grouping set per
    interval (each record counted once in each)."""
    flags = "".join(f'"{f}", ' for f, _ in t.flags)
    keys = f"jurisdiction, local_month, {flags}"
    us = ", ".join(f'CASE WHEN epoch_us("{b}") - epoch_us("{a}") >= 0 THEN '
                   f'epoch_us("{b}") - epoch_us("{a}") ELSE -1 END AS "d{i}"'
                   for i, (a, b) in enumerate(t.intervals))
    sets = ", ".join(f'({keys}"d{i}")' for i in range(len(t.intervals)))
    which = " ".join(f'WHEN GROUPING("d{i}") = 0 THEN {i}' for i in range(len(t.intervals)))
    named = " ".join(f"WHEN {i} THEN '{a}'" for i, (a, _) in enumerate(t.intervals))
    named_to = " ".join(f"WHEN {i} THEN '{b}'" for i, (_, b) in enumerate(t.intervals))
    values = ", ".join(f'"d{i}"' for i in range(len(t.intervals)))
    return (f"SELECT jurisdiction, local_month, CASE k {named} END AS from_time, "
            f"CASE k {named_to} END AS to_time, {flags}duration_us, n AS {t.count} FROM ("
            f"SELECT {keys}CASE {which} END AS k, coalesce({values}) AS duration_us, "
            f"count(*) AS n FROM (SELECT {keys}{us} FROM ({_ROWS[t.source]}) WHERE {where}) "
            f"GROUP BY GROUPING SETS ({sets}))")


def refresh(con, source: str, where: str, params: list) -> None:
    """Count again the histogram of ``source`` where ``where`` holds (over jurisdiction and
    local_month: data/aggregates.py's ``refresh`` gives it). The caller holds the
    transaction."""
    for t in DURATION_TABLES:
        if t.source == source:
            refresh_table(con, t, where, params)


def refresh_source(con, source: str, jurisdiction: str | None = None) -> None:
    """Count again the histogram of a jurisdiction's records of ``source`` (all when None):
    ``links.refresh_links`` after calls are imported or undone, which moves C2's start
    (the linked call's receipt) but no count of the responses."""
    if jurisdiction is None:
        refresh(con, source, "true", [])
    else:
        refresh(con, source, "jurisdiction = ?", [jurisdiction])


def refresh_table(con, t: DurationTable, where: str = "true", params=()) -> None:
    con.execute(f"DELETE FROM {t.table} WHERE {where}", list(params))
    con.execute(f"INSERT INTO {t.table} {_fresh(t, where)}", list(params))


def stale_groups(con) -> int:
    """Rows of the histograms that differ from a fresh count (0 when current)."""
    return sum(differing_rows(con, t.table, ", ".join(f'"{n}"' for n in (*t.names, t.count)),
                              _fresh(t, "true")) for t in DURATION_TABLES)


def columns_doc() -> dict[str, list[tuple[str, str]]]:
    """README data model rows of each histogram (data/docs.py)."""
    out = {}
    for t in DURATION_TABLES:
        spans = ", ".join(f"{a} → {b}" for a, b in t.intervals)
        out[t.table] = ([("jurisdiction", "As in the source"),
                         ("local_month", "Local month (2025 * 100 + 3); NULL: no time"),
                         ("from_time, to_time", f"The interval timed: {spans}")]
                        + [(f, "As in the calls source: a duration's condition reads it")
                           for f, _ in t.flags]
                        + [("duration_us", "Whole microseconds from one to the other; -1: "
                            "missing (a time blank or out of order)"),
                           (t.count, f"{t.count.capitalize()} with that duration")])
    return out
