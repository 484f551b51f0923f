"""Briefs: the current view as a one- or two-page PDF, for a council packet or a session.

``make_brief`` gathers every figure through ``service.guarded`` (``content.gather``: the same
facade and disclosure as the pages and ``python -m metrics report``) and lays it out with
fpdf2 (``pdf.write``), charts rendered offline by kaleido (``render``). A layer beside ui/ and
the command lines: it may use service/, metrics/ and charts/, never Streamlit.
"""
from __future__ import annotations

from .content import Brief, BriefRefused, gather


def make_brief(con, principal, filters, **options) -> bytes:
    """The brief of ``filters`` for ``principal`` as PDF bytes (see ``content.gather``)."""
    from concurrent.futures import ThreadPoolExecutor

    from . import pdf, render

    # Each chart is rendered (in chromium) as soon as its figures are in, while DuckDB works
    # on the next ones: the two overlap instead of adding up.
    with ThreadPoolExecutor(max_workers=1) as pool:
        svgs = {}

        def rendered(s) -> None:
            if s.figure is not None:
                svgs[s.key] = pool.submit(render.svg, s.figure, pdf.chart_width(s.key),
                                          s.height)
        brief = gather(con, principal, filters, on_section=rendered, **options)
        return pdf.write(brief, {k: f.result() for k, f in svgs.items()})


__all__ = ["Brief", "BriefRefused", "gather", "make_brief"]
