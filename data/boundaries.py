"""Area boundaries from a jurisdiction's GeoJSON, for maps drawn without any tile server.

``import_boundaries`` reads a GeoJSON FeatureCollection of Polygon/MultiPolygon features in
longitude/latitude, finds the property that names the areas (the one whose values match the
jurisdiction's ``area`` values in calls and responses, unless one is named), and replaces the
jurisdiction's rows of ``area_boundaries`` in one transaction, with a row in the imports ledger,
rejects for features that cannot be used, and undo (the replaced rows are kept).

The file is parsed by Python's json module, never by DuckDB (DOMAIN.md §7: DuckDB treats its
inputs as trusted), and every coordinate is checked before anything is written.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError, ImportRefused, MappingError, ReadError
from .importer import MAX_REJECTED_SHARE, ImportResult, one_transaction, write_ledger
from .readers import sha256_of

# Limits, with their reasons: a city's tracts or beats are a few MB and a few hundred
# features; beyond these the file is not an area layer, or the map would not draw in a browser.
MAX_BYTES = 50 * 1024 * 1024
MAX_FEATURES = 5_000
MAX_POSITIONS = 1_000_000  # vertices over all features; simplify larger files (e.g. mapshaper)
_GEOMETRIES = ("Polygon", "MultiPolygon")
# CRS names that mean longitude/latitude on WGS 84 (the 2008 GeoJSON spec allowed a "crs").
_LON_LAT_CRS = re.compile(r"(CRS84|EPSG:+4326|EPSG::4326|4326)$", re.IGNORECASE)


@dataclass
class Feature:
    number: int          # 1-based position in the file (what rejects call the row)
    properties: dict
    geometry: dict


@dataclass
class Checked:
    """What ``check_collection`` found: usable features and the others with their reasons."""

    features: list[Feature] = field(default_factory=list)
    rejects: list[tuple[int, str, str, dict]] = field(default_factory=list)  # number, column, why
    total: int = 0


# --------------------------------------------------------------------------------------------
# Reading and checking (pure: no database)
# --------------------------------------------------------------------------------------------

def read_geojson(path, file_name: str | None = None) -> dict:
    """The parsed document; ReadError for a file too large, not JSON, or not an object."""
    path = Path(path)
    file_name = file_name or path.name
    if not path.exists():
        raise ReadError(f"{file_name}: no such file.")
    size = path.stat().st_size
    if size == 0:
        raise ReadError(f"{file_name} is empty (0 bytes): export the boundaries again.")
    if size > MAX_BYTES:
        raise ReadError(f"{file_name} is {size / 2**20:,.0f} MB; boundaries may be at most "
                        f"{MAX_BYTES // 2**20} MB. Simplify the shapes (e.g. mapshaper "
                        "-simplify 10%) and upload again.")
    try:
        text = path.read_bytes().decode("utf-8-sig")
        return json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ReadError(f"{file_name} is not UTF-8 text; GeoJSON must be UTF-8.") from None
    except (ValueError, RecursionError) as e:
        where = f" (line {e.lineno}, column {e.colno})" if hasattr(e, "lineno") else ""
        raise ReadError(f"{file_name} is not valid JSON{where}; export it again as GeoJSON."
                        ) from None


def _no_constant(name):
    raise ValueError(f"{name} is not a number in JSON")


def check_collection(doc, file_name: str = "the file") -> Checked:
    """Usable Polygon/MultiPolygon features; others become rejects. ReadError for the file."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise ReadError(f"{file_name} is not a GeoJSON FeatureCollection (its type is "
                        f"{kind!r}); export the area layer as GeoJSON (one feature per area).")
    _check_crs(doc.get("crs"), file_name)
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise ReadError(f"{file_name} has no features; export the area layer with its shapes.")
    if len(features) > MAX_FEATURES:
        raise ReadError(f"{file_name} has {len(features):,} features; at most {MAX_FEATURES:,} "
                        "areas are supported. Is this a layer of parcels or points?")
    out = Checked(total=len(features))
    positions = 0
    for number, f in enumerate(features, start=1):
        props = f.get("properties") if isinstance(f, dict) else None
        props = props if isinstance(props, dict) else {}
        why = _feature_problem(f)
        if why:
            out.rejects.append((number, "geometry", why, _plain(props)))
            continue
        positions += _count_positions(f["geometry"])
        out.features.append(Feature(number, props, f["geometry"]))
    if positions > MAX_POSITIONS:
        raise ReadError(f"{file_name} has {positions:,} vertices; at most {MAX_POSITIONS:,} draw "
                        "in a browser. Simplify the shapes (e.g. mapshaper -simplify 10%).")
    _refuse_projected(out, features, file_name)
    return out


