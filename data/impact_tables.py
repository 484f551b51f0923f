"""Maintained tables the Impact and Plan pages read beside the monthly counts (issue 25): police
busy time and each month's first and last call, kept current with the calls.

The Impact page's series (metrics/impact_series.py) needs, per month of a jurisdiction,
besides counts of calls (``calls_monthly`` / ``calls_hourly``, data/aggregates.py): the hours
police spent on its target-type calls, how those calls were timed, and the first and last day
with calls. Read from the rows they cost two scans of the jurisdiction's calls per page view;
here they are kept per month and group:

- ``police_time_monthly``: the police-handled, target-type, public-initiated calls per month ×
  jurisdiction × area, category, local weekday and hour, with their busy time summed in whole
  microseconds (an integer sum is exact and the same in any order; hours are its quotient by
  3.6e9) and how they were timed. Its size is bounded by these dimensions, not by the calls
  (about 51,000 rows for the demo at 10 or 100 million calls); one scan of the calls' target
  rows keeps it;
- ``calls_span``: calls per month × jurisdiction and whether of a type the team could take
  (the Plan page's arrivals), with the first and last local time;
- ``team_service_minutes``: team responses per month of request × jurisdiction × service
  time (dispatch to clear) in whole minutes: the Plan page's service-time histogram.

Busy time of a call is cleared − dispatched, or cleared − on scene where the dispatch time is
missing; an interval that is negative or longer than a day adds nothing (metrics/sql.py:
``BUSY_HOURS``, ``busy_ok``; the same expressions here, which data/ cannot import).

They are counted again by ``aggregates.refresh`` with the monthly tables of the same records,
in the same transaction as every write (the months of an import of calls, the jurisdiction of
an undo, crosswalk or settings edit, of every import or undo of responses);
``stale_groups`` compares them with a fresh count.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import facts
from .table_checks import differing_rows, present

US_PER_HOUR = 3_600_000_000
# Microseconds of police busy time; valid when 0 to 24 hours (metrics.sql.busy_ok over hours).
BUSY_US = "(epoch_us(cleared_at) - epoch_us(coalesce(dispatched_at, arrived_at)))"
BUSY_VALID = (f"({BUSY_US} / {US_PER_HOUR}.0 >= 0 AND {BUSY_US} / {US_PER_HOUR}.0 <= 24)")


@dataclass(frozen=True)
class Kept:
    """A maintained table: the records of ``source`` where ``rows`` holds, grouped by ``keys``
    (name, SQL over the source, SQL type, meaning), with ``values`` (name, aggregate, type,
    meaning) per group."""

    table: str
    rows: str
    keys: tuple[tuple[str, str, str, str], ...]
    values: tuple[tuple[str, str, str, str], ...]
    source: str = "calls"  # or "responses"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c[0] for c in self.keys + self.values)


_J = ("jurisdiction", "jurisdiction", "VARCHAR", "")
_M = ("local_month", "local_month", "INTEGER", "As in calls_monthly")
# The calls the Impact page times: police-handled, of target types, public-initiated.
POLICE_TARGET = "responder = 'police' AND is_target AND public_initiated"
# Calls of a type the team could take: eligible (in or out of coverage hours), or untriaged in
# a target category (metrics/capacity/workload.py, over the stored columns of the calls).
ELIGIBLE_TYPE = "coalesce(eligible OR out_of_hours OR (eligible IS NULL AND is_target), false)"
# A team response's service time (dispatch to clear) in whole minutes, the Plan page's
# histogram (metrics/capacity/workload.py): over 12 hours is a record left open, not a call.
MAX_SERVICE_MIN = 720
SERVICE_MINUTES = "round((epoch(cleared_at) - epoch(dispatched_at)) / 60)"
SERVICE_VALID = ("dispatched_at IS NOT NULL AND cleared_at > dispatched_at AND "
                 f"epoch(cleared_at) - epoch(dispatched_at) <= {MAX_SERVICE_MIN * 60}")
KEPT = (
    Kept("police_time_monthly", POLICE_TARGET,
         (_J, _M, ("area", "area", "VARCHAR", ""),
          ("category", "category", "VARCHAR", "The effective category"),
          ("local_weekday", "isodow(local_ts)", "INTEGER", "ISO weekday of receipt, local"),
          ("local_hour", "hour(local_ts)", "INTEGER", "Hour of receipt, local")),
         (("police_calls", "count(*)", "BIGINT", "Police-handled calls in the group"),
          ("timed_dispatch",
           f"count(*) FILTER (WHERE {BUSY_VALID} AND dispatched_at IS NOT NULL)", "BIGINT",
           "Of them, timed from dispatch to clear"),
          ("timed_scene", f"count(*) FILTER (WHERE {BUSY_VALID} AND dispatched_at IS NULL)",
           "BIGINT", "Of them, timed from arrival on scene to clear (no dispatch time)"),
          ("busy_us", f"coalesce(sum({BUSY_US}) FILTER (WHERE {BUSY_VALID}), 0)::BIGINT",
           "BIGINT", "Their busy time, microseconds (calls not timed add none)"))),
    Kept("calls_span", "true", (_J, _M, ("eligible_type", ELIGIBLE_TYPE, "BOOLEAN",
                                          "Of a type the team could take (the Plan page's "
                                          "arrivals, metrics/capacity/workload.py)")),
         (("calls", "count(*)", "BIGINT", "Calls in the group"),
          ("first_local", "min(local_ts)", "TIMESTAMP", "The month's first call, local time"),
          ("last_local", "max(local_ts)", "TIMESTAMP", "The month's last call, local time"))),
    Kept("team_service_minutes", "true",
         (_J, ("local_month", "local_month", "INTEGER", "Local month of the request"),
          ("minutes", f"CASE WHEN {SERVICE_VALID} THEN {SERVICE_MINUTES} END", "DOUBLE",
           "Dispatch to clear, whole minutes; NULL: no such time, or over 12 hours")),
         (("responses", "count(*)", "BIGINT", "Team responses that took them"),),
         "responses"),
)
TABLES = tuple(k.table for k in KEPT)
_ROWS = {"calls": facts.source_select(),
         "responses": f"SELECT *, {facts.month_number('requested_local')} AS local_month "
                      "FROM responses"}


def ddl() -> list[str]:
    return [f"CREATE TABLE IF NOT EXISTS {k.table} (\n  "
            + ",\n  ".join(f'"{n}" {t}' for n, _, t, _ in k.keys + k.values) + "\n)"
            for k in KEPT]


def _fresh(k: Kept, where: str) -> str:
    cols = ", ".join(f'{e} AS "{n}"' for n, e, _, _ in k.keys + k.values)
    return (f"SELECT {cols} FROM ({_ROWS[k.source]}) WHERE {k.rows} AND ({where}) "
            "GROUP BY ALL")


def refresh(con, where: str = "true", params: list | None = None, source: str | None = None
            ) -> None:
    """Count again the groups of ``source``'s records (both sources when None) where
    ``where`` holds (over ``jurisdiction`` and ``local_month``, as ``aggregates.refresh``
    builds it). The caller holds the transaction."""
    for k in KEPT:
        if source not in (None, k.source):
            continue
        con.execute(f"DELETE FROM {k.table} WHERE {where}", params or [])
        con.execute(f"INSERT INTO {k.table} {_fresh(k, where)}", params or [])


def stale_groups(con) -> int:
    """Groups that differ from a fresh count of the calls (0 when current)."""
    return sum(differing_rows(con, k.table, ", ".join(f'"{n}"' for n in k.names),
                              _fresh(k, "true")) for k in KEPT)


def ensure_current(con) -> None:
    """Tables created empty beside existing records (a database from an earlier version):
    each source's counted once. Judged by the table that keeps every record of the source
    (``calls_span``, ``team_service_minutes``): the police time may be empty by right."""
    for source in ("calls", "responses"):
        whole = [k.table for k in KEPT if k.source == source and k.rows == "true"]
        if (con.execute(f"SELECT count(*) = 0 FROM {whole[0]}").fetchone()[0]
                and con.execute(f"SELECT count(*) > 0 FROM {source}").fetchone()[0]):
            refresh(con, source=source)


def current(con) -> bool:
    """Whether the tables are there and count the calls ``calls_monthly`` counts (itself
    checked against the calls by ``metrics.rollup.available``): else the rows answer (a
    Parquet export without them, records written by hand)."""
    if not present(con, *TABLES):
        return False
    return bool(con.execute(
        f"SELECT (SELECT coalesce(sum(calls) FILTER (WHERE {POLICE_TARGET}), 0) "
        "        FROM calls_monthly) = (SELECT coalesce(sum(police_calls), 0) "
        "                               FROM police_time_monthly) "
        "AND (SELECT coalesce(sum(calls), 0) FROM calls_monthly) "
        "  = (SELECT coalesce(sum(calls), 0) FROM calls_span) "
        "AND (SELECT count(*) FROM responses) "
        "  = (SELECT coalesce(sum(responses), 0) FROM team_service_minutes)").fetchone()[0])


def columns_doc() -> dict[str, list[tuple[str, str]]]:
    """README data model rows of each table (data/docs.py)."""
    return {k.table: [(n, m or "As in the calls source") for n, _, _, m in k.keys + k.values]
            for k in KEPT}
