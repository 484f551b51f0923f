"""The import pipeline: read -> map -> validate -> stage -> commit, in one transaction.

Every step runs in DuckDB over the staged text table; Python only handles headers, formats and
the distinct values of coded columns. Either the whole import commits or nothing does; the
database is never left half-written, and a killed process rolls back on the next open.

One module per stage: ``pipeline`` (the entry points and the steps in order), ``plan`` (the
``Plan`` every stage takes as ``(con, plan)``, and the ``ImportResult`` they fill in), ``raw``
(the staged file's columns as text), ``detect`` (timestamp formats), ``codes`` (coded
values), ``zones`` (local time <-> instants), ``validate`` (typed rows, rejects, row
warnings), ``stage`` (one record per identifier), ``population`` (totals and census tables),
``commit`` (the merge and the ledger row).
"""
from .commit import write_ledger
from .pipeline import (find_stored_profile, import_file, import_held, one_transaction, preview,
                       save_profile, staging_folder)
from .plan import ImportResult, Plan
from .validate import MAX_REJECTED_SHARE
from .zones import zone_sql

__all__ = ["ImportResult", "MAX_REJECTED_SHARE", "Plan", "find_stored_profile", "import_file",
           "import_held", "one_transaction", "preview", "save_profile", "staging_folder",
           "write_ledger", "zone_sql"]
