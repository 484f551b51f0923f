"""Suggest a standard category for a local call type, with a confidence that means something.

A CAD system has 100-400 call types; mapping them by hand is hours of work. Each wording is
read four ways, and the readings are combined per category:

- **codes**: a wording that is a code (APCO/NENA common incident types such as ``EDP`` or
  ``SUICTHRT``, California code sections such as ``5150`` or ``415``, 10-codes such as
  ``10-56``) is replaced by its words, at the code's own confidence (10-codes differ between
  agencies, so theirs is low); a leading code ("6X - Major Dist (Violence)") is set aside and
  the words read;
- **keywords**: words that settle a category wherever they stand (``WELFARE``, ``OVERDOSE``),
  after abbreviations are expanded (``TRBL W/SUBJ`` -> ``TROUBLE WITH SUBJECT``);
- **phrases**: fuzzy similarity (rapidfuzz) to standard wordings of each category;
- **peers**: what other jurisdictions in the same database have confirmed for the same or a
  very similar wording (rows a person saved or accepted, not rows written automatically).

Confidence is the combined strength of the best category less half that of the runner-up, so
a wording that points two ways ("EDP WITH WEAPON") is never confident. ``CONFIDENT`` is the
level from which a suggestion is written or accepted without a look; the labelled fixture in
``tests/fixtures/call_type_labels.csv`` checks that suggestions above it are right far more
often than those below.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .call_type_words import ABBREVIATIONS, CODES, KEYWORDS, PHRASES

CONFIDENT = 0.8  # from here a suggestion is written at import and accepted in one action
_KEYWORDS = [(re.compile(p), c, w) for p, c, w in KEYWORDS]
_PHRASES = [(p, c) for c, ps in PHRASES.items() for p in ps]
_PHRASE_TEXTS = [p for p, _ in _PHRASES]
# "EMS: ...", "Fire: ...", "Traffic: ..." (Montgomery County PA) name the discipline.
_DISCIPLINES = {"EMS": "MEDICAL", "MEDICAL": "MEDICAL", "FIRE": "FIRE", "TRAFFIC": "TRAFFIC"}
_LEADING_CODE = re.compile(r"^\s*([0-9][0-9A-Z]{0,5}(?:[-.][0-9A-Z]{1,3})?)\s*[-:)]?\s+(.*)$")
_DISCIPLINE = re.compile(r"^\s*([A-Za-z]+)\s*:\s*(.*)$")
# Medical wordings that a keyword for another category would misread.
_MEDICAL_FIRST = re.compile(r"ALTERED MENTAL STATUS|MEDICAL ALERT|ASSAULT VICTIM")


@dataclass(frozen=True)
class Suggestion:
    call_type: str
    category: str | None
    confidence: float
    reason: str  # in words: what the suggestion rests on

    @property
    def confident(self) -> bool:
        return self.category is not None and self.confidence >= CONFIDENT

    def as_dict(self) -> dict:
        return {"call_type": self.call_type, "category": self.category,
                "confidence": round(self.confidence, 3), "confident": self.confident,
                "reason": self.reason}


def expand(text: str) -> str:
    """The wording upper-cased, split into words, with abbreviations written out."""
    words = []
    for token in re.findall(r"[A-Z0-9&]+", text.upper()):
        words.append(ABBREVIATIONS.get(token) or _glued(token) or token)
    return " ".join(words)


def _glued(token: str) -> str | None:
    """'MNTLNARM' -> 'MENTAL NOT ARMED': a token made of known pieces, longest first."""
    if len(token) < 6 or token.isdigit():
        return None
    for cut in range(len(token) - 2, 2, -1):
        head, tail = token[:cut], token[cut:]
        if head in ABBREVIATIONS:
            rest = ABBREVIATIONS.get(tail) or _glued(tail)
            if rest:
                return f"{ABBREVIATIONS[head]} {rest}"
    return None


def _read(call_type: str) -> tuple[str, float, str | None, list[str]]:
    """(words to read, how much to trust them, discipline category, reasons)."""
    text, trust, discipline, reasons = call_type.strip(), 1.0, None, []
    m = _DISCIPLINE.match(text)
    if m and m.group(1).upper() in _DISCIPLINES:
        discipline, text = _DISCIPLINES[m.group(1).upper()], m.group(2)
    compact = re.sub(r"\s+", "", text.upper())
    if compact in CODES:
        words, trust = CODES[compact]
        reasons.append(f"code {compact} = {words.lower()}")
        return words, trust, discipline, reasons
    m = _LEADING_CODE.match(text.upper())
    if m and re.search(r"[A-Z]{3}", m.group(2)):
        code, rest = m.group(1), m.group(2)
        if code in CODES:
            reasons.append(f"code {code} = {CODES[code][0].lower()}")
            return f"{CODES[code][0]} {rest}", 1.0, discipline, reasons
        text = rest  # a local code ("6X") says nothing on its own: read the words
    return text, trust, discipline, reasons


def _scores(words: str, peers: dict | None) -> dict[str, list[tuple[float, str]]]:
    """Evidence per category: (strength 0-1, what it is)."""
    found: dict[str, list[tuple[float, str]]] = defaultdict(list)
    # "NO WEAPONS", "NOT DV", "NO DISTURBANCE": what the call is not says nothing of what it is.
    expanded = re.sub(r"\b(NO|NOT|WITHOUT) [A-Z]+( VIOLENCE)?", " ", expand(words))
    if _MEDICAL_FIRST.search(expanded):
        found["MEDICAL"].append((0.85, "medical wording"))
    spans: list[tuple[int, int]] = []
    for pattern, category, weight in _KEYWORDS:
        # The first keyword wins; later ones are evidence the wording points elsewhere, unless
        # they lie inside words already read ("DISTURB" in "EMOTIONALLY DISTURBED PERSON").
        m = next((m for m in pattern.finditer(expanded)
                  if not any(a <= m.start() and m.end() <= b for a, b in spans)), None)
        if m:
            found[category].append((weight if not spans else weight * 0.7,
                                    f"the word '{m.group(0).strip().lower()}'"))
            spans.append(m.span())
    best = process.extractOne(expanded, _PHRASE_TEXTS, scorer=fuzz.token_sort_ratio,
                              score_cutoff=60)
    if best:
        phrase, score, i = best
        found[_PHRASES[i][1]].append(((score - 60) / 40 * 0.9,
                                      f"like '{phrase.lower()}' ({score:.0f}%)"))
    if peers:
        _peer_evidence(expanded, peers, found)
    return found


def _peer_evidence(expanded, peers, found) -> None:
    exact = peers.get(expanded)
    if exact is None:
        near = process.extractOne(expanded, list(peers), scorer=fuzz.token_sort_ratio,
                                  score_cutoff=90)
        if not near:
            return
        exact, strength, how = peers[near[0]], 0.8, f"like '{near[0].lower()}'"
    else:
        strength, how = 0.96, "the same wording"
    total = sum(exact.values())
    for category, n in exact.items():
        found[category].append((strength * n / total,
                                f"{how}, confirmed elsewhere ({n} of {total})"))


def suggest_one(call_type: str, peers: dict | None = None) -> Suggestion:
    words, trust, discipline, reasons = _read(call_type or "")
    found = _scores(words, peers)
    if discipline:
        found[discipline].append((0.6, f"a {discipline.lower()} call"))
    if not found:
        return Suggestion(call_type, None, 0.0, "no known word")
    combined = {}
    for category, evidence in found.items():
        miss = 1.0
        for strength, _ in evidence:
            miss *= 1 - min(max(strength, 0.0), 0.99)
        combined[category] = 1 - miss
    ranked = sorted(combined.items(), key=lambda kv: -kv[1])
    best, strength = ranked[0]
    runner = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = max(0.0, min(0.99, (strength - runner / 2) * trust))
    reasons += [what for _, what in sorted(found[best], key=lambda e: -e[0])]
    if confidence < 0.2:
        return Suggestion(call_type, None, round(confidence, 3), "; ".join(reasons))
    return Suggestion(call_type, best, round(confidence, 3), "; ".join(reasons))


def suggest(call_types, peers: dict | None = None) -> list[Suggestion]:
    return [suggest_one(t, peers) for t in call_types]


# --------------------------------------------------------------------------------------------
# What the database knows: confirmed wordings of other jurisdictions
# --------------------------------------------------------------------------------------------

def peer_wordings(con, exclude: str | None = None) -> dict[str, Counter]:
    """Expanded wording -> categories other jurisdictions confirmed for it (with how many).

    Confirmed = a crosswalk row with a category that was not written automatically (or that a
    person has since saved): the rows in ``crosswalk_auto`` are left out.
    """
    if not _table(con, "crosswalk"):
        return {}
    auto = ("AND NOT EXISTS (SELECT 1 FROM crosswalk_auto a WHERE a.jurisdiction = "
            "w.jurisdiction AND a.call_type = w.call_type AND a.category IS NOT DISTINCT FROM "
            "w.category)") if _table(con, "crosswalk_auto") else ""
    rows = con.execute(
        "SELECT w.call_type, w.category FROM crosswalk w WHERE w.category IS NOT NULL "
        f"AND (? IS NULL OR w.jurisdiction <> ?) {auto}", [exclude, exclude]).fetchall()
    out: dict[str, Counter] = defaultdict(Counter)
    for call_type, category in rows:
        out[expand(call_type)][category] += 1
    return dict(out)


def _table(con, name) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchone()[0])


def suggest_for(con, jurisdiction: str | None = None, call_types=None) -> list[Suggestion]:
    """Suggestions for ``call_types`` (default: the jurisdiction's types, most calls first),
    using what the other jurisdictions of the database confirmed. Reads only."""
    if call_types is None and not _table(con, "calls"):
        call_types = []
    if call_types is None:
        call_types = [r[0] for r in con.execute(
            "SELECT call_type FROM calls WHERE jurisdiction = ? AND call_type IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC, 1", [jurisdiction]).fetchall()]
    return suggest(call_types, peer_wordings(con, exclude=jurisdiction))
