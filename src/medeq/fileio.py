"""Small file helpers shared by storage, exploration and the report.

Atomic writes (temporary file + rename) and TOML records with a ``format``
key. Imports nothing of medeq's, so any module may use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
import tomli_w

__all__ = ["atomic_write", "read_toml_record", "read_toml", "dump_toml"]


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 -> the usual file mode
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump_toml(record: dict) -> str:
    """TOML text of ``record`` (``tomli_w``)."""
    return tomli_w.dumps(record)


def read_toml(path: Path, remedy: str) -> dict:
    """Parse the TOML file ``path``; a clear ``ValueError`` naming it otherwise."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid TOML ({err}); {remedy}.") from None


def read_toml_record(path: Path, fmt: str, what: str, remedy: str) -> dict:
    """Read a TOML file whose ``format`` key must be ``fmt``; clear errors otherwise.

    ``what`` names the record in errors ("campaign set-up"); ``remedy`` says
    what to do about an unreadable file.
    """
    record = read_toml(path, remedy)
    if record.get("format") != fmt:
        raise ValueError(f"{path} is not a medeq {what} (format = {record.get('format')!r}).")
    return record
