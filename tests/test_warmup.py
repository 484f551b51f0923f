"""The server's warm-up leaves what it loaded out of the garbage collector's way."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# In a fresh interpreter: in this one other tests may have warmed up (warm_up runs once).
PROBE = """
import gc, json
from ui.warmup import warm_up
before = len(gc.get_objects())
warm_up()
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(),
                  "tracked": len(gc.get_objects())}))
"""


def test_warm_up_freezes_the_libraries_it_loads():
    r = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                       check=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    # Plotly, pandas and Arrow bring some hundred thousand objects; a full collection after
    # every script run (Streamlit's runner.postScriptGC) walked all of them.
    assert out["frozen"] > 10 * out["before"]
    assert out["tracked"] < out["frozen"] / 10
