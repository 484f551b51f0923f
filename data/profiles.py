"""Mapping profiles: which source column fills which canonical field, and how values read.

A profile is a small TOML file (format in the README). The importer suggests one from the
headers (synonyms learned from real exports, with a confidence) and saves the confirmed one in
the profile store, so the next export with the same headers maps itself.
"""
from __future__ import annotations

import codecs
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from .errors import MappingError, ProfileError
from .schema import FIELDS, KINDS

_OPTION_TYPES = {
    "timestamp_format": (str, list), "dayfirst": (bool,), "timezone": (str,),
    "unit_rows": (bool,), "fingerprint_ids": (bool,), "sheet": (str, int), "encoding": (str,),
    "dimension": (str,), "source": (str,), "max_rejected_share": (float, int),
}


def normalise_header(header: str) -> str:
    """'Dispatch Request Date & Time' -> 'dispatchrequestdatetime' (letters and digits only)."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def normalise_value(value: str) -> str:
    """Value matching ignores case and repeated spaces."""
    return re.sub(r"\s+", " ", value.strip()).lower()


@dataclass
class Profile:
    kind: str
    columns: dict[str, list[str]]
    options: dict = field(default_factory=dict)
    values: dict[str, dict[str, object]] = field(default_factory=dict)
    headers: list[str] | None = None  # the export's headers when the profile was saved
    name: str | None = None
    # Who a saved profile belongs to ([saved] in the file; issue 27): it is applied to that
    # jurisdiction's uploads only.
    jurisdiction: str | None = None
    saved_by: str | None = None

    def to_toml(self) -> str:
        doc = {"kind": self.kind}
        if self.headers:
            doc["headers"] = list(self.headers)
        doc["columns"] = {k: (v[0] if len(v) == 1 else list(v)) for k, v in self.columns.items()}
        if self.options:
            doc["options"] = dict(self.options)
        if self.values:
            doc["values"] = {k: dict(v) for k, v in self.values.items()}
        saved = {k: v for k, v in (("jurisdiction", self.jurisdiction),
                                   ("by", self.saved_by)) if v}
        if saved:
            doc["saved"] = saved
        return tomli_w.dumps(doc)

    def value_map(self, field_name: str) -> dict[str, object]:
        """Profile value map for a field, keyed by normalised source value."""
        return {normalise_value(k): v for k, v in self.values.get(field_name, {}).items()}


def parse_profile(text: str, *, name: str | None = None) -> Profile:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"profile {name or ''}: not valid TOML ({e}).") from None
    where = f"profile {name}" if name else "the profile"
    kind = doc.get("kind")
    if kind not in KINDS:
        raise ProfileError(f"{where}: kind must be one of {', '.join(KINDS)} (got {kind!r}).")
    known = {f.name for f in FIELDS[kind]}
    columns = {}
    for key, src in (doc.get("columns") or {}).items():
        if key not in known:
            raise ProfileError(f"{where}: [columns] names '{key}', which is not a field of "
                               f"{kind}. Fields: {', '.join(sorted(known))}.")
        srcs = [src] if isinstance(src, str) else src
        if not isinstance(srcs, list) or not srcs or not all(isinstance(s, str) for s in srcs):
            raise ProfileError(f"{where}: [columns] {key} must be a header or a list of headers.")
        columns[key] = srcs
    options = doc.get("options") or {}
    for key, value in options.items():
        if key not in _OPTION_TYPES:
            raise ProfileError(f"{where}: unknown option '{key}'. Options: "
                               f"{', '.join(sorted(_OPTION_TYPES))}.")
        if not isinstance(value, _OPTION_TYPES[key]):
            raise ProfileError(f"{where}: option {key} has the wrong type ({value!r}).")
    _check_option_values(options, where)
    values = doc.get("values") or {}
    for key in values:
        if key not in known:
            raise ProfileError(f"{where}: [values.{key}] is not a field of {kind}.")
    saved = doc.get("saved") or {}
    if not isinstance(saved, dict) or not all(isinstance(v, str) for v in saved.values()):
        raise ProfileError(f"{where}: [saved] holds the jurisdiction and who saved it, as text.")
    return Profile(kind, columns, dict(options), {k: dict(v) for k, v in values.items()},
                   doc.get("headers"), name, saved.get("jurisdiction"), saved.get("by"))


_DIRECTIVES = set("YmdHMSIpfzyjbBaAeZ%")


def _check_option_values(options: dict, where: str) -> None:
    if "encoding" in options:
        try:
            codecs.lookup(options["encoding"])
        except LookupError:
            raise ProfileError(f"{where}: unknown encoding {options['encoding']!r} (use e.g. "
                               "utf-8, cp1252, utf-16).") from None
    fmts = options.get("timestamp_format")
    for fmt in ([fmts] if isinstance(fmts, str) else fmts or []):
        codes = re.findall(r"%-?(.)", str(fmt))
        if not isinstance(fmt, str) or not codes or not set(codes) <= _DIRECTIVES:
            raise ProfileError(f"{where}: timestamp_format {fmt!r} is not a date format (use "
                               "strftime codes such as %m/%d/%Y %I:%M:%S %p).")


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ProfileError(f"cannot read profile {path}: {e.strerror}.") from None
    except UnicodeDecodeError:
        raise ProfileError(f"profile {path.name} is not UTF-8 text; save it as UTF-8.") from None
    return parse_profile(text, name=path.name)


# --------------------------------------------------------------------------------------------
# Suggestions
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Suggestion:
    field: str
    headers: tuple[str, ...]
    confidence: float  # 1.0 exact synonym, 0.9 list of numbered columns, 0.6 partial match
    how: str = "header"  # header | values | header and values (data/columns.py)
    # Columns that fit about as well (the first is the best): the field is asked, not filled.
    alternatives: tuple[str, ...] = ()


def _score(norm: str, synonyms: tuple[str, ...]) -> float:
    if norm in synonyms:
        return 1.0 - 0.001 * synonyms.index(norm)
    for s in synonyms:
        if len(s) >= 5 and (s in norm or (len(norm) >= 5 and norm in s)):
            return 0.6
    return 0.0


def suggest(kind: str, headers: list[str]) -> dict[str, Suggestion]:
    """Best source column(s) for each canonical field; each header is used once at most."""
    norms = [normalise_header(h) for h in headers]
    candidates = []
    for f in FIELDS[kind]:
        if f.type == "list":
            stems = [re.sub(r"\d+$", "", n) for n in norms]
            hits = tuple(h for h, s in zip(headers, stems) if s in f.synonyms)
            if hits:
                candidates.append((0.9 if len(hits) > 1 else 1.0, f.name, hits))
            continue
        for h, n in zip(headers, norms):
            score = _score(n, f.synonyms)
            if score:
                candidates.append((score + (0.0001 if f.required else 0), f.name, (h,)))
    chosen, used = {}, set()
    for score, name, hs in sorted(candidates, key=lambda c: -c[0]):
        if name in chosen or any(h in used for h in hs):
            continue
        chosen[name] = Suggestion(name, hs, round(min(score, 1.0), 2))
        used.update(hs)
    return chosen


def suggested_profile(kind: str, headers: list[str]) -> Profile:
    sugg = suggest(kind, headers)
    return Profile(kind, {k: list(s.headers) for k, s in sugg.items()}, headers=list(headers))


# --------------------------------------------------------------------------------------------
# Resolving a profile against a file's headers
# --------------------------------------------------------------------------------------------

def header_signature(headers: list[str]) -> str:
    joined = "\x1f".join(normalise_header(h) for h in headers)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def resolve_columns(profile: Profile, headers: list[str], file_name: str) -> dict[str, list[int]]:
    """Map each profile field to column positions, with precise errors for what cannot be found."""
    missing_required = [f.name for f in FIELDS[profile.kind]
                        if f.required and f.name not in profile.columns]
    problems = []
    if missing_required and not (profile.kind != "population" and profile.options.get(
            "fingerprint_ids") and missing_required == [_id_field(profile.kind)]):
        problems.append("required field(s) not mapped: " + ", ".join(missing_required))
    positions = {}
    for fname, srcs in profile.columns.items():
        idxs = []
        for src in srcs:
            idx = _find_header(src, headers)
            if isinstance(idx, str):
                problems.append(idx.format(field=fname))
            else:
                idxs.append(idx)
        positions[fname] = idxs
    if problems:
        raise MappingError(f"{file_name} cannot be mapped as {profile.kind}: "
                           + "; ".join(problems) + ". Headers in the file: "
                           + ", ".join(repr(h) for h in headers[:40])
                           + (" ..." if len(headers) > 40 else "") + ".")
    return positions


def _id_field(kind):
    from .schema import ID_FIELD
    return ID_FIELD[kind]


def _find_header(src: str, headers: list[str]):
    exact = [i for i, h in enumerate(headers) if h == src]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        cols = " and ".join(str(i + 1) for i in exact)
        return (f"header '{src}' (for {{field}}) appears in columns {cols}; rename one in the "
                "file so the mapping is not ambiguous")
    loose = [i for i, h in enumerate(headers) if normalise_header(h) == normalise_header(src)]
    if len(loose) == 1:
        return loose[0]
    if len(loose) > 1:
        return (f"header '{src}' (for {{field}}) matches several columns that differ only in "
                "case or punctuation; use the exact header")
    return f"column '{src}' (for {{field}}) is missing from the file"

