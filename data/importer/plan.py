"""What the stages of one import share: ``ImportResult`` (the summary they fill in) and
``Plan`` (the file, what it is, how it is read). The pipeline builds the plan once, after the
columns are resolved; every stage then takes ``(con, plan)``."""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import acs
from ..profiles import Profile
from .raw import Column


def _shown(n) -> str:
    """A count, or why it is missing: a check's New/Updated are an analyst's (service.guarded)."""
    return "not shown" if n is None else f"{n:,}"


@dataclass
class ImportResult:
    kind: str
    jurisdiction: str
    file_name: str
    sha256: str
    status: str  # committed | dry_run | already_imported
    import_id: int | None = None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_merged: int = 0
    rows_rejected: int = 0
    rows_warned: int = 0
    records: int = 0
    unit_rows: tuple[int, int] | None = None  # (rows, calls) when unit rows were collapsed
    fingerprint_merged: int | None = None
    value_mappings: list[dict] = field(default_factory=list)
    warnings_by_type: dict[str, int] = field(default_factory=dict)
    reject_reasons: list[dict] = field(default_factory=list)
    rejects_preview: list[dict] = field(default_factory=list)
    profile: Profile | None = None
    profile_source: str | None = None  # given | stored | suggested
    profile_path: str | None = None
    notes: list[str] = field(default_factory=list)
    previous_import: int | None = None
    midnight_only: list[str] = field(default_factory=list)  # time fields read as dates alone
    # Calls: the crosswalk rows added for call types new to the jurisdiction (added,
    # categorised, uncategorised, call_types).
    crosswalk: dict | None = None

    def summary_lines(self) -> list[str]:
        if self.status == "already_imported":
            return [f"{self.file_name} was already imported as import #{self.previous_import} "
                    f"for {self.jurisdiction} ({self.kind}); nothing changed."]
        verb = "Would import" if self.status == "dry_run" else f"Import #{self.import_id}:"
        lines = [f"{verb} {self.file_name} as {self.kind} for {self.jurisdiction}",
                 f"  rows read {self.rows_read:,}; inserted {_shown(self.rows_inserted)}; "
                 f"updated {_shown(self.rows_updated)}; unchanged {_shown(self.rows_unchanged)}; "
                 f"merged {self.rows_merged:,}; rejected {self.rows_rejected:,}; "
                 f"with warnings {self.rows_warned:,}"]
        if self.unit_rows:
            lines.append(f"  unit rows: {self.unit_rows[0]:,} rows became {self.unit_rows[1]:,} "
                         f"calls")
        if self.fingerprint_merged is not None:
            lines.append(f"  row fingerprints used as identifiers; {self.fingerprint_merged:,} "
                         "identical rows merged")
        for w, n in sorted(self.warnings_by_type.items()):
            lines.append(f"  warning {w}: {n:,}")
        for r in self.reject_reasons[:10]:
            lines.append(f"  rejected {r['rows']:,} row(s): {r['column']}: {r['reason']}")
        unrecognised = [m for m in self.value_mappings if m["how"] == "not recognised"]
        for m in unrecognised[:10]:
            lines.append(f"  value not recognised in {m['field']}: {m['raw']!r} -> {m['code']} "
                         f"({m['rows']:,} rows); map it under [values.{m['field']}]")
        if self.crosswalk and self.crosswalk["added"]:
            x = self.crosswalk
            lines.append(f"  crosswalk: {x['added']:,} new call type(s), {x['categorised']:,} "
                         f"given a category by a confident suggestion, {x['uncategorised']:,} "
                         "left to map (python -m data crosswalk suggest)")
        lines += [f"  {n}" if n.startswith("warning: ") else f"  note: {n}" for n in self.notes]
        return lines


@dataclass
class Plan:
    """One import as its stages see it."""

    staged: object  # readers.StagedFile: the file's text, its headers, its hash
    kind: str
    jurisdiction: str
    file_name: str
    profile: Profile
    cols: list[Column]
    tz: str
    tz_is_new: bool  # the jurisdiction is new: the commit writes it with its zone
    result: ImportResult
    source: str = "typed"  # the relation with one row per record (stage.build_records)
    acs: acs.Reshaped | None = None  # the file was an ACS table export, read as long rows

    @property
    def opts(self) -> dict:
        return self.profile.options

    @property
    def import_id(self) -> int | None:
        return self.result.import_id
