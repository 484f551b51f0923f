"""Raw data.census.gov ACS table exports, read as population rows.

A table downloaded from data.census.gov (``ACSDT5Y2023.B03002-Data.csv``) is wide and has two
header rows: variable codes (``GEO_ID,NAME,B03002_001E,B03002_001M,...``) then their labels
(``Geography,Geographic Area Name,Estimate!!Total:,Margin of Error!!Total:,...``), one row per
geography, estimate (E) and margin-of-error (M) columns side by side, and symbols where a
number is not published (``*****`` = the estimate is controlled, so there is no sampling error).

The functions here are pure: ``detect`` recognises the layout from the two header rows,
``source_from_file_name`` names the release, and ``reshape`` turns the wide rows into the long
rows (one per geography and group) that the population import reads like any long-format file.
The importer stages the file and writes the result in its usual transaction
(data/importer/, "ACS table exports").

Groups are found by their labels, not their codes, so that B03002 (any year, with or without
the trailing colons) and DP05's "HISPANIC OR LATINO AND RACE" section read alike: the total,
Hispanic or Latino (of any race), and each race alone *among the not Hispanic or Latino*. Those
groups do not overlap and add up to the total; the races including Hispanic residents (B02001,
DP05's "RACE" section) are never read, because they overlap the Hispanic group.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from .errors import ImportRefused, MappingError
from .profiles import Profile

# The long rows handed to the population import; a profile may name these headers.
LONG_HEADERS = ("GEO_ID", "NAME", "dimension", "group", "estimate", "margin of error",
                "variable", "label", "source")
ROW_COLUMN = "acs_row"  # the file row of each long row (several share one file row)
FIRST_DATA_ROW = 3  # row 1 holds the codes, row 2 the labels

_DEFAULT_COLUMNS = {"geography": ["NAME"], "dimension": ["dimension"], "group": ["group"],
                    "population": ["estimate"], "moe": ["margin of error"],
                    "source": ["source"]}
# What the first two header cells say in every data.census.gov export.
_ID_LABELS = {"geography": "GEO_ID", "geographic area name": "NAME"}

_HISPANIC = {"hispanic or latino", "hispanic or latino (of any race)"}
_NOT_HISPANIC = "not hispanic or latino"
_RACES = {  # race alone among the not Hispanic or Latino -> standard code (DOMAIN.md §3)
    "white alone": "white",
    "black or african american alone": "black",
    "american indian and alaska native alone": "aian",
    "asian alone": "asian",
    "native hawaiian and other pacific islander alone": "nhpi",
    "some other race alone": "other",
    "two or more races": "multiracial",
}
_ESTIMATE_CODE = re.compile(r"^(?P<table>[A-Z]+[0-9]+[A-Z]*)_(?P<rest>[A-Z0-9_]+?)E$")

# Symbols data.census.gov writes instead of a number (Census Bureau, "Table & Geography
# Symbols"); the API writes the same meanings as negative annotation codes.
CONTROLLED = "*****"  # margin of error: the estimate is controlled, a statistical test is not
UNAVAILABLE_SYMBOLS = {"-", "N", "(X)", "null", "**", "***", "*"}
ANNOTATIONS = {"-111111111", "-222222222", "-333333333", "-555555555", "-666666666",
               "-888888888", "-999999999"}
_CONTROLLED_ANNOTATION = "-555555555"
_NUMBER = re.compile(r"^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)$")  # ASCII digits, for Arrow's RE2 too


@dataclass(frozen=True)
class Variable:
    """One estimate column read as a group, and its margin-of-error column."""

    code: str          # B03002_003E
    label: str         # Estimate!!Total:!!Not Hispanic or Latino:!!White alone
    group: str         # white (or total)
    position: int      # column of the estimate
    moe_position: int | None  # column of the margin of error, if the export has it

    @property
    def dimension(self) -> str:
        # The demo cohort and the schema docs keep totals under dimension "total".
        return "total" if self.group == "total" else "race_ethnicity"


@dataclass(frozen=True)
class Layout:
    """What ``detect`` found: the table, the id columns and the variables to read."""

    table: str
    geo_id: int
    name: int | None
    variables: tuple[Variable, ...]
    headers: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass
class Reject:
    file_row: int
    column: str
    reason: str
    values: dict = field(default_factory=dict)  # the whole source row: code -> text


@dataclass
class Reshaped:
    """The long rows (Arrow, text columns c0..c8 plus acs_row) and what reshaping found."""

    layout: Layout
    rows: pa.Table
    source: str
    geographies: int                      # data rows read (the label row not counted)
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({r.file_row for r in self.rejects})


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------

def detect(headers: list[str], labels: list[str | None], file_name: str = "the file"
           ) -> Layout | None:
    """The layout of a data.census.gov table export, or None for any other file.

    Recognised by a ``GEO_ID`` column and ``!!`` labels in the second row. Raises MappingError
    for an ACS table that has no race/ethnicity groups (e.g. B01003, total population only).
    """
    codes = [(h or "").strip() for h in headers]
    texts = [(v or "").strip() for v in labels] + [""] * (len(codes) - len(labels))
    if "GEO_ID" not in codes or not any("!!" in t for t in texts):
        return None
    estimates = [(i, c, texts[i]) for i, c in enumerate(codes) if _ESTIMATE_CODE.match(c)
                 and _path(texts[i])[:1] == ["estimate"]]
    if not estimates:
        return None
    table = _ESTIMATE_CODE.match(estimates[0][1]).group("table")
    variables = _race_variables(estimates, codes)
    if not variables:
        raise MappingError(
            f"{file_name} is an ACS table export (table {table}) but has no estimates for "
            "'Hispanic or Latino' and the races among the 'Not Hispanic or Latino', so it "
            "cannot give race/ethnicity groups that add up to the total. Download table B03002 "
            "(Hispanic or Latino origin by race) or DP05 from data.census.gov.")
    name = codes.index("NAME") if "NAME" in codes else None
    return Layout(table, codes.index("GEO_ID"), name, tuple(variables), tuple(codes),
                  tuple(texts))


def _path(label: str) -> list[str]:
    """'Estimate!!Total:!!Hispanic or Latino:' -> ['estimate', 'total', 'hispanic or latino']."""
    return [re.sub(r"\s+", " ", p.strip().rstrip(":")).lower() for p in label.split("!!")]


def _race_variables(estimates, codes) -> list[Variable]:
    """The total, Hispanic or Latino, and each race among the not Hispanic or Latino.

    They hang under one parent label: 'Total' in B03002, 'HISPANIC OR LATINO AND RACE!!Total
    population' in DP05. The shallowest Hispanic estimate gives that parent, so the Hispanic
    rows by race deeper in B03002 (013E-021E) are never taken for a group.
    """
    paths = {i: (c, label, _path(label)[1:]) for i, c, label in estimates}
    hispanic = [(len(p), i) for i, (_, _, p) in paths.items()
                if p and p[-1] in _HISPANIC and _NOT_HISPANIC not in p]
    if not hispanic:
        return []
    parent = paths[min(hispanic)[1]][2][:-1]
    wanted = {tuple(parent): "total", tuple(parent + [paths[min(hispanic)[1]][2][-1]]):
              "hispanic_latino"}
    wanted.update({tuple(parent + [_NOT_HISPANIC, race]): code for race, code in _RACES.items()})
    out, seen = [], set()
    for i, (code, label, p) in paths.items():
        group = wanted.get(tuple(p))
        if group is None or group in seen:
            continue
        seen.add(group)
        moe = code[:-1] + "M"
        out.append(Variable(code, label, group, i, codes.index(moe) if moe in codes else None))
    return out


# --------------------------------------------------------------------------------------------
# The release, from the file name
# --------------------------------------------------------------------------------------------

_FILE_NAME = re.compile(r"^ACS(?:DT|DP|ST|CP|SPP|SE|SDT)?(?P<span>1|3|5)Y(?P<year>\d{4})\."
                        r"(?P<table>[A-Z0-9]+)(?:[-_][^/\\]*)?\.csv$", re.IGNORECASE)


def source_from_file_name(file_name: str | None, table: str | None = None) -> str | None:
    """'ACSDT5Y2023.B03002-Data.csv' -> 'ACS 2019-2023 5-year, table B03002' (else None).

    The table named by the columns wins over the file name's, in case the file was renamed.
    """
    m = _FILE_NAME.match((file_name or "").strip())
    if not m:
        return None
    span, year = int(m.group("span")), int(m.group("year"))
    years = str(year) if span == 1 else f"{year - span + 1}-{year}"
    return f"ACS {years} {span}-year, table {table or m.group('table').upper()}"


# --------------------------------------------------------------------------------------------
# Reshaping
# --------------------------------------------------------------------------------------------

@dataclass
class _Tally:
    """Symbols met while reading, for the import's notes."""

    controlled: int = 0
    moe_missing: Counter = field(default_factory=Counter)
    estimate_missing: Counter = field(default_factory=Counter)


