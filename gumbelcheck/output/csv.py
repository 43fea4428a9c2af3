"""Tidy CSV reports with a ``# key: value`` header of summary and provenance."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gumbelcheck.output.files import atomic_write_text
from gumbelcheck.output.json import jsonable

if TYPE_CHECKING:
    import pandas as pd

#: Prefix of the provenance and summary lines at the top of a CSV report.
COMMENT = "#"


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
