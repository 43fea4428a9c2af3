"""Numbers from files: distributions (``--pi @FILE``), counts and category indices.

A source is a path or ``-`` (standard input). Accepted forms: a NumPy ``.npy`` file (read
without pickles); text with one number per line or comma-separated (``#`` starts a comment);
or a CSV with a header naming the wanted column (``count``, say). Every failure is an
:class:`~gumbelcheck.core.errors.InputError` naming the source and how to fix it.
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.core.errors import InputError

_SEPARATORS = re.compile(r"[,\s]+")
_NPY_MAGIC = b"\x93NUMPY"


@dataclass(frozen=True)
class Numbers:
    """Numbers read from a source, with what identifies it.

    Attributes
    ----------
    values : ndarray
        The numbers, one-dimensional: int64 when every one is a whole number written as an
        integer (or an integer .npy), float64 otherwise.
    source : str
        The path as given, or ``-`` for standard input.
    sha256 : str
        SHA-256 of the bytes read, as hex.
    """

    values: NDArray[np.int64] | NDArray[np.float64]
    source: str
    sha256: str


def read_numbers(source: str, name: str, columns: Sequence[str] = ()) -> Numbers:
    """Read a one-dimensional list of numbers from ``source`` (a path, or ``-`` for stdin).

    Parameters
    ----------
    source : str
        Path of a .npy, text or CSV file, or ``-``.
    name : str
        The parameter the numbers are for, as errors name it (``--counts``...).
    columns : sequence of str
        Column names a CSV with a header may hold the numbers in (the first present wins).

    Raises
    ------
    InputError
        When the source cannot be read, is empty, or holds something that is not a number.
    """
    data = _read_bytes(source, name)
    digest = hashlib.sha256(data).hexdigest()
    label = "standard input" if source == "-" else repr(source)
    if data.startswith(_NPY_MAGIC):
        values = _from_npy(data, name, label)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(
                f"{name} {label} is neither a .npy file nor UTF-8 text; give numbers one per "
                "line, comma-separated, or a .npy array"
            ) from None
        values = _from_text(text, name, label, columns)
    if values.size == 0:
        raise InputError(f"{name} {label} holds no numbers; give at least one")
    return Numbers(values=values, source=source, sha256=digest)


def _read_bytes(source: str, name: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source).expanduser()
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{name} {source!r} is a directory; give a file") from None
    except OSError as error:
        raise InputError(
            f"cannot read {name} {source!r}: {error.strerror or error}; check the path"
        ) from None


def _from_npy(data: bytes, name: str, label: str) -> NDArray[np.int64] | NDArray[np.float64]:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise InputError(f"{name} {label} is not a readable .npy array ({error})") from None
    if array.dtype.kind not in "iuf" or (array.dtype.kind == "f" and array.dtype.itemsize > 8):
        raise InputError(f"{name} {label} holds {array.dtype} values; give numbers")
    if array.ndim != 1 and not (array.ndim == 2 and 1 in array.shape):
        raise InputError(
            f"{name} {label} has shape {array.shape}; give a one-dimensional array"
        )
    flat = array.reshape(-1)
    if flat.dtype.kind == "u" and flat.size and flat.max() > np.iinfo(np.int64).max:
        raise InputError(f"{name} {label} holds a value above 2**63; give smaller numbers")
    return flat.astype(np.int64 if flat.dtype.kind in "iu" else np.float64)


def _from_text(
    text: str, name: str, label: str, columns: Sequence[str]
) -> NDArray[np.int64] | NDArray[np.float64]:
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and columns and re.search(r"[A-Za-z_]{2,}", lines[0]):
        header = [cell.strip().strip('"') for cell in lines[0].split(",")]
        wanted = next((c for c in columns if c in header), None)
        if wanted is None:
            raise InputError(
                f"{name} {label} is a CSV without a {' or '.join(map(repr, columns))} column "
                f"(its columns: {', '.join(header)}); add one or give the numbers alone"
            )
        position = header.index(wanted)
        cells = []
        for row, line in enumerate(lines[1:], start=2):
            fields = line.split(",")
            if len(fields) != len(header):
                raise InputError(
                    f"{name} {label} line {row} has {len(fields)} fields, the header "
                    f"{len(header)}; fix the CSV"
                )
            cells.append(fields[position].strip().strip('"'))
        tokens = cells
    else:
        tokens = [t for t in _SEPARATORS.split(" ".join(lines)) if t]
    try:
        return np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    try:
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        for position, token in enumerate(tokens):
            try:
                float(token)
            except ValueError:
                raise InputError(
                    f"{name} {label} entry {position} ({token!r}) is not a number; give "
                    "numbers one per line or comma-separated"
                ) from None
        raise  # pragma: no cover - some token failed above


def whole_numbers(values: NDArray[np.int64] | NDArray[np.float64], name: str) -> NDArray[np.int64]:
    """``values`` as int64, or InputError naming the first that is not a whole number."""
    if values.dtype.kind == "i":
        return values.astype(np.int64, copy=False)
    bad = ~(np.isfinite(values) & (values == np.round(values)))
    if bad.any():
        position = int(np.argmax(bad))
        raise InputError(
            f"{name} entry {position} ({float(values[position])!r}) is not a whole number; give "
            "integers"
        )
    if np.abs(values).max() >= 2.0**63:
        raise InputError(f"{name} holds a value beyond 2**63; give smaller numbers")
    return values.astype(np.int64)
