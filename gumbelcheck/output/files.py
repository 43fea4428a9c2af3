"""Report files: an early check that a path is writable, and atomic writes."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from gumbelcheck.core.errors import InputError


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early, before any sampling, when a report cannot be written to ``path``."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"report path {str(target)!r} is a directory; give a file name")
    if target.is_symlink():
        raise InputError(
            f"report path {str(target)!r} is a symbolic link; a report replaces its target "
            "file whole, so give the real path"
        )
    if target.exists():
        if not target.is_file():
            raise InputError(
                f"report path {str(target)!r} is not a regular file (a FIFO, a device, ...); "
                "give a file name (--json prints to standard output)"
            )
        # The mode bits too: root may write anywhere, but a read-only file says "keep me".
        if not os.access(target, os.W_OK) or not target.stat().st_mode & stat.S_IWUSR:
            raise InputError(
                f"report path {str(target)!r} is read-only; make it writable or choose another"
            )
    parent = target.parent if str(target.parent) else Path()
    if not parent.is_dir():
        raise InputError(
            f"cannot write {str(target)!r}: folder {str(parent)!r} does not exist; create it first"
        )
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=f".{target.name}.", suffix=".tmp"):
            pass
    except OSError as error:
        raise InputError(
            f"cannot write {str(target)!r}: {error.strerror}; choose a writable location"
        ) from None
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path``, then rename it into place."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place.

    Readers see the old file or the whole new one, never a part of it.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
