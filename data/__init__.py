"""The data layer: canonical model, readers, mapping profiles, import pipeline, demo cohort.

Importable without Streamlit or click; the CLI (``python -m data``) and the pages sit on top.
"""
from .connection import connect, default_db_path
from .errors import (AmbiguousDates, DataError, ImportRefused, MappingError, ProfileError,
                     ReadError, UndoRefused)
from .importer import ImportResult, import_file, preview, save_profile
from .ledger import list_imports, undo_import
from .profiles import Profile, load_profile, parse_profile, suggest, suggested_profile
from .schema import KINDS, VALUE_SETS, create_schema

__all__ = [
    "connect", "default_db_path", "AmbiguousDates", "DataError", "ImportRefused", "MappingError",
    "ProfileError", "ReadError", "UndoRefused", "ImportResult", "import_file", "preview",
    "save_profile", "list_imports", "undo_import", "Profile", "load_profile", "parse_profile",
    "suggest", "suggested_profile", "KINDS", "VALUE_SETS", "create_schema",
]
