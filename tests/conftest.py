"""Shared fixtures: a fresh database, the real exports, and the browser-test marker."""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import sys
from pathlib import Path

import pytest

from data.connection import connect, person_key_path
from data.schema import data_tables

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"
PROFILES = Path(__file__).resolve().parent / "profiles"


@pytest.fixture(autouse=True)
def _views_computed_on_demand(monkeypatch):
    """In-process tests compute each view when asked, with no thread preparing views behind
    them (ui/prepared.py) that could outlive a test's database; tests/test_prepared.py turns
    it on. Servers started by the browser tests and the benchmark prepare, as in production."""
    from ui import cache

    monkeypatch.setattr(cache, "PREPARE", False)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.duckdb"


@pytest.fixture
def con(db_path, tmp_path):
    """A fresh database file with the schema; any folder under tmp_path is readable."""
    c = connect(db_path, readable_dirs=(tmp_path, REALDATA if REALDATA.exists() else tmp_path,
                                        Path(__file__).resolve().parent))
    yield c
    c.close()


@pytest.fixture
def tiny_cohort(tmp_path):
    """A database file holding the demo cohort at 5 % (the bench tests' servers read it)."""
    from data.demo import populate_demo

    db = tmp_path / "tiny.duckdb"
    c = connect(db)
    populate_demo(c, seed=0, scale=0.05)
    c.close()
    return db


@pytest.fixture
def realdata():
    if not REALDATA.exists():
        pytest.skip(f"real exports not found at {REALDATA} (they sit beside the repository in CI)")
    return REALDATA


def demo_database(folder: Path, *, costs: bool = False) -> Path:
    """The demo cohort (seed 0) in ``folder/demo.duckdb`` for the app, and the same database
    beside it as ``expected.duckdb`` for a test's own queries (``expected_connection``)."""
    path = demo_copy(folder / "demo.duckdb")
    if costs:  # through the costs import kind, as `python -m data demo` does
        from data.costs import load_demo_costs
        con = connect(path)
        load_demo_costs(con)
        con.close()  # checkpointed: the copy below is the same database
    shutil.copyfile(path, folder / "expected.duckdb")
    return path


def demo_copy(path: Path) -> Path:
    """A database of its own at ``path`` holding the demo cohort (seed 0), with its person-key
    secret: a copy of the one cohort built per session through the importer (20 files, about
    21 s of CPU each time). Tests of the demo load itself (tests/test_demo.py) build their own."""
    template = _demo_template()
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    # The key hashed the person identifiers: a later import into the copy must hash with it.
    key, own_key = person_key_path(template), person_key_path(path)
    if key != own_key and key.exists():
        own_key.parent.mkdir(parents=True, exist_ok=True)
        own_key.parent.chmod(0o700)
        shutil.copyfile(key, own_key)
        own_key.chmod(0o600)
    return path


_TEMPLATE: list[Path] = []


def _demo_template() -> Path:
    if not _TEMPLATE:
        from data.demo import populate_demo

        path = _session_tmp("demo-template") / "demo.duckdb"
        con = connect(path)
        populate_demo(con, seed=0)
        con.close()  # checkpointed: a file copy is the whole database
        path.chmod(0o444)  # copied, never opened for writing
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def _session_tmp(name: str) -> Path:
    factory = getattr(_CONFIG[0], "_tmp_path_factory", None) if _CONFIG else None
    return factory.mktemp(name) if factory else Path(tempfile.mkdtemp(prefix=name))


_CONFIG: list = []


def pytest_configure(config):
    _CONFIG.append(config)


@pytest.fixture(scope="session")
def cli_demo(tmp_path_factory):
    """`python -m data demo` run once, for the tests of that command (test_demo.py,
    test_cli_cost.py): its database and its click result. Those tests run the command on it
    again only where it must refuse, which changes nothing."""
    from click.testing import CliRunner

    from data.cli import cli

    db = tmp_path_factory.mktemp("cli-demo") / "demo.duckdb"
    return db, CliRunner().invoke(cli, ["demo", "--db", str(db)])


def expected_connection(demo_db: Path):
    """A read-only connection to the copy beside ``demo_database``'s database."""
    return connect(demo_db.parent / "expected.duckdb", read_only=True)


def table_contents(con) -> dict[str, str]:
    """A digest of every table's full content, to prove that a failed import changed nothing."""
    out = {}
    for t in data_tables():
        rows = con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
    out["_sequence"] = repr(con.execute("SELECT count(*) FROM imports").fetchall())
    return out


def pytest_collection_modifyitems(config, items):
    if config.getoption("-m") and "not playwright" in config.getoption("-m"):
        return


def open_tables(at, *keys: str):
    """Open the "Show data" expanders of the cards ``keys`` (all when none are named) and run
    the page again: a card's table and its download are drawn only once it is opened."""
    wanted = [f"show-data-{k}" for k in keys] or [
        e.key for e in at.expander if (e.key or "").startswith("show-data-")]
    for key in wanted:
        at.session_state[key] = True
    if wanted:
        at.run()
    return at


def show_card(at, key: str):
    """Open the section (tab) that draws the card ``key`` when the page has sections and the
    card is not drawn yet (ui/sections.py: only the open tab runs)."""
    from ui import sections

    try:
        at.get_by_key(f"card-{key}")
        return at
    except KeyError:
        pass
    for s in sections.ALL:
        if any(key in cards for cards in s.cards.values()):
            _open_section(at, s, s.of(key))
    return at


def each_section(at, page_file: str):
    """Open each section of the page in turn (yielding its label), or yield None once for a
    page without sections; the page must be the one ``at`` shows."""
    from ui import sections

    s = sections.BY_PAGE.get(page_file)
    if s is None:
        yield None
        return
    for label in s.labels:
        _open_section(at, s, label)
        yield label


def _open_section(at, s, label: str) -> None:
    # The tab as a click sets it: in the widget's state and in the address (AppTest applies
    # the query parameters it holds again on every run, as a reload would).
    at.session_state[s.key] = label
    at.query_params[s.key] = label
    at.run()



def bench_module(name: str):
    """``bench/<name>.py`` imported as the benchmark imports it: bench/ first on the path, its
    own ``browser`` module (not this suite's ``tests/browser`` package, which a whole-suite run
    has already imported under that name). The suite's modules are put back after."""
    import importlib

    bench = str(Path(__file__).resolve().parent.parent / "bench")
    clash = ("browser", "sessions", "importing", "synth", "import_viewers", "queries",
             "capture", "report", "address", "floor_app", "handover", "scale_up", "run")
    saved = {k: sys.modules.pop(k) for k in list(sys.modules)
             if k.split(".")[0] in clash}
    sys.path.insert(0, bench)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(bench)
        for k in [k for k in sys.modules if k.split(".")[0] in clash]:
            sys.modules.pop(k)
        sys.modules.update(saved)
