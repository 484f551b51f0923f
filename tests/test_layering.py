"""Imports run one way: app_pages/, ui/ -> service/ -> metrics/ -> data/ (STYLE.md §3).

charts/ turns results into figures: it may read metrics' definitions (labels, units, the words
for a hidden number) but never the service or the data. The command lines (the data/cli/
package, metrics/cli.py and their __main__) are interfaces like the pages: they sit on top and
may use the service. Nothing below the pages imports streamlit. Found by parsing every import,
including those inside functions."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INTERFACES = {*(f"data/cli/{p.name}" for p in (ROOT / "data" / "cli").glob("*.py")),
              "data/__main__.py", "metrics/cli.py", "metrics/__main__.py"}
# What each package may import from the project (itself always).
ALLOWED = {
    "data": set(),
    "metrics": {"data"},
    "service": {"metrics", "data"},
    "charts": {"metrics"},
    # Briefs sit beside ui/ and the command lines: figures through the service, drawn by charts.
    "briefs": {"service", "metrics", "charts", "data"},
}
PROJECT = {"data", "metrics", "service", "charts", "briefs", "ui", "app_pages", "dashboard",
           "bench"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def _modules():
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in INTERFACES:
                yield package, rel


@pytest.mark.parametrize("package,rel", list(_modules()))
def test_imports_run_one_way(package, rel):
    wrong = [f"line {n}: {name}" for n, name in _imports(ROOT / rel)
             if (name in PROJECT and name != package and name not in ALLOWED[package])
             or name == "streamlit"]
    assert not wrong, f"{rel} imports against the layers: {', '.join(wrong)}"


def test_the_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from service import guarded\n    import streamlit\n")
    assert [name for _, name in _imports(bad)] == ["service", "streamlit"]


def test_every_layer_is_checked():
    checked = {package for package, _ in _modules()}
    assert checked == set(ALLOWED)
