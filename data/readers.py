"""Read an uploaded export into a staging table of text columns ``c0..cN``.

Headers are read here, in Python, and kept as data: SQL only ever names the positional columns
``c0..cN`` so that no header from a file can become SQL. Values stay text until the importer
parses them with the mapping profile. DuckDB reads the CSV itself (fast, parallel); this module
first makes sure the bytes are UTF-8 with LF or CRLF line endings, transcoding to a private copy
when they are not (gzip, UTF-16, Windows-1252, bare CR).
"""
from __future__ import annotations

import codecs
import concurrent.futures
import csv
import gzip
import hashlib
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ReadError

MAX_COLUMNS = 500
MAX_LINE_BYTES = 1_000_000  # a real export's line is a few hundred bytes
SNIFF_BYTES = 1_000_000
DELIMITERS = [",", ";", "\t", "|"]
_CHUNK = 8 * 1024 * 1024


@dataclass
class StagedFile:
    """What the importer needs to know about the staged relation ``staged_raw``.

    For CSV, ``staged_raw`` is a view over the file (read once by the importer's main pass,
    in parallel); for XLSX it is a temp table. Its columns are ``c0..cN``, all text, in file
    order, so a row's position + 2 is its row number as a spreadsheet shows it.
    """

    file_name: str
    headers: list[str]
    format: str = "csv"
    encoding: str = "utf-8"
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)
    copy: Path | None = None  # a transcoded private copy, deleted by close()
    source: Path | None = None  # the file DuckDB reads (the copy, or the upload itself)
    _hash: object = None  # the SHA-256 computed in a background thread

    @property
    def sha256(self) -> str:
        return self._hash.result()

    def close(self) -> None:
        if self.copy is not None:
            self.copy.unlink(missing_ok=True)


_HASHER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")


def _hash_in_background(path: Path):
    """hashlib releases the GIL on large blocks, so this overlaps DuckDB's reading."""
    return _HASHER.submit(sha256_of, path)


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def stage_file(con, path: str | Path, *, file_name: str | None = None, work_dir: str | Path,
               sheet: str | int | None = None, encoding: str | None = None) -> StagedFile:
    """Make ``path`` (CSV, CSV.gz or XLSX) readable as the relation ``staged_raw``.

    Call ``close()`` on the result when done (it deletes any private copy).
    """
    path = Path(path)
    file_name = file_name or path.name
    if not path.exists():
        raise ReadError(f"{file_name}: no such file.")
    if path.stat().st_size == 0:
        raise ReadError(f"{file_name} is empty (0 bytes): export the table again.")
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"PK\x03\x04"):
        return _stage_xlsx(con, path, file_name, sheet)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(f"{file_name} is an old-style Excel (.xls) workbook: open it in a "
                        "spreadsheet program and save it as .xlsx or .csv.")
    return _stage_csv(con, path, file_name, Path(work_dir), encoding)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------

def _open_bytes(path: Path, gz: bool):
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _detect_encoding(head: bytes, file_name: str, forced: str | None) -> str:
    if forced:
        return forced
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    # UTF-16 without a BOM: every other byte of ASCII text is NUL.
    if len(head) >= 4 and head[1:200:2].count(0) > 0.8 * len(head[1:200:2]):
        return "utf-16-le"
    if len(head) >= 4 and head[0:200:2].count(0) > 0.8 * len(head[0:200:2]):
        return "utf-16-be"
    if b"\x00" in head:
        raise ReadError(f"{file_name} looks like binary data, not a CSV or XLSX export "
                        "(it contains NUL bytes).")
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 4:  # a multi-byte character cut by the sample boundary
            return "utf-8"
        return "cp1252"


def _decode_sample(head: bytes, encoding: str) -> str:
    dec = codecs.getincrementaldecoder(encoding)(errors="replace")
    return dec.decode(head, final=False)


