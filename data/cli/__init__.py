"""Command line for the data layer (``python -m data ...``): one module per group of commands.

``base`` (the click group and what every command shares: the database, its connection, the
local principal), ``importing`` (import, costs), ``records`` (suggest, imports, undo, crosswalk,
settings, refresh, docs, demo), ``trail`` (audit verify and export). Each command opens the
database, calls one function of the library and turns a DataError into a one-paragraph message
with a non-zero exit code (never a traceback).
"""
from . import importing, records, trail  # noqa: F401  (each registers its commands on ``cli``)
from .base import cli

__all__ = ["cli"]
