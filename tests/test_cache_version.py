"""ui/cache.py: a figure is cached under a data version only if the data were at that version
all the while it was computed (an import committing meanwhile is caught, never mixed in)."""
from __future__ import annotations

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


def test_an_import_committed_meanwhile_is_caught(served):
    _, folder = served
    before = cache._version(cache.cursor())
    with pytest.raises(cache.StaleVersion):
        with cache._reading(before) as cur:
            assert _count(cur) == 3  # the old figure ...
            writer = cache.cursor()  # ... then another session's import commits
            import_file(writer, calls(folder / "db" / "b.csv", 4, "B"), kind="calls",
                        jurisdiction="Springfield", profile=parse_profile(PROFILE))
            writer.close()
    after = cache._version(cache.cursor())
    assert after[1] == before[1] + 1  # the import's id: the version moved on
    with cache._reading(after) as cur:
        assert _count(cur) == 7


def test_a_failure_while_the_data_changed_is_drawn_again(served):
    """Counts of two versions in one computation can fail (a numerator above its base): when
    the version moved meanwhile, that is a redraw, not an error; otherwise the error stands."""
    _, folder = served
    before = cache._version(cache.cursor())
    with pytest.raises(ValueError, match="math domain"):
        with cache._reading(before):
            raise ValueError("math domain error")
    with pytest.raises(cache.StaleVersion):
        with cache._reading(before):
            writer = cache.cursor()
            import_file(writer, calls(folder / "db" / "c.csv", 2, "C"), kind="calls",
                        jurisdiction="Springfield", profile=parse_profile(PROFILE))
            writer.close()
            raise ValueError("math domain error")
