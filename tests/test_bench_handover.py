"""bench/handover.py's checks of issue 25's import criterion, on visits written by hand: which
data each viewer's Overview showed (the old or the new, never anything else), and the verdicts
(no error, no slower than the command line, the server under 2.5 GB). Fast: no server."""
from __future__ import annotations

from conftest import bench_module

handover = bench_module("handover")

OLD = {"Calls for service": "524,615", "Eligible calls": "61,200"}   # 524,614 rounded to 5
NEW = {"Calls for service": "724,615", "Eligible calls": "61,200"}   # + 200,000 calls
T0, T1 = 100.0, 110.0  # the import ran from 100 s to 110 s


def _visit(start, end, tiles, page="", error=None):
    # bench/sessions.py's log: (start, end, page, seconds, error, how, server_s, tiles)
    return (start, end, page, end - start, error, "sidebar", end - start, tiles)


def _check(visits):
    return handover.old_or_new(visits, (T0, T1), 524_614, 724_614)


def test_old_before_new_after_either_during_passes():
    r = _check([_visit(90, 92, OLD), _visit(99, 101, OLD), _visit(103, 105, NEW),
                _visit(104, 106, OLD), _visit(112, 113, NEW),
                _visit(95, 96, {"Coverage": "40%"}, page="reach")])  # not the Overview
    assert r["old_or_new"] and r["checked"]
    assert r["overview_reads"] == {"before": 1, "during_old": 2, "during_new": 1, "after": 1}
    assert "524,615" in r["shown_before"] and "524,614" in r["shown_before"]
    assert "724,615" in r["shown_after"]


def test_a_count_that_is_neither_fails():
    mixed = {"Calls for service": "624,615", "Eligible calls": "61,200"}
    r = _check([_visit(90, 92, OLD), _visit(103, 105, mixed), _visit(112, 113, NEW)])
    assert not r["old_or_new"] and r["other"] == [mixed]


def test_new_count_with_old_other_tiles_is_a_mix():
    mix = {"Calls for service": "724,615", "Eligible calls": "61,150"}
    r = _check([_visit(90, 92, OLD), _visit(103, 105, mix), _visit(112, 113, NEW)])
    assert not r["old_or_new"]


def test_old_data_after_the_import_returned_fails():
    r = _check([_visit(90, 92, OLD), _visit(112, 113, OLD)])
    assert not r["old_or_new"]
    assert _check([_visit(90, 92, NEW), _visit(112, 113, NEW)])["old_or_new"] is False


def test_unchecked_without_reads_on_both_sides():
    r = _check([_visit(103, 105, OLD)])
    assert r["old_or_new"] and not r["checked"]
    # An Overview that failed is an error, counted elsewhere, not a reading.
    assert _check([_visit(90, 92, {}, error="exception: boom")])["overview_reads"]["before"] == 0


def test_verdicts():
    seen = {"old_or_new": True, "checked": True}
    served = [{"viewers_open": 20, "errors": [], "data_seen": seen, "server_peak_mb": 1500.0,
               "server_kept_running": True},
              {"viewers_open": 20, "errors": [], "data_seen": seen, "server_peak_mb": 2600.0,
               "server_kept_running": True}]
    r = {"viewers": 20, "handover": served, "handover_median_s": 21.0, "direct_median_s": 20.0}
    v = handover.verdicts(r)
    assert v["viewers_open"] and v["no_viewer_error"] and v["old_or_new_never_a_mix"]
    assert v["server_kept_running"]
    assert v["handover_over_direct"] == 1.05 and v["no_slower_than_direct"] is False
    assert v["server_peak_mb"] == 2600.0 and v["server_under_limit"] is False
    served[1]["server_peak_mb"] = 2000.0
    served[0]["errors"] = [{"t_s": 3.0, "page": "", "how": "sidebar", "error": "exception: x"}]
    r["handover_median_s"] = 19.0
    v = handover.verdicts(r)
    assert v["server_under_limit"] and v["no_slower_than_direct"]
    assert v["viewer_errors"] == 1 and not v["no_viewer_error"]
