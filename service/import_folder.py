"""Files on the server that an analyst imports by name: the configured import folder.

A browser upload stops at Streamlit's limit (200 MB, about 1.5 million calls). Larger exports
are copied to the import folder (``A911_IMPORT_DIR``, e.g. by the city's file transfer) and
chosen on the Data page by name; they then go through the same pipeline as an upload, read in
place. Only names inside the folder are accepted (``data.handover.file_in_folder``: no absolute
paths, no ``..``, no link leading out), and only for someone who may import into the
jurisdiction (``service.access``), every refusal recorded.
"""
from __future__ import annotations

from pathlib import Path

from data.handover import HandoverRefused, file_in_folder, import_folder
from data.uploads import UPLOAD_TYPES
from service.access import AccessDenied, Principal, authorize

MAX_LISTED = 500  # a folder of thousands of files is listed in part (the newest first)


def configured() -> bool:
    folder = import_folder()
    return folder is not None and folder.is_dir()


def files(principal: Principal) -> list[str]:
    """The importable files in the folder (relative names, newest first), for someone who may
    import into some jurisdiction; [] for anyone else or when no folder is configured."""
    folder = import_folder()
    if folder is None or not folder.is_dir() or not (principal.is_admin
                                                     or principal.analyst_jurisdictions):
        return []
    found = []
    for path in folder.rglob("*"):
        name = path.relative_to(folder).as_posix()
        if path.name.startswith(".") or not name.lower().endswith(
                tuple("." + ext for ext in UPLOAD_TYPES)):
            continue
        try:
            found.append((file_in_folder(folder, name).stat().st_mtime, name))
        except (HandoverRefused, OSError):  # a link leading out, a file that went away
            continue
    return [name for _, name in sorted(found, reverse=True)[:MAX_LISTED]]


def file(con, principal: Principal, jurisdiction: str | None, name: str) -> Path:
    """The folder's file ``name`` for an import into ``jurisdiction`` by ``principal``.

    Raises AccessDenied (recorded) for someone who may not import there, and HandoverRefused
    for a name outside the folder.
    """
    authorize(con, principal, "import", jurisdiction=(jurisdiction or "").strip() or None,
              target=str(name)[:200])
    return file_in_folder(import_folder(), name)


__all__ = ["AccessDenied", "HandoverRefused", "configured", "file", "files"]