def _check_crs(crs, file_name):
    if not isinstance(crs, dict):
        return
    name = str((crs.get("properties") or {}).get("name", ""))
    if name and not _LON_LAT_CRS.search(name):
        raise ReadError(f"{file_name} declares the coordinate system {name!r}, not longitude/"
                        "latitude: export it as GeoJSON in WGS 84 (EPSG:4326).")


def _feature_problem(f) -> str | None:
    if not isinstance(f, dict) or f.get("type") != "Feature":
        return "not a GeoJSON Feature"
    g = f.get("geometry")
    if not isinstance(g, dict) or g.get("type") not in _GEOMETRIES:
        kind = g.get("type") if isinstance(g, dict) else None
        return f"geometry is {kind or 'missing'}, not a Polygon or MultiPolygon"
    coords = g.get("coordinates")
    polygons = [coords] if g["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        return "geometry has no coordinates"
    for poly in polygons:
        why = _polygon_problem(poly)
        if why:
            return why
    return None


def _polygon_problem(poly) -> str | None:
    if not isinstance(poly, list) or not poly:
        return "a polygon has no rings"
    for ring in poly:
        if not isinstance(ring, list) or len(ring) < 4:
            return "a ring has fewer than 4 positions"
        for pos in ring:
            why = _position_problem(pos)
            if why:
                return why
        if ring[0][:2] != ring[-1][:2]:
            return "a ring is not closed (its first and last positions differ)"
    return None


def _position_problem(pos) -> str | None:
    if not isinstance(pos, list) or len(pos) < 2 or not all(
            type(x) in (int, float) and math.isfinite(x) for x in pos[:2]):
        return f"position {_short(pos)} is not [longitude, latitude]"
    lon, lat = pos[0], pos[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return f"position {_short(pos)} is outside longitude -180..180 / latitude -90..90"
    return None


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count_positions(g) -> int:
    polygons = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return sum(len(ring) for poly in polygons for ring in poly)


def _refuse_projected(checked, features, file_name):
    """A file in feet or metres fails on every feature: say so once, with the fix."""
    if checked.features or not checked.rejects:
        return
    if not all("outside longitude" in why for _, _, why, _ in checked.rejects):
        return
    first = _first_position(features[0])
    swapped = first and abs(first[0]) <= 90 < abs(first[1]) <= 180
    hint = ("they look like latitude, longitude; GeoJSON puts longitude first" if swapped else
            "the file is in a projected coordinate system (feet or metres)")
    raise ReadError(f"{file_name}: coordinates such as {_short(first)} are not longitude/"
                    f"latitude: {hint}. Export it as GeoJSON in WGS 84 (EPSG:4326).")


def _first_position(f):
    g = f.get("geometry") if isinstance(f, dict) else None
    c = g.get("coordinates") if isinstance(g, dict) else None
    while isinstance(c, list) and c and isinstance(c[0], list):
        c = c[0]
    return c if isinstance(c, list) else None


def _plain(props: dict) -> dict:
    """Properties as reject values: scalars only, as text."""
    return {str(k): (None if v is None else str(v)) for k, v in props.items()
            if not isinstance(v, (dict, list))}


# --------------------------------------------------------------------------------------------
# Which property names the areas
# --------------------------------------------------------------------------------------------

def normalise_area(value) -> str:
    """'  North  Beat ' -> 'north beat'; '03' and 3.0 -> '3' (numbers written differently)."""
    text = re.sub(r"\s+", " ", str(value).strip()).lower()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return str(int(float(text)))
    return text


def property_values(features: list[Feature]) -> dict[str, list[str]]:
    """Each scalar property and its values, in file order (the first feature's keys first)."""
    out: dict[str, list[str]] = {}
    for f in features:
        for k, v in f.properties.items():
            if v is None or isinstance(v, (dict, list, bool)):
                continue
            text = str(v).strip()
            if text:
                out.setdefault(str(k), []).append(text)
    return out


# Row numbers that GIS programs add to every layer: they match numbered areas by chance.
_TECHNICAL = re.compile(r"^(object_?id|fid|gid|oid|id|shape_.*|globalid)$", re.IGNORECASE)


def choose_area_property(features: list[Feature], areas: list[str], given: str | None = None,
                         file_name: str = "the file") -> tuple[str, int, list[str]]:
    """(property, how many of the data's areas its values match, others that match as many).

    The property whose values match the most areas of the calls and responses; ties go to a
    property that is not a GIS row number (OBJECTID, FID...), then to one with unique values,
    then to the first in the file.
    """
    values = property_values(features)
    wanted = {normalise_area(a) for a in areas}
    if given is not None:
        if given not in values:
            raise MappingError(f"{file_name}: no feature has the property {given!r}; its "
                               f"properties are {_describe(values)}.")
        return given, len(wanted & {normalise_area(v) for v in values[given]}), []
    scores = [(len(wanted & {normalise_area(v) for v in vs}), not _TECHNICAL.match(k),
               len(set(vs)) == len(vs), -i, k) for i, (k, vs) in enumerate(values.items())]
    best = max(scores, default=None)
    if best is None or best[0] == 0:
        have = (f"none of its properties has values matching the areas in the calls and "
                f"responses (e.g. {', '.join(repr(a) for a in sorted(areas)[:4])})" if areas else
                "the jurisdiction's calls and responses have no area values to match yet")
        raise MappingError(f"{file_name}: {have}. Its properties are {_describe(values)}; name "
                           "the one that holds the area names with --area-property.")
    return best[-1], best[0], [s[-1] for s in scores if s[0] == best[0] and s is not best]


def _describe(values: dict[str, list[str]]) -> str:
    if not values:
        return "none"
    return "; ".join(f"{k} (e.g. {', '.join(repr(v) for v in vs[:3])})"
                     for k, vs in list(values.items())[:8])


def match_areas(raw_values: list[str], areas: list[str]) -> dict[str, str]:
    """Each file value -> the area as the data writes it (the value itself when none matches)."""
    by_norm: dict[str, str] = {}
    for a in sorted(areas):
        by_norm.setdefault(normalise_area(a), a)
    return {v: (v if v in areas else by_norm.get(normalise_area(v), v)) for v in raw_values}


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------

def import_boundaries(con, path, *, jurisdiction: str, area_property: str | None = None,
                      file_name: str | None = None, dry_run: bool = False) -> ImportResult:
    """Replace the jurisdiction's area boundaries with those of a GeoJSON file, in one transaction.

    Raises a DataError subclass (nothing written) or returns the summary (kind 'boundaries').
    Example: import_boundaries(con, "beats.geojson", jurisdiction="Springfield")
    """
    jurisdiction = (jurisdiction or "").strip()
    file_name = file_name or Path(path).name
    _known_jurisdiction(con, jurisdiction)
    checked = check_collection(read_geojson(path, file_name), file_name)
    sha = sha256_of(path)
    prior = con.execute("SELECT import_id FROM imports WHERE file_sha256 = ? AND jurisdiction = ? "
                        "AND kind = 'boundaries' AND status = 'committed'",
                        [sha, jurisdiction]).fetchone()
    if prior:
        return ImportResult("boundaries", jurisdiction, file_name, sha, "already_imported",
                            previous_import=prior[0])
    areas = data_areas(con, jurisdiction)
    _refuse_mostly_unusable(checked.rejects, checked.total, file_name)
    prop, matched, also = choose_area_property(checked.features, areas, area_property, file_name)
    rows, result = _rows(checked, prop, areas, jurisdiction, file_name, sha)
    result.notes.insert(0, f"area property {prop!r} ({'given' if area_property else 'found'}: "
                           f"its values match {matched:,} of the {len(areas):,} areas in the "
                           "calls and responses)")
    if also:
        result.notes.insert(1, f"{', '.join(repr(a) for a in also)} match as many; name the "
                               "right one with --area-property if it is not "
                               f"{prop!r}")
    result.notes += coverage_notes(set(rows), set(areas))
    with one_transaction(con, dry_run):
        _write(con, result, rows, checked.rejects)
    result.status = "dry_run" if dry_run else "committed"
    return result


def _known_jurisdiction(con, jurisdiction):
    if not jurisdiction:
        raise DataError("Say which jurisdiction the boundaries belong to (--jurisdiction NAME).")
    if not con.execute("SELECT count(*) FROM jurisdictions WHERE jurisdiction = ?",
                       [jurisdiction]).fetchone()[0]:
        raise DataError(f"There is no jurisdiction '{jurisdiction}' yet: import its calls or "
                        "responses first, so that the boundaries can be matched to their areas.")


def data_areas(con, jurisdiction: str) -> list[str]:
    """The distinct ``area`` values of the jurisdiction's calls and responses."""
    return [a for (a,) in con.execute(
        "SELECT area FROM calls WHERE jurisdiction = ? AND area IS NOT NULL UNION "
        "SELECT area FROM responses WHERE jurisdiction = ? AND area IS NOT NULL ORDER BY 1",
        [jurisdiction, jurisdiction]).fetchall()]


def _rows(checked, prop, areas, jurisdiction, file_name, sha):
    """{area: geometry JSON} and the summary; features with no area value become rejects."""
    result = ImportResult("boundaries", jurisdiction, file_name, sha, "committed",
                          rows_read=checked.total)
    names = {f.number: str(f.properties.get(prop, "") or "").strip() for f in checked.features}
    to_area = match_areas([n for n in names.values() if n], areas)
    parts: dict[str, list[dict]] = {}
    for f in checked.features:
        if not names[f.number]:
            checked.rejects.append((f.number, prop, f"no value for the area property {prop!r}",
                                    _plain(f.properties)))
            continue
        parts.setdefault(to_area[names[f.number]], []).append(f.geometry)
    checked.rejects.sort()
    _count_rejects(result, checked.rejects, file_name)
    merged = {a: len(gs) for a, gs in parts.items() if len(gs) > 1}
    if merged:
        result.rows_merged = sum(merged.values()) - len(merged)
        result.notes.append(f"{_count(len(merged), 'area')} had several features, merged into "
                            f"one MultiPolygon each ({_names(merged)})")
    return {a: _geometry_text(gs) for a, gs in parts.items()}, result


def _count_rejects(result, rejects, file_name):
    result.rows_rejected = len(rejects)
    result.reject_reasons = [{"column": c, "reason": why, "rows": n} for (c, why), n in
                             Counter((c, why) for _, c, why, _ in rejects).most_common()]
    result.rejects_preview = [{"file_row": n, "column": c, "reason": why}
                              for n, c, why, _ in rejects[:20]]
    _refuse_mostly_unusable(rejects, result.rows_read, file_name)


def _refuse_mostly_unusable(rejects, total, file_name):
    if len(rejects) > MAX_REJECTED_SHARE * total:
        detail = "; ".join(f"feature {n}: {why}" for n, _, why, _ in rejects[:3])
        raise ImportRefused(f"{file_name}: {len(rejects):,} of {total:,} features cannot be "
                            f"used ({detail}). Nothing was imported.")


def _geometry_text(geometries: list[dict]) -> str:
    """One geometry as compact GeoJSON; several become one MultiPolygon."""
    if len(geometries) == 1:
        g = geometries[0]
        return json.dumps({"type": g["type"], "coordinates": g["coordinates"]},
                          separators=(",", ":"))
    polygons = []
    for g in geometries:
        polygons += [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return json.dumps({"type": "MultiPolygon", "coordinates": polygons}, separators=(",", ":"))


def coverage_notes(boundary_areas: set[str], areas: set[str]) -> list[str]:
    """Areas in the data with no boundary, and boundaries with no data."""
    notes = []
    missing = areas - boundary_areas
    extra = boundary_areas - areas
    if missing:
        notes.append(f"{_count(len(missing), 'area')} in the calls and responses "
                     f"{'has' if len(missing) == 1 else 'have'} no boundary ({_names(missing)});"
                     " the map leaves them out")
    if extra:
        notes.append(f"{_count(len(extra), 'boundary', 'boundaries')} "
                     f"{'has' if len(extra) == 1 else 'have'} no calls or responses "
                     f"({_names(extra)})")
    return notes


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _names(values) -> str:
    shown = sorted(values)[:10]
    return ", ".join(repr(v) for v in shown) + (" ..." if len(values) > 10 else "")


def _write(con, result, rows: dict[str, str], rejects) -> None:
    """Replace the jurisdiction's boundaries; the rows replaced or removed are kept for undo."""
    j = result.jurisdiction
    result.import_id = con.execute("SELECT nextval('import_seq')").fetchone()[0]
    con.execute("CREATE OR REPLACE TEMP TABLE incoming_boundaries (area VARCHAR, geometry "
                "VARCHAR)")
    if rows:
        con.executemany("INSERT INTO incoming_boundaries VALUES (?, ?)", list(rows.items()))
    unchanged, updated, removed = con.execute(
        "SELECT count(*) FILTER (WHERE n.geometry = b.geometry), count(*) FILTER (WHERE "
        "n.geometry <> b.geometry), count(*) FILTER (WHERE n.area IS NULL) FROM area_boundaries "
        "b LEFT JOIN incoming_boundaries n USING (area) WHERE b.jurisdiction = ?", [j]).fetchone()
    keep = ("SELECT n.area FROM incoming_boundaries n JOIN area_boundaries b "
            "USING (area, geometry) WHERE b.jurisdiction = ?")  # unchanged: kept as they are
    con.execute(f"INSERT INTO area_boundaries_replaced SELECT *, ? FROM area_boundaries WHERE "
                f"jurisdiction = ? AND area NOT IN ({keep})", [result.import_id, j, j])
    con.execute(f"DELETE FROM area_boundaries WHERE jurisdiction = ? AND area NOT IN ({keep})",
                [j, j])
    con.execute("INSERT INTO area_boundaries SELECT ?, area, geometry, ? FROM incoming_boundaries "
                "WHERE area NOT IN (SELECT area FROM area_boundaries WHERE jurisdiction = ?)",
                [j, result.import_id, j])
    con.execute("DROP TABLE incoming_boundaries")
    if rejects:
        con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
                        [[result.import_id, n, c, why, json.dumps(props)]
                         for n, c, why, props in rejects])
    result.records = len(rows)
    result.rows_unchanged, result.rows_updated = unchanged, updated
    result.rows_inserted = len(rows) - unchanged - updated
    if removed:
        result.notes.append(f"{_count(removed, 'earlier boundary', 'earlier boundaries')} not "
                            "in this file removed (undo brings them back)")
    write_ledger(con, result, False)


# --------------------------------------------------------------------------------------------
# Reading back, for maps
# --------------------------------------------------------------------------------------------

def feature_collection(con, jurisdiction: str) -> dict | None:
    """The jurisdiction's boundaries as a FeatureCollection (feature ``id`` = area), or None.

    This is what ``charts.maps.area_map`` takes; a page draws a bar chart when it is None.
    """
    rows = con.execute("SELECT area, geometry FROM area_boundaries WHERE jurisdiction = ? "
                       "ORDER BY area", [jurisdiction]).fetchall()
    if not rows:
        return None
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": area, "properties": {"area": area},
         "geometry": json.loads(geometry)} for area, geometry in rows]}
