"""ui/cache.py: every query of a cached computation reads one snapshot, at the version the
figure is cached under (an import committing meanwhile is not seen by it, never mixed in; a
version that moved on before the computation began is drawn again)."""
from __future__ import annotations

import ast
import inspect

import pytest

from data.connection import connect
from data.importer import import_file
from data.profiles import parse_profile
from ui import cache

from test_handover import PROFILE, calls


@pytest.fixture
def served(tmp_path, monkeypatch):
    db = tmp_path / "db" / "cohort.duckdb"
    monkeypatch.setenv("A911_DB", str(db))
    con = connect(db, readable_dirs=(tmp_path,))
    import_file(con, calls(tmp_path / "a.csv", 3, "A"), kind="calls", jurisdiction="Springfield",
                profile=parse_profile(PROFILE))
    con.close()
    yield db, tmp_path
    cache._database.clear()


def _count(cur) -> int:
    return cur.execute("SELECT count(*) FROM calls").fetchone()[0]


def test_unchanged_data_keep_the_version(served):
    with cache._reading(cache._version(cache.cursor())) as cur:
        assert _count(cur) == 3


def _import(folder, name: str, n: int) -> None:
    writer = cache.cursor()  # another session's (or the hand-over's) import commits
    import_file(writer, calls(folder / "db" / name, n, name[0].upper()), kind="calls",
                jurisdiction="Springfield", profile=parse_profile(PROFILE))
    writer.close()


def test_an_import_committed_meanwhile_is_not_mixed_in(served):
    """The failure issue 25 measured: counts of one figure from two versions. Inside one
    computation, an import committing between two queries is not seen by the second."""
    _, folder = served
    before = cache._version(cache.cursor())
    with cache._reading(before) as cur:
        assert _count(cur) == 3  # the first query ...
        _import(folder, "b.csv", 4)
        assert _count(cur) == 3  # ... and the one after the commit read the same snapshot
        assert cache._version(cur) == before
    after = cache._version(cache.cursor())
    assert after[1] == before[1] + 1  # the import's id: the version moved on
    with cache._reading(after) as cur:
        assert _count(cur) == 7


def test_a_version_that_moved_on_is_drawn_again(served):
    """A run pinned to the old version, computing after an import committed: nothing is
    computed from the new data under the old version's key; the page is drawn again."""
    _, folder = served
    before = cache._version(cache.cursor())
    _import(folder, "c.csv", 2)
    ran = []
    with pytest.raises(cache.StaleVersion):
        with cache._reading(before) as cur:
            ran.append(_count(cur))
    assert ran == []


def test_errors_stand_and_the_snapshot_ends(served):
    """An error inside a computation is raised as it is, and the cursor's read transaction
    ends with it (the next computation on a new cursor sees new data)."""
    _, folder = served
    before = cache._version(cache.cursor())
    with pytest.raises(ValueError, match="math domain"):
        with cache._reading(before):
            raise ValueError("math domain error")
    _import(folder, "d.csv", 5)
    with cache._reading(cache._version(cache.cursor())) as cur:
        assert _count(cur) == 8


# Every computation of ui/cache.py that reads at a version is kept per version: a merge once
# dropped the decorators of three of them, and the Impact, Cost and Plan pages computed
# everything again on every visit (the Plan page's simulation included).
CACHED = {"_compute": "compute", "_counts": "compute_counts", "_options": "filter_options",
          "_profiles": "jurisdiction_profiles", "_population": "population",
          "_why_no_eligible": "why_no_eligible_calls", "_impact": "impact",
          "_cost_report": "cost_report", "_plan": "capacity_plan"}


def test_every_computation_at_a_version_is_cached():
    tree = ast.parse(inspect.getsource(cache))
    reading = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)
               and "version" in [a.arg for a in f.args.args]
               and "_reading(version)" in ast.unparse(f)}
    assert reading >= set(CACHED)
    undecorated = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)
                   and f.name in reading
                   and not any("cache_data" in ast.unparse(d) for d in f.decorator_list)}
    assert undecorated == set()


@pytest.mark.parametrize("name", ["_impact", "_cost_report", "_plan"])
def test_a_page_answer_is_computed_once_per_version(served, monkeypatch, name):
    from service import guarded

    calls_made = []

    def answer(*args, **kwargs):
        calls_made.append(args)
        return {"answer": len(calls_made)}

    monkeypatch.setattr(guarded, CACHED[name], answer)
    fn = getattr(cache, name)
    fn.clear()
    version = cache._version(cache.cursor())
    n_args = len(inspect.signature(fn.__wrapped__).parameters) - 1  # all but the version
    args = [()] * n_args  # hashable, and an empty set of options for the Plan
    first, again = fn(*args, version), fn(*args, version)
    assert first == again == {"answer": 1} and len(calls_made) == 1
    assert fn(("other",), *args[1:], version)["answer"] == 2  # another request: computed