def reshape(layout: Layout, data: pa.Table, *, file_name: str = "the file",
            source: str | None = None) -> Reshaped:
    """Long rows, one per geography and group, from the data rows (file rows 3, 4, ...).

    ``data`` holds the text columns c0..cN in file order (the label row already removed). A
    value that cannot be read rejects its whole row, so that no geography is imported with
    some of its groups missing; a symbol for "not available" is not an error (see the notes).
    Column-wise (Arrow compute): a national tract file has 85,000 rows and 9 groups each.
    """
    source, source_note = _source(layout, file_name, source)
    geo, name = _column(data, layout.geo_id), _column(data, layout.name)
    _refuse_duplicates({"GEO_ID": geo, "NAME": name if layout.name is not None else None},
                       file_name)
    cells = [_Cells.of(data, v) for v in layout.variables]
    bad = _blank(geo)
    for c in cells:
        bad = pc.or_(bad, pc.or_(c.estimate_bad, c.moe_bad))
    keep = pc.invert(bad)
    chunks = [_chunk(v, c, geo, name, keep, source, order)
              for order, (v, c) in enumerate(zip(layout.variables, cells))]
    rows = pa.concat_tables(chunks).sort_by([(ROW_COLUMN, "ascending"), ("_order", "ascending")])
    rows = rows.drop_columns(["_order"])
    shaped = Reshaped(layout, rows, source, data.num_rows, _rejects(layout, data, bad))
    shaped.notes = _notes(layout, shaped, _tally(cells, keep), source_note)
    return shaped


