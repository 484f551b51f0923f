"""What each page really asks for: run every page with Streamlit's AppTest and record it.

    python bench/capture.py --db BENCH.duckdb --out pages.pkl

The pages are read from the router (dashboard.py's ``st.Page`` calls), and every page is run
through ``dashboard.py`` itself (sidebar filters first, as in the browser) while
``ui.cache.compute`` and ``ui.cache.counts`` are wrapped to record each MetricRequest and
CountRequest (and the Impact page's ``ui.cache.impact``), with the principal and the
disclosure policy it was asked under (``asked_as``:
a viewer's default hides small counts, which costs the page more than the exact figures). So
the benchmark times exactly the requests the pages make, with the filters the sidebar sets by
default, and no second list of them can drift. Also recorded per page: its
heading and how many Plotly charts it draws (what "rendered" means in the browser).

A page split into sections (ui/sections.py: tabs that run only when open) is recorded as one
view per section: the page itself is its first section, as it opens; each other section is
``<page>?<tab key>=<label>`` (its address) with ``view_of`` (the page) and ``section`` (the
tab's label), each with the requests and charts of that section alone.

Runs in its own process: the app's cached DuckDB connection holds the database file open, and
the dashboard server started later needs it.
"""
from __future__ import annotations

import argparse
import os
import pickle
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Pages that show only a sentence until one jurisdiction is chosen (before and after belongs
# to one program): recorded also as the view with the first jurisdiction chosen.
ONE_JURISDICTION = ("app_pages/impact.py",)
_PAGE = re.compile(r'st\.Page\(\s*"([^"]+)"[^)]*?url_path="([^"]+)"', re.S)


def router_pages() -> dict[str, str]:
    """url path -> page file, as dashboard.py declares them. The default page is declared twice
    (at "/" as "home" and at its own path); it is kept once, under its own path."""
    text = (ROOT / "dashboard.py").read_text(encoding="utf-8")
    pages: dict[str, str] = {}
    for file, url in _PAGE.findall(text):
        if not (ROOT / file).exists():
            continue
        prior = [k for k, v in pages.items() if v == file]
        if prior and prior[0] == "home":
            pages = {(url if k == "home" else k): v for k, v in pages.items()}
        elif not prior:
            pages[url] = file
    return pages


def capture(db: str) -> dict:
    os.environ["A911_DB"] = db
    # Only recording what pages ask: no views prepared in the background (ui/prepared.py).
    os.environ["A911_PREPARE_VIEWS"] = "0"
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from streamlit.testing.v1 import AppTest

    import ui.cache as cache

    seen: list = []
    seen_as: list = []
    other: list = []

    def recording(name, fn, record):
        def wrapper(*args, **kwargs):
            if name == "impact":  # (filters, outcome, principal, policy): the Impact page's
                seen.append(("impact", args[:2]))  # one scan and its models, timed too
                seen_as.append(args[2:4])
                return fn(*args, **kwargs)
            metric = name in ("compute", "counts")
            (seen if record else other).append(args[0] if metric else (name, args))
            if record:  # who asked, under which disclosure policy: the page's real query
                seen_as.append(args[1:3] if metric else args[2:4] if name == "cost_report"
                               else (cache._principal(), args[3]) if name == "plan"
                               else None)
            return fn(*args, **kwargs)
        return wrapper

    # Metric and count requests are timed; population look-ups, the Cost page's report and the
    # Plan page's capacity model (its queries and its simulation) too; anything else a page
    # takes from the cache is only listed.
    for name in [n for n in dir(cache) if not n.startswith("_")]:
        fn = getattr(cache, name)
        if callable(fn) and getattr(fn, "__module__", None) == cache.__name__ and name not in (
                "cursor", "data_version"):
            setattr(cache, name, recording(name, fn, name in (
                "compute", "counts", "population", "impact", "cost_report", "plan")))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=900)
    at.run()  # the default page: fills the sidebar's caches as a first visit would
    from ui import sections

    def record(url, file, **extra):
        seen.clear()
        seen_as.clear()
        other.clear()
        t0 = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - t0
        out[url] = {"file": file, "heading": _heading(at), "requests": list(seen),
                    "asked_as": list(seen_as),
                    "other_cache_calls": sorted({c[0] for c in other}),
                    "charts": len(at.get("plotly_chart")),
                    "exceptions": [e.value for e in at.exception],
                    "errors": [e.value for e in at.error], "apptest_s": round(elapsed, 3),
                    **extra}

    out = {}
    for url, file in router_pages().items():
        at.switch_page(file)
        split = sections.BY_PAGE.get(file)
        record(url, file, **({"section": split.labels[0]} if split else {}))
        for label in (split.labels[1:] if split else ()):
            at.session_state[split.key] = label
            at.query_params[split.key] = label
            record(f"{url}?{urlencode({split.key: label})}", file, view_of=url, section=label)
        if split:  # back to the first section, as the page opens for the next viewer
            at.session_state[split.key] = split.labels[0]
            del at.query_params[split.key]
        if file in ONE_JURISDICTION:  # it asks for one jurisdiction: also with the first chosen
            name = at.multiselect(key="j").options[0]
            at.session_state["j"] = [name]
            at.query_params["j"] = name
            record(f"{url}?{urlencode({'j': name})}", file, view_of=url)
            at.session_state["j"] = []
            del at.query_params["j"]
    return out


def _heading(at) -> str | None:
    if len(at.title):
        return at.title[0].value
    for md in at.markdown:
        m = re.match(r"#\s+(.+)", md.value.strip())
        if m:
            return m.group(1).splitlines()[0].strip()
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    pages = capture(args.db)
    Path(args.out).write_bytes(pickle.dumps(pages))
    for url, p in pages.items():
        print(f"{url}: {len(p['requests'])} requests, {p['charts']} charts, "
              f"heading {p['heading']!r}", file=sys.stderr)


if __name__ == "__main__":
    main()
