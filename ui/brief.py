"""Take the view away: "Download brief" (a PDF of the current view) on every question page and
"Download as image" (a 1920×1080 slide PNG) on every chart card.

Both are built on click (Streamlit's deferred download data), not with the page: a brief
renders its charts in a browser (kaleido), a second or more, which no page should pay for
until someone asks. Figures come through ``service.guarded`` for the signed-in principal under
the sidebar's disclosure policy, as every figure on the page; each download is recorded in the
audit log as the CSV downloads are (``guarded.record_download``).
"""
from __future__ import annotations

from contextlib import closing

import streamlit as st

from service import guarded
from ui import auth, cache, presenter, privacy
from ui import filters as sidebar


def button() -> None:
    """The "Download brief" button of a question page, for the sidebar's view."""
    f = sidebar.current()
    if len(f.jurisdictions) > 1:
        st.button("Download brief", disabled=True, key="download-brief",
                  icon=":material/picture_as_pdf:",
                  help="A brief covers one jurisdiction, or all of them: choose one "
                       "(or none) in the filters.")
        return
    principal, policy = auth.current(), privacy.current()
    mask, own = presenter.masking(), presenter.own()
    name = f.jurisdictions[0] if f.jurisdictions else "cohort"

    def pdf() -> bytes:  # runs on click, maybe on another thread: its own cursor
        from briefs import make_brief

        with closing(cache.cursor()) as cur:
            with cache.snapshot(cur):  # every figure of the brief from one version of the data
                data = make_brief(cur, principal, f, policy=policy, mask=mask, own=own)
            _record(cur, principal, "brief", f, policy, {"bytes": len(data), "masked": mask})
        return data

    st.download_button("Download brief", pdf, file_name=f"brief-{_slug(name, mask)}.pdf",
                       mime="application/pdf", key="download-brief", on_click="ignore",
                       icon=":material/picture_as_pdf:",
                       help="This view as a one- or two-page PDF: headline figures, the main "
                            "charts with their takeaways, definitions and the privacy rules "
                            "applied.")


def image_button(key: str, title: str, sentence: str, fig) -> None:
    """A chart card's "Download as image": the chart as a 1920×1080 PNG with its title,
    takeaway and source line drawn in."""
    principal, policy, f = auth.current(), privacy.current(), sidebar.current()
    source = source_line(f, policy)

    def png() -> bytes:
        from briefs import render

        data = render.slide(fig, title, sentence, source)
        with closing(cache.cursor()) as cur:
            _record(cur, principal, f"image:{key}", f, policy, {"bytes": len(data)})
        return data

    st.download_button("Download as image", png, file_name=f"{key}.png", mime="image/png",
                       key=f"image-{key}", on_click="ignore", icon=":material/image:")


def source_line(f, policy) -> str:
    """Where the slide's figures come from: the jurisdictions (masked when masking is on),
    the period, and the disclosure rules."""
    known = cache.filter_options()
    names = presenter.peer_names() or {}
    scope = ", ".join(names.get(j, j) for j in f.jurisdictions) or "all jurisdictions in view"
    period = (f"{f.date_from or known.get('first_day') or 'first record'} to "
              f"{f.date_to or known.get('last_day') or 'latest record'}")
    rules = (f"public rules: counts 1–{policy.hidden_up_to} hidden, others rounded "
             f"({policy.rounding_label})" if policy.enabled else "exact figures")
    return (f"Source: Alternative response outcomes dashboard · {scope} · {period} · "
            f"{rules}")


def _record(cur, principal, what, f, policy, detail) -> None:
    guarded.record_download(
        cur, principal, what,
        jurisdiction=f.jurisdictions[0] if len(f.jurisdictions) == 1 else None,
        detail={**detail, "disclosure": policy.enabled, "rounding": policy.rounding_label})


def _slug(name: str, mask: bool) -> str:
    if mask:
        return "masked"
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "brief"