def _column(data: pa.Table, position: int | None) -> pa.Array:
    """A text column, trimmed; all null when the export lacks it."""
    if position is None or position >= data.num_columns:
        return pa.nulls(data.num_rows, pa.string())
    return pc.utf8_trim_whitespace(data.column(position).combine_chunks())


def _blank(col: pa.Array) -> pa.Array:
    return pc.fill_null(pc.equal(col, ""), True)


def _among(col: pa.Array, symbols) -> pa.Array:
    return pc.fill_null(pc.is_in(col, value_set=pa.array(sorted(symbols), pa.string())), False)


def _number(col: pa.Array) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(col, _NUMBER.pattern), False)


@dataclass
class _Cells:
    """One variable's estimate and margin of error, read column-wise."""

    estimate: pa.Array        # whole numbers as text, commas removed; null otherwise
    estimate_missing: pa.Array
    estimate_bad: pa.Array
    estimate_text: pa.Array   # as written, for the notes
    moe: pa.Array
    moe_controlled: pa.Array
    moe_missing: pa.Array
    moe_bad: pa.Array
    moe_text: pa.Array

    @classmethod
    def of(cls, data: pa.Table, v: Variable) -> "_Cells":
        est = _column(data, v.position)
        est_missing = pc.or_(_blank(est), _among(est, UNAVAILABLE_SYMBOLS | ANNOTATIONS |
                                                  {CONTROLLED}))
        est_number = _number(est)
        moe = pc.replace_substring_regex(_column(data, v.moe_position), r"^\+/-\s*", "")
        controlled = _among(moe, {CONTROLLED, _CONTROLLED_ANNOTATION})
        missing = pc.and_(pc.or_(_blank(moe), _among(moe, UNAVAILABLE_SYMBOLS | ANNOTATIONS)),
                          pc.invert(controlled))
        moe_number = _number(moe)
        return cls(_clean(est, est_number), est_missing,
                   pc.invert(pc.or_(est_missing, est_number)), est,
                   _clean(moe, moe_number), controlled, missing,
                   pc.invert(pc.or_(pc.or_(controlled, missing), moe_number)), moe)


def _clean(col, is_number):
    return pc.if_else(is_number, pc.replace_substring(col, ",", ""), pa.scalar(None, pa.string()))


