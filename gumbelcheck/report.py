"""Serialization of results: plain JSON, tidy CSV with provenance header, atomic writes."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gumbelcheck.core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: Prefix of the provenance and summary lines at the top of a CSV report.
COMMENT = "#"


class ResultReport:
    """Mixin of the result dataclasses: ``verdict`` from ``passed``, and the CSV header lines
    from ``summary()`` and ``provenance``. Adds no fields."""

    @property
    def verdict(self: Any) -> str:
        """``PASS`` or ``FAIL``."""
        return "PASS" if self.passed else "FAIL"

    def csv_header(self: Any) -> dict[str, Any]:
        """Summary and provenance lines for the top of the CSV report."""
        return {**self.summary(), **jsonable(self.provenance)}


def jsonable(obj: Any) -> Any:
    """Convert a result (dataclasses, numpy values, tuples) to plain JSON types.

    Non-finite floats become None, because JSON has no NaN or infinity.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(key): jsonable(value) for key, value in obj.items()}
    if isinstance(obj, np.ndarray):
        return [jsonable(value) for value in obj.tolist()]
    if isinstance(obj, list | tuple):
        return [jsonable(value) for value in obj]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj


def to_json(obj: Any) -> str:
    """Plain, indented JSON of a result."""
    return json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n"


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early, before any sampling, when a report cannot be written to ``path``."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"report path {str(target)!r} is a directory; give a file name")
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
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def csv_text(frame: pd.DataFrame, header: Mapping[str, Any]) -> str:
    """A tidy CSV preceded by ``# key: value`` lines.

    ``pandas.read_csv(path, comment="#")`` reads the table and skips the header lines.
    """
    lines = [f"{COMMENT} {key}: {_header_value(value)}" for key, value in header.items()]
    body = frame.to_csv(index=False, lineterminator="\n")  # floats as shortest round-trip repr
    return "\n".join(lines) + "\n" + body


def _header_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return " ".join(str(jsonable(value)).split())


def write_csv(path: str | os.PathLike[str], frame: pd.DataFrame, header: Mapping[str, Any]) -> None:
    """Write a CSV report atomically."""
    atomic_write_text(path, csv_text(frame, header))
