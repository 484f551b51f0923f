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
    from .pdf import write

    return write(gather(con, principal, filters, **options))


__all__ = ["Brief", "BriefRefused", "gather", "make_brief"]
