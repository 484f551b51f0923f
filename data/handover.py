"""Handing a file to the running dashboard: where, how it is authenticated, and the client side.

DuckDB lets one process write a database file, and the dashboard server keeps it open. So
``python -m data import`` does not open the file while a server holds it: it hands the file to
that server, which imports it on its own connection exactly as the Data page does (one
transaction; the other sessions keep their snapshot; caches follow the data version).

The hand-over is a Unix socket plus a token, both in the database's keys folder
(``<folder>.keys/``, mode 0700, beside the person-key secret and outside every folder SQL may
read): ``<database>.import.sock`` (0600) and ``<database>.import_token`` (0600, 32 random bytes,
new at every server start). Only the server's own user (or root) can reach the socket or read
the token; the server also compares the token in constant time, so a socket reachable by
mistake (a loosened folder, a copied path) still refuses. One JSON object per line: the client
sends its request with the token, the server answers with progress lines and then exactly one
``result`` or ``error``; the connection closing before that means "nothing was reported".

The server reads only files in two places: the uploads folder beside the database (where the
client links or copies its file under a generated name, as browser uploads are stored) and the
configured import folder (``A911_IMPORT_DIR``), where a file is read in place. Any other path is
refused (``file_in_folder``), so the hand-over never becomes a way to make the server read
elsewhere.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

from .connection import default_db_path, person_key_path
from .errors import DataError
from .uploads import remove_upload, upload_extension, uploads_dir

# A Unix socket's path is limited to 108 bytes (104 on macOS); deep folders use /tmp instead.
_MAX_SOCKET_PATH = 100


class NoServer(Exception):
    """No dashboard server takes imports for this database: import directly."""


class HandoverRefused(DataError):
    """The server refused the request (wrong token, a path outside its folders)."""


def keys_dir(db_path) -> Path:
    return person_key_path(db_path).parent


def token_path(db_path) -> Path:
    return keys_dir(db_path) / f"{Path(db_path).name}.import_token"


def socket_path(db_path) -> Path:
    path = keys_dir(db_path) / f"{Path(db_path).name}.import.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(Path(db_path).resolve()).encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"a911-{os.getuid()}" / f"{digest}.sock"


def private_dir(path: Path) -> Path:
    """Create ``path`` readable by this user alone (0700) and return it."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_token(db_path) -> str:
    """A fresh token, written so that only this user can ever read it (0600 from creation)."""
    token = secrets.token_hex(32)
    target = token_path(db_path)
    private_dir(target.parent)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    tmp.replace(target)
    return token


def read_token(db_path) -> str:
    try:
        return token_path(db_path).read_text().strip()
    except OSError as e:
        raise HandoverRefused(f"cannot read the dashboard's import token "
                              f"{token_path(db_path)}: {e.strerror}. Run the command as the "
                              "user that runs the dashboard.") from None


