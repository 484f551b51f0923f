"""The linter (ruff, configured in ruff.toml) is part of the test command: an unused import, an
undefined name or an over-long line fails the suite like a wrong number."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                             str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_would_catch_an_unused_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--config",
                             str(ROOT / "ruff.toml"), str(bad)], capture_output=True, text=True)
    assert result.returncode == 1 and "F401" in result.stdout
