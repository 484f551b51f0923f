"""Every export a person can make goes through the app's own download: formula-safe CSV, recorded
in the audit log; Streamlit's built-in table export is switched off (issue 27)."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from data import audit
from service.access import LOCAL

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "=HYPERLINK(\"http://127.0.0.1:9/x\",\"click\")"

# Each st.download_button in the app and the builder that makes (and records) its file.
BUILDERS = {
    ("ui/components.py", "download"),          # every chart card's "Download CSV"
    ("ui/history.py", "rejects"),              # Import history: rejected rows (guarded.rejects_csv)
    ("ui/upload_check.py", "_check_rejects_download"),  # step 5: the check's rejected rows
    ("ui/upload_commit.py", "rejects_download"),  # after an import: its rejected rows
    ("ui/admin_view.py", "csv"),               # the audit log (guarded.audit_csv)
    ("ui/brief.py", "pdf"),                    # every question page's "Download brief"
    ("ui/brief.py", "png"),                    # every chart card's "Download as image"
}


def test_streamlit_table_export_is_switched_off_in_the_shipped_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True
    from streamlit import config as st_config
    assert "client.disableDataExport" in st_config._config_options_template  # a real option


def _download_calls():
    for folder in ("ui", "app_pages"):
        for path in sorted((ROOT / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "download_button"):
                    yield f"{folder}/{path.name}", node


def _builder_name(arg) -> str:
    return arg.func.id if isinstance(arg, ast.Call) else getattr(arg, "id", ast.dump(arg))


def test_every_download_button_takes_a_builder_that_runs_on_click():
    """Data handed over as a value would be built before the click and never recorded."""
    found = {(where, _builder_name(node.args[1])) for where, node in _download_calls()}
    assert found == BUILDERS


@pytest.fixture
def ui_env(monkeypatch, con):
    """ui modules outside a Streamlit run: the local principal, this database's cursor."""
    from ui import auth, cache, privacy
    from ui import filters as sidebar

    monkeypatch.setattr(auth, "current", lambda: LOCAL)
    monkeypatch.setattr(cache, "cursor", lambda: _Closing(con.cursor()))
    monkeypatch.setattr(privacy, "current",
                        lambda: SimpleNamespace(enabled=True, rounding_label="base 5"))
    monkeypatch.setattr(sidebar, "current", lambda: SimpleNamespace(jurisdictions=("Riverton",)))
    return con


class _Closing:
    def __init__(self, cur):
        self.cur = cur

    def __getattr__(self, name):
        return getattr(self.cur, name)

    def close(self):
        self.cur.close()


def _last_entry(con):
    return con.execute("SELECT action, jurisdiction, target FROM audit_log "
                       "ORDER BY seq DESC LIMIT 1").fetchone()


def test_a_chart_cards_download_is_formula_safe_and_recorded(ui_env):
    from ui import components

    table = pd.DataFrame({"Area": [HOSTILE, "Lakeshore"], "Calls": [12, -3]})
    before = audit.count(ui_env)
    body = components.download("reach-b1", table)().decode("utf-8-sig")
    assert body.splitlines()[1].startswith('"\'=HYPERLINK')
    assert body.splitlines()[2] == "Lakeshore,-3"  # a negative number stays a number
    assert audit.count(ui_env) == before + 1
    assert _last_entry(ui_env) == ("download", "Riverton", "reach-b1")


def test_the_checks_rejected_rows_download_is_formula_safe_and_recorded(ui_env):
    from ui import upload_check

    result = SimpleNamespace(jurisdiction="Riverton", rejects_preview=[
        {"file_row": 2, "column": "Received", "reason": "cannot read it as a date",
         "raw_values": {"Received": HOSTILE}}])
    before = audit.count(ui_env)
    body = upload_check._check_rejects_download(result)()
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body
    assert audit.count(ui_env) == before + 1
    assert _last_entry(ui_env) == ("download", "Riverton", "rejected rows of a check")