def _chunk(v, c, geo, name, keep, source, order) -> pa.Table:
    """The long rows of one variable: the kept rows where its estimate is published."""
    idx = pc.indices_nonzero(pc.and_(keep, pc.invert(c.estimate_missing)))
    n = len(idx)
    def const(value):
        return pa.repeat(pa.scalar(value, pa.string()), n)
    columns = [geo.take(idx), name.take(idx), const(v.dimension), const(v.group),
               c.estimate.take(idx), c.moe.take(idx), const(v.code), const(v.label),
               const(source)]
    table = {f"c{i}": col for i, col in enumerate(columns)}
    table[ROW_COLUMN] = pc.add(idx.cast(pa.int64()), FIRST_DATA_ROW)
    table["_order"] = pa.repeat(pa.scalar(order, pa.int16()), n)
    return pa.table(table)


def _rejects(layout, data, bad) -> list[Reject]:
    """Each unreadable cell of the rejected rows, with its reason and the whole row."""
    out = []
    headers = _unique(layout.headers)
    for r in pc.indices_nonzero(bad).to_pylist():
        whole = data.slice(r, 1).to_pylist()[0]
        def cell(i, whole=whole):
            return None if i is None else whole.get(f"c{i}")
        _, problems = _read_row(layout, cell, _Tally())
        values = {h: whole.get(f"c{i}") for i, h in enumerate(headers)}
        out += [Reject(r + FIRST_DATA_ROW, col, why, values) for col, why in problems]
    return out


def _tally(cells, keep) -> "_Tally":
    """Symbols met in the rows kept (a rejected row's symbols are not counted)."""
    tally = _Tally()
    for c in cells:
        tally.controlled += pc.sum(pc.and_(c.moe_controlled, keep)).as_py() or 0
        tally.moe_missing.update(_symbol_counts(c.moe_text, pc.and_(c.moe_missing, keep)))
        tally.estimate_missing.update(_symbol_counts(c.estimate_text,
                                                     pc.and_(c.estimate_missing, keep)))
    return tally


def _symbol_counts(text, mask) -> Counter:
    shown = pc.fill_null(pc.filter(text, mask), "")
    return Counter({(v["values"] or "(blank)"): v["counts"]
                    for v in pc.value_counts(shown).to_pylist()})


def _source(layout, file_name, given):
    if given:
        return given, f"source '{given}' (from the profile)"
    named = source_from_file_name(file_name, layout.table)
    if named:
        return named, f"source '{named}' (from the file name)"
    fallback = f"ACS, table {layout.table}"
    return fallback, (f"source '{fallback}': the file name does not follow data.census.gov's "
                      "pattern (e.g. ACSDT5Y2023.B03002-Data.csv), so the year is unknown; set "
                      "source under [options] in a profile")


def _refuse_duplicates(columns: dict, file_name):
    for what, col in columns.items():
        if col is None:
            continue
        seen: dict[str, int] = {}
        for r, value in enumerate(col.to_pylist()):
            key = value or ""
            if key and key in seen:
                raise ImportRefused(
                    f"{file_name}: the geography {key!r} ({what}) appears on rows "
                    f"{seen[key] + FIRST_DATA_ROW} and {r + FIRST_DATA_ROW}; a data.census.gov "
                    "export has one row per geography. Download the table again. Nothing was "
                    "imported.")
            seen[key] = r


def _unique(headers) -> list[str]:
    """Header names as JSON keys: blank ones numbered, repeated ones suffixed."""
    seen, out = Counter(), []
    for i, h in enumerate(headers):
        h = h or f"column {i + 1}"
        seen[h] += 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def _read_row(layout, cell, tally):
    """([(dimension, group, estimate, moe, variable, label)], [(column, problem)])."""
    problems = []
    if not (cell(layout.geo_id) or "").strip():
        problems.append(("GEO_ID", "blank geography identifier"))
    rows = []
    for v in layout.variables:
        estimate, why = _estimate(cell(v.position))
        if why:
            problems.append((v.code, why))
            continue
        moe_code = v.code[:-1] + "M"
        moe, moe_why = _moe(cell(v.moe_position), tally) if v.moe_position is not None \
            else (None, None)
        if moe_why:
            problems.append((moe_code, moe_why))
            continue
        if estimate is None:
            tally.estimate_missing[(cell(v.position) or "").strip() or "(blank)"] += 1
            continue
        rows.append((v.dimension, v.group, estimate, moe, v.code, v.label))
    return rows, problems


def _estimate(raw):
    """(text of a whole number or None when not published, problem or None)."""
    text = (raw or "").strip()
    if not text or text in UNAVAILABLE_SYMBOLS or text == CONTROLLED or text in ANNOTATIONS:
        return None, None
    if _NUMBER.match(text):
        return text.replace(",", ""), None
    return None, f"cannot read '{text}' as an estimate (a whole number, not negative)"


