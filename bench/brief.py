"""Time a brief: ``python -m briefs`` for one jurisdiction, the whole command in a child process
(Python start, its queries through service.guarded under the public rules, the charts rendered
by kaleido in chromium, the PDF written). Budget: 10 s at 10 million calls.

    python bench/brief.py --db BENCH.duckdb --jurisdiction Springfield [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from importing import timed_child  # noqa: E402

BUDGET_S = 10.0


def time_brief(db: Path, jurisdiction: str, repeat: int = 3) -> dict:
    """Median and every run's wall time (s) and peak memory (MB) of the command."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "brief.pdf"
        for _ in range(repeat):
            runs.append(timed_child([sys.executable, "-m", "briefs", "--jurisdiction",
                                     jurisdiction, "--db", str(db), "--out", str(out)]))
        size = out.stat().st_size
    seconds = [r["seconds"] for r in runs]
    return {"jurisdiction": jurisdiction, "median_s": round(statistics.median(seconds), 2),
            "runs_s": seconds, "peak_mb": max((r["peak_mb"] or 0) for r in runs),
            "pdf_bytes": size, "budget_s": BUDGET_S}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--jurisdiction", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    r = time_brief(Path(args.db), args.jurisdiction, args.repeat)
    print(f"brief of {r['jurisdiction']}: median {r['median_s']} s (runs {r['runs_s']}), "
          f"peak {r['peak_mb']} MB, {r['pdf_bytes']:,} bytes; budget {BUDGET_S} s: "
          f"{'met' if r['median_s'] <= BUDGET_S else 'MISSED'}")
    return r


if __name__ == "__main__":
    main()
