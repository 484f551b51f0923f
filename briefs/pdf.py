"""Lay a brief out as a US Letter PDF with fpdf2: real text in a shipped font, vector charts.

Text is DejaVu Sans from ``briefs/fonts`` (shipped with its licence), so every machine writes
the same Unicode text and the PDF is searchable; charts are kaleido's SVG drawn as vector
paths with their labels as text. Ink is #1a1a1a and secondary text #404040 on white (16:1
and 10:1, above WCAG's 4.5:1). Title, language, subject and author are set in the metadata.
"""
from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from fpdf import FPDF

from charts.theme import PALETTE

from . import render
from .content import Brief, Section

FONTS = Path(__file__).resolve().parent / "fonts"
INK, SOFT, RULE = (26, 26, 26), (64, 64, 64), (140, 140, 140)
MARGIN, GAP = 14.0, 6.0
LETTER_WIDTH = 215.9  # mm
PX_PER_MM = 4.4  # chart pixels per millimetre: 13 px type prints at about 8 pt
# Rows of the brief: two sections side by side, or one across the page.
LAYOUT = (("funnel", "outcomes"), ("coverage-trend",), ("connected", "equity"), ("impact",),
          ("cost",))
SOURCE = ("Alternative response outcomes dashboard (open source); figures as the dashboard "
          "shows them.")

logging.getLogger("fpdf.svg").setLevel(logging.ERROR)  # clip paths: unsupported and harmless