def _sniff_delimiter(sample: str, file_name: str) -> tuple[str, list[str]]:
    lines = sample.splitlines(keepends=True)  # splits on LF, CRLF and bare CR alike
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    lines = lines[:200]
    best, best_score, best_consistency = None, -1.0, 0.0
    for d in DELIMITERS:
        try:
            rows = [r for r in csv.reader(lines, delimiter=d) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        data = rows[1:] or rows
        consistency = sum(1 for r in data if len(r) == len(rows[0])) / len(data)
        score = consistency * 1000 + len(rows[0])
        if score > best_score:
            best, best_score, best_consistency = d, score, consistency
    if best is None:
        raise ReadError(f"{file_name}: found no column delimiter (tried comma, semicolon, tab "
                        "and pipe) in the first lines; is this a table export?")
    rows = [r for r in csv.reader(lines, delimiter=best) if r]
    if best_consistency < 0.5:
        counts = Counter(len(r) for r in rows[1:]).most_common(1)[0][0]
        raise ReadError(
            f"{file_name}: the header has {len(rows[0])} columns but most rows have {counts} "
            f"(delimiter {_DELIM_NAMES[best]}); the header and the rows seem to use different "
            "delimiters. Export the file again with one delimiter.")
    return best, rows[0]


_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _needs_copy(gz: bool, encoding: str, sample: str) -> tuple[bool, bool]:
    bare_cr = "\r" in sample and "\n" not in sample
    return (gz or encoding not in ("utf-8", "utf-8-sig") or bare_cr), bare_cr


def _transcode(path: Path, gz: bool, encoding: str, bare_cr: bool, out: Path) -> None:
    """Stream ``path`` into ``out`` as UTF-8 (LF for bare-CR files), without holding it in
    memory."""
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    with _open_bytes(path, gz) as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(_CHUNK):
            text = dec.decode(chunk)
            dst.write(text.replace("\r", "\n") if bare_cr else text)
        dst.write(dec.decode(b"", final=True))


def _stage_csv(con, path: Path, file_name: str, work_dir: Path, forced_encoding) -> StagedFile:
    gz = path.name.lower().endswith(".gz") or _is_gzip(path)
    with _open_bytes(path, gz) as f:
        try:
            head = f.read(SNIFF_BYTES)
        except (OSError, EOFError, zlib.error):
            raise ReadError(f"{file_name}: the gzip-compressed file is damaged or cut short; "
                            "compress or export it again.") from None
    encoding = _detect_encoding(head, file_name, forced_encoding)
    sample = _decode_sample(head, encoding).lstrip("\ufeff")
    if not sample.strip():
        raise ReadError(f"{file_name} holds no text: export the table again.")
    first_break = min((i for i in (sample.find("\n"), sample.find("\r")) if i >= 0), default=-1)
    if first_break < 0 and len(head) >= SNIFF_BYTES:
        raise ReadError(f"{file_name}: line 1 is longer than {MAX_LINE_BYTES:,} bytes; "
                        "this is not a table export (or its line endings were lost).")
    delimiter, headers = _sniff_delimiter(sample, file_name)
    headers = _check_headers(headers, file_name)
    copy, bare_cr = _needs_copy(gz, encoding, sample)
    source = path
    notes = []
    if copy:
        work_dir.mkdir(parents=True, exist_ok=True)
        source = work_dir / f"upload-{uuid.uuid4().hex}.csv"
        try:
            _transcode(path, gz, encoding, bare_cr, source)
        except UnicodeDecodeError:
            source.unlink(missing_ok=True)
            raise ReadError(f"{file_name}: the text is not valid {encoding}; save it as UTF-8 "
                            "or name its encoding with --encoding.") from None
        except (EOFError, OSError, zlib.error):
            source.unlink(missing_ok=True)
            raise ReadError(f"{file_name}: the gzip-compressed file is damaged or cut short; "
                            "compress or export it again.") from None
        notes.append(f"read as {'gzip, ' if gz else ''}{encoding}"
                     f"{', bare-CR line endings' if bare_cr else ''}")
    staged = StagedFile(file_name, headers, format="csv.gz" if gz else "csv", encoding=encoding,
                        delimiter=delimiter, notes=notes, copy=source if copy else None,
                        source=source,
                        _hash=_hash_in_background(path))
    try:
        create_csv_view(con, source, delimiter, len(headers),
                        parallel=not _has_quoted_newline(sample, delimiter))
    except BaseException:
        staged.close()
        raise
    return staged


def _has_quoted_newline(sample: str, delimiter: str) -> bool:
    """DuckDB's parallel reader cannot pad short rows when values hold newlines."""
    lines = sample.splitlines(keepends=True)[:-1]
    records = sum(1 for _ in csv.reader(lines, delimiter=delimiter))
    return records < len(lines)


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _check_headers(headers: list[str], file_name: str) -> list[str]:
    headers = [h.strip().lstrip("\ufeff") for h in headers]
    if len(headers) > MAX_COLUMNS:
        raise ReadError(f"{file_name} has {len(headers):,} columns; at most {MAX_COLUMNS} are "
                        "supported. Export only the columns you need.")
    if all(not h for h in headers):
        raise ReadError(f"{file_name}: the first row is empty; the first row must hold the "
                        "column names.")
    return headers


def create_csv_view(con, source: Path, delimiter: str, n_cols: int, parallel: bool = True):
    """``staged_raw``: a view reading the file's rows as text columns c0..cN.

    The path is a session variable, not SQL text: views cannot take parameters.
    """
    names = {f"c{i}": "VARCHAR" for i in range(n_cols)}
    con.execute("SET VARIABLE a911_upload = ?", [str(source)])
    con.execute("SET VARIABLE a911_delimiter = ?", [delimiter])
    con.execute("SET VARIABLE a911_columns = ?", [names])
    con.execute("DROP VIEW IF EXISTS staged_raw")
    con.execute(
        "CREATE TEMP VIEW staged_raw AS SELECT * FROM read_csv(getvariable('a911_upload'), "
        "delim = getvariable('a911_delimiter'), quote = '\"', escape = '\"', header = true, "
        "columns = getvariable('a911_columns'), null_padding = true, "
        f"max_line_size = {MAX_LINE_BYTES}, strict_mode = true, encoding = 'utf-8', "
        f"auto_detect = false, parallel = {'true' if parallel else 'false'})")


def read_error(con, file_name: str, error: Exception, n_cols: int) -> ReadError | None:
    """A DuckDB error raised while reading ``staged_raw``, as a sentence (None if not one)."""
    import duckdb

    if isinstance(error, duckdb.PermissionException):
        return ReadError(f"{file_name}: the file is outside the folders this database may read; "
                         "copy it into the upload folder or import it with the command line.")
    if isinstance(error, (duckdb.InvalidInputException, duckdb.ConversionException)):
        return ReadError(_csv_error_message(file_name, str(error), n_cols))
    return None


def is_quoted_newline_error(error: Exception) -> bool:
    return "quoted new lines" in str(error)


def _csv_error_message(file_name: str, err: str, n_cols: int) -> str:
    import re

    line = re.search(r"[Ll]ine:? (\d+)", err)
    where = f" at line {line.group(1)}" if line else ""
    if "Maximum line size" in err or "maximum_line_size" in err or "line size" in err:
        return (f"{file_name}: a line{where} is longer than {MAX_LINE_BYTES:,} bytes; "
                "the file is not a table export or its quoting is broken.")
    if "unterminated quote" in err.lower() or "unterminated" in err.lower():
        return (f"{file_name}: a quoted value{where} is never closed (a stray \" character). "
                "Fix that row and import again.")
    if "Expected Number of Columns" in err or "columns" in err.lower():
        return (f"{file_name}: the row{where} does not have the {n_cols} columns of the header "
                "(an unclosed quote, or a delimiter inside an unquoted value). Fix that row "
                "and import again.")
    if "unicode" in err.lower() or "utf" in err.lower():
        return (f"{file_name}: invalid UTF-8{where}; name the file's encoding with "
                "--encoding cp1252 (or save it as UTF-8).")
    first = err.splitlines()[0] if err else "unknown error"
    return f"{file_name}: cannot be read as CSV{where}: {first}"


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------

def _stage_xlsx(con, path: Path, file_name: str, sheet) -> StagedFile:
    import fastexcel
    import pyarrow as pa

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception:  # fastexcel's errors carry server paths and internals: keep them out
        raise ReadError(f"{file_name}: cannot be read as an XLSX workbook; it may be damaged "
                        "or not a workbook. Save it again from the spreadsheet program.") from None
    chosen = sheet if sheet is not None else 0
    names = reader.sheet_names
    if (isinstance(chosen, int) and not 0 <= chosen < len(names)) or (
            isinstance(chosen, str) and chosen not in names):
        raise ReadError(f"{file_name} has no sheet {chosen!r}; its sheets are "
                        f"{', '.join(repr(n) for n in names)}.")
    try:
        # header_row=None keeps the header row as data, exactly as typed (duplicates included).
        table = reader.load_sheet(chosen, header_row=None, dtypes="string").to_arrow()
    except Exception:
        raise ReadError(f"{file_name}: the sheet {chosen!r} cannot be read; it may be "
                        "damaged. Save the workbook again.") from None
    if table.num_rows == 0:
        raise ReadError(f"{file_name} is empty: the sheet has no header row.")
    header_row = table.slice(0, 1).to_pylist()[0]
    headers = _check_headers([str(header_row[c] or "") for c in table.column_names], file_name)
    cols = [f"c{i}" for i in range(len(headers))]
    data = table.slice(1).rename_columns(cols)
    data = pa.table({n: data.column(n).cast(pa.string()) for n in cols})
    con.execute("DROP VIEW IF EXISTS staged_raw")
    con.execute("DROP TABLE IF EXISTS staged_raw")
    con.register("_xlsx_upload", data)
    try:
        con.execute("CREATE TEMP TABLE staged_raw AS SELECT * FROM _xlsx_upload")
    finally:
        con.unregister("_xlsx_upload")
    sheet_name = names[chosen] if isinstance(chosen, int) else chosen
    return StagedFile(file_name, headers, format="xlsx", notes=[f"sheet '{sheet_name}'"],
                      _hash=_hash_in_background(path))
