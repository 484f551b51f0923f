"""Step 2's other source: a file already on the server, in the import folder, named by the
analyst (service/import_folder.py checks the name and the right to import). For exports larger
than a browser upload takes; the wizard then reads it in place, as it reads an upload."""
from __future__ import annotations

from contextlib import closing

import streamlit as st

from service import import_folder
from ui import auth, cache
from ui.text import escape

UPLOAD, FOLDER = "Upload from this computer", "A file in the server's import folder"


def offered() -> bool:
    """Whether the server has an import folder (``A911_IMPORT_DIR``)."""
    return import_folder.configured()


def wanted(key: str) -> bool:
    """Whether the analyst chose the import folder (offered only when one is configured)."""
    if not offered():
        return False
    source = st.radio("Where is the export?", [UPLOAD, FOLDER], horizontal=True,
                      key=f"{key}_source",
                      help="A browser upload takes up to 200 MB (about 1.5 million calls). "
                           "Larger exports: copy them to the server's import folder and "
                           "choose them here.")
    return source == FOLDER


def choose(key: str, jurisdiction: str | None) -> dict | None:
    """The chosen file as the wizard keeps an upload ({file_id, path, name}), or None."""
    names = import_folder.files(auth.current())
    if not names:
        st.info("The import folder holds no CSV, CSV.gz, TXT or XLSX file yet. Copy the "
                "export there (ask whoever runs the server where it is) and reload.")
        return None
    name = st.selectbox("Export in the import folder", names, index=None, key=f"{key}_folder",
                        placeholder="Choose the file", help="Newest first.")
    if name is None:
        return None
    with closing(cache.cursor()) as cur:
        try:
            path = import_folder.file(cur, auth.current(), jurisdiction, name)
        except (import_folder.AccessDenied, import_folder.HandoverRefused) as e:
            st.error(escape(str(e)))
            return None
    stat = path.stat()
    size = (f"{stat.st_size / 1e6:,.1f} MB" if stat.st_size >= 1e6
            else f"{stat.st_size / 1e3:,.1f} kB")
    st.caption(f"{escape(name)}: {size}, read in place on the server.")
    return {"file_id": f"folder:{name}:{stat.st_mtime_ns}:{stat.st_size}", "path": str(path),
            "name": path.name}