class _Doc(FPDF):
    def __init__(self, brief: Brief):
        super().__init__(format="letter", unit="mm")
        self.brief = brief
        self.add_font(render.FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(render.FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=16)
        self.set_title(brief.title)
        self.set_lang("en-US")
        self.set_subject(f"{brief.scope}, {brief.period}")
        self.set_author("Alternative response outcomes")
        self.set_creator("python -m briefs")

    def footer(self):
        self.set_y(-12)
        self._font(7, SOFT)
        self.cell(0, 4, f"{self.brief.scope} · {self.brief.period} · data as of "
                        f"{self.brief.as_of} · Page {self.page_no()} of {{nb}}", align="C")

    def _font(self, size: float, color=INK, bold: bool = False):
        self.set_font(render.FONT, "B" if bold else "", size)
        self.set_text_color(*color)


def chart_width(key: str) -> int:
    """The width in chart pixels a section's chart is drawn at: half the page or all of it."""
    full = LETTER_WIDTH - 2 * MARGIN
    half = any(key in row and len(row) == 2 for row in LAYOUT)
    return round(((full - GAP) / 2 if half else full) * PX_PER_MM)


def write(brief: Brief, svgs: dict[str, bytes] | None = None) -> bytes:
    """The brief as PDF bytes; ``svgs``: charts rendered already (by section key), the others
    are rendered here, through the one shared browser."""
    doc = _Doc(brief)
    doc.svgs = svgs or {}
    doc.add_page()
    _header(doc, brief)
    _tiles(doc, brief)
    sections = {s.key: s for s in brief.sections}
    for row in LAYOUT:
        present = [sections[k] for k in row if k in sections]
        if present:
            _row(doc, present)
    _footnotes(doc, brief)
    return bytes(doc.output())


def _header(doc: _Doc, brief: Brief) -> None:
    doc._font(17, INK, bold=True)
    doc.multi_cell(0, 8, brief.title, new_x="LMARGIN", new_y="NEXT")
    doc._font(9, SOFT)
    rules = "public rules: small counts hidden, counts rounded" if brief.public \
        else "exact figures (not for publication)"
    doc.multi_cell(0, 4.6, f"{brief.period} · data as of {brief.as_of} · {rules}",
                   new_x="LMARGIN", new_y="NEXT")
    for note in brief.notes:
        doc.multi_cell(0, 4.2, note, new_x="LMARGIN", new_y="NEXT")
    doc.set_draw_color(*_rgb(PALETTE[0]))
    doc.set_line_width(0.8)
    doc.line(MARGIN, doc.get_y() + 1.5, doc.w - MARGIN, doc.get_y() + 1.5)
    doc.set_y(doc.get_y() + 4)


def _tiles(doc: _Doc, brief: Brief) -> None:
    per_row, width = 4, doc.w - 2 * MARGIN
    w = (width - (per_row - 1) * 3) / per_row
    for start in range(0, len(brief.tiles), per_row):
        row = brief.tiles[start:start + per_row]
        height = max(_tile_height(doc, t, w) for t in row)
        top = doc.get_y()
        for i, t in enumerate(row):
            x = MARGIN + i * (w + 3)
            doc.set_draw_color(*RULE)
            doc.set_line_width(0.25)
            doc.rect(x, top, w, height)
            doc.set_xy(x + 2, top + 1.5)
            doc._font(7.5, SOFT)
            doc.multi_cell(w - 4, 3.4, t.label, new_x="LEFT", new_y="NEXT")
            doc._font(14, INK, bold=True)
            doc.multi_cell(w - 4, 6.5, t.text, new_x="LEFT", new_y="NEXT")
            if t.detail:
                doc._font(6.8, SOFT)
                doc.multi_cell(w - 4, 3.1, t.detail, new_x="LEFT", new_y="NEXT", align="L")
        doc.set_xy(MARGIN, top + height + 3)
    doc.set_y(doc.get_y() + 1)


def _tile_height(doc: _Doc, t, w: float) -> float:
    doc._font(7.5)
    h = _lines(doc, t.label, w - 4, 3.4)
    doc._font(14, bold=True)
    h += _lines(doc, t.text, w - 4, 6.5)
    if t.detail:
        doc._font(6.8)
        h += _lines(doc, t.detail, w - 4, 3.1)
    return h + 3


def _lines(doc: _Doc, text: str, w: float, line: float) -> float:
    return doc.multi_cell(w, line, text, dry_run=True, output="HEIGHT")


def _row(doc: _Doc, sections: list[Section]) -> None:
    full = doc.w - 2 * MARGIN
    w = full if len(sections) == 1 else (full - GAP) / 2
    heights = [_section_height(doc, s, w) for s in sections]
    if doc.get_y() + max(heights) > doc.h - 16:
        doc.add_page()
    top = doc.get_y()
    for i, s in enumerate(sections):
        doc.set_xy(MARGIN + i * (w + GAP), top)
        _section(doc, s, w)
    doc.set_xy(MARGIN, top + max(heights) + 3)


def _chart_mm(s: Section, w: float) -> float:
    return s.height / PX_PER_MM if s.figure is not None else 0


def _section_height(doc: _Doc, s: Section, w: float) -> float:
    doc._font(10.5, bold=True)
    h = _lines(doc, s.title, w, 5)
    doc._font(8.5)
    h += _lines(doc, s.sentence, w, 4) + 1
    h += _chart_mm(s, w)
    if s.note:
        doc._font(7)
        h += _lines(doc, s.note, w, 3.2)
    return h


def _section(doc: _Doc, s: Section, w: float) -> None:
    x = doc.get_x()
    doc._font(10.5, INK, bold=True)
    doc.multi_cell(w, 5, s.title, new_x="LEFT", new_y="NEXT")
    doc._font(8.5, INK)
    doc.multi_cell(w, 4, s.sentence, new_x="LEFT", new_y="NEXT", align="L")
    doc.set_xy(x, doc.get_y() + 1)  # (set_y alone would move to the left margin)
    if s.figure is not None:
        h = _chart_mm(s, w)
        svg = doc.svgs.get(s.key) or render.svg(s.figure, round(w * PX_PER_MM), s.height)
        svg = _unclipped(svg)
        doc.image(io.BytesIO(svg), x=x, y=doc.get_y(), w=w, h=h)
        doc.set_xy(x, doc.get_y() + h)
    if s.note:
        doc._font(7, SOFT)
        doc.multi_cell(w, 3.2, s.note, new_x="LEFT", new_y="NEXT", align="L")


def _footnotes(doc: _Doc, brief: Brief) -> None:
    need = 6 + 3.6 * (len(brief.definitions) * 2 + 6)
    if doc.get_y() + min(need, 80) > doc.h - 16:
        doc.add_page()
    doc.set_draw_color(*RULE)
    doc.set_line_width(0.25)
    doc.line(MARGIN, doc.get_y(), doc.w - MARGIN, doc.get_y())
    doc.set_y(doc.get_y() + 2)
    doc._font(9, INK, bold=True)
    doc.cell(0, 4.5, "Definitions", new_x="LMARGIN", new_y="NEXT")
    for label, definition in brief.definitions:
        doc._font(7, INK, bold=True)
        doc.write(3.3, f"{label}: ")
        doc._font(7, SOFT)
        doc.write(3.3, definition)
        doc.ln(3.6)
    doc.set_y(doc.get_y() + 1.5)
    doc._font(9, INK, bold=True)
    doc.cell(0, 4.5, "Disclosure rules applied", new_x="LMARGIN", new_y="NEXT")
    doc._font(7, SOFT)
    doc.multi_cell(0, 3.3, brief.rules, new_x="LMARGIN", new_y="NEXT", align="L")
    doc.multi_cell(0, 3.3, f"Source: {SOURCE}", new_x="LMARGIN", new_y="NEXT")


def _unclipped(svg: bytes) -> bytes:
    """What fpdf2's SVG reader stops at, taken out: references to clip paths (it draws none;
    the figures keep their marks inside the axes by their ranges) and units in dash patterns
    ("3px, 3px": the launch line)."""
    svg = re.sub(rb'\sclip-path="url\([^)]*\)"', b"", svg)
    return re.sub(rb"(stroke-dasharray:\s*)([^;\"]+)",
                  lambda m: m.group(1) + m.group(2).replace(b"px", b""), svg)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