def token_matches(given, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def import_folder() -> Path | None:
    """The configured server-side import folder (``A911_IMPORT_DIR``), or None."""
    text = os.environ.get("A911_IMPORT_DIR", "").strip()
    if not text:
        return None
    folder, keys = Path(text).resolve(), keys_dir(default_db_path()).resolve()
    if keys.is_relative_to(folder) or folder.is_relative_to(keys):
        # The server's connection may read the import folder: never the person key's.
        raise DataError(f"The import folder {folder} holds the keys folder {keys} (or lies "
                        "inside it): choose a folder apart from it for A911_IMPORT_DIR.")
    return folder


def file_in_folder(folder, name, boundaries: bool = False) -> Path:
    """The file ``name`` inside ``folder``, or a ReadError-like refusal.

    ``name`` is relative (sub-folders allowed); absolute names, ``..`` and links that lead out
    of the folder are refused, as is anything but a regular file of a type the importer reads.
    """
    if folder is None:
        raise HandoverRefused("No import folder is configured (set A911_IMPORT_DIR for the "
                              "dashboard).")
    root, text = Path(folder).resolve(), str(name or "").strip()
    if not text or Path(text).is_absolute() or ".." in Path(text).parts or "\x00" in text:
        raise HandoverRefused(f"{text or 'The name'} is not a file name inside the import "
                              f"folder: give it relative to {root}, without '..'.")
    path = (root / text).resolve()
    if not path.is_relative_to(root):
        raise HandoverRefused(f"{text} leads outside the import folder {root}.")
    if not path.is_file():
        raise HandoverRefused(f"There is no file {text} in the import folder {root}.")
    upload_extension(path.name, boundaries)  # refuses a type the importer cannot read
    return path


def readable_by_server(path, db_path) -> Path:
    """Where the server may read the requested ``path``: a generated upload beside the database
    or a file in the import folder. Anything else is refused (path traversal, other folders)."""
    path = Path(path).resolve()
    uploads = uploads_dir(db_path)
    if path.parent == uploads and path.name.startswith("upload-") and path.is_file():
        return path
    folder = import_folder()
    if folder is not None and path.is_relative_to(folder):
        return file_in_folder(folder, path.relative_to(folder).as_posix(),
                              boundaries=path.suffix.lower() in (".geojson", ".json"))
    raise HandoverRefused(f"{path} is neither an upload of this database nor in the import "
                          "folder; the dashboard reads no other files.")


# --------------------------------------------------------------------------------------------
# The client: python -m data import
# --------------------------------------------------------------------------------------------

def place_file(file, db_path, boundaries: bool = False) -> tuple[Path, bool]:
    """The path to send for ``file`` and whether it is a temporary upload to remove.

    A file in the import folder is read in place; any other is hard-linked (instant, no copy)
    into the uploads folder beside the database under a generated name, or copied when the
    two are on different file systems.
    """
    file = Path(file).resolve()
    folder = import_folder()
    if folder is not None and file.is_relative_to(folder):
        return file, False
    target = uploads_dir(db_path)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"upload-{uuid.uuid4().hex}.{upload_extension(file.name, boundaries)}"
    try:
        os.link(file, path)
    except OSError:
        shutil.copyfile(file, path)
    return path, True


def send(stream, message: dict) -> None:
    stream.write(json.dumps(message, default=str).encode() + b"\n")
    stream.flush()


def receive(stream) -> dict | None:
    line = stream.readline()
    return json.loads(line) if line else None


def connect_to_server(db_path) -> socket.socket:
    """A connection to the server holding ``db_path``; NoServer when none listens."""
    path = socket_path(db_path)
    if not path.exists():
        raise NoServer(str(path))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):  # a server that stopped left it behind
        sock.close()
        raise NoServer(str(path)) from None
    return sock


def hand_over(db_path, request: dict, progress=None) -> dict:
    """Send ``request`` (the import's arguments) to the server; its outcome (``outcome``'s
    dict). Raises NoServer when none runs, DataError with the server's message on an error."""
    sock = connect_to_server(db_path)
    upload, temporary = place_file(request["file"], db_path,
                                   boundaries=request.get("kind") == "boundaries")
    try:
        with sock, sock.makefile("rwb") as stream:
            send(stream, {**request, "file": str(upload), "token": read_token(db_path)})
            return _await_outcome(stream, progress)
    finally:
        if temporary:  # the server removes it too; whichever comes first
            remove_upload(upload, uploads_dir(db_path))


def _await_outcome(stream, progress) -> dict:
    while True:
        message = receive(stream)
        if message is None:
            raise DataError("The dashboard server closed the connection before the import "
                            "finished. An import commits whole or not at all: `python -m data "
                            "imports` shows whether it did, and running the command again is "
                            "safe (a file already imported is not imported twice).")
        if "progress" in message and progress:
            progress(*message["progress"])
        elif "error" in message:
            kind = HandoverRefused if message.get("refused") else DataError
            raise kind(message["error"])
        elif "outcome" in message:
            return message["outcome"]


def outcome(result, next_steps: list[dict]) -> dict:
    """What the command line prints, from an import's result: the same for a direct import and
    one made by the server (a JSON-safe dict)."""
    fields = {k: v for k, v in result.__dict__.items() if k != "profile"}
    return json.loads(json.dumps({"result": fields, "summary": result.summary_lines(),
                                  "next_steps": next_steps}, default=str))