def _moe(raw, tally):
    text = (raw or "").strip()
    if text.startswith("+/-"):  # American FactFinder wrote the margin as +/-123
        text = text[3:].strip()
    if text == CONTROLLED or text == _CONTROLLED_ANNOTATION:
        tally.controlled += 1
        return None, None
    if not text or text in UNAVAILABLE_SYMBOLS or text in ANNOTATIONS:
        tally.moe_missing[text or "(blank)"] += 1
        return None, None
    if _NUMBER.match(text):
        return text.replace(",", ""), None
    return None, (f"cannot read '{text}' as a margin of error (a whole number, not negative, "
                  f"or a Census symbol such as {CONTROLLED})")


def _notes(layout, shaped, tally, source_note) -> list[str]:
    groups = [v.group for v in layout.variables]
    kept = shaped.rows.num_rows
    notes = [f"data.census.gov export of ACS table {layout.table} (two header rows): "
             f"{shaped.geographies:,} geographies, groups {', '.join(groups)}; "
             f"{kept:,} population rows; {source_note}"]
    if all(v.moe_position is None for v in layout.variables):
        notes.append("the export has no margin-of-error columns (downloaded without them?): "
                     "moe is blank")
    if tally.controlled:
        notes.append(f"margin of error '{CONTROLLED}' in {_cells(tally.controlled)}: the "
                     "estimate is controlled to the official population figures, so the Census "
                     "Bureau publishes no sampling error; moe stored blank")
    if tally.moe_missing:
        notes.append(f"margin of error not available in {_cells(sum(tally.moe_missing.values()))} "
                     f"({_symbols(tally.moe_missing)}); moe stored blank")
    if tally.estimate_missing:
        notes.append(f"estimate not available in {_cells(sum(tally.estimate_missing.values()))} "
                     f"({_symbols(tally.estimate_missing)}); those groups have no row")
    return notes


def _cells(n: int) -> str:
    return f"{n:,} cell" if n == 1 else f"{n:,} cells"


def _symbols(counter: Counter) -> str:
    return ", ".join(f"'{s}' {n:,}" for s, n in counter.most_common())


# --------------------------------------------------------------------------------------------
# The profile an ACS export is read with
# --------------------------------------------------------------------------------------------

def profile_for(given: Profile | None, layout: Layout, file_name: str = "the file") -> Profile:
    """The long rows' mapping, with what a given profile may change: the geography column.

    A profile may name the geography by code (GEO_ID, NAME) or by label (Geography,
    Geographic Area Name), rename geographies under [values.geography] and set options
    (source, timezone, max_rejected_share). Groups, estimates and margins of error come from
    the variable codes; a profile that maps them elsewhere is refused.
    """
    columns = {k: list(v) for k, v in _DEFAULT_COLUMNS.items()}
    if layout.name is None:  # an export without names: the codes name the geographies
        columns["geography"] = ["GEO_ID"]
    if given is None:
        return Profile("population", columns, {}, {}, list(LONG_HEADERS), "ACS table export")
    for fname, srcs in given.columns.items():
        srcs = [_ID_LABELS.get(s.strip().lower(), s) for s in srcs]
        if fname == "geography":
            columns["geography"] = srcs
        elif srcs != columns.get(fname):
            raise MappingError(
                f"{file_name} is a data.census.gov ACS table export: groups, estimates and "
                f"margins of error are read from its variable codes, so the profile may set "
                f"only geography (GEO_ID or NAME), not {fname} = {', '.join(srcs)}.")
    values = {k: dict(v) for k, v in given.values.items() if k == "geography"}
    return Profile("population", columns, dict(given.options), values, list(LONG_HEADERS),
                   given.name)


# --------------------------------------------------------------------------------------------
# Margins of error of sums (for a caller that must add areas up)
# --------------------------------------------------------------------------------------------

def moe_of_sum(moes) -> float:
    """The Census Bureau's approximation for the MOE of a sum: the root of the squared MOEs.

    A blank margin (a controlled estimate, or none published) counts as zero, as
    metrics/stats.py treats a blank moe as an exact population. Example: tracts with margins
    120 and 160 give a sum with margin 200.
    """
    return math.sqrt(sum(float(m or 0) ** 2 for m in moes))
