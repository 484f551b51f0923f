"""Named errors of the data layer. Each carries what a person needs to fix the problem.

The command line turns them into one-paragraph messages; the upload page shows the same text.
"""


class DataError(Exception):
    """A problem with an input file or a request; the message says what and how to fix it."""


class ReadError(DataError):
    """The file cannot be read as a table (binary, empty, no header, lines too long...)."""


class MappingError(DataError):
    """The file's columns cannot be mapped onto the canonical model (missing or ambiguous
    columns)."""


class AmbiguousDates(MappingError):
    """Every date in a column fits both month-first and day-first: the analyst must say which."""


class ProfileError(DataError):
    """A mapping profile (TOML) is malformed."""


class ImportRefused(DataError):
    """The import cannot go ahead (validation errors, duplicate identifiers...); nothing was
    written."""

    def __init__(self, message, issues=None):
        super().__init__(message)
        self.issues = issues or []


class UndoRefused(DataError):
    """An import cannot be undone (unknown id, already undone, or a later import depends on it)."""


class DatabaseBusy(DataError):
    """Another process holds the database file (DuckDB lets one process write a file at a time)."""
