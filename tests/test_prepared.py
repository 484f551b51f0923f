"""ui/prepared.py: the views viewers asked for are computed again, in the background, for each
new version of the data and after a restart; a file beside the database cannot run code."""
from __future__ import annotations

import os
import pickle
import threading

import pytest

import metrics
from metrics.disclosure import DisclosurePolicy
from service.access import LOCAL
from ui import cache, prepared
from ui.prepared import Prepared, kept_beside

from test_cache_version import served  # noqa: F401  (a small database, as the server opens it)


def _recorder():
    ran: list[tuple] = []

    def area_counts(*args):
        ran.append(("area_counts", *args))

    def options(*args):
        ran.append(("options", *args))

    return ran, {"area_counts": area_counts, "options": options}


def test_asked_views_are_kept_beside_the_database_and_read_back_in_order(tmp_path):
    path = kept_beside(str(tmp_path / "cohort.duckdb"))
    assert path == tmp_path / "cohort.duckdb.prepared"
    ran, functions = _recorder()
    first = Prepared(path, functions)
    first.asked("options", ("local",))
    first.asked("area_counts", (metrics.Filters(jurisdictions=("Springfield",)), "area"))
    first.asked("options", ("local",))  # asked again: now the most recent, kept once
    first.asked("options", ("analyst",))  # the file is written when a new view is asked
    assert path.exists()

    restarted = Prepared(path, functions)  # a new server process on the same database
    assert restarted.calls() == [
        ("area_counts", (metrics.Filters(jurisdictions=("Springfield",)), "area")),
        ("options", ("local",)), ("options", ("analyst",))]


def test_a_new_version_prepares_every_asked_view_once_most_recent_first(tmp_path):
    ran, functions = _recorder()
    views = Prepared(None, functions)  # an in-memory database: nothing kept on disk
    views.asked("area_counts", ("a",))
    views.asked("options", ("b",))
    views.asked("gone", ("c",))  # a function this server no longer has: skipped
    views.seen(("db", 1)).join(timeout=10)
    assert ran == [("options", "b", ("db", 1)), ("area_counts", "a", ("db", 1))]
    assert views.seen(("db", 1)) is None  # the same version again: nothing to prepare
    views.seen(("db", 2)).join(timeout=10)  # an import: all again, at the new version
    assert ran[2:] == [("options", "b", ("db", 2)), ("area_counts", "a", ("db", 2))]


def test_a_newer_version_stops_the_preparing_of_the_older(tmp_path):
    started, release = threading.Event(), threading.Event()
    ran = []

    def slow(*args):
        ran.append(args)
        started.set()
        release.wait(timeout=10)

    views = Prepared(None, {"slow": slow})
    views.asked("slow", ("a",))
    views.asked("slow", ("b",))
    old = views.seen(("db", 1))
    assert started.wait(timeout=10)
    new = views.seen(("db", 2))  # the data changed while ("b", 1) was computing
    release.set()
    old.join(timeout=10)
    new.join(timeout=10)
    # ("a", 1) was never computed: the old version's preparing stopped after its first view
    assert ("a", ("db", 1)) not in ran
    assert {("b", ("db", 2)), ("a", ("db", 2))} <= set(ran)


def test_a_failing_view_does_not_stop_the_others(tmp_path):
    ran = []

    def refused(*args):
        raise PermissionError("not for this principal any more")

    views = Prepared(None, {"refused": refused, "ok": lambda *a: ran.append(a)})
    views.asked("ok", ("a",))
    views.asked("refused", ("b",))
    views.seen(("db", 1)).join(timeout=10)
    assert ran == [("a", ("db", 1))]


def test_the_list_is_bounded_least_recently_asked_out(tmp_path, monkeypatch):
    monkeypatch.setattr(prepared, "KEPT", 3)
    _, functions = _recorder()
    views = Prepared(tmp_path / "x.prepared", functions)
    for k in range(5):
        views.asked("options", (k,))
    assert views.calls() == [("options", (2,)), ("options", (3,)), ("options", (4,))]
    assert Prepared(tmp_path / "x.prepared", functions).calls() == views.calls()


class _Payload:
    """What someone with write access to the folder could put in the file."""

    def __reduce__(self):
        return (os.system, ("touch should-not-exist",))


