"""Two checkouts of the dashboard, the same views, paired: is B faster than A in the browser?

    python bench/paired.py DB --b ../exp [--a .] [--rounds 8] [--view PATH|HEADING|CHARTS] ...
                           [--b-env NAME=VALUE ...] [--out FILE.json]

Issue 25's view times move by up to 0.5 s from run to run on this 2-core machine (the same
view, the same code, an hour apart), so a change worth 0.1-0.2 s cannot be seen by timing
before and after in separate runs. Here both checkouts are served at once (A on a copy of DB,
B on another: one server per DuckDB file) and each view is opened on A and on B back to back,
the order swapped every round, a fresh tab per visit in one browser context (scripts cached,
as for a returning viewer). Each pair of visits sees the same machine; the verdict is on the
pairs' differences: their median and the Wilcoxon signed-rank test (scipy), two-sided.

Both servers stay up through the rounds (their results cached after the first round): this
compares what the browser and a warm server do, not a fresh server's first visit
(bench/address.py measures that). "Rendered" is bench/browser.py's condition.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import browser  # noqa: E402

# Views whose times were closest to the limit in issue 25's runs (PATH|HEADING|CHARTS[|TAB]).
DEFAULT_VIEWS = ("compare|How do the jurisdictions compare?|1",
                 "overview|How is the program performing?|2",
                 "reach|What percentage of eligible calls|1")
PAUSE_S = 1.0  # between visits: the previous tab's work is done


def parse_view(text: str) -> dict:
    """``PATH|HEADING|CHARTS`` or ``PATH|HEADING|CHARTS|TAB`` (a section: its tab's label)."""
    parts = text.split("|")
    if len(parts) not in (3, 4) or not parts[2].isdigit():
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected PATH|HEADING|CHARTS or PATH|HEADING|CHARTS|TAB")
    return {"path": parts[0], "heading": parts[1], "charts": int(parts[2]),
            "tab": parts[3] if len(parts) == 4 else None}


def summary(a: list[float], b: list[float]) -> dict:
    """Medians of each side and of the paired differences (B - A), and the two-sided Wilcoxon
    signed-rank p-value of those differences (None with fewer than 6 pairs: no p below 0.05 is
    possible then)."""
    from scipy.stats import wilcoxon

    if len(a) != len(b) or not a:
        raise ValueError("paired visits: as many on A as on B, at least one")
    diffs = [y - x for x, y in zip(a, b)]
    p = None
    if len(diffs) >= 6 and any(diffs):
        p = float(wilcoxon(diffs).pvalue)
    return {"a_median_s": round(statistics.median(a), 3),
            "b_median_s": round(statistics.median(b), 3),
            "b_minus_a_median_s": round(statistics.median(diffs), 3),
            "wilcoxon_p": None if p is None else round(p, 4),
            "a_s": [round(x, 3) for x in a], "b_s": [round(x, 3) for x in b]}


async def _visit(context, url: str, view: dict) -> float:
    page = await context.new_page()
    try:
        t0 = time.perf_counter()
        await page.goto(url, wait_until="commit", timeout=browser.NAV_TIMEOUT_S * 1000)
        js, arg = ((browser._SECTION_JS, [view["tab"], view["charts"]]) if view["tab"] else
                   (browser._RENDERED_JS, [view["heading"], view["charts"]]))
        await page.wait_for_function(js, arg=arg, polling=50,
                                     timeout=browser.NAV_TIMEOUT_S * 1000)
        seconds = time.perf_counter() - t0
        failed = await page.evaluate(browser._FAILED_JS)
        if failed:
            raise RuntimeError(f"/{view['path']}: {failed} error element(s) on the page")
        return seconds
    finally:
        await page.close()


async def _rounds(servers: dict, views: list[dict], rounds: int) -> dict:
    from playwright.async_api import async_playwright

    times = {(v["path"], side): [] for v in views for side in servers}
    offsite: list = []
    async with async_playwright() as p:
        chromium = await browser._launch(p)
        context = await browser._context(chromium, offsite)
        for server in servers.values():  # scripts into the browser's cache, each view once
            warm = await context.new_page()
            await warm.goto(server.url + "/methodology", wait_until="commit")
            await browser.warm_scripts(warm, server.url)
            await warm.close()
            for view in views:
                await _visit(context, f"{server.url}/{view['path']}", view)
        for r in range(rounds):
            for view in views:
                for side in (("A", "B") if r % 2 == 0 else ("B", "A")):
                    await asyncio.sleep(PAUSE_S)
                    url = f"{servers[side].url}/{view['path']}"
                    times[(view["path"], side)].append(await _visit(context, url, view))
        await context.close()
        await chromium.close()
    return {"times": times, "offsite_requests": offsite}


def run(db: Path, a: Path, b: Path, views: list[dict], rounds: int,
        b_env: dict[str, str] | None = None) -> dict:
    """Serve checkouts ``a`` and ``b`` over copies of ``db`` and time ``views`` paired."""
    with tempfile.TemporaryDirectory(prefix="paired-") as tmp:
        tmp = Path(tmp)
        servers = {}
        try:
            for side, root, env in (("A", a, {}), ("B", b, b_env or {})):
                copy = tmp / f"{side}.duckdb"
                shutil.copyfile(db, copy)
                servers[side] = browser.start_server(copy, tmp / f"{side}.log",
                                                     root=root.resolve(), extra_env=env)
            measured = asyncio.run(_rounds(servers, views, rounds))
        finally:
            for server in servers.values():
                server.stop()
    return {"a": str(a.resolve()), "b": str(b.resolve()), "b_env": b_env or {},
            "rounds": rounds, "offsite_requests": measured["offsite_requests"],
            "views": {v["path"]: summary(measured["times"][(v["path"], "A")],
                                         measured["times"][(v["path"], "B")]) for v in views}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path, help="the database both checkouts read (each a copy)")
    ap.add_argument("--a", type=Path, default=browser.ROOT, help="checkout A (default: this one)")
    ap.add_argument("--b", type=Path, required=True, help="checkout B")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--view", action="append", type=parse_view, dest="views",
                    help="PATH|HEADING|CHARTS[|TAB], repeatable (default: "
                         + "; ".join(DEFAULT_VIEWS) + ")")
    ap.add_argument("--b-env", action="append", default=[], metavar="NAME=VALUE",
                    help="set in B's server's environment only")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    views = args.views or [parse_view(v) for v in DEFAULT_VIEWS]
    b_env = dict(kv.split("=", 1) for kv in args.b_env)
    result = run(args.db, args.a, args.b, views, args.rounds, b_env)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    for path, s in result["views"].items():
        browser.say(f"/{path}: A {s['a_median_s']} s, B {s['b_median_s']} s, "
                    f"B - A {s['b_minus_a_median_s']:+} s (Wilcoxon p {s['wilcoxon_p']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
