"""Time zones: local wall-clock time <-> instants, fast for large files (offset segments)."""
from __future__ import annotations

from pathlib import Path





# timezone() (ICU) costs about 100 ns a value: with four time columns and the local time it was a
# quarter of a 10-million-row import. A zone's offset only changes at its transitions, so for
# large files the offset is looked up in a binary tree of constant ranges (about a hundred over
# 1990-2040 for a zone with daylight saving), built once per zone from timezone() itself. Hours
# holding a transition and values outside the range still go through timezone(), so every value
# is exactly what timezone() gives.
_ZONE_RANGE = ("1990-01-01", "2040-01-01")


_ZONE_TREE_MIN_BYTES = 16_000_000  # below this the tree costs more than it saves


_HOUR_US = 3_600_000_000


_zone_segments: dict[tuple[str, bool], list] = {}


def fast_zones(staged) -> bool:
    try:
        return Path(staged.source).stat().st_size >= _ZONE_TREE_MIN_BYTES
    except (OSError, TypeError):
        return False


def _segments(con, tz: str, to_utc: bool) -> list[tuple[int | None, int | None]]:
    """[(from microsecond, offset in microseconds or None)], sorted; None = ask timezone()."""
    key = (tz, to_utc)
    if key not in _zone_segments:
        make = "make_timestamp" if to_utc else "make_timestamptz"
        h, d = _HOUR_US, 24 * _HOUR_US

        def offset(us: str) -> str:  # the offset timezone() applies at microsecond ``us``
            return f"epoch_us(timezone($1, {make}({us}))) - ({us})"

        # A day whose two ends have the same offset is one piece (no zone changes its offset
        # twice in a day); only the few days with a transition are looked at hour by hour,
        # where an hour holding the transition itself is left to timezone(). A fortieth of
        # the timezone() calls of going hour by hour over fifty years.
        rows = con.execute(
            f"WITH days AS (SELECT day, {offset(f'day * {d}')} AS a, "
            f"{offset(f'day * {d} + {d - 1}')} AS b FROM range(($2::DATE - DATE '1970-01-01'), "
            f"($3::DATE - DATE '1970-01-01')) t(day)), "
            f"pieces AS (SELECT day * {d} AS start, a AS off FROM days WHERE a = b "
            f"UNION ALL SELECT hr * {h}, CASE WHEN ha = hb THEN ha END FROM (SELECT hr, "
            f"{offset(f'hr * {h}')} AS ha, {offset(f'hr * {h} + {h - 1}')} AS hb "
            f"FROM days, range(day * 24, day * 24 + 24) t(hr) WHERE a IS DISTINCT FROM b)) "
            f"SELECT start, off FROM (SELECT start, off, lag(off) OVER (ORDER BY start) AS "
            f"prev, lag(start) OVER (ORDER BY start) AS ps FROM pieces) "
            f"WHERE ps IS NULL OR off IS DISTINCT FROM prev ORDER BY start",
            [tz, *_ZONE_RANGE]).fetchall()
        end = con.execute("SELECT ($1::DATE - DATE '1970-01-01') * 24",
                          [_ZONE_RANGE[1]]).fetchone()[0] * h
        _zone_segments[key] = [(None, None)] + rows + [(end, None)]
    return _zone_segments[key]


def _offset_tree(x: str, segs) -> str:
    if len(segs) == 1:
        return "NULL" if segs[0][1] is None else str(int(segs[0][1]))
    mid = len(segs) // 2
    return (f"CASE WHEN {x} < {int(segs[mid][0])} THEN {_offset_tree(x, segs[:mid])} "
            f"ELSE {_offset_tree(x, segs[mid:])} END")


def zone_sql(con, tz: str, fast: bool, to_utc: bool, x: str, zone: str) -> str:
    """``x`` converted: a local TIMESTAMP to its TIMESTAMPTZ (to_utc) or an instant to local.

    ``zone`` is the SQL giving the zone name to timezone() (a parameter or a column).
    """
    icu = f"timezone({zone}, {x})"
    if not fast:
        return icu
    us = f"epoch_us({x})"
    make = "make_timestamptz" if to_utc else "make_timestamp"
    return f"coalesce({make}({us} + {_offset_tree(us, _segments(con, tz, to_utc))}), {icu})"