def test_a_file_that_is_not_a_list_of_requests_runs_nothing(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cohort.duckdb.prepared"
    path.write_bytes(pickle.dumps([("options", (_Payload(),))]))
    _, functions = _recorder()
    views = Prepared(path, functions)
    assert views.calls() == []
    assert not (tmp_path / "should-not-exist").exists()
    assert "not part of a request" in caplog.text
    path.write_bytes(b"not a pickle at all")
    assert Prepared(path, functions).calls() == []


def test_every_cached_computation_can_be_prepared(tmp_path):
    from test_cache_version import CACHED

    names = set(cache._prepared(str(tmp_path / "x.duckdb"))._functions)
    assert names >= set(CACHED) | {"_boundaries"}


# -- through ui/cache.py, on a real database ------------------------------------------------

@pytest.fixture
def served_preparing(served, monkeypatch):  # noqa: F811
    monkeypatch.setattr(cache, "PREPARE", True)
    yield served
    cache._PREPARED.clear()


def test_after_an_import_the_asked_view_is_computed_before_it_is_asked_again(
        served_preparing, monkeypatch):
    from service import guarded
    from test_cache_version import _import

    db, folder = served_preparing
    request = metrics.MetricRequest(("A1",), ("jurisdiction",),
                                    metrics.Filters(jurisdictions=("Springfield",)))
    policy = DisclosurePolicy(enabled=False)
    cache.new_run()
    before = cache.compute(request, LOCAL, policy)  # a viewer's visit notes the view
    assert (db.parent / (db.name + ".prepared")).exists()

    _import(folder, "p.csv", 6)  # 3 calls, then 6 more
    asked = []
    real = guarded.compute
    monkeypatch.setattr(guarded, "compute",
                        lambda *a, **k: (asked.append(threading.current_thread().name),
                                         real(*a, **k))[1])
    cache.new_run()  # the next script run ...
    version = cache.data_version()  # ... reads the new version: preparing starts
    cache._prepared(str(db))._thread.join(timeout=60)
    assert asked == ["prepare-views"]  # computed once, by the background thread

    after = cache.compute(request, LOCAL, policy)  # the viewer comes back
    assert asked == ["prepare-views"]  # ... and finds it computed at the new version
    assert version == cache._version(cache.cursor())
    assert after != before  # 9 calls now, not 3
    exact = cache._compute.__wrapped__(request, LOCAL, policy, cache._version(cache.cursor()))
    assert after == exact  # the prepared answer is the one computed on demand


def test_a_refused_view_is_not_noted_so_its_refusal_is_not_recorded_again(
        served_preparing, monkeypatch):
    from service import guarded
    from service.access import AccessDenied

    db, _ = served_preparing

    def refuse(*args, **kwargs):
        raise AccessDenied("not yours", action="view", jurisdiction="Springfield")

    monkeypatch.setattr(guarded, "why_no_eligible_calls", refuse)
    cache.new_run()
    with pytest.raises(AccessDenied):
        cache.why_no_eligible(("Springfield",))
    assert all(name != "_why_no_eligible" for name, _ in cache._prepared(str(db)).calls())


def test_preparing_waits_while_an_import_writes(monkeypatch):
    """An import (or an edit) holds ``guarded.WRITES``: preparing waits for it instead of
    taking the cores the import needs, and stops if the import commits a new version."""
    from service import guarded

    monkeypatch.setattr(prepared, "WAIT_S", 0.01)
    ran = []
    views = Prepared(None, {"f": lambda *a: ran.append(a)}, cache._no_write_under_way)
    views.asked("f", ("a",))
    with guarded.WRITES:  # an import under way, on this thread
        thread = views.seen(("db", 1))
        thread.join(timeout=0.3)
        assert thread.is_alive() and ran == []  # held back
    thread.join(timeout=10)
    assert ran == [("a", ("db", 1))]  # the write is done: prepared

    with guarded.WRITES:
        old = views.seen(("db", 2))
        new = views.seen(("db", 3))  # the import committed: a newer version
    old.join(timeout=10)
    new.join(timeout=10)
    assert ("a", ("db", 2)) not in ran and ("a", ("db", 3)) in ran


class _CallsAFunction:
    """A payload naming a function of an allowed package (the metrics' own code)."""

    def __reduce__(self):
        from metrics import catalog

        return (catalog._as_date, (None,))


def test_only_classes_are_read_back_never_functions(tmp_path, caplog):
    path = tmp_path / "cohort.duckdb.prepared"
    path.write_bytes(pickle.dumps([("options", (_CallsAFunction(),))]))
    _, functions = _recorder()
    assert Prepared(path, functions).calls() == []
    assert "not part of a request" in caplog.text
