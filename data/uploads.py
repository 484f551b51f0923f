"""Uploaded files on disk: where they go, under which name, and how they are removed.

An upload is written to ``<database folder>/uploads/upload-<uuid>.<ext>``: the folder is inside
the database's allowed directory (so the locked-down connection can read it) and the name is
generated, never taken from the person's file name, so no path from a browser reaches the
disk. The original name is only a label in messages and the imports ledger.
"""
from __future__ import annotations

import re
import shutil
import time
import uuid
from pathlib import Path

from .errors import ReadError

# Extensions the dashboard accepts, longest first so that 'csv.gz' wins over 'gz'.
UPLOAD_TYPES = ("csv.gz", "csv", "txt", "tsv", "gz", "xlsx")
BOUNDARY_TYPES = ("geojson", "json")  # area boundaries (data/boundaries.py)
_NAME = re.compile(r"^upload-[0-9a-f]{32}\.(csv\.gz|csv|txt|tsv|gz|xlsx|geojson|json)$")


def uploads_dir(db_path) -> Path:
    """The folder for uploads, beside the database (inside its allowed directory)."""
    return Path(db_path).resolve().parent / "uploads"


def profiles_dir(db_path) -> Path:
    """Saved mapping profiles, beside the database (the command line uses the same folder)."""
    return Path(db_path).resolve().parent / "profiles"


def upload_extension(file_name: str, boundaries: bool = False) -> str:
    """'Calls 2024.CSV.gz' -> 'csv.gz'. Raises ReadError for a type the importer cannot read."""
    lower = (file_name or "").lower()
    for ext in BOUNDARY_TYPES if boundaries else UPLOAD_TYPES:
        if lower.endswith("." + ext):
            return ext
    if boundaries:
        raise ReadError(f"{file_name or 'The file'} is not a GeoJSON file (.geojson or .json); "
                        "export the areas' map as GeoJSON and upload it again.")
    raise ReadError(f"{file_name or 'The file'} is not a CSV, CSV.gz, TXT or XLSX file; export "
                    "the data as one of those and upload it again.")


def save_upload(data, file_name: str, folder, boundaries: bool = False) -> Path:
    """Write an upload (bytes or a binary file object) under a generated name; its path.
    Uploads that sessions closed mid-import left behind are cleared first."""
    ext = upload_extension(file_name, boundaries)
    remove_stale_uploads(folder)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{uuid.uuid4().hex}.{ext}"
    with open(path, "xb") as f:  # 'x': never overwrite, even on a (vanishing) name clash
        if isinstance(data, (bytes, bytearray, memoryview)):
            f.write(data)
        else:
            data.seek(0)
            shutil.copyfileobj(data, f, 1 << 20)
    return path


def remove_upload(path, folder) -> bool:
    """Delete an upload written by ``save_upload``; anything else is left alone."""
    if not path:
        return False
    path, folder = Path(path), Path(folder).resolve()
    if path.resolve().parent != folder or not _NAME.match(path.name):
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def remove_stale_uploads(folder, max_age_hours: float = 24) -> int:
    """Delete uploads left behind by sessions that were closed mid-import."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - max_age_hours * 3600
    removed = 0
    for p in folder.iterdir():
        try:
            if _NAME.match(p.name) and p.stat().st_mtime < cutoff:
                p.unlink()
                removed += 1
        except FileNotFoundError:  # another session removed it first
            continue
    return removed


def sheet_names(path) -> list[str]:
    """The sheets of an XLSX workbook; [] for any other file."""
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            return []
    import fastexcel

    try:
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception:  # a damaged workbook: the reader reports it with a proper message later
        return []
